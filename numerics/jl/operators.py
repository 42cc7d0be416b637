"""Johnson-Lindenstrauss projections as ``scipy.sparse.linalg.LinearOperator`` subclasses.

Four random ``k x n_features`` maps ``J`` with ``E ||J x||^2 = ||x||^2`` for every
fixed ``x``:

* :class:`SRHT`: the subsampled randomized Hadamard transform
  ``J = sqrt(n/k) S (H/sqrt n) D`` (``n`` the padded power of two);
* :class:`AilonChazelle`: the original FJLT ``J = k^{-1/2} P (H/sqrt n) D`` with a
  sparse Gaussian ``P``;
* :class:`GaussianProjection`: a dense matrix with ``N(0, 1/k)`` entries;
* :class:`SparseProjection`: Achlioptas / Li "very sparse" random signs.

Every operator is built from a ``seed`` (``None``, a non-negative int, a
``numpy.random.SeedSequence`` or ``Generator``), has an explicit ``dtype``
(float32 or float64) and implements the forward map, the adjoint
(``rmatvec``/``rmatmat``, so ``op.H`` works), :meth:`~_JLOperator.todense` and a batch
method :meth:`~_JLOperator.project` for data matrices whose *rows* are samples.

Input vectors must be float32 or float64 and finite; the result has dtype
``numpy.result_type(op.dtype, x.dtype)`` (a float32 operator applied to float64
data computes in float64, like a float32 matrix would).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import LinearOperator

from numerics._validation import (
    FLOAT_DTYPES,
    check_array,
    check_finite,
    check_int,
    check_rng,
)

__all__ = [
    "SRHT",
    "AilonChazelle",
    "GaussianProjection",
    "SparseProjection",
    "srht_project",
    "default_block_size",
    "ailon_chazelle_q",
]

#: Batches with at least this many rows use the parallel (prange) kernels.
PARALLEL_MIN_ROWS = 64


def _next_pow2(n: int) -> int:
    """Smallest power of two ``>= n`` (``n >= 1``); the padded length of the Hadamard operators."""
    return 1 << (n - 1).bit_length()


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r} ({dt})")
    return dt


def _check_k(k, n_features: int) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k (n_components) must be an integer, got k={k!r} of type {type(k).__name__}")
    k = int(k)
    if k <= 0 or k > n_features:
        raise ValueError(
            f"k (n_components) must satisfy 1 <= k <= n_features, got k={k} with n_features={n_features}"
        )
    return k


def _sparse_mask(rng: np.random.Generator, rows: int, cols: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions of i.i.d. Bernoulli(p) entries of a ``rows x cols`` matrix, in CSR order.

    Drawn as a Binomial total followed by a uniform subset of that size, which
    has exactly the law of independent Bernoulli entries and costs O(nnz).
    """
    total = rows * cols
    if p >= 1.0:
        flat = np.arange(total, dtype=np.int64)
    else:
        nnz = int(rng.binomial(total, p))
        flat = np.sort(rng.choice(total, size=nnz, replace=False).astype(np.int64))
    return flat // cols, flat % cols


def _csr(values, rows, cols, shape, dtype) -> sparse.csr_array:
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    np.cumsum(indptr, out=indptr)
    return sparse.csr_array((np.asarray(values, dtype=dtype), cols.astype(np.int64), indptr), shape=shape)


