"""Operation counts and measured times of butterfly against dense products (claim ``butterfly.cost``).

The counts are taken from the structure the kernels actually use, not from
the closed form: the multiply-adds of applying a factor to one vector are the
structural nonzeros of its matrix (each nonzero ``F[u, v]`` is one
``y_u += F[u, v] x_v``), enumerated with the kernels' own pair indexing
(:func:`numerics.butterfly._reference.pair_indices`) and de-duplicated, so
overlapping or missing pairs would show.  The dense count is the number of
structural nonzeros of the product ``B = F_{L-1} ... F_0`` (every output
depends on every input, so a dense matrix applying ``B`` needs all ``n^2``),
obtained by propagating the sparsity pattern through the factors.
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_power_of_two

from ._reference import pair_indices

__all__ = ["butterfly_multiply_adds", "dense_multiply_adds", "time_forward"]


def butterfly_multiply_adds(n) -> int:
    """Multiply-adds per vector of the butterfly forward pass, counted factor by factor.

    For each factor ``t`` the positions ``(i, i), (i, j), (j, i), (j, j)`` of
    every pair ``(i, j)`` are collected and de-duplicated; the count is the sum
    over factors of these distinct positions.
    """
    n = check_power_of_two("n", n)
    if n < 2:
        raise ValueError(f"n must be a power of two >= 2, got n={n}")
    total = 0
    for t in range(n.bit_length() - 1):
        i, j = pair_indices(n, t)
        rows = np.concatenate([i, i, j, j])
        cols = np.concatenate([i, j, i, j])
        total += int(np.unique(rows.astype(np.int64) * n + cols).size)
    return total


def dense_multiply_adds(n) -> int:
    """Multiply-adds per vector of a dense matrix with the butterfly's sparsity: nonzeros of its product pattern.

    ``reach[u, v]`` (may output ``u`` depend on input ``v``) starts as the
    identity and is propagated through the factors in application order:
    after factor ``t`` output ``i`` (and ``j``) depends on whatever ``i`` or
    ``j`` depended on.  Memory ``n^2`` booleans.
    """
    n = check_power_of_two("n", n)
    if n < 2:
        raise ValueError(f"n must be a power of two >= 2, got n={n}")
    reach = np.eye(n, dtype=bool)
    for t in range(n.bit_length() - 1):
        i, j = pair_indices(n, t)
        merged = reach[i] | reach[j]
        reach[i] = merged
        reach[j] = merged
    return int(np.count_nonzero(reach))


def time_forward(ns, *, batch: int = 256, dtype=np.float64, seed: int = 0, min_time: float = 0.005, repeat: int = 3):
    """Best-of-``repeat`` seconds of ``butterfly_forward`` and of dense ``X @ W.T`` for each ``n``.

    Returns ``(t_butterfly, t_dense)``, arrays of seconds per batch, BLAS and
    Numba using their current thread counts.
    """
    from numerics.bench import time_call

    from .functional import butterfly_forward

    rng = np.random.default_rng(seed)
    tb, td = [], []
    for n in ns:
        L = int(n).bit_length() - 1
        X = rng.standard_normal((batch, n)).astype(dtype)
        W = rng.standard_normal((n, n)).astype(dtype)
        tw = rng.standard_normal((L, n // 2, 2, 2)).astype(dtype)
        tb.append(time_call(lambda: butterfly_forward(X, tw), min_time=min_time, repeat=repeat))
        td.append(time_call(lambda: X @ W.T, min_time=min_time, repeat=repeat))
    return np.array(tb), np.array(td)
