"""numerics.nn: layer gradients against central finite differences, losses, optimizers, training, bad input."""
import math

import numpy as np
import pytest
from scipy.special import logsumexp

from numerics import nn
from numerics.butterfly import Butterfly, TruncatedButterfly

# ----------------------------------------------------------------------------- helpers


def _rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def _numgrad(f, arr, h=1e-6):
    """Central differences of the scalar f() w.r.t. every entry of arr (perturbed in place)."""
    g = np.zeros_like(arr)
    flat, gflat = arr.reshape(-1), g.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        fp = f()
        flat[k] = old - h
        fm = f()
        flat[k] = old
        gflat[k] = (fp - fm) / (2 * h)
    return g


def _check_layer_grads(layer, X, seed=0, tol=1e-6):
    """Every gradient of L = sum(G * layer(X)) against central differences (float64)."""
    rng = np.random.default_rng(seed)
    Y = layer.forward(X, train=True)
    G = rng.standard_normal(Y.shape)
    gX = layer.backward(G)
    assert gX.shape == X.shape and gX.dtype == X.dtype

    def f():
        return float(np.sum(G * layer.forward(X, train=False)))

    num = _numgrad(f, X)
    assert np.linalg.norm(num) > 0
    assert _rel_err(num, gX) <= tol, ("X", _rel_err(num, gX))
    for name, p in layer.params.items():
        num = _numgrad(f, p)
        assert np.linalg.norm(num) > 0, name
        err = _rel_err(num, layer.grads[name])
        assert err <= tol, (name, err)
    # need_grad_in=False gives the same parameter gradients and no input gradient
    saved = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(X, train=True)
    assert layer.backward(G, need_grad_in=False) is None
    for k, v in layer.grads.items():
        np.testing.assert_array_equal(v, saved[k])


def _x(rng, shape, dtype=np.float64, away=0.0):
    X = rng.standard_normal(shape)
    if away:
        X += np.sign(X) * away  # keep away from ReLU's kink
    return X.astype(dtype)


# ----------------------------------------------------------------------------- layers vs finite differences


@pytest.mark.parametrize("n_in,n_out,bias,init", [(1, 1, True, "he"), (7, 3, True, "glorot"), (5, 12, False, "he")])
def test_dense_gradients(n_in, n_out, bias, init):
    layer = nn.Dense(n_in, n_out, bias=bias, init=init, seed=3)
    rng = np.random.default_rng(1)
    if bias:
        layer.params["bias"][...] = rng.standard_normal(n_out)
    _check_layer_grads(layer, _x(rng, (6, n_in)))


def test_relu_gradients():
    rng = np.random.default_rng(2)
    _check_layer_grads(nn.ReLU(), _x(rng, (5, 9), away=1e-3))


@pytest.mark.parametrize(
    "n_in,n_out,pad,increasing,init",
    [
        (2, 2, False, True, "random"),
        (8, 8, False, True, "random"),
        (16, 16, False, False, "orthogonal"),
        (5, 3, True, True, "random"),
        (6, 8, True, False, "fjlt"),
        (3, 12, True, True, "hadamard"),
        (9, 16, True, False, "identity"),
    ],
)
def test_butterfly_layer_gradients(n_in, n_out, pad, increasing, init):
    layer = nn.ButterflyLayer(n_in, n_out, pad=pad, increasing=increasing, init=init, seed=4)
    rng = np.random.default_rng(5)
    # move away from structured initial values so that every twiddle's gradient is generic
    layer.params["twiddles"][...] += 0.3 * rng.standard_normal(layer.params["twiddles"].shape)
    layer.params["bias"][...] = rng.standard_normal(n_out)
    _check_layer_grads(layer, _x(rng, (4, n_in)))


