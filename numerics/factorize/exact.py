"""Exact hierarchical butterfly factorization from rank-one SVDs of sub-blocks (no learning).

A butterfly ``B = F_{L-1} ... F_1 F_0`` (layout of :class:`numerics.butterfly.Butterfly`,
``increasing=True``; ``F_t`` pairs ``i`` with ``i + 2**t``) splits as
``B = F_{L-1} diag(B_0, B_1)`` with ``B_0, B_1`` butterflies of size ``n/2``.
``F_{L-1}`` has the blocks ``[[D_1, D_2], [D_3, D_4]]`` with diagonal ``D``'s, so

    ``B = [[D_1 B_0, D_2 B_1], [D_3 B_0, D_4 B_1]]``,

and for every row ``i < n/2`` and column half ``h`` the ``2 x n/2`` matrix made of
rows ``i`` and ``i + n/2`` of column half ``h`` is the rank-one matrix
``[D_{1|2}[i]; D_{3|4}[i]] (B_h[i, :])``.  Taking the leading singular pair of each of
these ``n`` small matrices gives the top factor's blocks (the left singular vectors,
unit norm) and the rows of ``B_0`` and ``B_1`` (the singular value times the right
singular vector); recursing on ``B_0`` and ``B_1`` down to ``2 x 2`` blocks (which
are ``F_0``'s blocks) factorises ``B`` exactly: this is the hierarchical algorithm of
Le, Zheng, Riccietti and Gribonval (2022).  Every level is vectorised over all
blocks; the ``2 x 2`` Gram matrix of each pair gives its leading singular vector in
closed form.  Work ``O(n^2)`` (the top level dominates), memory ``O(n^2)``.

A matrix ``A = B P`` with a known permutation ``P = eye(n)[perm]`` (``A x = B x[perm]``;
bit reversal for the DFT) is factorised through ``B = A[:, perm]``.
With ``increasing=False`` the factorization is of ``A^T`` and the blocks are
transposed (``B = F_0 F_1 ... F_{L-1}``).

On a matrix that is not (a butterfly times ``P``) each level keeps the best rank-one
part of each pair and the product is an approximation; its relative error
``||A - B P||_F / ||A||_F`` is reported, nothing fails.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics._validation import check_array, check_finite, check_power_of_two
from numerics.butterfly import Butterfly

__all__ = ["ButterflyFactorization", "butterfly_factorize", "check_permutation"]

_DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.complex64, np.complex128))


@dataclass(frozen=True)
class ButterflyFactorization:
    """Result of :func:`butterfly_factorize`: ``A ~ butterfly @ eye(n)[perm]``.

    Attributes
    ----------
    butterfly : Butterfly
        Same dtype as the input matrix.
    perm : ndarray of int64, shape (n,)
        The permutation used (``arange(n)`` if none was given).
    rel_error : float
        ``||A - B P||_F / ||A||_F`` (``nan`` if ``compute_error=False``; 0 for ``A = 0``).
    exact : bool
        ``rel_error <= tol`` (the ``tol`` passed to :func:`butterfly_factorize`).
    """

    butterfly: Butterfly
    perm: np.ndarray
    rel_error: float
    exact: bool

    def todense(self) -> np.ndarray:
        """The dense ``B P``."""
        D = self.butterfly.todense()
        inv = np.empty_like(self.perm)
        inv[self.perm] = np.arange(self.perm.size)
        return D[:, inv]


def check_permutation(name: str, perm, n: int) -> np.ndarray:
    """``perm`` as an int64 array after checking it is a permutation of ``range(n)``."""
    p = np.asarray(perm)
    if p.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array (a permutation of range({n})), got dtype {p.dtype}")
    if p.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (a permutation of range({n})), got shape {p.shape}")
    p = p.astype(np.int64)
    seen = np.zeros(n, dtype=bool)
    ok = p.size == 0 or (p.min() >= 0 and p.max() < n)
    if ok:
        seen[p] = True
        ok = bool(seen.all())
    if not ok:
        bad = "out of range" if not (p.size == 0 or (p.min() >= 0 and p.max() < n)) else "repeated entries"
        raise ValueError(f"{name} is not a permutation of range({n}) ({bad}); expected each of 0..{n - 1} exactly once")
    return p


def _leading_pair(M: np.ndarray):
    """Leading singular pairs of a stack of ``2 x k`` matrices ``M[..., 2, k]``.

    Returns ``u`` (``[..., 2]``, unit norm) and ``w = u^H M`` (``[..., k]``), so that
    ``u w`` is the best rank-one approximation.  The 2x2 Hermitian Gram matrix
    ``G = M M^H`` is diagonalised in closed form.
    """
    a = np.einsum("...j,...j->...", M[..., 0, :], M[..., 0, :].conj()).real
    d = np.einsum("...j,...j->...", M[..., 1, :], M[..., 1, :].conj()).real
    c = np.einsum("...j,...j->...", M[..., 1, :], M[..., 0, :].conj())  # G[1, 0]
    half = 0.5 * (a - d)
    lam = 0.5 * (a + d) + np.hypot(half, np.abs(c))
    # Eigenvector of [[a, conj c], [c, d]] for lam: (lam - d, c) or (conj c, lam - a); use the longer.
    v1 = np.stack([lam - d, c], axis=-1)
    v2 = np.stack([np.conj(c), lam - a], axis=-1)
    n1 = np.linalg.norm(v1, axis=-1)
    n2 = np.linalg.norm(v2, axis=-1)
    use1 = n1 >= n2
    u = np.where(use1[..., None], v1, v2)
    nrm = np.where(use1, n1, n2)
    zero = nrm == 0  # M == 0 (or exactly isotropic with c = 0 and a = d): any unit vector
    u = np.where(zero[..., None], np.array([1.0, 0.0]), u / np.where(zero, 1.0, nrm)[..., None])
    u = u.astype(M.dtype, copy=False)
    w = np.einsum("...r,...rj->...j", u.conj(), M)
    return u, w


def _factor_increasing(B: np.ndarray) -> np.ndarray:
    """Twiddles ``(L, n/2, 2, 2)`` of the (approximate) increasing butterfly factorization of ``B``."""
    n = B.shape[0]
    L = n.bit_length() - 1
    tw = np.empty((L, n // 2, 2, 2), dtype=B.dtype)
    blocks = B.reshape(1, n, n)
    s = n
    for t in range(L - 1, 0, -1):
        c = blocks.shape[0]
        h = s // 2
        # X[c, r, i, hh, j]: row half r, row i, column half hh, column j
        X = blocks.reshape(c, 2, h, 2, h)
        M = X.transpose(0, 2, 3, 1, 4)  # (c, i, hh, r, j): 2 x h matrices
        u, w = _leading_pair(M)
        # pair p = c*h + i joins rows c*s + i and c*s + i + h; block [[d1, d2], [d3, d4]]: column hh = u[c, i, hh]
        tw[t] = u.transpose(0, 1, 3, 2).reshape(c * h, 2, 2)
        # new blocks: (c, hh) -> B_{c, hh}[i, j] = w[c, i, hh, j]
        blocks = np.ascontiguousarray(w.transpose(0, 2, 1, 3)).reshape(2 * c, h, h)
        s = h
    tw[0] = blocks  # n/2 blocks of 2 x 2: the stride-1 factor
    return tw


def butterfly_factorize(A, perm=None, *, increasing: bool = True, compute_error: bool = True, tol: float = 1e-12):
    """Factorise ``A`` as a butterfly times a known permutation, exactly when it has that structure.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        ``n`` a power of two ``>= 2``; float32/float64/complex64/complex128, finite, any layout.
    perm : array of int, shape (n,), optional
        A permutation of ``range(n)``: the factorization is ``A ~ B P`` with
        ``P = eye(n)[perm]``, i.e. ``A x ~ B x[perm]`` (pass
        :func:`numerics.butterfly.bit_reversal_permutation` for the DFT).  Default: identity.
    increasing : bool, default True
        Stride order of the returned butterfly (as in :class:`~numerics.butterfly.Butterfly`).
    compute_error : bool, default True
        Compute ``rel_error`` (one dense product, ``O(n^2 log n)``).
    tol : float, default 1e-12
        ``exact`` is ``rel_error <= tol``.

    Returns
    -------
    ButterflyFactorization
        ``butterfly``, ``perm``, ``rel_error`` and ``exact``.  If ``A`` is not a
        butterfly times ``P`` the result is the hierarchical (level-by-level best
        rank-one) approximation and ``rel_error`` says how far it is; no error is raised.

    Raises
    ------
    TypeError
        If ``A`` has an unsupported dtype or ``perm`` is not an integer array.
    ValueError
        If ``A`` is not square with a power-of-two size ``>= 2``, contains NaN or inf,
        or ``perm`` is not a permutation of ``range(n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.butterfly import bit_reversal_permutation
    >>> F = np.fft.fft(np.eye(16), axis=0)
    >>> res = butterfly_factorize(F, bit_reversal_permutation(16))
    >>> res.exact, bool(np.allclose(res.todense(), F))
    (True, True)
    """
    A = check_array("A", A, ndim=2, dtypes=_DTYPES, finite=False)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square (n x n with n a power of two), got shape {A.shape}")
    n = A.shape[0]
    try:
        check_power_of_two("n", n)
    except ValueError:
        raise ValueError(
            f"A has size n={n}, which is not a power of two; the butterfly factorization needs n = 2, 4, 8, ..."
        ) from None
    if n < 2:
        raise ValueError(f"A has size n={n}; the butterfly factorization needs n >= 2")
    if not isinstance(increasing, (bool, np.bool_)):
        raise TypeError(f"increasing must be a bool, got increasing={increasing!r}")
    check_finite("A", A)
    p = np.arange(n, dtype=np.int64) if perm is None else check_permutation("perm", perm, n)
    Bt = A[:, p]  # A = B P  <=>  B = A[:, perm]
    if increasing:
        tw = _factor_increasing(np.ascontiguousarray(Bt))
    else:
        tw = _factor_increasing(np.ascontiguousarray(Bt.T))
        tw = np.ascontiguousarray(np.swapaxes(tw, -1, -2))
    B = Butterfly(tw, increasing=bool(increasing))
    if compute_error:
        D = B.todense()
        nA = float(np.linalg.norm(Bt))
        rel = float(np.linalg.norm(D - Bt)) / nA if nA > 0 else float(np.linalg.norm(D))
    else:
        rel = float("nan")
    return ButterflyFactorization(butterfly=B, perm=p, rel_error=rel, exact=bool(rel <= tol))
