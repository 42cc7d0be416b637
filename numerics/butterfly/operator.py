"""Butterfly matrices as ``scipy.sparse.linalg.LinearOperator`` subclasses.

A butterfly matrix of size ``n = 2**L`` is a product of ``L`` sparse factors;
factor ``t`` (stride ``s = 2**t``) acts independently on the ``n/2`` pairs of
coordinates ``(i, i + s)`` with bit ``t`` of ``i`` clear, each through its own
2x2 block (the *twiddles*).  Twiddles are stored in an array ``tw`` of shape
``(L, n/2, 2, 2)``:

* pair ``p`` of factor ``t`` joins ``i = 2 s (p // s) + p % s`` and ``j = i + s``
  (the ``i`` with bit ``t`` clear, enumerated in increasing order);
* it maps ``(x_i, x_j) -> (a x_i + b x_j, c x_i + d x_j)`` with
  ``[[a, b], [c, d]] = tw[t, p]``.

With ``increasing=True`` the factors are applied with strides ``1, 2, ..., n/2``
in that order, so ``B = F_{L-1} ... F_1 F_0``; with ``increasing=False`` with
strides ``n/2, ..., 2, 1``, so ``B = F_0 F_1 ... F_{L-1}``.  The adjoint applies
the conjugate-transposed blocks in the reverse order.  A butterfly has
``n_params = 4 (n/2) L = 2 n log2 n`` weights and costs ``2 n log2 n``
multiply-adds per vector.
"""
from __future__ import annotations

import math

import numpy as np

from numerics._linop import SquareOperator
from numerics._validation import check_array, check_finite, check_power_of_two, check_rng

__all__ = ["Butterfly", "bit_reversal_permutation", "TWIDDLE_DTYPES"]

#: Dtypes a butterfly (and its inputs) may have.
TWIDDLE_DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.complex64, np.complex128))


def _check_dtype(dtype, *, complex_only: bool = False) -> np.dtype:
    allowed = TWIDDLE_DTYPES[2:] if complex_only else TWIDDLE_DTYPES
    names = ", ".join(str(d) for d in allowed)
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be one of ({names}), got dtype={dtype!r}") from exc
    if dt not in allowed:
        raise TypeError(f"dtype must be one of ({names}), got dtype={dtype!r} ({dt})")
    return dt


def _check_n(n) -> tuple[int, int]:
    n = check_power_of_two("n", n)
    if n < 2:
        raise ValueError(f"n must be a power of two >= 2 for a butterfly, got n={n}")
    return n, n.bit_length() - 1


def _check_twiddles(twiddles) -> np.ndarray:
    tw = check_array("twiddles", twiddles, dtypes=TWIDDLE_DTYPES, finite=False)
    if tw.ndim != 4:
        raise ValueError(
            f"twiddles must have ndim 4, shape (log2 n, n/2, 2, 2); got ndim={tw.ndim} (shape {tw.shape})"
        )
    L, half, r, c = tw.shape
    if (r, c) != (2, 2):
        raise ValueError(f"twiddles must have shape (log2 n, n/2, 2, 2); got shape {tw.shape} (last axes not (2, 2))")
    if half < 1 or half & (half - 1):
        raise ValueError(
            f"twiddles must have shape (log2 n, n/2, 2, 2) with n a power of two >= 2; got shape {tw.shape} "
            f"(n/2={half} is not a power of two >= 1)"
        )
    n = 2 * half
    if L != n.bit_length() - 1:
        raise ValueError(
            f"twiddles must have shape (log2 n, n/2, 2, 2); got shape {tw.shape}: n={n} needs "
            f"{n.bit_length() - 1} factors, got {L}"
        )
    check_finite("twiddles", tw)
    return tw


def bit_reversal_permutation(n) -> np.ndarray:
    """The bit-reversal permutation of ``range(n)``: ``perm[k]`` is ``k`` with its ``log2 n`` bits reversed.

    Parameters
    ----------
    n : int
        A power of two ``>= 1``.

    Returns
    -------
    ndarray of int64, shape (n,)
        ``perm``.  The permutation matrix is ``P = np.eye(n)[perm]`` (so ``P @ x == x[perm]``);
        it is symmetric and its own inverse.
    """
    n = check_power_of_two("n", n)
    L = n.bit_length() - 1
    k = np.arange(n, dtype=np.int64)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(L):
        rev |= ((k >> b) & 1) << (L - 1 - b)
    return rev


