"""Butterfly matrices: kernels against the dense NumPy reference, exact constructors, bad input."""
import math

import numba
import numpy as np
import pytest
import scipy.linalg

from numerics.butterfly import Butterfly, bit_reversal_permutation
from numerics.butterfly.functional import tile_rows, use_parallel
from numerics.butterfly._reference import butterfly_dense_reference, pair_indices

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
SIZES = [2**k for k in range(1, 11)]  # 2 .. 1024


def _rand(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _tol(dtype, n=1):
    return (1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-12) * max(1, math.log2(n))


# ---------------------------------------------------------------------------- layout / reference


def test_pair_enumeration_is_bit_t_clear_in_increasing_order():
    for n in (2, 8, 32):
        for t in range(n.bit_length() - 1):
            i, j = pair_indices(n, t)
            expected = [k for k in range(n) if not (k >> t) & 1]
            assert list(i) == expected
            assert np.array_equal(j, i + (1 << t))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("increasing", [True, False])
@pytest.mark.parametrize("n", [2, 4, 16, 64])
def test_todense_matches_dense_reference(n, increasing, dtype):
    rng = np.random.default_rng(n)
    tw = _rand(rng, (n.bit_length() - 1, n // 2, 2, 2), dtype)
    B = Butterfly(tw, increasing=increasing)
    ref = butterfly_dense_reference(tw.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64), increasing)
    D = B.todense()
    assert D.dtype == np.dtype(dtype)
    np.testing.assert_allclose(D, ref, atol=_tol(dtype, n) * 10, rtol=0)


def test_orders_differ_for_generic_twiddles():
    tw = np.random.default_rng(0).standard_normal((3, 4, 2, 2))
    assert not np.allclose(Butterfly(tw).todense(), Butterfly(tw, increasing=False).todense())


def test_attributes_and_read_only_twiddles():
    tw = np.random.default_rng(1).standard_normal((5, 16, 2, 2))
    B = Butterfly(tw, increasing=False)
    assert (B.n, B.n_factors, B.increasing, B.shape, B.dtype) == (32, 5, False, (32, 32), np.float64)
    assert B.n_params == 2 * 32 * 5 == tw.size
    np.testing.assert_array_equal(B.twiddles, tw)
    with pytest.raises(ValueError):
        B.twiddles[0, 0, 0, 0] = 7.0
    tw[0, 0, 0, 0] = 7.0  # the operator holds its own copy
    assert B.twiddles[0, 0, 0, 0] != 7.0
    assert Butterfly.from_factors(tw, increasing=True).increasing


# ---------------------------------------------------------------------------- exact constructors


@pytest.mark.parametrize("n", SIZES)
def test_hadamard_equals_sylvester_over_sqrt_n(n):
    H = scipy.linalg.hadamard(n)
    for increasing in (True, False):
        np.testing.assert_allclose(Butterfly.hadamard(n, increasing=increasing).todense(), H / math.sqrt(n), atol=1e-12, rtol=0)
    np.testing.assert_allclose(Butterfly.hadamard(n, normalized=False).todense(), H, atol=1e-12 * n, rtol=0)


@pytest.mark.parametrize("n", [2, 8, 64, 1024])
@pytest.mark.parametrize("increasing", [True, False])
def test_fjlt_equals_h_d_over_sqrt_n(n, increasing):
    B, d = Butterfly.fjlt(n, seed=n, increasing=increasing, return_signs=True)
    assert set(np.unique(d)) <= {-1.0, 1.0}
    expected = scipy.linalg.hadamard(n) * d[None, :] / math.sqrt(n)
    np.testing.assert_allclose(B.todense(), expected, atol=1e-12, rtol=0)
    B2 = Butterfly.fjlt(n, seed=n, increasing=increasing)
    np.testing.assert_array_equal(B2.twiddles, B.twiddles)


def test_fjlt_signs_vary_with_seed():
    d = [Butterfly.fjlt(64, seed=s, return_signs=True)[1] for s in range(3)]
    assert not np.array_equal(d[0], d[1]) and not np.array_equal(d[1], d[2])


def test_bit_reversal_permutation():
    assert list(bit_reversal_permutation(8)) == [0, 4, 2, 6, 1, 5, 3, 7]
    assert list(bit_reversal_permutation(1)) == [0]
    for n in (2, 16, 1024):
        perm = bit_reversal_permutation(n)
        assert np.array_equal(np.sort(perm), np.arange(n))
        assert np.array_equal(perm[perm], np.arange(n))  # an involution


@pytest.mark.parametrize("n", SIZES)
def test_dft_with_bit_reversal_equals_numpy_fft(n):
    F = np.fft.fft(np.eye(n))
    perm = bit_reversal_permutation(n)
    P = np.eye(n)[perm]
    tol = 1e-12 * max(1, math.log2(n))
    B = Butterfly.dft(n)
    assert B.dtype == np.complex128
    np.testing.assert_allclose(B.todense() @ P, F, atol=tol, rtol=0)
    Bd = Butterfly.dft(n, increasing=False)
    np.testing.assert_allclose(P @ Bd.todense(), F, atol=tol, rtol=0)
    x = _rand(np.random.default_rng(n), n, np.complex128)
    np.testing.assert_allclose(B @ x[perm], np.fft.fft(x), atol=tol * np.abs(x).sum(), rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_identity(dtype):
    for n in (2, 32):
        np.testing.assert_array_equal(Butterfly.identity(n, dtype=dtype).todense(), np.eye(n, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("increasing", [True, False])
def test_random_orthogonal_is_orthogonal_or_unitary(dtype, increasing):
    for n in (2, 16, 256):
        B = Butterfly.random_orthogonal(n, seed=n, dtype=dtype, increasing=increasing)
        assert B.dtype == np.dtype(dtype)
        tw = B.twiddles
        blocks = tw.reshape(-1, 2, 2)
        np.testing.assert_allclose(blocks @ np.conj(np.swapaxes(blocks, -1, -2)), np.broadcast_to(np.eye(2), blocks.shape), atol=1e-12)
        D = B.todense()
        np.testing.assert_allclose(D @ D.conj().T, np.eye(n), atol=1e-12, rtol=0)
    if dtype == np.float64:  # both rotations and reflections occur
        dets = np.linalg.det(Butterfly.random_orthogonal(64, seed=0).twiddles.reshape(-1, 2, 2))
        assert np.any(dets > 0.5) and np.any(dets < -0.5)


def test_random_orthogonal_float32_and_complex64():
    for dtype in (np.float32, np.complex64):
        D = Butterfly.random_orthogonal(64, seed=3, dtype=dtype).todense()
        np.testing.assert_allclose(D @ D.conj().T, np.eye(64), atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_random_preserves_squared_norm_in_expectation(dtype):
    n, trials = 64, 2000
    x = _rand(np.random.default_rng(123), n, dtype)
    x /= np.linalg.norm(x)
    ops = [Butterfly.random(n, seed=s, dtype=dtype) for s in range(trials)]
    ratios = np.array([np.linalg.norm(B @ x) ** 2 for B in ops])
    se = ratios.std(ddof=1) / math.sqrt(trials)
    assert abs(ratios.mean() - 1.0) <= 4 * se
    # the test has power: entries 5% too large (E = 1.05**12 = 1.8) are rejected
    wrong = np.array([np.linalg.norm(Butterfly(1.05 * B.twiddles) @ x) ** 2 for B in ops[:200]])
    assert abs(wrong.mean() - 1.0) > 4 * wrong.std(ddof=1) / math.sqrt(wrong.size)


def test_random_entry_variance():
    tw = Butterfly.random(1024, seed=0).twiddles.ravel()
    se = math.sqrt(2 / tw.size) * 0.5
    assert abs(tw.var() - 0.5) < 4 * se
    twc = Butterfly.random(1024, seed=0, dtype=np.complex128).twiddles.ravel()
    assert abs(np.mean(np.abs(twc) ** 2) - 0.5) < 4 * math.sqrt(1 / twc.size) * 0.5


def test_seeds_reproduce_and_generators_accepted():
    a = Butterfly.random(32, seed=5).twiddles
    assert np.array_equal(a, Butterfly.random(32, seed=5).twiddles)
    assert not np.array_equal(a, Butterfly.random(32, seed=6).twiddles)
    assert np.array_equal(a, Butterfly.random(32, seed=np.random.default_rng(5)).twiddles)


# ---------------------------------------------------------------------------- products


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("increasing", [True, False])
def test_adjoint_dot_test(dtype, increasing):
    rng = np.random.default_rng(7)
    n = 128
    B = Butterfly.random(n, seed=1, dtype=dtype, increasing=increasing)
    u, v = _rand(rng, n, dtype), _rand(rng, n, dtype)
    lhs = np.vdot(B @ u, v)
    rhs = np.vdot(u, B.H @ v)
    scale = np.linalg.norm(u) * np.linalg.norm(v) * 10
    assert abs(lhs - rhs) <= _tol(dtype, n) * scale
    np.testing.assert_allclose(B.H.matmat(np.eye(n, dtype=dtype)), B.todense().conj().T, atol=_tol(dtype, n) * 10)
    BH = B.H
    assert isinstance(BH, Butterfly) and BH.increasing is (not increasing)
    np.testing.assert_allclose(BH.H.todense(), B.todense(), atol=0, rtol=0)
    np.testing.assert_allclose(B.rmatmat(np.eye(n, dtype=dtype)), B.todense().conj().T, atol=_tol(dtype, n) * 10)
    np.testing.assert_allclose(B.rmatvec(v), B.todense().conj().T @ v, atol=_tol(dtype, n) * 10 * np.abs(v).sum())


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmat_matches_matvec_and_non_contiguous_input(dtype):
    rng = np.random.default_rng(2)
    B = Butterfly.random(32, seed=0, dtype=dtype)
    X = _rand(rng, (32, 10), dtype)
    Y = B.matmat(X)
    cols = np.stack([B.matvec(X[:, k]) for k in range(10)], axis=1)
    np.testing.assert_array_equal(Y, cols)
    Xf = np.asfortranarray(_rand(rng, (64, 12), dtype))[::2, ::3]  # strided, not contiguous
    assert not Xf.flags.c_contiguous and not Xf.flags.f_contiguous
    np.testing.assert_allclose(B @ Xf, B.todense() @ Xf, atol=_tol(dtype, 32) * 100)
    np.testing.assert_allclose(B.rmatmat(Xf), B.todense().conj().T @ Xf, atol=_tol(dtype, 32) * 100)
    assert B.matvec(X[:, :1]).shape == (32, 1)


def test_float32_agrees_with_float64():
    B64 = Butterfly.random(256, seed=4)
    B32 = Butterfly(B64.twiddles.astype(np.float32))
    x = np.random.default_rng(0).standard_normal(256)
    y64 = B64 @ x
    y32 = B32 @ x.astype(np.float32)
    assert y32.dtype == np.float32
    assert np.linalg.norm(y32 - y64) <= 1e-5 * np.linalg.norm(y64)
    # mixed dtypes compute in the wider type
    assert (B32 @ x).dtype == np.float64
    assert (B64 @ x.astype(np.complex64)).dtype == np.complex128


@pytest.mark.parametrize("dtype", DTYPES)
def test_parallel_batch_equals_serial(dtype):
    rng = np.random.default_rng(9)
    B = Butterfly.random(64, seed=2, dtype=dtype)
    X = _rand(rng, (1061, 64), dtype)
    assert numba.get_num_threads() == 1 or use_parallel(1061, 64, tile_rows(dtype, batch=1061))
    both = B.apply_rows(X)
    serial = np.concatenate([B.apply_rows(X[k : k + 1]) for k in range(X.shape[0])])
    np.testing.assert_array_equal(both, serial)
    adj = B.apply_rows(X, adjoint=True)
    adj_serial = np.concatenate([B.apply_rows(X[k : k + 1], adjoint=True) for k in range(0, X.shape[0])])
    np.testing.assert_array_equal(adj, adj_serial)
    np.testing.assert_allclose(both, X @ B.todense().T, atol=_tol(dtype, 64) * 100)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("ctor", ["random", "random_orthogonal", "identity", "hadamard", "fjlt", "dft"])
def test_constructors_reject_bad_n(ctor):
    f = getattr(Butterfly, ctor)
    with pytest.raises(ValueError, match="n=12 is not a power of two"):
        f(12)
    with pytest.raises(ValueError, match="n must be"):
        f(1)
    with pytest.raises(ValueError, match="n must be >= 1"):
        f(0)
    with pytest.raises(TypeError, match="n must be an integer"):
        f(8.0)


def test_bad_dtype_and_seed():
    with pytest.raises(TypeError, match="dtype must be one of"):
        Butterfly.random(8, seed=0, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be one of .*complex"):
        Butterfly.dft(8, dtype=np.float64)
    with pytest.raises(ValueError, match="seed must be non-negative"):
        Butterfly.random(8, seed=-1)
    with pytest.raises(TypeError, match="seed must be None"):
        Butterfly.random_orthogonal(8, seed="abc")
    with pytest.raises(TypeError, match="seed must be None"):
        Butterfly.fjlt(8, seed=1.5)


def test_bad_twiddles():
    with pytest.raises(ValueError, match="ndim 4"):
        Butterfly(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"last axes not \(2, 2\)"):
        Butterfly(np.zeros((3, 4, 2, 3)))
    with pytest.raises(ValueError, match="n=8 needs 3 factors, got 2"):
        Butterfly(np.zeros((2, 4, 2, 2)))
    with pytest.raises(ValueError, match="n/2=3 is not a power of two"):
        Butterfly(np.zeros((2, 3, 2, 2)))
    with pytest.raises(ValueError, match="n/2=0"):
        Butterfly(np.zeros((0, 0, 2, 2)))
    with pytest.raises(TypeError, match="twiddles has dtype int64"):
        Butterfly(np.zeros((3, 4, 2, 2), dtype=np.int64))
    for bad in (np.nan, np.inf, -np.inf):
        tw = np.ones((3, 4, 2, 2))
        tw[1, 2, 0, 1] = bad
        with pytest.raises(ValueError, match=r"twiddles contains NaN or inf \(first at index \(1, 2, 0, 1\)"):
            Butterfly(tw)
    with pytest.raises(TypeError, match="increasing must be a bool"):
        Butterfly(np.ones((3, 4, 2, 2)), increasing=1)


def test_bad_inputs():
    B = Butterfly.hadamard(8)
    with pytest.raises(ValueError, match=r"x has shape \(7,\); expected 8 rows"):
        B.matvec(np.ones(7))
    with pytest.raises(ValueError, match=r"x has shape \(7,\); expected 8 rows"):
        B.rmatvec(np.ones(7))
    with pytest.raises(ValueError, match=r"X has shape \(4, 3\); expected 8 rows"):
        B.matmat(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"X has shape \(4, 3\); expected 8 rows"):
        B.H @ np.ones((4, 3))
    with pytest.raises(ValueError, match=r"X has shape \(2, 7\); expected 8 columns"):
        B.apply_rows(np.ones((2, 7)))
    with pytest.raises(TypeError, match="x has dtype int64"):
        B.matvec(np.ones(8, dtype=np.int64))
    for bad in (np.nan, np.inf):
        x = np.ones(8)
        x[3] = bad
        with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(3,\)"):
            B @ x
        with pytest.raises(ValueError, match=r"x contains NaN or inf"):
            B.H @ x
        X = np.ones((8, 2))
        X[5, 1] = bad
        with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at index \(5, 1\)"):
            B @ X
        with pytest.raises(ValueError, match=r"X contains NaN or inf"):
            B.apply_rows(X.T)
    with pytest.raises(TypeError, match="n must be an integer"):
        bit_reversal_permutation(8.0)
    with pytest.raises(ValueError, match="n=6 is not a power of two"):
        bit_reversal_permutation(6)
