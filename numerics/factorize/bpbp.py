"""``B_1 P_1 B_2 P_2`` with *given* permutations, each butterfly increasing or decreasing in stride.

:func:`fit_bpbp_fixed` fits the twiddles of ``M = B_1 P_1 B_2 P_2`` to a target for
two fixed permutations (``P x = x[perm]``); ``B_i`` is an increasing-stride butterfly
(:class:`numerics.butterfly.Butterfly`, stride 1 applied first) or, with
``decreasing[i]``, a decreasing-stride one (stride ``n/2`` applied first, the ``B^*``
of Dao et al.).  It exists to test representability questions of ``factorize.learned``
(``theory/factorization.md`` section 5): with the permutations fixed, the model is
multilinear in the twiddles and only they are fitted.

Reduction to the increasing kernels.  Conjugating by the bit reversal ``R`` maps the
stride-``2^t`` factor to a stride-``2^{L-1-t}`` one, so every decreasing butterfly is
``R B R`` with ``B`` increasing.  Hence

    ``A ~ B_1' P_1 B_2' P_2``  <=>  ``R^{d_1} A ~ B_1 (R^{d_1} P_1 R^{d_2}) B_2 (R^{d_2} P_2)``

with increasing ``B_i`` and ``d_i = decreasing[i]``, which is fitted by Adam then L-BFGS
with the loss and gradient kernels of :mod:`numerics.factorize.learned` (each fixed
permutation is one step of weight 1).  The result is reported as a dense product computed
independently of the kernels (:meth:`FixedBPBP.todense`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics._validation import check_array, check_finite, check_int, check_rng
from numerics.butterfly import Butterfly, bit_reversal_permutation

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
        Final RMSE of every restart that was refined.
    """

    butterflies: list
    perms: list
    rmse: float
    history: list

    def todense(self) -> np.ndarray:
        """``B_1 P_1 B_2 P_2`` as a dense matrix (butterflies by :meth:`Butterfly.todense`)."""
        n = self.butterflies[0].n
        M = np.eye(n, dtype=np.complex128)
        for B, perm in zip(reversed(self.butterflies), reversed(self.perms)):
            M = B.todense() @ M[perm, :]
        return M


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

    model, hard1 = _reduce(A, p1, p2, d1, d2)
    TH = np.stack([model.init(rng) for _ in range(restarts)])
    hard = np.broadcast_to(hard1, (restarts, 2, 2)).copy()
    m = np.zeros_like(TH)
    v = np.zeros_like(TH)
    for t in range(1, adam_steps + 1):
        _, g = model.kernel_loss_grad(TH, hard, parallel=restarts > 1)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        TH = TH - 0.02 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    f, _ = model.kernel_loss_grad(TH, hard, parallel=restarts > 1)
    best = None
    history = []
    for r in np.argsort(f, kind="stable"):
        theta, _ = _lbfgs(lambda th: model.loss_grad(th, list(hard1)), TH[r], lbfgs_iters)
        tws = [tw for tw, _ in model.unpack(theta)]
        res = FixedBPBP(butterflies=[Butterfly(tws[0]), Butterfly(tws[1])], perms=[p1, p2], rmse=0.0,
                        history=history)
        if d1 or d2:
            res.butterflies = [_reversed_strides(B) if d else B for B, d in zip(res.butterflies, (d1, d2))]
        res.rmse = float(np.sqrt(np.mean(np.abs(res.todense() - A) ** 2)))
        history.append(res.rmse)
        if best is None or res.rmse < best.rmse:
            best = res
        if res.rmse <= stop_rmse:
            break
    return best


def _reduce(A: np.ndarray, p1: np.ndarray, p2: np.ndarray, d1: bool, d2: bool):
    """The increasing-stride ``B P B P`` model (one fixed step per permutation) equivalent to the request.

    Returns ``(model, hard)``: a :class:`numerics.factorize.learned._Model` for the target ``R^{d_1} A`` whose two
    steps are ``R^{d_1} P_1 R^{d_2}`` and ``R^{d_2} P_2``, and the ``(2, 2)`` step weights (pair ``i`` uses step ``i``).
    """
    from .learned import _Model

    n = A.shape[0]
    br = bit_reversal_permutation(n).astype(np.int64)
    # the perm of a product P_a P_b is perm_b[perm_a]
    mid = p1[br] if d1 else p1
    mid = br[mid] if d2 else mid
    right = p2[br] if d2 else p2
    target = A[br] if d1 else A
    model = _Model(np.ascontiguousarray(target, dtype=np.complex128), "BPBP", True, steps=[mid, right])
    return model, np.array([[1.0, 0.0], [0.0, 1.0]])


def _reversed_strides(B: Butterfly) -> Butterfly:
    """The decreasing-stride butterfly ``R B R`` (``R`` the bit reversal) for an increasing ``B``."""
    n = B.n
    br = bit_reversal_permutation(n).astype(np.int64)
    D = B.todense()[np.ix_(br, br)]
    from .exact import butterfly_factorize

    fac = butterfly_factorize(D, increasing=False)
    return fac.butterfly
