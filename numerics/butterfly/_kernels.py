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
    array of shape ``(ceil(L/2), n, T)`` (factors are taken in pairs; only the
    input of each pair is stored, the middle is recomputed in registers) and
    immediately runs the backward pass on it, so the extra memory is about
    ``L n T / 2`` per thread, independent of the batch.
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


@jit
def _two_factors_copy(src, dst, tw, t1, t2, m):
    """``dst = F_t2 F_t1 src`` on the first ``m`` columns of transposed tiles, one sweep (see :func:`_two_factors_inplace`)."""
    n = src.shape[0]
    for k in range(n):
        d = dst[k]
        s_ = src[k]
        for r in range(m):
            d[r] = s_[r]
    _two_factors_inplace(dst, tw, t1, t2, m)


@jit(fastmath={"reassoc"})
def _two_factors_backward(x, h, tw, t1, t2, m, acc):
    """Backward through factor ``t1`` then ``t2`` (applied in that order) in one sweep.

    ``x``: the input of factor ``t1``; the input of ``t2`` is recomputed in
    registers, so it is never stored.  ``h``: the gradient at the output of
    ``t2``, overwritten by the gradient at the input of ``t1``.  Twiddle
    gradients ``acc[t, p, u, v] += sum_r g_u in_v`` as in :func:`_factor_backward`.
    """
    n = x.shape[0]
    lo = min(t1, t2)
    hi = max(t1, t2)
    sl = 1 << lo
    sh = 1 << hi
    lo_first = t1 == lo
    for a in range(0, n, 2 * sh):
        for b in range(0, sh, 2 * sl):
            for c in range(sl):
                i0 = a + b + c
                i1 = i0 + sl
                i2 = i0 + sh
                i3 = i2 + sl
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
                x0_ = x[i0]
                x1_ = x[i1]
                x2_ = x[i2]
                x3_ = x[i3]
                h0_ = h[i0]
                h1_ = h[i1]
                h2_ = h[i2]
                h3_ = h[i3]
                # Zero of the data's dtype (a literal 0 would promote float32 sums to float64).
                z = acc[lo, pl0, 0, 0] - acc[lo, pl0, 0, 0]
                l00 = z
                l01 = z
                l10 = z
                l11 = z
                m00 = z
                m01 = z
                m10 = z
                m11 = z
                g00 = z
                g01 = z
                g10 = z
                g11 = z
                k00 = z
                k01 = z
                k10 = z
                k11 = z
                if lo_first:
                    for r in range(m):
                        x0 = x0_[r]
                        x1 = x1_[r]
                        x2 = x2_[r]
                        x3 = x3_[r]
                        y0 = la0 * x0 + lb0 * x1
                        y1 = lc0 * x0 + ld0 * x1
                        y2 = la1 * x2 + lb1 * x3
                        y3 = lc1 * x2 + ld1 * x3
                        e0 = h0_[r]
                        e1 = h1_[r]
                        e2 = h2_[r]
                        e3 = h3_[r]
                        # hi factor (second): pairs (0, 2) and (1, 3) of y
                        g00 += e0 * y0
                        g01 += e0 * y2
                        g10 += e2 * y0
                        g11 += e2 * y2
                        k00 += e1 * y1
                        k01 += e1 * y3
                        k10 += e3 * y1
                        k11 += e3 * y3
                        f0 = ha0 * e0 + hc0 * e2
                        f2 = hb0 * e0 + hd0 * e2
                        f1 = ha1 * e1 + hc1 * e3
                        f3 = hb1 * e1 + hd1 * e3
                        # lo factor (first): pairs (0, 1) and (2, 3) of x
                        l00 += f0 * x0
                        l01 += f0 * x1
                        l10 += f1 * x0
                        l11 += f1 * x1
                        m00 += f2 * x2
                        m01 += f2 * x3
                        m10 += f3 * x2
                        m11 += f3 * x3
                        h0_[r] = la0 * f0 + lc0 * f1
                        h1_[r] = lb0 * f0 + ld0 * f1
                        h2_[r] = la1 * f2 + lc1 * f3
                        h3_[r] = lb1 * f2 + ld1 * f3
                else:
                    for r in range(m):
                        x0 = x0_[r]
                        x1 = x1_[r]
                        x2 = x2_[r]
                        x3 = x3_[r]
                        y0 = ha0 * x0 + hb0 * x2
                        y2 = hc0 * x0 + hd0 * x2
                        y1 = ha1 * x1 + hb1 * x3
                        y3 = hc1 * x1 + hd1 * x3
                        e0 = h0_[r]
                        e1 = h1_[r]
                        e2 = h2_[r]
                        e3 = h3_[r]
                        # lo factor (second): pairs (0, 1) and (2, 3) of y
                        l00 += e0 * y0
                        l01 += e0 * y1
                        l10 += e1 * y0
                        l11 += e1 * y1
                        m00 += e2 * y2
                        m01 += e2 * y3
                        m10 += e3 * y2
                        m11 += e3 * y3
                        f0 = la0 * e0 + lc0 * e1
                        f1 = lb0 * e0 + ld0 * e1
                        f2 = la1 * e2 + lc1 * e3
                        f3 = lb1 * e2 + ld1 * e3
                        # hi factor (first): pairs (0, 2) and (1, 3) of x
                        g00 += f0 * x0
                        g01 += f0 * x2
                        g10 += f2 * x0
                        g11 += f2 * x2
                        k00 += f1 * x1
                        k01 += f1 * x3
                        k10 += f3 * x1
                        k11 += f3 * x3
                        h0_[r] = ha0 * f0 + hc0 * f2
                        h2_[r] = hb0 * f0 + hd0 * f2
                        h1_[r] = ha1 * f1 + hc1 * f3
                        h3_[r] = hb1 * f1 + hd1 * f3
                acc[lo, pl0, 0, 0] += l00
                acc[lo, pl0, 0, 1] += l01
                acc[lo, pl0, 1, 0] += l10
                acc[lo, pl0, 1, 1] += l11
                acc[lo, pl1, 0, 0] += m00
                acc[lo, pl1, 0, 1] += m01
                acc[lo, pl1, 1, 0] += m10
                acc[lo, pl1, 1, 1] += m11
                acc[hi, ph0, 0, 0] += g00
                acc[hi, ph0, 0, 1] += g01
                acc[hi, ph0, 1, 0] += g10
                acc[hi, ph0, 1, 1] += g11
                acc[hi, ph1, 0, 0] += k00
                acc[hi, ph1, 0, 1] += k01
                acc[hi, ph1, 1, 0] += k10
                acc[hi, ph1, 1, 1] += k11


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
    # Factors are handled in pairs (2j, 2j + 1): only the input of each pair is
    # stored (stages[j]); the pair's middle is recomputed in registers.
    L = order.shape[0]
    J = (L + 1) // 2
    _load_tile(X, r0, m, stages[0])
    for j in range(J - 1):
        _two_factors_copy(stages[j], stages[j + 1], tw, order[2 * j], order[2 * j + 1], m)
    _load_tile(H, r0, m, hbuf)
    if L % 2 == 1:
        _factor_backward(stages[J - 1], hbuf, tw, order[L - 1], m, acc)
    for j in range(L // 2 - 1, -1, -1):
        _two_factors_backward(stages[j], hbuf, tw, order[2 * j], order[2 * j + 1], m, acc)
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
        stages = np.empty(((L + 1) // 2, n, T), dtype=X.dtype)
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
    stages = np.empty(((L + 1) // 2, n, T), dtype=X.dtype)
    hbuf = np.empty((n, T), dtype=X.dtype)
    for r0 in range(0, batch, T):
        m = min(T, batch - r0)
        _tile_backward(X, H, tw, order, GX, r0, m, stages, hbuf, acc[0])