@pytest.mark.parametrize(
    "n_in,n_out,l_in,l_out,pad,increasing",
    [
        (16, 8, 4, 8, False, True),
        (8, 32, 8, 2, False, False),
        (12, 7, 4, 5, True, True),
        (5, 3, None, None, True, False),
        (2, 4, 1, 3, False, True),
    ],
)
def test_replacement_gradients(n_in, n_out, l_in, l_out, pad, increasing):
    layer = nn.ButterflyReplacement(n_in, n_out, l_in=l_in, l_out=l_out, pad=pad, increasing=increasing, seed=6)
    rng = np.random.default_rng(7)
    for k in ("twiddles_in", "twiddles_out"):
        layer.params[k][...] += 0.3 * rng.standard_normal(layer.params[k].shape)
    layer.params["bias"][...] = rng.standard_normal(n_out)
    X = _x(rng, (5, n_in))
    rng2 = np.random.default_rng(8)
    Y = layer.forward(X)
    G = rng2.standard_normal(Y.shape)
    layer.backward(G)
    # twiddles that cannot reach a kept output get exactly zero gradient
    assert not np.any(layer.grads["twiddles_in"][~layer.J1().weights_used_mask])
    assert not np.any(layer.grads["twiddles_out"][~layer.J2().weights_used_mask])
    _check_layer_grads(layer, X, seed=8)


def test_sequential_gradients():
    rng = np.random.default_rng(9)
    model = nn.Sequential([
        nn.Dense(6, 8, seed=1), nn.ReLU(),
        nn.ButterflyLayer(8, 8, seed=2), nn.ReLU(),
        nn.ButterflyReplacement(8, 5, l_in=4, l_out=2, pad=True, seed=3),
        nn.Dense(5, 3, seed=4),
    ])
    X = _x(rng, (4, 6))
    Y = model.forward(X)
    G = rng.standard_normal(Y.shape)
    gX = model.backward(G)

    def f():
        return float(np.sum(G * model.forward(X, train=False)))

    assert _rel_err(_numgrad(f, X), gX) <= 1e-6
    for k, p in model.params.items():
        assert _rel_err(_numgrad(f, p), model.grads[k]) <= 1e-6, k


