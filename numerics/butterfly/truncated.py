"""Truncated butterflies: a butterfly followed by keeping a fixed subset of its outputs.

A truncated butterfly ``T = S B`` of shape ``(l, n)`` applies an ``n x n``
:class:`~numerics.butterfly.Butterfly` ``B`` and keeps the ``l`` outputs listed
in ``keep`` (``S = np.eye(n)[keep]``).  This is the paper's ``J1``/``J2``
building block (Ailon et al. 2021): initialised as an FJLT, a truncated
butterfly is a fast Johnson-Lindenstrauss projection onto ``l`` coordinates.

Only weights that can influence a kept output matter (the others receive zero
gradient and may be dropped); :attr:`TruncatedButterfly.n_weights_used` counts
them exactly by a backward reachability sweep over the factors.  See
``theory/butterfly.md`` for the count and its bound ``2 n log2 l + 2 n - 2 l``
(sharper than the paper's ``2 n log2 l + 6 n``).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from numerics._validation import check_array, check_int, check_rng

from .operator import TWIDDLE_DTYPES, Butterfly

__all__ = ["TruncatedButterfly", "KINDS", "max_weights_used"]

#: Constructions accepted by :meth:`TruncatedButterfly.random`.
KINDS = ("fjlt", "random", "orthogonal")


def _check_keep(keep, n: int) -> np.ndarray:
    """``keep`` as a read-only int64 array of strictly increasing indices in ``[0, n)``."""
    arr = keep if isinstance(keep, np.ndarray) else np.asarray(keep)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"keep has dtype {arr.dtype}; expected an integer array of output indices "
            f"(bool masks and floats are not accepted; use np.flatnonzero(mask) for a mask)"
        )
    if arr.ndim != 1:
        raise ValueError(f"keep must be 1-D, got ndim={arr.ndim} (shape {arr.shape})")
    l = arr.shape[0]
    if not 1 <= l <= n:
        raise ValueError(f"keep has l={l} entries; expected 1 <= l <= n={n} distinct output indices")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise ValueError(f"keep contains index {bad}, out of range; expected indices 0 <= k < n={n}")
    out = np.array(arr, dtype=np.int64, copy=True)
    uniq = np.unique(out)
    if uniq.shape[0] != l:
        vals, counts = np.unique(out, return_counts=True)
        raise ValueError(
            f"keep contains duplicate indices (e.g. {int(vals[counts > 1][0])}); expected l distinct output indices"
        )
    if np.any(np.diff(out) < 0):
        raise ValueError("keep must be sorted in increasing order; pass np.sort(keep) if that is what you want")
    out.flags.writeable = False
    return out


def max_weights_used(n, l) -> int:
    """The largest :attr:`TruncatedButterfly.n_weights_used` over all ``l``-subsets of ``n`` outputs.

    ``W(n, l) = 2 * sum_{u=0}^{log2(n)-1} min(n, l * 2**u)`` (closed form; see
    ``theory/butterfly.md``).  It is attained by a contiguous block of outputs
    for increasing strides and by evenly spread outputs for decreasing strides,
    and ``W(n, l) <= 2 n log2 l + 2 n - 2 l`` (equality iff ``l`` is a power of two).
    """
    from .operator import _check_n

    n, L = _check_n(n)
    l = check_int("l", l, minimum=1, maximum=n)
    u = np.arange(L, dtype=np.int64)
    return int(2 * np.minimum(n, l * (np.int64(1) << u)).sum())


class TruncatedButterfly(LinearOperator):
    """``T = B[keep]``: a butterfly ``B`` (``n x n``) restricted to the outputs ``keep`` (shape ``(l, n)``).

    Parameters
    ----------
    butterfly : Butterfly
        The full butterfly (kept by reference; its twiddles are read-only).
    keep : array_like of int, shape (l,)
        Distinct output indices in ``[0, n)``, sorted increasingly, ``1 <= l <= n``.
        Integer dtype required (no bool masks, no floats).  Copied.

    Attributes
    ----------
    butterfly : Butterfly
    keep : ndarray of int64, shape (l,)
        Read-only.
    n, l : int
        Input and output sizes.
    n_params : int
        Weights stored (``butterfly.n_params = 2 n log2 n``).
    n_weights_used : int
        Weights that reach a kept output (see :attr:`weights_used_mask`).

    Examples
    --------
    >>> import numpy as np
    >>> T = TruncatedButterfly.random(16, 4, seed=0)
    >>> T.shape, T.n_params, T.n_weights_used
    ((4, 16), 128, 72)
    >>> x = np.ones(16)
    >>> bool(np.allclose(T @ x, T.butterfly.todense()[T.keep] @ x))
    True
    """

    def __init__(self, butterfly, keep):
        if not isinstance(butterfly, Butterfly):
            raise TypeError(f"butterfly must be a numerics.butterfly.Butterfly, got {type(butterfly).__name__}")
        self.butterfly = butterfly
        self.n = butterfly.n
        self.keep = _check_keep(keep, self.n)
        self.l = int(self.keep.shape[0])
        self._mask = None
        super().__init__(dtype=butterfly.dtype, shape=(self.l, self.n))

    def __repr__(self) -> str:
        return (
            f"<TruncatedButterfly: l={self.l}, n={self.n}, increasing={self.butterfly.increasing}, "
            f"dtype={self.dtype}>"
        )

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def random(cls, n, l, *, seed=None, kind: str = "fjlt", dtype=np.float64, increasing: bool = True):
        """A truncated butterfly keeping ``l`` of ``n`` outputs chosen uniformly at random.

        Parameters
        ----------
        n : int
            Power of two ``>= 2``.
        l : int
            ``1 <= l <= n``.
        seed : None, int, SeedSequence or Generator
            Draws ``keep`` (uniform ``l``-subset, sorted) and then the butterfly.
        kind : {"fjlt", "random", "orthogonal"}
            :meth:`Butterfly.fjlt`, :meth:`Butterfly.random` or :meth:`Butterfly.random_orthogonal`.
        dtype, increasing
            Passed to the butterfly constructor.
        """
        from .operator import _check_n

        n, _ = _check_n(n)
        l = check_int("l", l, minimum=1, maximum=n)
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got kind={kind!r}")
        rng = check_rng("seed", seed)
        keep = np.sort(rng.choice(n, size=l, replace=False)).astype(np.int64)
        if kind == "fjlt":
            B = Butterfly.fjlt(n, seed=rng, dtype=dtype, increasing=increasing)
        elif kind == "random":
            B = Butterfly.random(n, seed=rng, dtype=dtype, increasing=increasing)
        else:
            B = Butterfly.random_orthogonal(n, seed=rng, dtype=dtype, increasing=increasing)
        return cls(B, keep)

    # -- weight counts -----------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """Weights stored in the underlying butterfly, ``2 n log2 n``."""
        return self.butterfly.n_params

    @property
    def weights_used_mask(self) -> np.ndarray:
        """Boolean array shaped like the twiddles: ``True`` where a weight reaches a kept output.

        Entry ``(r, c)`` of block ``p`` of factor ``t`` writes output ``i`` (``r = 0``)
        or ``j`` (``r = 1``) of that factor, where ``(i, j)`` is the pair of ``p``.  It is
        used iff that index, after factor ``t``, has a path through the factors
        applied later to an index in ``keep``.  Computed by one backward sweep over
        the factors: the set reaching ``keep`` before a stride-``s`` factor is the set
        after it together with its image under ``k -> k XOR s``.
        """
        if self._mask is None:
            B = self.butterfly
            n, L = self.n, B.n_factors
            reach = np.zeros(n, dtype=bool)
            reach[self.keep] = True
            idx = np.arange(n, dtype=np.int64)
            p = np.arange(n // 2, dtype=np.int64)
            mask = np.zeros((L, n // 2, 2, 2), dtype=bool)
            applied = range(L) if B.increasing else range(L - 1, -1, -1)
            for t in reversed(list(applied)):  # last applied factor first
                s = 1 << t
                i = 2 * s * (p // s) + p % s
                mask[t, :, 0, :] = reach[i][:, None]
                mask[t, :, 1, :] = reach[i + s][:, None]
                reach = reach | reach[idx ^ s]
            mask.flags.writeable = False
            self._mask = mask
        return self._mask

    @property
    def n_weights_used(self) -> int:
        """Number of twiddle weights that reach a kept output (``weights_used_mask.sum()``)."""
        return int(np.count_nonzero(self.weights_used_mask))

    # -- products ----------------------------------------------------------------------
    def _check_out(self, name: str, y, ndim: tuple) -> np.ndarray:
        y = check_array(name, y, ndim=ndim, dtypes=TWIDDLE_DTYPES, finite=True)
        if y.shape[0] != self.l:
            raise ValueError(
                f"{name} has shape {y.shape}; expected {self.l} rows (shape ({self.l},) or ({self.l}, k)) "
                f"for the adjoint of a truncated butterfly of shape {self.shape}"
            )
        return y

    def _scatter(self, y: np.ndarray) -> np.ndarray:
        z = np.zeros((self.n,) + y.shape[1:], dtype=y.dtype)
        z[self.keep] = y
        return z

    def apply_rows(self, X, *, adjoint: bool = False) -> np.ndarray:
        """Apply ``T`` to every row: ``X @ T.T`` (``X`` of shape ``(batch, n)``), or with
        ``adjoint=True`` ``X @ conj(T)`` (``X`` of shape ``(batch, l)``, result ``(batch, n)``)."""
        if not adjoint:
            return self.butterfly.apply_rows(X)[:, self.keep]
        X = check_array("X", X, ndim=2, dtypes=TWIDDLE_DTYPES, finite=True)
        if X.shape[1] != self.l:
            raise ValueError(f"X has shape {X.shape}; expected {self.l} columns for the adjoint of a truncated butterfly of shape {self.shape}")
        Z = np.zeros((X.shape[0], self.n), dtype=X.dtype)
        Z[:, self.keep] = X
        return self.butterfly.apply_rows(Z, adjoint=True)

    def matvec(self, x):
        return self._matvec(x)

    def matmat(self, X):
        return self._matmat(X)

    def rmatvec(self, y):
        return self._rmatvec(y)

    def rmatmat(self, Y):
        return self._rmatmat(Y)

    def _matvec(self, x):
        return self.butterfly.matvec(x)[self.keep]

    def _matmat(self, X):
        return self.butterfly.matmat(X)[self.keep]

    def _rmatvec(self, y):
        y = self._check_out("y", y, (1, 2))
        return self.butterfly.rmatvec(self._scatter(y))

    def _rmatmat(self, Y):
        Y = self._check_out("Y", Y, (2,))
        return self.butterfly.rmatmat(self._scatter(Y))

    def _adjoint(self) -> "_TruncatedAdjoint":
        """``T^H`` (shape ``(n, l)``): scatter into the kept outputs, then ``B^H``."""
        return _TruncatedAdjoint(self)

    def todense(self) -> np.ndarray:
        """The dense ``l x n`` matrix ``B[keep]``."""
        return self.butterfly.todense()[self.keep]


class _TruncatedAdjoint(LinearOperator):
    """The adjoint of a :class:`TruncatedButterfly`, with its input checks and messages."""

    def __init__(self, T: TruncatedButterfly):
        self._op = T
        super().__init__(dtype=T.dtype, shape=(T.n, T.l))

    def matvec(self, y):
        return self._op._rmatvec(y)

    def matmat(self, Y):
        return self._op._rmatmat(Y)

    def rmatvec(self, x):
        return self._op._matvec(x)

    def rmatmat(self, X):
        return self._op._matmat(X)

    _matvec, _matmat, _rmatvec, _rmatmat = matvec, matmat, rmatvec, rmatmat

    def _adjoint(self) -> TruncatedButterfly:
        return self._op

    def todense(self) -> np.ndarray:
        return self._op.todense().conj().T
