"""Exact complex twiddles of ``A = Re(B P)`` for a given permutation: gauge propagation, no learning rate.

Notation.  ``T = A P^T`` (``T = A[:, perm]``), ``n = 2^L``.  A *node* ``(d, i, beta)``, ``1 <= d <= L - 1``,
``i < n/2^d``, ``beta < 2^d``, is the block of rows ``{i + k n/2^d}`` and columns
``[beta n/2^d, (beta + 1) n/2^d)``.  If ``Z`` is a complex butterfly, ``Z`` restricted to a node is rank one,
``a y^T``; ``y`` (up to a complex scale) is the node's *row piece*, and a node's piece restricted to the column
half of a child node is parallel to the child's piece (the child ``(d + 1, i mod n/2^(d+1), 2 beta + h)`` has the
two parents ``(d, i', beta)`` with ``i' = i mod n/2^(d+1)`` and ``i' + n/2^(d+1)``).  Conversely, pieces that are
parallel along every parent-child pair are a butterfly (:func:`numerics.factorize.butterfly_factorize` recovers
the twiddles).  With ``Re Z = T``:

* the node's real block ``T[rows, cols] = Re(a y^T)`` has rank at most two, and if it has rank two its row space
  ``W`` is ``span_R(Re y, Im y)``: ``y = Q u`` with ``Q`` an orthonormal basis of ``W`` and ``u`` in ``C^2`` (a
  *pencil* node, one point of the complex projective line);
* for two pencil nodes, child ``c`` of parent ``p``: ``Q_p`` restricted to ``c``'s columns equals ``Q_c G`` with
  ``G`` real ``2 x 2``, and parallel pieces mean ``u_c ~ G u_p``: a real Moebius relation.  The relations of a
  connected set of nodes leave one free point, or, where a cycle's product is not the identity, pin it to the
  cycle's non-real eigenvector (a real eigenvector would make the pieces real: no solution);
* a rank-one node below a pencil parent inherits the parent's restricted basis (or, if that restriction has rank
  one, a fixed real piece); the remaining rank-one nodes (*free*) are built bottom-up from their children,
  ``y = (alpha y_left, beta y_right)`` with ``Re(alpha y_left) = r_left``, ``Re(beta y_right) = r_right``
  (``r`` the block's real row; the parts of ``alpha, beta`` these leave open are drawn at random);
* the depth-1 pieces and a least-squares fit of each row's complex coefficient (``Re(a y) = T[row]``) give ``Z``.

Every free point is drawn at random, so the factorization returned is one point of the (positive-dimensional)
set of exact ones.  Cost: a batch of small SVDs per depth (``O(n^2 log n)``) and a union-find over
``n (L - 1)`` nodes (Numba).  For a matrix that is not ``Re(B P)`` every step still runs (rank-two truncations,
inconsistent relations skipped) and the result's ``rmse`` says how far it is.  Theory:
``theory/factorization.md`` section 6.
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_rng

from ._kernels import gauge_union_find

__all__ = ["solve_real_twiddles"]


def _pieces_coef(Y: np.ndarray, R: np.ndarray, rng, free: bool):
    """Per row: complex ``c`` with ``Re(c Y) = R`` in least squares (``Y`` complex ``(N, m)``, ``R`` real ``(N, m)``).

    The design ``[Re Y, -Im Y]`` has rank two unless ``Y`` is a complex multiple of a real vector; then the open
    direction of ``(Re c, Im c)`` is drawn at random when ``free`` (else the minimum-norm solution)."""
    D = np.stack([Y.real, -Y.imag], axis=-1)  # (N, m, 2)
    U, s, Vt = np.linalg.svd(D, full_matrices=False)
    big = s > 1e-9 * np.maximum(s[:, :1], 1e-300)
    inv = np.where(big, 1.0 / np.where(big, s, 1.0), 0.0)
    x = np.einsum("ni,nik->nk", np.einsum("nji,nj->ni", U, R) * inv, Vt)
    if free:
        t = rng.standard_normal(s.shape) * np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1.0)
        x = x + np.einsum("ni,nik->nk", np.where(big, 0.0, t), Vt)
    return x[:, 0] + 1j * x[:, 1]


def _node_blocks(T: np.ndarray, d: int) -> np.ndarray:
    """The real blocks of depth ``d``: ``(b, g, g, b)``, ``[i, beta]`` the ``g x b`` block of node ``(d, i, beta)``."""
    n = T.shape[0]
    b, g = n >> d, 1 << d
    return T.reshape(g, b, g, b).transpose(1, 2, 0, 3)


def _restrict(E: np.ndarray) -> np.ndarray:
    """Parent quantities ``(2b, g/2, 2b, ...)`` restricted to the child nodes: ``(2, b, g, b, ...)`` with ``[k]``
    coming from parent ``i + k b``."""
    b2, gh = E.shape[0], E.shape[1]
    b = b2 // 2
    return E.reshape((2, b, gh, 2, b) + E.shape[3:]).reshape((2, b, 2 * gh, b) + E.shape[3:])


def _restrict_nodes(X: np.ndarray) -> np.ndarray:
    """A per-node quantity ``(2b, g/2)`` of the parents seen from the children: ``(2, b, g)``, ``[k]`` from parent
    ``i + k b`` (both column halves of a parent have the same value)."""
    b = X.shape[0] // 2
    return np.repeat(X.reshape(2, b, X.shape[1]), 2, axis=2)


def _complete(T: np.ndarray, rng, tol: float):
    """The complex ``Z`` (``Re Z ~ T``) of the module docstring, and counts of what did not fit."""
    n = T.shape[0]
    L = n.bit_length() - 1
    scale = float(np.linalg.norm(T)) / np.sqrt(n)
    thr = tol * max(scale, 1e-300)
    # per depth: status 2 own pencil, 3 inherited pencil, 1 fixed real piece, 0 free; basis E; fixed piece V;
    # real row r; and the relations u_c ~ G u_p between pencil nodes (children after parents: depth by depth)
    status, E, V, R, rank3 = {}, {}, {}, {}, 0
    offset = np.cumsum([0] + [n] * (L - 1))  # every depth has n nodes
    ids = {d: offset[d - 1] + np.arange(n).reshape(n >> d, 1 << d) for d in range(1, L)}
    ec, ep, eG, conflicts = [], [], [], 0
    for d in range(1, L):
        b, g = n >> d, 1 << d
        _, s, Vt = np.linalg.svd(_node_blocks(T, d), full_matrices=False)
        rank3 += int(np.sum(s[..., 2:] > thr)) if s.shape[-1] > 2 else 0
        own = s[..., 1] > thr
        E[d] = np.ascontiguousarray(Vt[..., :2, :].swapaxes(-1, -2))  # (b, g, b, 2)
        R[d] = s[..., 0, None] * Vt[..., 0, :]  # (b, g, b)
        R[d][s[..., 0] <= thr] = 0.0
        st = np.where(own, 2, 0)
        V[d] = np.zeros((b, g, b))
        if d == 1:
            status[d] = st
            continue
        Qp = _restrict(E[d - 1])  # (2, b, g, b, 2)
        Up, sp, _ = np.linalg.svd(Qp, full_matrices=False)
        pen = _restrict_nodes(np.isin(status[d - 1], (2, 3)))  # (2, b, g)
        fixp = _restrict_nodes(status[d - 1] == 1)
        Vp = _restrict(V[d - 1])  # (2, b, g, b)
        for k in (1, 0):  # parent 0 takes precedence
            inh = ~own & pen[k] & (sp[k][..., 1] > 1e-9 * sp[k][..., 0])
            E[d] = np.where(inh[..., None, None], Up[k], E[d])
            st = np.where(inh, 3, st)
        for k in (1, 0):
            cand = np.where(pen[k][..., None] & (sp[k][..., :1] > 1e-9), Up[k][..., 0],
                            np.where(fixp[k][..., None], Vp[k], 0.0))
            nrm = np.linalg.norm(cand, axis=-1)
            ok = (st < 2) & (nrm > 1e-9)
            V[d] = np.where(ok[..., None], cand / np.where(nrm > 0, nrm, 1.0)[..., None], V[d])
            st = np.where(ok, 1, st)
        status[d] = st
        pid = _restrict_nodes(ids[d - 1])
        for k in (0, 1):
            G = np.einsum("bgji,bgjk->bgik", E[d], Qp[k])
            res = np.linalg.norm(Qp[k] - E[d] @ G, axis=(-2, -1))
            m = np.isin(st, (2, 3)) & pen[k]
            det = np.abs(G[..., 0, 0] * G[..., 1, 1] - G[..., 0, 1] * G[..., 1, 0])
            good = m & (res <= 1e-7) & (det > 1e-8 * np.sum(G * G, axis=(-2, -1)))  # singular: the piece is real
            conflicts += int(np.sum(m & ~good))
            ec.append(ids[d][good])
            ep.append(pid[k][good])
            eG.append(G[good])
    if ec:
        ec, ep, eG = np.concatenate(ec), np.concatenate(ep), np.concatenate(eG)
    else:
        ec = ep = np.zeros(0, dtype=np.int64)
        eG = np.zeros((0, 2, 2))
    nn = n * (L - 1)
    root, H, pinned, pin, bad = gauge_union_find(nn, ec.astype(np.int64), ep.astype(np.int64),
                                                np.ascontiguousarray(eG, dtype=np.float64), 1e-8)
    conflicts += int(bad)
    free = np.stack([np.ones(nn), rng.uniform(-1, 1, nn) + 1j * rng.uniform(0.5, 2.0, nn)], axis=-1)
    u_root = np.where(pinned[:, None], pin, free)
    u = np.einsum("nij,nj->ni", H, u_root[root])
    # pieces: pencils and fixed ones directly, free ones bottom-up
    Y = {}
    for d in range(L - 1, 0, -1):
        b, g = n >> d, 1 << d
        st = status[d]
        y = np.einsum("bgjk,bgk->bgj", E[d], u[ids[d]])
        y = np.where((st == 1)[..., None], V[d], y)
        fr = st == 0
        if np.any(fr):
            if d == L - 1:
                noise = rng.standard_normal((b, g, b))
                yf = np.where(np.any(R[d] != 0, axis=-1, keepdims=True), R[d], 1.0) + 1j * noise
            else:
                h = b // 2
                Yc = Y[d + 1]  # (h, 2g, h): node (i, beta)'s children are (i mod h, 2 beta + s)
                yl = np.broadcast_to(Yc[:, 0::2][None], (2, h, g, h)).reshape(b, g, h)
                yr = np.broadcast_to(Yc[:, 1::2][None], (2, h, g, h)).reshape(b, g, h)
                r = R[d][fr]
                cl = _pieces_coef(yl[fr], r[:, :h], rng, True)
                cr = _pieces_coef(yr[fr], r[:, h:], rng, True)
                zero = ~np.any(r != 0, axis=-1)  # a zero block: keep the children as they are
                cl, cr = np.where(zero, 1.0, cl), np.where(zero, 1.0, cr)
                yf = np.zeros((b, g, b), dtype=np.complex128)
                yf[fr] = np.concatenate([cl[:, None] * yl[fr], cr[:, None] * yr[fr]], axis=-1)
            y = np.where(fr[..., None], yf, y)
        Y[d] = y
    # rows of Z from the depth-1 pieces: Z[i, half beta] = c y with Re(c y) = T[i, half beta]
    h = n // 2
    y1 = Y[1]  # (h, 2, h)
    Z = np.empty((n, n), dtype=np.complex128)
    for top in (0, 1):
        rows = T[top * h:(top + 1) * h].reshape(h, 2, h)
        c = _pieces_coef(y1.reshape(n, h), rows.reshape(n, h), rng, False).reshape(h, 2)
        Z[top * h:(top + 1) * h] = (c[..., None] * y1).reshape(h, n)
    return Z, rank3, conflicts


def solve_real_twiddles(A, perm, *, tol: float = 1e-9, seed=None):
    """Exact complex twiddles of ``A = Re(B P)`` for a given permutation (``P x = x[perm]``), with no learning.

    The construction of :mod:`numerics.factorize.realpart` (rank-two row spaces of the depth-``d`` blocks, real
    Moebius relations between them propagated by a union-find, free rank-one pieces built bottom-up), followed by
    the exact hierarchical factorization of the complex matrix it builds.  The set of exact twiddles is
    positive-dimensional for the classical transforms (``theory/factorization.md`` section 6); its free
    coordinates are drawn from ``seed``.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64, finite; ``n`` a power of two ``>= 4``.
    perm : array of int, shape (n,)
        A permutation of ``range(n)`` (e.g. :func:`known_permutation` or :attr:`LevelwisePermutation.perm`).
    tol : float, default 1e-9
        Singular values below ``tol`` times ``||A||_F / sqrt(n)`` (the RMS row norm) count as zero (block ranks).
    seed : None, int or Generator
        The free coordinates.

    Returns
    -------
    LearnedFactorization
        ``kind="BP"``, ``real_part=True``, ``perms=[perm]``, ``rmse = sqrt(mean (Re(B P) - A)^2)``; ``history`` holds
        the number of blocks of rank above two and of relations that did not hold (both 0 when ``A = Re(B P)``);
        ``rmse_relaxed`` is ``nan``.  If ``A`` is not ``Re(B P)`` for this ``perm`` the result is the construction's
        approximation and ``rmse`` says how far it is; no error is raised.

    Raises
    ------
    TypeError
        If ``A`` is not float64 or ``perm`` is not an integer array.
    ValueError
        If ``A`` is not square with a power-of-two size ``>= 4`` or contains NaN or inf, ``perm`` is not a
        permutation of ``range(n)``, or ``tol`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.factorize import known_permutation, solve_real_twiddles, target_matrix
    >>> C = target_matrix("dct", 64)
    >>> fit = solve_real_twiddles(C, known_permutation("dct", 64), seed=0)
    >>> bool(fit.rmse < 1e-14), bool(np.allclose(fit.todense(), C))
    (True, True)
    """
    from .exact import butterfly_factorize, check_permutation
    from .learned import LearnedFactorization, _check_number, _check_square

    A = _check_square(A, (np.dtype(np.float64),), 4, "solve_real_twiddles")
    n = A.shape[0]
    perm = check_permutation("perm", perm, n)
    tol = _check_number("tol", tol, positive=True)
    rng = check_rng("seed", seed)
    T = np.ascontiguousarray(A[:, perm])
    Z, rank3, conflicts = _complete(T, rng, tol)
    res = butterfly_factorize(Z, compute_error=False)
    rmse = float(np.linalg.norm(res.butterfly.todense().real - T)) / n
    return LearnedFactorization(kind="BP", butterflies=[res.butterfly], perms=[perm], rmse=rmse,
                                rmse_relaxed=float("nan"), history=[float(rank3), float(conflicts)], real_part=True)
