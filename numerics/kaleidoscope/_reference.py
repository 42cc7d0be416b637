"""Plain-NumPy references for kaleidoscope matrices (test oracles).

* :func:`kaleidoscope_dense_reference` multiplies the explicit dense butterfly
  factors (from :mod:`numerics.butterfly._reference`) in application order and
  takes the top-left ``n x n`` corner.
* :func:`benes_route_reference` routes a permutation by the same recursion as the
  Numba kernel, written recursively on explicit sub-permutations.
"""
from __future__ import annotations

import numpy as np

from numerics.butterfly._reference import butterfly_dense_reference

__all__ = ["kaleidoscope_dense_reference", "benes_route_reference"]


def kaleidoscope_dense_reference(tw: np.ndarray, n: int) -> np.ndarray:
    """``[I_n 0] (B_{w-1} B*_{w-1}) ... (B_0 B*_0) [I_n; 0]`` from twiddles of shape ``(w, 2, L, N/2, 2, 2)``."""
    N = 2 * tw.shape[3]
    M = np.eye(N, dtype=tw.dtype)
    for k in range(tw.shape[0]):
        M = butterfly_dense_reference(tw[k, 0], increasing=False) @ M
        M = butterfly_dense_reference(tw[k, 1], increasing=True) @ M
    return M[:n, :n]


def benes_route_reference(p: np.ndarray):
    """Twiddles ``(tw_dec, tw_inc)`` with ``B_inc B*_dec x = x[p]``, by explicit recursion."""
    p = np.asarray(p, dtype=np.int64)
    N = p.size
    L = N.bit_length() - 1
    tw_dec = np.zeros((L, N // 2, 2, 2))
    tw_inc = np.zeros((L, N // 2, 2, 2))
    ident = np.array([[1.0, 0.0], [0.0, 1.0]])
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])

    def route(perm, offset):
        m = perm.size
        h = m // 2
        t = h.bit_length() - 1
        inv = np.argsort(perm)
        colour = -np.ones(m, dtype=int)
        for start in range(m):
            a = start
            while colour[a] < 0:
                colour[a] = 0
                colour[a ^ h] = 1
                a = perm[inv[a ^ h] ^ h]
        top, bot = np.empty(h, dtype=np.int64), np.empty(h, dtype=np.int64)
        for i in range(h):
            pidx = (offset // m) * h + i
            tw_dec[t, pidx] = ident if colour[i] == 0 else swap
            up, lo = perm[i], perm[i + h]
            if colour[up] == 0:
                tw_inc[t, pidx] = ident
                top[i], bot[i] = up % h, lo % h
            else:
                tw_inc[t, pidx] = swap
                top[i], bot[i] = lo % h, up % h
        if h > 1:
            route(top, offset)
            route(bot, offset + h)

    route(p, 0)
    return tw_dec, tw_inc
