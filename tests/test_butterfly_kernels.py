"""Tiled butterfly kernels and the functional API (forward, fused backward) against NumPy oracles."""
import numpy as np
import pytest

from numerics.butterfly import Butterfly
from numerics.butterfly import _kernels as K
from numerics.butterfly._reference import (
    butterfly_backward_reference,
    butterfly_dense_reference,
    butterfly_forward_reference,
)
from numerics.butterfly.functional import (
    _backward_plan,
    _backward_scratch,
    _backward_unplan,
    butterfly_backward,
    butterfly_forward,
    tile_rows,
)

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
RTOL = {np.float32: 2e-5, np.float64: 1e-13, np.complex64: 2e-5, np.complex128: 1e-13}


def _rand(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _tw(rng, n, dtype):
    L = n.bit_length() - 1
    return (_rand(rng, (L, n // 2, 2, 2), dtype) * np.sqrt(0.5)).astype(dtype)


def _close(a, b, rtol):
    scale = max(np.abs(b).max(), 1e-300)
    assert np.abs(a - b).max() <= rtol * scale, (np.abs(a - b).max(), scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("increasing", [True, False])
def test_forward_matches_dense_reference(dtype, increasing):
    rng = np.random.default_rng(1)
    T = tile_rows(dtype)
    for p in range(1, 11):
        n = 2**p
        tw = _tw(rng, n, dtype)
        B = butterfly_dense_reference(tw.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64), increasing)
        for batch in (1, T + 3, 2 * T + 1):
            X = _rand(rng, (batch, n), dtype)
            Y = butterfly_forward(X, tw, increasing=increasing)
            assert Y.dtype == np.dtype(dtype) and Y.shape == X.shape and Y.flags.c_contiguous
            _close(Y, X.astype(B.dtype) @ B.T, RTOL[dtype] * p)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("increasing", [True, False])
def test_backward_matches_stored_intermediates_reference(dtype, increasing):
    rng = np.random.default_rng(2)
    T = tile_rows(dtype, backward=True)
    for p in (1, 2, 5, 9):
        n = 2**p
        tw = _tw(rng, n, dtype)
        for batch in (1, 3 * T + 5):
            X, G = _rand(rng, (batch, n), dtype), _rand(rng, (batch, n), dtype)
            gX, gtw = butterfly_backward(X, tw, G, increasing=increasing)
            rX, rtw = butterfly_backward_reference(X, tw, G, increasing=increasing)
            assert gX.dtype == gtw.dtype == np.dtype(dtype) and gtw.shape == tw.shape
            _close(gX, rX, RTOL[dtype] * p)
            _close(gtw, rtw, RTOL[dtype] * p * 10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("increasing", [True, False])
def test_grad_x_equals_grad_y_times_b(dtype, increasing):
    rng = np.random.default_rng(3)
    for n in (2, 16, 256):
        tw = _tw(rng, n, dtype)
        B = butterfly_dense_reference(tw, increasing)
        X, G = _rand(rng, (45, n), dtype), _rand(rng, (45, n), dtype)
        gX, _ = butterfly_backward(X, tw, G, increasing=increasing)
        _close(gX, G @ np.conj(B), 1e-13)


def _loss(Y, W):
    """A real loss with a nonzero third term: f = Re sum(conj(W) Y) + |Y|^2 / 2; df/dY = W + Y."""
    return float(np.real(np.sum(np.conj(W) * Y)) + 0.5 * np.sum(np.abs(Y) ** 2))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("increasing", [True, False])
def test_gradients_match_central_finite_differences(dtype, increasing):
    # f is quadratic in every single twiddle or input entry (Y is linear in each), so central
    # differences are exact up to rounding and the tolerance can be tight.
    rng = np.random.default_rng(4)
    cplx = np.dtype(dtype).kind == "c"
    n, batch, h = 8, 5, 1e-5
    tw, X, W = _tw(rng, n, dtype), _rand(rng, (batch, n), dtype), _rand(rng, (batch, n), dtype)
    Y = butterfly_forward(X, tw, increasing=increasing)
    gX, gtw = butterfly_backward(X, tw, W + Y, increasing=increasing)

    def fd(arr, f):
        out = np.zeros(arr.shape, dtype=dtype)
        for idx in np.ndindex(arr.shape):
            for unit in ((1.0, 1j) if cplx else (1.0,)):
                a, b = arr.copy(), arr.copy()
                a[idx] += h * unit
                b[idx] -= h * unit
                out[idx] += unit * (f(a) - f(b)) / (2 * h)
        return out

    fd_tw = fd(tw, lambda t: _loss(butterfly_forward(X, t, increasing=increasing), W))
    fd_X = fd(X, lambda x: _loss(butterfly_forward(x, tw, increasing=increasing), W))
    assert np.abs(gtw - fd_tw).max() <= 1e-7 * np.abs(fd_tw).max()
    assert np.abs(gX - fd_X).max() <= 1e-7 * np.abs(fd_X).max()


@pytest.mark.parametrize("dtype", DTYPES)
def test_parallel_and_serial_kernels_agree(dtype):
    rng = np.random.default_rng(5)
    n = 64
    tw = _tw(rng, n, dtype)
    order = np.arange(6, dtype=np.int64)
    X, H = _rand(rng, (203, n), dtype), _rand(rng, (203, n), dtype)  # 203: tiles of m < T rows too
    for T in (tile_rows(dtype), 16):
        Y1, Y2 = np.empty_like(X), np.empty_like(X)
        K.butterfly_tiles(X, tw, order, Y1, np.empty((2, n, T), dtype))
        K.butterfly_tiles_serial(X, tw, order, Y2, np.empty((n, T), dtype))
        np.testing.assert_array_equal(Y1, Y2)
        _close(Y1, X @ butterfly_dense_reference(tw).T, RTOL[dtype] * 6)
        # in place (each tile reads its rows before writing them)
        Z = X.copy()
        K.butterfly_tiles(Z, tw, order, Z, np.empty((3, n, T), dtype))
        np.testing.assert_array_equal(Z, Y1)
    T = 16
    for k in (6, 3, 4):  # whole tile, and split into blocks of 8 or 16 coordinates
        for increasing in (True, False):
            plan = _backward_plan(tw, increasing, k)
            twb, twr = plan[0], plan[2]

            def run(kern, C):
                G, b, r = np.empty_like(X), np.zeros((C,) + twb.shape, dtype), np.zeros((C,) + twr.shape, dtype)
                kern(X, H, *plan, G, b, r, *_backward_scratch(C, np.dtype(dtype), n, T, k, plan[4]))
                return G, _backward_unplan(b, r, n)

            G0, g0 = run(K.butterfly_tiles_backward_serial, 1)
            # the kernel takes H = conj(grad_Y) and returns the conjugated gradients (module doc)
            rX, rtw = butterfly_backward_reference(X, tw, np.conj(H), increasing=increasing)
            _close(G0, np.conj(rX), RTOL[dtype] * 10)
            _close(g0, np.conj(rtw), RTOL[dtype] * 10)
            for C in (1, 2, 3):
                G1, g1 = run(K.butterfly_tiles_backward, C)
                np.testing.assert_array_equal(G1, G0)
                _close(g1, g0, RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_large_batch_uses_parallel_path_and_matches_reference(dtype):
    rng = np.random.default_rng(6)
    n = 256
    tw = _tw(rng, n, dtype)
    X, G = _rand(rng, (301, n), dtype), _rand(rng, (301, n), dtype)
    _close(butterfly_forward(X, tw), butterfly_forward_reference(X, tw), RTOL[dtype] * 8)
    gX, gtw = butterfly_backward(X, tw, G, increasing=False)
    rX, rtw = butterfly_backward_reference(X, tw, G, increasing=False)
    _close(gX, rX, RTOL[dtype] * 8)
    _close(gtw, rtw, RTOL[dtype] * 80)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs(dtype):
    rng = np.random.default_rng(7)
    n = 32
    tw_big = _tw(rng, 2 * n, dtype)
    tw = np.asfortranarray(_tw(rng, n, dtype))
    base = _rand(rng, (70, 2 * n), dtype)
    views = [base[::2, ::2], base[:, 1::2], np.asfortranarray(base[:, :n]), base[:, :n].T.copy().T]
    G = _rand(rng, (35, n), dtype)
    for X in views:
        Xc = np.ascontiguousarray(X)
        np.testing.assert_array_equal(butterfly_forward(X, tw), butterfly_forward(Xc, np.ascontiguousarray(tw)))
        if X.shape[0] == G.shape[0]:
            a, b = butterfly_backward(X, tw, G[:, ::1].T.copy().T), butterfly_backward(Xc, tw, G)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    # twiddles as a strided view of a larger array
    tws = tw_big[:5, ::2]
    X = _rand(rng, (4, n), dtype)
    np.testing.assert_array_equal(butterfly_forward(X, tws), butterfly_forward(X, np.ascontiguousarray(tws)))


def test_operator_uses_the_tiled_kernel_both_ways():
    rng = np.random.default_rng(8)
    B = Butterfly.random(128, seed=1, increasing=False)
    X = rng.standard_normal((300, 128))
    D = B.todense()
    _close(B.apply_rows(X), X @ D.T, 1e-13)
    _close(B.apply_rows(X, adjoint=True), X @ D, 1e-13)
    _close(B.apply_rows(X), butterfly_forward(X, np.asarray(B.twiddles), increasing=False), 0)


def test_bad_inputs():
    rng = np.random.default_rng(9)
    tw = _tw(rng, 8, np.float64)
    X = rng.standard_normal((3, 8))
    with pytest.raises(TypeError, match="X has dtype float32 but tw has dtype float64"):
        butterfly_forward(X.astype(np.float32), tw)
    with pytest.raises(TypeError, match="grad_Y has dtype float32 but tw has dtype float64"):
        butterfly_backward(X, tw, X.astype(np.float32))
    with pytest.raises(TypeError, match="X"):
        butterfly_forward(X.astype(np.int64), tw)
    with pytest.raises(ValueError, match=r"X has shape \(3, 16\); expected \(batch, 8\)"):
        butterfly_forward(rng.standard_normal((3, 16)), tw)
    with pytest.raises(ValueError, match="X"):
        butterfly_forward(X[0], tw)
    with pytest.raises(ValueError, match=r"grad_Y has shape \(2, 8\); expected \(3, 8\)"):
        butterfly_backward(X, tw, X[:2])
    with pytest.raises(ValueError, match="twiddles must have shape"):
        butterfly_forward(X, tw[:, :3])
    with pytest.raises(ValueError, match="needs 3 factors, got 2"):
        butterfly_forward(X, tw[:2])
    with pytest.raises(TypeError, match="increasing must be a bool"):
        butterfly_forward(X, tw, increasing=1)
    bad = X.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at index \(1, 2\)"):
        butterfly_forward(bad, tw)
    with pytest.raises(ValueError, match="grad_Y contains NaN or inf"):
        butterfly_backward(X, tw, bad)
    tbad = tw.copy()
    tbad[0, 1, 1, 0] = np.inf
    with pytest.raises(ValueError, match="twiddles contains NaN or inf"):
        butterfly_backward(X, tbad, X)
