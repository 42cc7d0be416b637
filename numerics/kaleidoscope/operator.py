"""Kaleidoscope matrices ``(BB*)^w_e`` as a ``scipy.sparse.linalg.LinearOperator``.

Conventions (Dao et al., ICLR 2020, in this package's butterfly layout).  Let
``N = n e`` be a power of two and ``L = log2 N``.

* ``B`` is a butterfly with *increasing* strides: strides ``1, 2, ..., N/2`` are
  applied in that order (:class:`numerics.butterfly.Butterfly` with
  ``increasing=True``).
* ``B*`` is a butterfly with *decreasing* strides ``N/2, ..., 2, 1``
  (``increasing=False``).  The conjugate transpose of any increasing butterfly
  is of this form and conversely, which is why the class is written ``B*``.
* A member of ``BB*`` is ``M = B B*``: first ``B*``, then ``B``.
* ``(BB*)^w`` holds products ``M_{w-1} ... M_1 M_0`` (``M_0`` applied first).
* ``(BB*)^w_e`` holds the top-left ``n x n`` corners of ``N x N`` members: the
  input is zero-padded from ``n`` to ``N`` and the first ``n`` outputs are kept.

Twiddles are stored in one array ``tw`` of shape ``(w, 2, L, N/2, 2, 2)``:
``tw[k, 0]`` are the twiddles of ``B*_k`` and ``tw[k, 1]`` those of ``B_k``.
The parameter count is ``tw.size = w * 2 * L * (N/2) * 4 = 4 w N log2 N
= 4 w n e log2(n e)``: every entry of every 2x2 block of the ``2 w L`` factors,
counting a complex entry as one parameter (as the paper does).
"""
from __future__ import annotations

import numpy as np

from numerics._linop import SquareOperator
from numerics._validation import check_array, check_finite, check_int, check_rng
from numerics.butterfly.functional import butterfly_backward, butterfly_forward
from numerics.butterfly.operator import TWIDDLE_DTYPES

__all__ = ["Kaleidoscope", "check_kaleidoscope_twiddles", "kaleidoscope_n_params"]


def _check_dtype(dtype) -> np.dtype:
    names = ", ".join(str(d) for d in TWIDDLE_DTYPES)
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be one of ({names}), got dtype={dtype!r}") from exc
    if dt not in TWIDDLE_DTYPES:
        raise TypeError(f"dtype must be one of ({names}), got dtype={dtype!r} ({dt})")
    return dt


def _sizes(n, e) -> tuple[int, int, int]:
    n = check_int("n", n, minimum=1)
    e = check_int("e", e, minimum=1)
    N = n * e
    if N < 2 or N & (N - 1):
        raise ValueError(
            f"n * e must be a power of two >= 2 for a kaleidoscope matrix, got n={n}, e={e} (n * e = {N})"
        )
    return n, e, N


def kaleidoscope_n_params(n, w, e=1) -> int:
    """``4 w n e log2(n e)``: the number of twiddle entries of a ``(BB*)^w_e`` matrix of size ``n``."""
    n, e, N = _sizes(n, e)
    w = check_int("w", w, minimum=1)
    return 4 * w * N * (N.bit_length() - 1)


def check_kaleidoscope_twiddles(tw) -> np.ndarray:
    """Validate twiddles of shape ``(w, 2, log2 N, N/2, 2, 2)`` (finite, a butterfly dtype); return them."""
    tw = check_array("twiddles", tw, dtypes=TWIDDLE_DTYPES, finite=False)
    if tw.ndim != 6 or tw.shape[1] != 2 or tw.shape[4:] != (2, 2):
        raise ValueError(f"twiddles must have shape (w, 2, log2 N, N/2, 2, 2); got shape {tw.shape}")
    w, _, L, half = tw.shape[:4]
    N = 2 * half
    if w < 1 or half < 1 or half & (half - 1) or L != N.bit_length() - 1:
        raise ValueError(
            f"twiddles must have shape (w, 2, log2 N, N/2, 2, 2) with w >= 1 and N a power of two >= 2; "
            f"got shape {tw.shape}"
        )
    check_finite("twiddles", tw)
    return tw


def _adjoint_blocks(tw: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.conj(np.swapaxes(tw, -1, -2)))


