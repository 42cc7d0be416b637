"""Generalized block-low-rank (GBLR) matrices learned with Gaussian-Dirichlet masks (paper D, Lee & Kim 2024).

:class:`GBLRMatrix` is ``W = sum_k (m_out_k * u_k)(m_in_k * v_k)^T`` with circular interval masks, a
``LinearOperator`` whose products cost exactly :attr:`GBLRMatrix.flops` multiplications.
:func:`gaussian_dirichlet_mask` / :func:`gaussian_dirichlet_mask_grad` give the differentiable masks and
their analytic derivatives; :func:`prox_widths`, :func:`gblr_objective`, :func:`init_from_dense`,
:func:`refine`, :func:`relocate`, :func:`svd_start`, :func:`train_gblr`, :func:`harden`, :func:`learn_gblr`
(proximal-gradient training from the generic SVD start) and :func:`fit_gblr` (the search pipeline, a
comparison) learn one under a FLOP budget;
:mod:`numerics.gblr.baselines` has truncated SVD, block-sparse and Monarch at equal FLOPs.
Theory: ``theory/gblr.md``.
"""
from .baselines import block_sparse_at_flops, monarch_at_flops, tsvd_at_flops
from .fit import (fit_gblr, gblr_objective, harden, init_from_dense, learn_gblr, prox_widths, refine, relocate,
                  svd_start, train_gblr)
from .mask import gaussian_dirichlet_mask, gaussian_dirichlet_mask_grad, interval_mask
from .operator import GBLRMatrix

__all__ = [
    "GBLRMatrix",
    "gaussian_dirichlet_mask", "gaussian_dirichlet_mask_grad", "interval_mask",
    "prox_widths", "gblr_objective", "init_from_dense", "svd_start", "refine", "relocate", "train_gblr", "harden",
    "learn_gblr", "fit_gblr",
    "tsvd_at_flops", "block_sparse_at_flops", "monarch_at_flops",
]
