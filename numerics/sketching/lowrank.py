"""Sarlos' sketched low-rank approximation (Proposition 2 of Ailon et al. 2021).

For ``X`` in ``R^{n x d}`` and a sketch ``J`` with ``l`` rows applied on the
left (``JX`` is ``l x d``), ``J_k(X)`` is the best rank-``k`` approximation of
``X`` among matrices whose rows lie in the row space of ``JX``.  With ``Q`` an
orthonormal basis of that row space (``d x r``, ``r <= l``),

    J_k(X) = [X Q]_k Q^T,

where ``[M]_k`` is the truncated SVD: every candidate is ``Y = Z Q^T``, and
``||X - Z Q^T||_F^2 = ||X - X Q Q^T||_F^2 + ||X Q - Z||_F^2`` (Pythagoras),
so the best ``Z`` of rank ``k`` is ``[X Q]_k`` (Eckart-Young).  Proposition 2:
with ``l = k ln k + k/eps`` rows, ``||X - J_k(X)||_F^2 <= (1 + eps) Delta_k``
with probability at least 1/2, where ``Delta_k = ||X - X_k||_F^2``.
See ``theory/sarlos.md``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import linalg

from numerics._validation import check_array, check_int, check_open_unit, check_seed

from ._sketch import apply_rows, check_kind, make_sketch

__all__ = ["sketched_low_rank", "best_rank_k", "low_rank_residual", "sarlos_rows", "rowspace_basis"]


def _check_matrix_and_rank(X, k):
    X = check_array("X", X, ndim=2)
    n, d = X.shape
    if min(n, d) < 1:
        raise ValueError(f"X must be non-empty, got shape {X.shape}")
    k = check_int("k", k, minimum=1, maximum=min(n, d))
    return X, k


def sarlos_rows(k: int, eps: float) -> int:
    """``l = ceil(k ln k + k / eps)``: the sketch size of Proposition 2 (natural logarithm).

    Parameters
    ----------
    k : int
        Target rank, ``>= 1``.
    eps : float in (0, 1)

    Examples
    --------
    >>> sarlos_rows(5, 0.5), sarlos_rows(10, 0.5)
    (19, 44)
    """
    k = check_int("k", k, minimum=1)
    eps = check_open_unit("eps", eps)
    return int(math.ceil(k * math.log(k) + k / eps))


def best_rank_k(X, k: int) -> np.ndarray:
    """``X_k``, the best rank-``k`` approximation of ``X`` in Frobenius norm (truncated SVD).

    Parameters
    ----------
    X : ndarray of float32/float64, shape (n, d)
    k : int, ``1 <= k <= min(n, d)``

    Returns
    -------
    ndarray, shape (n, d), dtype of ``X``
    """
    X, k = _check_matrix_and_rank(X, k)
    u, s, vt = linalg.svd(X, full_matrices=False)
    return (u[:, :k] * s[:k]) @ vt[:k]


def low_rank_residual(X, k: int) -> float:
    """``Delta_k = ||X - X_k||_F^2``, the sum of the squared singular values beyond the ``k``-th.

    Computed from the singular values (not by subtracting ``X_k``), which is
    accurate even when ``Delta_k`` is tiny compared with ``||X||_F^2``.
    """
    X, k = _check_matrix_and_rank(X, k)
    s = linalg.svd(X, compute_uv=False)
    return float(np.sum(s[k:].astype(np.float64) ** 2))


def rowspace_basis(M) -> np.ndarray:
    """Orthonormal basis (columns) of the row space of ``M``, numerical rank by SVD.

    Singular values below ``max(M.shape) * eps * s_max`` count as zero (the
    rule of :func:`scipy.linalg.orth`).
    """
    M = check_array("M", M, ndim=2)
    return linalg.orth(M.T)


def sketched_low_rank(X, k: int, l: int, *, seed=None, kind: str = "srht", return_basis: bool = False):
    """``J_k(X)``: the best rank-``k`` approximation of ``X`` inside the row space of ``J X``.

    Parameters
    ----------
    X : ndarray of float32/float64, shape (n, d)
        The matrix; ``J`` (``l x n``) mixes its rows.  Any memory layout.
    k : int
        Target rank, ``1 <= k <= min(n, d)``.
    l : int
        Number of sketch rows, ``k <= l <= n`` (Proposition 2 uses
        :func:`sarlos_rows`).  With ``l >= d`` the row space of ``JX`` is
        generically that of ``X`` and ``J_k(X) = X_k``.
    seed : None, int, SeedSequence or Generator
        Randomness of the sketch.
    kind : {"srht", "gaussian", "sparse", "ailon-chazelle"}, default "srht"
        The sketch (:func:`numerics.sketching.make_sketch`); the SRHT zero-pads
        ``n`` to a power of two.
    return_basis : bool, default False
        Also return ``Q``, the orthonormal basis (``d x r``) of the row space of ``JX``.

    Returns
    -------
    Y : ndarray, shape (n, d), dtype of ``X``
        ``J_k(X) = [X Q]_k Q^T``, of rank at most ``k``.
    Q : ndarray, shape (d, r)
        Only with ``return_basis=True``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 3)) @ rng.standard_normal((3, 80))   # rank 3
    >>> Y = sketched_low_rank(X, 3, 10, seed=1)
    >>> bool(np.linalg.norm(X - Y) < 1e-9 * np.linalg.norm(X))
    True
    """
    X, k = _check_matrix_and_rank(X, k)
    n = X.shape[0]
    l = check_int("l", l, minimum=1)
    if l < k:
        raise ValueError(f"l must be >= k (the sketch needs at least k rows for a rank-k answer), got l={l} with k={k}")
    if l > n:
        raise ValueError(f"l must be <= n = X.shape[0] = {n} (the sketch maps R^n to R^l), got l={l}")
    kind = check_kind(kind)
    seed = check_seed("seed", seed)
    if not isinstance(return_basis, (bool, np.bool_)):
        raise TypeError(f"return_basis must be a bool, got {return_basis!r}")
    J = make_sketch(kind, n, l, seed=seed, dtype=X.dtype)
    JX = apply_rows(J, X.T).T  # (l, d)
    Q = linalg.orth(JX.T)  # (d, r), orthonormal basis of rowspace(JX)
    XQ = X @ Q
    u, s, vt = linalg.svd(XQ, full_matrices=False)
    r = min(k, s.size)
    Y = ((u[:, :r] * s[:r]) @ (vt[:r] @ Q.T)).astype(X.dtype, copy=False)
    return (Y, Q) if return_basis else Y
