"""Plain-NumPy references of the GBLR kernels (for tests)."""
from __future__ import annotations

import numpy as np


def interval_indices(n: int, start: int, length: int) -> np.ndarray:
    return (int(start) + np.arange(int(length))) % int(n)


def gblr_dense_reference(U, V, s_out, len_out, s_in, len_in) -> np.ndarray:
    """``W = sum_k (m_out_k * U[k]) (m_in_k * V[k])^T`` built entry by entry from index sets."""
    K, n_out = U.shape
    n_in = V.shape[1]
    W = np.zeros((n_out, n_in), dtype=np.result_type(U, V))
    for k in range(K):
        I = interval_indices(n_out, s_out[k], len_out[k])
        J = interval_indices(n_in, s_in[k], len_in[k])
        W[np.ix_(I, J)] += np.outer(U[k, I], V[k, J])
    return W


def gblr_rows_reference(U, V, s_out, len_out, s_in, len_in, X) -> np.ndarray:
    return X @ gblr_dense_reference(U, V, s_out, len_out, s_in, len_in).T
