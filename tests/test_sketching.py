"""Tests of numerics.sketching: Lemma B.1 analysis, approximate matrix multiplication, Sarlos low rank.

Oracles are dense matrices built independently of the operators' fast paths:
``scipy.linalg.hadamard`` with explicit ``S`` and ``D`` for the SRHT, explicit
projectors and dense SVDs for the low-rank approximation, and SymPy (via
``theory/symbolic_sketching.py``) for the identities.
"""
from __future__ import annotations

import importlib.util
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from numerics.jl import SRHT
from numerics.sketching import (
    AMM_FAMILIES,
    amm_error,
    amm_matrices,
    best_rank_k,
    expected_residual_sq,
    lemma_b1_rhs,
    low_rank_residual,
    make_sketch,
    one_sided_error,
    padded_srht,
    projection_residual_sq,
    rowspace_basis,
    sarlos_rows,
    sketch_norm_sq,
    sketched_low_rank,
)
from numerics.sketching.claims import calibrate_amm_constant, quantile_upper_bound

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- oracles


def dense_srht_padded(op: SRHT) -> np.ndarray:
    """``sqrt(n/k) S (H/sqrt n) D`` on the padded space, from scipy's Hadamard matrix."""
    n, k = op.n_padded, op.k
    signs = np.ones(n)
    signs[: op.n_features] = op.signs
    return math.sqrt(n / k) * linalg.hadamard(n)[op.indices] / math.sqrt(n) * signs


def dense(op) -> np.ndarray:
    """The ``k x n_features`` matrix of any sketch (the padded oracle restricted for the SRHT)."""
    if isinstance(op, SRHT):
        return dense_srht_padded(op)[:, : op.n_features]
    return op.todense()


def unit_rows(rng, m, n):
    g = rng.standard_normal((m, n))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


# --------------------------------------------------------------------------- symbolic checks


def _load_symbolic():
    path = ROOT / "theory" / "symbolic_sketching.py"
    spec = importlib.util.spec_from_file_location("symbolic_sketching", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SYMBOLIC = _load_symbolic()


@pytest.mark.parametrize("name", SYMBOLIC.__all__)
def test_symbolic_check(name):
    assert getattr(SYMBOLIC, name)() is True


# --------------------------------------------------------------------------- Lemma B.1


@pytest.mark.parametrize("m,k", [(64, 8), (256, 16), (256, 128), (256, 200), (1000, 64), (100, 7), (5, 3)])
def test_identity_random_inputs(m, k):
    rng = np.random.default_rng([m, k])
    for seed in range(5):
        J = make_sketch("srht", m, k, seed=seed)
        X = rng.standard_normal((20, m)) * rng.uniform(0.1, 10.0, size=(20, 1))
        lhs = projection_residual_sq(J, X, space="padded")
        rhs = lemma_b1_rhs(J, X)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-11, atol=0)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(m=st.integers(2, 300), k_frac=st.floats(0.01, 1.0), seed=st.integers(0, 2**31 - 1))
def test_identity_property(m, k_frac, seed):
    k = max(1, min(m, int(round(k_frac * m))))
    J = make_sketch("srht", m, k, seed=seed)
    x = np.random.default_rng(seed).standard_normal(m)
    assert projection_residual_sq(J, x, space="padded") == pytest.approx(lemma_b1_rhs(J, x), rel=1e-10)


@pytest.mark.parametrize("m,k", [(64, 8), (100, 7), (1000, 64)])
def test_residual_and_sketch_norm_match_dense_oracle(m, k):
    J = make_sketch("srht", m, k, seed=3)
    Jp = dense_srht_padded(J)
    X = np.random.default_rng(0).standard_normal((7, m))
    Xp = np.zeros((7, J.n_padded))
    Xp[:, :m] = X
    Jd = Jp[:, :m]
    np.testing.assert_allclose(sketch_norm_sq(J, X), np.sum((X @ Jd.T) ** 2, axis=1), rtol=1e-12)
    want_orig = np.sum((X - X @ Jd.T @ Jd) ** 2, axis=1)
    want_pad = np.sum((Xp - Xp @ Jp.T @ Jp) ** 2, axis=1)
    np.testing.assert_allclose(projection_residual_sq(J, X), want_orig, rtol=1e-11)
    np.testing.assert_allclose(projection_residual_sq(J, X, space="padded"), want_pad, rtol=1e-11)
    # the gram identity the whole analysis rests on, on the dense oracle
    np.testing.assert_allclose(Jp @ Jp.T, (J.n_padded / k) * np.eye(k), atol=1e-12)