# ----------------------------------------------------------------------------- forward against explicit matrices


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_forward_matches_explicit(dtype):
    layer = nn.Dense(5, 4, seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    layer.params["bias"][...] = rng.standard_normal(4)
    Xbig = _x(rng, (6, 10), dtype)
    X = Xbig[:, ::2]  # non-contiguous
    W, b = layer.params["weight"].astype(np.float64), layer.params["bias"].astype(np.float64)
    ref = X.astype(np.float64) @ W.T + b
    Y = layer.forward(X)
    assert Y.dtype == dtype
    np.testing.assert_allclose(Y, ref, rtol=0, atol=1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_in,n_out,pad,increasing", [(8, 8, False, True), (5, 7, True, False), (16, 3, True, True)])
def test_butterfly_layer_forward_matches_dense(n_in, n_out, pad, increasing, dtype):
    layer = nn.ButterflyLayer(n_in, n_out, pad=pad, increasing=increasing, seed=1, dtype=dtype)
    rng = np.random.default_rng(1)
    layer.params["bias"][...] = rng.standard_normal(n_out)
    B = Butterfly(layer.params["twiddles"].astype(np.float64), increasing=increasing).todense()
    X = np.asfortranarray(_x(rng, (7, n_in), dtype))
    ref = X.astype(np.float64) @ B[:n_out, :n_in].T + layer.params["bias"]
    np.testing.assert_allclose(layer.forward(X), ref, rtol=0, atol=1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "n_in,n_out,l_in,l_out,pad,increasing",
    [(16, 8, 4, 8, False, True), (32, 64, 8, 16, False, False), (12, 7, 4, 5, True, True), (100, 10, 16, 4, True, False)],
)
def test_replacement_forward_matches_dense_product(n_in, n_out, l_in, l_out, pad, increasing, dtype):
    layer = nn.ButterflyReplacement(n_in, n_out, l_in=l_in, l_out=l_out, pad=pad, increasing=increasing, seed=2, dtype=dtype)
    rng = np.random.default_rng(2)
    for k in ("twiddles_in", "twiddles_out"):  # generic (trained-looking) values
        layer.params[k][...] += 0.2 * rng.standard_normal(layer.params[k].shape)
    layer.params["bias"][...] = rng.standard_normal(n_out)
    p = {k: v.astype(np.float64) for k, v in layer.params.items()}
    J1 = TruncatedButterfly(Butterfly(p["twiddles_in"], increasing=increasing), layer.keep_in).todense()
    J2 = TruncatedButterfly(Butterfly(p["twiddles_out"], increasing=increasing), layer.keep_out).todense()
    assert J1.shape == (l_in, layer.n_in_padded) and J2.shape == (l_out, layer.n_out_padded)
    M = (J2.T @ p["core"] @ J1)[:n_out, :n_in]
    X = _x(rng, (9, n_in), dtype)
    ref = X.astype(np.float64) @ M.T + p["bias"]
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(layer.forward(X), ref, rtol=0, atol=tol * np.abs(ref).max())
    np.testing.assert_allclose(layer.todense(), M, rtol=0, atol=1e-12 * np.abs(M).max())


def test_replacement_initialised_as_fjlt():
    layer = nn.ButterflyReplacement(64, 32, l_in=8, l_out=4, seed=3)
    for J, n in ((layer.J1(), 64), (layer.J2(), 32)):
        D = J.butterfly.todense()
        np.testing.assert_allclose(D @ D.T, np.eye(n), atol=1e-12)  # orthogonal H D / sqrt n
        np.testing.assert_allclose(np.abs(D), 1 / math.sqrt(n), atol=1e-12)
        assert np.all(np.diff(J.keep) > 0)


def _mean_square_gain(make, n_in, seeds, batch=512):
    ratios = []
    for s in seeds:
        layer = make(s)
        X = np.random.default_rng(1000 + s).standard_normal((batch, n_in))
        ratios.append(np.mean(layer.forward(X, train=False) ** 2) / np.mean(X**2))
    return float(np.mean(ratios))


@pytest.mark.parametrize("init,n_in,n_out,pad", [("he", 256, 256, False), ("glorot", 128, 512, False), ("he", 200, 100, True)])
def test_replacement_scale_matches_dense(init, n_in, n_out, pad):
    """At init the output mean square is gain^2 times the input's, as for a Dense layer of the same shape."""
    seeds = range(20)
    g_rep = _mean_square_gain(lambda s: nn.ButterflyReplacement(n_in, n_out, init=init, pad=pad, seed=s), n_in, seeds)
    g_den = _mean_square_gain(lambda s: nn.Dense(n_in, n_out, init=init, seed=s), n_in, seeds)
    expected = 2.0 if init == "he" else 2.0 * n_in / (n_in + n_out)
    # over 20 seeds the standard error of the mean ratio is about 1.1% (replacement) and 0.2% (dense),
    # measured; 6% is more than 5 standard errors
    assert abs(g_den / expected - 1) < 0.06, g_den
    assert abs(g_rep / expected - 1) < 0.06, g_rep


# ----------------------------------------------------------------------------- weight counts


@pytest.mark.parametrize("n_in,n_out,l_in,l_out,pad", [(64, 32, 8, 4, False), (1024, 1024, None, None, False), (20, 9, 16, 2, True)])
def test_replacement_weight_counts(n_in, n_out, l_in, l_out, pad):
    layer = nn.ButterflyReplacement(n_in, n_out, l_in=l_in, l_out=l_out, pad=pad, seed=5)
    Nin, Nout = layer.n_in_padded, layer.n_out_padded
    stored = 2 * Nin * int(math.log2(Nin)) + 2 * Nout * int(math.log2(Nout)) + layer.l_in * layer.l_out + n_out
    assert layer.n_params == stored
    used = (layer.J1().n_weights_used + layer.J2().n_weights_used + layer.l_in * layer.l_out + n_out)
    assert layer.n_weights_used == used
    assert layer.n_weights_used < layer.n_params
    if n_in == 1024:
        assert (layer.l_in, layer.l_out) == (64, 64)
        assert nn.Dense(1024, 1024).n_params >= 10 * layer.n_params


def test_replacement_full_l_uses_every_weight():
    layer = nn.ButterflyReplacement(16, 8, l_in=16, l_out=8, seed=0)
    assert layer.n_weights_used == layer.n_params


def test_default_l():
    assert [nn.default_l(n) for n in (2, 4, 8, 64, 256, 1024, 4096)] == [2, 4, 8, 16, 32, 64, 128]


# ----------------------------------------------------------------------------- losses


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 5)) * 3
    y = rng.integers(0, 5, size=6)
    loss, grad = nn.softmax_cross_entropy(logits, y)
    ref = np.mean(logsumexp(logits, axis=1) - logits[np.arange(6), y])
    assert abs(loss - ref) <= 1e-14 * max(1, abs(ref)) * 10
    num = _numgrad(lambda: nn.softmax_cross_entropy(logits, y)[0], logits)
    assert _rel_err(num, grad) <= 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_is_stable(dtype):
    logits = np.array([[1e4, 0.0, -1e4], [-5e3, 5e3, 5e3]], dtype=dtype)
    loss, grad = nn.softmax_cross_entropy(logits, np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad)) and grad.dtype == dtype
    assert abs(loss - math.log(2) / 2) <= 1e-6
    np.testing.assert_allclose(grad, [[0, 0, 0], [0, -0.25, 0.25]], atol=1e-7)