class Butterfly(SquareOperator):
    """A butterfly matrix ``B`` of size ``n x n`` given by its twiddles.

    Parameters
    ----------
    twiddles : ndarray, shape (log2 n, n/2, 2, 2)
        float32, float64, complex64 or complex128, finite.  ``twiddles[t, p]`` is
        the 2x2 block of pair ``p`` of the stride-``2**t`` factor; pair ``p``
        joins ``i = 2 s (p // s) + p % s`` and ``i + s`` (``s = 2**t``).  Copied.
    increasing : bool, default True
        Apply strides ``1, 2, ..., n/2`` (``True``) or ``n/2, ..., 1`` (``False``).

    Attributes
    ----------
    n, n_factors : int
        Size and ``log2 n``.
    increasing : bool
    twiddles : ndarray
        Read-only view of the stored twiddles.
    n_params : int
        ``twiddles.size = 2 n log2 n``.
    dtype : numpy.dtype
        The twiddles' dtype.  Products with an input of dtype ``d`` are computed
        in ``numpy.result_type(dtype, d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import hadamard
    >>> B = Butterfly.hadamard(8)
    >>> bool(np.allclose(B.todense(), hadamard(8) / np.sqrt(8)))
    True
    >>> F = Butterfly.dft(8)
    >>> x = np.arange(8.0)
    >>> bool(np.allclose(F @ x[bit_reversal_permutation(8)], np.fft.fft(x)))
    True
    """

    _noun = "butterfly"
    _input_dtypes = TWIDDLE_DTYPES

    def __init__(self, twiddles, *, increasing: bool = True):
        tw = _check_twiddles(twiddles)
        if not isinstance(increasing, (bool, np.bool_)):
            raise TypeError(f"increasing must be a bool, got increasing={increasing!r}")
        self._tw = np.array(tw, order="C", copy=True)
        self._tw.flags.writeable = False
        self.n_factors = tw.shape[0]
        self.n = 2 * tw.shape[1]
        self.increasing = bool(increasing)
        self._cast = {(self._tw.dtype, False): self._tw}
        forward = np.arange(self.n_factors, dtype=np.int64)
        self._order = forward if self.increasing else forward[::-1].copy()
        self._order_adjoint = self._order[::-1].copy()
        super().__init__(dtype=self._tw.dtype, shape=(self.n, self.n))

    # -- attributes --------------------------------------------------------------------
    @property
    def twiddles(self) -> np.ndarray:
        """Read-only view of the twiddles, shape ``(log2 n, n/2, 2, 2)``."""
        return self._tw.view()

    @property
    def n_params(self) -> int:
        """Number of weights, ``4 (n/2) log2 n = 2 n log2 n``."""
        return int(self._tw.size)

    def __repr__(self) -> str:
        return f"<Butterfly: n={self.n}, increasing={self.increasing}, dtype={self.dtype}>"

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def from_factors(cls, twiddles, increasing: bool = True) -> "Butterfly":
        """A butterfly from explicit twiddles (same as ``Butterfly(twiddles, increasing=...)``)."""
        return cls(twiddles, increasing=increasing)

    @classmethod
    def identity(cls, n, *, dtype=np.float64, increasing: bool = True) -> "Butterfly":
        """The identity: every block is ``I_2``."""
        n, L = _check_n(n)
        dtype = _check_dtype(dtype)
        tw = np.zeros((L, n // 2, 2, 2), dtype=dtype)
        tw[..., 0, 0] = 1
        tw[..., 1, 1] = 1
        return cls(tw, increasing=increasing)

    @classmethod
    def random(cls, n, *, seed=None, dtype=np.float64, increasing: bool = True) -> "Butterfly":
        """Random twiddles with variance-preserving scale.

        Real: every block entry i.i.d. ``N(0, 1/2)``.  Complex: real and
        imaginary parts i.i.d. ``N(0, 1/4)`` (so ``E|entry|^2 = 1/2``).  Each
        factor ``F`` then has ``E ||F x||^2 = ||x||^2`` for fixed ``x``, and since
        the factors are independent, ``E ||B x||^2 = ||x||^2``.
        """
        n, L = _check_n(n)
        dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        shape = (L, n // 2, 2, 2)
        if dtype.kind == "c":
            tw = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * 0.5
        else:
            tw = rng.standard_normal(shape) * math.sqrt(0.5)
        return cls(tw.astype(dtype), increasing=increasing)

    @classmethod
    def random_orthogonal(cls, n, *, seed=None, dtype=np.float64, increasing: bool = True) -> "Butterfly":
        """Random orthogonal (real) or unitary (complex) butterfly.

        Real: each block is a rotation ``[[c, -s], [s, c]]`` or a reflection
        ``[[c, s], [s, -c]]`` (each with probability 1/2) by a uniform angle.
        Complex: each block is a Haar-random 2x2 unitary (QR of a complex Gaussian
        matrix with the phases of ``R``'s diagonal moved into ``Q``).
        """
        n, L = _check_n(n)
        dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        shape = (L, n // 2)
        if dtype.kind == "c":
            G = rng.standard_normal(shape + (2, 2)) + 1j * rng.standard_normal(shape + (2, 2))
            Q, R = np.linalg.qr(G)
            d = np.diagonal(R, axis1=-2, axis2=-1)
            tw = Q * (d / np.abs(d))[..., None, :]
        else:
            theta = rng.uniform(0.0, 2 * np.pi, size=shape)
            reflect = rng.integers(0, 2, size=shape).astype(bool)
            c, s = np.cos(theta), np.sin(theta)
            tw = np.empty(shape + (2, 2))
            tw[..., 0, 0] = c
            tw[..., 1, 0] = s
            tw[..., 0, 1] = np.where(reflect, s, -s)
            tw[..., 1, 1] = np.where(reflect, -c, c)
        return cls(tw.astype(dtype), increasing=increasing)

    @classmethod
    def hadamard(cls, n, *, normalized: bool = True, dtype=np.float64, increasing: bool = True) -> "Butterfly":
        """The Walsh-Hadamard matrix (Sylvester order): every block ``[[1, 1], [1, -1]]``.

        With ``normalized=True`` the blocks are divided by ``sqrt 2`` and the
        product is ``H_n / sqrt(n)`` (``H_n = scipy.linalg.hadamard(n)``);
        otherwise it is ``H_n``.  The factors commute, so both orders agree.
        """
        n, L = _check_n(n)
        dtype = _check_dtype(dtype)
        tw = np.empty((L, n // 2, 2, 2))
        tw[...] = [[1.0, 1.0], [1.0, -1.0]]
        if normalized:
            tw /= math.sqrt(2.0)
        return cls(tw.astype(dtype), increasing=increasing)

    @classmethod
    def fjlt(cls, n, *, seed=None, dtype=np.float64, increasing: bool = True, return_signs: bool = False):
        """The FJLT rotation ``H_n D / sqrt(n)`` with random signs ``D`` folded into the first factor.

        ``D = diag(d)``, ``d`` i.i.d. uniform in ``{-1, +1}``.  The first applied
        factor (stride 1 if ``increasing`` else ``n/2``) gets the blocks
        ``[[d_i, d_j], [d_i, -d_j]] / sqrt 2`` for its pair ``(i, j)``, the others
        the normalised Hadamard blocks.

        Returns
        -------
        Butterfly, or (Butterfly, ndarray of float64 shape (n,)) if ``return_signs``.
        """
        n, L = _check_n(n)
        dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        d = (2 * rng.integers(0, 2, size=n) - 1).astype(np.float64)
        tw = np.empty((L, n // 2, 2, 2))
        tw[...] = [[1.0, 1.0], [1.0, -1.0]]
        t0 = 0 if increasing else L - 1
        s = 1 << t0
        p = np.arange(n // 2)
        i = 2 * s * (p // s) + p % s
        j = i + s
        tw[t0, :, 0, 0] = d[i]
        tw[t0, :, 1, 0] = d[i]
        tw[t0, :, 0, 1] = d[j]
        tw[t0, :, 1, 1] = -d[j]
        tw /= math.sqrt(2.0)
        B = cls(tw.astype(dtype), increasing=increasing)
        return (B, d) if return_signs else B

    @classmethod
    def dft(cls, n, *, dtype=np.complex128, increasing: bool = True) -> "Butterfly":
        """The unnormalised DFT ``F = numpy.fft.fft(np.eye(n))`` as a butterfly and a bit reversal.

        With ``P = np.eye(n)[bit_reversal_permutation(n)]``:

        * ``increasing=True`` (Cooley-Tukey decimation in time): ``F = B @ P``,
          i.e. ``fft(x) = B @ x[perm]``.  Stride-``s`` blocks are ``[[1, w], [1, -w]]``
          with ``w = exp(-2 pi i k / (2 s))``, ``k = i mod s``.
        * ``increasing=False`` (Gentleman-Sande decimation in frequency): ``F = P @ B``,
          i.e. ``fft(x) = (B @ x)[perm]``.  Blocks ``[[1, 1], [w, -w]]``.
        """
        n, L = _check_n(n)
        dtype = _check_dtype(dtype, complex_only=True)
        tw = np.empty((L, n // 2, 2, 2), dtype=np.complex128)
        p = np.arange(n // 2)
        for t in range(L):
            s = 1 << t
            w = np.exp(-2j * np.pi * (p % s) / (2 * s))
            if increasing:
                tw[t, :, 0, 0] = 1
                tw[t, :, 0, 1] = w
                tw[t, :, 1, 0] = 1
                tw[t, :, 1, 1] = -w
            else:
                tw[t, :, 0, 0] = 1
                tw[t, :, 0, 1] = 1
                tw[t, :, 1, 0] = w
                tw[t, :, 1, 1] = -w
        return cls(tw.astype(dtype), increasing=increasing)

    # -- products ----------------------------------------------------------------------
    def _twiddles_as(self, dtype: np.dtype, adjoint: bool = False) -> np.ndarray:
        """Twiddles in ``dtype``; with ``adjoint``, every block conjugate-transposed (cached)."""
        tw = self._cast.get((dtype, adjoint))
        if tw is None:
            src = np.conj(np.swapaxes(self._tw, -1, -2)) if adjoint else self._tw
            tw = np.ascontiguousarray(src, dtype=dtype)
            self._cast[(dtype, adjoint)] = tw
        return tw

    def apply_rows(self, X, *, adjoint: bool = False) -> np.ndarray:
        """Apply ``B`` (or ``B^H``) to every row of ``X``: returns ``X @ B.T`` (or ``X @ conj(B)``).

        Parameters
        ----------
        X : ndarray, shape (batch, n)
            float32/float64/complex64/complex128, finite, any layout.
        adjoint : bool, default False

        Returns
        -------
        ndarray, shape (batch, n), dtype ``result_type(B.dtype, X.dtype)``
        """
        X = check_array("X", X, ndim=2, dtypes=TWIDDLE_DTYPES, finite=False)
        if X.shape[1] != self.n:
            raise ValueError(f"X has shape {X.shape}; expected {self.n} columns (one vector per row) for a butterfly of shape {self.shape}")
        check_finite("X", X)
        return self._apply(X, adjoint)

    def _apply(self, rows: np.ndarray, adjoint: bool) -> np.ndarray:
        from .functional import _forward_into

        dt = np.result_type(self.dtype, rows.dtype)
        src = np.ascontiguousarray(rows, dtype=dt)
        out = np.empty(src.shape, dtype=dt)
        # B^H is itself a butterfly: conjugate-transposed blocks applied in the reverse order.
        tw = self._twiddles_as(dt, adjoint)
        _forward_into(src, tw, self._order_adjoint if adjoint else self._order, out)
        return out

    # Public products check their input once (SquareOperator); the private ones run on it.
    def _matvec(self, x):
        return self._apply(x.reshape(1, -1), False).reshape(x.shape)

    def _rmatvec(self, x):
        return self._apply(x.reshape(1, -1), True).reshape(x.shape)

    def _matmat(self, X):
        return self._apply(X.T, False).T

    def _rmatmat(self, X):
        return self._apply(X.T, True).T

    def _adjoint(self) -> "Butterfly":
        """``B^H`` as a butterfly: conjugate-transposed blocks, strides in the opposite order."""
        return Butterfly(self._twiddles_as(self._tw.dtype, adjoint=True), increasing=not self.increasing)

    def todense(self) -> np.ndarray:
        """The dense ``n x n`` matrix ``B`` (computed by applying ``B`` to the identity)."""
        return self._apply(np.eye(self.n, dtype=self.dtype), False).T.copy()
