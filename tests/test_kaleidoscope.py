"""Kaleidoscope matrices: operator vs dense factors, constructions vs dense targets, layers, bad input."""
import math

import numpy as np
import pytest
import scipy.linalg

from numerics.kaleidoscope import (
    Kaleidoscope,
    check_permutation,
    circulant_kaleidoscope,
    dct2_matrix,
    dct_kaleidoscope,
    dft_kaleidoscope,
    dst2_matrix,
    dst_kaleidoscope,
    kaleidoscope_n_params,
    permutation_bbstar,
    permutation_twiddles,
    sparse_kaleidoscope,
    toeplitz_kaleidoscope,
)
from numerics.kaleidoscope._reference import benes_route_reference, kaleidoscope_dense_reference
from numerics.kaleidoscope.constructions import permutation_inc_dec
from numerics.kaleidoscope.layers import AvgPool2, KaleidoscopeLayer, LocalConv
from numerics.kaleidoscope.unshuffle import round_to_permutation
from numerics.butterfly._reference import butterfly_dense_reference

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _rand(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _tol(dtype):
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-12


# ------------------------------------------------------------------------------ operator
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,w,e", [(2, 1, 1), (8, 2, 1), (4, 1, 2), (8, 3, 4), (16, 1, 2), (1, 1, 2), (32, 2, 1)])
def test_operator_matches_dense_factors(dtype, n, w, e):
    rng = np.random.default_rng(0)
    K = Kaleidoscope.random(n, w=w, e=e, seed=1, dtype=dtype)
    D = kaleidoscope_dense_reference(np.array(K.twiddles, dtype=np.complex128), n)
    assert K.shape == (n, n) and K.w == w and K.e == e
    assert K.n_params == 4 * w * n * e * int(math.log2(n * e)) == kaleidoscope_n_params(n, w, e) == K.twiddles.size
    X = _rand(rng, (n, 3), dtype)
    scale = np.linalg.norm(D) * np.linalg.norm(X)
    assert np.linalg.norm(K @ X - D @ X) <= _tol(dtype) * scale
    assert np.linalg.norm(K.H @ X - D.conj().T @ X) <= _tol(dtype) * scale
    assert np.linalg.norm(K.todense() - D) <= _tol(dtype) * np.linalg.norm(D)
    x = X[:, 0]
    assert np.allclose(K.matvec(x), D @ x, atol=_tol(dtype) * scale)


def test_operator_noncontiguous_and_rows():
    rng = np.random.default_rng(2)
    K = Kaleidoscope.random(16, w=2, e=2, seed=3)
    D = K.todense()
    X = rng.standard_normal((16, 10))[:, ::2]
    assert not X.flags.c_contiguous
    assert np.allclose(K @ X, D @ X, atol=1e-12)
    R = rng.standard_normal((7, 32))[:, ::2]
    assert np.allclose(K.apply_rows(R), R @ D.T, atol=1e-12)
    assert np.allclose(K.apply_rows(R, adjoint=True), R @ D.conj(), atol=1e-12)


def test_identity():
    assert np.array_equal(Kaleidoscope.identity(8, w=2, e=2).todense(), np.eye(8))


def test_forward_backward_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    n, w, e = 4, 2, 2
    K = Kaleidoscope.random(n, w=w, e=e, seed=5)
    X = rng.standard_normal((3, n))
    G = rng.standard_normal((3, n))
    Y, gX, gtw = K.forward_backward(X, G)
    assert np.allclose(Y, X @ K.todense().T, atol=1e-12)
    assert np.allclose(gX, G @ K.todense(), atol=1e-12)
    tw = np.array(K.twiddles)
    h = 1e-6
    for idx in [(0, 0, 0, 0, 0, 0), (1, 1, 2, 3, 1, 0), (0, 1, 1, 2, 0, 1), (1, 0, 2, 1, 1, 1)]:
        tp, tm = tw.copy(), tw.copy()
        tp[idx] += h
        tm[idx] -= h
        fp = np.sum(G * (X @ Kaleidoscope(tp, n).todense().T))
        fm = np.sum(G * (X @ Kaleidoscope(tm, n).todense().T))
        assert abs((fp - fm) / (2 * h) - gtw[idx]) <= 1e-6


# ------------------------------------------------------------------------------ permutations
@pytest.mark.parametrize("N", [2, 4, 8, 16, 64, 256, 1024])
def test_permutations_exact(N):
    rng = np.random.default_rng(N)
    for _ in range(20):
        p = rng.permutation(N)
        K = permutation_bbstar(p)
        assert np.array_equal(K.todense(), np.eye(N)[p])
        x = rng.standard_normal(N)
        assert np.array_equal(K @ x, x[p])


@pytest.mark.parametrize("N", [2, 8, 32])
def test_benes_kernel_matches_reference_and_inc_dec(N):
    rng = np.random.default_rng(N + 1)
    for _ in range(10):
        p = rng.permutation(N)
        d, i = permutation_twiddles(p)
        dr, ir = benes_route_reference(p)
        assert np.array_equal(d, dr) and np.array_equal(i, ir)
        ia, da = permutation_inc_dec(p)
        M = butterfly_dense_reference(da, False) @ butterfly_dense_reference(ia, True)
        assert np.array_equal(M, np.eye(N)[p])


def test_permutation_complex_dtype():
    p = np.random.default_rng(0).permutation(8)
    K = permutation_bbstar(p, dtype=np.complex64)
    assert K.dtype == np.complex64 and np.array_equal(K.todense(), np.eye(8)[p])


# ------------------------------------------------------------------------------ sparse
@pytest.mark.parametrize("n", [2, 4, 8, 16])
@pytest.mark.parametrize("kind", ["random", "row", "column", "dense", "complex"])
def test_sparse_membership(n, kind):
    rng = np.random.default_rng(n)
    S = np.zeros((n, n), dtype=np.complex128 if kind == "complex" else np.float64)
    if kind in ("random", "complex"):
        s = int(rng.integers(1, 3 * n))
        S.flat[rng.choice(n * n, size=min(s, n * n), replace=False)] = 1 + rng.standard_normal(min(s, n * n))
    elif kind == "row":
        S[1 % n] = rng.standard_normal(n)
    elif kind == "column":
        S[:, 0] = rng.standard_normal(n)
    else:
        S[...] = rng.standard_normal((n, n))
    s = np.count_nonzero(S)
    K = sparse_kaleidoscope(S)
    assert K.w == 4 * max(1, math.ceil(s / n)) and K.e == 4
    assert np.max(np.abs(K.todense() - S)) <= 1e-12 * np.max(np.abs(S))


def test_sparse_zero_matrix_and_float32():
    K = sparse_kaleidoscope(np.zeros((4, 4)))
    assert K.w == 4 and np.array_equal(K.todense(), np.zeros((4, 4)))
    S = np.eye(8, dtype=np.float32)[::-1]
    assert np.array_equal(sparse_kaleidoscope(np.asfortranarray(S)).todense(), S)


# ------------------------------------------------------------------------------ structured
@pytest.mark.parametrize("n", [2, 4, 16, 128])
def test_structured(n):
    rng = np.random.default_rng(n)
    F = np.fft.fft(np.eye(n), axis=0)

    def rel(K, M):
        return np.linalg.norm(K.todense() - M) / np.linalg.norm(M)

    K = dft_kaleidoscope(n)
    assert (K.w, K.e) == (2, 1) and rel(K, F) <= 1e-12
    for norm in (None, "ortho"):
        K = dct_kaleidoscope(n, norm=norm)
        assert (K.w, K.e) == (2, 2) and rel(K, dct2_matrix(n, norm=norm)) <= 1e-12
        K = dst_kaleidoscope(n, norm=norm)
        assert (K.w, K.e) == (2, 2) and rel(K, dst2_matrix(n, norm=norm)) <= 1e-12
    c = rng.standard_normal(n)
    K = circulant_kaleidoscope(c)
    assert (K.w, K.e) == (1, 1) and rel(K, scipy.linalg.circulant(c)) <= 1e-12
    x = rng.standard_normal(n)
    assert np.allclose(K @ x, np.fft.ifft(np.fft.fft(c) * np.fft.fft(x)), atol=1e-12 * n)
    col, row = rng.standard_normal(n) + 1j * rng.standard_normal(n), rng.standard_normal(n)
    K = toeplitz_kaleidoscope(col, row)
    assert (K.w, K.e) == (1, 2) and rel(K, scipy.linalg.toeplitz(col, row)) <= 1e-12


def test_dct_matrix_oracles_are_the_textbook_formulas():
    n = 8
    j, k = np.meshgrid(np.arange(n), np.arange(n))
    assert np.allclose(dct2_matrix(n), 2 * np.cos(np.pi * k * (2 * j + 1) / (2 * n)))
    assert np.allclose(dst2_matrix(n), 2 * np.sin(np.pi * (k + 1) * (2 * j + 1) / (2 * n)))


# ------------------------------------------------------------------------------ layers
@pytest.mark.parametrize("kind", ["free", "permutation"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kaleidoscope_layer_gradients(kind, dtype):
    rng = np.random.default_rng(7)
    layer = KaleidoscopeLayer(8, w=2, e=2, kind=kind, seed=1, dtype=dtype)
    X = rng.standard_normal((5, 8)).astype(dtype)
    G = rng.standard_normal((5, 8)).astype(dtype)
    Y = layer.forward(X)
    assert Y.dtype == dtype and np.allclose(Y, X @ layer.matrix().T, atol=_tol(dtype) * 10)
    gX = layer.backward(G)
    assert np.allclose(gX, G @ layer.matrix(), atol=_tol(dtype) * 10)
    if dtype != np.float64:
        return
    name = "twiddles" if kind == "free" else "logits"
    P = layer.params[name]
    grad = layer.grads[name].copy()
    h = 1e-6
    for flat in rng.choice(P.size, size=6, replace=False):
        idx = np.unravel_index(flat, P.shape)
        old = P[idx]
        P[idx] = old + h
        fp = np.sum(G * layer.forward(X, train=False))
        P[idx] = old - h
        fm = np.sum(G * layer.forward(X, train=False))
        P[idx] = old
        assert abs((fp - fm) / (2 * h) - grad[idx]) <= 1e-6


def test_relaxed_switches_give_doubly_stochastic_and_permutation_at_corners():
    layer = KaleidoscopeLayer(16, kind="permutation", seed=0, init_scale=2.0)
    M = layer.matrix()
    assert np.allclose(M.sum(0), 1) and np.allclose(M.sum(1), 1) and (M >= 0).all()
    layer.params["logits"][...] = np.where(layer.params["logits"] > 0, 50.0, -50.0)
    M = layer.matrix()
    assert np.allclose(M, np.eye(16)[round_to_permutation(M)], atol=1e-12)


def test_local_conv_and_pool_against_loops():
    rng = np.random.default_rng(3)
    conv = LocalConv(4, 4, 2, seed=0)
    X = rng.standard_normal((2, 16))
    Y = conv.forward(X).reshape(2, 2, 4, 4)
    img = np.pad(X.reshape(2, 4, 4), ((0, 0), (1, 1), (1, 1)))
    W = conv.params["weight"].reshape(3, 3, 2)
    ref = np.zeros((2, 2, 4, 4))
    for r in range(4):
        for c in range(4):
            ref[:, :, r, c] = np.einsum("bij,ijc->bc", img[:, r : r + 3, c : c + 3], W)
    assert np.allclose(Y, ref)
    G = rng.standard_normal((2, 32))
    gX = conv.backward(G)
    # linear in X: the gradient is G applied to the transpose of the (linear part of the) map
    J = np.stack([conv.forward(np.eye(16)[i : i + 1]) - conv.params["bias"].repeat(16) for i in range(16)])[:, 0]
    assert np.allclose(gX, G @ J.T)
    pool = AvgPool2(4, 4, 2)
    Z = rng.standard_normal((3, 32))
    P = pool.forward(Z)
    assert np.allclose(P.reshape(3, 2, 2, 2)[:, 1, 0, 1], Z.reshape(3, 2, 4, 4)[:, 1, 0:2, 2:4].mean(axis=(1, 2)))
    Gp = rng.standard_normal((3, 8))
    assert np.isclose(np.sum(pool.backward(Gp) * Z), np.sum(Gp * P))


# ------------------------------------------------------------------------------ bad input
def test_bad_sizes():
    with pytest.raises(ValueError, match=r"n \* e must be a power of two.*n=3"):
        Kaleidoscope.random(3)
    with pytest.raises(ValueError, match=r"n \* e must be a power of two.*n=6, e=2"):
        Kaleidoscope.identity(6, e=2)
    with pytest.raises(ValueError, match="must be square, got shape"):
        sparse_kaleidoscope(np.ones((4, 8)))
    with pytest.raises(ValueError, match="n \\(the size of S\\)=6 is not a power of two"):
        sparse_kaleidoscope(np.ones((6, 6)))
    with pytest.raises(ValueError, match="n=12 is not a power of two"):
        dft_kaleidoscope(12)
    with pytest.raises(ValueError, match="n=5 is not a power of two"):
        circulant_kaleidoscope(np.ones(5))
    with pytest.raises(ValueError, match="row has length 3; expected 4"):
        toeplitz_kaleidoscope(np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="expected \\(batch, 8\\)"):
        Kaleidoscope.random(8).apply_rows(np.ones((2, 4)))
    with pytest.raises(ValueError, match="twiddles must have shape"):
        Kaleidoscope(np.ones((1, 2, 2, 3, 2, 2)))
    with pytest.raises(ValueError, match="e must be >= 4"):
        sparse_kaleidoscope(np.eye(4), e=2)


def test_bad_permutations():
    with pytest.raises(ValueError, match="not a permutation of range\\(4\\)"):
        permutation_bbstar([0, 1, 1, 3])
    with pytest.raises(ValueError, match="not a permutation of range\\(4\\)"):
        permutation_bbstar([0, 1, 2, 4])
    with pytest.raises(ValueError, match="not a permutation of range\\(4\\)"):
        check_permutation("perm", [-1, 0, 1, 2])
    with pytest.raises(ValueError, match="length 6; expected a power of two"):
        permutation_bbstar(np.arange(6))
    with pytest.raises(TypeError, match="must be an integer array"):
        permutation_bbstar(np.arange(4.0))
    with pytest.raises(ValueError, match="must be 1-D"):
        permutation_bbstar(np.eye(4, dtype=int))


def test_nan_and_complex_rejected():
    S = np.eye(4)
    S[1, 2] = np.nan
    with pytest.raises(ValueError, match="S contains NaN"):
        sparse_kaleidoscope(S)
    with pytest.raises(ValueError, match="c contains NaN"):
        circulant_kaleidoscope(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="x contains NaN"):
        Kaleidoscope.random(4) @ np.array([1.0, np.nan, 0, 0])
    tw = np.array(Kaleidoscope.random(4).twiddles)
    tw[0, 0, 0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="twiddles contains NaN or inf"):
        Kaleidoscope(tw)
    # real-only routines refuse complex input
    layer = KaleidoscopeLayer(4)
    with pytest.raises(TypeError, match="dtype complex128 but the layer has dtype float64"):
        layer.forward(np.ones((2, 4), dtype=np.complex128))
    with pytest.raises(TypeError, match="M has dtype complex128"):
        round_to_permutation(np.eye(3, dtype=np.complex128))
    with pytest.raises(TypeError, match="real only"):
        KaleidoscopeLayer(4, dtype=np.complex128)
    with pytest.raises(TypeError, match="dtype int64"):
        Kaleidoscope.random(4) @ np.arange(4)
    with pytest.raises(ValueError, match="kind must be one of"):
        KaleidoscopeLayer(4, kind="dense")
    with pytest.raises(ValueError, match="norm must be None or 'ortho'"):
        dct_kaleidoscope(4, norm="forward")
