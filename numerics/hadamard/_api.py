"""Public Walsh-Hadamard transform API: validation, allocation, dispatch.

Three layers, SciPy/QuantEcon style: :func:`fwht` checks its arguments,
allocates the output and calls a private Numba kernel from
:mod:`numerics.hadamard._kernels`; :func:`fwht_inplace` does the same on the
caller's buffer without allocating.  A 1-D contiguous vector takes a short
path (a few attribute checks, one allocation, one kernel call) because at
``n = 1024`` the transform itself takes well under a microsecond.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from numerics._validation import check_axis, check_finite, check_int

from . import _kernels as _k

__all__ = ["fwht", "fwht_inplace", "pad_to_power_of_two", "next_power_of_two", "PARALLEL_MIN_ROWS"]

#: Batches with at least this many rows (and ``_PARALLEL_MIN_ELEMENTS``
#: elements in all) are transformed by the parallel kernel (rows spread over
#: Numba's threads); smaller batches and single vectors use one thread, where
#: waking threads would cost more than it saves.
PARALLEL_MIN_ROWS = 256
_PARALLEL_MIN_ELEMENTS = 1 << 15

#: Outputs of at least this many bytes are allocated 64-byte aligned: vector
#: loads and stores that straddle cache lines make the passes slower (by
#: ~3 us at 256 KiB, ~6 us at 512 KiB here), while the aligned allocation
#: costs ~1-2 us, more than it saves below this size.
_ALIGN_MIN_BYTES = 1 << 18

_NORMS = ("backward", "ortho", "forward")
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)


def _scale(norm, n: int) -> float:
    if norm is None or norm == "backward":
        return 1.0
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    if norm == "forward":
        return 1.0 / n
    raise ValueError(f"norm={norm!r} is not a valid normalisation; expected one of {_NORMS}")


def _as_float_array(x) -> np.ndarray:
    """``x`` as an ndarray of float32/float64 (never converted), at least 1-D."""
    if not isinstance(x, np.ndarray):
        if isinstance(x, (str, bytes)) or x is None:
            raise TypeError(f"x must be an array of float32 or float64, got {x!r}")
        x = np.asarray(x)
    if x.dtype != _F64 and x.dtype != _F32:
        raise TypeError(
            f"x has dtype {x.dtype}; expected float32 or float64. Convert explicitly, "
            f"e.g. x.astype(np.float64), if that is what you want."
        )
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension, got a 0-d array (shape ())")
    return x


def _prepare(x, axis, norm):
    """Checked array, axis, transform length and scale: the argument checks both public forms share."""
    x = _as_float_array(x)
    axis = check_axis("axis", axis, x.ndim)
    n = x.shape[axis]
    if n < 1 or n & (n - 1):
        raise _length_error(n, axis, x.shape)
    return x, axis, n, _scale(norm, n)


def _length_error(n: int, axis: int, shape) -> ValueError:
    if n == 0:
        return ValueError(f"x has length 0 along axis {axis} (shape {shape}); the transform needs length >= 1")
    lower = 1 << (n.bit_length() - 1)
    return ValueError(
        f"x has length {n} along axis {axis} (shape {shape}), which is not a power of two; "
        f"the Walsh-Hadamard transform needs 1, 2, 4, 8, ... (nearest: {lower} or {2 * lower}). "
        f"Zero-pad explicitly with numerics.pad_to_power_of_two(x, axis={axis}) if that is what you want."
    )


def _aligned_empty(shape, dtype, nbytes: int | None = None) -> np.ndarray:
    """Uninitialised C-contiguous array whose data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    if nbytes is None:
        nbytes = math.prod(shape if isinstance(shape, tuple) else (shape,)) * dtype.itemsize
    buf = np.empty(nbytes + 64, dtype=np.uint8)
    off = -_k.data_address(buf) % 64
    return buf[off : off + nbytes].view(dtype).reshape(shape)


def _empty(shape, dtype, nbytes: int) -> np.ndarray:
    """Uninitialised C-contiguous array, 64-byte aligned when it is large."""
    if nbytes < _ALIGN_MIN_BYTES:
        return np.empty(shape, dtype=dtype)
    return _aligned_empty(shape, dtype, nbytes)


