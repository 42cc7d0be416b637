"""Exact twiddles of ``A = B_1 B_2 P`` (``B_1`` increasing, ``B_2`` decreasing in stride): the ``B B^*`` form.

Notation.  ``C = A P^T`` (``C = A[:, perm]``), ``n = 2^L``.  ``B_1 = F_{n/2} diag(B_1^0, B_1^1)`` with ``F_{n/2}``
the stride-``n/2`` factor applied last, and ``B_2 = diag(B_2^0, B_2^1) G_{n/2}`` with ``G_{n/2}`` applied first,
so ``C = F_{n/2} diag(M_0, M_1) G_{n/2}`` with ``M_k = B_1^k B_2^k`` of the same form at size ``n/2``.  Write
``X_ij`` for the ``2 x 2`` matrix of rows ``(i, i + n/2)`` and columns ``(j, j + n/2)`` of ``C``, ``U_i`` for
``F_{n/2}``'s block of rows ``(i, i + n/2)`` and ``V_j^T`` for ``G_{n/2}``'s block of columns ``(j, j + n/2)``.
Then

    X_ij = U_i diag(M_0[i, j], M_1[i, j]) V_j^T     for all i, j < n/2,

``n^2/2`` conditions on ``2n`` unknown directions: a certificate that a generic matrix fails.  It is solved
locally, without touching the spectrum of ``A``: for a reference row ``r``, ``X_ij adj(X_rj) = det(V_j)
U_i D_ij adj(U_r)`` with ``D_ij`` diagonal, so two random combinations over ``j``, ``T_i`` and ``T'_i``, give
``T_i adj(T'_i) = U_i (diagonal) adj(U_i)`` up to a scalar: ``U_i`` are the eigenvectors of a ``2 x 2`` matrix
(the reference row itself uses a second reference).  ``V_j`` follow from the transposed blocks; which
eigenvector is component 0 is fixed per row and column by one sign pattern (``diag`` against ``anti-diag``).
``Lambda_ij = U_i^{-1} X_ij V_j^{-T}`` is then diagonal; ``M_0, M_1`` are fitted per block by least squares
(``X_ij ~ U_i diag(m) V_j^T``, exact for a member, bounded for any matrix), the relative residual
``||X - U diag(M) V^T|| / ||X||`` is the certificate, and the same step runs on every ``M_k``, depth by depth,
down to ``2 x 2`` blocks (any ``2 x 2`` matrix is ``F_1 G_1``).  Cost ``O(n^2)`` per depth, batched over the
``2^(d-1)`` blocks of depth ``d``.

The permutation.  ``P``'s relaxed family (:func:`numerics.factorize.permutation_steps`, three choices per level,
tied over the blocks of a level) decides which columns meet in ``G``'s factors: the groups of ``2^d`` columns
joined by its first ``d`` factors depend only on levels ``0 .. d - 1`` of choices.  So the certificate of depth
``d`` scores the choices of level ``d - 1`` given the earlier ones (:func:`learn_bbstar_levelwise`), and the
last level, which the certificate does not see, is settled by the final error.  Theory:
``theory/factorization.md`` section 7.
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_array, check_finite, check_int, check_rng

from .exact import check_permutation

__all__ = ["solve_bbstar_twiddles", "learn_bbstar_levelwise"]

_DTYPES = (np.dtype(np.float64), np.dtype(np.complex128))


def _adj(X: np.ndarray) -> np.ndarray:
    """Adjugates of a stack of ``2 x 2`` matrices (``adj(X) = det(X) X^{-1}``)."""
    out = np.empty_like(X)
    out[..., 0, 0] = X[..., 1, 1]
    out[..., 1, 1] = X[..., 0, 0]
    out[..., 0, 1] = -X[..., 0, 1]
    out[..., 1, 0] = -X[..., 1, 0]
    return out


def _unit_columns(U: np.ndarray) -> np.ndarray:
    return U / np.maximum(np.linalg.norm(U, axis=-2, keepdims=True), 1e-300)


def _mul22(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Products of broadcast stacks of ``2 x 2`` matrices, entry by entry (faster than ``einsum`` or ``matmul`` on
    stacks of ``2 x 2``)."""
    out = np.empty(np.broadcast_shapes(P.shape, Q.shape), dtype=np.result_type(P, Q))
    for a in range(2):
        for c in range(2):
            out[..., a, c] = P[..., a, 0] * Q[..., 0, c] + P[..., a, 1] * Q[..., 1, c]
    return out