def test_squared_loss_value_and_gradient():
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    loss, grad = nn.squared_loss(pred, target)
    assert abs(loss - 0.5 * np.sum((pred - target) ** 2) / 7) <= 1e-14
    num = _numgrad(lambda: nn.squared_loss(pred, target)[0], pred)
    assert _rel_err(num, grad) <= 1e-6


# ----------------------------------------------------------------------------- optimizers


def _pg():
    p = {"w": np.array([1.0, -2.0, 0.5]), "b": np.array([[3.0]])}
    g = {"w": np.array([0.5, 1.0, -4.0]), "b": np.array([[-1.0]])}
    return p, g


def test_sgd_plain_and_weight_decay():
    p, g = _pg()
    nn.SGD(0.1).step(p, g)
    np.testing.assert_allclose(p["w"], [0.95, -2.1, 0.9], rtol=1e-15)
    np.testing.assert_allclose(p["b"], [[3.1]], rtol=1e-15)
    p, g = _pg()
    nn.SGD(0.1, weight_decay=0.01).step(p, g)
    np.testing.assert_allclose(p["w"], [1 - 0.1 * 0.51, -2 - 0.1 * 0.98, 0.5 - 0.1 * (-3.995)], rtol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_two_steps(nesterov):
    p, g = _pg()
    opt = nn.SGD(0.1, momentum=0.9, nesterov=nesterov)
    w0, gw = p["w"].copy(), g["w"].copy()
    opt.step(p, g)
    opt.step(p, g)
    v1 = gw
    v2 = 0.9 * v1 + gw
    if nesterov:
        expected = w0 - 0.1 * (gw + 0.9 * v1) - 0.1 * (gw + 0.9 * v2)
    else:
        expected = w0 - 0.1 * v1 - 0.1 * v2
    np.testing.assert_allclose(p["w"], expected, rtol=1e-14)


def test_adam_two_steps_by_hand():
    p, g = _pg()
    opt = nn.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-3)
    w0, gw = p["w"].copy(), g["w"].copy()
    opt.step(p, g)
    # step 1: m = 0.2 g, v = 0.01 g^2, mhat = g, vhat = g^2
    w1 = w0 - 0.01 * gw / (np.abs(gw) + 1e-3)
    np.testing.assert_allclose(p["w"], w1, rtol=1e-14)
    g2 = {"w": -2 * gw, "b": np.array([[0.0]])}
    opt.step(p, g2)
    m = 0.8 * 0.2 * gw + 0.2 * (-2 * gw)
    v = 0.99 * 0.01 * gw**2 + 0.01 * 4 * gw**2
    w2 = w1 - 0.01 * (m / (1 - 0.8**2)) / (np.sqrt(v / (1 - 0.99**2)) + 1e-3)
    np.testing.assert_allclose(p["w"], w2, rtol=1e-14)
    assert opt.state["w"]["t"] == 2


def test_adam_weight_decay_and_float32_in_place():
    p = {"w": np.array([2.0, -1.0], dtype=np.float32)}
    ref = p["w"]
    nn.Adam(lr=0.1, weight_decay=0.5).step(p, {"w": np.array([0.0, 0.0], dtype=np.float32)})
    assert p["w"] is ref and p["w"].dtype == np.float32
    # g = 0.5 * w; first step moves each weight by lr * sign(g) (up to eps)
    np.testing.assert_allclose(p["w"], [1.9, -0.9], rtol=1e-6)


