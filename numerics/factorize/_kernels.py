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
