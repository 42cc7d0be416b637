"""Numba kernels for GBLR products (rows of a batch transformed independently).

``gblr_rows(U, V, s_out, n_out_k, s_in, n_in_k, X, Y)``
    ``Y[r] = W X[r]`` for ``W = sum_k (m_out_k * U[k]) (m_in_k * V[k])^T`` with the
    circular intervals ``{s, ..., s + len - 1} mod n`` as masks: for every component
    the inner product of ``V[k]`` and ``X[r]`` over the input interval (``len_in``
    multiplications), then ``t * U[k]`` added over the output interval (``len_out``
    multiplications).  ``Y`` must be zeroed by the caller.  Rows in parallel.
``gblr_rows_serial``: the same, serial (small batches).
"""
from __future__ import annotations

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
