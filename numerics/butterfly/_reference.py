"""Plain-NumPy reference for butterfly matrices: explicit dense factors multiplied together.

The oracle for the tests: every factor is built as an ``n x n`` matrix from
the twiddles (same pair enumeration as ``_kernels.py``: factor ``t``, pair
``p`` joins ``i = 2 s (p // s) + p % s`` and ``j = i + s`` with ``s = 2**t``),
and the factors are multiplied densely in the order they are applied.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "factor_matrix",
    "butterfly_dense_reference",
    "pair_indices",
    "butterfly_forward_reference",
    "butterfly_backward_reference",
]


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


def _order(L: int, increasing: bool):
    return range(L) if increasing else range(L - 1, -1, -1)


def _apply_factor(X: np.ndarray, tw: np.ndarray, t: int) -> np.ndarray:
    """``X @ F_t.T`` for a batch of rows, vectorised over the pairs."""
    n = 2 * tw.shape[1]
    i, j = pair_indices(n, t)
    Y = X.copy()
    xi, xj = X[:, i], X[:, j]
    Y[:, i] = tw[t, :, 0, 0] * xi + tw[t, :, 0, 1] * xj
    Y[:, j] = tw[t, :, 1, 0] * xi + tw[t, :, 1, 1] * xj
    return Y


def butterfly_forward_reference(X, tw, increasing: bool = True) -> np.ndarray:
    """``X @ B.T`` factor by factor in NumPy (the lead's first version of ``butterfly_forward``)."""
    Y = np.array(X, dtype=np.result_type(X, tw), copy=True)
    for t in _order(tw.shape[0], increasing):
        Y = _apply_factor(Y, tw, t)
    return Y


def butterfly_backward_reference(X, tw, grad_Y, increasing: bool = True):
    """``(grad_X, grad_tw)`` of a real loss, storing every intermediate (the lead's first version).

    Complex: with ``g = df/dRe + i df/dIm`` the gradients of ``y = a x`` are
    ``conj(a) g`` and ``conj(x) g`` (for real arrays ``conj`` is the identity).
    """
    L, n = tw.shape[0], 2 * tw.shape[1]
    order = list(_order(L, increasing))
    stages = [np.array(X, dtype=np.result_type(X, tw), copy=True)]
    for t in order:
        stages.append(_apply_factor(stages[-1], tw, t))
    G = np.array(grad_Y, dtype=stages[0].dtype, copy=True)
    twc = np.conj(tw)
    grad_tw = np.zeros_like(tw)
    for f in range(L - 1, -1, -1):
        t = order[f]
        i, j = pair_indices(n, t)
        xin = np.conj(stages[f])
        xi, xj = xin[:, i], xin[:, j]
        gi, gj = G[:, i].copy(), G[:, j].copy()
        grad_tw[t, :, 0, 0] = (gi * xi).sum(0)
        grad_tw[t, :, 0, 1] = (gi * xj).sum(0)
        grad_tw[t, :, 1, 0] = (gj * xi).sum(0)
        grad_tw[t, :, 1, 1] = (gj * xj).sum(0)
        G[:, i] = twc[t, :, 0, 0] * gi + twc[t, :, 1, 0] * gj
        G[:, j] = twc[t, :, 0, 1] * gi + twc[t, :, 1, 1] * gj
    return G, grad_tw