# ----------------------------------------------------------------------------- training


def _blobs(seed=0, n=240, d=16, k=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d)) * 2
    y = rng.integers(0, k, size=n)
    X = centers[y] + rng.standard_normal((n, d))
    return X.astype(dtype), y


def _mlp(dtype=np.float64, seed=0):
    return nn.Sequential([
        nn.Dense(16, 32, seed=seed, dtype=dtype), nn.ReLU(),
        nn.ButterflyReplacement(32, 32, l_in=8, l_out=8, seed=seed + 1, dtype=dtype), nn.ReLU(),
        nn.ButterflyLayer(32, 32, seed=seed + 2, dtype=dtype), nn.ReLU(),
        nn.Dense(32, 3, seed=seed + 3, dtype=dtype),
    ])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_reduces_loss_and_is_deterministic(dtype):
    Xall, yall = _blobs(n=330, dtype=dtype)
    X, y, Xv, yv = Xall[:240], yall[:240], Xall[240:], yall[240:]
    runs = []
    for _ in range(2):
        model = _mlp(dtype)
        loss0, _ = nn.evaluate(model, X, y)
        hist = nn.fit(model, X, y, optimizer=nn.Adam(3e-3), epochs=6, batch_size=32, seed=7, X_val=Xv, y_val=yv)
        runs.append((hist, {k: v.copy() for k, v in model.params.items()}))
    hist, params = runs[0]
    assert hist.steps_per_epoch == 8
    assert len(hist.train_loss) == len(hist.val_loss) == len(hist.val_accuracy) == len(hist.epoch_seconds) == 6
    assert hist.train_loss[-1] < 0.5 * loss0 and hist.val_loss[-1] < 0.5 * loss0
    assert hist.val_accuracy[-1] >= 0.9
    assert all(t > 0 for t in hist.epoch_seconds)
    assert hist.train_loss == runs[1][0].train_loss and hist.val_loss == runs[1][0].val_loss
    for k in params:
        np.testing.assert_array_equal(params[k], runs[1][1][k])
    assert nn.accuracy(model, Xv, yv) == hist.val_accuracy[-1]


def test_fit_seed_changes_order():
    X, y = _blobs()
    h1 = nn.fit(_mlp(), X, y, optimizer=nn.SGD(0.01), epochs=1, batch_size=16, seed=1, progress=False)
    h2 = nn.fit(_mlp(), X, y, optimizer=nn.SGD(0.01), epochs=1, batch_size=16, seed=2, progress=False)
    assert h1.train_loss != h2.train_loss


def test_fit_squared_loss_regression():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 8))
    T = X @ rng.standard_normal((8, 4)) * 0.5
    model = nn.Sequential([nn.ButterflyReplacement(8, 4, l_in=8, l_out=4, seed=0)])
    hist = nn.fit(model, X, T, loss="squared", optimizer=nn.SGD(0.05, momentum=0.9), epochs=30, batch_size=20, seed=0)
    assert hist.train_accuracy == [] and hist.val_accuracy == []
    assert hist.train_loss[-1] < 0.05 * hist.train_loss[0]


