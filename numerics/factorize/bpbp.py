"""``B_1 P_1 B_2 P_2`` with *given* permutations, each butterfly increasing or decreasing in stride.

:func:`fit_bpbp_fixed` fits the twiddles of ``M = B_1 P_1 B_2 P_2`` to a target for
two fixed permutations (``P x = x[perm]``); ``B_i`` is an increasing-stride butterfly
(:class:`numerics.butterfly.Butterfly`, stride 1 applied first) or, with
``decreasing[i]``, a decreasing-stride one (stride ``n/2`` applied first, the ``B^*``
of Dao et al.).  It exists to test representability questions of ``factorize.learned``
(``theory/factorization.md`` section 5): with the permutations fixed, the model is
multilinear in the twiddles and only they are fitted.

Fitting.  Each fixed permutation is one step of weight 1 of the learned model of
:mod:`numerics.factorize.learned`, whose kernels apply every butterfly in its own stride
order; the twiddles are fitted from random starts by batched Adam, then L-BFGS (the
refit that ``learn_factorization(..., twiddle_restarts=k)`` applies to learned
permutations).  The result is reported as a dense product computed independently of the
kernels (:meth:`FixedBPBP.todense`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics._validation import check_array, check_finite, check_int, check_rng
from numerics.butterfly import Butterfly

from .exact import check_permutation

__all__ = ["FixedBPBP", "fit_bpbp_fixed"]


@dataclass
class FixedBPBP:
    """Result of :func:`fit_bpbp_fixed`: ``A ~ B_1 P_1 B_2 P_2``.

    Attributes
    ----------
    butterflies : list of Butterfly
        ``[B_1, B_2]`` (complex128), with the stride orders requested.
    perms : list of ndarray
        ``[perm_1, perm_2]`` as given (``P x = x[perm]``).
    rmse : float
        ``sqrt(mean |B_1 P_1 B_2 P_2 - A|^2)`` of the dense product.
    history : list of float
        Final RMSE (from the loss) of every restart that L-BFGS refined.
    """

    butterflies: list
    perms: list
    rmse: float
    history: list

    def todense(self) -> np.ndarray:
        """``B_1 P_1 B_2 P_2`` as a dense matrix (butterflies by :meth:`Butterfly.todense`)."""
        from .learned import _dense_product

        return _dense_product(self.butterflies, self.perms)


def fit_bpbp_fixed(A, perms, *, decreasing=(False, False), restarts: int = 4, adam_steps: int = 1000,
                   lbfgs_iters: int = 3000, seed=None, stop_rmse: float = 1e-13) -> FixedBPBP:
    """Fit complex twiddles of ``A ~ B_1 P_1 B_2 P_2`` for two given permutations.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64 or complex128, finite; ``n`` a power of two ``>= 4``.
    perms : pair of int arrays, shape (n,)
        ``perm_1, perm_2``, permutations of ``range(n)``; ``P_i x = x[perm_i]`` (e.g. from
        :func:`numerics.factorize.hard_permutation`).
    decreasing : pair of bool, default (False, False)
        Stride order of ``B_1`` and ``B_2``: ``False`` increasing (stride 1 applied first),
        ``True`` decreasing (stride ``n/2`` applied first).
    restarts : int, default 4
        Random initialisations (:meth:`Butterfly.random`); all run ``adam_steps`` Adam steps
        (step 0.02) together, then L-BFGS refines them best first until one reaches ``stop_rmse``.
    adam_steps, lbfgs_iters : int
    seed : None, int or Generator
    stop_rmse : float, default 1e-13

    Returns
    -------
    FixedBPBP
        The best restart; ``rmse`` is that of the dense product.

    Raises
    ------
    TypeError
        Bad dtypes of ``A`` or the permutations, or ``decreasing`` not a pair of bools.
    ValueError
        ``A`` not square of power-of-two size ``>= 4`` or not finite, ``perms`` not two permutations of
        ``range(n)``, or non-positive ``restarts``.
    """
    from .learned import _lbfgs

    A = check_array("A", A, ndim=2, dtypes=(np.dtype(np.float64), np.dtype(np.complex128)), finite=False)
    n = A.shape[0]
    if A.shape[0] != A.shape[1] or n < 4 or n & (n - 1):
        raise ValueError(f"A must be square of size n a power of two >= 4, got shape {A.shape}")
    check_finite("A", A)
    if len(perms) != 2:
        raise ValueError(f"perms must be a pair (perm_1, perm_2), got {len(perms)} entries")
    p1, p2 = (check_permutation(f"perms[{i}]", p, n) for i, p in enumerate(perms))
    if len(decreasing) != 2 or not all(isinstance(d, (bool, np.bool_)) for d in decreasing):
        raise TypeError(f"decreasing must be a pair of bools, got decreasing={decreasing!r}")
    d1, d2 = (bool(d) for d in decreasing)
    restarts = check_int("restarts", restarts, minimum=1)
    adam_steps = check_int("adam_steps", adam_steps, minimum=0)
    lbfgs_iters = check_int("lbfgs_iters", lbfgs_iters, minimum=1)
    rng = check_rng("seed", seed)

    from .learned import _Model, _refit_fresh, _dense_product

    # each fixed permutation is one step of weight 1: pair 1 uses step 0 (perm_1), pair 2 step 1 (perm_2)
    model = _Model(np.ascontiguousarray(A, dtype=np.complex128), "BPBP", True, steps=[p1, p2], decreasing=(d1, d2))
    hard = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    theta, _, history = _refit_fresh(model, hard, restarts, adam_steps, lbfgs_iters, rng, stop_rmse)
    Bs = [Butterfly(tw, increasing=not d) for (tw, _), d in zip(model.unpack(theta), (d1, d2))]
    rmse = float(np.sqrt(np.mean(np.abs(_dense_product(Bs, [p1, p2]) - A) ** 2)))
    return FixedBPBP(butterflies=Bs, perms=[p1, p2], rmse=rmse, history=history)
