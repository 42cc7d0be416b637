"""Choosing a random sketch by name, and the argument checks the sketching modules share."""
from __future__ import annotations

import numpy as np

from numerics._validation import check_array, check_seed

__all__ = ["SKETCH_KINDS", "make_sketch"]

#: Names accepted by :func:`make_sketch` (and every ``kind=`` argument of this subpackage).
SKETCH_KINDS = ("srht", "gaussian", "sparse", "ailon-chazelle")


def check_kind(kind) -> str:
    if not isinstance(kind, str) or kind not in SKETCH_KINDS:
        raise ValueError(f"kind must be one of {SKETCH_KINDS}, got kind={kind!r}")
    return kind


def make_sketch(kind: str, n_features: int, k: int, *, seed=None, dtype=np.float64, **options):
    """A random ``k x n_features`` sketch ``J`` (a :mod:`numerics.jl` operator) chosen by name.

    Parameters
    ----------
    kind : {"srht", "gaussian", "sparse", "ailon-chazelle"}
        :class:`numerics.jl.SRHT` (``sqrt(n/k) S (H/sqrt n) D``, zero-padded to a
        power of two), :class:`~numerics.jl.GaussianProjection` (``N(0, 1/k)``
        entries), :class:`~numerics.jl.SparseProjection` (Li's very sparse signs,
        density ``1/sqrt(n_features)``) or :class:`~numerics.jl.AilonChazelle`.
    n_features, k : int
        Input and output dimensions, ``1 <= k <= n_features``.
    seed : None, int, SeedSequence or Generator, optional
    dtype : float32 or float64, default float64
    **options
        Passed to the operator's constructor, e.g. ``density=1/3`` (Achlioptas'
        matrix) for ``"sparse"`` or ``q=`` for ``"ailon-chazelle"``.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator of shape ``(k, n_features)``

    Examples
    --------
    >>> J = make_sketch("srht", 1000, 64, seed=0)
    >>> J.shape, J.n_padded
    ((64, 1000), 1024)
    """
    kind = check_kind(kind)
    from numerics import jl

    cls = {
        "srht": jl.SRHT,
        "gaussian": jl.GaussianProjection,
        "sparse": jl.SparseProjection,
        "ailon-chazelle": jl.AilonChazelle,
    }[kind]
    return cls(n_features, k, seed=check_seed("seed", seed), dtype=dtype, **options)


def check_sketch(name: str, J, n: int | None = None):
    """``J`` must be a linear operator (``shape``, ``matmat``, ``rmatmat``), with ``n`` columns if given."""
    shape = getattr(J, "shape", None)
    if not (isinstance(shape, tuple) and len(shape) == 2 and hasattr(J, "matmat") and hasattr(J, "rmatmat")):
        raise TypeError(
            f"{name} must be a linear operator with shape (k, n), matmat and rmatmat "
            f"(e.g. numerics.jl.SRHT or scipy.sparse.linalg.aslinearoperator(M)); got {type(J).__name__}"
        )
    if n is not None and shape[1] != n:
        raise ValueError(f"{name} has shape {shape}; expected {n} columns to match the data")
    return J


def check_vectors(name: str, x, length: int) -> tuple[np.ndarray, bool]:
    """``x`` as a 2-D array whose *rows* are vectors of ``length``; also whether it was 1-D."""
    x = check_array(name, x, ndim=(1, 2))
    if x.shape[-1] != length:
        raise ValueError(
            f"{name} has shape {x.shape}; expected vectors of length {length} "
            f"(shape ({length},) or (m, {length}), one vector per row)"
        )
    return (x[None, :], True) if x.ndim == 1 else (x, False)


def apply_rows(J, X: np.ndarray) -> np.ndarray:
    """``X @ J.T``: ``J`` applied to every row of ``X`` (the fused batch path when ``J`` has one)."""
    if hasattr(J, "project"):
        return J.project(X)
    return np.asarray(J.matmat(X.T)).T


def apply_adjoint_rows(J, Y: np.ndarray) -> np.ndarray:
    """``Y @ J``: ``J^T`` applied to every row of ``Y``."""
    if hasattr(J, "project_adjoint"):
        return J.project_adjoint(Y)
    return np.asarray(J.rmatmat(Y.T)).T
