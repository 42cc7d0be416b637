"""Monarch matrices and the optimal (Frobenius) projection of a dense matrix onto them.

Layout.  ``n = b m`` with ``b = n_blocks`` and ``m = n / b`` (the block size).
An index ``j`` of ``range(n)`` is split as ``j = j1 m + j2`` (``j1 < b``,
``j2 < m``).  A Monarch matrix is

    ``M = P^T L P R``

* ``R = diag(R_0, ..., R_{b-1})``: block-diagonal with ``b`` blocks of size
  ``m x m`` (``right``, shape ``(b, m, m)``), acting on the contiguous chunks
  ``x[j1 m : (j1 + 1) m]``;
* ``P``: the "reshape-transpose" permutation sending position ``j1 m + k`` to
  ``k b + j1`` (view the vector as a ``b x m`` array and transpose it);
* ``L = diag(L_0, ..., L_{m-1})``: block-diagonal with ``m`` blocks of size
  ``b x b`` (``left``, shape ``(m, b, b)``), after which ``P^T`` undoes the
  transposition.

Entrywise, with ``i = i1 m + k`` and ``j = j1 m + j2``,

    ``M[i, j] = L_k[i1, j1] * R_{j1}[k, j2]``.

So for each pair ``(k, j1)`` the ``b x m`` slice ``S_{k, j1} = A[i1 m + k, j1 m + j2]``
(over ``i1, j2``) of a Monarch matrix is the rank-one matrix
``L_k[:, j1] R_{j1}[k, :]``, and conversely any choice of rank-<=1 slices
is a Monarch matrix.  The slices partition the entries, so
``||A - M||_F^2 = sum_{k, j1} ||S_{k, j1}(A) - S_{k, j1}(M)||_F^2`` and the best
Monarch approximation takes the truncated rank-one SVD of every slice
(Eckart-Young): ``m b`` SVDs of ``b x m`` matrices.  The squared error is the
sum of the squared non-leading singular values of all slices.

Cost: ``n_params = b m^2 + m b^2 = n (m + b)`` weights and as many
multiply-adds per vector (``flops_per_vector``); for ``b = m = sqrt n`` this is
``2 n^{3/2}``.
"""
from __future__ import annotations

import numpy as np

from numerics._linop import SquareOperator
from numerics._validation import check_array, check_finite, check_int

__all__ = ["Monarch", "monarch_project", "MONARCH_DTYPES"]

#: Dtypes accepted by :func:`monarch_project` and :class:`Monarch`.
MONARCH_DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.complex64, np.complex128))


def _check_square(name: str, A) -> np.ndarray:
    A = check_array(name, A, ndim=2, dtypes=MONARCH_DTYPES, finite=False)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be square, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {A.shape}")
    check_finite(name, A)
    return A


def _check_blocks(n: int, n_blocks) -> int:
    b = check_int("n_blocks", n_blocks, minimum=1)
    if n % b:
        raise ValueError(f"n_blocks={b} does not divide the size n={n}; expected a divisor of {n}")
    return b


