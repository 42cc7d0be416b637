"""Numba kernel for kaleidoscope constructions: Benes routing of a permutation into ``BB*``.

``benes_route(p, tw_dec, tw_inc)`` fills the twiddles of two butterflies of
size ``N = 2**L`` (layout as in :mod:`numerics.butterfly`: ``tw[t, pair]`` is the
2x2 block of the stride-``2**t`` factor) with 0/1 "switch" blocks so that
applying the decreasing-stride butterfly (strides ``N/2, ..., 1``) and then the
increasing-stride one (strides ``1, ..., N/2``) maps ``x`` to ``x[p]``.

Level ``h`` (``h = N/2, N/4, ..., 1``) handles independent aligned blocks of size
``2h``, each with a local permutation ``cur[b + j]`` (the local input position of
the element that must leave the block's sub-network at local output ``j``).  The
stride-``h`` decreasing factor decides, per input pair ``(i, i + h)``, which of
the two elements enters the upper half-block; the stride-``h`` increasing factor
decides, per output pair ``(j, j + h)``, which half delivers output ``j``.  Both
partners of an input pair, and both elements bound for an output pair, must take
different halves: a 2-colouring of the union of two perfect matchings, found by
walking its (even) cycles.  The two half-blocks then carry the induced local
permutations down to level ``h/2``.  ``O(N log N)`` work.
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit

__all__ = ["benes_route"]


@jit
def benes_route(p, tw_dec, tw_inc):
    """Write switch blocks into ``tw_dec`` and ``tw_inc`` (shape ``(L, N/2, 2, 2)``, zeroed by the caller)."""
    N = p.shape[0]
    L = tw_dec.shape[0]
    cur = p.copy()
    nxt = np.empty(N, dtype=np.int64)
    inv = np.empty(N, dtype=np.int64)
    col = np.empty(N, dtype=np.int64)
    h = N // 2
    t = L - 1
    while h >= 1:
        for b in range(0, N, 2 * h):
            for j in range(2 * h):
                inv[b + cur[b + j]] = j
            for a in range(2 * h):
                col[b + a] = -1
            for a0 in range(2 * h):
                a = a0
                while col[b + a] < 0:
                    col[b + a] = 0
                    pa = a ^ h
                    col[b + pa] = 1
                    a = cur[b + (inv[b + pa] ^ h)]
            base_pair = (b // (2 * h)) * h
            for i in range(h):
                pidx = base_pair + i
                if col[b + i] == 0:
                    tw_dec[t, pidx, 0, 0] = 1
                    tw_dec[t, pidx, 1, 1] = 1
                else:
                    tw_dec[t, pidx, 0, 1] = 1
                    tw_dec[t, pidx, 1, 0] = 1
                e_top = cur[b + i]
                e_bot = cur[b + i + h]
                if col[b + e_top] == 0:
                    tw_inc[t, pidx, 0, 0] = 1
                    tw_inc[t, pidx, 1, 1] = 1
                    nxt[b + i] = e_top & (h - 1)
                    nxt[b + h + i] = e_bot & (h - 1)
                else:
                    tw_inc[t, pidx, 0, 1] = 1
                    tw_inc[t, pidx, 1, 0] = 1
                    nxt[b + i] = e_bot & (h - 1)
                    nxt[b + h + i] = e_top & (h - 1)
        tmp = cur
        cur = nxt
        nxt = tmp
        h //= 2
        t -= 1