def _rows_inplace(rows: np.ndarray, scale: float) -> None:
    """In-place transform of a C-contiguous 2-D array, row by row."""
    if rows.shape[0] >= PARALLEL_MIN_ROWS and rows.size >= _PARALLEL_MIN_ELEMENTS:
        _k.fwht_rows_copy(rows, rows, scale)
    else:
        _k.fwht_rows_copy_serial(rows, rows, scale)


def _c_contiguous_inplace(x: np.ndarray, axis: int, n: int, scale: float) -> None:
    """In-place transform along ``axis`` of a C-contiguous array."""
    inner = math.prod(x.shape[axis + 1 :])
    outer = x.size // (n * inner)
    if inner == 1:
        _rows_inplace(x.reshape(outer, n), scale)
    elif outer >= 2 and x.size >= _PARALLEL_MIN_ELEMENTS:
        _k.fwht_slabs_inplace(x.reshape(outer, n * inner), n, inner, scale)
    else:
        _k.fwht_slabs_inplace_serial(x.reshape(outer, n * inner), n, inner, scale)


def fwht(x, axis: int = -1, norm: str = "backward", *, check_finite: bool = True) -> np.ndarray:
    """Fast Walsh-Hadamard transform in Sylvester (natural) order.

    Computes ``H_n @ x`` along ``axis``, where ``H_n`` is the Sylvester
    Hadamard matrix (``H_1 = [1]``, ``H_2n = [[H_n, H_n], [H_n, -H_n]]``, the
    same matrix as :func:`scipy.linalg.hadamard`), with ``n log2 n``
    additions and subtractions per vector instead of the ``n (n - 1)`` of the
    dense product.

    Parameters
    ----------
    x : array_like of float32 or float64
        Input, at least 1-D.  Its length ``n`` along ``axis`` must be a power
        of two (zero-pad explicitly with :func:`pad_to_power_of_two`).  Any
        memory layout is accepted (non-contiguous inputs are copied); ``x`` is
        not modified.
    axis : int, optional
        Axis along which to transform (default: the last).  Every other axis
        is a batch axis.
    norm : {"backward", "ortho", "forward"}, optional
        Scaling, as in :mod:`scipy.fft`: ``"backward"`` (default; ``None``
        means the same, as in SciPy) applies no scaling, ``"ortho"`` multiplies by ``1/sqrt(n)`` (the transform is then
        orthogonal and its own inverse), ``"forward"`` by ``1/n`` (the inverse
        of the ``"backward"`` transform).
    check_finite : bool, optional
        If True (default), raise ``ValueError`` when ``x`` contains NaN or inf.
        The check costs almost nothing: the first output coefficient of a
        vector is the sum of all its entries, formed by additions only, so it
        is NaN or inf whenever an entry is; only then is ``x`` scanned to
        report where.  False skips even that.

    Returns
    -------
    numpy.ndarray
        A new C-contiguous array with the shape and dtype of ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not float32/float64 (integer, bool, complex, object...), or
        ``axis`` is not an integer.
    ValueError
        If ``x`` is 0-d, its length along ``axis`` is not a power of two,
        ``axis`` is out of range, ``norm`` is unknown, or ``x`` has NaN/inf.

    Warns
    -----
    RuntimeWarning
        If ``x`` is finite but the first coefficient (the sum of a vector's
        entries) overflows to inf.  Overflow needs entries within a factor
        ``n`` of the largest float; elsewhere in the output it is not
        looked for.

    See Also
    --------
    fwht_inplace : the same transform, overwriting a contiguous buffer.
    pad_to_power_of_two : explicit zero padding to the next power of two.
    scipy.linalg.hadamard : the matrix this transform multiplies by.

    Notes
    -----
    Batches of at least :data:`PARALLEL_MIN_ROWS` vectors along the last axis
    (and at least 32768 elements in all) are spread over Numba's threads; a
    single vector uses one thread.  Scaling is applied to the input before
    the butterflies, so every layout and axis gives bit-identical results.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.hadamard import fwht
    >>> fwht(np.array([1.0, 0.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    >>> fwht(np.array([1.0, 2.0, 3.0, 4.0]), norm="ortho")
    array([ 5., -1., -2.,  0.])
    >>> fwht(fwht(np.array([1.0, 2.0, 3.0, 4.0])), norm="forward")
    array([1., 2., 3., 4.])
    """
    # Short path: a 1-D float vector along its only axis (a few hundred ns of
    # Python in all; the kernel copies strided input itself and returns the
    # first coefficient for the NaN/inf check).
    if type(x) is np.ndarray and x.ndim == 1 and type(axis) is int and (axis == -1 or axis == 0):
        dtype = x.dtype
        if dtype is _F64 or dtype is _F32 or dtype == _F64 or dtype == _F32:
            n = x.shape[0]
            if n < 1 or n & (n - 1):
                raise _length_error(n, axis, x.shape)
            scale = 1.0 if norm == "backward" or norm is None else _scale(norm, n)
            nbytes = n * x.itemsize
            out = np.empty(n, dtype) if nbytes < _ALIGN_MIN_BYTES else _aligned_empty(n, dtype, nbytes)
            first = _k.fwht_copy_1d(x, out, scale)
            if check_finite and not math.isfinite(first):
                _nonfinite_result(x)
            return out

    x, axis, n, scale = _prepare(x, axis, norm)
    out = _empty(x.shape, x.dtype, x.size * x.itemsize)
    if x.size == 0:
        return out
    if axis == x.ndim - 1 and x.flags.c_contiguous:
        src = x.reshape(-1, n)
        dst = out.reshape(-1, n)
        if src.shape[0] >= PARALLEL_MIN_ROWS and src.size >= _PARALLEL_MIN_ELEMENTS:
            _k.fwht_rows_copy(src, dst, scale)
        else:
            _k.fwht_rows_copy_serial(src, dst, scale)
    else:
        out[...] = x
        _c_contiguous_inplace(out, axis, n, scale)
    if check_finite:
        first = out[(slice(None),) * axis + (0,)]
        if not np.isfinite(first).all():
            _nonfinite_result(x)
    return out


