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
``butterfly_tiles_backward(X, H, twb, ob, twr, orr, block_first, GX, accb, accr, T)`` / ``..._serial``
    The fused backward pass.  With ``H`` the (conjugated, see below) output
    gradient, writes ``GX[r] = F_{order[0]}^T ... F_{order[-1]}^T H[r]`` and
    accumulates the twiddle gradient ``sum_r h_u[r] x_v[r]`` (``x`` the input
    of factor ``t``, ``h`` the gradient at its output, ``u, v`` = 0 for the
    ``i`` coordinate, 1 for ``j``) of the rows handled by chunk ``c`` into
    ``accb[c]`` and ``accr[c]`` (zeroed by the caller; layout below).  The
    batch is split into ``C`` contiguous chunks of whole tiles (one per thread),
    reduced by the caller; results are deterministic for a given ``C`` and ``T``.

Split backward
--------------
The factor inputs are never kept for the whole batch: each tile recomputes
its forward pass and immediately runs the backward pass on it.  Each pair of
factors ends in four reductions over the tile's rows per 2x2 block, so the
backward tile is long (1 KiB of each coordinate) and is not swept whole by
every factor.  With ``g1 = 2**k``, ``g2 = n / g1``:

* the factors of stride ``< g1`` ("block factors") only mix coordinates within
  a block ``b`` of ``g1`` consecutive coordinates: factor ``t``'s pair
  ``b g1/2 + p`` is pair ``p`` of block ``b`` (``twb[b, t, p]``,
  ``ob`` their order);
* the factors of stride ``>= g1`` ("group factors") only mix the coordinates
  ``c, c + g1, c + 2 g1, ...`` of group ``c``: factor ``k + u``'s pair
  ``p g1 + c`` is pair ``p`` of group ``c``'s butterfly of size ``g2``
  (``twr[c, u, p]``, ``orr`` their order).

