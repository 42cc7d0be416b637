"""Factorizations of dense matrices into structured ones.

* :func:`monarch_project` / :class:`Monarch`: the optimal Monarch approximation
  (block-diagonal, permutation, block-diagonal) from rank-one SVDs of slices.
* :func:`butterfly_factorize`: exact hierarchical butterfly factorization (rank-one
  SVDs of ``2 x k`` sub-blocks, level by level) with an optional known permutation.
* :func:`learn_factorization`: learned ``BP`` / ``BPP`` / ``BPBP`` factorization with a relaxed
  permutation (Adam then L-BFGS, hand-written gradients, Numba kernels); optionally of the real part
  only (complex twiddles, real target).
* :func:`learn_bp_levelwise`: ``BP`` learned level by level (relaxed logit per level, twiddles exact).
* :func:`learn_real_levelwise`: ``Re(B P)`` / ``Re(B P Q)`` permutations learned level by level by a rank-two
  criterion, then the twiddles solved exactly by :func:`solve_real_twiddles` (gauge propagation over the blocks'
  rank-two row spaces; :mod:`numerics.factorize.realpart`) or finished by the joint learner;
  :func:`levelwise_real_permutation` is its permutation part alone; :func:`fit_real_twiddles` fits the complex
  twiddles of ``Re(B P)`` for a given permutation by variable projection (the top factor solved by least squares).
* :func:`solve_bbstar_twiddles`: exact twiddles of ``B_1 B_2 P`` (increasing, then decreasing butterfly: the
  ``B B^*`` form, which holds every circulant) from ``2 x 2`` certificates depth by depth;
  :func:`learn_bbstar_levelwise` chooses ``P`` from the relaxed family level by level with the same certificate.
* :func:`target_matrix`: the transforms of the learned-butterfly table; :func:`known_permutation`: the
  permutations of their classical fast algorithms.
"""
from .monarch import MONARCH_DTYPES, Monarch, monarch_project

__all__ = ["Monarch", "monarch_project", "MONARCH_DTYPES"]
from .exact import ButterflyFactorization, butterfly_factorize, check_permutation  # noqa: E402

__all__ += ["ButterflyFactorization", "butterfly_factorize", "check_permutation"]
from .learned import (  # noqa: E402
    KINDS,
    LearnedFactorization,
    LevelwisePermutation,
    bp_loss_and_grad,
    depth_blocks,
    fit_real_twiddles,
    hard_permutation,
    learn_bp_levelwise,
    learn_factorization,
    learn_real_levelwise,
    levelwise_real_permutation,
    model_steps,
    permutation_steps,
    relaxed_permutation,
)

__all__ += ["KINDS", "LearnedFactorization", "LevelwisePermutation", "bp_loss_and_grad", "depth_blocks",
            "fit_real_twiddles", "hard_permutation", "learn_bp_levelwise", "learn_factorization",
            "learn_real_levelwise", "levelwise_real_permutation", "model_steps", "permutation_steps",
            "relaxed_permutation"]
from .realpart import solve_real_twiddles  # noqa: E402

__all__ += ["solve_real_twiddles"]
from .bbstar import learn_bbstar_levelwise, solve_bbstar_twiddles  # noqa: E402

__all__ += ["learn_bbstar_levelwise", "solve_bbstar_twiddles"]
from .targets import KNOWN_PERMUTATIONS, TARGETS, known_permutation, target_matrix  # noqa: E402

__all__ += ["KNOWN_PERMUTATIONS", "TARGETS", "known_permutation", "target_matrix"]
