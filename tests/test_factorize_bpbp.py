"""Tests for numerics.factorize.bpbp (B_1 P_1 B_2 P_2 with fixed permutations, either stride order)."""
import numpy as np
import pytest
import scipy.fft

from numerics.butterfly import Butterfly
from numerics.factorize import hard_permutation, target_matrix
from numerics.factorize.bpbp import FixedBPBP, fit_bpbp_fixed


def family(index: int, n: int) -> np.ndarray:
    """Hard permutation of the relaxed family whose choice bits (first step = most significant) spell ``index``."""
    K = 3 * (n.bit_length() - 2)
    bits = np.array([(index >> (K - 1 - k)) & 1 for k in range(K)], dtype=np.float64)
    return hard_permutation(2.0 * bits - 1.0)


def dense(B1, p1, B2, p2):
    n = B1.shape[0]
    return B1 @ np.eye(n)[p1] @ B2 @ np.eye(n)[p2]


def test_dct16_is_b_p_bstar_p():
    """DCT-II at N = 16 is exactly B_1 P_1 B_2^* P_2 (B_2 decreasing) for family permutations."""
    C = target_matrix("dct", 16)
    p1, p2 = family(487, 16), family(113, 16)
    res = fit_bpbp_fixed(C, [p1, p2], decreasing=(False, True), seed=0)
    B1, B2 = res.butterflies
    assert B1.increasing and not B2.increasing
    M = dense(B1.todense(), p1, B2.todense(), p2)
    assert np.sqrt(np.mean(np.abs(M - C) ** 2)) <= 1e-12
    assert res.rmse <= 1e-12


def test_dct4_8_is_b_p_bstar_p():
    C4 = scipy.fft.dct(np.eye(8), type=4, norm="ortho", axis=0)
    p1, p2 = family(43, 8), family(18, 8)
    res = fit_bpbp_fixed(C4, [p1, p2], decreasing=(False, True), seed=0)
    M = dense(res.butterflies[0].todense(), p1, res.butterflies[1].todense(), p2)
    assert np.sqrt(np.mean(np.abs(M - C4) ** 2)) <= 1e-12


@pytest.mark.parametrize("dec", [(False, False), (True, False), (False, True), (True, True)])
def test_fixed_model_is_exact_at_planted_twiddles(dec):
    """The model fit_bpbp_fixed optimises has loss 0 at a planted product of butterflies with the requested
    stride orders and permutations, and not with the permutations swapped (checks the step bookkeeping)."""
    from numerics.factorize.learned import _Model

    n = 16
    rng = np.random.default_rng(5)
    Bs = [Butterfly.random(n, seed=rng, dtype=np.complex128, increasing=not d) for d in dec]
    p1, p2 = rng.permutation(n), rng.permutation(n)
    A = dense(Bs[0].todense(), p1, Bs[1].todense(), p2)
    model = _Model(A, "BPBP", True, steps=[p1, p2], decreasing=dec)
    hard = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    theta = np.concatenate([a for B in Bs for a in (np.ascontiguousarray(B.twiddles).ravel().view(np.float64),
                                                      np.zeros(2))])
    f, _ = model.loss_grad(theta, hard)
    assert f <= 1e-26
    f_wrong, _ = model.loss_grad(theta, hard[::-1])
    assert f_wrong > 1e-6


def test_noncontiguous_and_real_input():
    C = np.asfortranarray(target_matrix("dct", 8))
    assert not C.flags.c_contiguous
    p = family(0, 8)
    r1 = fit_bpbp_fixed(C, [p, p], seed=0, restarts=2, adam_steps=50, lbfgs_iters=50)
    r2 = fit_bpbp_fixed(np.ascontiguousarray(C).astype(np.complex128), [p, p], seed=0, restarts=2, adam_steps=50,
                        lbfgs_iters=50)
    assert isinstance(r1, FixedBPBP)
    assert r1.rmse == pytest.approx(r2.rmse, rel=1e-8)
    assert np.isclose(r1.rmse, np.sqrt(np.mean(np.abs(r1.todense() - C) ** 2)))


def test_bad_inputs():
    C = target_matrix("dct", 8)
    p = np.arange(8)
    with pytest.raises(ValueError, match="power of two"):
        fit_bpbp_fixed(np.eye(6), [np.arange(6)] * 2)
    with pytest.raises(ValueError, match="power of two"):
        fit_bpbp_fixed(np.eye(8)[:, :4], [p, p])
    with pytest.raises(ValueError, match="pair"):
        fit_bpbp_fixed(C, [p])
    with pytest.raises(ValueError, match="perms"):
        fit_bpbp_fixed(C, [p, np.zeros(8, dtype=int)])
    with pytest.raises(TypeError, match="decreasing"):
        fit_bpbp_fixed(C, [p, p], decreasing=(0, 1))
    with pytest.raises(ValueError, match="restarts"):
        fit_bpbp_fixed(C, [p, p], restarts=0)
    with pytest.raises(TypeError, match="A"):
        fit_bpbp_fixed(C.astype(np.float32), [p, p])
    bad = C.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="A"):
        fit_bpbp_fixed(bad, [p, p])