def test_predict_batched_equals_unbatched_and_non_contiguous():
    model = _mlp()
    X, _ = _blobs(n=50)
    Xf = np.asfortranarray(X)
    full = model.predict(X, batch_size=None)
    np.testing.assert_allclose(nn.predict(model, Xf, batch_size=7), full, rtol=1e-13, atol=1e-13)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: nn.ButterflyLayer(6, 6), r"n_in=6 is not a power of two.*pad=True.*n=8"),
        (lambda: nn.ButterflyLayer(8, 16), r"n_in=8 != n_out=16.*pad=True.*n=16"),
        (lambda: nn.ButterflyLayer(8, 5), r"n_out=5 is not a power of two.*pad=True"),
        (lambda: nn.ButterflyReplacement(12, 8), r"n_in=12 is not a power of two.*pad=True.*16"),
        (lambda: nn.ButterflyReplacement(8, 1), r"n_out=1 is not a power of two >= 2"),
        (lambda: nn.ButterflyReplacement(16, 8, l_in=32), r"l_in=32 > n_in=16"),
        (lambda: nn.ButterflyReplacement(16, 8, l_out=9), r"l_out=9 > n_out=8"),
        (lambda: nn.ButterflyReplacement(5, 3, l_out=5, pad=True), r"l_out=5 > n_out=3 padded to 4"),
        (lambda: nn.ButterflyReplacement(16, 8, l_in=0), r"l_in must be >= 1"),
        (lambda: nn.ButterflyLayer(8, 8, init="gaussian"), r"init must be one of"),
        (lambda: nn.ButterflyLayer(8, 8, gain=-1.0), r"gain must be a finite positive"),
        (lambda: nn.Dense(0, 3), r"n_in must be >= 1"),
        (lambda: nn.Dense(3, 3, init="xavier"), r"init must be one of"),
    ],
)
def test_bad_layer_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_dtypes():
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64"):
        nn.Dense(3, 3, dtype=np.int64)
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64"):
        nn.ButterflyLayer(4, 4, dtype=np.complex128)
    with pytest.raises(TypeError, match=r"layer 2 .* has dtype float32, but layer 0 has dtype float64"):
        nn.Sequential([nn.Dense(4, 8), nn.ReLU(), nn.ButterflyLayer(8, 8, dtype=np.float32)])
    layer = nn.Dense(4, 2)
    with pytest.raises(TypeError, match=r"X has dtype float32 but the layer has dtype float64"):
        layer.forward(np.zeros((3, 4), dtype=np.float32))
    model = nn.Sequential([nn.Dense(4, 2)])
    with pytest.raises(TypeError, match=r"X has dtype float32 but the model has dtype float64"):
        nn.fit(model, np.zeros((3, 4), dtype=np.float32), np.zeros(3, dtype=int), epochs=1)
    with pytest.raises(TypeError, match=r"X has dtype int64"):
        nn.fit(model, np.zeros((3, 4), dtype=np.int64), np.zeros(3, dtype=int), epochs=1)
    with pytest.raises(TypeError, match=r"target has dtype float32 but pred has dtype float64"):
        nn.squared_loss(np.zeros((2, 2)), np.zeros((2, 2), dtype=np.float32))


def test_bad_sequential_sizes():
    with pytest.raises(ValueError, match=r"layer 2 \(Dense\(32, 4.*in_features=32, but layer 0 \(Dense\(8, 16.*out_features=16"):
        nn.Sequential([nn.Dense(8, 16), nn.ReLU(), nn.Dense(32, 4)])
    with pytest.raises(ValueError, match=r"layer 1 \(ButterflyLayer.*in_features=8, but layer 0 .*out_features=4"):
        nn.Sequential([nn.Dense(2, 4), nn.ButterflyLayer(8, 8)])
    with pytest.raises(ValueError, match=r"at least one layer"):
        nn.Sequential([])
    with pytest.raises(ValueError, match=r"fixed sizes"):
        nn.Sequential([nn.ReLU()])
    with pytest.raises(TypeError, match=r"layer 1 must be a numerics.nn.Layer"):
        nn.Sequential([nn.Dense(2, 2), np.eye(2)])


def test_bad_shapes_and_call_order():
    model = nn.Sequential([nn.Dense(4, 3)])
    with pytest.raises(ValueError, match=r"X has shape \(5, 6\); expected \(n_samples, 4\)"):
        model.forward(np.zeros((5, 6)))
    with pytest.raises(ValueError, match=r"X has shape \(4,\)"):
        model.predict(np.zeros(4))
    with pytest.raises(RuntimeError, match=r"backward called without a preceding forward"):
        nn.Dense(4, 3).backward(np.zeros((2, 3)))
    layer = nn.ButterflyLayer(4, 4)
    layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"grad_out has shape \(3, 4\); expected \(2, 4\)"):
        layer.backward(np.zeros((3, 4)))
    layer.forward(np.zeros((2, 4)), train=False)  # evaluation mode forgets the cache
    with pytest.raises(RuntimeError, match=r"without a preceding forward"):
        layer.backward(np.zeros((2, 4)))