class Kaleidoscope(SquareOperator):
    """A kaleidoscope matrix in ``(BB*)^w_e``: top-left ``n x n`` corner of ``M_{w-1} ... M_0``, ``M_k = B_k B*_k``.

    Parameters
    ----------
    twiddles : ndarray, shape (w, 2, log2 N, N/2, 2, 2)
        float32, float64, complex64 or complex128, finite; ``twiddles[k, 0]`` are the
        blocks of ``B*_k`` (strides ``N/2, ..., 1``), ``twiddles[k, 1]`` those of
        ``B_k`` (strides ``1, ..., N/2``); block layout as in
        :class:`numerics.butterfly.Butterfly`.  Copied.
    n : int, optional
        Size of the corner (default ``N``).  ``N / n`` is the expansion ``e`` and must be an integer.

    Attributes
    ----------
    n, N, e, w : int
    twiddles : ndarray (read-only view)
    n_params : int
        ``twiddles.size = 4 w n e log2(n e)``.

    Examples
    --------
    >>> import numpy as np
    >>> K = Kaleidoscope.random(8, w=2, e=2, seed=0)
    >>> K.shape, K.n_params == 4 * 2 * 8 * 2 * 4
    ((8, 8), True)
    >>> x = np.arange(8.0)
    >>> bool(np.allclose(K @ x, K.todense() @ x))
    True
    """

    _noun = "kaleidoscope"
    _input_dtypes = TWIDDLE_DTYPES

    def __init__(self, twiddles, n=None):
        tw = check_kaleidoscope_twiddles(twiddles)
        self._tw = np.array(tw, order="C", copy=True)
        self._tw.flags.writeable = False
        self.w = int(tw.shape[0])
        self.N = int(2 * tw.shape[3])
        self.L = self.N.bit_length() - 1
        if n is None:
            n = self.N
        n = check_int("n", n, minimum=1)
        if n > self.N or self.N % n:
            raise ValueError(f"n={n} must divide N={self.N} (the size of the twiddles' butterflies)")
        self.n = n
        self.e = self.N // n
        self._cache = {}
        super().__init__(dtype=self._tw.dtype, shape=(n, n))

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def identity(cls, n, *, w=1, e=1, dtype=np.float64) -> "Kaleidoscope":
        """Every block ``I_2``."""
        n, e, N = _sizes(n, e)
        w = check_int("w", w, minimum=1)
        L = N.bit_length() - 1
        tw = np.zeros((w, 2, L, N // 2, 2, 2), dtype=_check_dtype(dtype))
        tw[..., 0, 0] = 1
        tw[..., 1, 1] = 1
        return cls(tw, n)

    @classmethod
    def random(cls, n, *, w=1, e=1, seed=None, dtype=np.float64) -> "Kaleidoscope":
        """I.i.d. Gaussian blocks with ``E|entry|^2 = 1/2`` (each factor preserves ``E||x||^2``)."""
        n, e, N = _sizes(n, e)
        w = check_int("w", w, minimum=1)
        dt = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        L = N.bit_length() - 1
        shape = (w, 2, L, N // 2, 2, 2)
        if dt.kind == "c":
            tw = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * 0.5
        else:
            tw = rng.standard_normal(shape) * np.sqrt(0.5)
        return cls(tw.astype(dt), n)

    # -- attributes --------------------------------------------------------------------
    @property
    def twiddles(self) -> np.ndarray:
        return self._tw.view()

    @property
    def n_params(self) -> int:
        """``4 w n e log2(n e)``, the number of stored twiddle entries."""
        return int(self._tw.size)

    def __repr__(self) -> str:
        return f"<Kaleidoscope: n={self.n}, w={self.w}, e={self.e}, N={self.N}, dtype={self.dtype}>"

    # -- products ----------------------------------------------------------------------
    def _tw_as(self, dt: np.dtype, adjoint: bool) -> np.ndarray:
        key = (dt, adjoint)
        tw = self._cache.get(key)
        if tw is None:
            tw = np.ascontiguousarray(self._tw, dtype=dt)
            if adjoint:
                tw = _adjoint_blocks(tw)
            self._cache[key] = tw
        return tw

    def apply_rows(self, X, *, adjoint: bool = False) -> np.ndarray:
        """``X @ K.T`` (or ``X @ conj(K)`` with ``adjoint``) for a batch of rows ``X`` of shape ``(batch, n)``.

        Computed in ``result_type(K.dtype, X.dtype)``; ``X`` must be finite, any layout.
        """
        X = check_array("X", X, ndim=2, dtypes=TWIDDLE_DTYPES, finite=False)
        if X.shape[1] != self.n:
            raise ValueError(f"X has shape {X.shape}; expected (batch, {self.n}) for a kaleidoscope of shape {self.shape}")
        check_finite("X", X)
        return self._apply(X, adjoint)

    def _apply(self, X: np.ndarray, adjoint: bool) -> np.ndarray:
        dt = np.result_type(self.dtype, X.dtype)
        Z = np.zeros((X.shape[0], self.N), dtype=dt)
        Z[:, : self.n] = X
        tw = self._tw_as(dt, adjoint)
        if not adjoint:
            for k in range(self.w):
                Z = butterfly_forward(Z, tw[k, 0], increasing=False)
                Z = butterfly_forward(Z, tw[k, 1], increasing=True)
        else:
            for k in range(self.w - 1, -1, -1):
                Z = butterfly_forward(Z, tw[k, 1], increasing=False)
                Z = butterfly_forward(Z, tw[k, 0], increasing=True)
        return np.ascontiguousarray(Z[:, : self.n])

    def _matvec(self, x):
        return self._apply(x.reshape(1, -1), False).reshape(x.shape)

    def _rmatvec(self, x):
        return self._apply(x.reshape(1, -1), True).reshape(x.shape)

    def _matmat(self, X):
        return self._apply(np.ascontiguousarray(X.T), False).T

    def _rmatmat(self, X):
        return self._apply(np.ascontiguousarray(X.T), True).T

    def todense(self) -> np.ndarray:
        """The dense ``n x n`` matrix (the operator applied to the identity)."""
        return self._apply(np.eye(self.n, dtype=self.dtype), False).T.copy()

    # -- gradients ---------------------------------------------------------------------
    def forward_backward(self, X, grad_Y):
        """Gradients of a real loss through ``Y = X @ K.T``: returns ``(Y, grad_X, grad_twiddles)``.

        Uses :func:`numerics.butterfly.butterfly_forward` / ``butterfly_backward`` on
        each of the ``2 w`` butterflies (intermediates of the forward pass kept).
        ``X``, ``grad_Y``: shape ``(batch, n)``, the operator's dtype.  Complex
        gradients follow :func:`numerics.butterfly.butterfly_backward`'s convention.
        """
        return kaleidoscope_forward_backward(X, self._tw, grad_Y, self.n)


def kaleidoscope_forward(X, tw, n):
    """Forward pass on rows, keeping the ``2 w + 1`` stage inputs: returns ``(Y, stages)``."""
    N = 2 * tw.shape[3]
    Z = np.zeros((X.shape[0], N), dtype=tw.dtype)
    Z[:, :n] = X
    stages = [Z]
    for k in range(tw.shape[0]):
        Z = butterfly_forward(Z, tw[k, 0], increasing=False)
        stages.append(Z)
        Z = butterfly_forward(Z, tw[k, 1], increasing=True)
        stages.append(Z)
    return np.ascontiguousarray(Z[:, :n]), stages


def kaleidoscope_backward(stages, tw, grad_Y, n):
    """Backward pass from the stages of :func:`kaleidoscope_forward`: returns ``(grad_X, grad_tw)``."""
    G = np.zeros_like(stages[0])
    G[:, :n] = grad_Y
    grad_tw = np.empty_like(tw)
    s = len(stages) - 2
    for k in range(tw.shape[0] - 1, -1, -1):
        G, grad_tw[k, 1] = butterfly_backward(stages[s], tw[k, 1], G, increasing=True)
        s -= 1
        G, grad_tw[k, 0] = butterfly_backward(stages[s], tw[k, 0], G, increasing=False)
        s -= 1
    return np.ascontiguousarray(G[:, :n]), grad_tw


def kaleidoscope_forward_backward(X, tw, grad_Y, n):
    tw = np.ascontiguousarray(check_kaleidoscope_twiddles(tw))
    X = check_array("X", X, ndim=2, dtypes=TWIDDLE_DTYPES)
    G = check_array("grad_Y", grad_Y, ndim=2, dtypes=TWIDDLE_DTYPES)
    if X.dtype != tw.dtype or G.dtype != tw.dtype:
        raise TypeError(f"X ({X.dtype}) and grad_Y ({G.dtype}) must have the twiddles' dtype {tw.dtype}")
    if X.shape[1] != n or G.shape != X.shape:
        raise ValueError(f"X has shape {X.shape}, grad_Y {G.shape}; expected both (batch, {n})")
    Y, stages = kaleidoscope_forward(X, tw, n)
    gX, gtw = kaleidoscope_backward(stages, tw, G, n)
    return Y, gX, gtw