def test_residual_for_other_sketches_matches_dense():
    for kind in ("gaussian", "sparse", "ailon-chazelle"):
        J = make_sketch(kind, 128, 16, seed=1)
        Jd = J.todense()
        x = np.random.default_rng(1).standard_normal(128)
        assert projection_residual_sq(J, x) == pytest.approx(float(np.sum((x - Jd.T @ (Jd @ x)) ** 2)), rel=1e-11)
        assert sketch_norm_sq(J, x) == pytest.approx(float(np.sum((Jd @ x) ** 2)), rel=1e-11)


def test_spike_residual_is_exactly_n_over_k_minus_one():
    J = make_sketch("srht", 1024, 64, seed=0)
    x = np.zeros(1024)
    x[17] = 1.0
    assert sketch_norm_sq(J, x) == pytest.approx(1.0, abs=1e-12)
    assert projection_residual_sq(J, x) == pytest.approx(15.0, abs=1e-10)


@pytest.mark.parametrize("m,k", [(5, 3), (6, 2), (8, 3), (7, 7)])
def test_expected_residual_by_exact_enumeration(m, k):
    """Average over every sign pattern and every k-subset (exact expectation) against the formula."""
    n = 1 << (m - 1).bit_length()
    x = np.random.default_rng(m * 10 + k).standard_normal(m)
    orig, pad = [], []
    for signs in itertools.product((-1.0, 1.0), repeat=m):
        for rows in itertools.combinations(range(n), k):
            J = SRHT.from_parts(np.array(rows), np.array(signs))
            orig.append(projection_residual_sq(J, x))
            pad.append(projection_residual_sq(J, x, space="padded"))
    norm2 = float(x @ x)
    assert np.mean(orig) == pytest.approx(expected_residual_sq(m, k) * norm2, rel=1e-12)
    assert np.mean(pad) == pytest.approx(expected_residual_sq(m, k, space="padded") * norm2, rel=1e-12)


def test_expected_residual_values():
    assert expected_residual_sq(1024, 64) == 15.0
    assert expected_residual_sq(1000, 64, space="padded") == 15.0
    assert expected_residual_sq(1000, 64) == pytest.approx(15.0 - 24 * 960 / (64 * 1023))
    assert expected_residual_sq(1, 1) == 0.0


def test_residual_never_below_norm_for_k_at_most_half():
    rng = np.random.default_rng(5)
    for k in (1, 4, 32, 64):
        J = make_sketch("srht", 128, k, seed=k)
        X = unit_rows(rng, 200, 128)
        assert projection_residual_sq(J, X).min() >= 1.0 - 1e-12


def test_padded_srht_agrees_on_padded_vectors():
    J = make_sketch("srht", 100, 10, seed=2)
    Jp = padded_srht(J)
    assert Jp.n_features == 128 and np.array_equal(Jp.indices, J.indices)
    x = np.random.default_rng(0).standard_normal(100)
    xp = np.concatenate([x, np.zeros(28)])
    np.testing.assert_allclose(Jp @ xp, J @ x, rtol=1e-13)
    J128 = make_sketch("srht", 128, 10, seed=2)
    assert padded_srht(J128) is J128


@pytest.mark.parametrize("layout", ["strided", "fortran"])
def test_lemma_functions_non_contiguous_and_float32(layout):
    rng = np.random.default_rng(0)
    big = rng.standard_normal((10, 512))
    X = big[:, ::2] if layout == "strided" else np.asfortranarray(big[:, :256])
    J = make_sketch("srht", 256, 32, seed=0)
    ref = projection_residual_sq(J, np.ascontiguousarray(X))
    np.testing.assert_allclose(projection_residual_sq(J, X), ref, rtol=1e-12)
    J32 = make_sketch("srht", 256, 32, seed=0, dtype=np.float32)
    r32 = projection_residual_sq(J32, X.astype(np.float32), space="padded")
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, lemma_b1_rhs(J32, X.astype(np.float32)), rtol=1e-4)
    np.testing.assert_allclose(r32, ref, rtol=1e-4)


