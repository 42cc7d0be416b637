"""Functional butterfly products with gradients: the building block of butterfly layers.

These work on raw twiddle arrays (layout as in :class:`~numerics.butterfly.Butterfly`)
and batches of row vectors, so that a network layer can hold its twiddles as a
trainable array.

* ``butterfly_forward(X, tw, increasing=True) -> Y`` with ``Y = X @ B.T``
  (``B`` the butterfly of ``tw``), ``X`` of shape ``(batch, n)``.
* ``butterfly_backward(X, tw, grad_Y, increasing=True) -> (grad_X, grad_tw)``:
  for a real loss ``f(Y)`` with ``grad_Y = df/dY``, returns ``df/dX = grad_Y @ B``
  and ``df/dtw`` (same shape as ``tw``, summed over the batch).

Both run the tiled Numba kernels of :mod:`numerics.butterfly._kernels`
(``4 n log2 n`` flops per row forward); the backward pass recomputes the
forward pass tile by tile instead of storing the ``log2 n`` intermediate
``(batch, n)`` arrays.  The plain-NumPy oracle is in ``_reference.py``.

The kernels' scratch tiles (a few megabytes at large ``n``) are kept per Python
thread and reused by the next call of the same shape; :func:`clear_scratch`
releases them.
"""
from __future__ import annotations

import threading

import numba
import numpy as np

from numerics._validation import check_array, check_finite

from .operator import TWIDDLE_DTYPES, _check_twiddles

__all__ = ["butterfly_forward", "butterfly_backward", "clear_scratch"]

# Rows per tile (measured on this AVX-512 machine for n = 2^8..2^13).  Forward: 512 bytes
# of each coordinate (256 bytes was 10-30% slower).  Backward: 1 KiB
# of each coordinate: every pair of factors ends in four reductions over the tile's rows,
# whose cost is only amortised over long rows (the fused pair kernel runs at 18 GFLOP/s
# with 64 float32 rows and 40-55 with 256); the tile is then split into blocks and groups
# of coordinates (see _kernels, "split backward") to stay in cache.
_TILE_FORWARD = {np.dtype(np.float32): 128, np.dtype(np.float64): 64, np.dtype(np.complex64): 64,
                 np.dtype(np.complex128): 32}
_TILE_BACKWARD = {np.dtype(np.float32): 256, np.dtype(np.float64): 128, np.dtype(np.complex64): 128,
                  np.dtype(np.complex128): 64}
#: The backward kernel splits its tile into blocks and groups of coordinates from this size on.
SPLIT_MIN_N = 512

#: Below this many row entries (batch * n) the serial kernels are used.
PARALLEL_MIN_ENTRIES = 1 << 15


