"""JL operators, dimensions and transformer: exactness against independent oracles, bad inputs, sklearn use."""
import doctest
import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator, lsqr

import numerics.jl.dims
import numerics.jl.operators
import numerics.jl.transformer
from numerics.jl import (
    SRHT,
    AilonChazelle,
    FJLTransform,
    GaussianProjection,
    SparseProjection,
    default_block_size,
    jl_failure_bound,
    jl_min_dim,
    srht_project,
)
from numerics.jl import _kernels as K
from numerics.jl.operators import PARALLEL_MIN_ROWS

CLASSES = [SRHT, AilonChazelle, GaussianProjection, SparseProjection]
DTYPES = [np.float64, np.float32]
# (n_features, k): powers of two, padded sizes, k = 1 and k = n_features
SHAPES = [(1, 1), (3, 2), (8, 8), (64, 16), (100, 7), (257, 64), (1024, 32)]


def tol(dtype):
    return 1e-12 if np.dtype(dtype) == np.float64 else 2e-5


def make(cls, m, k, dtype=np.float64, seed=0):
    return cls(m, k, seed=seed, dtype=dtype)


def hadamard(n):
    return scipy.linalg.hadamard(n).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# exactness against independent oracles


@pytest.mark.parametrize("m,k", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_srht_todense_equals_scaled_hadamard_oracle(m, k, dtype):
    J = SRHT(m, k, seed=3, dtype=dtype)
    n = J.n_padded
    assert n == 1 << (m - 1).bit_length() and n >= m
    # sqrt(n/k) S (H/sqrt n) D acting on [x; 0]: columns beyond m are dropped
    S = np.eye(n)[J.indices]
    D = np.diag(np.concatenate([J.signs.astype(np.float64), np.ones(n - m)]))
    oracle = (math.sqrt(n / k) * S @ (hadamard(n) / math.sqrt(n)) @ D)[:, :m]
    M = J.todense()
    assert M.dtype == dtype and M.shape == (k, m)
    np.testing.assert_allclose(M, oracle, atol=tol(dtype), rtol=0)
    # the structure the docstring promises
    assert np.all(np.abs(J.signs) == 1)
    assert np.all(np.diff(J.indices) > 0) and J.indices.min() >= 0 and J.indices.max() < n
    assert J.scale == pytest.approx(1 / math.sqrt(k))


@pytest.mark.parametrize("b", [1, 2, 4, 8, 16, 32, 64, 128, 256])
@pytest.mark.parametrize("dtype", DTYPES)
def test_srht_every_block_size_gives_the_same_operator(b, dtype):
    m, k = 200, 40
    X = np.random.default_rng(1).standard_normal((5, m)).astype(dtype)
    J = SRHT(m, k, seed=4, dtype=dtype, block_size=b)
    ref = K.srht_rows_reference(X.astype(np.float64), J.signs.astype(np.float64), J.indices, J.n_padded, J.scale)
    np.testing.assert_allclose(J.project(X), ref, atol=10 * tol(dtype), rtol=0)
    Y = np.random.default_rng(2).standard_normal((5, k)).astype(dtype)
    ref_adj = K.srht_adjoint_rows_reference(Y.astype(np.float64), J.signs.astype(np.float64), J.indices, J.n_padded, J.scale, m)
    np.testing.assert_allclose(J.project_adjoint(Y), ref_adj, atol=10 * tol(dtype), rtol=0)


def test_numpy_hadamard_reference_matches_scipy():
    Z = np.random.default_rng(0).standard_normal((3, 32))
    np.testing.assert_allclose(K.hadamard_rows_reference(Z), Z @ hadamard(32).T, atol=1e-12)


@pytest.mark.parametrize("m,k", SHAPES)
def test_ailon_chazelle_todense_equals_oracle(m, k):
    J = AilonChazelle(m, k, seed=5)
    n = J.n_padded
    D = np.diag(np.concatenate([J.signs, np.ones(n - m)]))
    oracle = (J.P.toarray() @ (hadamard(n) / math.sqrt(n)) @ D)[:, :m] / math.sqrt(k)
    np.testing.assert_allclose(J.todense(), oracle, atol=1e-12, rtol=0)
    assert J.P.shape == (k, n) and 0 < J.q <= 1


def test_ailon_chazelle_default_q_and_entries():
    J = AilonChazelle(4096, 256, seed=0)
    q = math.log(4096) ** 2 / 4096
    assert J.q == pytest.approx(q)
    vals = J.P.data
    # nnz ~ Binomial(k n, q): within 5 standard deviations of its mean
    mean, sd = 256 * 4096 * q, math.sqrt(256 * 4096 * q * (1 - q))
    assert abs(vals.size - mean) < 5 * sd
    # non-zeros are N(0, 1/q): the sample variance of ~18000 draws is within 5% of 1/q
    assert np.var(vals) * q == pytest.approx(1.0, rel=0.05)
    assert AilonChazelle(1, 1, seed=0).q == 1.0  # tiny n: max(1, ln(n)^2) / n, clipped to 1
    assert AilonChazelle(2, 1, seed=0).q == 0.5


@pytest.mark.parametrize("m,k", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_and_sparse_todense_equal_their_matrices(m, k, dtype):
    G = GaussianProjection(m, k, seed=1, dtype=dtype)
    np.testing.assert_allclose(G.todense(), G.components, atol=tol(dtype), rtol=0)
    S = SparseProjection(m, k, seed=1, dtype=dtype)
    np.testing.assert_allclose(S.todense(), S.components.toarray(), atol=tol(dtype), rtol=0)


def test_gaussian_and_sparse_entry_laws():
    k, m = 256, 4096
    G = GaussianProjection(m, k, seed=0).components
    assert G.var() * k == pytest.approx(1.0, rel=0.01)  # 1M draws: sd of the estimate ~0.14%
    S = SparseProjection(m, k, seed=0)
    assert S.density == pytest.approx(1 / 64)
    vals = S.components.data
    assert np.allclose(np.abs(vals), math.sqrt(1 / (S.density * k)))
    mean, sd = k * m * S.density, math.sqrt(k * m * S.density * (1 - S.density))
    assert abs(vals.size - mean) < 5 * sd
    assert abs(np.mean(vals > 0) - 0.5) < 5 * 0.5 / math.sqrt(vals.size)
    assert SparseProjection(100, 10, density=1 / 3, seed=0).density == pytest.approx(1 / 3)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("m,k", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adjoint_dot_test(cls, m, k, dtype):
    J = make(cls, m, k, dtype, seed=7)
    rng = np.random.default_rng(8)
    u = rng.standard_normal(m).astype(dtype)
    v = rng.standard_normal(k).astype(dtype)
    lhs = np.dot(J.matvec(u).astype(np.float64), v)
    rhs = np.dot(u, J.rmatvec(v).astype(np.float64))
    scale = np.linalg.norm(u) * np.linalg.norm(v) * math.sqrt(max(m, k))
    assert abs(lhs - rhs) <= 10 * tol(dtype) * scale
    # and through scipy's adjoint object
    np.testing.assert_allclose(J.H.matvec(v), J.rmatvec(v), atol=tol(dtype))
    np.testing.assert_allclose(J.T.matvec(v), J.rmatvec(v), atol=tol(dtype))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_todense_vs_matvec_matmat_rmatmat(cls, dtype):
    m, k = 100, 12
    J = make(cls, m, k, dtype)
    M = J.todense().astype(np.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(m).astype(dtype)
    X = rng.standard_normal((m, 5)).astype(dtype)
    Y = rng.standard_normal((k, 5)).astype(dtype)
    t = 10 * tol(dtype)
    np.testing.assert_allclose(J.matvec(x), M @ x, atol=t)
    np.testing.assert_allclose(J @ x, M @ x, atol=t)
    np.testing.assert_allclose(J.matvec(x[:, None]), (M @ x)[:, None], atol=t)
    np.testing.assert_allclose(J.matmat(X), M @ X, atol=t)
    np.testing.assert_allclose(J @ X, M @ X, atol=t)
    np.testing.assert_allclose(J.rmatmat(Y), M.T @ Y, atol=t)
    np.testing.assert_allclose(J.H @ Y, M.T @ Y, atol=t)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N", [3, PARALLEL_MIN_ROWS + 5])  # serial and parallel kernels
def test_batch_path_equals_matmat_noncontiguous(cls, dtype, N):
    m, k = 300, 20
    J = make(cls, m, k, dtype)
    big = np.random.default_rng(1).standard_normal((N, 2 * m + 1)).astype(dtype)
    X = big[:, 1::2]  # non-contiguous rows
    assert not X.flags.c_contiguous
    expected = J.matmat(np.ascontiguousarray(X.T)).T
    np.testing.assert_allclose(J.project(X), expected, atol=10 * tol(dtype))
    np.testing.assert_allclose(J.project(np.asfortranarray(X)), expected, atol=10 * tol(dtype))
    Y = np.random.default_rng(2).standard_normal((N, k)).astype(dtype)
    np.testing.assert_allclose(J.project_adjoint(Y), J.rmatmat(Y.T).T, atol=10 * tol(dtype))
    if cls is SRHT:
        np.testing.assert_allclose(srht_project(X, J), expected, atol=10 * tol(dtype))


def test_srht_project_rejects_other_operators():
    with pytest.raises(TypeError, match="op must be an SRHT operator, got GaussianProjection"):
        srht_project(np.zeros((2, 8)), GaussianProjection(8, 2, seed=0))


@pytest.mark.parametrize("cls", CLASSES)
def test_dtype_of_results(cls):
    J32 = make(cls, 64, 8, np.float32)
    assert J32.dtype == np.float32
    assert J32.matvec(np.ones(64, np.float32)).dtype == np.float32
    assert J32.matvec(np.ones(64)).dtype == np.float64  # promotion, as for a float32 matrix
    assert J32.project(np.ones((2, 64), np.float32)).dtype == np.float32
    J64 = make(cls, 64, 8, np.float64)
    assert J64.matvec(np.ones(64, np.float32)).dtype == np.float64
    # float32 and float64 operators from one seed agree to float32 precision
    np.testing.assert_allclose(J32.todense(), J64.todense(), atol=2e-6)


def test_srht_square_is_orthogonal_and_norm_identity():
    J = SRHT(64, 64, seed=0)
    M = J.todense()
    np.testing.assert_allclose(M @ M.T, np.eye(64), atol=1e-12)
    # J J^T = (n/k) I_k for any k when n_features is a power of two
    J = SRHT(64, 16, seed=1)
    M = J.todense()
    np.testing.assert_allclose(M @ M.T, 4 * np.eye(16), atol=1e-12)


def test_srht_expectation_over_all_row_choices_is_exact():
    """E_S ||Jx||^2 = ||x||^2 for a fixed D: average over every k-subset of rows (n=8, k=2)."""
    from itertools import combinations

    m, k = 6, 2
    x = np.random.default_rng(3).standard_normal(m)
    signs = np.random.default_rng(4).choice([-1.0, 1.0], m)
    vals = [np.sum(SRHT.from_parts(np.array(c), signs).matvec(x) ** 2) for c in combinations(range(8), k)]
    assert np.mean(vals) == pytest.approx(x @ x, rel=1e-12)


def test_padding_is_part_of_the_operator():
    m, k = 100, 10
    J = SRHT(m, k, seed=9)
    assert J.n_padded == 128
    # the same kept rows and signs on R^128, applied to the zero-padded vector
    Jp = SRHT.from_parts(J.indices, np.concatenate([J.signs, np.ones(28)]))
    x = np.random.default_rng(0).standard_normal(m)
    np.testing.assert_allclose(J.matvec(x), Jp.matvec(np.concatenate([x, np.zeros(28)])), atol=1e-12)
    y = np.random.default_rng(1).standard_normal(k)
    np.testing.assert_allclose(J.rmatvec(y), Jp.rmatvec(y)[:m], atol=1e-12)  # adjoint drops the padding
    assert J.rmatvec(y).shape == (m,)


@pytest.mark.parametrize("cls", CLASSES)
def test_reproducible_from_seed(cls):
    a, b = make(cls, 50, 5, seed=11), make(cls, 50, 5, seed=11)
    np.testing.assert_array_equal(a.todense(), b.todense())
    c = cls(50, 5, seed=np.random.SeedSequence(11))
    np.testing.assert_array_equal(a.todense(), c.todense())  # int and SeedSequence(int) agree
    d, e = cls(50, 5, seed=np.random.default_rng(11)), cls(50, 5, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(d.todense(), e.todense())
    assert not np.array_equal(make(cls, 50, 5, seed=12).todense(), a.todense())
    rng = np.random.default_rng(0)
    assert not np.array_equal(cls(50, 5, seed=rng).todense(), cls(50, 5, seed=rng).todense())


@pytest.mark.parametrize("cls", CLASSES)
def test_works_in_scipy_machinery(cls):
    J = make(cls, 64, 8, seed=2)
    assert isinstance(J, LinearOperator)
    assert aslinearoperator(J) is J
    M = J.todense()
    y = np.random.default_rng(0).standard_normal(8)
    x = lsqr(J, y, atol=1e-14, btol=1e-14, iter_lim=200)[0]
    np.testing.assert_allclose(J @ x, y, atol=1e-9)
    np.testing.assert_allclose(x, np.linalg.lstsq(M, y, rcond=None)[0], atol=1e-8)  # min-norm solution
    np.testing.assert_allclose((J * 2.0) @ np.ones(64), 2 * M.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose((J.H @ J) @ np.ones(64), M.T @ M.sum(axis=1), atol=1e-10)


def test_srht_lsqr_min_norm_solution_is_scaled_adjoint():
    """For n a power of two J J^T = (n/k) I, so the minimum-norm solution of Jx = y is (k/n) J^T y."""
    J = SRHT(256, 32, seed=1)
    y = np.random.default_rng(5).standard_normal(32)
    x = lsqr(J, y, atol=1e-15, btol=1e-15)[0]
    np.testing.assert_allclose(x, (32 / 256) * J.rmatvec(y), atol=1e-10)


def test_repr_and_attributes():
    J = SRHT(100, 10, seed=0)
    assert "n_features=100" in repr(J) and "k=10" in repr(J)
    assert (J.n_features, J.n_components, J.k, J.shape) == (100, 10, 10, (10, 100))
    assert J.block_size == default_block_size(128, 10)


# ---------------------------------------------------------------------------------------------
# bad inputs


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_sizes(cls):
    with pytest.raises(ValueError, match=r"1 <= k <= n_features, got k=11 with n_features=10"):
        cls(10, 11, seed=0)
    with pytest.raises(ValueError, match=r"got k=0 with n_features=10"):
        cls(10, 0, seed=0)
    with pytest.raises(ValueError, match=r"got k=-3 with n_features=10"):
        cls(10, -3, seed=0)
    with pytest.raises(TypeError, match="k .* must be an integer, got k=2.0"):
        cls(10, 2.0, seed=0)
    with pytest.raises(ValueError, match="n_features must be >= 1, got n_features=0"):
        cls(0, 1, seed=0)
    with pytest.raises(TypeError, match="n_features must be an integer"):
        cls(10.0, 2, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("bad", [np.int64, np.complex128, object, "banana", np.float16])
def test_bad_dtype(cls, bad):
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        cls(10, 2, seed=0, dtype=bad)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("bad", ["seed", 1.5, [1, 2], np.random.RandomState(0)])
def test_bad_seed_type(cls, bad):
    with pytest.raises(TypeError, match="seed must be None, a non-negative int"):
        cls(10, 2, seed=bad)
    with pytest.raises(ValueError, match="seed must be non-negative, got seed=-1"):
        cls(10, 2, seed=-1)


@pytest.mark.parametrize("cls", CLASSES)
def test_nan_inf_inputs(cls):
    J = make(cls, 40, 5)
    for bad in (np.nan, np.inf, -np.inf):
        for pos in (0, 17, 39):
            x = np.ones(40)
            x[pos] = bad
            with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(" + str(pos)):
                J.matvec(x)
            X = np.ones((40, 3))
            X[pos, 1] = bad
            with pytest.raises(ValueError, match="X contains NaN or inf"):
                J.matmat(X)
            with pytest.raises(ValueError, match="X contains NaN or inf"):
                J.project(X.T.copy())
        y = np.ones(5)
        y[2] = bad
        with pytest.raises(ValueError, match="x contains NaN or inf"):
            J.rmatvec(y)
        with pytest.raises(ValueError, match="contains NaN or inf"):
            J.H.matvec(y)


@pytest.mark.parametrize("b", [1, 4, 16, 64])
def test_srht_nan_detected_for_every_block_size_and_position(b):
    """The SRHT checks finiteness on its (small) output: every input reaches every output."""
    J = SRHT(100, 3, seed=0, block_size=b)
    for bad in (np.nan, np.inf, -np.inf):
        for pos in range(0, 100, 7):
            X = np.ones((2, 100))
            X[1, pos] = bad
            with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at index \(1, " + str(pos)):
                J.project(X)
            Y = np.ones((2, 3))
            Y[0, pos % 3] = bad
            with pytest.raises(ValueError, match=r"Y contains NaN or inf \(first at index \(0, " + str(pos % 3)):
                J.project_adjoint(Y)


def test_srht_overflow_is_reported_as_overflow():
    J = SRHT(64, 4, seed=0)
    with pytest.raises(FloatingPointError, match="overflowed"):
        J.matvec(np.full(64, 1e308))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("bad", [np.arange(8), np.ones(8, complex), np.array([object()] * 8), np.ones(8, bool)])
def test_bad_input_dtypes(cls, bad):
    J = make(cls, 8, 2)
    with pytest.raises(TypeError, match="x has dtype .*expected one of"):
        J.matvec(bad)
    with pytest.raises(TypeError, match="X has dtype"):
        J.project(bad.reshape(1, 8))


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_input_shapes(cls):
    J = make(cls, 8, 2)
    with pytest.raises(ValueError, match=r"x has shape \(7,\); expected \(8,\) or \(8, 1\) for an operator of shape \(2, 8\)"):
        J.matvec(np.ones(7))
    with pytest.raises(ValueError, match=r"x must have ndim in \(1, 2\), got ndim=3"):
        J.matvec(np.ones((8, 1, 1)))
    with pytest.raises(ValueError, match=r"x has shape \(8, 2\)"):
        J.matvec(np.ones((8, 2)))
    with pytest.raises(ValueError, match=r"X has shape \(7, 3\); expected 8 rows"):
        J.matmat(np.ones((7, 3)))
    with pytest.raises(ValueError, match=r"x has shape \(3,\); expected \(2,\)"):
        J.rmatvec(np.ones(3))
    with pytest.raises(ValueError, match=r"X has shape \(3, 3\); expected 2 rows"):
        J.rmatmat(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"X has shape \(4, 7\); expected 8 columns"):
        J.project(np.ones((4, 7)))
    with pytest.raises(ValueError, match=r"X must have ndim in \(2,\), got ndim=1"):
        J.project(np.ones(8))
    with pytest.raises(ValueError, match=r"Y has shape \(4, 3\); expected 2 columns"):
        J.project_adjoint(np.ones((4, 3)))
    import scipy.sparse

    with pytest.raises(TypeError, match="scipy.sparse"):
        J.project(scipy.sparse.csr_array(np.ones((2, 8))))


def test_bad_options():
    with pytest.raises(ValueError, match="q must lie in \\(0, 1\\], got q=0.0"):
        AilonChazelle(10, 2, q=0.0, seed=0)
    with pytest.raises(ValueError, match="q must lie in \\(0, 1\\], got q=1.5"):
        AilonChazelle(10, 2, q=1.5, seed=0)
    with pytest.raises(TypeError, match="q must be a real number"):
        AilonChazelle(10, 2, q="0.1", seed=0)
    with pytest.raises(ValueError, match="density must lie in \\(0, 1\\], got density=-0.1"):
        SparseProjection(10, 2, density=-0.1, seed=0)
    with pytest.raises(ValueError, match="block_size must be a power of two, got block_size=3"):
        SRHT(10, 2, seed=0, block_size=3)
    with pytest.raises(ValueError, match="block_size must be <= 16, got block_size=32"):
        SRHT(10, 2, seed=0, block_size=32)


def test_from_parts_validation():
    J = SRHT.from_parts([5, 1], [1, -1, 1, 1, -1])
    assert J.n_features == 5 and J.n_padded == 8 and list(J.indices) == [1, 5]
    with pytest.raises(ValueError, match="signs must contain only"):
        SRHT.from_parts([0], [1, 2])
    with pytest.raises(ValueError, match="indices must be distinct"):
        SRHT.from_parts([1, 1], [1, 1, 1])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, n_padded=4\)"):
        SRHT.from_parts([4], [1, 1, 1])
    with pytest.raises(TypeError, match="indices must be a 1-D integer array"):
        SRHT.from_parts([0.5], [1, 1, 1])
    with pytest.raises(ValueError, match="got k=4 with n_features=3"):
        SRHT.from_parts([0, 1, 2, 3], [1, 1, 1])


# ---------------------------------------------------------------------------------------------
# JL dimension


def test_jl_min_dim_matches_sklearn_on_a_grid():
    from sklearn.random_projection import johnson_lindenstrauss_min_dim as sk

    ns = [1, 2, 3, 10, 100, 1797, 1e4, 12345, 1e6, 1e9]
    epss = [1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.999]
    for n in ns:
        for e in epss:
            assert jl_min_dim(n, e) == sk(n, eps=e), (n, e)
    nn, ee = np.meshgrid(ns, epss)
    np.testing.assert_array_equal(jl_min_dim(nn, ee), sk(nn, eps=ee))


def test_jl_min_dim_documented_values_and_types():
    assert jl_min_dim(1e6, eps=0.5) == 663
    assert jl_min_dim(1e6, eps=[0.5, 0.1, 0.01]).tolist() == [663, 11841, 1112658]
    assert jl_min_dim([1e4, 1e5, 1e6], eps=0.1).tolist() == [7894, 9868, 11841]
    assert isinstance(jl_min_dim(100), np.integer)


@pytest.mark.parametrize("bad", [0, 1, -0.5, 1.5, float("nan"), [0.5, 1.0]])
def test_jl_min_dim_bad_eps(bad):
    with pytest.raises(ValueError, match="eps must lie in the open interval \\(0, 1\\), got eps="):
        jl_min_dim(100, eps=bad)


def test_jl_min_dim_bad_n_samples():
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        jl_min_dim(0, eps=0.5)
    with pytest.raises(TypeError, match="n_samples must be a real number"):
        jl_min_dim("100", eps=0.5)
    with pytest.raises(TypeError, match="eps must be a real number"):
        jl_min_dim(100, eps="0.5")


def test_jl_failure_bound_at_min_dim():
    for n_points in (2, 10, 1000):
        for eps in (0.1, 0.2, 0.5):
            k = int(jl_min_dim(n_points, eps))
            c = eps**2 / 2 - eps**3 / 3
            delta = jl_failure_bound(k, eps)
            # jl_min_dim rounds down, so the bound is 2/N^2 up to a factor exp(c/2)
            assert 2 / n_points**2 <= delta <= 2 / n_points**2 * math.exp(c / 2)
    with pytest.raises(ValueError, match="k must be >= 1"):
        jl_failure_bound(0, 0.1)
    with pytest.raises(TypeError, match="k must be an integer"):
        jl_failure_bound(1.5, 0.1)
    with pytest.raises(ValueError, match="eps must lie"):
        jl_failure_bound(10, 1.0)


def test_doctests():
    for module in (numerics.jl.dims, numerics.jl.operators, numerics.jl.transformer):
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0, module.__name__


# ---------------------------------------------------------------------------------------------
# sklearn transformer


def test_fjltransform_auto_and_equivalence():
    X = np.random.default_rng(0).standard_normal((50, 3000))
    t = FJLTransform(eps=0.5, random_state=0)
    Y = t.fit_transform(X)
    assert t.n_components_ == jl_min_dim(50, eps=0.5) == Y.shape[1]
    assert t.n_features_in_ == 3000 and isinstance(t.operator_, SRHT)
    np.testing.assert_allclose(Y, X @ t.components_.T, atol=1e-10)
    np.testing.assert_allclose(Y, FJLTransform(eps=0.5, random_state=0).fit(X).transform(X), atol=0)
    assert list(t.get_feature_names_out()[:2]) == ["fjltransform0", "fjltransform1"]


@pytest.mark.parametrize("kind,cls", [("srht", SRHT), ("ailon-chazelle", AilonChazelle), ("gaussian", GaussianProjection), ("sparse", SparseProjection)])
def test_fjltransform_kinds_and_dtype(kind, cls):
    X = np.random.default_rng(0).standard_normal((20, 64)).astype(np.float32)
    t = FJLTransform(n_components=8, kind=kind, random_state=1).fit(X)
    assert isinstance(t.operator_, cls) and t.operator_.dtype == np.float32
    assert t.transform(X).dtype == np.float32 and t.transform(X).shape == (20, 8)
    t64 = FJLTransform(n_components=8, kind=kind, random_state=1, dtype=np.float64).fit(X)
    assert t64.transform(X).dtype == np.float64


def test_fjltransform_errors():
    from sklearn.exceptions import NotFittedError

    X = np.random.default_rng(0).standard_normal((1000, 64))
    with pytest.raises(ValueError, match="eps=0.1 and n_samples=1000 give a target dimension of 5920, larger than n_features=64"):
        FJLTransform().fit(X)
    with pytest.raises(ValueError, match="n_components must satisfy 1 <= n_components <= n_features, got n_components=65"):
        FJLTransform(n_components=65).fit(X)
    with pytest.raises(ValueError, match="kind must be one of"):
        FJLTransform(n_components=4, kind="fourier").fit(X)
    with pytest.raises(ValueError, match="eps must lie in the open interval"):
        FJLTransform(eps=1.5).fit(X)
    with pytest.raises(NotFittedError):
        FJLTransform(n_components=4).transform(X)
    t = FJLTransform(n_components=4, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 63 features .* n_features_in_=64"):
        t.transform(X[:, :63])
    with pytest.raises(TypeError, match="X has dtype int64"):
        t.transform(np.ones((2, 64), dtype=np.int64))
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        t.transform(np.full((2, 64), np.nan))
    with pytest.raises(TypeError, match="random_state must be None"):
        FJLTransform(n_components=4, random_state="x").fit(X)


def test_fjltransform_in_a_pipeline():
    from sklearn.base import clone
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), FJLTransform(n_components=32, random_state=0), LogisticRegression(max_iter=2000))
    pipe.fit(X[:1200], y[:1200])
    accuracy = pipe.score(X[1200:], y[1200:])
    assert accuracy > 0.85  # 32 random features of 64 keep most of the class information
    params = pipe.get_params()
    assert params["fjltransform__n_components"] == 32
    cloned = clone(pipe)
    assert cloned.get_params()["fjltransform__random_state"] == 0


# ---------------------------------------------------------------------------------------------
# property test


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    m=st.integers(1, 300),
    kfrac=st.floats(0.0, 1.0),
    N=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    b_exp=st.integers(0, 9),
)
def test_srht_project_matches_reference(m, kfrac, N, seed, b_exp):
    k = max(1, int(round(kfrac * m)))
    n = 1 << (m - 1).bit_length()
    J = SRHT(m, k, seed=seed, block_size=min(1 << b_exp, n))
    X = np.random.default_rng(seed).standard_normal((N, m))
    ref = K.srht_rows_reference(X, J.signs, J.indices, n, J.scale)
    np.testing.assert_allclose(J.project(X), ref, atol=1e-11)
