"""Numba kernels for the SRHT and the Ailon-Chazelle FJLT, with NumPy references.

The SRHT of one row ``x`` (length ``m = n_features``) is

    y = k^{-1/2} * (H_n D [x; 0])[idx],        n = n_padded = 2^p >= m,

with ``D`` the random signs, ``H_n`` the unnormalised Sylvester Hadamard matrix
and ``idx`` the ``k`` kept coordinates.  Only ``k`` of the ``n`` outputs are
needed, so the kernels use the Kronecker split ``H_n = H_a (x) H_b``
(``n = a b``).  View the padded, signed row as a C-order ``a x b`` matrix ``Z``
(row ``j1`` is the contiguous block ``z[j1 b : (j1+1) b]``) and write an output
index as ``i = i1 b + i2``.  Then

    (H_n z)[i1 b + i2] = (H_a Z H_b)[i1, i2] = sum_{j2 < b} H_b[i2, j2] W[i1, j2],
    W = H_a Z.

* Step 1 (full): ``W = H_a Z``, a Hadamard transform *across* the ``a`` blocks in
  which every butterfly adds or subtracts two whole contiguous blocks of length
  ``b`` (``n log2 a`` additions, all vectorised).  This is the axis-1 transform of
  the ``(1, a, b)`` view, done by the hadamard subpackage's strided kernel.
* Step 2 (pruned): each kept output is the dot product of the contiguous row
  ``W[i1]`` with the row ``i2`` of ``H_b`` times the scale, precomputed as
  ``table[t] = scale * (-1)^popcount(i2_t & j2)`` (``k b`` multiply-adds).

Total ``n log2(n/b) + k b`` per row instead of ``n log2 n``; ``b = 1`` is the
plain "full transform, then gather" (``fwht_row_inplace``, then
``table[t, 0] = scale``).  The copy ``Z = D [x; 0]`` is fused into the same pass
over the row.  The adjoint runs the steps transposed: ``W[i1] += table[t] y[t]``,
the transform across blocks (``H_a`` is symmetric), then signs and truncation.

Each per-row kernel uses a caller-provided scratch buffer; the drivers loop
over rows serially or in parallel (``prange`` over chunks of rows, one scratch
row per chunk).  Random numbers never enter the kernels.  Only the dot product
(a leaf reduction) uses ``fastmath``, restricted to reassociation and
contraction so that NaN and inf still propagate.
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit, prange
from numerics.hadamard._kernels import fwht_row_inplace, fwht_strided_inplace_serial

__all__ = [
    "srht_rows",
    "srht_rows_parallel",
    "srht_adjoint_rows",
    "srht_adjoint_rows_parallel",
    "signed_fwht_rows",
    "signed_fwht_rows_parallel",
    "srht_table",
    "srht_rows_reference",
    "srht_adjoint_rows_reference",
    "signed_fwht_rows_reference",
]

# --------------------------------------------------------------------------- leaf kernels


@jit(fastmath={"reassoc", "contract"})
def _dot(t, w):
    """``sum_j t[j] w[j]`` for contiguous rows (vectorised: reassociation allowed, NaN/inf kept)."""
    acc = t[0] * w[0]
    for j in range(1, w.shape[0]):
        acc += t[j] * w[j]
    return acc


@jit
def _axpy(w, t, v):
    """``w += v * t`` for contiguous rows."""
    for j in range(w.shape[0]):
        w[j] += v * t[j]


@jit
def _transform_blocks(buf, a, b):
    """``W = H_a W`` in place for the ``a x b`` C-order view of ``buf``."""
    if b == 1:
        fwht_row_inplace(buf[:a])
    elif a > 1:
        fwht_strided_inplace_serial(buf[: a * b].reshape((1, a, b)), 1.0)


# --------------------------------------------------------------------------- per-row kernels


@jit
def _srht_row(x, signs, a, b, table, blk, buf, out):
    """Forward SRHT of one row ``x`` into ``out`` (length k); ``buf`` has length >= a*b."""
    m = x.shape[0]
    for j in range(m):
        buf[j] = x[j] * signs[j]
    for j in range(m, a * b):
        buf[j] = 0.0
    _transform_blocks(buf, a, b)
    for t in range(blk.shape[0]):
        p = blk[t] * b
        out[t] = _dot(table[t], buf[p : p + b])


@jit
def _srht_adjoint_row(y, signs, a, b, table, blk, buf, out):
    """Adjoint SRHT of one row ``y`` (length k) into ``out`` (length m)."""
    m = out.shape[0]
    for j in range(a * b):
        buf[j] = 0.0
    for t in range(blk.shape[0]):
        p = blk[t] * b
        _axpy(buf[p : p + b], table[t], y[t])
    _transform_blocks(buf, a, b)
    for j in range(m):
        out[j] = buf[j] * signs[j]


@jit
def _signed_fwht_row(x, signs, out):
    """``out = H_n D [x; 0]`` (unnormalised) for one row; ``out`` has length n."""
    m = x.shape[0]
    n = out.shape[0]
    for j in range(m):
        out[j] = x[j] * signs[j]
    for j in range(m, n):
        out[j] = 0.0
    fwht_row_inplace(out)


# --------------------------------------------------------------------------- row drivers


@jit
def srht_rows(X, signs, a, b, table, blk, scratch, out):
    """Serial driver: ``out[r] = SRHT(X[r])`` for every row (``scratch``: one row of length >= a*b)."""
    buf = scratch[0]
    for r in range(X.shape[0]):
        _srht_row(X[r], signs, a, b, table, blk, buf, out[r])


@jit(parallel=True)
def srht_rows_parallel(X, signs, a, b, table, blk, scratch, out):
    """Parallel driver: rows split into ``scratch.shape[0]`` chunks, one scratch row per chunk."""
    n_rows = X.shape[0]
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        lo = (c * n_rows) // n_chunks
        hi = ((c + 1) * n_rows) // n_chunks
        buf = scratch[c]
        for r in range(lo, hi):
            _srht_row(X[r], signs, a, b, table, blk, buf, out[r])


@jit
def srht_adjoint_rows(Y, signs, a, b, table, blk, scratch, out):
    """Serial driver of the adjoint: ``out[r] = SRHT^T(Y[r])``."""
    buf = scratch[0]
    for r in range(Y.shape[0]):
        _srht_adjoint_row(Y[r], signs, a, b, table, blk, buf, out[r])


@jit(parallel=True)
def srht_adjoint_rows_parallel(Y, signs, a, b, table, blk, scratch, out):
    """Parallel driver of the adjoint."""
    n_rows = Y.shape[0]
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        lo = (c * n_rows) // n_chunks
        hi = ((c + 1) * n_rows) // n_chunks
        buf = scratch[c]
        for r in range(lo, hi):
            _srht_adjoint_row(Y[r], signs, a, b, table, blk, buf, out[r])


@jit
def signed_fwht_rows(X, signs, out):
    """``out[r] = H_n D [X[r]; 0]`` for every row (serial)."""
    for r in range(X.shape[0]):
        _signed_fwht_row(X[r], signs, out[r])


@jit(parallel=True)
def signed_fwht_rows_parallel(X, signs, out):
    """``out[r] = H_n D [X[r]; 0]`` for every row (rows in parallel)."""
    for r in prange(X.shape[0]):
        _signed_fwht_row(X[r], signs, out[r])


# --------------------------------------------------------------------------- setup (NumPy)


def _parity(v: np.ndarray) -> np.ndarray:
    """``popcount(v) mod 2`` element-wise for non-negative int64 arrays."""
    v = v.copy()
    out = np.zeros(v.shape, dtype=np.int64)
    while np.any(v):
        out ^= v & 1
        v >>= 1
    return out


def srht_table(indices: np.ndarray, b: int, scale: float, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Step-2 table ``table[t, j2] = scale * (-1)^popcount((idx_t mod b) & j2)`` and ``blk = idx // b``."""
    indices = np.asarray(indices, dtype=np.int64)
    i2 = indices % b
    j2 = np.arange(b, dtype=np.int64)
    parity = _parity(i2[:, None] & j2[None, :])
    table = np.where(parity == 1, -scale, scale).astype(dtype)
    return np.ascontiguousarray(table), (indices // b).astype(np.int64)


# --------------------------------------------------------------------------- NumPy references


def hadamard_rows_reference(Z: np.ndarray) -> np.ndarray:
    """Unnormalised Sylvester FWHT along the last axis (plain NumPy, for tests)."""
    Z = np.array(Z, copy=True)
    n = Z.shape[-1]
    lead = Z.shape[:-1]
    h = 1
    while h < n:
        V = Z.reshape(*lead, n // (2 * h), 2, h)
        top = V[..., 0, :].copy()
        bottom = V[..., 1, :]
        V[..., 0, :] = top + bottom
        V[..., 1, :] = top - bottom
        h *= 2
    return Z


def signed_fwht_rows_reference(X: np.ndarray, signs: np.ndarray, n_padded: int) -> np.ndarray:
    """NumPy reference of :func:`signed_fwht_rows`: ``H_n D [x; 0]`` per row."""
    Z = np.zeros((X.shape[0], n_padded), dtype=np.result_type(X.dtype, signs.dtype))
    Z[:, : X.shape[1]] = X * signs
    return hadamard_rows_reference(Z)


def srht_rows_reference(X: np.ndarray, signs: np.ndarray, indices: np.ndarray, n_padded: int, scale: float) -> np.ndarray:
    """NumPy reference of the forward SRHT on rows: ``scale * (H D [x; 0])[idx]``."""
    return scale * signed_fwht_rows_reference(X, signs, n_padded)[:, indices]


def srht_adjoint_rows_reference(Y: np.ndarray, signs: np.ndarray, indices: np.ndarray, n_padded: int, scale: float, m: int) -> np.ndarray:
    """NumPy reference of the adjoint SRHT on rows: ``scale * D H S^T y``, truncated to ``m``."""
    Z = np.zeros((Y.shape[0], n_padded), dtype=Y.dtype)
    Z[:, indices] = Y
    return scale * hadamard_rows_reference(Z)[:, :m] * signs
