"""Numba kernels for the fast Walsh-Hadamard transform (Sylvester order).

Public to other kernels
-----------------------
``fwht_row_inplace(x)``
    Unnormalised in-place transform of one 1-D float32/float64 array whose
    length is a power of two.  A plain ``@jit`` function: other Numba kernels
    (the JL operators) call it on rows of their own buffers.  Contiguous rows
    (any Numba layout whose stride equals the item size) take the vectorised
    path; strided rows fall back to a scalar loop.
``fwht_strided_inplace_serial(x, scale)``
    In-place transform along axis 1 of a C-contiguous ``(outer, n, inner)``
    array (``fwht_strided_inplace`` is its parallel twin).

How the fast path works
-----------------------
The transform is ``log2 n`` butterfly *stages*; stage ``h`` combines
``x[j]`` and ``x[j + h]`` for every ``j`` whose bit ``h`` is 0.  The stages
commute, so they may be grouped freely.  Memory traffic, not arithmetic,
bounds a stage on this hardware, so the kernel does as many stages as it can
per pass over memory:

* one SIMD vector holds ``W`` elements (``W = 64 bytes / itemsize``: 8 doubles
  or 16 floats).  The stages with ``h < W`` mix lanes of one vector; they are
  done in registers with lane permutations (``_lane_stages``).
* the *block pass* loads ``R <= 16`` consecutive vectors, applies the optional
  scale, the in-lane stages and then the ``log2 R`` stages across the ``R``
  vectors, and stores them: ``log2(16 W)`` stages (7 in float64, 8 in float32)
  per pass, reading from a source and writing to a destination, so the copy
  of :func:`numerics.fwht` costs nothing extra.
* each further pass is a *radix-R* pass (``R`` up to 16, i.e. up to 4 stages):
  ``R`` vectors at stride ``h`` are loaded, combined in registers, stored.
* a radix-16 pass is used only while its stride spans at most 2 KiB; at
  4 KiB and beyond its sixteen streams share one L1 cache set (12 ways) and
  radix 8 is faster (``_plan``).
* the passes run depth first (a cache-oblivious order): as soon as a segment
  of a pass is complete, the next pass runs on it while it is still in cache.

Batches: rows of a C-contiguous 2-D array are independent vectors (``prange``
over rows in the parallel variants).  A transform along a middle axis of a
C-contiguous ``(outer, n, inner)`` array is ``H_n`` applied to whole rows of
length ``inner``: in each flat ``(n, inner)`` slab stage ``h`` pairs elements
``h * inner`` apart, so the same radix passes apply (``_slab``).

The register-level code is written with Numba ``@intrinsic`` functions that
emit LLVM vector instructions directly (explicit vector loads, ``fadd``,
``fsub``, ``shufflevector``), because Numba runs LLVM's loop vectoriser but
not its SLP vectoriser and the loop vectoriser cannot prove that the strided
streams of a butterfly do not overlap.  On CPUs without 512-bit vectors LLVM
splits the vector operations; results are identical.

No ``fastmath``: the kernels only add and subtract (and multiply by a scale),
and every result is rounded exactly as the scalar butterfly would round it.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from numerics._jit import jit, prange

__all__ = [
    "fwht_row_inplace",
    "fwht_copy_1d",
    "fwht_rows_copy",
    "fwht_rows_copy_serial",
    "fwht_slabs_inplace",
    "fwht_slabs_inplace_serial",
    "fwht_strided_inplace",
    "fwht_strided_inplace_serial",
    "first_nonfinite",
    "data_address",
    "VECTOR_BYTES",
]

#: Bytes per SIMD vector the register kernels are written for (AVX-512).
VECTOR_BYTES = 64

# ---------------------------------------------------------------------------
# LLVM-level building blocks (intrinsics)
# ---------------------------------------------------------------------------


def _is_float_c_array(arr) -> bool:
    return (
        isinstance(arr, types.Array)
        and arr.ndim == 1
        and arr.layout == "C"
        and arr.dtype in (types.float32, types.float64)
    )


def _lanes(dtype) -> int:
    return VECTOR_BYTES // (dtype.bitwidth // 8)


def _align(arrty) -> int:
    """Alignment (bytes) LLVM may assume for vector accesses: the item size, or 1 if unaligned."""
    return arrty.dtype.bitwidth // 8 if arrty.aligned else 1


def _vector_pointers(context, builder, arrty, arrval, offsets):
    """Pointers to ``W``-lane vectors starting at the element ``offsets``."""
    ary = context.make_array(arrty)(context, builder, arrval)
    vty = ir.VectorType(context.get_value_type(arrty.dtype), _lanes(arrty.dtype))
    return [builder.bitcast(builder.gep(ary.data, [o], inbounds=True), vty.as_pointer()) for o in offsets], vty


def _vertical_stages(builder, vals):
    """All ``log2 R`` butterfly stages across ``R`` vectors (Sylvester order)."""
    vals = list(vals)
    s = 1
    while s < len(vals):
        for k in range(len(vals)):
            if not k & s:
                a, b = vals[k], vals[k + s]
                vals[k] = builder.fadd(a, b)
                vals[k + s] = builder.fsub(a, b)
        s *= 2
    return vals


def _lane_stages(builder, v, lanes: int):
    """Stages ``h = 1, 2, ..., lanes/2`` inside one vector.

    Lane ``j`` becomes ``v[j ^ h] + v[j]`` if bit ``h`` of ``j`` is 0 and
    ``v[j ^ h] - v[j]`` otherwise, i.e. ``a + b`` / ``a - b`` of each pair.
    It is computed as one permutation and one fused multiply-add
    ``fma(v, sign, permuted)`` with ``sign = +-1``: the product is exact, so
    the single rounding of the fma gives bit for bit the sum or difference
    the scalar butterfly computes (NaN, inf and signed zeros included).
    """
    i32 = ir.IntType(32)
    elem = "f64" if isinstance(v.type.element, ir.DoubleType) else "f32"
    fma = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(v.type, [v.type] * 3), f"llvm.fma.v{lanes}{elem}"
    )
    h = 1
    while h < lanes:
        perm = ir.Constant(ir.VectorType(i32, lanes), [j ^ h for j in range(lanes)])
        sign = ir.Constant(v.type, [-1.0 if j & h else 1.0 for j in range(lanes)])
        swapped = builder.shuffle_vector(v, v, perm)
        v = builder.call(fma, [v, sign, swapped])
        h *= 2
    return v


def _make_block(R: int, scaled: bool):
    """Intrinsic ``block(src, dst, p, scale)``: transform ``R*W`` elements at ``p``.

    Loads ``R`` consecutive vectors of ``src`` starting at element ``p``,
    multiplies by ``scale`` (if ``scaled``), applies all ``log2(R*W)`` stages
    in registers and stores the result to the same positions of ``dst``.
    """

    @intrinsic
    def block(typingctx, src, dst, p, scale):
        if not (_is_float_c_array(src) and _is_float_c_array(dst) and src.dtype == dst.dtype):
            return None
        if not isinstance(p, types.Integer):
            return None
        sig = types.void(src, dst, types.intp, src.dtype)

        def codegen(context, builder, signature, args):
            srcval, dstval, pv, sv = args
            W = _lanes(signature.args[0].dtype)
            offsets = [builder.add(pv, ir.Constant(pv.type, k * W)) for k in range(R)]
            src_ptrs, vty = _vector_pointers(context, builder, signature.args[0], srcval, offsets)
            dst_ptrs, _ = _vector_pointers(context, builder, signature.args[1], dstval, offsets)
            vals = [builder.load(q, align=_align(signature.args[0])) for q in src_ptrs]
            if scaled:
                i32 = ir.IntType(32)
                one = builder.insert_element(ir.Constant(vty, ir.Undefined), sv, ir.Constant(i32, 0))
                svec = builder.shuffle_vector(one, one, ir.Constant(ir.VectorType(i32, W), [0] * W))
                vals = [builder.fmul(v, svec) for v in vals]
            vals = [_lane_stages(builder, v, W) for v in vals]
            vals = _vertical_stages(builder, vals)
            for q, v in zip(dst_ptrs, vals):
                builder.store(v, q, align=_align(signature.args[1]))
            return context.get_dummy_value()

        return sig, codegen

    return block


def _make_radix(R: int):
    """Intrinsic ``radix(x, p, h)``: ``log2 R`` stages on ``R`` vectors at stride ``h``.

    Loads the vectors ``x[p + k*h : p + k*h + W]`` for ``k < R``, applies the
    butterfly stages ``h, 2h, ..., (R/2) h`` in registers and stores them back.
    """

    @intrinsic
    def radix(typingctx, x, p, h):
        if not (_is_float_c_array(x) and isinstance(p, types.Integer) and isinstance(h, types.Integer)):
            return None
        sig = types.void(x, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            xval, pv, hv = args
            offsets = [pv]
            for _ in range(R - 1):
                offsets.append(builder.add(offsets[-1], hv))
            ptrs, _ = _vector_pointers(context, builder, signature.args[0], xval, offsets)
            align = _align(signature.args[0])
            vals = _vertical_stages(builder, [builder.load(q, align=align) for q in ptrs])
            for q, v in zip(ptrs, vals):
                builder.store(v, q, align=align)
            return context.get_dummy_value()

        return sig, codegen

    return radix


_block1 = _make_block(1, False)
_block2 = _make_block(2, False)
_block4 = _make_block(4, False)
_block8 = _make_block(8, False)
_block1s = _make_block(1, True)
_block2s = _make_block(2, True)
_block4s = _make_block(4, True)
_block8s = _make_block(8, True)
_block16 = _make_block(16, False)
_block16s = _make_block(16, True)
_radix2 = _make_radix(2)
_radix4 = _make_radix(4)
_radix8 = _make_radix(8)
_radix16 = _make_radix(16)


@intrinsic
def _as_c_contiguous(typingctx, x):
    """View a 1-D array whose stride is known (by the caller) to equal its item size as layout 'C'."""
    if not (isinstance(x, types.Array) and x.ndim == 1):
        return None
    cty = x.copy(layout="C")
    sig = cty(x)

    def codegen(context, builder, signature, args):
        src = context.make_array(signature.args[0])(context, builder, args[0])
        dst = context.make_array(signature.return_type)(context, builder)
        for name in ("meminfo", "parent", "nitems", "itemsize", "data", "shape", "strides"):
            setattr(dst, name, getattr(src, name))
        out = dst._getvalue()
        if context.enable_nrt:
            context.nrt.incref(builder, signature.return_type, out)
        return out

    return sig, codegen


# ---------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------


@jit
def _scalar_stages(x, start, length, h):
    """Plain butterflies: stages ``h, 2h, ... < length`` on ``x[start:start+length]``."""
    while h < length:
        for i in range(start, start + length, 2 * h):
            for j in range(i, i + h):
                a = x[j]
                b = x[j + h]
                x[j] = a + b
                x[j + h] = a - b
        h *= 2


@jit(inline="always")
def _block_pass(src, dst, start, length, scale, scaled):
    """Block pass over ``[start, start+length)`` (``length`` = W, 2W, 4W, 8W or a multiple of 16W).

    Scale (if ``scaled``), the in-lane stages and up to 4 stages across
    vectors, from ``src`` into ``dst``.  Returns the size of the blocks
    transformed (all stages below it are done).
    """
    W = 64 // dst.itemsize
    if length >= 16 * W:
        for p in range(start, start + length, 16 * W):
            if scaled:
                _block16s(src, dst, p, scale)
            else:
                _block16(src, dst, p, scale)
        return 16 * W
    if length == 8 * W:
        if scaled:
            _block8s(src, dst, start, scale)
        else:
            _block8(src, dst, start, scale)
    elif length == 4 * W:
        if scaled:
            _block4s(src, dst, start, scale)
        else:
            _block4(src, dst, start, scale)
    elif length == 2 * W:
        if scaled:
            _block2s(src, dst, start, scale)
        else:
            _block2(src, dst, start, scale)
    else:
        if scaled:
            _block1s(src, dst, start, scale)
        else:
            _block1(src, dst, start, scale)
    return length


@jit(inline="always")
def _radix_pass(x, start, length, h, R):
    """One radix-``R`` pass (stages ``h .. (R/2) h``) over ``x[start:start+length]``."""
    W = 64 // x.itemsize
    for base in range(start, start + length, R * h):
        if R == 16:
            for p in range(base, base + h, W):
                _radix16(x, p, h)
        elif R == 8:
            for p in range(base, base + h, W):
                _radix8(x, p, h)
        elif R == 4:
            for p in range(base, base + h, W):
                _radix4(x, p, h)
        else:
            for p in range(base, base + h, W):
                _radix2(x, p, h)


@jit
def _plan(h, n, itemsize):
    """The radix passes after the block pass, packed 3 bits per pass.

    Returns ``(count, packed)``: pass ``i`` does ``(packed >> 3 i) & 7``
    stages.  A pass does up to 4 stages (radix 16) while its stride ``h``
    spans at most 2 KiB, and up to 3 (radix 8) beyond: at a stride of 4 KiB
    or more all sixteen streams of a radix-16 pass fall into one L1 cache set
    (12 ways here) and the pass slows down several times.  Beyond that the
    stages are spread evenly over the fewest passes, the smaller radices
    first, so that the segments the early passes work on stay small (cache).
    """
    stages = 0
    m = h
    while m < n:
        m *= 2
        stages += 1
    count = 0
    packed = 0
    while stages > 0:
        if h * itemsize <= 2048:
            r = min(4, stages)
        else:
            passes = (stages + 2) // 3
            r = stages // passes  # smaller radices first: later passes span more
        packed |= r << (3 * count)
        count += 1
        h <<= r
        stages -= r
    return count, packed


@jit
def _transform(src, dst, scale, scaled):
    """``dst = scale * H src`` (or ``H src``), both 1-D C-contiguous of equal length; src may be dst.

    The passes are run depth first: after the block pass on segment ``t``
    every radix pass whose segment ends there runs at once, so each pass
    works on data the previous ones left in cache (cache-oblivious order).
    """
    n = dst.shape[0]
    if n & (n - 1):
        raise ValueError("fwht kernel: the length must be a power of two")
    if src.shape[0] != n:
        raise ValueError("fwht kernel: src and dst must have the same length")
    W = 64 // dst.itemsize
    if n < W:
        if scaled:
            for i in range(n):
                dst[i] = src[i] * scale
        else:
            for i in range(n):
                dst[i] = src[i]
        _scalar_stages(dst, 0, n, 1)
        return
    E0 = min(n, 16 * W)
    count, packed = _plan(E0, n, dst.itemsize)
    for p in range(0, n, E0):
        _block_pass(src, dst, p, E0, scale, scaled)
        end = p + E0
        h = E0
        for i in range(count):
            R = 1 << ((packed >> (3 * i)) & 7)
            E = h * R
            if end & (E - 1):
                break
            _radix_pass(dst, end - E, E, h, R)
            h = E


@jit
def fwht_row_inplace(x):
    """Unnormalised in-place FWHT of a 1-D float array of length ``2**k``.

    Callable from other Numba kernels.  A contiguous row takes the
    vectorised path, a strided one the scalar path.  Raises ``ValueError``
    if the length is not a power of two (the public API reports that with a
    fuller message before calling).
    """
    n = x.shape[0]
    if n & (n - 1):
        raise ValueError("fwht_row_inplace: the length must be a power of two")
    if x.strides[0] == x.itemsize:
        xc = _as_c_contiguous(x)
        _transform(xc, xc, x.dtype.type(1.0), False)
    else:
        _scalar_stages(x, 0, x.shape[0], 1)


@jit
def fwht_copy_1d(src, dst, scale):
    """``dst = scale * H src`` for vectors of equal length; returns ``dst[0]``.

    ``dst`` is C-contiguous; ``src`` may have any stride (a strided ``src`` is
    first copied into ``dst``) and may be ``dst`` itself (in place);
    otherwise ``src`` is not modified.  The returned first coefficient lets
    the caller check for NaN/inf without another array access.
    """
    s = dst.dtype.type(scale)
    scaled = scale != 1.0
    if src.strides[0] == src.itemsize:
        _transform(_as_c_contiguous(src), dst, s, scaled)
    else:
        for i in range(dst.shape[0]):
            dst[i] = src[i]
        _transform(dst, dst, s, scaled)
    return dst[0] if dst.shape[0] > 0 else s


@jit(parallel=True)
def fwht_rows_copy(src, dst, scale):
    """``dst[r] = scale * H src[r]`` for C-contiguous 2-D arrays, rows in parallel.

    ``src`` may be ``dst`` (in place).
    """
    s = dst.dtype.type(scale)
    scaled = scale != 1.0
    for r in prange(dst.shape[0]):
        _transform(src[r], dst[r], s, scaled)


@jit
def fwht_rows_copy_serial(src, dst, scale):
    """``dst[r] = scale * H src[r]`` for C-contiguous 2-D arrays, one thread."""
    s = dst.dtype.type(scale)
    scaled = scale != 1.0
    for r in range(dst.shape[0]):
        _transform(src[r], dst[r], s, scaled)


@jit
def _slab(x, n, inner, scale, scaled):
    """Transform along the middle axis of one C-contiguous ``(n, inner)`` slab, given flat.

    Along that axis the transform is ``H_n`` acting on whole rows of length
    ``inner``, i.e. in the flat slab stage ``h`` pairs elements ``h * inner``
    apart.  Stages whose distance is not a multiple of the vector width are
    done with plain loops (unit stride, vectorised by LLVM); the others with
    the same radix passes as a single vector.
    """
    if n & (n - 1):
        raise ValueError("fwht kernel: the length must be a power of two")
    W = 64 // x.itemsize
    L = n * inner
    if scaled:  # scale first, as the single-vector path does, so results agree bit for bit
        for f in range(L):
            x[f] *= scale
    h = 1
    while h < n and (h * inner) % W != 0:
        S = h * inner
        for base in range(0, L, 2 * S):
            for f in range(base, base + S):
                a = x[f]
                b = x[f + S]
                x[f] = a + b
                x[f + S] = a - b
        h *= 2
    stages = 0
    m = h
    while m < n:
        m *= 2
        stages += 1
    while stages > 0:
        S = h * inner
        rmax = 4 if S * x.itemsize <= 2048 else 3
        passes = (stages + rmax - 1) // rmax
        r = (stages + passes - 1) // passes
        _radix_pass(x, 0, L, S, 1 << r)
        h <<= r
        stages -= r


@jit(parallel=True)
def fwht_slabs_inplace(x, n, inner, scale):
    """In-place scaled FWHT along axis 1 of a C-contiguous ``(outer, n, inner)`` array.

    ``x`` is passed as the 2-D view ``(outer, n * inner)``; slabs in parallel.
    """
    s = x.dtype.type(scale)
    scaled = scale != 1.0
    for o in prange(x.shape[0]):
        _slab(x[o], n, inner, s, scaled)


@jit
def fwht_slabs_inplace_serial(x, n, inner, scale):
    """One-thread version of :func:`fwht_slabs_inplace`."""
    s = x.dtype.type(scale)
    scaled = scale != 1.0
    for o in range(x.shape[0]):
        _slab(x[o], n, inner, s, scaled)


@jit(parallel=True)
def fwht_strided_inplace(x, scale):
    """In-place scaled FWHT along axis 1 of a C-contiguous 3-D array ``(outer, n, inner)``.

    ``n`` must be a power of two.  Slabs ``x[o]`` in parallel.  (Same
    computation as :func:`fwht_slabs_inplace`, for callers holding a 3-D view.)
    """
    n = x.shape[1]
    inner = x.shape[2]
    s = x.dtype.type(scale)
    scaled = scale != 1.0
    for o in prange(x.shape[0]):
        _slab(x[o].reshape(n * inner), n, inner, s, scaled)


@jit
def fwht_strided_inplace_serial(x, scale):
    """One-thread version of :func:`fwht_strided_inplace` (callable from other kernels)."""
    n = x.shape[1]
    inner = x.shape[2]
    s = x.dtype.type(scale)
    scaled = scale != 1.0
    for o in range(x.shape[0]):
        _slab(x[o].reshape(n * inner), n, inner, s, scaled)


@jit
def data_address(a):
    """Address of ``a``'s first element (a cheap way to read it from Python)."""
    return a.ctypes.data


# ---------------------------------------------------------------------------
# Finite check without allocation
# ---------------------------------------------------------------------------


@jit
def _first_set_bits(bits, mask):
    """Index of the first element with all ``mask`` bits set (a NaN/inf exponent), or -1.

    Integer max-reduction per block of 1024 (vectorises), then a scan of the
    one block that contains a hit.
    """
    n = bits.shape[0]
    for start in range(0, n, 1024):
        stop = min(start + 1024, n)
        m = bits.dtype.type(0)
        for i in range(start, stop):
            m = max(m, bits[i] & mask)
        if m == mask:
            for i in range(start, stop):
                if bits[i] & mask == mask:
                    return i
    return -1


_EXP64 = np.uint64(0x7FF0000000000000)
_EXP32 = np.uint32(0x7F800000)


def first_nonfinite(flat: np.ndarray) -> int:
    """Index of the first NaN/inf in a contiguous 1-D float array, or -1 (allocates nothing)."""
    if flat.dtype == np.float64:
        return int(_first_set_bits(flat.view(np.uint64), _EXP64))
    return int(_first_set_bits(flat.view(np.uint32), _EXP32))