def test_lemma_bad_inputs():
    J = make_sketch("srht", 64, 8, seed=0)
    with pytest.raises(ValueError, match="space must be one of"):
        projection_residual_sq(J, np.ones(64), space="both")
    with pytest.raises(ValueError, match="expected vectors of length 64"):
        projection_residual_sq(J, np.ones(63))
    with pytest.raises(TypeError, match="x has dtype int64"):
        sketch_norm_sq(J, np.ones(64, dtype=np.int64))
    bad = np.ones(64)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        sketch_norm_sq(J, bad)
    G = make_sketch("gaussian", 64, 8, seed=0)
    with pytest.raises(TypeError, match="J must be a numerics.jl.SRHT"):
        lemma_b1_rhs(G, np.ones(64))
    with pytest.raises(TypeError, match="J must be a numerics.jl.SRHT"):
        projection_residual_sq(G, np.ones(64), space="padded")
    with pytest.raises(TypeError, match="J must be a linear operator"):
        sketch_norm_sq(np.ones((8, 64)), np.ones(64))
    with pytest.raises(ValueError, match="k must be <= 10"):
        expected_residual_sq(10, 11)
    with pytest.raises(TypeError, match="n_features must be an integer"):
        expected_residual_sq(10.0, 2)


# --------------------------------------------------------------------------- AMM


@pytest.mark.parametrize("kind", ["srht", "gaussian", "sparse", "ailon-chazelle"])
def test_amm_error_matches_dense(kind):
    rng = np.random.default_rng(0)
    n = 200
    A, B = rng.standard_normal((n, 3)), rng.standard_normal((n, 5))
    J = make_sketch(kind, n, 40, seed=1)
    Jd = dense(J)
    want = np.linalg.norm(A.T @ Jd.T @ Jd @ B - A.T @ B) / (np.linalg.norm(A) * np.linalg.norm(B))
    assert amm_error(A, B, J) == pytest.approx(want, rel=1e-11)
    assert amm_error(A, A, J) == pytest.approx(
        np.linalg.norm(A.T @ Jd.T @ Jd @ A - A.T @ A) / np.linalg.norm(A) ** 2, rel=1e-11
    )


def test_amm_error_is_zero_for_full_srht():
    """k = n distinct rows: J^T J = I exactly."""
    A = np.random.default_rng(0).standard_normal((64, 4))
    assert amm_error(A, A, make_sketch("srht", 64, 64, seed=0)) < 1e-13


@pytest.mark.parametrize("kind", ["srht", "gaussian"])
def test_one_sided_error_matches_dense(kind):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((7, 128))
    X = rng.standard_normal((4, 128))
    J = make_sketch(kind, 128, 16, seed=3)
    Jd = dense(J)
    want = np.linalg.norm(W @ (Jd.T @ Jd - np.eye(128)) @ X.T, axis=0) / np.linalg.norm(W)
    np.testing.assert_allclose(one_sided_error(W, J, X), want, rtol=1e-11)
    assert one_sided_error(W, J, X[0]) == pytest.approx(want[0], rel=1e-11)


def test_amm_non_contiguous_and_float32():
    rng = np.random.default_rng(3)
    big = rng.standard_normal((256, 8))
    A = big[::2]  # strided rows, n = 128
    J = make_sketch("srht", 128, 32, seed=0)
    ref = amm_error(np.ascontiguousarray(A), np.ascontiguousarray(A), J)
    assert amm_error(A, A, J) == pytest.approx(ref, rel=1e-12)
    assert amm_error(np.asfortranarray(A), A, J) == pytest.approx(ref, rel=1e-12)
    A32 = A.astype(np.float32)
    J32 = make_sketch("srht", 128, 32, seed=0, dtype=np.float32)
    assert amm_error(A32, A32, J32) == pytest.approx(ref, rel=1e-4)
    W = rng.standard_normal((5, 256))[:, ::2]
    assert one_sided_error(W, J, A[:, 0]) == pytest.approx(one_sided_error(np.ascontiguousarray(W), J, A[:, 0]), rel=1e-12)