def _left_directions(Cm: np.ndarray, rng):
    """Per block row ``i``: ``U_i`` (unit columns) with ``U_i^{-1} X_ij`` sharing row directions over ``j``.

    ``Cm`` has shape ``(nb, m, m)`` (``nb`` independent problems, ``X_ij`` its ``2 x 2`` blocks of rows
    ``(i, i + m/2)`` and columns ``(j, j + m/2)``), ``m >= 4``.  Also returns, per problem, the median relative
    gap of the two eigenvalues that separate the directions (zero when the two components are proportional, as
    in the Hadamard matrix, and every ``U_i`` then fits)."""
    nb, m = Cm.shape[:2]
    h = m // 2
    X = Cm.reshape(nb, 2, h, 2, h).transpose(0, 2, 4, 1, 3)  # X[b, i, j, a, c] = Cm[b, a h + i, c h + j]
    score = np.abs(X[..., 0, 0] * X[..., 1, 1] - X[..., 0, 1] * X[..., 1, 0]).sum(axis=2)  # (nb, h)
    order = np.argsort(-score, axis=1)
    b = np.arange(nb)
    # for references r = order[:, 0] and order[:, 1] and two random combinations q:
    # T[b, i, :, :, r, q] = sum_j c[r, q, b, j] X_ij adj(X_rj), one matrix product with Cm
    adj = np.stack([_adj(X[b, order[:, k]]) for k in range(2)], axis=-1)  # (nb, h_j, 2_y, 2_z, 2_r)
    c = rng.standard_normal((nb, h, 2, 2)) + 1j * rng.standard_normal((nb, h, 2, 2))  # (b, j, r, q)
    W = adj[..., None] * c[:, :, None, None, :, :]  # (nb, j, y, z, r, q)
    W = W.transpose(0, 2, 1, 3, 4, 5).reshape(nb, m, 8)  # rows (y, j) like the columns of Cm
    T = (Cm @ W).reshape(nb, 2, h, 2, 2, 2).transpose(0, 2, 1, 3, 4, 5)  # (b, i, x, z, r, q)
    S = _mul22(T[..., 0, 0], _adj(T[..., 0, 1]))
    S1 = _mul22(T[b, order[:, 0], :, :, 1, 0], _adj(T[b, order[:, 0], :, :, 1, 1]))  # the first reference's own row
    S[b, order[:, 0]] = S1
    S = S / np.maximum(np.abs(S).max(axis=(-2, -1), keepdims=True), 1e-300)
    lam, vec = np.linalg.eig(S)
    gap = np.abs(lam[..., 0] - lam[..., 1]) / np.maximum(np.abs(lam).sum(axis=-1), 1e-300)
    return vec, np.median(gap, axis=1)


def _degenerate_directions(X: np.ndarray):
    """``U_i = X_{i j0}``, ``V_j^T = X_{r j0}^{-1} X_{rj}`` (unit columns): the directions when the two components
    are proportional (``X_ij = m_ij K_i L_j``), for which ``U_i^{-1} X_ij V_j^{-T}`` is a multiple of ``I``."""
    det = np.abs(X[..., 0, 0] * X[..., 1, 1] - X[..., 0, 1] * X[..., 1, 0])  # (nb, h, h)
    nb, h = det.shape[:2]
    b = np.arange(nb)
    r, j0 = np.unravel_index(np.argmax(det.reshape(nb, -1), axis=1), (h, h))
    U = X[b, :, j0]  # (nb, h, 2, 2)
    Vt = _mul22(np.linalg.inv(X[b, r, j0])[:, None], X[b, r])
    return _unit_columns(U), _unit_columns(np.swapaxes(Vt, -1, -2))


