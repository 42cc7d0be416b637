"""Projection of a pre-trained matrix ``W`` onto the orthogonal / unitary group.

* :func:`polar_factor` -- the closed form: ``W = P S Q^H`` (SVD) gives the nearest unitary
  matrix ``P Q^H`` in Frobenius norm, with ``min ||U - W||_F^2 = sum_i (sigma_i - 1)^2``.
* :func:`nearest_rotation` -- real ``W``: the nearest matrix of SO(n).  When ``det W < 0`` it is
  ``P diag(1, ..., 1, -1) Q^T`` (the direction of the smallest singular value flipped), at squared
  distance ``sum_i (sigma_i - 1)^2 + 4 sigma_min``.
* :func:`project` -- the gradient-based fit of the unitary-weights paper: minimise
  ``f(theta) = 1/2 ||U(theta) - W||_F^2`` by gradient descent through a parametrisation
  (:mod:`numerics.unitary._param`).  For the exponential and Cayley maps the fit is recentred
  after every step (``U <- U exp(A)``, ``A <- 0``: Riemannian gradient descent with the map as
  retraction), which keeps the Jacobian of the map at the identity; ``recentre=False`` runs the
  paper's plain descent in the Lie parameters.  In the real case the exponential, Cayley and
  rotation-butterfly maps reach only SO(n): when ``det W < 0`` this is detected, a
  :class:`ReachabilityWarning` is issued, and the fit goes to the nearest rotation
  (``result.reachable`` is False and ``result.note`` says so); a real Householder product uses
  ``n - 1`` reflectors then, which reaches ``det = -1``.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from numerics._validation import check_int

from ._param import KINDS, Householder, check_square, parametrisation, skew_to_params

__all__ = [
    "polar_factor",
    "nearest_rotation",
    "optimal_value",
    "project",
    "ProjectionResult",
    "ReachabilityWarning",
    "check_weight",
]

#: ``W`` with ``sigma_min / sigma_max`` below this is refused as singular.
SINGULAR_RCOND = 1e-10


class ReachabilityWarning(UserWarning):
    """The nearest orthogonal matrix is not reachable by the parametrisation (real ``det W < 0``)."""


def check_weight(name: str, W, *, complex: bool | None = None):
    """Validate a square, finite, non-singular float64/complex128 ``W``; return ``(W, singular values)``."""
    W = check_square(name, W, complex=complex)
    s = np.linalg.svd(W, compute_uv=False)
    if s[0] == 0 or s[-1] / s[0] < SINGULAR_RCOND:
        raise ValueError(
            f"{name} is singular or nearly so (sigma_min/sigma_max = {s[-1] / s[0] if s[0] else 0.0:.3e} < "
            f"{SINGULAR_RCOND:g}); its nearest unitary matrix is not unique"
        )
    return W, s


def polar_factor(W) -> np.ndarray:
    """The unitary polar factor ``P Q^H`` of ``W = P S Q^H``: the nearest orthogonal/unitary matrix.

    Parameters
    ----------
    W : ndarray, shape (n, n), float64 or complex128
        Finite and non-singular (else the nearest unitary matrix is not unique).

    Returns
    -------
    ndarray, shape (n, n), dtype of ``W``
    """
    W, _ = check_weight("W", W)
    P, _, QH = np.linalg.svd(W)
    return P @ QH


def nearest_rotation(W) -> np.ndarray:
    """The nearest matrix of SO(n) to a real ``W`` (equal to :func:`polar_factor` when ``det W > 0``).

    When ``det W < 0`` the singular direction of the smallest singular value is flipped:
    ``P diag(1, ..., 1, -1) Q^T``.  A complex ``W`` is a ``TypeError``.
    """
    W, _ = check_weight("W", W, complex=False)
    P, _, QT = np.linalg.svd(W)
    if np.linalg.det(P) * np.linalg.det(QT) < 0:
        P = P.copy()
        P[:, -1] *= -1
    return P @ QT


def optimal_value(W, *, rotation: bool = False) -> float:
    """``min ||U - W||_F^2`` over unitary ``U`` (``sum (sigma_i - 1)^2``), or over SO(n) for ``rotation=True``.

    Over SO(n) with real ``det W < 0`` the minimum is ``sum (sigma_i - 1)^2 + 4 sigma_min``.
    """
    W, s = check_weight("W", W, complex=False if rotation else None)
    val = float(np.sum((s - 1) ** 2))
    if rotation and np.linalg.det(W) < 0:
        val += 4 * float(s[-1])
    return val


@dataclass
class ProjectionResult:
    """Outcome of :func:`project`.

    Attributes
    ----------
    U : ndarray
        The fitted orthogonal / unitary matrix.
    theta : ndarray
        Parameters of the last step (relative to ``base`` when the fit was recentred).
    base : ndarray or None
        ``U = base @ param.matrix(theta)`` (None: ``U = param.matrix(theta)``).
    iterations : int
    converged : bool
        The gradient norm fell below ``tol`` within ``max_iter`` iterations.
    reachable : bool
        False when the nearest orthogonal matrix is outside the parametrisation's image (real
        ``det W < 0`` for exp / Cayley / butterfly); the fit then targets the nearest rotation.
    note : str
    loss : ndarray
        ``||U - W||_F^2`` per iteration.
    distance : ndarray
        ``||U - reference||_F`` per iteration (empty if no reference was given).
    seconds : float
        Wall time of the iterations (validation and reference excluded).
    """

    U: np.ndarray
    theta: np.ndarray
    base: np.ndarray | None
    iterations: int
    converged: bool
    reachable: bool
    note: str
    kind: str
    loss: np.ndarray = field(repr=False)
    distance: np.ndarray = field(repr=False)
    seconds: float = 0.0

    def iterations_to(self, eps: float) -> int | None:
        """First iteration with ``distance <= eps`` (None if never reached or no reference)."""
        hit = np.flatnonzero(self.distance <= eps)
        return int(hit[0]) if hit.size else None


def project(W, kind: str = "exp", *, lr=None, tol: float = 1e-11, max_iter: int = 2000, recentre: bool | None = None,
            reference=None, seed=0, param_options: dict | None = None) -> ProjectionResult:
    """Fit ``U(theta)`` to ``W`` by gradient descent on ``1/2 ||U(theta) - W||_F^2`` through parametrisation ``kind``.

    Parameters
    ----------
    W : ndarray, shape (n, n), float64 (orthogonal case) or complex128 (unitary case)
        Finite, non-singular.
    kind : {"exp", "cayley", "householder", "butterfly"}
    lr : float, optional
        Step size; default ``0.5 / ||W||_2`` (the curvature in the parameters is at most ``2 ||W||_2``).
    tol : float, default 1e-11
        Stop when the Euclidean norm of the parameter gradient is below ``tol``.
    max_iter : int, default 2000
    recentre : bool, optional
        Exp / Cayley only (default True): move the base point to ``U`` after each step.
    reference : ndarray, optional
        Matrix whose distance to ``U`` is recorded per iteration (e.g. the polar factor).
    seed : int
        Seed of the random start (Householder reflectors).
    param_options : dict, optional
        Extra arguments of the parametrisation (e.g. ``k`` for Householder).

    Returns
    -------
    ProjectionResult

    Warns
    -----
    ReachabilityWarning
        Real ``W`` with ``det W < 0`` and a parametrisation that reaches only SO(n).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got kind={kind!r}")
    W, s = check_weight("W", W)
    n = W.shape[0]
    cx = W.dtype.kind == "c"
    max_iter = check_int("max_iter", max_iter, minimum=1)
    if not (isinstance(tol, (int, float)) and tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a positive finite number, got tol={tol!r}")
    if recentre is None:
        recentre = kind in ("exp", "cayley")
    if recentre and kind not in ("exp", "cayley"):
        raise ValueError(f"recentre=True needs kind 'exp' or 'cayley' (a map with identity at 0), got kind={kind!r}")
    if lr is None:
        lr = 0.5 / float(s[0])
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive finite number, got lr={lr!r}")
    options = dict(param_options or {})
    reachable, note = True, ""
    negative = (not cx) and np.linalg.det(W) < 0
    if negative and kind == "householder" and "k" not in options:
        options["k"] = n - 1 if n % 2 == 0 else n
        note = f"det W < 0: using k={options['k']} reflectors (odd) so that det U = -1 is reachable"
    param = parametrisation(kind, n, complex=cx, **options)
    if negative and kind != "householder":
        reachable = False
        note = (f"real W has det W < 0: the {kind} parametrisation reaches only SO(n); fitting the nearest rotation "
                f"(squared distance sum (sigma_i-1)^2 + 4 sigma_min = {np.sum((s - 1) ** 2) + 4 * s[-1]:.6g} "
                f"instead of {np.sum((s - 1) ** 2):.6g})")
        warnings.warn(note, ReachabilityWarning, stacklevel=2)
    if isinstance(param, Householder) and not cx and param.k % 2 != (1 if negative else 0):
        reachable = False
        note = f"k={param.k} reflectors give det U = {(-1) ** param.k}, but det W has the other sign"
        warnings.warn(note, ReachabilityWarning, stacklevel=2)
    if reference is not None:
        reference = check_square("reference", reference, complex=cx)
        if reference.shape != W.shape:
            raise ValueError(f"reference has shape {reference.shape}; expected {W.shape}")

    theta = param.zeros() if kind != "householder" else param.random(seed) / np.sqrt(n)
    base = np.eye(n, dtype=W.dtype) if recentre else None
    losses, dists = [], []
    converged = False
    it = 0
    t0 = time.perf_counter()
    for it in range(1, max_iter + 1):
        if base is None:
            U = param.matrix(theta)
        else:
            U = base  # theta = 0 after recentring, and U(0) = I
        R = U - W
        losses.append(float(np.vdot(R, R).real))
        if reference is not None:
            dists.append(float(np.linalg.norm(U - reference)))
        if base is None:
            g = param.vjp(theta, R)
        else:
            # Both maps have derivative the identity at A = 0 (exp: L(0, E) = E; Cayley with A/2: dU = dA),
            # so the vjp at theta = 0 is the pull-back of the skew part: exactly param.vjp(0, base^H R).
            g = skew_to_params(base.conj().T @ R, n, cx)
        if not np.all(np.isfinite(g)):
            raise FloatingPointError(f"the gradient became non-finite at iteration {it}; lower lr (lr={lr})")
        if float(np.linalg.norm(g)) <= tol:
            converged = True
            break
        theta = theta - lr * g
        if base is not None:
            base = base @ param.matrix(theta)
            theta = param.zeros()
    seconds = time.perf_counter() - t0
    return ProjectionResult(U=U, theta=theta, base=base, iterations=it, converged=converged, reachable=reachable,
                            note=note, kind=kind, loss=np.array(losses), distance=np.array(dists), seconds=seconds)