def test_bad_labels_and_targets():
    X = np.zeros((4, 3))
    model = nn.Sequential([nn.Dense(3, 5)])
    with pytest.raises(ValueError, match=r"y contains label 5; expected labels 0 <= y < n_classes=5"):
        nn.fit(model, X, np.array([0, 1, 5, 2]), epochs=1)
    with pytest.raises(ValueError, match=r"y contains label -1"):
        nn.fit(model, X, np.array([0, -1, 1, 2]), epochs=1)
    with pytest.raises(TypeError, match=r"y has dtype float64; expected integer class labels"):
        nn.fit(model, X, np.array([0.0, 1.0, 1.0, 2.0]), epochs=1)
    with pytest.raises(ValueError, match=r"y has shape \(3,\); expected \(4,\)"):
        nn.fit(model, X, np.array([0, 1, 2]), epochs=1)
    with pytest.raises(ValueError, match=r"y_val contains label 7"):
        nn.fit(model, X, np.array([0, 1, 2, 3]), X_val=X, y_val=np.array([0, 7, 1, 1]), epochs=1)
    with pytest.raises(ValueError, match=r"both X_val and y_val"):
        nn.fit(model, X, np.array([0, 1, 2, 3]), X_val=X, epochs=1)
    with pytest.raises(ValueError, match=r"y has shape \(4, 2\); expected \(4, 5\)"):
        nn.fit(model, X, np.zeros((4, 2)), loss="squared", epochs=1)
    with pytest.raises(ValueError, match=r"loss must be one of"):
        nn.fit(model, X, np.array([0, 1, 2, 3]), loss="hinge", epochs=1)
    with pytest.raises(ValueError, match=r"y contains label 3; expected labels 0 <= y < n_classes=3"):
        nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at index \(1, 2\)\)"):
        Xn = X.copy()
        Xn[1, 2] = np.nan
        nn.fit(model, Xn, np.array([0, 1, 2, 3]), epochs=1)
    with pytest.raises(ValueError, match=r"epochs must be >= 1"):
        nn.fit(model, X, np.array([0, 1, 2, 3]), epochs=0)
    with pytest.raises(TypeError, match=r"optimizer must have a step"):
        nn.fit(model, X, np.array([0, 1, 2, 3]), optimizer="adam")


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: nn.SGD(0.0), ValueError, r"lr must lie in \(0.0, inf\]"),
        (lambda: nn.SGD(0.1, momentum=1.0), ValueError, r"momentum must lie in \[0.0, 1.0\)"),
        (lambda: nn.SGD(0.1, nesterov=True), ValueError, r"nesterov=True needs momentum > 0"),
        (lambda: nn.SGD(0.1, weight_decay=-1), ValueError, r"weight_decay must lie in"),
        (lambda: nn.Adam(betas=(0.9, 1.0)), ValueError, r"betas\[1\] must lie in"),
        (lambda: nn.Adam(eps=0), ValueError, r"eps must lie in"),
        (lambda: nn.Adam(lr=float("nan")), ValueError, r"lr must lie in"),
        (lambda: nn.Adam(betas=0.9), TypeError, r"betas must be a pair"),
    ],
)
def test_bad_optimizer_settings(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_optimizer_state_shape_mismatch():
    opt = nn.SGD(0.1, momentum=0.5)
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match=r"parameter 'w' has shape \(4,\).*state for it has shape \(3,\)"):
        opt.step({"w": np.zeros(4)}, {"w": np.ones(4)})


class _PoisonAfter(nn.SGD):
    """SGD that writes ``value`` into one parameter after its ``at``-th step."""

    def __init__(self, lr, at, key, value):
        super().__init__(lr)
        self.at, self.key, self.value, self.count = at, key, value, 0

    def step(self, params, grads):
        super().step(params, grads)
        self.count += 1
        if self.count == self.at:
            params[self.key].reshape(-1)[3] = self.value


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nonfinite_weight_stops_training(value):
    X, y = _blobs(n=40)
    model = _mlp()
    opt = _PoisonAfter(0.01, at=6, key="2.twiddles_in", value=value)  # 4 steps per epoch -> epoch 2, step 2
    with pytest.raises(FloatingPointError, match=r"parameter '2.twiddles_in' contains NaN or inf .*epoch 2, step 2 \(of 4\)"):
        nn.fit(model, X, y, optimizer=opt, epochs=3, batch_size=10, seed=0)