def tile_rows(dtype, backward: bool = False, batch: int | None = None) -> int:
    """Rows per tile the kernels use for ``dtype`` (forward or backward kernel).

    With ``batch`` given, the tile shrinks (to a multiple of 16) so that every
    thread gets a tile when the batch is large enough to be split.
    """
    T = (_TILE_BACKWARD if backward else _TILE_FORWARD)[np.dtype(dtype)]
    if batch is not None:
        per_thread = -(-batch // numba.get_num_threads())
        T = min(T, max(16, -(-per_thread // 16) * 16))
    return T


_SCRATCH = threading.local()


def _scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    """A reusable scratch array (one per name and Python thread; replaced when the shape or dtype changes).

    The kernels' tile buffers are megabytes; allocating them on every call
    costs page faults of the same order as the arithmetic at large ``n``.
    """
    arrays = _SCRATCH.__dict__.setdefault("arrays", {})
    a = arrays.get(name)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = arrays[name] = np.empty(shape, dtype=dtype)
    return a


def clear_scratch() -> None:
    """Release the scratch buffers the butterfly kernels keep for reuse in this Python thread."""
    _SCRATCH.__dict__.pop("arrays", None)


def _forward_into(X: np.ndarray, tw: np.ndarray, order: np.ndarray, Y: np.ndarray) -> None:
    """``Y = X`` with the factors of ``order`` applied to each row (checked, C-contiguous, same dtype; ``Y`` may be ``X``)."""
    from . import _kernels as K

    batch, n = X.shape
    if batch == 0:
        return
    T = tile_rows(X.dtype, batch=batch)
    if use_parallel(batch, n, T):
        C = min(numba.get_num_threads(), (batch + T - 1) // T)
        K.butterfly_tiles(X, tw, order, Y, _scratch("forward", (C, n, T), X.dtype))
    else:
        K.butterfly_tiles_serial(X, tw, order, Y, _scratch("forward", (1, n, T), X.dtype)[0])


def backward_split(n: int) -> int:
    """``k``: the backward kernel applies the factors of stride ``< 2**k`` on blocks of ``2**k`` coordinates.

    ``k = log2 n`` (no split) below :data:`SPLIT_MIN_N`, else ``ceil(log2 n / 2)``.
    """
    L = n.bit_length() - 1
    return L if n < SPLIT_MIN_N else (L + 1) // 2


def _backward_plan(tw: np.ndarray, increasing: bool, k: int):
    """Twiddles and factor orders for the split backward kernel (layout in :mod:`._kernels`)."""
    L = tw.shape[0]
    n = 2 * tw.shape[1]
    g1, g2 = 1 << k, n >> k
    # factor t < k, block b: pair b * g1/2 + p;  factor k + u, group c: pair p * g1 + c
    twb = np.ascontiguousarray(tw[:k].reshape(k, g2, g1 // 2, 2, 2).transpose(1, 0, 2, 3, 4))
    twr = np.ascontiguousarray(tw[k:].reshape(L - k, g2 // 2, g1, 2, 2).transpose(2, 0, 1, 3, 4))
    ob = _orders(k, increasing)
    orr = _orders(L - k, increasing)
    return twb, ob, twr, orr, bool(increasing)


def _backward_scratch(C: int, dtype, n: int, T: int, k: int, block_first: bool) -> tuple:
    """Scratch arrays of the backward kernel for ``C`` chunks: blk, hblk, Z, HZ, XZ, sb, sr (layout in ``_kernels``)."""
    L = n.bit_length() - 1
    g1, g2 = 1 << k, n >> k
    split = g2 > 1
    groups = (C, g1 if split else 0, g2, T)
    return (
        _scratch("bwd-blk", (C, g1, T), dtype),
        _scratch("bwd-hblk", (C, g1, T), dtype),
        _scratch("bwd-Z", groups, dtype),
        _scratch("bwd-HZ", groups, dtype),
        _scratch("bwd-XZ", groups if split and not block_first else (C, 0, g2, T), dtype),
        _scratch("bwd-sb", (C, max((k + 1) // 2 - 1, 0), g1, T), dtype),
        _scratch("bwd-sr", (C, max((L - k + 1) // 2 - 1, 0), g2, T), dtype),
    )


def _backward_unplan(accb: np.ndarray, accr: np.ndarray, n: int) -> np.ndarray:
    """The twiddle gradient in the layout of ``tw`` from the split kernel's accumulators (summed over chunks)."""
    gb = accb.sum(axis=0)
    gr = accr.sum(axis=0)
    k, Lr = gb.shape[1], gr.shape[1]
    out = np.empty((k + Lr, n // 2, 2, 2), dtype=gb.dtype)
    out[:k] = gb.transpose(1, 0, 2, 3, 4).reshape(k, n // 2, 2, 2)
    out[k:] = gr.transpose(1, 2, 0, 3, 4).reshape(Lr, n // 2, 2, 2)
    return out


def use_parallel(batch: int, n: int, tile: int) -> bool:
    """Whether a batch is large enough for the parallel (``prange``) kernels."""
    return numba.get_num_threads() > 1 and batch >= 2 * tile and batch * n >= PARALLEL_MIN_ENTRIES


def _orders(L: int, increasing) -> np.ndarray:
    if not isinstance(increasing, (bool, np.bool_)):
        raise TypeError(f"increasing must be a bool, got increasing={increasing!r}")
    order = np.arange(L, dtype=np.int64)
    return order if increasing else order[::-1].copy()


def _check_rows(name: str, A, tw: np.ndarray, shape=None) -> np.ndarray:
    A = check_array(name, A, ndim=2, dtypes=TWIDDLE_DTYPES, finite=False)
    if A.dtype != tw.dtype:
        raise TypeError(
            f"{name} has dtype {A.dtype} but tw has dtype {tw.dtype}; expected the same dtype "
            f"(convert explicitly, nothing is cast silently)"
        )
    n = 2 * tw.shape[1]
    if shape is None and A.shape[1] != n:
        raise ValueError(f"{name} has shape {A.shape}; expected (batch, {n}) for twiddles of shape {tw.shape}")
    if shape is not None and A.shape != shape:
        raise ValueError(f"{name} has shape {A.shape}; expected {shape}, the shape of X and of the output")
    check_finite(name, A)
    return np.ascontiguousarray(A)


def butterfly_forward(X, tw, *, increasing: bool = True) -> np.ndarray:
    """Apply the butterfly of ``tw`` to every row: ``Y = X @ B.T``.

    Parameters
    ----------
    X : ndarray, shape (batch, n)
        Rows to transform; same dtype as ``tw``, finite, any memory layout.
    tw : ndarray, shape (log2 n, n/2, 2, 2)
        Twiddles (float32, float64, complex64 or complex128), finite; layout as in
        :class:`~numerics.butterfly.Butterfly` (``tw[t, p]`` is the 2x2 block of pair
        ``p`` of the stride-``2**t`` factor).
    increasing : bool, default True
        Apply the strides ``1, 2, ..., n/2`` (``B = F_{L-1} ... F_0``) or ``n/2, ..., 1``.

    Returns
    -------
    Y : ndarray, shape (batch, n), dtype of ``X``
        C-contiguous, ``Y[r] = B @ X[r]``.

    Raises
    ------
    TypeError
        If ``X`` and ``tw`` differ in dtype or have an unsupported one, or ``increasing`` is not a bool.
    ValueError
        If ``tw`` is not of shape ``(log2 n, n/2, 2, 2)``, ``X`` is not ``(batch, n)``,
        or either contains NaN or inf.

    Notes
    -----
    ``2 n log2 n`` multiply-adds per row, computed by a Numba kernel that
    transposes tiles of rows so that the innermost loop runs over the rows of a
    tile (SIMD); tiles run in parallel for large batches.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.butterfly import Butterfly
    >>> B = Butterfly.random(8, seed=0)
    >>> X = np.random.default_rng(1).standard_normal((3, 8))
    >>> bool(np.allclose(butterfly_forward(X, B.twiddles), X @ B.todense().T))
    True
    """
    tw = np.ascontiguousarray(_check_twiddles(tw))
    order = _orders(tw.shape[0], increasing)
    X = _check_rows("X", X, tw)
    Y = np.empty_like(X)
    _forward_into(X, tw, order, Y)
    return Y


def butterfly_backward(X, tw, grad_Y, *, increasing: bool = True):
    """Gradients of a real loss through ``Y = X @ B.T``, with respect to ``X`` and to the twiddles.

    Parameters
    ----------
    X : ndarray, shape (batch, n)
        The input of the forward pass; same dtype as ``tw``, finite, any layout.
    tw : ndarray, shape (log2 n, n/2, 2, 2)
        Twiddles, as in :func:`butterfly_forward`.
    grad_Y : ndarray, shape (batch, n)
        ``df/dY`` for a real loss ``f``; same dtype, finite.
    increasing : bool, default True
        The stride order used in the forward pass.

    Returns
    -------
    grad_X : ndarray, shape (batch, n)
        ``df/dX = grad_Y @ B`` (complex: ``grad_Y @ conj(B)``).
    grad_tw : ndarray, same shape and dtype as ``tw``
        ``df/dtw``, summed over the batch.

    Raises
    ------
    TypeError, ValueError
        As :func:`butterfly_forward`; also if ``grad_Y`` has another dtype or shape than ``X``.

    Notes
    -----
    Complex arrays follow PyTorch's convention: a gradient is
    ``df/dRe + i df/dIm`` (for ``y = a x`` the gradients are ``conj(a) g`` and
    ``conj(x) g``), so one step ``w -= lr * grad`` descends ``f`` for real and complex
    weights alike.

    The forward pass is recomputed inside each tile of rows (fused with the
    backward pass), so the memory beyond the outputs is about ``3 n T`` entries
    per thread (``T`` = :func:`tile_rows`, ``backward=True``), not ``log2 n``
    arrays of the batch's size; the tile is worked on in blocks and groups of
    coordinates (:func:`backward_split`) so that it stays in cache.  Per-thread
    twiddle-gradient accumulators are summed at
    the end; the sum order depends on the number of Numba threads and the batch size only (they set the chunks and the tile length), so results are reproducible run to run.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.butterfly import Butterfly
    >>> B = Butterfly.random(8, seed=0)
    >>> rng = np.random.default_rng(1)
    >>> X, G = rng.standard_normal((2, 5, 8))
    >>> gX, gtw = butterfly_backward(X, B.twiddles, G)
    >>> bool(np.allclose(gX, G @ B.todense())), gtw.shape
    (True, (3, 4, 2, 2))
    """
    from . import _kernels as K

    tw = np.ascontiguousarray(_check_twiddles(tw))
    _orders(tw.shape[0], increasing)  # checks increasing
    X = _check_rows("X", X, tw)
    G = _check_rows("grad_Y", grad_Y, tw, shape=X.shape)
    cplx = X.dtype.kind == "c"
    H = np.conj(G) if cplx else G
    GX = np.empty_like(X)
    batch, n = X.shape
    if batch == 0:
        return GX, np.zeros_like(tw)
    T = tile_rows(X.dtype, backward=True, batch=batch)
    k = backward_split(n)
    plan = _backward_plan(tw, increasing, k)
    twb, ob, twr, orr, block_first = plan
    parallel = use_parallel(batch, n, T)
    C = min(numba.get_num_threads(), (batch + T - 1) // T) if parallel else 1
    accb = np.zeros((C,) + twb.shape, dtype=tw.dtype)
    accr = np.zeros((C,) + twr.shape, dtype=tw.dtype)
    kern = K.butterfly_tiles_backward if parallel else K.butterfly_tiles_backward_serial
    kern(X, H, *plan, GX, accb, accr, *_backward_scratch(C, X.dtype, n, T, k, block_first))
    grad_tw = _backward_unplan(accb, accr, n)
    if cplx:
        np.conjugate(GX, out=GX)
        np.conjugate(grad_tw, out=grad_tw)
    return GX, grad_tw