A tile is worked on one block or one group at a time (small enough for L1/L2),
in the forward order (``block_first``: block factors first, for increasing
strides) forward, then in reverse for the gradients; the groups live in
``(g1, g2, T)`` buffers ``Z`` (inputs), ``HZ`` (gradients) and, when the
groups come first, ``XZ`` (the tile's input regrouped).  Within a block or
group, factors are handled in pairs; only the input of each pair is stored,
its middle is recomputed in registers.  ``k = log2 n`` is the unsplit case
(one block, the whole tile).  Extra memory per thread: about ``3 n T`` for
the groups plus ``(g1 + g2) T log2 n / 2`` for the stages.

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
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from numerics._jit import jit, prange

__all__ = [
    "butterfly_tiles",
    "butterfly_tiles_serial",
    "butterfly_tiles_backward",
    "butterfly_tiles_backward_serial",
]


# -- transposed tile copies ------------------------------------------------------------
@intrinsic
def _transpose_block(typingctx, src, src_start, src_stride, dst, dst_start, dst_stride):
    """``dst[dst_start + j dst_stride + i] = src[src_start + i src_stride + j]`` for ``i, j < V``.

    ``V = 64 // itemsize`` (a 64-byte vector per row: 16 float32, 8 float64
    or complex64, 4 complex128).  ``src`` and ``dst`` are C-contiguous arrays
    of one dtype, addressed by flat element offsets (int64).  The block is
    moved as ``V`` vector loads, ``V log2 V`` two-source lane shuffles and
    ``V`` vector stores: stage ``s = V/2, ..., 1`` exchanges bit ``s`` of the
    row index with bit ``s`` of the lane index, and after every stage each
    element ``(i, j)`` sits at ``(j, i)``.  Elements are moved as integers of
    their size, so the copy is exact for every dtype.  (A scalar element loop
    for the same copy is three times slower: it was two thirds of the time of
    a forward pass at n = 4096.)
    """
    sig = types.void(src, src_start, src_stride, dst, dst_start, dst_stride)

    def codegen(context, builder, signature, args):
        sarr, s0, ss, darr, d0, ds = args
        sa = context.make_array(signature.args[0])(context, builder, sarr)
        da = context.make_array(signature.args[3])(context, builder, darr)
        itemsize = context.get_abi_sizeof(context.get_data_type(signature.args[0].dtype))
        V = 64 // itemsize
        ity = ir.IntType(8 * itemsize)
        vty = ir.VectorType(ity, V)
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        sp = builder.bitcast(sa.data, ity.as_pointer())
        dp = builder.bitcast(da.data, ity.as_pointer())
        rows = []
        for i in range(V):
            off = builder.add(s0, builder.mul(ss, ir.Constant(i64, i)))
            rows.append(builder.load(builder.bitcast(builder.gep(sp, [off]), vty.as_pointer()), align=itemsize))
        s = V // 2
        while s >= 1:
            keep = ir.Constant(ir.VectorType(i32, V), [(V + lane - s) if lane & s else lane for lane in range(V)])
            take = ir.Constant(ir.VectorType(i32, V), [(V + lane) if lane & s else lane + s for lane in range(V)])
            for i in range(V):
                if not i & s:
                    a, b = rows[i], rows[i + s]
                    rows[i] = builder.shuffle_vector(a, b, keep)
                    rows[i + s] = builder.shuffle_vector(a, b, take)
            s //= 2
        for i in range(V):
            off = builder.add(d0, builder.mul(ds, ir.Constant(i64, i)))
            builder.store(rows[i], builder.bitcast(builder.gep(dp, [off]), vty.as_pointer()), align=itemsize)
        return context.get_dummy_value()

    return sig, codegen


@jit
def _load_tile(X, r0, m, b, buf):
    """``buf[j, r] = X[r0 + r, b g + j]`` for ``r < m``, ``j < g = buf.shape[0]`` (column block ``b``).

    Vector block transposes (:func:`_transpose_block`), scalar copies for the
    last ``m mod V`` rows and for blocks narrower than ``V``.
    """
    n = X.shape[1]
    g = buf.shape[0]
    T = buf.shape[1]
    off = b * g
    V = 64 // X.itemsize
    mv = m - m % V if g >= V else 0
    for rb in range(0, mv, V):
        for k0 in range(0, g, V):
            _transpose_block(X, (r0 + rb) * n + off + k0, n, buf, k0 * T + rb, T)
    for r in range(mv, m):
        row = X[r0 + r]
        for j in range(g):
            buf[j, r] = row[off + j]


@jit
def _store_tile(buf, r0, m, b, Y):
    """``Y[r0 + r, b g + j] = buf[j, r]`` (as :func:`_load_tile`, the other way)."""
    n = Y.shape[1]
    g = buf.shape[0]
    T = buf.shape[1]
    off = b * g
    V = 64 // Y.itemsize
    mv = m - m % V if g >= V else 0
    for rb in range(0, mv, V):
        for k0 in range(0, g, V):
            _transpose_block(buf, k0 * T + rb, T, Y, (r0 + rb) * n + off + k0, n)
    for r in range(mv, m):
        row = Y[r0 + r]
        for j in range(g):
            row[off + j] = buf[j, r]


@jit
def _block_to_groups(blk, b, m, Z):
    """``Z[j, b, :m] = blk[j, :m]``: coordinate ``j`` of block ``b`` into group ``j`` (see :func:`_tile_backward`)."""
    for j in range(blk.shape[0]):
        z = Z[j, b]
        x = blk[j]
        for r in range(m):
            z[r] = x[r]


@jit
def _groups_to_block(Z, b, m, blk):
    """``blk[j, :m] = Z[j, b, :m]`` (the inverse of :func:`_block_to_groups`)."""
    for j in range(blk.shape[0]):
        z = Z[j, b]
        x = blk[j]
        for r in range(m):
            x[r] = z[r]


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


# -- sequences of factors on one transposed tile ----------------------------------------
@jit
def _factors_inplace(buf, tw, order, m):
    """Apply the factors ``tw[order[0]], tw[order[1]], ...`` to the first ``m`` columns of ``buf``, two per sweep."""
    L = order.shape[0]
    f = 0
    while f + 1 < L:
        _two_factors_inplace(buf, tw, order[f], order[f + 1], m)
        f += 2
    if f < L:
        _factor_inplace(buf, tw, order[f], m)


@jit
def _factors_backward(x0, stages, h, tw, order, m, acc):
    """Backward through the factors of ``order`` (applied in that order) on transposed tiles.

    ``x0``: their input (kept); ``h``: the gradient at their output,
    overwritten by the gradient at ``x0``; ``acc[t, p, u, v] += sum_r g_u in_v``.
    Factors are taken in pairs ``(2j, 2j + 1)``: the input of pair ``j > 0``
    is recomputed into ``stages[j - 1]``, the middle of each pair is
    recomputed in registers.
    """
    L = order.shape[0]
    J = (L + 1) // 2
    prev = x0
    for j in range(J - 1):
        _two_factors_copy(prev, stages[j], tw, order[2 * j], order[2 * j + 1], m)
        prev = stages[j]
    if L % 2 == 1:
        _factor_backward(prev, h, tw, order[L - 1], m, acc)
    for j in range(L // 2 - 1, -1, -1):
        _two_factors_backward(x0 if j == 0 else stages[j - 1], h, tw, order[2 * j], order[2 * j + 1], m, acc)


# -- whole tiles -------------------------------------------------------------------------
@jit
def _tile_forward(X, tw, order, Y, r0, m, buf):
    _load_tile(X, r0, m, 0, buf)
    _factors_inplace(buf, tw, order, m)
    _store_tile(buf, r0, m, 0, Y)


@jit
def _tile_backward(X, H, twb, ob, twr, orr, block_first, GX, r0, m, blk, hblk, Z, HZ, XZ, sb, sr, accb, accr):
    """Fused forward recompute and backward pass for rows ``r0 .. r0 + m`` (see "Split backward" in the module doc)."""
    g1 = blk.shape[0]
    g2 = X.shape[1] // g1
    if g2 == 1:  # one block: the whole tile at once
        _load_tile(X, r0, m, 0, blk)
        _load_tile(H, r0, m, 0, hblk)
        _factors_backward(blk, sb, hblk, twb[0], ob, m, accb[0])
        _store_tile(hblk, r0, m, 0, GX)
        return
    if block_first:
        for b in range(g2):  # block factors forward; inputs of the group factors and output gradients to Z, HZ
            _load_tile(X, r0, m, b, blk)
            _factors_inplace(blk, twb[b], ob, m)
            _block_to_groups(blk, b, m, Z)
            _load_tile(H, r0, m, b, hblk)
            _block_to_groups(hblk, b, m, HZ)
        for c in range(g1):
            _factors_backward(Z[c], sr, HZ[c], twr[c], orr, m, accr[c])
        for b in range(g2):
            _load_tile(X, r0, m, b, blk)
            _groups_to_block(HZ, b, m, hblk)
            _factors_backward(blk, sb, hblk, twb[b], ob, m, accb[b])
            _store_tile(hblk, r0, m, b, GX)
    else:
        for b in range(g2):  # the input, regrouped, to XZ
            _load_tile(X, r0, m, b, blk)
            _block_to_groups(blk, b, m, XZ)
        for c in range(g1):  # group factors forward: the input of the block factors, Z
            z = Z[c]
            x = XZ[c]
            for q in range(g2):
                zq = z[q]
                xq = x[q]
                for r in range(m):
                    zq[r] = xq[r]
            _factors_inplace(z, twr[c], orr, m)
        for b in range(g2):
            _groups_to_block(Z, b, m, blk)
            _load_tile(H, r0, m, b, hblk)
            _factors_backward(blk, sb, hblk, twb[b], ob, m, accb[b])
            _block_to_groups(hblk, b, m, HZ)
        for c in range(g1):
            _factors_backward(XZ[c], sr, HZ[c], twr[c], orr, m, accr[c])
        for b in range(g2):
            _groups_to_block(HZ, b, m, hblk)
            _store_tile(hblk, r0, m, b, GX)


# -- drivers -----------------------------------------------------------------------------
# Scratch arrays come from the caller (reused across calls: fresh pages for a
# multi-megabyte buffer cost about 0.35 ms per MiB in page faults, a quarter
# of a forward pass at n = 8192).  The batch is split into C = bufs.shape[0]
# contiguous chunks of whole tiles, one per thread.
@jit(parallel=True)
def butterfly_tiles(X, tw, order, Y, bufs):
    """``Y = X`` with the factors ``tw[order[0]], tw[order[1]], ...`` applied to every row.

    ``bufs``: scratch of shape ``(C, n, T)``; chunk ``c`` of the tiles runs on ``bufs[c]`` (chunks in parallel).
    """
    batch = X.shape[0]
    C, _, T = bufs.shape
    n_tiles = (batch + T - 1) // T
    for c in prange(C):
        for b in range((c * n_tiles) // C, ((c + 1) * n_tiles) // C):
            r0 = b * T
            _tile_forward(X, tw, order, Y, r0, min(T, batch - r0), bufs[c])


@jit
def butterfly_tiles_serial(X, tw, order, Y, buf):
    """One-thread version of :func:`butterfly_tiles` (``buf``: one ``(n, T)`` scratch tile)."""
    batch = X.shape[0]
    T = buf.shape[1]
    for r0 in range(0, batch, T):
        _tile_forward(X, tw, order, Y, r0, min(T, batch - r0), buf)


@jit
def _chunk_backward(X, H, twb, ob, twr, orr, block_first, GX, accb, accr, t0, t1, blk, hblk, Z, HZ, XZ, sb, sr):
    """Tiles ``t0 .. t1 - 1`` of the batch, with one chunk's scratch and accumulators."""
    batch = X.shape[0]
    T = blk.shape[1]
    for b in range(t0, t1):
        r0 = b * T
        m = min(T, batch - r0)
        _tile_backward(X, H, twb, ob, twr, orr, block_first, GX, r0, m, blk, hblk, Z, HZ, XZ, sb, sr, accb, accr)


@jit(parallel=True)
def butterfly_tiles_backward(X, H, twb, ob, twr, orr, block_first, GX, accb, accr, blk, hblk, Z, HZ, XZ, sb, sr):
    """Fused forward recompute and backward pass, chunks of whole tiles in parallel (see the module doc).

    Every scratch array (``blk``, ``hblk``: ``(C, g1, T)``; ``Z``, ``HZ``, ``XZ``:
    ``(C, g1, g2, T)`` or empty where unused; ``sb``: ``(C, *, g1, T)``, ``sr``:
    ``(C, *, g2, T)`` for the stages) has one slice per chunk, like ``accb``, ``accr``.
    """
    C = accb.shape[0]
    n_tiles = (X.shape[0] + blk.shape[2] - 1) // blk.shape[2]
    for c in prange(C):
        _chunk_backward(X, H, twb, ob, twr, orr, block_first, GX, accb[c], accr[c],
                        (c * n_tiles) // C, ((c + 1) * n_tiles) // C,
                        blk[c], hblk[c], Z[c], HZ[c], XZ[c], sb[c], sr[c])


@jit
def butterfly_tiles_backward_serial(X, H, twb, ob, twr, orr, block_first, GX, accb, accr, blk, hblk, Z, HZ, XZ, sb, sr):
    """One-thread version of :func:`butterfly_tiles_backward` (every array has one chunk)."""
    n_tiles = (X.shape[0] + blk.shape[2] - 1) // blk.shape[2]
    _chunk_backward(X, H, twb, ob, twr, orr, block_first, GX, accb[0], accr[0], 0, n_tiles,
                    blk[0], hblk[0], Z[0], HZ[0], XZ[0], sb[0], sr[0])