class _JLOperator(LinearOperator):
    """Shared validation, adjoint plumbing, ``todense`` and ``project`` of the JL operators."""

    kind = "jl"

    def __init__(self, n_features: int, k: int, dtype):
        self.n_features = n_features
        self.n_components = k
        super().__init__(dtype=dtype, shape=(k, n_features))

    # -- attributes ----------------------------------------------------------------
    @property
    def k(self) -> int:
        """Target dimension (alias of ``n_components``)."""
        return self.n_components

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: n_features={self.n_features}, k={self.n_components}, dtype={self.dtype}>"

    # -- validation ----------------------------------------------------------------
    def _out_dtype(self, x: np.ndarray) -> np.dtype:
        return np.result_type(self.dtype, x.dtype)

    def _check_vector(self, name: str, x, length: int, *, finite: bool = True) -> np.ndarray:
        x = check_array(name, x, ndim=(1, 2), finite=False)
        if x.shape != (length,) and x.shape != (length, 1):
            raise ValueError(
                f"{name} has shape {x.shape}; expected ({length},) or ({length}, 1) for an operator of shape {self.shape}"
            )
        if finite:
            check_finite(name, x)
        return x

    def _check_matrix(self, name: str, X, rows: int, *, finite: bool = True, what: str = "rows") -> np.ndarray:
        if sparse.issparse(X):
            raise TypeError(f"{name} is a scipy.sparse matrix; pass a dense float32/float64 ndarray (X.toarray())")
        X = check_array(name, X, ndim=2, finite=False)
        if X.shape[0] != rows:
            raise ValueError(
                f"{name} has shape {X.shape}; expected {rows} {what} to match an operator of shape {self.shape}"
            )
        if finite:
            check_finite(name, X)
        return X

    # -- public products with informative shape errors --------------------------------
    def matvec(self, x):
        x = self._check_vector("x", x, self.shape[1], finite=False)
        return super().matvec(x)

    def rmatvec(self, x):
        x = self._check_vector("x", x, self.shape[0], finite=False)
        return super().rmatvec(x)

    def matmat(self, X):
        X = self._check_matrix("X", X, self.shape[1], finite=False)
        return super().matmat(X)

    def rmatmat(self, X):
        X = self._check_matrix("X", X, self.shape[0], finite=False)
        return super().rmatmat(X)

    # -- the operator through its columns ----------------------------------------------
    # (vectors and column batches are checked for NaN/inf up front so that the error
    # names their own indices; the row-batch path ``project`` avoids that extra pass)
    def _matvec(self, x):
        x = self._check_vector("x", x, self.shape[1])
        return self._project(x.reshape(1, -1), "x").reshape(-1)

    def _rmatvec(self, x):
        x = self._check_vector("x", x, self.shape[0])
        return self._project_adjoint(x.reshape(1, -1), "x").reshape(-1)

    def _matmat(self, X):
        X = self._check_matrix("X", X, self.shape[1])
        return self._project(X.T, "X").T

    def _rmatmat(self, X):
        X = self._check_matrix("X", X, self.shape[0])
        return self._project_adjoint(X.T, "X").T

    # -- batch API ---------------------------------------------------------------------
    def project(self, X) -> np.ndarray:
        """Project the rows of ``X`` (shape ``(N, n_features)``): returns ``X @ J.T``, shape ``(N, k)``.

        Parameters
        ----------
        X : ndarray of float32 or float64, shape (N, n_features)
            Data matrix, one sample per row; any memory layout.

        Returns
        -------
        ndarray, shape (N, k)
            Row ``r`` is ``J @ X[r]``; dtype ``result_type(op.dtype, X.dtype)``.
        """
        X = self._check_rows("X", X, self.n_features)
        return self._project(X, "X")

    def project_adjoint(self, Y) -> np.ndarray:
        """Apply the adjoint to the rows of ``Y`` (shape ``(N, k)``): returns ``Y @ J``."""
        Y = self._check_rows("Y", Y, self.n_components)
        return self._project_adjoint(Y, "Y")

    def _check_rows(self, name: str, X, cols: int) -> np.ndarray:
        if sparse.issparse(X):
            raise TypeError(f"{name} is a scipy.sparse matrix; pass a dense float32/float64 ndarray ({name}.toarray())")
        X = check_array(name, X, ndim=2, finite=False)
        if X.shape[1] != cols:
            raise ValueError(
                f"{name} has shape {X.shape}; expected {cols} columns (one sample per row) for an operator of shape {self.shape}"
            )
        return X

    def todense(self) -> np.ndarray:
        """The ``k x n_features`` matrix of the operator, computed by applying it to the identity."""
        return self.project(np.eye(self.n_features, dtype=self.dtype)).T.copy()

    # subclasses implement these on row-major batches (rows = samples), validating finiteness
    def _project(self, X, name):  # pragma: no cover - abstract
        raise NotImplementedError

    def _project_adjoint(self, Y, name):  # pragma: no cover - abstract
        raise NotImplementedError


# =====================================================================================
# SRHT
# =====================================================================================


