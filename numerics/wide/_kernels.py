"""Numba kernels of the fast trainer: products that touch only active neurons, low-rank factors, densify.

Conventions: activations and gradients are ``(B, m)`` row-major arrays (one row per sample);
weights are stored transposed, ``Wt`` of shape ``(m_in, m_out)`` with ``z = h @ Wt``.  Active sets
are given as CSR-like ``(ptr, idx)``: the active neurons of sample ``i`` are
``idx[ptr[i]:ptr[i+1]]``.  Low-rank factors are sparse columns in the same format: column ``c``
of ``U`` is ``u_val[u_ptr[c]:u_ptr[c+1]]`` at rows ``u_idx[...]`` (likewise ``V``), and the
represented matrix is ``Wt + sum_c v_c u_c^T``.

Every kernel returns (or fills) an exact count of the multiply-adds it performed; each is one
``a += x * y`` on floating-point data.  No fastmath (NaN must propagate to the loss check).
Plain-NumPy versions live in :mod:`numerics.wide._reference`.
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit, prange

__all__ = ["sparse_forward", "sparse_backward", "lowrank_forward", "lowrank_backward", "densify"]


@jit(parallel=True)
def _sparse_forward_jit(union, col_ptr, rows, vals, Wt, Z, block, counts):
    m_out = Wt.shape[1]
    nb = (m_out + block - 1) // block
    for jb in prange(nb):
        j0 = jb * block
        j1 = min(m_out, j0 + block)
        c = 0
        for p in range(union.shape[0]):
            wk = Wt[union[p], j0:j1]
            for q in range(col_ptr[p], col_ptr[p + 1]):
                zi = Z[rows[q], j0:j1]
                v = vals[q]
                for j in range(j1 - j0):
                    zi[j] += v * wk[j]
            c += (col_ptr[p + 1] - col_ptr[p]) * (j1 - j0)
        counts[jb] = c


def sparse_forward(H, Wt, Z, *, block=256) -> int:
    """``Z += H @ Wt`` reading only the rows of ``Wt`` at nonzero entries of ``H``; returns multiply-adds.

    Work is ``m_out * nnz(H)``: the nonzeros of ``H`` are listed column by column (input neuron
    ``k``, then the samples it is active for), and each row ``Wt[k]`` is read once per column
    block for all of them.
    """
    kk, ii = np.nonzero(H.T)
    union, start = np.unique(kk, return_index=True)
    col_ptr = np.append(start, kk.size).astype(np.int64)
    vals = H[ii, kk]
    nb = (Wt.shape[1] + block - 1) // block
    counts = np.zeros(nb, dtype=np.int64)
    _sparse_forward_jit(union.astype(np.int64), col_ptr, ii.astype(np.int64), vals, Wt, Z, block, counts)
    return int(counts.sum())


@jit(parallel=True)
def _sparse_backward_jit(D, Wt, out_ptr, out_idx, in_ptr, in_idx, G, counts):
    B = D.shape[0]
    for i in prange(B):
        c = 0
        o0 = out_ptr[i]
        o1 = out_ptr[i + 1]
        for p in range(in_ptr[i], in_ptr[i + 1]):
            k = in_idx[p]
            acc = 0.0
            for q in range(o0, o1):
                j = out_idx[q]
                acc += D[i, j] * Wt[k, j]
            G[i, k] += acc
            c += o1 - o0
        counts[i] = c


def sparse_backward(D, Wt, out_ptr, out_idx, in_ptr, in_idx, G) -> int:
    """``G[i, k] += sum_{j in out(i)} D[i, j] Wt[k, j]`` for ``k in in(i)``; returns multiply-adds.

    The gradient with respect to the layer input, restricted to the active input neurons of
    each sample (the others are masked by the shifted ReLU anyway) and summing only over the
    active output neurons (``D`` is zero elsewhere).  Work ``sum_i |out(i)| |in(i)|``.
    """
    counts = np.zeros(D.shape[0], dtype=np.int64)
    _sparse_backward_jit(D, Wt, out_ptr, out_idx, in_ptr, in_idx, G, counts)
    return int(counts.sum())


@jit(parallel=True)
def _lowrank_forward_jit(H, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol, Z, counts):
    B = H.shape[0]
    for i in prange(B):
        c = 0
        for col in range(ncol):
            coef = 0.0
            for p in range(v_ptr[col], v_ptr[col + 1]):
                coef += v_val[p] * H[i, v_idx[p]]
            for p in range(u_ptr[col], u_ptr[col + 1]):
                Z[i, u_idx[p]] += coef * u_val[p]
            c += (v_ptr[col + 1] - v_ptr[col]) + (u_ptr[col + 1] - u_ptr[col])
        counts[i] = c


def lowrank_forward(H, factors, Z) -> int:
    """``Z += H @ (V U^T)`` for sparse factor columns; returns multiply-adds ``B sum_c (nnz u_c + nnz v_c)``."""
    u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol = factors
    if ncol == 0:
        return 0
    counts = np.zeros(H.shape[0], dtype=np.int64)
    _lowrank_forward_jit(H, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol, Z, counts)
    return int(counts.sum())


@jit(parallel=True)
def _lowrank_backward_jit(D, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol, G, counts):
    B = D.shape[0]
    for i in prange(B):
        c = 0
        for col in range(ncol):
            coef = 0.0
            for p in range(u_ptr[col], u_ptr[col + 1]):
                coef += u_val[p] * D[i, u_idx[p]]
            for p in range(v_ptr[col], v_ptr[col + 1]):
                G[i, v_idx[p]] += coef * v_val[p]
            c += (v_ptr[col + 1] - v_ptr[col]) + (u_ptr[col + 1] - u_ptr[col])
        counts[i] = c


def lowrank_backward(D, factors, G) -> int:
    """``G += D @ (U V^T)`` for sparse factor columns; returns multiply-adds."""
    u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol = factors
    if ncol == 0:
        return 0
    counts = np.zeros(D.shape[0], dtype=np.int64)
    _lowrank_backward_jit(D, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol, G, counts)
    return int(counts.sum())


@jit(parallel=True)
def _densify_jit(Wt, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol, nblocks, counts):
    m_in = Wt.shape[0]
    rows = (m_in + nblocks - 1) // nblocks
    for tb in prange(nblocks):
        r0 = tb * rows
        r1 = min(m_in, r0 + rows)
        c = 0
        for col in range(ncol):
            q0 = u_ptr[col]
            q1 = u_ptr[col + 1]
            for p in range(v_ptr[col], v_ptr[col + 1]):
                k = v_idx[p]
                if k >= r0 and k < r1:
                    a = v_val[p]
                    for q in range(q0, q1):
                        Wt[k, u_idx[q]] += a * u_val[q]
                    c += q1 - q0
        counts[tb] = c


def densify(Wt, factors, *, nblocks=8) -> int:
    """``Wt += V U^T`` in place, one sparse outer product per column; returns multiply-adds ``sum_c nnz(u_c) nnz(v_c)``.

    Rows are split into ``nblocks`` disjoint blocks handled in parallel; within an entry the
    columns are added in order, so the result does not depend on the thread count.
    """
    u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol = factors
    if ncol == 0:
        return 0
    counts = np.zeros(nblocks, dtype=np.int64)
    _densify_jit(Wt, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol, nblocks, counts)
    return int(counts.sum())