class Monarch(SquareOperator):
    """A Monarch matrix ``M = P^T L P R`` (see the module docstring for the layout).

    Parameters
    ----------
    left : ndarray, shape (m, b, b)
        The blocks ``L_k`` of the second (left) block-diagonal factor.
    right : ndarray, shape (b, m, m)
        The blocks ``R_{j1}`` of the first (right) block-diagonal factor.
        Same dtype as ``left`` (float32/float64/complex64/complex128), finite. Both copied.

    Attributes
    ----------
    n, n_blocks, block_size : int
        ``n = b m``, ``b`` and ``m``.
    left, right : ndarray
        Read-only views of the blocks.
    n_params : int
        ``n (m + b)``.
    flops_per_vector : int
        Multiply-adds of one matrix-vector product, ``n (m + b)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> M = Monarch(rng.standard_normal((4, 2, 2)), rng.standard_normal((2, 4, 4)))
    >>> x = rng.standard_normal(8)
    >>> bool(np.allclose(M @ x, M.todense() @ x))
    True
    """

    _noun = "Monarch matrix"
    _input_dtypes = MONARCH_DTYPES

    def __init__(self, left, right):
        Lb = check_array("left", left, ndim=3, dtypes=MONARCH_DTYPES, finite=False)
        Rb = check_array("right", right, ndim=3, dtypes=MONARCH_DTYPES, finite=False)
        if Lb.dtype != Rb.dtype:
            raise TypeError(f"left has dtype {Lb.dtype} but right has dtype {Rb.dtype}; expected the same dtype")
        b, m = Rb.shape[0], Rb.shape[1]
        if Rb.shape != (b, m, m) or Lb.shape != (m, b, b) or b < 1 or m < 1:
            raise ValueError(
                f"expected right of shape (b, m, m) and left of shape (m, b, b); got right {Rb.shape}, left {Lb.shape}"
            )
        check_finite("left", Lb)
        check_finite("right", Rb)
        self._L = np.array(Lb, order="C", copy=True)
        self._R = np.array(Rb, order="C", copy=True)
        self._L.flags.writeable = False
        self._R.flags.writeable = False
        self.n_blocks, self.block_size = b, m
        self.n = b * m
        super().__init__(dtype=self._L.dtype, shape=(self.n, self.n))

    @property
    def left(self) -> np.ndarray:
        return self._L.view()

    @property
    def right(self) -> np.ndarray:
        return self._R.view()

    @property
    def n_params(self) -> int:
        return int(self._L.size + self._R.size)

    @property
    def flops_per_vector(self) -> int:
        return int(self._L.size + self._R.size)

    def __repr__(self) -> str:
        return f"<Monarch: n={self.n}, n_blocks={self.n_blocks}, block_size={self.block_size}, dtype={self.dtype}>"

    def _apply(self, X: np.ndarray, adjoint: bool) -> np.ndarray:
        """``M @ X`` (or ``M^H @ X``) for ``X`` of shape ``(n, c)``, by batched block products."""
        b, m = self.n_blocks, self.block_size
        dt = np.result_type(self.dtype, X.dtype)
        c = X.shape[1]
        Lb, Rb = self._L.astype(dt, copy=False), self._R.astype(dt, copy=False)
        if not adjoint:
            Y = Rb @ X.astype(dt, copy=False).reshape(b, m, c)  # (b, m, c): R_{j1} x_{j1}
            Z = Lb @ Y.transpose(1, 0, 2)  # (m, b, c): L_k applied over j1
            return np.ascontiguousarray(Z.transpose(1, 0, 2)).reshape(self.n, c)
        # M^H = R^H P^T L^H P
        Xr = X.astype(dt, copy=False).reshape(b, m, c).transpose(1, 0, 2)  # (m, b, c)
        Z = np.conj(Lb.transpose(0, 2, 1)) @ Xr
        Y = np.conj(Rb.transpose(0, 2, 1)) @ Z.transpose(1, 0, 2)
        return np.ascontiguousarray(Y).reshape(self.n, c)

    def _matvec(self, x):
        x = self._check_input("x", x, (1, 2))
        return self._apply(x.reshape(-1, 1), False).reshape(x.shape)

    def _rmatvec(self, x):
        x = self._check_input("x", x, (1, 2))
        return self._apply(x.reshape(-1, 1), True).reshape(x.shape)

    def _matmat(self, X):
        X = self._check_input("X", X, (2,))
        return self._apply(X, False)

    def _rmatmat(self, X):
        X = self._check_input("X", X, (2,))
        return self._apply(X, True)

    def todense(self) -> np.ndarray:
        """The dense ``n x n`` matrix, built entrywise as ``L_k[i1, j1] R_{j1}[k, j2]``."""
        # T[i1, k, j1, j2] = L[k, i1, j1] * R[j1, k, j2]
        T = np.einsum("kij,jkl->ikjl", self._L, self._R)
        return T.reshape(self.n, self.n)


def monarch_slices(A: np.ndarray, n_blocks: int) -> np.ndarray:
    """The ``(m, b, b, m)`` array ``S[k, j1] = A[i1 m + k, j1 m + j2]`` (over ``i1, j2``)."""
    n = A.shape[0]
    b = n_blocks
    m = n // b
    return A.reshape(b, m, b, m).transpose(1, 2, 0, 3)


def monarch_project(A, n_blocks, *, return_error: bool = False):
    """The Monarch matrix closest to ``A`` in Frobenius norm.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float32/float64/complex64/complex128, finite, any layout.
    n_blocks : int
        ``b``, a divisor of ``n``: ``R`` has ``b`` blocks of size ``m = n / b``,
        ``L`` has ``m`` blocks of size ``b``.
    return_error : bool, default False
        Also return ``||A - M||_F`` (from the discarded singular values).

    Returns
    -------
    M : Monarch
        Same dtype as ``A``.  For every ``(k, j1)`` the slice ``S_{k, j1}(M)`` is the
        truncated rank-one SVD of ``S_{k, j1}(A)`` (split as ``sigma^{1/2} u`` and
        ``sigma^{1/2} v^H`` between ``L`` and ``R``).
    error : float
        Only if ``return_error``.

    Raises
    ------
    TypeError
        If ``A`` has another dtype (integers, bool, ...) or ``n_blocks`` is not an integer.
    ValueError
        If ``A`` is not square and non-empty, contains NaN or inf, or ``n_blocks`` does not divide ``n``.

    Notes
    -----
    Optimal because the slices partition the entries and the Monarch set is
    exactly "every slice has rank <= 1" (module docstring).  ``m b`` SVDs of
    ``b x m`` matrices: ``O(n m b min(m, b))`` work.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> M = Monarch(rng.standard_normal((4, 4, 4)), rng.standard_normal((4, 4, 4)))
    >>> P = monarch_project(M.todense(), 4)
    >>> bool(np.allclose(P.todense(), M.todense()))
    True
    """
    A = _check_square("A", A)
    n = A.shape[0]
    b = _check_blocks(n, n_blocks)
    m = n // b
    S = monarch_slices(A, b)  # (m, b, b, m): [k, j1] -> (i1, j2)
    U, s, Vh = np.linalg.svd(S, full_matrices=False)
    root = np.sqrt(s[..., 0]).astype(A.dtype)  # (m, b)
    u = U[..., :, 0] * root[..., None]  # (m, b_j1, b_i1)
    v = Vh[..., 0, :] * root[..., None]  # (m_k, b_j1, m_j2)
    left = np.ascontiguousarray(u.transpose(0, 2, 1))  # L[k, i1, j1]
    right = np.ascontiguousarray(v.transpose(1, 0, 2))  # R[j1, k, j2]
    M = Monarch(left, right)
    if return_error:
        err = float(np.sqrt(np.sum(s[..., 1:].astype(np.float64) ** 2)))
        return M, err
    return M
