import math

import numpy as np
import pytest
from scipy import integrate, stats
from threadpoolctl import threadpool_limits

from numerics.wide import (
    ALPHA,
    OMEGA,
    DenseTrainer,
    FastTrainer,
    WideNet,
    default_bias,
    densify_period,
    digits_task,
    expected_active,
    mm_table,
    omega_rect,
    phibar,
    predicted_counts,
    second_moment,
    shifted_relu,
    teacher_student_task,
    train,
)
from numerics.wide import _kernels as K
from numerics.wide import _reference as R
from numerics.wide.fast import active_csr


def _sparse(rng, shape, p, dtype=np.float64):
    return np.where(rng.random(shape) < p, rng.random(shape) + 0.1, 0).astype(dtype)


def _factors(rng, m_out, m_in, ncol, p, dtype=np.float64):
    U = _sparse(rng, (ncol, m_out), p, dtype)
    V = _sparse(rng, (ncol, m_in), p, dtype)
    u_ptr, u_idx = active_csr(U != 0)
    v_ptr, v_idx = active_csr(V != 0)
    return (u_ptr, u_idx, U[U != 0], v_ptr, v_idx, V[V != 0], ncol), U.T.copy(), V.T.copy()


# ---------------------------------------------------------------- model
def test_gaussian_formulas_against_scipy():
    for b in (0.0, 0.7, 1.9):
        assert phibar(b) == pytest.approx(stats.norm.sf(b), rel=1e-12)
        q = integrate.quad(lambda z: (z - b) ** 2 * stats.norm.pdf(z), b, np.inf)[0]
        assert second_moment(b) == pytest.approx(q, rel=1e-9)
    for m in (16, 512, 2**14, 2**20):
        b = default_bias(m)
        assert b == pytest.approx(math.sqrt(0.4 * math.log(m)))
        assert expected_active(m, b) <= m**0.8


def test_shifted_relu():
    z = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(shifted_relu(z, 0.5), [0.0, 0.0, 1.5])
    assert shifted_relu(z.astype(np.float32), 1).dtype == np.float32


def test_init_statistics_and_active_counts():
    net = WideNet.init(2048, depth=2, d_in=32, d_out=3, seed=1)
    assert net.Wt[0].std() == pytest.approx(1 / math.sqrt(2048 * second_moment(net.b)), rel=0.01)
    X, _ = teacher_student_task(200, d=32, seed=2)
    counts = net.active_counts(X)
    assert counts.shape == (200, 3)
    assert counts[:, 0].mean() == pytest.approx(expected_active(2048, net.b), rel=0.1)


# ---------------------------------------------------------------- kernels vs NumPy
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_reference(dtype):
    rng = np.random.default_rng(0)
    B, m_in, m_out = 7, 300, 260
    tol = 1e-4 if dtype == np.float32 else 1e-12
    H = _sparse(rng, (B, m_in), 0.1, dtype)
    Wt = rng.standard_normal((m_in, m_out)).astype(dtype)
    Z = np.zeros((B, m_out), dtype=dtype)
    ops = K.sparse_forward(H, Wt, Z, block=64)
    ref, ref_ops = R.sparse_forward_ref(H, Wt)
    np.testing.assert_allclose(Z, ref, rtol=tol, atol=tol)
    assert ops == ref_ops
    D = _sparse(rng, (B, m_out), 0.1, dtype)
    in_mask = rng.random((B, m_in)) < 0.2
    o_ptr, o_idx = active_csr(D != 0)
    i_ptr, i_idx = active_csr(in_mask)
    G = np.zeros((B, m_in), dtype=dtype)
    ops = K.sparse_backward(D, Wt, o_ptr, o_idx, i_ptr, i_idx, G)
    ref, ref_ops = R.sparse_backward_ref(D, Wt, in_mask)
    np.testing.assert_allclose(G, ref, rtol=tol, atol=tol)
    assert ops == ref_ops
    fac, U, V = _factors(rng, m_out, m_in, 5, 0.1, dtype)
    nnz = int(np.count_nonzero(U) + np.count_nonzero(V))
    Z = np.zeros((B, m_out), dtype=dtype)
    assert K.lowrank_forward(H, fac, Z) == B * nnz
    np.testing.assert_allclose(Z, R.lowrank_forward_ref(H, U, V), rtol=tol, atol=tol)
    G = np.zeros((B, m_in), dtype=dtype)
    assert K.lowrank_backward(D, fac, G) == B * nnz
    np.testing.assert_allclose(G, R.lowrank_backward_ref(D, U, V), rtol=tol, atol=tol)
    W2 = Wt.copy()
    ops = K.densify(W2, fac, nblocks=3)
    np.testing.assert_allclose(W2, R.densify_ref(Wt, U, V), rtol=tol, atol=tol)
    assert ops == int(np.sum(np.count_nonzero(U, axis=0) * np.count_nonzero(V, axis=0)))