class _NaNOutput(nn.ReLU):
    """A ReLU whose ``at``-th training forward outputs NaN in one row."""

    def __init__(self, at):
        super().__init__()
        self.at, self.count = at, 0

    def forward(self, X, *, train=True):
        Y = super().forward(X, train=train)
        if train:
            self.count += 1
            if self.count == self.at:
                Y[1] = np.nan
        return Y


def test_nonfinite_loss_stops_training():
    X, y = _blobs(n=40)
    model = nn.Sequential(_mlp().layers + [_NaNOutput(at=7)])  # epoch 2, step 3
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 2, step 3 \(of 4\)"):
        nn.fit(model, X, y, optimizer=nn.SGD(0.01), epochs=3, batch_size=10, seed=0)


def test_divergence_is_caught():
    """A huge learning rate makes the weights overflow; training stops with a FloatingPointError, not garbage."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)) * 1e3
    T = rng.standard_normal((64, 2)) * 1e3
    model = nn.Sequential([nn.Dense(4, 2, seed=0)])
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match=r"epoch \d+, step \d+"):
        nn.fit(model, X, T, loss="squared", optimizer=nn.SGD(1e3), epochs=50, batch_size=8, seed=0)


# ----------------------------------------------------------------------------- optimizer kernels vs NumPy reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [5, 70_000])
def test_optimizer_kernels_match_reference(dtype, size):
    from numerics.nn._reference import adam_step_reference, sgd_step_reference

    rng = np.random.default_rng(size)
    p0 = rng.standard_normal((size,)).astype(dtype)
    grads = [rng.standard_normal((size,)).astype(dtype) for _ in range(3)]
    tol = 1e-5 if dtype == np.float32 else 1e-13
    # Adam
    p, pr = {"w": p0.copy()}, p0.copy()
    m, v = np.zeros_like(p0), np.zeros_like(p0)
    opt = nn.Adam(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    for t, g in enumerate(grads, start=1):
        opt.step(p, {"w": g})
        adam_step_reference(pr, g, m, v, t, 0.01, 0.8, 0.95, 1e-6, 0.1)
    assert p["w"].dtype == dtype
    np.testing.assert_allclose(p["w"], pr, rtol=tol, atol=tol)
    # SGD with (Nesterov) momentum
    for nesterov in (False, True):
        p, pr, vel = {"w": p0.copy()}, p0.copy(), np.zeros_like(p0)
        opt = nn.SGD(0.05, momentum=0.7, nesterov=nesterov, weight_decay=0.01)
        for g in grads:
            opt.step(p, {"w": g})
            sgd_step_reference(pr, g, vel, 0.05, 0.7, 0.01, nesterov)
        np.testing.assert_allclose(p["w"], pr, rtol=tol, atol=tol)


def test_nonfinite_activation_reaching_a_butterfly_stops_training():
    X, y = _blobs(n=40)
    layers = _mlp().layers
    model = nn.Sequential(layers[:1] + [_NaNOutput(at=5)] + layers[2:])  # NaN enters the butterfly layers
    with pytest.raises(FloatingPointError, match=r"NaN or inf in the forward pass at epoch 2, step 1 \(of 4\)"):
        nn.fit(model, X, y, optimizer=nn.SGD(0.01), epochs=3, batch_size=10, seed=0)


def test_model_counts_and_gain():
    rep = nn.ButterflyReplacement(64, 64, l_in=8, l_out=8, seed=0)
    model = nn.Sequential([nn.Dense(10, 64), nn.ReLU(), rep, nn.ReLU(), nn.ButterflyLayer(64, 64), nn.Dense(64, 3)])
    assert model.n_params == (10 * 64 + 64) + rep.n_params + (2 * 64 * 6 + 64) + (64 * 3 + 3)
    assert model.n_params == sum(p.size for p in model.params.values())
    assert model.n_weights_used == model.n_params - rep.n_params + rep.n_weights_used
    layer = nn.ButterflyLayer(8, 8, init="hadamard", gain=2.0, increasing=False, bias=False)
    from scipy.linalg import hadamard

    B = Butterfly(layer.params["twiddles"], increasing=False).todense()
    np.testing.assert_allclose(B, 2 * hadamard(8) / math.sqrt(8), atol=1e-14)