def test_amm_bad_inputs():
    J = make_sketch("srht", 64, 8, seed=0)
    A = np.ones((64, 2))
    with pytest.raises(ValueError, match="same number of rows"):
        amm_error(A, np.ones((63, 2)), J)
    with pytest.raises(ValueError, match="J has shape"):
        amm_error(np.ones((32, 2)), np.ones((32, 2)), J)
    with pytest.raises(ValueError, match="A has zero Frobenius norm"):
        amm_error(np.zeros((64, 2)), A, J)
    with pytest.raises(TypeError, match="B has dtype int64"):
        amm_error(A, np.ones((64, 2), dtype=np.int64), J)
    with pytest.raises(ValueError, match="A must have ndim"):
        amm_error(np.ones(64), A, J)
    with pytest.raises(ValueError, match="W has zero Frobenius norm"):
        one_sided_error(np.zeros((3, 64)), J, np.ones(64))
    bad = np.ones((64, 2))
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="A contains NaN or inf"):
        amm_error(bad, A, J)


def test_amm_matrices_families():
    for family in AMM_FAMILIES:
        A, B = amm_matrices(family, 100, 6, seed=0)
        A2, B2 = amm_matrices(family, 100, 6, seed=0)
        assert A.shape[0] == B.shape[0] == 100 and A.dtype == np.float64
        np.testing.assert_array_equal(A, A2)
        np.testing.assert_array_equal(B, B2)
        assert np.linalg.norm(A) > 0 and np.linalg.norm(B) > 0
    A, B = amm_matrices("spike", 50, seed=1)
    assert A.shape == (50, 1) and B is A and np.count_nonzero(A) == 1
    with pytest.raises(ValueError, match="family must be one of"):
        amm_matrices("cauchy", 10)
    with pytest.raises(ValueError, match="p must be <= 10"):
        amm_matrices("gaussian", 10, 11)


def test_make_sketch_validation():
    with pytest.raises(ValueError, match="kind must be one of"):
        make_sketch("fft", 64, 8)
    with pytest.raises(TypeError, match="seed must be None, a non-negative int"):
        make_sketch("srht", 64, 8, seed=1.5)
    assert make_sketch("sparse", 64, 8, seed=0, density=1 / 3).density == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- calibration helpers


def test_quantile_upper_bound_covers_the_true_quantile():
    """Over repeated samples the 95% upper bound lies above the true quantile about 95% of the time."""
    rng = np.random.default_rng(0)
    level = 0.9
    true_q = -math.log(1 - level)  # Exp(1) quantile
    covered = [quantile_upper_bound(rng.exponential(size=300), level) >= true_q for _ in range(400)]
    assert 0.92 <= np.mean(covered) <= 0.99


def test_calibrate_amm_constant_on_known_scaling():
    """Errors exactly z/sqrt(k) with |z| ~ half-normal: c approaches q_z^2 / ln(1/delta)."""
    rng = np.random.default_rng(1)
    z = np.abs(rng.standard_normal(20000))
    errs = {k: {"f": z / math.sqrt(k)} for k in (16, 64)}
    c, table = calibrate_amm_constant(errs, (0.1,))
    assert c == pytest.approx(1.6449**2 / math.log(10), rel=0.05)
    assert set(table) == {(16, "f", 0.1), (64, "f", 0.1)}


# --------------------------------------------------------------------------- Sarlos low rank


def low_rank_oracle(X, k, l, seed, kind):
    """Explicit projector onto rowspace(JX) and a dense SVD, with the same sketch."""
    J = make_sketch(kind, X.shape[0], l, seed=seed, dtype=X.dtype)
    JX = dense(J) @ X
    P = np.linalg.pinv(JX) @ JX  # d x d orthogonal projector onto rowspace(JX)
    u, s, vt = np.linalg.svd(X @ P)
    return (u[:, :k] * s[:k]) @ vt[:k]


@pytest.mark.parametrize("kind", ["srht", "gaussian", "sparse"])
@pytest.mark.parametrize("shape,k,l", [((300, 40), 3, 12), ((100, 30), 5, 29), ((129, 20), 1, 2)])
def test_sketched_low_rank_matches_oracle(kind, shape, k, l):
    rng = np.random.default_rng(7)
    X = rng.standard_normal(shape) @ np.diag(np.linspace(3, 0.1, shape[1]))
    Y = sketched_low_rank(X, k, l, seed=11, kind=kind)
    np.testing.assert_allclose(Y, low_rank_oracle(X, k, l, 11, kind), atol=1e-10 * np.linalg.norm(X))
    assert np.linalg.matrix_rank(Y) <= k
    assert np.sum((X - Y) ** 2) >= low_rank_residual(X, k) * (1 - 1e-12)


