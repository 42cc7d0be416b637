"""Numba kernels for butterfly matrices (products of ``log2 n`` sparse 2x2-block factors).

Layout of the twiddles
----------------------
``tw`` has shape ``(L, n/2, 2, 2)`` with ``L = log2 n``.  Factor ``t`` has
stride ``s = 2**t``; its pair ``p`` joins indices ``i`` and ``j = i + s``
where the ``i`` with bit ``t`` clear are enumerated in increasing order:
``i = 2 s (p // s) + p % s``.  Equivalently, for every block start
``base = 0, 2s, 4s, ...`` and offset ``k = 0..s-1``: ``i = base + k`` and
``p = base/2 + k``.  The pair maps ``(x_i, x_j) -> (a x_i + b x_j, c x_i + d x_j)``
with ``[[a, b], [c, d]] = tw[t, p]``.

Tiles
-----
Rows are processed in tiles of ``T`` rows.  A tile is copied *transposed*
into a scratch buffer of shape ``(n, T)``, so that coordinate ``i`` of the
``T`` rows is one contiguous run ``buf[i, :]``.  Each pair of a factor then
updates two such runs with the same four scalars, and the innermost loop --
over the rows of the tile -- is a plain SIMD loop.  (Applying the factors to
one row at a time instead keeps the innermost loop on strided, data-dependent
indices and is 2 to 6 times slower.)  The tile is copied back transposed at
the end.  The last tile of a batch may be shorter (``m < T`` rows).

Kernels
-------
``butterfly_tiles(X, tw, order, Y, T)`` / ``butterfly_tiles_serial``
    ``Y[r] = F_{order[-1]} ... F_{order[0]} X[r]`` for every row: the factors
    ``tw[order[0]]``, then ``tw[order[1]]``, ... applied to each row of the
    C-contiguous 2-D ``X``, written to ``Y`` (may be ``X`` itself: each tile
    reads its rows before writing them).  Tiles in parallel (``prange``) in
    the first variant.
``butterfly_tiles_backward(X, H, tw, order, GX, acc, T)`` / ``..._serial``
    The fused backward pass.  With ``H`` the (conjugated, see below) output
    gradient, writes ``GX[r] = F_{order[0]}^T ... F_{order[-1]}^T H[r]`` and
    accumulates into ``acc[c]`` (shape ``(C,) + tw.shape``, zeroed by the
    caller) the twiddle gradient of the rows handled by chunk ``c``:
    ``acc[c, t, p, u, v] += sum_r h_u[r] x_v[r]`` where ``x`` is the input of
    factor ``t`` and ``h`` the gradient at its output (``u, v`` = 0 for the
    ``i`` coordinate, 1 for ``j``).  The inputs of the factors are not kept
    for the whole batch: each tile recomputes its forward pass into a scratch
    array of shape ``(L, n, T)`` and immediately runs the backward pass on it,
    so the extra memory is ``L n T`` per thread, independent of the batch.
    The batch is split into ``C`` contiguous chunks of whole tiles (one per
    thread), each with its own accumulator, reduced by the caller; results are
    deterministic for a given ``C``.

Complex numbers need no special kernel: for a real loss ``f`` and the
convention ``g = df/dRe + i df/dIm`` (PyTorch's), the gradients of ``y = a x``
are ``conj(a) g`` and ``conj(x) g``.  The caller passes ``H = conj(G)``, and
then ``conj(GX)`` and ``conj(acc)`` are the gradients -- the kernel only uses
the transposed (not conjugated) blocks, as in the real case.

The adjoint ``B^H`` needs no kernel either: it is the butterfly whose blocks
are the conjugate transposes ``[[conj a, conj c], [conj b, conj d]]``, applied
in the reverse order, so the caller passes those twiddles and ``order[::-1]``.

``X``, ``tw`` (and ``H``, ``GX``, ``acc``) must share the dtype (float32,
float64, complex64 or complex128).  The forward kernels use no ``fastmath``:
every output is the plain scalar recurrence, bit for bit, whatever the tile
size or thread count.  The backward kernels allow reassociation only
(``fastmath={"reassoc"}``), so the sums over the rows of a tile vectorise;
their inputs are checked finite by the callers.
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit, prange

__all__ = [
    "butterfly_tiles",
    "butterfly_tiles_serial",
    "butterfly_tiles_backward",
    "butterfly_tiles_backward_serial",
]


# -- transposed tile copies ------------------------------------------------------------
@jit
def _load_tile(X, r0, m, buf):
    """``buf[k, r] = X[r0 + r, k]`` for ``r < m``."""
    n = X.shape[1]
    for r in range(m):
        row = X[r0 + r]
        for k in range(n):
            buf[k, r] = row[k]


@jit
def _store_tile(buf, r0, m, Y):
    """``Y[r0 + r, k] = buf[k, r]`` for ``r < m``."""
    n = Y.shape[1]
    for r in range(m):
        row = Y[r0 + r]
        for k in range(n):
            row[k] = buf[k, r]


# -- one factor on a tile ------------------------------------------------------------
@jit
def _factor_inplace(buf, tw, t, m):
    """Apply factor ``t`` to the first ``m`` columns of the transposed tile ``buf`` (shape ``(n, T)``)."""
    n = buf.shape[0]
    s = 1 << t
    for base in range(0, n, 2 * s):
        p0 = base >> 1
        for k in range(s):
            i = base + k
            p = p0 + k
            a = tw[t, p, 0, 0]
            b = tw[t, p, 0, 1]
            c = tw[t, p, 1, 0]
            d = tw[t, p, 1, 1]
            ri = buf[i]
            rj = buf[i + s]
            for r in range(m):
                xi = ri[r]
                xj = rj[r]
                ri[r] = a * xi + b * xj
                rj[r] = c * xi + d * xj


@jit
def _pair_index(i, t):
    """Pair number of index ``i`` (bit ``t`` clear) in factor ``t``: ``(i >> (t + 1)) << t | (i mod 2**t)``."""
    return ((i >> (t + 1)) << t) | (i & ((1 << t) - 1))


@jit
def _two_factors_inplace(buf, tw, t1, t2, m):
    """Apply factor ``t1`` and then factor ``t2`` (``t1 != t2``) in one sweep over the tile.

    The two factors only mix the four indices ``i, i + 2**lo, i + 2**hi,
    i + 2**lo + 2**hi`` (``i`` with bits ``lo`` and ``hi`` clear), so each
    quadruple is loaded once, both factors are applied in registers, and it
    is stored once: half the memory traffic of two separate sweeps, with the
    same arithmetic in the same order (results are bitwise identical).
    """
    n = buf.shape[0]
    lo = min(t1, t2)
    hi = max(t1, t2)
    sl = 1 << lo
    sh = 1 << hi
    for a in range(0, n, 2 * sh):
        for b in range(0, sh, 2 * sl):
            for c in range(sl):
                i0 = a + b + c
                i1 = i0 + sl
                i2 = i0 + sh
                i3 = i2 + sl
                # lo-factor pairs (i0, i1), (i2, i3); hi-factor pairs (i0, i2), (i1, i3)
                pl0 = _pair_index(i0, lo)
                pl1 = _pair_index(i2, lo)
                ph0 = _pair_index(i0, hi)
                ph1 = _pair_index(i1, hi)
                la0 = tw[lo, pl0, 0, 0]
                lb0 = tw[lo, pl0, 0, 1]
                lc0 = tw[lo, pl0, 1, 0]
                ld0 = tw[lo, pl0, 1, 1]
                la1 = tw[lo, pl1, 0, 0]
                lb1 = tw[lo, pl1, 0, 1]
                lc1 = tw[lo, pl1, 1, 0]
                ld1 = tw[lo, pl1, 1, 1]
                ha0 = tw[hi, ph0, 0, 0]
                hb0 = tw[hi, ph0, 0, 1]
                hc0 = tw[hi, ph0, 1, 0]
                hd0 = tw[hi, ph0, 1, 1]
                ha1 = tw[hi, ph1, 0, 0]
                hb1 = tw[hi, ph1, 0, 1]
                hc1 = tw[hi, ph1, 1, 0]
                hd1 = tw[hi, ph1, 1, 1]
                r0 = buf[i0]
                r1 = buf[i1]
                r2 = buf[i2]
                r3 = buf[i3]
                if t1 == lo:
                    for r in range(m):
                        x0 = r0[r]
                        x1 = r1[r]
                        x2 = r2[r]
                        x3 = r3[r]
                        y0 = la0 * x0 + lb0 * x1
                        y1 = lc0 * x0 + ld0 * x1
                        y2 = la1 * x2 + lb1 * x3
                        y3 = lc1 * x2 + ld1 * x3
                        r0[r] = ha0 * y0 + hb0 * y2
                        r2[r] = hc0 * y0 + hd0 * y2
                        r1[r] = ha1 * y1 + hb1 * y3
                        r3[r] = hc1 * y1 + hd1 * y3
                else:
                    for r in range(m):
                        x0 = r0[r]
                        x1 = r1[r]
                        x2 = r2[r]
                        x3 = r3[r]
                        y0 = ha0 * x0 + hb0 * x2
                        y2 = hc0 * x0 + hd0 * x2
                        y1 = ha1 * x1 + hb1 * x3
                        y3 = hc1 * x1 + hd1 * x3
                        r0[r] = la0 * y0 + lb0 * y1
                        r1[r] = lc0 * y0 + ld0 * y1
                        r2[r] = la1 * y2 + lb1 * y3
                        r3[r] = lc1 * y2 + ld1 * y3


@jit
def _factor_copy(src, dst, tw, t, m):
    """``dst = F_t src`` on the first ``m`` columns of transposed tiles (shape ``(n, T)``)."""
    n = src.shape[0]
    s = 1 << t
    for base in range(0, n, 2 * s):
        p0 = base >> 1
        for k in range(s):
            i = base + k
            p = p0 + k
            a = tw[t, p, 0, 0]
            b = tw[t, p, 0, 1]
            c = tw[t, p, 1, 0]
            d = tw[t, p, 1, 1]
            si = src[i]
            sj = src[i + s]
            di = dst[i]
            dj = dst[i + s]
            for r in range(m):
                xi = si[r]
                xj = sj[r]
                di[r] = a * xi + b * xj
                dj[r] = c * xi + d * xj


@jit(fastmath={"reassoc"})
def _factor_backward(x, h, tw, t, m, acc):
    """Backward through factor ``t`` on transposed tiles.

    ``x``: the factor's input, ``h``: the gradient at its output (overwritten
    by the gradient at its input, ``F_t^T h``); ``acc[t, p, u, v] += sum_r h_u x_v``.
    """
    n = x.shape[0]
    s = 1 << t
    for base in range(0, n, 2 * s):
        p0 = base >> 1
        for k in range(s):
            i = base + k
            p = p0 + k
            a = tw[t, p, 0, 0]
            b = tw[t, p, 0, 1]
            c = tw[t, p, 1, 0]
            d = tw[t, p, 1, 1]
            xi_ = x[i]
            xj_ = x[i + s]
            hi_ = h[i]
            hj_ = h[i + s]
            # Row 0 starts the sums: they keep the dtype of the data (``acc[...] * 0``
            # would promote float32 to float64 and stop the loop from vectorising).
            xi = xi_[0]
            xj = xj_[0]
            hi = hi_[0]
            hj = hj_[0]
            s00 = hi * xi
            s01 = hi * xj
            s10 = hj * xi
            s11 = hj * xj
            hi_[0] = a * hi + c * hj
            hj_[0] = b * hi + d * hj
            for r in range(1, m):
                xi = xi_[r]
                xj = xj_[r]
                hi = hi_[r]
                hj = hj_[r]
                s00 += hi * xi
                s01 += hi * xj
                s10 += hj * xi
                s11 += hj * xj
                hi_[r] = a * hi + c * hj
                hj_[r] = b * hi + d * hj
            acc[t, p, 0, 0] += s00
            acc[t, p, 0, 1] += s01
            acc[t, p, 1, 0] += s10
            acc[t, p, 1, 1] += s11


# -- whole tiles -------------------------------------------------------------------------
@jit
def _tile_forward(X, tw, order, Y, r0, m, buf):
    _load_tile(X, r0, m, buf)
    L = order.shape[0]
    f = 0
    while f + 1 < L:  # two factors per sweep over the tile
        _two_factors_inplace(buf, tw, order[f], order[f + 1], m)
        f += 2
    if f < L:
        _factor_inplace(buf, tw, order[f], m)
    _store_tile(buf, r0, m, Y)


@jit
def _tile_backward(X, H, tw, order, GX, r0, m, stages, hbuf, acc):
    L = order.shape[0]
    _load_tile(X, r0, m, stages[0])
    for f in range(L - 1):
        _factor_copy(stages[f], stages[f + 1], tw, order[f], m)
    _load_tile(H, r0, m, hbuf)
    for f in range(L - 1, -1, -1):
        _factor_backward(stages[f], hbuf, tw, order[f], m, acc)
    _store_tile(hbuf, r0, m, GX)


# -- drivers -----------------------------------------------------------------------------
@jit(parallel=True)
def butterfly_tiles(X, tw, order, Y, T):
    """``Y = X`` with the factors ``tw[order[0]], tw[order[1]], ...`` applied to every row (tiles in parallel)."""
    batch, n = X.shape
    n_tiles = (batch + T - 1) // T
    for b in prange(n_tiles):
        r0 = b * T
        m = min(T, batch - r0)
        buf = np.empty((n, T), dtype=X.dtype)
        _tile_forward(X, tw, order, Y, r0, m, buf)


@jit
def butterfly_tiles_serial(X, tw, order, Y, T):
    """One-thread version of :func:`butterfly_tiles`."""
    batch, n = X.shape
    buf = np.empty((n, T), dtype=X.dtype)
    for r0 in range(0, batch, T):
        m = min(T, batch - r0)
        _tile_forward(X, tw, order, Y, r0, m, buf)


@jit(parallel=True)
def butterfly_tiles_backward(X, H, tw, order, GX, acc, T):
    """Fused forward recompute and backward pass, chunks of whole tiles in parallel (see the module doc)."""
    batch, n = X.shape
    L = order.shape[0]
    C = acc.shape[0]
    n_tiles = (batch + T - 1) // T
    for c in prange(C):
        t0 = (c * n_tiles) // C
        t1 = ((c + 1) * n_tiles) // C
        stages = np.empty((L, n, T), dtype=X.dtype)
        hbuf = np.empty((n, T), dtype=X.dtype)
        for b in range(t0, t1):
            r0 = b * T
            m = min(T, batch - r0)
            _tile_backward(X, H, tw, order, GX, r0, m, stages, hbuf, acc[c])


@jit
def butterfly_tiles_backward_serial(X, H, tw, order, GX, acc, T):
    """One-thread version of :func:`butterfly_tiles_backward` (``acc`` has one chunk)."""
    batch, n = X.shape
    L = order.shape[0]
    stages = np.empty((L, n, T), dtype=X.dtype)
    hbuf = np.empty((n, T), dtype=X.dtype)
    for r0 in range(0, batch, T):
        m = min(T, batch - r0)
        _tile_backward(X, H, tw, order, GX, r0, m, stages, hbuf, acc[0])