def _nonfinite_result(x: np.ndarray) -> None:
    """A first coefficient is NaN/inf: name the bad input, or warn of overflow."""
    check_finite("x", x)  # raises ValueError with the index of the first NaN/inf
    warnings.warn(
        f"fwht overflowed: x is finite but its transform exceeds the range of {x.dtype} "
        f"(max |x| = {float(np.max(np.abs(x)))!r}); the result contains inf",
        RuntimeWarning,
        stacklevel=3,
    )


def fwht_inplace(x, axis: int = -1, norm: str = "backward", *, check_finite: bool = True) -> np.ndarray:
    """Walsh-Hadamard transform of ``x`` in place, allocating no array memory.

    Same transform and scaling as :func:`fwht`, written into ``x``.

    Parameters
    ----------
    x : numpy.ndarray of float32 or float64
        Writable array, at least 1-D, whose length along ``axis`` is a power
        of two.  Layout requirements (checked): ``x`` is C-contiguous (any
        ``axis``), or, transforming along the last axis of a 2-D array, each
        row is contiguous (``x.strides[1] == x.itemsize``, rows not
        overlapping, any row stride: e.g. ``a[::2]`` or ``a[:, :n]`` of a
        C-contiguous ``a``).  Anything else raises ``ValueError``: use
        :func:`fwht`, which copies.
    axis : int, optional
        Axis to transform (default: the last).
    norm : {"backward", "ortho", "forward"}, optional
        As in :func:`fwht`.
    check_finite : bool, optional
        If True (default), scan ``x`` for NaN/inf before transforming and
        raise ``ValueError`` if there is any (``x`` is then left unchanged).
        The scan reads ``x`` once and allocates nothing.

    Returns
    -------
    numpy.ndarray
        ``x`` itself (the same object), transformed.

    Raises
    ------
    TypeError
        If ``x`` is not a numpy array of float32/float64.
    ValueError
        If ``x`` is read-only, has an unsupported layout, is 0-d, has a length
        along ``axis`` that is not a power of two, has NaN/inf, or ``axis`` or
        ``norm`` is invalid.

    Examples
    --------
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> fwht_inplace(a) is a
    True
    >>> a
    array([[ 3., -1.],
           [ 7., -1.]])
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"x must be a numpy.ndarray to be transformed in place, got {type(x).__name__}; "
            f"use numerics.fwht, which returns a new array"
        )
    x, axis, n, scale = _prepare(x, axis, norm)
    if not x.flags.writeable:
        raise ValueError("x is read-only (x.flags.writeable is False); fwht_inplace needs a writable array")
    if x.size == 0:
        return x
    if x.flags.c_contiguous:
        if check_finite:
            _check_finite_flat(x.reshape(-1))
        _c_contiguous_inplace(x, axis, n, scale)
        return x
    itemsize = x.itemsize
    if (
        x.ndim == 2
        and axis == 1
        and x.strides[1] == itemsize
        and (x.shape[0] == 1 or abs(x.strides[0]) >= n * itemsize)
    ):
        # rows contiguous, any distance between them: one kernel call per row
        if check_finite:
            for r in range(x.shape[0]):
                _check_finite_flat(x[r], row=r)
        for r in range(x.shape[0]):
            row = x[r]
            _k.fwht_copy_1d(row, row, scale)
        return x
    raise ValueError(
        f"fwht_inplace needs x C-contiguous (or, for the last axis of a 2-D array, contiguous "
        f"non-overlapping rows); got shape {x.shape}, strides {x.strides}, axis={axis}. "
        f"Use numerics.fwht, which copies, or np.ascontiguousarray(x) first."
    )


def _check_finite_flat(flat: np.ndarray, row: int | None = None) -> None:
    idx = _k.first_nonfinite(flat)
    if idx >= 0:
        where = f"flat index {idx}" if row is None else f"index {(row, idx)}"
        raise ValueError(
            f"x contains NaN or inf (first at {where}: {flat[idx]!r}); expected finite values "
            f"(x was not modified)"
        )


def next_power_of_two(n) -> int:
    """Smallest power of two that is ``>= n``.

    Parameters
    ----------
    n : int
        A positive integer.

    Returns
    -------
    int
        ``2**ceil(log2 n)``; ``n`` itself when it is a power of two.

    Raises
    ------
    TypeError
        If ``n`` is not an integer (floats and bools are refused).
    ValueError
        If ``n < 1``.

    Examples
    --------
    >>> next_power_of_two(1000)
    1024
    >>> next_power_of_two(1024)
    1024
    """
    n = check_int("n", n, minimum=1)
    return 1 << (n - 1).bit_length()


def pad_to_power_of_two(x, axis: int = -1) -> np.ndarray:
    """Zero-pad ``x`` along ``axis`` to the next power-of-two length.

    The explicit padding step that :func:`fwht` never does silently.  The
    original values keep their positions ``0 .. n-1``, zeros follow; the
    dtype is preserved.  Note that the transform of the padded vector is the
    transform of a longer vector, not a transform "of length n".

    Parameters
    ----------
    x : array_like
        At least 1-D array (any numeric dtype; no conversion is made).
    axis : int, optional
        Axis to pad (default: the last).

    Returns
    -------
    numpy.ndarray
        A new array whose length along ``axis`` is ``next_power_of_two(n)``
        (a copy even when no padding is needed).

    Raises
    ------
    ValueError
        If ``x`` is 0-d, has length 0 along ``axis``, or ``axis`` is out of
        range.

    Examples
    --------
    >>> pad_to_power_of_two(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 3., 0.])
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension, got a 0-d array (shape ())")
    axis = check_axis("axis", axis, x.ndim)
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"x has length 0 along axis {axis} (shape {x.shape}); nothing to pad")
    m = next_power_of_two(n)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, m - n)
    return np.pad(x, widths, mode="constant")
