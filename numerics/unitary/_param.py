"""Parametrisations of the orthogonal group O(n) / SO(n) and the unitary group U(n).

Each parametrisation maps a real parameter vector ``theta`` to a matrix ``U(theta)``
that is orthogonal (real) or unitary (complex) up to rounding, and gives the gradient
of a real loss through that map (:meth:`Parametrisation.vjp`):

* :class:`ExpMap` -- ``U = exp(A)``, ``A`` skew-symmetric / skew-Hermitian built from
  ``theta`` (the "Lie parameters"); gradient through the adjoint of the Frechet derivative
  of the matrix exponential, ``L_exp(A^H, G)`` (``scipy.linalg.expm_frechet``).
* :class:`Cayley` -- ``U = (I - A/2)^{-1} (I + A/2)``, the same ``A``; it matches ``exp`` to
  second order at ``A = 0`` and cannot represent a matrix with eigenvalue ``-1``.
* :class:`Householder` -- ``U = H_1 ... H_k`` (complex: ``H_1 ... H_k D``, ``D`` a diagonal of
  phases) with ``H_j = I - 2 v_j v_j^H / (v_j^H v_j)``; real products have determinant
  ``(-1)^k``.
* :class:`UnitaryButterfly` -- a butterfly (``log2 n`` factors of ``n/2`` 2x2 blocks, via
  :mod:`numerics.butterfly`) whose blocks are rotations (real: 1 angle each) or elements of
  U(2) (complex: 4 angles each): ``n/2 log2 n`` or ``2 n log2 n`` parameters.

Gradient convention (as in :mod:`numerics.butterfly` and PyTorch): for a real loss ``f``
the gradient with respect to a complex matrix is ``G = df/dRe U + i df/dIm U``, so that
``df = Re <G, dU> = Re tr(G^H dU)``.  Parameters are always real float64 vectors, so a
step ``theta -= lr * grad`` descends ``f``.

Everything runs in float64 / complex128: the exactness claims are at the 1e-12 level.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from numerics._validation import check_array, check_int, check_power_of_two, check_rng

__all__ = [
    "Parametrisation",
    "ExpMap",
    "Cayley",
    "Householder",
    "UnitaryButterfly",
    "KINDS",
    "parametrisation",
    "haar",
    "skew_from_params",
    "skew_to_params",
]

REAL = np.dtype(np.float64)
COMPLEX = np.dtype(np.complex128)


def _check_field(complex) -> bool:
    if not isinstance(complex, (bool, np.bool_)):
        raise TypeError(f"complex must be a bool, got complex={complex!r}")
    return bool(complex)


def check_square(name: str, W, *, complex: bool | None = None) -> np.ndarray:
    """A finite float64 (``complex=False``) or complex128 (``complex=True``) square matrix.

    ``complex=None`` accepts either.  float32/complex64 and integers are refused (these
    routines work at the 1e-12 level); a real routine given a complex matrix, or the
    reverse, raises ``TypeError`` naming the parameter.
    """
    if complex is None:
        dtypes = (REAL, COMPLEX)
    else:
        dtypes = (COMPLEX,) if complex else (REAL,)
    arr = np.asarray(W) if not isinstance(W, np.ndarray) else W
    if arr.dtype not in dtypes:
        if complex is not None and arr.dtype in (REAL, COMPLEX):
            field = "complex (unitary group)" if complex else "real (orthogonal group)"
            raise TypeError(
                f"{name} has dtype {arr.dtype} but this routine works on the {field} case and expects "
                f"dtype {dtypes[0]}; use the {'real' if arr.dtype == REAL else 'complex'} variant "
                f"(complex={arr.dtype == COMPLEX}) or convert explicitly"
            )
    arr = check_array(name, arr, ndim=2, dtypes=dtypes)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    return arr


def haar(n: int, *, complex: bool = False, seed=None) -> np.ndarray:
    """A Haar-distributed random orthogonal (``complex=False``) or unitary matrix of size ``n``.

    QR of a Gaussian matrix with the phases of ``diag(R)`` moved into ``Q`` (Mezzadri 2007).
    """
    n = check_int("n", n, minimum=1)
    complex = _check_field(complex)
    rng = check_rng("seed", seed)
    Z = rng.standard_normal((n, n))
    if complex:
        Z = (Z + 1j * rng.standard_normal((n, n))) / np.sqrt(2.0)
    Q, R = np.linalg.qr(Z)
    d = np.diagonal(R)
    return Q * (d / np.abs(d))[None, :]


def _n_skew(n: int, complex: bool) -> int:
    return n * n if complex else n * (n - 1) // 2


def skew_from_params(theta: np.ndarray, n: int, complex: bool) -> np.ndarray:
    """The skew-symmetric (real) or skew-Hermitian (complex) ``A`` of parameter vector ``theta``.

    Real: ``theta`` holds the strict upper triangle (row-major), ``A = T - T^T``.
    Complex: ``theta = [Re upper, Im upper, Im diagonal]``, ``A = T - T^H + i diag``.
    """
    iu = np.triu_indices(n, 1)
    m = iu[0].size
    if complex:
        T = np.zeros((n, n), dtype=COMPLEX)
        T[iu] = theta[:m] + 1j * theta[m:2 * m]
        A = T - T.conj().T
        A[np.diag_indices(n)] = 1j * theta[2 * m:]
        return A
    T = np.zeros((n, n))
    T[iu] = theta
    return T - T.T


def skew_to_params(gA: np.ndarray, n: int, complex: bool) -> np.ndarray:
    """Pull a gradient with respect to ``A`` back to ``theta`` (adjoint of :func:`skew_from_params`).

    Also the inverse of :func:`skew_from_params` on skew matrices up to a factor: for a skew
    ``A``, ``skew_to_params(A) / 2`` gives back its parameters (diagonal: ``/1``).
    """
    iu = np.triu_indices(n, 1)
    il = (iu[1], iu[0])
    if complex:
        re = gA.real[iu] - gA.real[il]
        im = gA.imag[iu] + gA.imag[il]
        return np.concatenate([re, im, np.diagonal(gA).imag])
    return gA[iu] - gA[il]


class Parametrisation:
    """Base class: ``theta`` (real vector of :attr:`n_params`) -> ``U`` (``n x n``).

    Subclasses implement :meth:`_matrix` and :meth:`_vjp`; the public methods validate.
    """

    kind = "base"

    def __init__(self, n: int, *, complex: bool = False):
        self.n = check_int("n", n, minimum=1)
        self.complex = _check_field(complex)

    @property
    def dtype(self) -> np.dtype:
        """dtype of ``U``: float64 (orthogonal) or complex128 (unitary)."""
        return COMPLEX if self.complex else REAL

    @property
    def n_params(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, complex={self.complex}, n_params={self.n_params})"

    # -- validation -------------------------------------------------------------------------
    def check_theta(self, theta) -> np.ndarray:
        theta = check_array("theta", theta, ndim=1, dtypes=(REAL,))
        if theta.shape[0] != self.n_params:
            raise ValueError(
                f"theta has length {theta.shape[0]}; expected n_params={self.n_params} for {self!r}"
            )
        return np.ascontiguousarray(theta)

    def check_grad(self, G) -> np.ndarray:
        G = check_square("G", G, complex=self.complex)
        if G.shape[0] != self.n:
            raise ValueError(f"G has shape {G.shape}; expected ({self.n}, {self.n}) for {self!r}")
        return np.ascontiguousarray(G)

    # -- public API -----------------------------------------------------------------------
    def matrix(self, theta) -> np.ndarray:
        """``U(theta)``, an ``n x n`` orthogonal (float64) or unitary (complex128) matrix."""
        return self._matrix(self.check_theta(theta))

    def vjp(self, theta, G) -> np.ndarray:
        """Gradient ``df/dtheta`` of a real loss ``f(U(theta))`` given ``G = df/dU``.

        Parameters
        ----------
        theta : ndarray of float64, shape (n_params,)
        G : ndarray, shape (n, n)
            float64 for a real parametrisation, complex128 (``df/dRe U + i df/dIm U``) for a
            complex one.

        Returns
        -------
        ndarray of float64, shape (n_params,)
        """
        return self._vjp(self.check_theta(theta), self.check_grad(G))

    def zeros(self) -> np.ndarray:
        """Parameters of the identity matrix (where the parametrisation has them)."""
        return np.zeros(self.n_params)

    def random(self, seed=None, scale: float = 1.0) -> np.ndarray:
        """Gaussian parameters with standard deviation ``scale``."""
        rng = check_rng("seed", seed)
        return scale * rng.standard_normal(self.n_params)

    def _matrix(self, theta):  # pragma: no cover - interface
        raise NotImplementedError

    def _vjp(self, theta, G):  # pragma: no cover - interface
        raise NotImplementedError


class ExpMap(Parametrisation):
    """``U = exp(A)`` with ``A`` skew-symmetric (real, reaches SO(n)) or skew-Hermitian (complex, U(n)).

    ``n(n-1)/2`` (real) or ``n^2`` (complex) parameters.  The gradient of ``f(exp(A))`` with
    respect to ``A`` is ``L(A^H, G)``, the Frechet derivative of ``exp`` at ``A^H = -A`` in
    direction ``G`` (the adjoint of ``E -> L(A, E)`` for ``Re tr(X^H Y)``).
    """

    kind = "exp"

    @property
    def n_params(self) -> int:
        return _n_skew(self.n, self.complex)

    def skew(self, theta) -> np.ndarray:
        """The skew matrix ``A`` of ``theta``."""
        return skew_from_params(self.check_theta(theta), self.n, self.complex)

    def _matrix(self, theta):
        return sla.expm(skew_from_params(theta, self.n, self.complex))

    def _vjp(self, theta, G):
        A = skew_from_params(theta, self.n, self.complex)
        gA = sla.expm_frechet(A.conj().T, G, compute_expm=False)
        return skew_to_params(gA, self.n, self.complex)

    def value_and_vjp_fn(self, theta):
        """``U`` and a function ``G -> df/dtheta`` (reuses ``A``)."""
        theta = self.check_theta(theta)
        A = skew_from_params(theta, self.n, self.complex)
        U = sla.expm(A)
        AH = np.ascontiguousarray(A.conj().T)

        def pull(G):
            return skew_to_params(sla.expm_frechet(AH, G, compute_expm=False), self.n, self.complex)

        return U, pull

    def log(self, U) -> np.ndarray:
        """Parameters ``theta`` with ``exp(A(theta)) = U`` (principal logarithm).

        Raises ``ValueError`` if ``U`` is real with determinant ``-1`` (not in the image of the real
        exponential) or has an eigenvalue at ``-1`` (no real principal logarithm).
        """
        U = check_square("U", U, complex=self.complex)
        if U.shape[0] != self.n:
            raise ValueError(f"U has shape {U.shape}; expected ({self.n}, {self.n})")
        if not self.complex:
            det = np.linalg.det(U)
            if det < 0:
                raise ValueError(
                    f"U has det={det:.3g} < 0: the real exponential map reaches only SO(n) (det +1)"
                )
            ev = np.linalg.eigvals(U)
            if np.min(np.abs(ev + 1)) < 1e-8:
                raise ValueError("U has an eigenvalue at -1: no real principal logarithm")
        A = sla.logm(U)
        if not self.complex:
            A = A.real
        A = (A - A.conj().T) / 2
        th = skew_to_params(A, self.n, self.complex)
        m = self.n * (self.n - 1) // 2
        th[: (2 * m if self.complex else m)] /= 2
        return th


class Cayley(Parametrisation):
    """``U = (I - A/2)^{-1} (I + A/2)`` with ``A`` skew-symmetric / skew-Hermitian (same parameters as :class:`ExpMap`).

    Reaches the matrices without eigenvalue ``-1`` (real: a dense subset of SO(n)).  Gradient:
    ``dU = M^{-1} dA (I + U) / 2`` with ``M = I - A/2``, so ``df/dA = M^{-H} G (I + U)^H / 2``.
    """

    kind = "cayley"

    @property
    def n_params(self) -> int:
        return _n_skew(self.n, self.complex)

    def _parts(self, theta):
        A = skew_from_params(theta, self.n, self.complex)
        eye = np.eye(self.n)
        M = eye - A / 2
        lu = sla.lu_factor(M)
        U = sla.lu_solve(lu, eye + A / 2)
        return lu, U

    def _matrix(self, theta):
        return self._parts(theta)[1]

    def _vjp(self, theta, G):
        lu, U = self._parts(theta)
        gA = sla.lu_solve(lu, G, trans=2 if self.complex else 1) @ (np.eye(self.n) + U).conj().T / 2
        return skew_to_params(gA, self.n, self.complex)

    def value_and_vjp_fn(self, theta):
        """``U`` and a function ``G -> df/dtheta`` (reuses the LU factors)."""
        theta = self.check_theta(theta)
        lu, U = self._parts(theta)
        right = (np.eye(self.n) + U).conj().T / 2

        def pull(G):
            gA = sla.lu_solve(lu, G, trans=2 if self.complex else 1) @ right
            return skew_to_params(gA, self.n, self.complex)

        return U, pull

    def inverse(self, U) -> np.ndarray:
        """Parameters ``theta`` with ``Cayley(theta) = U``: ``A = 2 (U - I)(U + I)^{-1}``.

        Raises ``ValueError`` if ``U`` has an eigenvalue at ``-1`` (not representable).
        """
        U = check_square("U", U, complex=self.complex)
        if U.shape[0] != self.n:
            raise ValueError(f"U has shape {U.shape}; expected ({self.n}, {self.n})")
        eye = np.eye(self.n)
        ev = np.linalg.eigvals(U)
        gap = float(np.min(np.abs(ev + 1)))
        if gap < 1e-8:
            raise ValueError(
                f"U has an eigenvalue within {gap:.2e} of -1: the Cayley transform cannot represent it"
            )
        A = 2 * np.linalg.solve((U + eye).T, (U - eye).T).T
        A = (A - A.conj().T) / 2
        th = skew_to_params(A, self.n, self.complex)
        m = self.n * (self.n - 1) // 2
        th[: (2 * m if self.complex else m)] /= 2
        return th


class Householder(Parametrisation):
    """``U = H_1 ... H_k`` (real) or ``H_1 ... H_k diag(exp(i phi))`` (complex), ``H_j = I - 2 v_j v_j^H / |v_j|^2``.

    Parameters are the rows ``v_j`` (real: ``k n``; complex: real parts, imaginary parts, then the
    ``n`` phases ``phi``: ``2 k n + n``).  A real product of ``k`` reflectors has determinant
    ``(-1)^k`` and, for ``k >= n - 1``, reaches that whole component of O(n) (Cartan-Dieudonne);
    complex products with the phases reach all of U(n) for ``k >= n - 1``.  A zero ``v_j`` is
    not a reflector and is an error.
    """

    kind = "householder"

    def __init__(self, n: int, *, complex: bool = False, k: int | None = None):
        super().__init__(n, complex=complex)
        self.k = self.n if k is None else check_int("k", k, minimum=1)

    def __repr__(self) -> str:
        return f"Householder(n={self.n}, complex={self.complex}, k={self.k}, n_params={self.n_params})"

    @property
    def n_params(self) -> int:
        kn = self.k * self.n
        return 2 * kn + self.n if self.complex else kn

    def _unpack(self, theta):
        kn = self.k * self.n
        if self.complex:
            V = (theta[:kn] + 1j * theta[kn:2 * kn]).reshape(self.k, self.n)
            phi = theta[2 * kn:]
        else:
            V = theta.reshape(self.k, self.n)
            phi = None
        s = np.einsum("ij,ij->i", V.conj(), V).real
        if np.any(s == 0):
            j = int(np.flatnonzero(s == 0)[0])
            raise ValueError(f"theta gives a zero Householder vector v_{j} (row {j}); a reflector needs v != 0")
        return V, s, phi

    def random(self, seed=None, scale: float = 1.0) -> np.ndarray:
        th = super().random(seed, scale)
        if self.complex:
            th[2 * self.k * self.n:] *= np.pi / max(scale, 1e-300)
        return th

    def zeros(self):
        raise ValueError("a Householder product has no parameters of the identity with nonzero reflectors; use random()")

    @staticmethod
    def _left(v, s, X):
        return X - np.outer(v, (2.0 / s) * (v.conj() @ X))

    @staticmethod
    def _right(v, s, X):
        return X - np.outer((2.0 / s) * (X @ v), v.conj())

    def _matrix(self, theta):
        V, s, phi = self._unpack(theta)
        X = np.diag(np.exp(1j * phi)) if self.complex else np.eye(self.n)
        for j in range(self.k - 1, -1, -1):
            X = self._left(V[j], s[j], X)
        return X

    def _vjp(self, theta, G):
        V, s, phi = self._unpack(theta)
        U = self._matrix(theta)
        gV = np.empty_like(V)
        M = self._right(V[0], s[0], G @ U.conj().T)
        for j in range(self.k):
            v = V[j]
            Mv = M @ v
            MHv = M.conj().T @ v
            c = np.real(v.conj() @ Mv)
            gV[j] = -2.0 / s[j] * (Mv + MHv) + 4.0 * c / s[j] ** 2 * v
            if j + 1 < self.k:
                M = self._right(V[j + 1], s[j + 1], self._left(v, s[j], M))
        if self.complex:
            gphi = -np.einsum("ij,ij->j", G.conj(), U).imag
            return np.concatenate([gV.real.ravel(), gV.imag.ravel(), gphi])
        return gV.ravel()


class UnitaryButterfly(Parametrisation):
    """A butterfly matrix ``B = F_{L-1} ... F_0`` (``L = log2 n``) whose 2x2 blocks are rotations / U(2) elements.

    Real: block ``[[cos t, -sin t], [sin t, cos t]]``, ``n/2 log2 n`` angles, a subset of SO(n).
    Complex: block ``e^{i p} [[e^{i a} cos t, e^{i b} sin t], [-e^{-i b} sin t, e^{-i a} cos t]]``
    (all of U(2)), ``2 n log2 n`` angles ordered ``(t, a, b, p)`` per block.  ``n`` must be a
    power of two (>= 2).  Built on :func:`numerics.butterfly.butterfly_forward` /
    :func:`~numerics.butterfly.butterfly_backward`; the chain rule to the angles is vectorised.
    """

    kind = "butterfly"

    def __init__(self, n: int, *, complex: bool = False):
        n = check_power_of_two("n", n)
        if n < 2:
            raise ValueError(f"n must be a power of two >= 2 for a butterfly, got n={n}")
        super().__init__(n, complex=complex)
        self.L = n.bit_length() - 1

    @property
    def n_params(self) -> int:
        return self.L * (self.n // 2) * (4 if self.complex else 1)

    def twiddles(self, theta) -> np.ndarray:
        """The twiddle array ``(log2 n, n/2, 2, 2)`` of ``theta``."""
        return self._twiddles(self.check_theta(theta))

    def _twiddles(self, theta):
        L, h = self.L, self.n // 2
        if not self.complex:
            t = theta.reshape(L, h)
            c, s = np.cos(t), np.sin(t)
            return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
        c, s, q = self._phases(theta)
        z00, z01, z10, z11 = q[0] * c, q[1] * s, q[2] * s, q[3] * c
        return np.stack([np.stack([z00, z01], -1), np.stack([z10, z11], -1)], -2)

    def _phases(self, theta):
        P = theta.reshape(self.L, self.n // 2, 4)
        t, a, b, p = P[..., 0], P[..., 1], P[..., 2], P[..., 3]
        e = np.exp(1j * p)
        q = (e * np.exp(1j * a), e * np.exp(1j * b), -e * np.exp(-1j * b), e * np.exp(-1j * a))
        return np.cos(t), np.sin(t), q

    def _matrix(self, theta):
        from numerics.butterfly import butterfly_forward

        tw = self._twiddles(theta)
        return np.ascontiguousarray(butterfly_forward(np.eye(self.n, dtype=self.dtype), tw).T)

    def _vjp(self, theta, G):
        from numerics.butterfly import butterfly_backward

        tw = self._twiddles(theta)
        _, g = butterfly_backward(np.eye(self.n, dtype=self.dtype), tw, np.ascontiguousarray(G.T))
        if not self.complex:
            t = theta.reshape(self.L, self.n // 2)
            c, s = np.cos(t), np.sin(t)
            gt = -s * g[..., 0, 0] - c * g[..., 0, 1] + c * g[..., 1, 0] - s * g[..., 1, 1]
            return gt.ravel()
        c, s, q = self._phases(theta)
        z00, z01, z10, z11 = q[0] * c, q[1] * s, q[2] * s, q[3] * c
        g00, g01, g10, g11 = g[..., 0, 0], g[..., 0, 1], g[..., 1, 0], g[..., 1, 1]

        def re(gz, dz):  # df/dp = Re(conj(g) dz/dp)
            return np.real(np.conj(gz) * dz)

        gt = re(g00, -s * q[0]) + re(g01, c * q[1]) + re(g10, c * q[2]) + re(g11, -s * q[3])
        ga = re(g00, 1j * z00) + re(g11, -1j * z11)
        gb = re(g01, 1j * z01) + re(g10, -1j * z10)
        gp = re(g00, 1j * z00) + re(g01, 1j * z01) + re(g10, 1j * z10) + re(g11, 1j * z11)
        return np.stack([gt, ga, gb, gp], -1).ravel()


KINDS = {"exp": ExpMap, "cayley": Cayley, "householder": Householder, "butterfly": UnitaryButterfly}


def parametrisation(kind: str, n: int, *, complex: bool = False, **options) -> Parametrisation:
    """The parametrisation named ``kind`` (one of ``"exp"``, ``"cayley"``, ``"householder"``, ``"butterfly"``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got kind={kind!r}")
    return KINDS[kind](n, complex=complex, **options)
