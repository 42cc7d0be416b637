"""Baselines at a FLOP budget (multiplications per matrix-vector product): truncated SVD, block-sparse
with the best blocks, Monarch.

* :func:`tsvd_at_flops`: rank ``r = floor(F / (n_out + n_in))`` (cost ``r (n_out + n_in)``).
* :func:`block_sparse_at_flops`: the matrix cut into a grid of ``s_out x s_in`` blocks (``s`` dividing
  ``n``); the ``floor(F / (s_out s_in))`` blocks of largest energy are kept dense (cost ``s_out s_in`` each);
  best over the grid sizes tried.
* :func:`monarch_at_flops`: Monarch matrices ``M[(i, k), (j1, j2)] = L_k[i, j1] R_j1[k, j2]`` (Dao et al.
  2022): for ``n = p q`` the Frobenius projection takes the best rank-``r`` approximation of every
  ``p x q`` slice ``T[:, k, j1, :]`` of the reshaped matrix; cost ``r n (p + q)``.  Uses
  ``numerics.factorize.monarch.monarch_project`` when that module exists (``r = 1``), else the private
  projection :func:`_monarch_projection_minimal` here.  Best over factorisations ``n = p q`` and ranks
  ``r`` that fit the budget.
"""
from __future__ import annotations

import importlib.util

import numpy as np

from numerics._validation import check_array, check_int

__all__ = ["tsvd_at_flops", "block_sparse_at_flops", "monarch_at_flops", "BASELINES"]


def _rel(A, B) -> float:
    return float(np.linalg.norm(A - B) / np.linalg.norm(A))


def tsvd_at_flops(A, flops):
    """Best rank-``r`` approximation with ``r (n_out + n_in) <= flops``; returns ``(matrix, flops_used)``."""
    A = check_array("A", A, ndim=2).astype(np.float64)
    flops = check_int("flops", flops, minimum=0)
    n_out, n_in = A.shape
    r = min(flops // (n_out + n_in), min(A.shape))
    if r == 0:
        return np.zeros_like(A), 0
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return (U[:, :r] * s[:r]) @ Vt[:r], r * (n_out + n_in)


def _divisors(n: int, lo: int = 2):
    return [d for d in range(lo, n) if n % d == 0]


def block_sparse_at_flops(A, flops, *, min_block: int = 2):
    """Best block-sparse approximation over square-grid block sizes ``s >= min_block`` dividing both sides."""
    A = check_array("A", A, ndim=2).astype(np.float64)
    flops = check_int("flops", flops, minimum=0)
    n_out, n_in = A.shape
    best = (np.zeros_like(A), 0, np.inf)
    for so in _divisors(n_out, min_block):
        for si in _divisors(n_in, min_block):
            if so != si and n_out == n_in:
                continue
            nb = flops // (so * si)
            if nb == 0:
                continue
            E = (A * A).reshape(n_out // so, so, n_in // si, si).sum(axis=(1, 3))
            keep = np.argsort(E.ravel())[::-1][:nb]
            mask = np.zeros(E.size, bool)
            mask[keep] = True
            mask = np.repeat(np.repeat(mask.reshape(E.shape), so, axis=0), si, axis=1)
            B = A * mask
            err = _rel(A, B)
            if err < best[2]:
                best = (B, int(min(nb, E.size)) * so * si, err)
    return best[0], best[1]


def _monarch_projection_minimal(A, p: int, r: int = 1):
    """Private minimal Monarch projection (``n = p q``, rank-``r`` slices); to be unified with
    ``numerics.factorize.monarch``.  Returns ``(matrix, flops)``."""
    n = A.shape[0]
    q = n // p
    T = A.reshape(p, q, p, q)  # T[i, k, j1, j2] = A[i q + k, j1 q + j2]
    S = T.transpose(1, 2, 0, 3)  # (k, j1, i, j2): p x q slices
    U, s, Vt = np.linalg.svd(S, full_matrices=False)
    rr = min(r, s.shape[-1])
    Sr = np.einsum("abir,abr,abrj->abij", U[..., :rr], s[..., :rr], Vt[..., :rr, :])
    M = Sr.transpose(2, 0, 1, 3).reshape(n, n)
    return M, rr * n * (p + q)


def _external_monarch():
    try:
        if importlib.util.find_spec("numerics.factorize.monarch") is None:
            return None
    except ModuleNotFoundError:
        return None
    mod = importlib.import_module("numerics.factorize.monarch")
    return getattr(mod, "monarch_project", None)


def monarch_at_flops(A, flops, *, max_rank: int = 64):
    """Best Monarch approximation (square ``A``) with cost ``<= flops``; ``(matrix, flops_used, source)``."""
    A = check_array("A", A, ndim=2).astype(np.float64)
    flops = check_int("flops", flops, minimum=0)
    n_out, n_in = A.shape
    if n_out != n_in:
        raise ValueError(f"Monarch baseline needs a square matrix, got A.shape={A.shape}")
    n = n_out
    ext = _external_monarch()
    best = (np.zeros_like(A), 0, np.inf, "none")
    for p in _divisors(n):
        q = n // p
        for r in range(1, max_rank + 1):
            if r * n * (p + q) > flops:
                break
            if r == 1 and ext is not None:
                try:
                    M = ext(A, p)
                    B, fl, src = np.asarray(M.todense(), dtype=np.float64), int(M.flops_per_vector), "factorize.monarch"
                except Exception:  # noqa: BLE001 - fall back to the private projection
                    B, fl = _monarch_projection_minimal(A, p, r)
                    src = "private"
                if fl > flops:
                    continue
            else:
                B, fl = _monarch_projection_minimal(A, p, r)
                src = "private"
            err = _rel(A, B)
            if err < best[2]:
                best = (B, fl, err, src)
    return best[0], best[1], best[3]


BASELINES = ("tsvd", "block-sparse", "monarch")
