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


def ls_sweep_reference(U, V, mo, mi, E):
    """NumPy reference of ``_kernels.ls_sweep`` (same in-place semantics), forming ``R_k`` explicitly."""
    for k in range(U.shape[0]):
        Rk = E + np.outer(mo[k] * U[k], mi[k] * V[k])
        x = mi[k] * V[k]
        nx = float(x @ x)
        if nx > 1e-300 and nx > 1e-6 * float(V[k] @ V[k]):
            U[k] = (Rk @ x) / nx
        y = mo[k] * U[k]
        ny = float(y @ y)
        if ny > 1e-300 and ny > 1e-6 * float(U[k] @ U[k]):
            V[k] = (Rk.T @ y) / ny
        E[...] = Rk - np.outer(mo[k] * U[k], mi[k] * V[k])
        a, b = float(np.linalg.norm(U[k])), float(np.linalg.norm(V[k]))
        if a > 0 and b > 0:
            c = np.sqrt(b / a)
            U[k] *= c
            V[k] /= c


def budget_threshold_reference(wo, wi, n_out, n_in, target):
    """The threshold of ``_kernels.budget_threshold`` by sorting: ``fl(mu)`` is piecewise linear and
    non-increasing, so find the breakpoint interval containing ``target`` and solve the linear piece."""
    w = np.concatenate([wo, wi])
    nv = np.concatenate([np.full(len(wo), float(n_out)), np.full(len(wi), float(n_in))])

    def fl(mu):
        return float(np.sum(nv * np.clip(w - mu * nv, 0, 1)))

    if fl(0.0) <= target:
        return 0.0
    bps = np.unique(np.concatenate([[0.0], (w / nv)[w > 0], ((w - 1) / nv)[w > 1]]))
    bps = bps[bps >= 0]
    for a, b in zip(bps[:-1], bps[1:]):
        if fl(b) <= target:
            fa, fb = fl(a), fl(b)
            return a + (fa - target) / (fa - fb) * (b - a)
    return float(bps[-1])
