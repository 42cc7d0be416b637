"""Numba kernels of the learned ``B P`` / ``B P B P`` loss (plain-NumPy reference: ``learned._BatchModel``).

The model ``M = B_1 P_1 [B_2 P_2]`` acts on the columns ``e_j`` of the identity one at a time: the row
``j`` of ``X = M^T`` is ``e_j`` pushed through the relaxed steps and the butterfly factors of every pair
(last pair first).  Each row only needs ``O(n (K + L))`` scratch, so a restart runs in cache; restarts
run in parallel.  Layout and gradient convention as in :mod:`numerics.factorize.learned`
(``G = df/dRe + i df/dIm``; twiddles ``tw[b, t, p, 2, 2]``, ``F_t`` pairs ``i`` with ``i + 2**t``).
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit, prange


@jit
def _restart_loss_grad(AT, tw, p, steps, orders, realpart, gtw, gp, xs, ys, g, gn):
    """Loss ``mean |M - A|^2`` of one restart; accumulates ``gtw`` and ``gp`` (``df/dp``), returns ``f``.

    ``realpart``: the loss is ``mean (Re M - A)^2`` instead (a real ``A`` fitted by complex twiddles).

    ``tw``: ``(nb, L, n/2, 2, 2)``; ``p``: ``(nb, K)``; ``steps``: ``(K, n)``; ``orders``: ``(nb, L)``, the
    factor applied at each stage of butterfly ``b`` (``0..L-1`` increasing strides, reversed decreasing); scratch ``xs``:
    ``(nb, K + 1, n)`` (relaxed-step stages), ``ys``: ``(nb, L + 1, n)`` (butterfly stages), ``g``, ``gn``: ``(n,)``.
    """
    nb, L = tw.shape[0], tw.shape[1]
    K = steps.shape[0]
    n = AT.shape[0]
    h = n // 2
    scale = 2.0 / (n * n)
    f = 0.0
    gtw[:] = 0
    gp[:] = 0
    for j in range(n):
        # forward: e_j through B_nb P_nb, ..., B_1 P_1 (pair index b from nb - 1 down to 0)
        for i in range(n):
            xs[nb - 1, 0, i] = 0.0
        xs[nb - 1, 0, j] = 1.0
        for b in range(nb - 1, -1, -1):
            if b < nb - 1:
                for i in range(n):
                    xs[b, 0, i] = ys[b + 1, L, i]
            for k in range(K):
                pk = p[b, k]
                for i in range(n):
                    xs[b, k + 1, i] = pk * xs[b, k, steps[k, i]] + (1.0 - pk) * xs[b, k, i]
            for i in range(n):
                ys[b, 0, i] = xs[b, K, i]
            for tt in range(L):
                t = orders[b, tt]
                s = 1 << t
                for q in range(h):
                    i0 = 2 * s * (q // s) + q % s
                    i1 = i0 + s
                    a0 = ys[b, tt, i0]
                    a1 = ys[b, tt, i1]
                    ys[b, tt + 1, i0] = tw[b, t, q, 0, 0] * a0 + tw[b, t, q, 0, 1] * a1
                    ys[b, tt + 1, i1] = tw[b, t, q, 1, 0] * a0 + tw[b, t, q, 1, 1] * a1
        # residual of row j
        for i in range(n):
            r = ys[0, L, i] - AT[j, i]
            if realpart:
                r = 0.5 * (r + np.conj(r))
            f += (r * np.conj(r)).real
            g[i] = scale * r
        # backward: pair 0 first
        for b in range(nb):
            for tt in range(L - 1, -1, -1):
                t = orders[b, tt]
                s = 1 << t
                for q in range(h):
                    i0 = 2 * s * (q // s) + q % s
                    i1 = i0 + s
                    x0 = np.conj(ys[b, tt, i0])
                    x1 = np.conj(ys[b, tt, i1])
                    g0 = g[i0]
                    g1 = g[i1]
                    gtw[b, t, q, 0, 0] += g0 * x0
                    gtw[b, t, q, 0, 1] += g0 * x1
                    gtw[b, t, q, 1, 0] += g1 * x0
                    gtw[b, t, q, 1, 1] += g1 * x1
                    g[i0] = np.conj(tw[b, t, q, 0, 0]) * g0 + np.conj(tw[b, t, q, 1, 0]) * g1
                    g[i1] = np.conj(tw[b, t, q, 0, 1]) * g0 + np.conj(tw[b, t, q, 1, 1]) * g1
            for k in range(K - 1, -1, -1):
                pk = p[b, k]
                acc = 0.0
                for i in range(n):
                    d = xs[b, k, steps[k, i]] - xs[b, k, i]
                    acc += (np.conj(g[i]) * d).real
                    gn[i] = (1.0 - pk) * g[i]
                gp[b, k] += acc
                for i in range(n):
                    gn[steps[k, i]] += pk * g[i]
                for i in range(n):
                    g[i] = gn[i]
    return f / (n * n)


@jit(parallel=True)
def bp_loss_grad_batch(AT, tw, p, steps, orders, realpart, f, gtw, gp):
    """Every restart ``r``: ``f[r]``, ``gtw[r]`` (twiddle gradients) and ``gp[r]`` (``df/dp``), in parallel.

    ``AT``: ``(n, n)`` (the target transposed); ``tw``: ``(R, nb, L, n/2, 2, 2)``; ``p``: ``(R, nb, K)``;
    ``steps``: ``(K, n)`` int64; ``orders``: ``(nb, L)`` int64 (stride order per butterfly); ``realpart``: bool,
    fit ``Re M`` only (see :func:`_restart_loss_grad`).  Outputs have the
    shapes of ``f (R,)``, ``tw`` and ``p``.
    """
    R, nb, L = tw.shape[0], tw.shape[1], tw.shape[2]
    K = steps.shape[0]
    n = AT.shape[0]
    for r in prange(R):
        xs = np.empty((nb, K + 1, n), dtype=tw.dtype)
        ys = np.empty((nb, L + 1, n), dtype=tw.dtype)
        g = np.empty(n, dtype=tw.dtype)
        gn = np.empty(n, dtype=tw.dtype)
        f[r] = _restart_loss_grad(AT, tw[r], p[r], steps, orders, realpart, gtw[r], gp[r], xs, ys, g, gn)


@jit
def bp_loss_grad_serial(AT, tw, p, steps, orders, realpart, f, gtw, gp):
    """:func:`bp_loss_grad_batch` without threads (one restart at a time, for L-BFGS)."""
    R, nb, L = tw.shape[0], tw.shape[1], tw.shape[2]
    K = steps.shape[0]
    n = AT.shape[0]
    xs = np.empty((nb, K + 1, n), dtype=tw.dtype)
    ys = np.empty((nb, L + 1, n), dtype=tw.dtype)
    g = np.empty(n, dtype=tw.dtype)
    gn = np.empty(n, dtype=tw.dtype)
    for r in range(R):
        f[r] = _restart_loss_grad(AT, tw[r], p[r], steps, orders, realpart, gtw[r], gp[r], xs, ys, g, gn)


# ------------------------------------------------ gauge propagation of Re(B P) (numerics.factorize.realpart)


@jit
def _gauge_find(i, parent, H, path):
    """Root of ``i``, compressing the path; afterwards ``u_i ~ H[i] u_root`` for every node on it."""
    m = 0
    r = i
    while parent[r] != r:
        path[m] = r
        m += 1
        r = parent[r]
    for t in range(m - 2, -1, -1):  # nearest to the root first; its parent already points at the root
        x = path[t]
        H[x] = H[x] @ H[parent[x]]
        s = np.abs(H[x]).max()
        if s > 0.0:
            H[x] /= s
        parent[x] = r
    return r


@jit
def _parallel(a0, a1, b0, b1, tol):
    return abs(a0 * b1 - a1 * b0) <= tol * np.sqrt((abs(a0) ** 2 + abs(a1) ** 2) * (abs(b0) ** 2 + abs(b1) ** 2))


@jit
def gauge_union_find(nnodes, ec, ep, eG, tol):
    """Union-find over real Moebius relations ``u_c ~ G u_p`` (``u`` in ``C^2`` up to scale, ``G`` real ``2 x 2``).

    Edges are taken in order.  An edge inside one component closes a cycle: the root must be an eigenvector of the
    cycle's real matrix ``M``; ``M ~ I`` says nothing, complex eigenvalues pin the root to the eigenvector with
    ``Im lambda > 0`` (its conjugate serves as well: every relation is real), real eigenvalues would force a real
    ``u`` and are counted as conflicts, as are pins that disagree.  Returns ``root``, ``H`` (``u_i ~ H[i] u_root``),
    ``pinned``, ``pin`` (per root) and the number of conflicts.
    """
    parent = np.arange(nnodes)
    H = np.zeros((nnodes, 2, 2))
    H[:, 0, 0] = 1.0
    H[:, 1, 1] = 1.0
    pinned = np.zeros(nnodes, dtype=np.bool_)
    pin = np.zeros((nnodes, 2), dtype=np.complex128)
    path = np.empty(nnodes, dtype=np.int64)
    bad = 0
    for e in range(ec.shape[0]):
        c, p = ec[e], ep[e]
        rc = _gauge_find(c, parent, H, path)
        rp = _gauge_find(p, parent, H, path)
        Hc = H[c] if c != rc else np.eye(2)
        Hp = H[p] if p != rp else np.eye(2)
        K = np.linalg.solve(Hc, eG[e] @ Hp)  # u_rc ~ K u_rp
        K /= np.abs(K).max()
        if rc != rp:
            if pinned[rc] and pinned[rp]:
                w0 = K[0, 0] * pin[rp, 0] + K[0, 1] * pin[rp, 1]
                w1 = K[1, 0] * pin[rp, 0] + K[1, 1] * pin[rp, 1]
                a0, a1 = pin[rc, 0], pin[rc, 1]
                if not (_parallel(w0, w1, a0, a1, tol) or _parallel(w0, w1, np.conj(a0), np.conj(a1), tol)):
                    bad += 1
            elif pinned[rc]:
                Ki = np.linalg.inv(K)
                pin[rp, 0] = Ki[0, 0] * pin[rc, 0] + Ki[0, 1] * pin[rc, 1]
                pin[rp, 1] = Ki[1, 0] * pin[rc, 0] + Ki[1, 1] * pin[rc, 1]
                pinned[rp] = True
            parent[rc] = rp
            H[rc] = K
            pinned[rc] = False
            continue
        # a cycle: u_r ~ K u_r
        off = max(abs(K[0, 1]), abs(K[1, 0]), abs(K[0, 0] - K[1, 1]))
        if off <= tol:
            continue
        tr = K[0, 0] + K[1, 1]
        disc = tr * tr - 4.0 * (K[0, 0] * K[1, 1] - K[0, 1] * K[1, 0])
        if disc >= 0.0:
            bad += 1
            continue
        lam = 0.5 * tr + 0.5j * np.sqrt(-disc)
        v0, v1 = K[0, 1] + 0j, lam - K[0, 0]
        if abs(v0) + abs(v1) < abs(lam - K[1, 1]) + abs(K[1, 0]):
            v0, v1 = lam - K[1, 1], K[1, 0] + 0j
        if pinned[rc]:
            a0, a1 = pin[rc, 0], pin[rc, 1]
            if not (_parallel(v0, v1, a0, a1, tol) or _parallel(v0, v1, np.conj(a0), np.conj(a1), tol)):
                bad += 1
        else:
            pin[rc, 0], pin[rc, 1] = v0, v1
            pinned[rc] = True
    for i in range(nnodes):
        _gauge_find(i, parent, H, path)
    return parent, H, pinned, pin, bad
