"""Approximation guarantees of random sketches: what the butterfly/FJLT paper claims and what holds.

* :mod:`~numerics.sketching.lemma`: Lemma B.1 (``||x - J^T J x|| <= eps``) is
  false for ``k < n``; for the SRHT ``||x - J^T J x||^2 = ||x||^2 + (n/k - 2)||Jx||^2``
  exactly (:func:`projection_residual_sq`, :func:`lemma_b1_rhs`,
  :func:`expected_residual_sq`).
* :mod:`~numerics.sketching.amm`: approximate matrix multiplication, the
  statement that does hold (:func:`amm_error`, :func:`one_sided_error`,
  test families :func:`amm_matrices`).
* :mod:`~numerics.sketching.lowrank`: Sarlos' sketched low-rank approximation
  ``J_k(X)`` (:func:`sketched_low_rank`, :func:`low_rank_residual`,
  :func:`sarlos_rows`).

Claims: ``numerics.sketching.claims`` (``lemma-b1.false``, ``amm.bound``,
``amm.rate``, ``sarlos.lowrank``); theory: ``theory/lemma_b1.md``,
``theory/amm.md``, ``theory/sarlos.md``.
"""
from ._sketch import SKETCH_KINDS, make_sketch
from .amm import AMM_FAMILIES, amm_error, amm_matrices, one_sided_error
from .lemma import expected_residual_sq, lemma_b1_rhs, padded_srht, projection_residual_sq, sketch_norm_sq
from .lowrank import best_rank_k, low_rank_residual, rowspace_basis, sarlos_rows, sketched_low_rank

__all__ = [
    "SKETCH_KINDS",
    "make_sketch",
    "sketch_norm_sq",
    "projection_residual_sq",
    "lemma_b1_rhs",
    "expected_residual_sq",
    "padded_srht",
    "AMM_FAMILIES",
    "amm_error",
    "one_sided_error",
    "amm_matrices",
    "sketched_low_rank",
    "best_rank_k",
    "low_rank_residual",
    "rowspace_basis",
    "sarlos_rows",
]