def _well_posed(U: np.ndarray) -> np.ndarray:
    """``U`` with every nearly singular ``2 x 2`` (unit columns, ``|det| < 1e-8``) replaced by ``[u_0, u_0^perp]``,
    so that a matrix outside the family keeps finite factors."""
    det = np.abs(U[..., 0, 0] * U[..., 1, 1] - U[..., 0, 1] * U[..., 1, 0])
    perp = np.stack([U[..., :, 0], np.stack([-U[..., 1, 0].conj(), U[..., 0, 0].conj()], axis=-1)], axis=-1)
    return np.where((det < 1e-8)[..., None, None], perp, U)


def _split_depth(C: np.ndarray, rng):
    """One depth: ``C`` (``(nb, m, m)``) to ``(U, V, M, residual^2, |X|^2)``, ``M`` of shape ``(2 nb, m/2, m/2)``."""
    nb, m = C.shape[:2]
    h = m // 2
    X = C.reshape(nb, 2, h, 2, h).transpose(0, 2, 4, 1, 3)  # X[b, i, j, a, c] = C[b, a h + i, c h + j]
    U, gap_u = _left_directions(C, rng)
    V, gap_v = _left_directions(np.swapaxes(C, 1, 2), rng)
    flat = (gap_u < 1e-6) & (gap_v < 1e-6)
    if flat.any():
        Ud, Vd = _degenerate_directions(X[flat])
        U[flat], V[flat] = Ud, Vd
    U, V = _well_posed(U), _well_posed(V)
    Ui, Vi = np.linalg.inv(U), np.linalg.inv(V)
    Lam = _mul22(_mul22(Ui[:, :, None], X), np.swapaxes(Vi, -1, -2)[:, None, :])  # U_i^{-1} X_ij V_j^{-T}
    anti = (np.abs(Lam[..., 0, 1]) ** 2 + np.abs(Lam[..., 1, 0]) ** 2
            > np.abs(Lam[..., 0, 0]) ** 2 + np.abs(Lam[..., 1, 1]) ** 2)
    ref = np.argmax(np.abs(Lam).sum(axis=(2, 3, 4)), axis=1)
    t = np.take_along_axis(anti, ref[:, None, None], axis=1)[:, 0]  # (nb, h): column swaps
    s = (anti ^ t[:, None, :]).mean(axis=2) > 0.5  # (nb, h): row swaps, majority over the columns
    U = np.where(s[..., None, None], U[..., ::-1], U)
    V = np.where(t[..., None, None], V[..., ::-1], V)
    # M by least squares on each block, X_ij ~ sum_k m_k u_k v_k^T: the diagonal of Lambda for a member, and for
    # any other matrix a projection that stays bounded where U^{-1} X V^{-T} would blow up (unit columns: the
    # design's Gram matrix is [[1, g], [conj g, 1]] with g = (u_0^H u_1)(v_0^H v_1))
    Vt = np.swapaxes(V, -1, -2)[:, None, :]  # (nb, 1, h, 2, 2): V_j^T
    rhs = (_mul22(np.swapaxes(U, -1, -2).conj()[:, :, None], X) * Vt.conj()).sum(axis=-1)  # u_k^H X_ij conj(v_k)
    g = ((U[..., 0].conj() * U[..., 1]).sum(axis=-1)[:, :, None]
         * (V[..., 0].conj() * V[..., 1]).sum(axis=-1)[:, None, :])
    det = np.maximum(1.0 - np.abs(g) ** 2, 1e-12)
    coef = np.stack([(rhs[..., 0] - g * rhs[..., 1]) / det, (rhs[..., 1] - g.conj() * rhs[..., 0]) / det], axis=-1)
    E = X - _mul22(U[:, :, None] * coef[..., None, :], Vt)
    M = np.moveaxis(coef, -1, 1).reshape(2 * nb, h, h)
    return U, V, M, float(np.sum(np.abs(E) ** 2)), float(np.sum(np.abs(X) ** 2))


