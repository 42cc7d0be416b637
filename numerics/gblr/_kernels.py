"""Numba kernels for GBLR products (rows of a batch transformed independently).

``gblr_rows(U, V, s_out, n_out_k, s_in, n_in_k, X, Y)``
    ``Y[r] = W X[r]`` for ``W = sum_k (m_out_k * U[k]) (m_in_k * V[k])^T`` with the
    circular intervals ``{s, ..., s + len - 1} mod n`` as masks: for every component
    the inner product of ``V[k]`` and ``X[r]`` over the input interval (``len_in``
    multiplications), then ``t * U[k]`` added over the output interval (``len_out``
    multiplications).  ``Y`` must be zeroed by the caller.  Rows in parallel.
``gblr_rows_serial``: the same, serial (small batches).
``ls_sweep(U, V, mo, mi, E)``
    One cyclic sweep of exact rank-one least-squares factor updates with the masks ``mo``, ``mi`` fixed, in
    place (``U``, ``V`` unmasked factors, ``E = A - W`` the residual, all float64; the NumPy reference is
    ``numerics.gblr._reference.ls_sweep_reference``).  For component ``k``, with ``x = mi_k v_k`` and
    ``R_k = E + (mo_k u_k) x^T``: ``u_k = R_k x / ||x||^2`` (on every row), then ``v_k = R_k^T y / ||y||^2`` with
    ``y = mo_k u_k``, then ``(u_k, v_k)`` rescaled to equal norms, and ``E`` updated.  A side whose masked
    factor has (almost) no energy (``||x||^2 <= 1e-6 ||v_k||^2``) is left unchanged.  Computed without forming
    ``R_k``: ``R_k x = E x + (mo_k u_k) ||x||^2`` and ``R_k^T y = E^T y + x (mo_k u_k . y)``.
``budget_threshold(wo, wi, n_out, n_in, target)``
    The smallest ``mu >= 0`` with ``sum n_out clip(wo - mu n_out, 0, 1) + n_in clip(wi - mu n_in, 0, 1) <= target``
    (bisection, 60 halvings of ``[0, 1 / min(n_out, n_in)]``).
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit, prange


def _rows_body(U, V, s_out, len_out, s_in, len_in, X, Y, r):
    n_in = X.shape[1]
    n_out = Y.shape[1]
    K = U.shape[0]
    for k in range(K):
        t = 0.0 * X[r, 0]
        j = s_in[k]
        for _ in range(len_in[k]):
            t += V[k, j] * X[r, j]
            j += 1
            if j == n_in:
                j = 0
        i = s_out[k]
        for _ in range(len_out[k]):
            Y[r, i] += t * U[k, i]
            i += 1
            if i == n_out:
                i = 0


_rows_body_jit = jit(inline="always")(_rows_body)


@jit(parallel=True)
def gblr_rows(U, V, s_out, len_out, s_in, len_in, X, Y):
    for r in prange(X.shape[0]):
        _rows_body_jit(U, V, s_out, len_out, s_in, len_in, X, Y, r)


@jit
def gblr_rows_serial(U, V, s_out, len_out, s_in, len_in, X, Y):
    for r in range(X.shape[0]):
        _rows_body_jit(U, V, s_out, len_out, s_in, len_in, X, Y, r)


@jit
def ls_sweep(U, V, mo, mi, E):
    K, n_out = U.shape
    n_in = V.shape[1]
    ue_old = np.empty(n_out)
    ve_old = np.empty(n_in)
    x = np.empty(n_in)
    y = np.empty(n_out)
    for k in range(K):
        nx = 0.0
        nv = 0.0
        for j in range(n_in):
            x[j] = mi[k, j] * V[k, j]
            ve_old[j] = x[j]
            nx += x[j] * x[j]
            nv += V[k, j] * V[k, j]
        nu = 0.0
        for i in range(n_out):
            ue_old[i] = mo[k, i] * U[k, i]
            nu += U[k, i] * U[k, i]
        if nx > 1e-300 and nx > 1e-6 * nv:
            for i in range(n_out):
                s = 0.0
                for j in range(n_in):
                    s += E[i, j] * x[j]
                U[k, i] = s / nx + ue_old[i]
            nu = 0.0
            for i in range(n_out):
                nu += U[k, i] * U[k, i]
        ny = 0.0
        cross = 0.0
        for i in range(n_out):
            y[i] = mo[k, i] * U[k, i]
            ny += y[i] * y[i]
            cross += ue_old[i] * y[i]
        if ny > 1e-300 and ny > 1e-6 * nu:
            for j in range(n_in):
                V[k, j] = cross * ve_old[j]
            for i in range(n_out):
                yi = y[i]
                if yi != 0.0:
                    for j in range(n_in):
                        V[k, j] += E[i, j] * yi
            for j in range(n_in):
                V[k, j] /= ny
        # E <- E + ue_old ve_old^T - y (mi v)^T
        for j in range(n_in):
            x[j] = mi[k, j] * V[k, j]
        for i in range(n_out):
            a = ue_old[i]
            b = y[i]
            for j in range(n_in):
                E[i, j] += a * ve_old[j] - b * x[j]
        a2 = 0.0
        b2 = 0.0
        for i in range(n_out):
            a2 += U[k, i] * U[k, i]
        for j in range(n_in):
            b2 += V[k, j] * V[k, j]
        if a2 > 0.0 and b2 > 0.0:
            c = (b2 / a2) ** 0.25
            for i in range(n_out):
                U[k, i] *= c
            for j in range(n_in):
                V[k, j] /= c


@jit
def budget_threshold(wo, wi, n_out, n_in, target):
    def fl(mu):
        s = 0.0
        for w in wo:
            s += n_out * min(max(w - mu * n_out, 0.0), 1.0)
        for w in wi:
            s += n_in * min(max(w - mu * n_in, 0.0), 1.0)
        return s

    if fl(0.0) <= target:
        return 0.0
    lo = 0.0
    hi = 1.0 / min(n_out, n_in)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if fl(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi
