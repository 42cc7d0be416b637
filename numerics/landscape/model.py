"""The loss landscape of a linear encoder-decoder behind a fixed linear map ``B`` (Theorem 1 of paper A).

Data ``X`` (``n x d``, columns are samples), targets ``Y`` (``m x d``), a fixed
``B`` (``l x n``: a truncated butterfly, an FJLT, a Gaussian matrix, the
identity, ...), an encoder ``E`` (``k x l``) and a decoder ``D`` (``m x k``):

    L(D, E) = 1/2 ||Y - D E B X||_F^2.

With ``Z = B X``, ``S_zz = Z Z^T``, ``S_yz = Y Z^T`` and
``Sigma(B) = S_yz S_zz^{-1} S_yz^T`` (eigenvalues ``lambda_1 >= lambda_2 >= ...``,
orthonormal eigenvectors ``u_i``), the critical points in ``(D, E)`` are (up to
the ``GL(k)`` symmetry ``D -> D C``, ``E -> C^{-1} E``)

    D = [U_I, 0] C,   E = C^{-1} [U_I^T S_yz S_zz^{-1}; 0],   |I| <= k,

with loss ``1/2 (tr(Y Y^T) - sum_{i in I} lambda_i)``.  See ``theory/landscape.md``.

Everything here is dense linear algebra in float64 on small matrices
(``S_zz`` is ``l x l``, ``S_yz`` is ``m x l``): the work is BLAS/LAPACK, not
element loops, so there is no Numba kernel.  The Hessian is formed explicitly
and is meant for small sizes (``m k + k l <= 6000`` parameters).
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from numerics._validation import check_array, check_int, check_rng

__all__ = [
    "LandscapeWarning",
    "EncoderDecoder",
    "Classification",
    "index_sets",
    "as_dense_map",
    "apply_map",
]

#: Largest number of parameters ``m k + k l`` for which :meth:`EncoderDecoder.hessian` forms the matrix.
MAX_HESSIAN_PARAMS = 6000


class LandscapeWarning(UserWarning):
    """An assumption of Theorem 1 fails (repeated eigenvalues of ``Sigma(B)``, singular ``B X X^T B^T``)."""


def _butterfly_parts(B):
    """``(twiddles, increasing, keep)`` of a Butterfly / TruncatedButterfly, else None."""
    from numerics.butterfly import Butterfly, TruncatedButterfly

    if isinstance(B, TruncatedButterfly):
        return B.butterfly.twiddles, B.butterfly.increasing, np.asarray(B.keep)
    if isinstance(B, Butterfly):
        return B.twiddles, B.increasing, np.arange(B.n)
    return None


def apply_map(B, X) -> np.ndarray:
    """``B X`` in float64 for ``B`` an ndarray ``(l, n)``, a (truncated) butterfly, or an operator with ``matmat``.

    Butterflies go through :func:`numerics.butterfly.functional.butterfly_forward`
    (``O(n log n)`` per sample); nothing dense of size ``n x n`` is formed.
    """
    X = np.asarray(check_array("X", X, ndim=2), dtype=np.float64)
    parts = _butterfly_parts(B)
    if parts is not None:
        from numerics.butterfly.functional import butterfly_forward

        tw, increasing, keep = parts
        if np.iscomplexobj(tw):
            raise TypeError("B is a complex butterfly; the landscape is real (float32/float64 twiddles)")
        if X.shape[0] != tw.shape[1] * 2:
            raise ValueError(f"X has shape {X.shape}; expected {tw.shape[1] * 2} rows (features) to match B")
        return np.ascontiguousarray(butterfly_forward(np.ascontiguousarray(X.T), np.asarray(tw, np.float64),
                                                      increasing=increasing)[:, keep].T)
    Bd = as_dense_map("B", B)
    if X.shape[0] != Bd.shape[1]:
        raise ValueError(f"X has shape {X.shape}; expected {Bd.shape[1]} rows (features) to match B of shape "
                         f"{Bd.shape} (l, n)")
    return Bd @ X


def map_shape(B) -> tuple[int, int]:
    """``(l, n)`` of ``B``."""
    parts = _butterfly_parts(B)
    if parts is not None:
        tw, _, keep = parts
        return int(keep.shape[0]), int(2 * tw.shape[1])
    if hasattr(B, "shape") and len(B.shape) == 2:
        return int(B.shape[0]), int(B.shape[1])
    raise TypeError(f"B must be a 2-D array, a Butterfly/TruncatedButterfly or a LinearOperator, got {type(B).__name__}")


def as_dense_map(name: str, B) -> np.ndarray:
    """``B`` as a dense float64 ``(l, n)`` array: an ndarray, a butterfly, or anything with ``todense()``."""
    parts = _butterfly_parts(B)
    if parts is not None:
        l, n = map_shape(B)
        return apply_map(B, np.eye(n))
    from scipy.sparse.linalg import LinearOperator

    if isinstance(B, np.ndarray):
        pass
    elif hasattr(B, "todense"):
        B = np.asarray(B.todense())
    elif hasattr(B, "toarray"):
        B = np.asarray(B.toarray())
    elif isinstance(B, LinearOperator):
        B = np.asarray(B.matmat(np.eye(B.shape[1], dtype=B.dtype)))
    B = check_array(name, B, ndim=2)
    return np.asarray(B, dtype=np.float64)


def index_sets(r: int, k: int):
    """Every index set ``I`` (sorted tuple, 0-based) with ``I`` a subset of ``range(r)`` and ``|I| <= k``."""
    r = check_int("r", r, minimum=0)
    k = check_int("k", k, minimum=0)
    for size in range(0, min(k, r) + 1):
        yield from itertools.combinations(range(r), size)


@dataclass(frozen=True)
class Classification:
    """The Hessian spectrum at a point, with the ``GL(k)`` symmetry accounted for.

    Attributes
    ----------
    kind : {"minimum", "saddle"}
        ``"saddle"`` iff the Hessian has an eigenvalue below ``-tol``.
    eigenvalues : ndarray
        All Hessian eigenvalues, ascending.
    n_negative, n_zero : int
        Eigenvalues below ``-tol`` and within ``[-tol, tol]``.
    symmetry_dim : int
        Dimension of the tangent space of the ``GL(k)`` orbit, ``{(D A, -A E)}``
        (``k^2`` when ``D`` and ``E`` have rank ``k``).
    transverse_min : float
        Smallest eigenvalue of the Hessian restricted to the orthogonal complement
        of that tangent space (the symmetry projected out).
    tol : float
        ``rtol * max |eigenvalue|``.
    gradient_norm : float
        ``sqrt(||grad_D||_F^2 + ||grad_E||_F^2)`` at the point.
    """

    kind: str
    eigenvalues: np.ndarray
    n_negative: int
    n_zero: int
    symmetry_dim: int
    transverse_min: float
    tol: float
    gradient_norm: float


def _check_factor(name: str, A, shape: tuple) -> np.ndarray:
    A = check_array(name, A, ndim=2)
    if A.shape != shape:
        raise ValueError(f"{name} has shape {A.shape}; expected {shape}")
    return np.asarray(A, dtype=np.float64)


class EncoderDecoder:
    """The landscape of ``L(D, E) = 1/2 ||Y - D E B X||_F^2`` for fixed ``B``, ``X``, ``Y`` and width ``k``.

    Parameters
    ----------
    B : ndarray (l, n), or an operator with ``todense()`` (e.g. :class:`~numerics.butterfly.TruncatedButterfly`)
        The fixed map in front of the encoder.
    X : ndarray of float32/float64, shape (n, d)
        Data, one sample per column.  NaN/inf rejected.
    Y : ndarray of float32/float64, shape (m, d), optional
        Targets; default ``X`` (an autoencoder).
    k : int
        Width of the bottleneck, ``1 <= k <= min(l, m)``.
    allow_singular : bool, default False
        ``B X X^T B^T`` singular (``d < l`` samples, or ``B`` of row rank ``< l``)
        raises ``ValueError``; with ``True`` the pseudo-inverse is used instead and
        a :class:`LandscapeWarning` is issued (the critical points then form
        larger families than Theorem 1 describes).
    gap_rtol : float, default 1e-8
        Two of the positive eigenvalues of ``Sigma(B)`` closer than
        ``gap_rtol * lambda_1`` count as repeated: a :class:`LandscapeWarning`
        names them (Theorem 1 assumes distinct positive eigenvalues).  Fewer than
        ``k`` positive eigenvalues also warns.
    cond_max : float, default 1e12
        ``B X X^T B^T`` counts as singular when its condition number exceeds this.

    Attributes
    ----------
    Z : ndarray (l, d)
        ``B X``.
    Szz, Syz : ndarray
        ``Z Z^T`` (``l x l``) and ``Y Z^T`` (``m x l``).
    Sigma : ndarray (m, m)
        ``Syz Szz^{-1} Syz^T``.
    eigenvalues : ndarray (m,)
        Of ``Sigma``, descending.
    eigenvectors : ndarray (m, m)
        Orthonormal, column ``i`` for ``eigenvalues[i]``.
    rank : int
        ``min(l, m)``: the number of eigenvalues that can be positive.
    n_positive : int
        Eigenvalues above ``gap_rtol * lambda_1``.
    trace_yy : float
        ``tr(Y Y^T)``.
    """

    def __init__(self, B, X, Y=None, *, k, allow_singular: bool = False, gap_rtol: float = 1e-8,
                 cond_max: float = 1e12):
        X = np.asarray(check_array("X", X, ndim=2), dtype=np.float64)
        Y = X if Y is None else np.asarray(check_array("Y", Y, ndim=2), dtype=np.float64)
        if isinstance(B, np.ndarray) or not (hasattr(B, "shape") or _butterfly_parts(B) is not None):
            B = as_dense_map("B", B)
        l, n = map_shape(B)
        if X.shape[0] != n:
            raise ValueError(f"X has shape {X.shape}; expected {n} rows (features) to match B of shape ({l}, {n}) (l, n)")
        if Y.shape[1] != X.shape[1]:
            raise ValueError(f"Y has shape {Y.shape} and X has shape {X.shape}; expected the same number of columns "
                             f"(samples d = {X.shape[1]})")
        m, d = Y.shape
        self.k = check_int("k", k, minimum=1)
        if self.k > l:
            raise ValueError(f"k={self.k} > l={l}: the bottleneck cannot be wider than the output of B "
                             f"(Theorem 1 needs k <= l)")
        if self.k > m:
            raise ValueError(f"k={self.k} > m={m}: the bottleneck cannot be wider than the targets Y (k <= m)")
        self.B, self.X, self.Y = B, X, Y
        self.n, self.d, self.l, self.m = n, d, l, m
        self.Z = apply_map(B, X)
        self.Szz = self.Z @ self.Z.T
        self.Syz = Y @ self.Z.T
        self.trace_yy = float(np.sum(Y * Y))
        s = linalg.eigvalsh(self.Szz)
        cond = math.inf if s[0] <= 0 else float(s[-1] / s[0])
        self.cond_zz = cond
        self.singular = not cond <= cond_max
        if self.singular:
            rank = int(np.sum(s > s[-1] * l * np.finfo(float).eps))
            msg = (f"B X X^T B^T ({l} x {l}) is singular: condition number {cond:.3g} > cond_max={cond_max:.3g}, "
                   f"numerical rank {rank} < l={l} (d={d} samples, B of shape ({l}, {n})). Theorem 1 needs it "
                   f"invertible (d >= l samples and B of full row rank)")
            if not allow_singular:
                raise ValueError(msg + "; pass allow_singular=True to use the pseudo-inverse")
            warnings.warn(msg + "; using the pseudo-inverse: the minimisers in E form an affine family "
                          "(E + F with F B X = 0) on top of the GL(k) orbits", LandscapeWarning, stacklevel=2)
            self.Szz_inv = linalg.pinvh(self.Szz)
        else:
            self.Szz_inv = linalg.inv(self.Szz)
            self.Szz_inv = 0.5 * (self.Szz_inv + self.Szz_inv.T)
        self.A = self.Syz @ self.Szz_inv  # m x l: the least-squares map Z -> Y
        Sigma = self.A @ self.Syz.T
        self.Sigma = 0.5 * (Sigma + Sigma.T)
        lam, U = linalg.eigh(self.Sigma)
        self.eigenvalues = lam[::-1].copy()
        self.eigenvectors = U[:, ::-1].copy()
        self.rank = min(l, m)
        scale = max(abs(float(self.eigenvalues[0])), np.finfo(float).tiny)
        top = self.eigenvalues[: self.rank]
        top = top[top > gap_rtol * scale]  # the positive ones; ties among zeros are not a repeated eigenvalue
        self.n_positive = int(top.size)
        self.repeated = []
        gaps = -np.diff(top)
        for i in np.flatnonzero(gaps <= gap_rtol * scale):
            self.repeated.append((int(i), int(i + 1)))
        if self.repeated:
            pairs = ", ".join(f"lambda_{i + 1} = {top[i]:.6g} ~ lambda_{j + 1} = {top[j]:.6g}" for i, j in self.repeated[:4])
            warnings.warn(
                f"Sigma(B) has repeated eigenvalues among its top {self.rank} ({pairs}; gap <= gap_rtol={gap_rtol:g} "
                f"* lambda_1): Theorem 1 assumes distinct eigenvalues; the critical points for index sets that split "
                f"such a pair form a continuum (any orthonormal basis of the eigenspace)",
                LandscapeWarning, stacklevel=2)
        if self.n_positive < self.k:
            warnings.warn(
                f"Sigma(B) has only {self.n_positive} positive eigenvalues (relative to lambda_1, gap_rtol={gap_rtol:g}) "
                f"but k={self.k}: the global minimum does not need the full width, and D E can have rank < k "
                f"(every index set with the positive eigenvalues gives the same value)",
                LandscapeWarning, stacklevel=2)

    # -- sizes and values ----------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """``m k + k l``."""
        return self.m * self.k + self.k * self.l

    def critical_value(self, I) -> float:
        """``1/2 (tr(Y Y^T) - sum_{i in I} lambda_i)``, the predicted loss at the critical point of ``I``."""
        I = self._check_index_set(I)
        return 0.5 * (self.trace_yy - float(np.sum(self.eigenvalues[list(I)])))

    def global_value(self) -> float:
        """The global minimum over ``(D, E)``: ``critical_value(range(k))``."""
        return self.critical_value(tuple(range(self.k)))

    def critical_values(self) -> tuple[list, np.ndarray]:
        """Every index set ``I`` (subset of ``range(rank)``, ``|I| <= k``) and its critical value: the ladder."""
        sets = list(index_sets(self.rank, self.k))
        return sets, np.array([self.critical_value(I) for I in sets])

    # -- loss and derivatives ------------------------------------------------------------
    def _check_point(self, D, E):
        return _check_factor("D", D, (self.m, self.k)), _check_factor("E", E, (self.k, self.l))

    def loss(self, D, E) -> float:
        """``1/2 ||Y - D E B X||_F^2`` from the residual (no cancellation)."""
        D, E = self._check_point(D, E)
        R = self.Y - D @ (E @ self.Z)
        return 0.5 * float(np.sum(R * R))

    def loss_difference(self, D0, E0, D1, E1) -> float:
        """``L(D0, E0) - L(D1, E1)`` without cancellation: ``1/2 <(D1 E1 - D0 E0) Z, R0 + R1>``.

        ``R_i = Y - D_i E_i Z``; the identity ``||R0||^2 - ||R1||^2 = <R0 - R1, R0 + R1>`` avoids subtracting
        two nearly equal losses when the points are close (e.g. a small saddle escape).
        """
        D0, E0 = self._check_point(D0, E0)
        D1, E1 = self._check_point(D1, E1)
        W0Z = D0 @ (E0 @ self.Z)
        W1Z = D1 @ (E1 @ self.Z)
        return 0.5 * float(np.sum((W1Z - W0Z) * ((self.Y - W0Z) + (self.Y - W1Z))))

    def residual_cov(self, D, E) -> np.ndarray:
        """``G = R Z^T = S_yz - D E S_zz`` (``m x l``), the quantity both gradients are built from."""
        D, E = self._check_point(D, E)
        return self.Syz - D @ (E @ self.Szz)

    def gradients(self, D, E) -> tuple[np.ndarray, np.ndarray]:
        """``(dL/dD, dL/dE) = (-G E^T, -D^T G)`` with ``G = (Y - D E Z) Z^T``."""
        D, E = self._check_point(D, E)
        G = self.Syz - D @ (E @ self.Szz)
        return -G @ E.T, -D.T @ G

    def hessian(self, D, E) -> np.ndarray:
        """The exact Hessian of ``L`` in ``theta = (vec D, vec E)`` (row-major vec), shape ``(mk+kl, mk+kl)``.

        Its quadratic form is ``||(dD E + D dE) Z||_F^2 - 2 <Y - D E Z, dD dE Z>``:

        * ``H_DD = I_m (x) E S_zz E^T``,
        * ``H_EE = D^T D (x) S_zz``,
        * ``H_DE[(a,b),(b',c)] = D[a,b'] (E S_zz)[b,c] - G[a,c] delta_{b b'}``, ``G = (Y - D E Z) Z^T``.
        """
        D, E = self._check_point(D, E)
        m, k, l = self.m, self.k, self.l
        if self.n_params > MAX_HESSIAN_PARAMS:
            raise ValueError(f"the Hessian has (m k + k l)^2 = {self.n_params}^2 entries; hessian() is for small sizes "
                             f"(m k + k l <= {MAX_HESSIAN_PARAMS})")
        ES = E @ self.Szz
        G = self.Syz - D @ ES
        H_DD = np.kron(np.eye(m), ES @ E.T)
        H_EE = np.kron(D.T @ D, self.Szz)
        H_DE = (np.einsum("ae,bc->abec", D, ES) - np.einsum("ac,be->abec", G, np.eye(k))).reshape(m * k, k * l)
        H = np.block([[H_DD, H_DE], [H_DE.T, H_EE]])
        return 0.5 * (H + H.T)

    def pack(self, D, E) -> np.ndarray:
        """``theta = (vec D, vec E)`` (row-major)."""
        D, E = self._check_point(D, E)
        return np.concatenate([D.ravel(), E.ravel()])

    def unpack(self, theta) -> tuple[np.ndarray, np.ndarray]:
        theta = check_array("theta", theta, ndim=1)
        if theta.shape[0] != self.n_params:
            raise ValueError(f"theta has length {theta.shape[0]}; expected m k + k l = {self.n_params}")
        mk = self.m * self.k
        return theta[:mk].reshape(self.m, self.k).copy(), theta[mk:].reshape(self.k, self.l).copy()

    # -- critical points -----------------------------------------------------------------
    def _check_index_set(self, I) -> tuple:
        try:
            I = tuple(int(i) for i in I)
        except TypeError:
            raise TypeError(f"I must be an iterable of eigenvalue indices (0-based), got {I!r}") from None
        if len(set(I)) != len(I):
            raise ValueError(f"I={I} has repeated indices; expected distinct eigenvalue indices")
        if len(I) > self.k:
            raise ValueError(f"I={I} has |I|={len(I)} > k={self.k}; a critical point uses at most k eigenvectors")
        for i in I:
            if not 0 <= i < self.m:
                raise ValueError(f"I={I} contains {i}; expected 0-based indices into the m={self.m} eigenvalues of Sigma(B)")
        return tuple(sorted(I))

    def _check_C(self, C, seed) -> np.ndarray:
        if C is None:
            if seed is None:
                return np.eye(self.k)
            rng = check_rng("seed", seed)
            Q1, _ = np.linalg.qr(rng.standard_normal((self.k, self.k)))
            Q2, _ = np.linalg.qr(rng.standard_normal((self.k, self.k)))
            C = (Q1 * rng.uniform(0.5, 2.0, size=self.k)) @ Q2
        C = _check_factor("C", C, (self.k, self.k))
        if np.linalg.cond(C) > 1e8:
            raise ValueError(f"C must be invertible (an element of GL(k)); its condition number is {np.linalg.cond(C):.3g}")
        return C

    def critical_point(self, I, *, C=None, seed=None) -> tuple[np.ndarray, np.ndarray]:
        """The critical point ``D = [U_I, 0] C``, ``E = C^{-1} [U_I^T S_yz S_zz^{-1}; 0]`` of index set ``I``.

        Parameters
        ----------
        I : iterable of int
            Distinct 0-based eigenvalue indices (``0`` = largest), ``|I| <= k``.
        C : ndarray (k, k), optional
            The ``GL(k)`` element; default the identity, or a random one when ``seed`` is given.
        seed : None, int or Generator
            Draws ``C = Q_1 diag(s) Q_2`` (random orthogonal ``Q_i``, ``s_i`` uniform in ``[1/2, 2]``) when
            ``C`` is not given.
        """
        I = self._check_index_set(I)
        C = self._check_C(C, seed)
        U = np.zeros((self.m, self.k))
        U[:, : len(I)] = self.eigenvectors[:, list(I)]
        return self._from_basis(U, C)

    def _from_basis(self, U, C):
        D = U @ C
        E = np.linalg.solve(C, U.T @ self.A)
        return D, E

    # -- classification ------------------------------------------------------------------
    def symmetry_tangent(self, D, E) -> np.ndarray:
        """Orthonormal basis (columns) of ``{(D A, -A E) : A in gl(k)}``, the tangent of the ``GL(k)`` orbit."""
        D, E = self._check_point(D, E)
        k = self.k
        vecs = []
        for a, b in itertools.product(range(k), range(k)):
            A = np.zeros((k, k))
            A[a, b] = 1.0
            vecs.append(np.concatenate([(D @ A).ravel(), (-A @ E).ravel()]))
        V = np.array(vecs).T
        if not np.any(V):
            return np.zeros((self.n_params, 0))
        return linalg.orth(V)

    def classify(self, D, E, *, rtol: float = 1e-9) -> Classification:
        """Classify ``(D, E)`` by its Hessian spectrum (``rtol`` relative to the largest eigenvalue)."""
        D, E = self._check_point(D, E)
        H = self.hessian(D, E)
        h = linalg.eigvalsh(H)
        tol = rtol * max(float(np.max(np.abs(h))), np.finfo(float).tiny)
        T = self.symmetry_tangent(D, E)
        if T.shape[1]:
            P = linalg.null_space(T.T)
        else:
            P = np.eye(self.n_params)
        ht = linalg.eigvalsh(P.T @ H @ P) if P.shape[1] else np.array([np.inf])
        gD, gE = self.gradients(D, E)
        return Classification(
            kind="saddle" if np.any(h < -tol) else "minimum",
            eigenvalues=h,
            n_negative=int(np.sum(h < -tol)),
            n_zero=int(np.sum(np.abs(h) <= tol)),
            symmetry_dim=int(T.shape[1]),
            transverse_min=float(ht[0]),
            tol=tol,
            gradient_norm=float(math.sqrt(np.sum(gD * gD) + np.sum(gE * gE))),
        )

    def transverse_directions(self, D, E, count: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """Hessian eigenvectors orthogonal to the ``GL(k)`` orbit, for the ``count`` smallest eigenvalues.

        Returns ``(values, vectors)`` with ``vectors`` of shape ``(m k + k l, count)`` (unit columns in
        ``theta`` coordinates; split with :meth:`unpack`).  At a saddle the first has a negative value.
        """
        D, E = self._check_point(D, E)
        count = check_int("count", count, minimum=1, maximum=self.n_params)
        H = self.hessian(D, E)
        T = self.symmetry_tangent(D, E)
        P = linalg.null_space(T.T) if T.shape[1] else np.eye(self.n_params)
        w, V = linalg.eigh(P.T @ H @ P)
        return w[:count], P @ V[:, :count]

    def loss_slice(self, D, E, v1, v2, s, t) -> np.ndarray:
        """``L((D, E) + s_i v1 + t_j v2)`` on the grid ``s x t`` (``v1``, ``v2`` in ``theta`` coordinates).

        Returns an array of shape ``(len(s), len(t))``.
        """
        th = self.pack(D, E)
        v1 = check_array("v1", v1, ndim=1)
        v2 = check_array("v2", v2, ndim=1)
        if v1.shape != th.shape or v2.shape != th.shape:
            raise ValueError(f"v1, v2 must have length m k + k l = {self.n_params}, got {v1.shape}, {v2.shape}")
        s = np.asarray(s, dtype=np.float64).ravel()
        t = np.asarray(t, dtype=np.float64).ravel()
        out = np.empty((s.size, t.size))
        for i, a in enumerate(s):
            thetas = th[None] + a * v1[None] + t[:, None] * v2[None]
            mk = self.m * self.k
            Ds = thetas[:, :mk].reshape(-1, self.m, self.k)
            Es = thetas[:, mk:].reshape(-1, self.k, self.l)
            R = self.Y[None] - Ds @ (Es @ self.Z[None])
            out[i] = 0.5 * np.einsum("rmd,rmd->r", R, R)
        return out

    # -- saddle escape -------------------------------------------------------------------
    def _check_escape(self, I, a, b):
        I = self._check_index_set(I)
        a = check_int("a", a, minimum=0, maximum=self.m - 1)
        b = check_int("b", b, minimum=0, maximum=self.m - 1)
        if b not in I:
            raise ValueError(f"b={b} must be in I={I} (the used eigenvector that is rotated)")
        if a in I:
            raise ValueError(f"a={a} must not be in I={I} (the unused eigenvector rotated towards)")
        return I, a, b

    def escape_point(self, I, a, b, eps, *, C=None, seed=None) -> tuple[np.ndarray, np.ndarray]:
        """The critical point of ``I`` with ``u_b`` replaced by ``(u_b + eps u_a) / sqrt(1 + eps^2)``.

        Lowers the loss by :meth:`predicted_drop` ``(a, b, eps)`` when ``lambda_a > lambda_b``.
        """
        I, a, b = self._check_escape(I, a, b)
        eps = float(eps)
        C = self._check_C(C, seed)
        U = np.zeros((self.m, self.k))
        U[:, : len(I)] = self.eigenvectors[:, list(I)]
        j = I.index(b)
        U[:, j] = (self.eigenvectors[:, b] + eps * self.eigenvectors[:, a]) / math.sqrt(1.0 + eps * eps)
        return self._from_basis(U, C)

    def escape_direction(self, I, a, b, *, C=None, seed=None) -> tuple[np.ndarray, np.ndarray]:
        """``d/d eps`` of :meth:`escape_point` at ``eps = 0``: ``(dD, dE)`` with ``u_a`` in the slot of ``u_b``.

        Its Hessian curvature is ``theta'^T H theta' = -(lambda_a - lambda_b)``.
        """
        I, a, b = self._check_escape(I, a, b)
        C = self._check_C(C, seed)
        dU = np.zeros((self.m, self.k))
        dU[:, I.index(b)] = self.eigenvectors[:, a]
        return dU @ C, np.linalg.solve(C, dU.T @ self.A)

    def predicted_drop(self, a, b, eps) -> float:
        """``1/2 eps^2 / (1 + eps^2) (lambda_a - lambda_b)``: the drop of ``L = 1/2 ||.||_F^2``.

        The paper's ``eps^2/(1+eps^2)(lambda_a - lambda_b)`` is the drop of ``2 L = ||Y - D E B X||_F^2``.
        """
        a = check_int("a", a, minimum=0, maximum=self.m - 1)
        b = check_int("b", b, minimum=0, maximum=self.m - 1)
        eps = float(eps)
        return 0.5 * eps * eps / (1.0 + eps * eps) * float(self.eigenvalues[a] - self.eigenvalues[b])