def _solve(C: np.ndarray, rng, depth: int | None = None):
    """Twiddles ``(tw1, tw2)`` of ``C = B_1 B_2`` and the relative certificate residual of each depth.

    With ``depth``, stop after that depth (twiddles ``None``) and return only the residuals."""
    n = C.shape[0]
    L = n.bit_length() - 1
    tw1 = np.zeros((L, n // 2, 2, 2), dtype=np.complex128)
    tw2 = np.zeros_like(tw1)
    res = []
    Cb = C[None].astype(np.complex128)
    for d in range(1, L):
        U, V, Cb, r2, s2 = _split_depth(Cb, rng)
        res.append(np.sqrt(r2 / max(s2, 1e-300)))
        if depth is not None and d >= depth:
            return None, None, res
        t = L - d  # stride 2^t = m/2 of this depth
        tw1[t] = U.reshape(n // 2, 2, 2)
        tw2[t] = np.swapaxes(V, -1, -2).reshape(n // 2, 2, 2)
    tw1[0] = Cb.reshape(n // 2, 2, 2)  # blocks of size two: F_1 = the block, G_1 = I
    tw2[0] = np.eye(2)
    return tw1, tw2, res


def _check_target(A, fname: str) -> np.ndarray:
    A = check_array("A", A, ndim=2, dtypes=_DTYPES, finite=False)
    n = A.shape[0]
    if A.shape[0] != A.shape[1] or n < 4 or n & (n - 1):
        raise ValueError(f"{fname}: A must be square of size n a power of two >= 4, got shape {A.shape}")
    check_finite("A", A)
    return A


def _result(A: np.ndarray, perm: np.ndarray, tw1, tw2, history):
    from numerics.butterfly import Butterfly

    from .learned import LearnedFactorization

    Bs = [Butterfly(tw1, increasing=True), Butterfly(tw2, increasing=False)]
    perms = [np.arange(A.shape[0], dtype=np.int64), perm]
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    model = Bs[0] @ Bs[1].todense()[:, inv]  # B_1 B_2 P, B_1 applied by its kernel (P x = x[perm])
    rmse = float(np.sqrt(np.mean(np.abs(model - A) ** 2)))
    return LearnedFactorization(kind="BPBP", butterflies=Bs, perms=perms, rmse=rmse, rmse_relaxed=rmse,
                                history=list(history))


def solve_bbstar_twiddles(A, perm=None, *, seed=None):
    """Exact twiddles of ``A = B_1 B_2 P`` for a given permutation, depth by depth (no learning rate).

    ``B_1`` is an increasing-stride butterfly and ``B_2`` a decreasing-stride one (the ``B B^*`` of the
    kaleidoscope paper; the model ``B_1 P_1 B_2 P_2`` of :func:`numerics.factorize.learn_factorization` with
    ``decreasing=(False, True)`` and ``P_1 = I``).  A circulant is ``B_1 B_2`` with ``P = I``.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64 or complex128, finite; ``n`` a power of two ``>= 4``.
    perm : int array, shape (n,), optional
        ``P x = x[perm]``; default the identity.
    seed : None, int or Generator
        The random combinations that separate each block's two directions.

    Returns
    -------
    LearnedFactorization
        ``kind="BPBP"``, ``butterflies=[B_1, B_2]`` (complex128, increasing then decreasing), ``perms=[identity,
        perm]``, ``rmse`` of the dense product; ``history`` the certificate's relative residual at each depth
        ``1 .. log2 n - 1`` (about ``1e-16`` for a member, order one for a generic matrix).  A matrix outside the
        family is not an error: every depth still runs and ``rmse`` says how far the result is.

    Raises
    ------
    TypeError
        ``A`` not float64 / complex128, or ``perm`` not integer.
    ValueError
        ``A`` not square of power-of-two size ``>= 4`` or not finite; ``perm`` not a permutation of
        ``range(n)``.
    """
    A = _check_target(A, "solve_bbstar_twiddles")
    n = A.shape[0]
    perm = np.arange(n, dtype=np.int64) if perm is None else check_permutation("perm", perm, n)
    rng = check_rng("seed", seed)
    tw1, tw2, res = _solve(A[:, perm], rng)
    return _result(A, perm, tw1, tw2, res)


def learn_bbstar_levelwise(A, *, seed=None, tol: float = 1e-9, beam: int = 4):
    """``A = B_1 B_2 P`` with ``P`` chosen level by level from the relaxed family by the depth certificate.

    Level ``l`` of the family (blocks of size ``n / 2^l``, choices separation / reverse first half / reverse
    second half, tied over the blocks) decides the column groups of depth ``l + 1``.  Its settings are scored by
    the relative certificate residual at that depth (the ``history`` of :func:`solve_bbstar_twiddles`), with the
    earlier levels fixed and the later ones off.  Settings that make the same groups score the same but place them
    differently for the next level, so the search keeps up to ``beam`` prefixes whose residual is at most ``tol``
    (fewest steps on first); where no setting passes, ``A`` is not in the form at that depth and the search goes
    on greedily with the best one.  The last level is seen by no certificate (every ``4 x 4`` block is
    ``F_2 diag(M_0, M_1) G_2``): its settings are compared by the final ``rmse`` (the first with
    relative ``rmse <= tol`` is kept, else the smallest).

    Only four settings per level are tried: off, separation, reverse first half, and both.  Reversing both halves
    of every block is the same ``xor`` of positions in every block, which a butterfly absorbs into its twiddles
    (each factor's pairs are mapped onto pairs), so "reverse both" matches "off" and "reverse second half" matches
    "reverse first half" (with or without the separation).

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64 or complex128, finite; ``n`` a power of two ``>= 4``.
    seed : None, int or Generator
    tol : float, default 1e-9
        Relative residuals at most this pass the certificate (rounding makes an exact setting score anywhere in
        ``1e-16 .. 1e-13``, and more for ill-conditioned members).
    beam : int, default 4
        Passing prefixes kept per level.

    Returns
    -------
    LearnedFactorization
        As :func:`solve_bbstar_twiddles`, for the best permutation found; ``history`` holds its certificate
        residual at each level but the last, then its ``rmse``.

    Raises
    ------
    TypeError, ValueError
        As :func:`solve_bbstar_twiddles`; ``tol < 0`` or ``beam < 1``.
    """
    from .learned import _compose_steps, permutation_steps

    A = _check_target(A, "learn_bbstar_levelwise")
    if not (np.isfinite(tol) and tol >= 0.0):
        raise ValueError(f"tol must be a finite number >= 0, got tol={tol!r}")
    beam = check_int("beam", beam, minimum=1)
    rng = check_rng("seed", seed)
    n = A.shape[0]
    steps = permutation_steps(n)
    n_levels = len(steps) // 3
    settings = (0, 1, 2, 3)  # off, separation, reverse first half, both (bits: sep, r1, r2); see the docstring
    prefixes = [(np.zeros(len(steps), dtype=bool), [])]
    best_fact = None
    scale = float(np.sqrt(np.mean(np.abs(A) ** 2)))
    for lev in range(n_levels):
        last = lev == n_levels - 1
        scored = []
        for on0, hist in prefixes:
            for k in settings:
                on = on0.copy()
                on[3 * lev: 3 * lev + 3] = [(k >> c) & 1 for c in range(3)]
                perm = _compose_steps(steps, on, n)
                if last:
                    fact = _result(A, perm, *_solve(A[:, perm], rng))  # A and perm already checked
                    fact.history = hist + [fact.rmse]
                    exact = best_fact is not None and best_fact.rmse <= tol * scale
                    if best_fact is None or (not exact and fact.rmse < best_fact.rmse):
                        best_fact = fact  # the first exact setting (fewest steps on), else the smallest rmse
                else:
                    score = _solve(A[:, perm], rng, depth=lev + 1)[2][-1]
                    scored.append((score, on, hist + [score]))
        if not last:
            passing = [(on, hist) for sc, on, hist in scored if sc <= tol]
            prefixes = passing[:beam] if passing else [min(scored, key=lambda x: x[0])[1:]]
    return best_fact
