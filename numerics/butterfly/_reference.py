"""Plain-NumPy reference for butterfly matrices: explicit dense factors multiplied together.

The oracle for the tests: every factor is built as an ``n x n`` matrix from
the twiddles (same pair enumeration as ``_kernels.py``: factor ``t``, pair
``p`` joins ``i = 2 s (p // s) + p % s`` and ``j = i + s`` with ``s = 2**t``),
and the factors are multiplied densely in the order they are applied.
"""
from __future__ import annotations

import numpy as np

__all__ = ["factor_matrix", "butterfly_dense_reference", "pair_indices"]


def pair_indices(n: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)`` joined by the pairs ``p = 0..n/2-1`` of factor ``t``."""
    s = 1 << t
    p = np.arange(n // 2)
    i = 2 * s * (p // s) + p % s
    return i, i + s


def factor_matrix(tw: np.ndarray, t: int) -> np.ndarray:
    """The dense ``n x n`` matrix of factor ``t`` of the twiddles ``tw``."""
    n = 2 * tw.shape[1]
    F = np.zeros((n, n), dtype=tw.dtype)
    i, j = pair_indices(n, t)
    F[i, i] = tw[t, :, 0, 0]
    F[i, j] = tw[t, :, 0, 1]
    F[j, i] = tw[t, :, 1, 0]
    F[j, j] = tw[t, :, 1, 1]
    return F


def butterfly_dense_reference(tw: np.ndarray, increasing: bool = True) -> np.ndarray:
    """The product of the dense factors, in application order (first applied = rightmost)."""
    L = tw.shape[0]
    n = 2 * tw.shape[1]
    order = range(L) if increasing else range(L - 1, -1, -1)
    B = np.eye(n, dtype=tw.dtype)
    for t in order:
        B = factor_matrix(tw, t) @ B
    return B
