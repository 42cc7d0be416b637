"""Johnson-Lindenstrauss projections: SRHT / FJLT operators, JL dimensions, a transformer.

Operators (``scipy.sparse.linalg.LinearOperator`` subclasses, shape ``(k, n_features)``):

* :class:`SRHT` ``sqrt(n/k) S (H/sqrt n) D``, with the fused batch path :func:`srht_project`;
* :class:`AilonChazelle` ``k^{-1/2} P (H/sqrt n) D``, sparse Gaussian ``P``;
* :class:`GaussianProjection` (``N(0, 1/k)`` entries) and :class:`SparseProjection`
  (Achlioptas / Li).

:func:`jl_min_dim` is scikit-learn's JL dimension, :func:`jl_failure_bound` the
per-vector failure probability it implies, :class:`FJLTransform` an sklearn
transformer.  Claims: ``numerics.jl.claims``; theory: ``theory/jl.md``.
"""
from .dims import jl_failure_bound, jl_min_dim
from .operators import (
    SRHT,
    AilonChazelle,
    GaussianProjection,
    SparseProjection,
    ailon_chazelle_q,
    default_block_size,
    srht_project,
)
from .transformer import FJLTransform

__all__ = [
    "SRHT",
    "AilonChazelle",
    "GaussianProjection",
    "SparseProjection",
    "FJLTransform",
    "srht_project",
    "jl_min_dim",
    "jl_failure_bound",
    "ailon_chazelle_q",
    "default_block_size",
]
