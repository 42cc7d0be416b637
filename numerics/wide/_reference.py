"""Plain-NumPy versions of the kernels in :mod:`numerics.wide._kernels` (for tests)."""
from __future__ import annotations

import numpy as np


def factors_dense(factors, m_out, m_in, dtype=np.float64):
    """Dense ``U`` (m_out x r) and ``V`` (m_in x r) from the packed sparse columns."""
    u_ptr, u_idx, u_val, v_ptr, v_idx, v_val, ncol = factors
    U = np.zeros((m_out, ncol), dtype=dtype)
    V = np.zeros((m_in, ncol), dtype=dtype)
    for c in range(ncol):
        U[u_idx[u_ptr[c]:u_ptr[c + 1]], c] = u_val[u_ptr[c]:u_ptr[c + 1]]
        V[v_idx[v_ptr[c]:v_ptr[c + 1]], c] = v_val[v_ptr[c]:v_ptr[c + 1]]
    return U, V


def sparse_forward_ref(H, Wt):
    return H @ Wt, int(Wt.shape[1] * np.count_nonzero(H))


def sparse_backward_ref(D, Wt, in_mask):
    """``(D @ Wt.T) * in_mask`` and the count ``sum_i |out(i)| |in(i)|`` with out(i) = nonzeros of D."""
    counts = int(np.sum(np.count_nonzero(D, axis=1) * np.count_nonzero(in_mask, axis=1)))
    return (D @ Wt.T) * in_mask, counts


def lowrank_forward_ref(H, U, V):
    return H @ V @ U.T


def lowrank_backward_ref(D, U, V):
    return D @ U @ V.T


def densify_ref(Wt, U, V):
    return Wt + V @ U.T
