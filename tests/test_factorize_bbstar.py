"""Exact ``B_1 B_2 P`` twiddles (the ``B B^*`` form) and the level-wise permutation search
(``numerics.factorize.bbstar``; theory/factorization.md section 7)."""
import numpy as np
import pytest

from numerics.butterfly import Butterfly
from numerics.factorize import learn_bbstar_levelwise, solve_bbstar_twiddles, target_matrix
from numerics.factorize.claims import column_groups
from numerics.factorize.learned import _compose_steps, permutation_steps


def _unitary_twiddles(rng, n):
    L = n.bit_length() - 1
    Z = rng.standard_normal((L, n // 2, 2, 2)) + 1j * rng.standard_normal((L, n // 2, 2, 2))
    return np.linalg.qr(Z)[0]


def _random_member(rng, n):
    """``B_1 B_2`` with unitary twiddles (``B_1`` increasing, ``B_2`` decreasing in stride)."""
    return (Butterfly(_unitary_twiddles(rng, n)).todense()
            @ Butterfly(_unitary_twiddles(rng, n), increasing=False).todense())


def _rel(fact, A):
    return fact.rmse / np.sqrt(np.mean(np.abs(A) ** 2))


@pytest.mark.parametrize("n", [4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_circulant_is_solved_exactly_with_the_identity_permutation(n):
    """Every circulant is B_1 B_2; the certificate residual is at rounding at every depth."""
    A = target_matrix("convolution", n, seed=n)
    fact = solve_bbstar_twiddles(A, seed=0)
    assert fact.kind == "BPBP" and [B.increasing for B in fact.butterflies] == [True, False]
    assert _rel(fact, A) <= 1e-13
    assert max(fact.history) <= 1e-13
    np.testing.assert_allclose(fact.todense(), A, atol=1e-13 * np.abs(A).max())
    x = np.random.default_rng(n).standard_normal(n)
    np.testing.assert_allclose(fact.butterflies[0] @ (fact.butterflies[1] @ x), A @ x, atol=1e-12)


def test_random_members_with_a_given_permutation():
    """60 random B_1 B_2 P (unitary twiddles, uniformly random permutations of range(n)) are solved to rounding."""
    rng = np.random.default_rng(7)
    worst = 0.0
    for t in range(60):
        n = (8, 16, 32, 64)[t % 4]
        perm = rng.permutation(n)
        C = _random_member(rng, n)
        A = np.empty_like(C)
        A[:, perm] = C
        worst = max(worst, _rel(solve_bbstar_twiddles(A, perm, seed=t), A))
    assert worst <= 1e-12


def test_degenerate_members_dft_and_hadamard():
    """DFT (bit reversal) and Hadamard are B_1 I: their two components are proportional at every depth, which
    the solver detects and handles."""
    from numerics.butterfly import bit_reversal_permutation

    for n in (8, 64, 256):
        br = bit_reversal_permutation(n)
        for A, perm in ((target_matrix("dft", n), br), (target_matrix("hadamard", n), None)):
            fact = solve_bbstar_twiddles(A, perm, seed=1)
            assert _rel(fact, A) <= 1e-13


def test_every_4x4_matrix_is_in_the_family():
    """Why the last level of the permutation is unidentifiable: every 4 x 4 block is F_2 diag(M_0, M_1) G_2."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        A = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
        assert _rel(solve_bbstar_twiddles(A, seed=2), A) <= 1e-13


@pytest.mark.parametrize("n", [16, 64, 256])
def test_non_members_fail_the_certificate(n):
    """Legendre, Gaussian, DCT-II: the certificate residual of depth 1 is order one and the RMSE large."""
    for name in ("legendre", "randn", "dct"):
        A = target_matrix(name, n, seed=5)
        fact = solve_bbstar_twiddles(A, seed=0)
        assert fact.history[0] >= 0.1
        assert _rel(fact, A) >= 1e-2


def test_solutions_differ_by_seed_but_are_both_exact():
    A = target_matrix("convolution", 64, seed=0)
    f1, f2 = solve_bbstar_twiddles(A, seed=1), solve_bbstar_twiddles(A, seed=2)
    assert max(_rel(f1, A), _rel(f2, A)) <= 1e-13
    f3 = solve_bbstar_twiddles(A, seed=1)
    np.testing.assert_array_equal(f1.butterflies[0].twiddles, f3.butterflies[0].twiddles)


@pytest.mark.parametrize("n,trials", [(16, 40), (64, 40), (256, 4)])
def test_levelwise_search_finds_family_permutations(n, trials):
    """Convolutions and random unitary members with a random permutation of the relaxed family: the search finds an
    exact factorization whose column groups equal the truth's at every identifiable depth, in every trial."""
    rng = np.random.default_rng(n)
    steps = permutation_steps(n)
    L = n.bit_length() - 1
    for t in range(trials):
        on = rng.random(len(steps)) < 0.5
        perm = _compose_steps(steps, on, n)
        C = target_matrix("convolution", n, seed=t) if t % 2 == 0 else _random_member(rng, n)
        A = np.empty_like(C)
        A[:, perm] = C
        fact = learn_bbstar_levelwise(A, seed=t)
        assert _rel(fact, A) <= 1e-12, (t, fact.history)
        assert all(column_groups(fact.perms[1], d) == column_groups(perm, d) for d in range(1, L - 1)), t
        assert max(fact.history[:-1]) <= 1e-9


def test_levelwise_search_convolution_is_the_identity_and_legendre_is_not_recovered():
    n = 128
    A = target_matrix("convolution", n, seed=11)
    fact = learn_bbstar_levelwise(A, seed=0)
    assert fact.rmse <= 1e-13
    assert np.array_equal(fact.perms[0], np.arange(n)) and np.array_equal(fact.perms[1], np.arange(n))
    for name in ("legendre", "randn"):
        bad = learn_bbstar_levelwise(target_matrix(name, n, seed=1), seed=0)
        assert bad.rmse >= 1e-3 and max(bad.history[:-1]) >= 1e-3


def test_bad_input():
    A = target_matrix("convolution", 8, seed=0)
    with pytest.raises(ValueError, match="power of two >= 4, got shape \\(6, 6\\)"):
        solve_bbstar_twiddles(np.eye(6))
    with pytest.raises(ValueError, match="got shape \\(8, 4\\)"):
        learn_bbstar_levelwise(np.ones((8, 4)))
    with pytest.raises(TypeError, match="A"):
        solve_bbstar_twiddles(A.astype(np.float32))
    B = A.copy()
    B[1, 2] = np.nan
    with pytest.raises(ValueError, match="A contains NaN or inf"):
        solve_bbstar_twiddles(B)
    with pytest.raises(ValueError, match="perm is not a permutation"):
        solve_bbstar_twiddles(A, np.zeros(8, dtype=int))
    with pytest.raises(TypeError, match="perm must be an integer array"):
        solve_bbstar_twiddles(A, np.arange(8.0))
    with pytest.raises(ValueError, match="tol"):
        learn_bbstar_levelwise(A, tol=-1.0)
    with pytest.raises(ValueError, match="beam"):
        learn_bbstar_levelwise(A, beam=0)