def test_sketched_low_rank_basis_and_exact_cases():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((500, 3)) @ rng.standard_normal((3, 80))  # rank 3
    Y, Q = sketched_low_rank(X, 3, 10, seed=1, return_basis=True)
    assert Q.shape == (80, 3)  # JX has rank 3: orth keeps the numerical rank
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(Y, X, atol=1e-9 * np.linalg.norm(X))
    # l >= d: the row space of JX is all of X's, so J_k(X) = X_k
    Z = rng.standard_normal((200, 12))
    np.testing.assert_allclose(sketched_low_rank(Z, 4, 30, seed=0), best_rank_k(Z, 4), atol=1e-10)


def test_sketched_low_rank_non_contiguous_and_float32():
    rng = np.random.default_rng(4)
    big = rng.standard_normal((400, 60))
    X = big[::2, ::2]  # 200 x 30, strided
    Y = sketched_low_rank(X, 3, 15, seed=5)
    np.testing.assert_allclose(Y, sketched_low_rank(np.ascontiguousarray(X), 3, 15, seed=5), atol=1e-12)
    np.testing.assert_allclose(sketched_low_rank(np.asfortranarray(X), 3, 15, seed=5), Y, atol=1e-12)
    Y32 = sketched_low_rank(X.astype(np.float32), 3, 15, seed=5)
    assert Y32.dtype == np.float32
    np.testing.assert_allclose(Y32, Y, atol=1e-4 * np.abs(Y).max())


def test_low_rank_helpers():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 25))
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(best_rank_k(X, 5), (u[:, :5] * s[:5]) @ vt[:5], atol=1e-12)
    assert low_rank_residual(X, 5) == pytest.approx(np.sum((X - best_rank_k(X, 5)) ** 2), rel=1e-12)
    assert low_rank_residual(X, 25) == 0.0
    Q = rowspace_basis(X[:3])
    assert Q.shape == (25, 3)
    assert sarlos_rows(5, 0.5) == 19 and sarlos_rows(10, 0.5) == 44 and sarlos_rows(1, 0.5) == 2
    assert sarlos_rows(2, 0.2) == math.ceil(2 * math.log(2) + 10)


def test_low_rank_bad_inputs():
    X = np.random.default_rng(0).standard_normal((50, 20))
    with pytest.raises(ValueError, match="l must be >= k"):
        sketched_low_rank(X, 5, 4)
    with pytest.raises(ValueError, match="l must be <= n"):
        sketched_low_rank(X, 5, 51)
    with pytest.raises(ValueError, match="k must be <= 20"):
        sketched_low_rank(X, 21, 30)
    with pytest.raises(ValueError, match="k must be >= 1"):
        sketched_low_rank(X, 0, 3)
    bad = X.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        sketched_low_rank(bad, 2, 5)
    with pytest.raises(TypeError, match="X has dtype int64"):
        sketched_low_rank(X.astype(np.int64), 2, 5)
    with pytest.raises(TypeError, match="X has dtype complex128"):
        sketched_low_rank(X.astype(complex), 2, 5)
    with pytest.raises(TypeError, match="seed must be None, a non-negative int"):
        sketched_low_rank(X, 2, 5, seed="1")
    with pytest.raises(ValueError, match="seed must be non-negative"):
        sketched_low_rank(X, 2, 5, seed=-1)
    with pytest.raises(ValueError, match="kind must be one of"):
        sketched_low_rank(X, 2, 5, kind="butterfly")
    with pytest.raises(TypeError, match="l must be an integer"):
        sketched_low_rank(X, 2, 5.0)
    with pytest.raises(TypeError, match="return_basis must be a bool"):
        sketched_low_rank(X, 2, 5, return_basis="yes")
    for eps in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="eps must lie in the open interval"):
            sarlos_rows(3, eps)
    with pytest.raises(TypeError, match="eps must be a real number"):
        sarlos_rows(3, "0.5")
