"""Lemma B.1 of Ailon, Leibovitch and Nair (2021), and why it fails.

The lemma asserts ``||x - J^T J x|| <= eps`` for a unit ``x`` and an FJLT ``J``
with ``k = O(eps^-2 log 1/delta)`` rows.  For the SRHT
``J = sqrt(n/k) S (H/sqrt n) D`` with ``k`` distinct rows, ``J J^T = (n/k) I_k``,
so ``P = (k/n) J^T J`` is an orthogonal projection of rank ``k`` and, for every
``x`` (derivation in ``theory/lemma_b1.md``),

    ||x - J^T J x||^2 = ||x||^2 + (n/k - 2) ||J x||^2.

Since ``||J x||^2`` concentrates at ``||x||^2``, the residual concentrates at
``sqrt(n/k - 1) ||x||``, not at zero; for ``k <= n/2`` it is never below ``||x||``.

Zero padding.  :class:`numerics.jl.SRHT` acts on ``R^m`` (``m = n_features``)
by padding to ``n = n_padded``.  The identity is exact in the padded space
``R^n``; measured in ``R^m`` (the adjoint drops the padded coordinates) the
residual is smaller by the energy of the dropped tail, and its expectation is
``n/k - 1 - (n - m)(n - k)/(k (n - 1))`` per unit ``||x||^2``.  Both spaces
are offered through ``space=``.
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_int

from ._sketch import apply_adjoint_rows, apply_rows, check_sketch, check_vectors

__all__ = [
    "sketch_norm_sq",
    "projection_residual_sq",
    "lemma_b1_rhs",
    "expected_residual_sq",
    "padded_srht",
]

_SPACES = ("original", "padded")


def _check_space(space) -> str:
    if not isinstance(space, str) or space not in _SPACES:
        raise ValueError(f"space must be one of {_SPACES}, got space={space!r}")
    return space


def _check_srht(name: str, J):
    from numerics.jl import SRHT

    if not isinstance(J, SRHT):
        raise TypeError(
            f"{name} must be a numerics.jl.SRHT (the identity and the padded space are defined for the SRHT); "
            f"got {type(J).__name__}"
        )
    return J


def _squeeze(values: np.ndarray, was_1d: bool):
    return values[0] if was_1d else values


def padded_srht(J):
    """The SRHT on the padded space ``R^{n_padded}`` that agrees with ``J`` on zero-padded vectors.

    Same kept rows and signs; the padded coordinates get sign ``+1`` (they
    multiply zeros in the forward map, and only ``||.||`` of the padded
    coordinates is ever used, which no sign changes).

    Parameters
    ----------
    J : numerics.jl.SRHT

    Returns
    -------
    numerics.jl.SRHT with ``n_features == J.n_padded``
    """
    from numerics.jl import SRHT

    J = _check_srht("J", J)
    if J.n_features == J.n_padded:
        return J
    signs = np.ones(J.n_padded)
    signs[: J.n_features] = J.signs
    return SRHT.from_parts(J.indices, signs, dtype=J.dtype)


def sketch_norm_sq(J, x):
    """``||J x||^2`` for a vector ``x`` or for every row of a matrix ``x``.

    Parameters
    ----------
    J : LinearOperator, shape (k, n)
        Any sketch (e.g. from :func:`numerics.sketching.make_sketch`).
    x : ndarray of float32/float64, shape (n,) or (m, n)
        One vector, or one vector per row.  Any memory layout.

    Returns
    -------
    float or ndarray of shape (m,)
    """
    J = check_sketch("J", J)
    X, was_1d = check_vectors("x", x, J.shape[1])
    y = apply_rows(J, X)
    return _squeeze(np.einsum("ij,ij->i", y, y), was_1d)


def projection_residual_sq(J, x, *, space: str = "original"):
    """``||x - J^T J x||^2``, the quantity Lemma B.1 claims is at most ``eps^2``.

    Parameters
    ----------
    J : LinearOperator, shape (k, n)
        Any sketch.  ``space="padded"`` needs a :class:`numerics.jl.SRHT`.
    x : ndarray of float32/float64, shape (n,) or (m, n)
        One vector, or one vector per row.
    space : {"original", "padded"}, default "original"
        ``"original"``: in ``R^{n_features}``, with ``J^T`` as the operator's
        adjoint (which drops padded coordinates).  ``"padded"``: in
        ``R^{n_padded}``, i.e. ``||[x; 0] - J_pad^T J_pad [x; 0]||^2`` with the
        adjoint of the padded operator (:func:`padded_srht`), where the
        identity ``||x||^2 + (n/k - 2)||Jx||^2`` is exact.  The two agree when
        ``n_features`` is a power of two.

    Returns
    -------
    float or ndarray of shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.sketching import make_sketch
    >>> J = make_sketch("srht", 1024, 64, seed=0)
    >>> x = np.zeros(1024); x[3] = 1.0          # spiky: ||Jx|| = 1 exactly
    >>> round(float(projection_residual_sq(J, x)), 10)  # n/k - 1
    15.0
    """
    space = _check_space(space)
    J = check_sketch("J", J)
    X, was_1d = check_vectors("x", x, J.shape[1])
    if space == "padded":
        J = padded_srht(J)
        if X.shape[1] != J.n_features:
            Xp = np.zeros((X.shape[0], J.n_features), dtype=X.dtype)
            Xp[:, : X.shape[1]] = X
            X = Xp
    back = apply_adjoint_rows(J, apply_rows(J, X))
    r = X - back
    return _squeeze(np.einsum("ij,ij->i", r, r), was_1d)


def lemma_b1_rhs(J, x):
    """Right-hand side of the identity, ``||x||^2 + (n/k - 2) ||J x||^2`` (``n = J.n_padded``).

    Equals :func:`projection_residual_sq` with ``space="padded"`` for every
    ``x`` (to rounding), because ``J J^T = (n/k) I_k`` for the SRHT.

    Parameters
    ----------
    J : numerics.jl.SRHT
    x : ndarray of float32/float64, shape (n_features,) or (m, n_features)

    Returns
    -------
    float or ndarray of shape (m,)
    """
    J = _check_srht("J", J)
    X, was_1d = check_vectors("x", x, J.n_features)
    sk = np.atleast_1d(sketch_norm_sq(J, X))
    norm2 = np.einsum("ij,ij->i", X, X)
    return _squeeze(norm2 + (J.n_padded / J.n_components - 2.0) * sk, was_1d)


def expected_residual_sq(n_features: int, k: int, *, space: str = "original") -> float:
    """``E ||x - J^T J x||^2 / ||x||^2`` for the SRHT, exactly (any fixed ``x``).

    With ``n`` the next power of two ``>= n_features = m``:

    * padded space: ``n/k - 1`` (from the identity and ``E ||Jx||^2 = ||x||^2``);
    * original space: ``n/k - 1 - (n - m)(n - k) / (k (n - 1))``, the padded
      value minus the expected energy of the dropped tail of ``J_pad^T J x``
      (derivation in ``theory/lemma_b1.md``).  Equal when ``m = n``.

    Parameters
    ----------
    n_features, k : int
        ``1 <= k <= n_features``.
    space : {"original", "padded"}
    """
    space = _check_space(space)
    m = check_int("n_features", n_features, minimum=1)
    k = check_int("k", k, minimum=1, maximum=m)
    n = 1 << (m - 1).bit_length()
    value = n / k - 1.0
    if space == "original" and n > m:
        value -= (n - m) * (n - k) / (k * (n - 1))
    return value
