"""Minibatch training loop shared by both trainers."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from numerics._progress import progress
from numerics._validation import check_int, check_rng

__all__ = ["History", "train", "batches"]


@dataclass
class History:
    """What :func:`train` recorded: batch loss before each step, counts and seconds per step."""

    losses: np.ndarray
    counts: list
    seconds: np.ndarray
    batches: list = field(default_factory=list)

    def total_counts(self) -> np.ndarray:
        """Multiply-adds per step, all parts summed."""
        return np.array([sum(c.values()) for c in self.counts], dtype=np.float64)


def batches(n, batch_size, steps, seed):
    """Index arrays of ``steps`` minibatches: consecutive slices of a fresh permutation per epoch."""
    n = check_int("n", n, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1, maximum=n)
    steps = check_int("steps", steps, minimum=0)
    rng = check_rng("seed", seed)
    out, perm, pos = [], rng.permutation(n), 0
    for _ in range(steps):
        if pos + batch_size > n:
            perm, pos = rng.permutation(n), 0
        out.append(np.sort(perm[pos:pos + batch_size]))
        pos += batch_size
    return out


def train(trainer, X, Y, *, steps, batch_size=None, seed=0, callback=None, desc=None) -> History:
    """Run ``steps`` minibatch steps of ``trainer`` on ``(X, Y)``.

    ``batch_size=None`` is full batch.  The minibatch sequence depends only on ``seed``, so two
    trainers given the same arguments see the same batches.  ``callback(t, trainer)`` runs after
    every step.  A NaN or infinite loss raises ``FloatingPointError`` naming the step.
    """
    X, Y = trainer.net.check_data(X, Y)
    n = X.shape[0]
    batch_size = n if batch_size is None else batch_size
    idx = batches(n, batch_size, steps, seed)
    losses, secs = [], []
    for t in progress(range(steps), desc=desc or f"{trainer.name} m={trainer.net.m}"):
        rows = idx[t]
        Xb = X if rows.size == n else np.ascontiguousarray(X[rows])
        Yb = Y if rows.size == n else np.ascontiguousarray(Y[rows])
        t0 = time.perf_counter()
        losses.append(trainer.step(Xb, Yb))
        secs.append(time.perf_counter() - t0)
        if callback is not None:
            callback(t, trainer)
    return History(losses=np.array(losses), counts=list(trainer.counts[-steps:]) if steps else [],
                   seconds=np.array(secs), batches=idx)
