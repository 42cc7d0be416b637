"""Monte Carlo experiments behind the JL claims (independent trials, fixed seeds).

A *trial* is always a fresh random operator: trial ``t`` builds its operator
from the ``t``-th child of ``SeedSequence(seed)`` and applies it to the same
fixed input.  Applying one operator to many inputs is *not* a set of
independent trials and is never used as one here (except in
:func:`pairwise_ratios`, which measures one operator on all pairs of a data
set and repeats that with fresh operators).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist

from numerics._progress import progress

from .operators import SRHT, AilonChazelle, GaussianProjection, SparseProjection, _next_pow2

__all__ = [
    "METHODS",
    "make_operator",
    "child_seeds",
    "norm_trials",
    "unsigned_srht",
    "unsigned_srht_norms",
    "sampling_only_norms",
    "pairwise_ratios",
    "distortion",
]

#: Method name -> operator class, in plotting order.
METHODS = {
    "srht": SRHT,
    "ailon-chazelle": AilonChazelle,
    "gaussian": GaussianProjection,
    "sparse": SparseProjection,
}


def make_operator(method: str, n_features: int, k: int, seed, dtype=np.float64):
    """Build the operator called ``method`` (a key of :data:`METHODS`)."""
    try:
        cls = METHODS[method]
    except KeyError:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got method={method!r}") from None
    return cls(n_features, k, seed=seed, dtype=dtype)


def child_seeds(seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (an int or a list of ints; one child per trial)."""
    return np.random.SeedSequence(seed).spawn(n)


def norm_trials(method: str, x: np.ndarray, k: int, n_trials: int, seed, *, desc: str | None = None) -> np.ndarray:
    """``||J_t x||^2`` for ``n_trials`` independent operators ``J_t`` of kind ``method``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(n_trials)
    seeds = child_seeds(seed, n_trials)
    for t in progress(range(n_trials), desc=desc or f"{method} k={k}"):
        y = make_operator(method, x.size, k, seeds[t]).matvec(x)
        out[t] = y @ y
    return out


def unsigned_srht(n_features: int, k: int, seed) -> SRHT:
    """``sqrt(n/k) S (H/sqrt n)`` without the random signs (``D = I``), same row sampling as :class:`SRHT`."""
    rng = np.random.default_rng(seed)
    n_padded = _next_pow2(n_features)
    indices = rng.choice(n_padded, size=k, replace=False)
    return SRHT.from_parts(indices, np.ones(n_features))


def unsigned_srht_norms(x: np.ndarray, k: int, n_trials: int, seed) -> np.ndarray:
    """``||J_t x||^2`` for ``n_trials`` independent unsigned SRHTs (``S H / sqrt k``)."""
    seeds = child_seeds(seed, n_trials)
    out = np.empty(n_trials)
    for t in range(n_trials):
        y = unsigned_srht(x.size, k, seeds[t]).matvec(x)
        out[t] = y @ y
    return out


def sampling_only_norms(x: np.ndarray, k: int, n_trials: int, seed) -> np.ndarray:
    """``(n/k) ||S [x; 0]||^2``: coordinate sampling without any transform, ``n_trials`` fresh ``S``."""
    x = np.asarray(x, dtype=np.float64)
    n_padded = _next_pow2(x.size)
    xp = np.zeros(n_padded)
    xp[: x.size] = x
    seeds = child_seeds(seed, n_trials)
    out = np.empty(n_trials)
    for t in range(n_trials):
        idx = np.random.default_rng(seeds[t]).choice(n_padded, size=k, replace=False)
        out[t] = n_padded / k * np.sum(xp[idx] ** 2)
    return out


def distortion(ratio: np.ndarray) -> np.ndarray:
    """``| ratio - 1 |``, the relative error of a squared norm or squared distance."""
    return np.abs(np.asarray(ratio) - 1.0)


def pairwise_ratios(X: np.ndarray, op, d0: np.ndarray | None = None) -> np.ndarray:
    """``||J(u - v)||^2 / ||u - v||^2`` over all pairs of distinct rows of ``X`` (one operator ``op``).

    Pairs of identical rows (distance 0) are skipped.  ``d0`` may pass the
    precomputed ``pdist(X, "sqeuclidean")``.
    """
    Y = op.project(X)
    if d0 is None:
        d0 = pdist(X, "sqeuclidean")
    d1 = pdist(Y, "sqeuclidean")
    keep = d0 > 0
    return d1[keep] / d0[keep]