def default_block_size(n_padded: int, k: int) -> int:
    """Block length ``b`` of the split ``H_n = H_{n/b} (x) H_b`` used by the SRHT kernels.

    Per row the kernel costs about ``n log2(n/b)`` additions for the transform
    across blocks plus ``k b`` multiply-adds for the kept outputs (see
    ``numerics/jl/_kernels.py``); in operation count the optimum is
    ``b = n/(k ln 2)``.  The two steps run at different speeds (the first
    streams the whole buffer through the cache once per stage, the second is a
    vectorised dot product against a ``k x b`` sign table), so ``b`` minimises
    ``n log2(n/b) + k b / GAMMA`` over powers of two, with ``GAMMA = 3``, and is
    capped at ``MAX_BLOCK = 256`` so that the table stays small; both constants
    were measured on the benchmark machine (``python -m numerics bench``).
    """
    n_padded = check_int("n_padded", n_padded, minimum=1)
    k = check_int("k", k, minimum=1)
    gamma, max_block = 3.0, 256
    best_b, best_cost = 1, float("inf")
    b = 1
    while b <= min(n_padded, max_block):
        cost = n_padded * math.log2(n_padded // b) + k * b / gamma
        if cost < best_cost:
            best_b, best_cost = b, cost
        b *= 2
    return best_b


class SRHT(_JLOperator):
    r"""Subsampled randomized Hadamard transform ``J = sqrt(n/k) S (H/sqrt n) D``.

    Parameters
    ----------
    n_features : int
        Input dimension ``m >= 1``.  Any value is allowed: the operator acts on
        ``R^m`` by zero-padding ``x`` to ``n = n_padded``, the next power of two
        (``J x = sqrt(n/k) S (H_n/sqrt n) D [x; 0]``).  The padding is part of the
        operator's definition, so the adjoint drops the padded coordinates.
    k : int
        Target dimension, ``1 <= k <= n_features``.
    seed : None, int, SeedSequence or Generator, optional
        Source of the random signs and kept rows.
    dtype : float32 or float64, default float64
        Dtype of the operator.
    block_size : int, optional
        Power of two ``b <= n_padded`` for the split ``H_n = H_{n/b} (x) H_b`` used by the
        kernels (a performance knob: the operator is the same for every ``b``; ``b = 1``
        is the plain full transform followed by sampling).  Default: :func:`default_block_size`.

    Attributes
    ----------
    n_features, n_components (alias ``k``), n_padded : int
    signs : ndarray, shape (n_features,)
        The diagonal of ``D`` (``+-1``); padded coordinates are zero, so their signs do not matter.
    indices : ndarray of int64, shape (k,)
        The rows of ``H_n`` kept by ``S``: ``k`` distinct indices drawn uniformly
        *without replacement* from ``range(n_padded)``, stored in increasing order.
    scale : float
        ``1/sqrt(k)`` (``= sqrt(n/k) / sqrt(n)``).

    Notes
    -----
    Since ``(H/sqrt n) D`` is orthogonal and every coordinate is kept with
    probability ``k/n``, ``E ||J x||^2 = ||x||^2`` for every ``x`` (see
    ``theory/jl.md``).  ``J J^T = (n/k) I_k``.

    Examples
    --------
    >>> import numpy as np
    >>> J = SRHT(1000, 64, seed=0)
    >>> J.shape, J.n_padded
    ((64, 1000), 1024)
    >>> x = np.ones(1000) / np.sqrt(1000)
    >>> y = J @ x
    >>> y.shape
    (64,)
    """

    kind = "srht"

    def __init__(self, n_features, k, *, seed=None, dtype=np.float64, block_size=None):
        n_features = check_int("n_features", n_features, minimum=1)
        k = _check_k(k, n_features)
        dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        n_padded = _next_pow2(n_features)
        signs = (2 * rng.integers(0, 2, size=n_features) - 1).astype(np.float64)
        indices = np.sort(rng.choice(n_padded, size=k, replace=False).astype(np.int64))
        self._setup(n_features, indices, signs, dtype, block_size)

    @classmethod
    def from_parts(cls, indices, signs, *, dtype=np.float64, block_size=None) -> "SRHT":
        """An SRHT with given kept rows and signs (``n_features = len(signs)``).

        Parameters
        ----------
        indices : array_like of int, shape (k,)
            Distinct rows of ``H_n`` to keep, in ``[0, n_padded)`` (stored in increasing order).
        signs : array_like, shape (n_features,)
            Diagonal of ``D``, entries ``+1`` or ``-1`` (all ones gives ``S H`` without signs).
        """
        signs = np.asarray(signs)
        if signs.ndim != 1 or signs.size == 0:
            raise ValueError(f"signs must be a non-empty 1-D array, got shape {signs.shape}")
        if signs.dtype.kind not in "iuf" or not np.all(np.abs(signs) == 1):
            raise ValueError("signs must contain only +1 and -1")
        n_features = signs.size
        indices = np.asarray(indices)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise TypeError(f"indices must be a 1-D integer array, got dtype {indices.dtype} and shape {indices.shape}")
        _check_k(int(indices.size), n_features)
        n_padded = _next_pow2(n_features)
        if indices.min() < 0 or indices.max() >= n_padded:
            raise ValueError(f"indices must lie in [0, n_padded={n_padded}), got range [{indices.min()}, {indices.max()}]")
        order = np.sort(indices.astype(np.int64))
        if np.any(np.diff(order) == 0):
            raise ValueError("indices must be distinct (S samples rows without replacement)")
        self = cls.__new__(cls)
        self._setup(n_features, order, signs.astype(np.float64), _check_dtype(dtype), block_size)
        return self

    def _setup(self, n_features, indices, signs, dtype, block_size):
        k = indices.size
        super().__init__(n_features, k, dtype)
        self.n_padded = _next_pow2(n_features)
        self.indices = indices
        self.signs = signs.astype(dtype)
        self.scale = 1.0 / math.sqrt(k)
        if block_size is None:
            block_size = default_block_size(self.n_padded, k)
        block_size = check_int("block_size", block_size, minimum=1, maximum=self.n_padded)
        if block_size & (block_size - 1):
            raise ValueError(f"block_size must be a power of two, got block_size={block_size}")
        self.block_size = block_size
        self._tables: dict = {}

    def _table(self, dtype):
        dtype = np.dtype(dtype)
        if dtype not in self._tables:
            from ._kernels import srht_table

            table, blk = srht_table(self.indices, self.block_size, self.scale, dtype)
            self._tables[dtype] = (np.ascontiguousarray(self.signs, dtype=dtype), table, blk)
        return self._tables[dtype]

    def _run(self, forward: bool, X: np.ndarray, name: str) -> np.ndarray:
        from . import _kernels as _k

        dtype = self._out_dtype(X)
        if X.dtype != dtype:
            X = X.astype(dtype)  # promotion float32 -> float64 (documented), never a demotion
        elif X.shape[0] > 1 and X.shape[1] > 1 and X.strides[0] == X.itemsize:
            # column-major batch (e.g. the transposed view from matmat): one copy makes every
            # row contiguous; other layouts (any strides) are read directly by the kernel
            X = np.ascontiguousarray(X)
        signs, table, blk = self._table(dtype)
        n_rows = X.shape[0]
        out = np.empty((n_rows, self.n_components if forward else self.n_features), dtype=dtype)
        if n_rows == 0:
            return out
        b = self.block_size
        a = self.n_padded // b
        parallel = n_rows >= PARALLEL_MIN_ROWS and _threads() > 1
        n_chunks = min(n_rows, 4 * _threads()) if parallel else 1
        scratch = np.empty((n_chunks, self.n_padded), dtype=dtype)
        if forward:
            kern = _k.srht_rows_parallel if parallel else _k.srht_rows
        else:
            kern = _k.srht_adjoint_rows_parallel if parallel else _k.srht_adjoint_rows
        kern(X, signs, a, b, table, blk, scratch, out)
        # Every output is a +-1 combination of every input, and a NaN or inf never
        # becomes finite under +, - and scaling: the (small) output is finite iff the
        # input was, unless a finite input overflowed.  This avoids a pass over X.
        if not np.isfinite(out).all():
            check_finite(name, X)
            raise FloatingPointError(
                f"the projection of {name} overflowed {dtype} (inputs are finite but the transform of "
                f"magnitude up to {np.abs(X).max():.3g} times sqrt(n)={math.sqrt(self.n_padded):.3g} is not)"
            )
        return out

    def _project(self, X, name):
        return self._run(True, X, name)

    def _project_adjoint(self, Y, name):
        return self._run(False, Y, name)


def srht_project(X, op: SRHT) -> np.ndarray:
    """Project the rows of ``X`` through the SRHT ``op`` with the fused Numba kernel.

    Per row, the signs, the zero-padding, the Hadamard transform and the
    subsampling happen in one pass with a per-thread scratch buffer; rows run
    in parallel (``prange``) when there are many of them.  Only the ``k`` kept
    outputs are computed: the transform is split as ``H_n = H_{n/b} (x) H_b``,
    the ``H_{n/b}`` part is applied to whole blocks of length ``b`` and the
    ``H_b`` part only as ``k`` signed dot products of length ``b`` (see
    :func:`default_block_size` and ``theory/jl.md``).

    Parameters
    ----------
    X : ndarray of float32/float64, shape (N, op.n_features)
        Data matrix, one sample per row; any strides.
    op : SRHT
        The operator.

    Returns
    -------
    ndarray, shape (N, op.k)
        ``X @ op.todense().T``, dtype ``result_type(op.dtype, X.dtype)``.

    Raises
    ------
    TypeError
        If ``op`` is not an :class:`SRHT` or ``X`` has a non-float dtype.
    ValueError
        If ``X`` has the wrong shape or contains NaN/inf.
    """
    if not isinstance(op, SRHT):
        raise TypeError(f"op must be an SRHT operator, got {type(op).__name__}")
    return op.project(X)


def _threads() -> int:
    import numba

    return numba.get_num_threads()


# =====================================================================================
# Ailon-Chazelle
# =====================================================================================


def ailon_chazelle_q(n_padded: int) -> float:
    """Default density ``q = min(1, max(1, ln(n)^2) / n)`` of the Ailon-Chazelle matrix ``P``.

    Ailon and Chazelle take ``q = min(Theta(log^2 N / n), 1)`` for ``N`` points in
    dimension ``n`` (Euclidean target).  The number of points is not known when
    the operator is built, so we take ``N = n`` and the constant 1; the
    ``max(1, .)`` keeps at least about one non-zero per row for tiny ``n``.
    """
    n_padded = check_int("n_padded", n_padded, minimum=1)
    return float(min(1.0, max(1.0, math.log(n_padded) ** 2) / n_padded))


class AilonChazelle(_JLOperator):
    r"""The Ailon-Chazelle FJLT ``J = k^{-1/2} P (H/sqrt n) D``.

    Parameters
    ----------
    n_features : int
        Input dimension; inputs are zero-padded to ``n = n_padded`` (next power of two) as in :class:`SRHT`.
    k : int
        Target dimension, ``1 <= k <= n_features``.
    q : float in (0, 1], optional
        Probability that an entry of ``P`` is non-zero; default :func:`ailon_chazelle_q`.
    seed : None, int, SeedSequence or Generator, optional
    dtype : float32 or float64, default float64

    Attributes
    ----------
    P : scipy.sparse.csr_array, shape (k, n_padded)
        Entries ``N(0, 1/q)`` with probability ``q``, else 0 (so ``E P^T P = k I``).
    signs : ndarray, shape (n_features,)
        Diagonal of ``D``.
    q : float
    n_features, n_components (``k``), n_padded : int
    """

    kind = "ailon-chazelle"

    def __init__(self, n_features, k, *, q=None, seed=None, dtype=np.float64):
        n_features = check_int("n_features", n_features, minimum=1)
        k = _check_k(k, n_features)
        dtype = _check_dtype(dtype)
        n_padded = _next_pow2(n_features)
        if q is None:
            q = ailon_chazelle_q(n_padded)
        elif isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
            raise TypeError(f"q must be a real number in (0, 1], got q={q!r}")
        q = float(q)
        if not (0.0 < q <= 1.0):
            raise ValueError(f"q must lie in (0, 1], got q={q!r}")
        rng = check_rng("seed", seed)
        super().__init__(n_features, k, dtype)
        self.n_padded = n_padded
        self.q = q
        self.signs = (2 * rng.integers(0, 2, size=n_features) - 1).astype(dtype)
        rows, cols = _sparse_mask(rng, k, n_padded, q)
        values = rng.standard_normal(rows.size) / math.sqrt(q)
        self.P = _csr(values, rows, cols, (k, n_padded), dtype)
        self.scale = 1.0 / math.sqrt(k * n_padded)

    def _project(self, X, name):
        from . import _kernels as _k

        check_finite(name, X)
        dtype = self._out_dtype(X)
        if X.dtype != dtype:
            X = X.astype(dtype)
        signs = self.signs.astype(dtype, copy=False)
        Z = np.empty((X.shape[0], self.n_padded), dtype=dtype)
        if X.shape[0]:
            kern = _k.signed_fwht_rows_parallel if X.shape[0] >= PARALLEL_MIN_ROWS and _threads() > 1 else _k.signed_fwht_rows
            kern(X, signs, Z)
        P = self.P if self.P.dtype == dtype else self.P.astype(dtype)
        out = np.asarray((P @ Z.T).T, dtype=dtype)
        out *= dtype.type(self.scale)
        return out

    def _project_adjoint(self, Y, name):
        from . import _kernels as _k

        check_finite(name, Y)
        dtype = self._out_dtype(Y)
        P = self.P if self.P.dtype == dtype else self.P.astype(dtype)
        Z = np.ascontiguousarray(np.asarray((P.T @ Y.T.astype(dtype, copy=False)).T, dtype=dtype))
        ones = np.ones(self.n_padded, dtype=dtype)
        W = np.empty_like(Z)
        if Z.shape[0]:
            kern = _k.signed_fwht_rows_parallel if Z.shape[0] >= PARALLEL_MIN_ROWS and _threads() > 1 else _k.signed_fwht_rows
            kern(Z, ones, W)
        out = W[:, : self.n_features] * self.signs.astype(dtype, copy=False)
        out *= dtype.type(self.scale)
        return out


# =====================================================================================
# Gaussian and sparse (Achlioptas / Li) projections
# =====================================================================================


class GaussianProjection(_JLOperator):
    """Dense Gaussian projection with i.i.d. ``N(0, 1/k)`` entries.

    Parameters
    ----------
    n_features : int
    k : int
        Target dimension, ``1 <= k <= n_features``.
    seed : None, int, SeedSequence or Generator, optional
    dtype : float32 or float64, default float64
        The entries are drawn in float64 and rounded to ``dtype``.

    Attributes
    ----------
    components : ndarray, shape (k, n_features)
        The matrix (same convention as scikit-learn's ``components_``).
    """

    kind = "gaussian"

    def __init__(self, n_features, k, *, seed=None, dtype=np.float64):
        n_features = check_int("n_features", n_features, minimum=1)
        k = _check_k(k, n_features)
        dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        super().__init__(n_features, k, dtype)
        G = rng.standard_normal((k, n_features))
        G *= 1.0 / math.sqrt(k)
        self.components = G if dtype == np.float64 else G.astype(dtype)

    def _project(self, X, name):
        check_finite(name, X)
        dtype = self._out_dtype(X)
        return np.asarray(X @ self.components.T, dtype=dtype)

    def _project_adjoint(self, Y, name):
        check_finite(name, Y)
        dtype = self._out_dtype(Y)
        return np.asarray(Y @ self.components, dtype=dtype)


class SparseProjection(_JLOperator):
    """Achlioptas / Li sparse projection: entries ``+-sqrt(1/(density k))`` w.p. ``density/2`` each, else 0.

    Parameters
    ----------
    n_features : int
    k : int
        Target dimension, ``1 <= k <= n_features``.
    density : float in (0, 1], optional
        Probability of a non-zero entry; default ``1/sqrt(n_features)`` (Li, Hastie and
        Church's "very sparse" choice, scikit-learn's ``density="auto"``);
        ``1/3`` gives Achlioptas' matrix.
    seed : None, int, SeedSequence or Generator, optional
    dtype : float32 or float64, default float64

    Attributes
    ----------
    components : scipy.sparse.csr_array, shape (k, n_features)
    density : float
    """

    kind = "sparse"

    def __init__(self, n_features, k, *, density=None, seed=None, dtype=np.float64):
        n_features = check_int("n_features", n_features, minimum=1)
        k = _check_k(k, n_features)
        dtype = _check_dtype(dtype)
        if density is None:
            density = 1.0 / math.sqrt(n_features)
        elif isinstance(density, (bool, np.bool_)) or not isinstance(density, (int, float, np.integer, np.floating)):
            raise TypeError(f"density must be a real number in (0, 1], got density={density!r}")
        density = float(density)
        if not (0.0 < density <= 1.0):
            raise ValueError(f"density must lie in (0, 1], got density={density!r}")
        rng = check_rng("seed", seed)
        super().__init__(n_features, k, dtype)
        self.density = density
        rows, cols = _sparse_mask(rng, k, n_features, density)
        values = (2 * rng.integers(0, 2, size=rows.size) - 1) * math.sqrt(1.0 / (density * k))
        self.components = _csr(values, rows, cols, (k, n_features), dtype)

    def _project(self, X, name):
        check_finite(name, X)
        dtype = self._out_dtype(X)
        C = self.components if self.components.dtype == dtype else self.components.astype(dtype)
        return np.asarray((C @ X.T).T, dtype=dtype)

    def _project_adjoint(self, Y, name):
        check_finite(name, Y)
        dtype = self._out_dtype(Y)
        C = self.components if self.components.dtype == dtype else self.components.astype(dtype)
        return np.asarray((C.T @ Y.T).T, dtype=dtype)