def test_sparse_forward_non_contiguous_input():
    rng = np.random.default_rng(1)
    big = _sparse(rng, (10, 400), 0.1)
    H = big[::2, ::2]
    Wt = rng.standard_normal((200, 90))
    Z = np.zeros((5, 90))
    K.sparse_forward(H, Wt, Z)
    np.testing.assert_allclose(Z, H @ Wt, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- trainers
def test_dense_gradient_against_finite_differences():
    rng = np.random.default_rng(3)
    net = WideNet.init(24, depth=2, d_in=5, d_out=2, b=0.3, seed=4)
    X = rng.standard_normal((6, 5))
    Y = rng.standard_normal((6, 2))
    lr = 1e-3
    tr = DenseTrainer(net, lr=lr)
    tr.step(X, Y)
    for layer in (1, 2):
        grad = (net.weight(layer) - tr.weight(layer)) / lr
        for _ in range(6):
            j, k = rng.integers(0, 24, size=2)
            h = 1e-6
            up, dn = net.copy(), net.copy()
            up.Wt[layer - 1][k, j] += h
            dn.Wt[layer - 1][k, j] -= h
            fd = (up.loss(X, Y) - dn.loss(X, Y)) / (2 * h)
            assert grad[j, k] == pytest.approx(fd, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("T", [1, 3])
def test_fast_equals_dense_over_50_steps(T):
    X, Y = digits_task(48, seed=0)
    net = WideNet.init(256, depth=3, d_in=64, d_out=10, seed=5)
    lr = 0.03 / expected_active(256, net.b)
    d, f = DenseTrainer(net, lr=lr), FastTrainer(net, lr=lr, densify_every=T)
    with threadpool_limits(1):
        hd = train(d, X, Y, steps=50, batch_size=16, seed=1)
        hf = train(f, X, Y, steps=50, batch_size=16, seed=1)
    np.testing.assert_allclose(hf.losses, hd.losses, rtol=1e-9)
    for layer in (1, 2, 3):
        Wd = d.weight(layer)
        assert np.linalg.norm(f.weight(layer) - Wd) / np.linalg.norm(Wd) < 1e-9
    assert hd.losses[-5:].mean() < hd.losses[:5].mean()
    assert f.rank == 16 * (50 % T)
    assert all(c["densify"] > 0 for c in f.counts[T - 1::T])
    # counted work is far below the dense count, and the dense count is exact
    assert hf.total_counts().mean() < 0.3 * hd.total_counts().mean()
    assert d.counts[0]["forward"] == 3 * 16 * 256 * 256


def test_float32_trainers_agree_for_a_few_steps():
    X, Y = teacher_student_task(32, d=8, seed=0, dtype=np.float32)
    net = WideNet.init(128, depth=2, d_in=8, d_out=1, seed=6, dtype=np.float32)
    d, f = DenseTrainer(net, lr=0.01), FastTrainer(net, lr=0.01, densify_every=2)
    hd, hf = train(d, X, Y, steps=5, seed=0), train(f, X, Y, steps=5, seed=0)
    np.testing.assert_allclose(hf.losses, hd.losses, rtol=1e-4)
    assert d.net.Wt[0].dtype == np.float32 and f.weight(1).dtype == np.float32


def test_non_contiguous_data_gives_same_iterates():
    X, Y = digits_task(16, seed=0)
    Xf, Yf = np.asfortranarray(X), np.asfortranarray(Y)
    net = WideNet.init(128, depth=2, d_in=64, d_out=10, seed=7)
    a, b = FastTrainer(net, lr=0.01), FastTrainer(net, lr=0.01)
    la = [a.step(X, Y) for _ in range(3)]
    lb = [b.step(Xf[:, :], Yf) for _ in range(3)]
    np.testing.assert_allclose(la, lb, rtol=1e-12)


def test_fast_counts_match_model_at_init():
    X, Y = digits_task(64, seed=0)
    m = 2048
    net = WideNet.init(m, depth=2, d_in=64, d_out=10, seed=8)
    f = FastTrainer(net, lr=1e-6, densify_every=1)
    train(f, X, Y, steps=4, batch_size=16, seed=0)
    measured = np.mean([c["forward"] for c in f.counts])
    s_obs = f.active.mean(axis=0)
    pred = predicted_counts(m, batch=16, s_in=s_obs[0], s=s_obs[1:].mean())["forward"]
    assert measured == pytest.approx(pred, rel=0.1)


# ---------------------------------------------------------------- cost model / table
def test_fastmm_exponents_and_schedule():
    assert omega_rect(0.0) == omega_rect(ALPHA) == 2.0
    assert omega_rect(1.0) == pytest.approx(OMEGA)
    assert omega_rect(2.0) == pytest.approx(OMEGA + 1)
    a = np.linspace(0, 1, 101)
    w = np.array([omega_rect(x) for x in a])
    assert np.all(np.diff(w) >= 0) and np.all(np.diff(w, 2) >= -1e-12)  # non-decreasing, convex
    row = [r for r in mm_table() if r["a"] == ALPHA][0]
    assert row["densify_fastmm"] == pytest.approx(2 - ALPHA)
    assert densify_period(2**14, 16) == 1 and densify_period(2**20, 16) == 4
    assert densify_period(2**20, 4, schedule="sparse") == 1


# ---------------------------------------------------------------- bad input
def test_bad_inputs():
    with pytest.raises(ValueError, match="b must be a finite threshold >= 0"):
        WideNet.init(64, d_in=3, d_out=1, b=-0.5)
    with pytest.raises(ValueError, match="m must be >= 1"):
        WideNet.init(0, d_in=3, d_out=1)
    with pytest.raises(ValueError, match="m must be >= 1"):
        expected_active(-4, 1.0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        WideNet.init(8, d_in=3, d_out=1, dtype=np.int64)
    net = WideNet.init(32, d_in=4, d_out=2, seed=0)
    tr = FastTrainer(net, lr=0.1)
    with pytest.raises(ValueError, match="X has 5 features but the network expects d_in=4"):
        tr.step(np.zeros((3, 5)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"Y has shape \(3, 3\); expected"):
        DenseTrainer(net, lr=0.1).step(np.ones((3, 4)), np.zeros((3, 3)))
    with pytest.raises(TypeError, match="X has dtype float32"):
        tr.step(np.ones((3, 4), dtype=np.float32), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="lr must be a finite step size > 0"):
        FastTrainer(net, lr=-1.0)
    with pytest.raises(ValueError, match="densify_every must be >= 1"):
        FastTrainer(net, lr=0.1, densify_every=0)


def test_memory_error_before_allocating():
    with pytest.raises(MemoryError, match=r"width-1048576 network .* needs 1.64e\+04 GiB but only"):
        WideNet.init(2**20, depth=2, d_in=4, d_out=1)
    net = WideNet.init(256, d_in=4, d_out=1, seed=0)
    X = np.ones((1000, 4))
    with pytest.raises(MemoryError, match="forward pass of 1000 samples at width m=256 needs"):
        net.forward(X, memory_limit=10**6)
    tr = DenseTrainer(net, lr=0.1, memory_limit=10**5)
    with pytest.raises(MemoryError, match="training step on 1000 samples"):
        tr.step(X, np.zeros((1000, 1)))


@pytest.mark.parametrize("cls", [DenseTrainer, FastTrainer])
def test_nan_loss_stops_with_step(cls):
    X, Y = teacher_student_task(16, d=4, seed=0)
    net = WideNet.init(64, d_in=4, d_out=1, b=0.0, seed=0)
    tr = cls(net, lr=1e200)
    with pytest.raises(FloatingPointError, match=r"training loss is (nan|inf) at step [1-9]"):
        with np.errstate(all="ignore"):
            train(tr, X, Y, steps=10, seed=0)
