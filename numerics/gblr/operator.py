"""The GBLR matrix as a ``scipy.sparse.linalg.LinearOperator`` with an exact FLOP count."""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from numerics._validation import check_array, check_int

from . import _kernels as K
from .mask import check_locations, check_widths

__all__ = ["GBLRMatrix", "PARALLEL_MIN_ROWS"]

#: Batches with at least this many rows use the parallel kernel.
PARALLEL_MIN_ROWS = 64


def _grid(name: str, frac: np.ndarray, n: int, tol: float = 1e-9) -> np.ndarray:
    """``frac * n`` as integers, or raise if it is not on the grid ``{0, 1/n, ...}``."""
    x = frac * n
    r = np.rint(x)
    bad = np.abs(x - r) > tol * max(1, n)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name}[{i}]={frac[i]!r} is not a multiple of 1/{n} (it gives {x[i]!r} entries); the operator needs "
            f"integer interval ends: round it explicitly (numerics.gblr.harden) or use GBLRMatrix.from_intervals"
        )
    return r.astype(np.int64)


class GBLRMatrix(LinearOperator):
    """``W = sum_k (m_out_k * u_k)(m_in_k * v_k)^T`` with circular interval masks.

    Component ``k`` has the output interval ``{s_out, ..., s_out + len_out - 1} mod n_out``
    with ``len_out = width_out * n_out``, ``s_out = location_out * n_out`` (both integers),
    and likewise for the input side.  Entries of ``U[k]``/``V[k]`` outside their interval
    are ignored.  A product with one vector costs exactly
    :attr:`flops` ``= sum_k (len_out_k + len_in_k)`` multiplications (and as many
    additions, up to the first of each sum): an inner product over the input interval,
    then a scaled copy of ``u_k`` over the output interval.

    Parameters
    ----------
    U : ndarray, shape (K, n_out)
    V : ndarray, shape (K, n_in)
        Same float dtype (float32 or float64), finite.
    width_out, location_out : array, shape (K,)
        Fractions in ``[0, 1]`` resp. ``[0, 1)``, multiples of ``1/n_out``.
    width_in, location_in : array, shape (K,)
        Fractions in ``[0, 1]`` resp. ``[0, 1)``, multiples of ``1/n_in``.

    Raises
    ------
    ValueError
        Widths/locations out of range or off the grid, shapes that do not match, NaN/inf.
    TypeError
        Non-float or mixed dtypes.
    """

    def __init__(self, U, V, width_out, location_out, width_in, location_in):
        U = check_array("U", U, ndim=2)
        V = check_array("V", V, ndim=2)
        if U.dtype != V.dtype:
            raise TypeError(f"U and V must have the same dtype, got {U.dtype} and {V.dtype}")
        if U.shape[0] != V.shape[0]:
            raise ValueError(f"U and V must have the same number of components (rows), got U.shape={U.shape} "
                             f"and V.shape={V.shape}")
        Kc, n_out = U.shape
        n_in = V.shape[1]
        if n_out < 1 or n_in < 1:
            raise ValueError(f"U and V need at least one column, got U.shape={U.shape}, V.shape={V.shape}")
        arrs = {}
        for name, val, chk in (("width_out", width_out, check_widths), ("location_out", location_out, check_locations),
                               ("width_in", width_in, check_widths), ("location_in", location_in, check_locations)):
            a, _ = chk(name, val)
            if a.shape != (Kc,):
                raise ValueError(f"{name} must have shape ({Kc},) (one per component), got {np.shape(val)}")
            arrs[name] = a
        self._U = np.ascontiguousarray(U)
        self._V = np.ascontiguousarray(V)
        self._len_out = _grid("width_out", arrs["width_out"], n_out)
        self._s_out = _grid("location_out", arrs["location_out"], n_out) % n_out
        self._len_in = _grid("width_in", arrs["width_in"], n_in)
        self._s_in = _grid("location_in", arrs["location_in"], n_in) % n_in
        super().__init__(dtype=U.dtype, shape=(n_out, n_in))

    @classmethod
    def from_intervals(cls, U, V, start_out, len_out, start_in, len_in) -> "GBLRMatrix":
        """Build from integer interval starts and lengths (``0 <= start < n``, ``0 <= len <= n``)."""
        U = check_array("U", U, ndim=2)
        V = check_array("V", V, ndim=2)
        n_out, n_in = U.shape[1], V.shape[1]
        out = []
        for name, val, n, hi in (("start_out", start_out, n_out, n_out - 1), ("len_out", len_out, n_out, n_out),
                                 ("start_in", start_in, n_in, n_in - 1), ("len_in", len_in, n_in, n_in)):
            a = np.asarray(val)
            if a.dtype.kind not in "iu":
                raise TypeError(f"{name} must be integers, got dtype {a.dtype}")
            a = np.atleast_1d(a).astype(np.int64)
            bad = (a < 0) | (a > hi)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"{name} must lie in [0, {hi}], got {name}[{i}]={int(a[i])}")
            out.append(a / n)
        return cls(U, V, out[1], out[0], out[3], out[2])

    # ----------------------------------------------------------------- properties
    @property
    def n_components(self) -> int:
        return int(self._U.shape[0])

    @property
    def U(self) -> np.ndarray:
        return self._U

    @property
    def V(self) -> np.ndarray:
        return self._V

    @property
    def intervals(self) -> dict:
        """Integer ``start_out, len_out, start_in, len_in`` (copies)."""
        return {"start_out": self._s_out.copy(), "len_out": self._len_out.copy(),
                "start_in": self._s_in.copy(), "len_in": self._len_in.copy()}

    @property
    def widths(self) -> tuple[np.ndarray, np.ndarray]:
        """``(width_out, width_in)`` as fractions."""
        return self._len_out / self.shape[0], self._len_in / self.shape[1]

    @property
    def locations(self) -> tuple[np.ndarray, np.ndarray]:
        return self._s_out / self.shape[0], self._s_in / self.shape[1]

    @property
    def flops(self) -> int:
        """Multiplications per matrix-vector product: ``sum_k (len_out_k + len_in_k)``."""
        return int(self._len_out.sum() + self._len_in.sum())

    flops_per_vector = flops

    @property
    def n_params(self) -> int:
        """Stored entries that can affect the product (inside the intervals)."""
        return self.flops

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """The 0/1 masks, shapes ``(K, n_out)`` and ``(K, n_in)``."""
        n_out, n_in = self.shape
        mo = ((np.arange(n_out)[None, :] - self._s_out[:, None]) % n_out) < self._len_out[:, None]
        mi = ((np.arange(n_in)[None, :] - self._s_in[:, None]) % n_in) < self._len_in[:, None]
        return mo.astype(np.float64), mi.astype(np.float64)

    def todense(self) -> np.ndarray:
        mo, mi = self.masks()
        return ((mo * self._U).T @ (mi * self._V)).astype(self.dtype, copy=False)

    def __repr__(self) -> str:
        return (f"GBLRMatrix(shape={self.shape}, components={self.n_components}, flops={self.flops}, "
                f"dtype={self.dtype})")

    # ----------------------------------------------------------------- products
    def apply_rows(self, X, *, adjoint: bool = False) -> np.ndarray:
        """``X @ W.T`` (or ``X @ W.conj()`` with ``adjoint=True``) for a batch of rows ``X``.

        ``X`` must have shape ``(batch, n_in)`` (resp. ``n_out``), a float dtype and finite
        entries; the result has dtype ``result_type(W, X)``.
        """
        n_out, n_in = self.shape
        n = n_out if adjoint else n_in
        X = check_array("X", X, ndim=2)
        if X.shape[1] != n:
            raise ValueError(f"X must have {n} columns ({'n_out' if adjoint else 'n_in'}), got X.shape={X.shape}")
        dt = np.result_type(self.dtype, X.dtype)
        X = np.ascontiguousarray(X, dtype=dt)
        U = self._U.astype(dt, copy=False)
        V = self._V.astype(dt, copy=False)
        if adjoint:
            U, V = V, U
            args = (self._s_in, self._len_in, self._s_out, self._len_out)
            m = n_in
        else:
            args = (self._s_out, self._len_out, self._s_in, self._len_in)
            m = n_out
        Y = np.zeros((X.shape[0], m), dtype=dt)
        if X.shape[0] == 0:
            return Y
        kern = K.gblr_rows if X.shape[0] >= PARALLEL_MIN_ROWS else K.gblr_rows_serial
        kern(U, V, *args, X, Y)
        return Y

    def _matvec(self, x):
        return self.apply_rows(np.asarray(x).reshape(1, -1))[0]

    def _rmatvec(self, x):
        return self.apply_rows(np.asarray(x).reshape(1, -1), adjoint=True)[0]

    def _matmat(self, X):
        return self.apply_rows(np.asarray(X).T).T

    def _rmatmat(self, X):
        return self.apply_rows(np.asarray(X).T, adjoint=True).T

    def _adjoint(self) -> "GBLRMatrix":
        n_out, n_in = self.shape
        return GBLRMatrix(self._V, self._U, self._len_in / n_in, self._s_in / n_in,
                          self._len_out / n_out, self._s_out / n_out)
