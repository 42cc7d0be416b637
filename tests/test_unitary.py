"""Tests of numerics.unitary: parametrisations, projection, unitary networks (claims: tests/test_claims.py)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sla

from numerics.unitary import (KINDS, Cayley, DeepNet, ExpMap, Householder, ReachabilityWarning, UnitaryButterfly,
                              epochs_to, haar, maxmin, nearest_rotation, optimal_value, parametrisation, polar_factor,
                              project, skew_from_params, skew_to_params, train)

FIELDS = (False, True)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The matrices here are tiny: multithreaded BLAS only adds contention on the shared cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _W(n, cx, seed, lo=0.5, hi=2.0):
    rng = np.random.default_rng(seed)
    s = rng.uniform(lo, hi, n)
    return (haar(n, complex=cx, seed=rng) * s) @ haar(n, complex=cx, seed=rng)


def _fd(f, th, h=1e-4):
    g = np.empty_like(th)
    for i in range(th.size):
        e = np.zeros_like(th)
        e[i] = h
        g[i] = (f(th + e) - f(th - e)) / (2 * h)
    return g


# ------------------------------------------------------------------ parametrisations against oracles


def _oracle(P, th):
    """An independent dense construction of U(theta)."""
    n = P.n
    if isinstance(P, (ExpMap, Cayley)):
        A = skew_from_params(th, n, P.complex)
        if isinstance(P, ExpMap):  # eigen-decomposition of the Hermitian -iA
            lam, V = np.linalg.eigh(-1j * A)
            U = (V * np.exp(1j * lam)) @ V.conj().T
            return U if P.complex else U.real
        return np.linalg.inv(np.eye(n) - A / 2) @ (np.eye(n) + A / 2)
    if isinstance(P, Householder):
        kn = P.k * n
        V = (th[:kn] + 1j * th[kn:2 * kn]).reshape(P.k, n) if P.complex else th.reshape(P.k, n)
        U = np.eye(n, dtype=P.dtype)
        for v in V:
            U = U @ (np.eye(n) - 2 * np.outer(v, v.conj()) / np.vdot(v, v).real)
        return U @ np.diag(np.exp(1j * th[2 * kn:])) if P.complex else U
    from numerics.butterfly._reference import butterfly_dense_reference

    return butterfly_dense_reference(P.twiddles(th))


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cx", FIELDS)
def test_matrix_matches_oracle_and_is_unitary(kind, cx):
    P = parametrisation(kind, 8, complex=cx)
    th = P.random(3, scale=0.7)
    U = P.matrix(th)
    assert U.dtype == (np.complex128 if cx else np.float64)
    assert np.abs(U.conj().T @ U - np.eye(8)).max() <= 1e-13
    np.testing.assert_allclose(U, _oracle(P, th), atol=1e-12)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("cx", FIELDS)
def test_vjp_matches_finite_differences(kind, cx):
    P = parametrisation(kind, 4, complex=cx)
    th = P.random(5, scale=0.6)
    W = _W(4, cx, 6)
    C = np.random.default_rng(7).standard_normal((4, 4))

    def f(t):  # a loss that is not just the distance
        U = P.matrix(t)
        return 0.5 * float(np.vdot(U - W, U - W).real) + float(np.sum(C * U.real))

    U = P.matrix(th)
    g = P.vjp(th, (U - W) + C)
    np.testing.assert_allclose(g, _fd(f, th), rtol=1e-6, atol=1e-8)


def test_vjp_noncontiguous_inputs():
    P = ExpMap(6, complex=True)
    th_full = np.repeat(P.random(1, 0.5), 2)
    th = th_full[::2]
    assert not th.flags.c_contiguous
    G = np.asfortranarray(_W(6, True, 2))
    np.testing.assert_allclose(P.vjp(th, G), P.vjp(np.ascontiguousarray(th), np.ascontiguousarray(G)), atol=1e-14)
    np.testing.assert_allclose(P.matrix(th), P.matrix(th.copy()), atol=0)


@pytest.mark.parametrize("kind", ["exp", "cayley"])
@pytest.mark.parametrize("cx", FIELDS)
def test_vjp_at_zero_is_skew_part(kind, cx):
    """The shortcut project() uses after recentring."""
    P = parametrisation(kind, 5, complex=cx)
    G = _W(5, cx, 1)
    np.testing.assert_allclose(P.vjp(P.zeros(), G), skew_to_params(G, 5, cx), atol=1e-13)
    np.testing.assert_allclose(P.matrix(P.zeros()), np.eye(5), atol=0)


@pytest.mark.parametrize("cx", FIELDS)
def test_log_and_cayley_inverse_roundtrip(cx):
    E, C = ExpMap(6, complex=cx), Cayley(6, complex=cx)
    th = E.random(2, scale=0.3)
    np.testing.assert_allclose(E.log(E.matrix(th)), th, atol=1e-10)
    np.testing.assert_allclose(C.inverse(C.matrix(th)), th, atol=1e-10)


def test_skew_params_roundtrip_and_adjoint():
    rng = np.random.default_rng(0)
    for cx in FIELDS:
        m = 6 * 6 if cx else 15
        th, phi = rng.standard_normal(m), rng.standard_normal(m)
        A, B = skew_from_params(th, 6, cx), skew_from_params(phi, 6, cx)
        assert np.allclose(A, -A.conj().T)
        G = rng.standard_normal((6, 6)) + (1j * rng.standard_normal((6, 6)) if cx else 0)
        # adjoint: Re<G, A(phi)> = <skew_to_params(G), phi>
        assert np.isclose(np.vdot(G, B).real, skew_to_params(G, 6, cx) @ phi)


def test_householder_determinant_parity_and_counts():
    for k in (3, 4):
        P = Householder(5, k=k)
        assert np.isclose(np.linalg.det(P.matrix(P.random(0))), (-1) ** k)
    assert Householder(5, complex=True).n_params == 2 * 25 + 5
    assert UnitaryButterfly(16).n_params == 8 * 4
    assert UnitaryButterfly(16, complex=True).n_params == 2 * 16 * 4


def test_haar_is_unitary_and_seeded():
    for cx in FIELDS:
        Q = haar(7, complex=cx, seed=4)
        assert np.abs(Q.conj().T @ Q - np.eye(7)).max() < 1e-13
        np.testing.assert_array_equal(Q, haar(7, complex=cx, seed=4))


# ------------------------------------------------------------------ projection


@pytest.mark.parametrize("cx", FIELDS)
def test_polar_factor_matches_scipy(cx):
    W = _W(9, cx, 3)
    np.testing.assert_allclose(polar_factor(W), sla.polar(W)[0], atol=1e-12)
    np.testing.assert_allclose(polar_factor(np.asfortranarray(W)), sla.polar(W)[0], atol=1e-12)
    s = np.linalg.svd(W, compute_uv=False)
    assert np.isclose(np.linalg.norm(polar_factor(W) - W) ** 2, optimal_value(W))
    assert np.isclose(optimal_value(W), np.sum((s - 1) ** 2))


def test_nearest_rotation_det_negative():
    W = _W(6, False, 8)
    if np.linalg.det(W) > 0:
        W[0] *= -1
    R = nearest_rotation(W)
    assert np.isclose(np.linalg.det(R), 1.0)
    s = np.linalg.svd(W, compute_uv=False)
    d2 = np.linalg.norm(R - W) ** 2
    assert np.isclose(d2, optimal_value(W, rotation=True))
    assert np.isclose(d2, np.sum((s - 1) ** 2) + 4 * s[-1])
    # no rotation nearby is closer (independent check: perturb along the group)
    rng = np.random.default_rng(0)
    for _ in range(50):
        Rp = R @ sla.expm(skew_from_params(0.05 * rng.standard_normal(15), 6, False))
        assert np.linalg.norm(Rp - W) ** 2 >= d2 - 1e-12
    # det > 0: equals the polar factor
    W[0] *= -1
    np.testing.assert_allclose(nearest_rotation(W), polar_factor(W), atol=1e-12)


@pytest.mark.parametrize("kind", ["exp", "cayley", "householder"])
def test_project_converges_complex(kind):
    W = _W(8, True, 11)
    Q = polar_factor(W)
    r = project(W, kind, reference=Q, max_iter=3000)
    assert r.converged and r.reachable
    assert np.linalg.norm(r.U - Q) <= 1e-8
    assert abs(r.loss[-1] - optimal_value(W)) <= 1e-9 * optimal_value(W)
    assert r.iterations_to(1e-8) is not None


def test_project_plain_exp_descends():
    W = _W(6, True, 12)
    r = project(W, "exp", recentre=False, max_iter=100)
    assert r.base is None and np.all(np.diff(r.loss) <= 1e-12)


def test_project_butterfly_recovers_butterfly_polar():
    rng = np.random.default_rng(5)
    P = UnitaryButterfly(16)
    B = P.matrix(P.random(rng))
    V = haar(16, seed=rng)
    W = B @ ((V * rng.uniform(0.5, 2, 16)) @ V.T)
    r = project(W, "butterfly", reference=B, max_iter=2000)
    assert np.all(np.diff(r.loss) <= 1e-12)
    assert r.loss[-1] >= optimal_value(W) - 1e-9


def test_project_real_det_negative_detected():
    W = _W(6, False, 13)
    if np.linalg.det(W) > 0:
        W[:, 0] *= -1
    with pytest.warns(ReachabilityWarning, match="det W < 0"):
        r = project(W, "exp", reference=nearest_rotation(W), max_iter=5000)
    assert not r.reachable and "SO(n)" in r.note
    assert np.isclose(np.linalg.det(r.U), 1.0)
    assert r.loss[-1] >= optimal_value(W, rotation=True) - 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReachabilityWarning)
        rh = project(W, "householder", max_iter=20)  # odd k chosen: reachable, no warning
    assert rh.reachable and "k=5" in rh.note
    with pytest.warns(ReachabilityWarning, match="det U"):
        project(W, "householder", max_iter=2, param_options=dict(k=6))


# ------------------------------------------------------------------ bad input


def test_bad_inputs_parametrisations():
    with pytest.raises(ValueError, match="n=12 is not a power of two"):
        UnitaryButterfly(12)
    with pytest.raises(ValueError, match="kind must be one of"):
        parametrisation("givens", 4)
    with pytest.raises(TypeError, match="complex must be a bool"):
        ExpMap(4, complex=1)
    P = ExpMap(4)
    with pytest.raises(ValueError, match="theta has length 5; expected n_params=6"):
        P.matrix(np.zeros(5))
    with pytest.raises(TypeError, match="theta has dtype float32"):
        P.matrix(np.zeros(6, dtype=np.float32))
    with pytest.raises(TypeError, match="theta has dtype complex128"):
        P.matrix(np.zeros(6, dtype=complex))
    with pytest.raises(ValueError, match="theta contains NaN"):
        P.matrix(np.array([0, 0, np.nan, 0, 0, 0.0]))
    with pytest.raises(TypeError, match="G has dtype complex128 but this routine works on the real"):
        P.vjp(np.zeros(6), np.zeros((4, 4), dtype=complex))
    with pytest.raises(TypeError, match="G has dtype float64 but this routine works on the complex"):
        ExpMap(4, complex=True).vjp(np.zeros(16), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"G has shape \(3, 3\); expected \(4, 4\)"):
        P.vjp(np.zeros(6), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="zero Householder vector v_1"):
        Householder(2, k=2).matrix(np.array([1.0, 0, 0, 0]))
    with pytest.raises(ValueError, match="det=.* < 0"):
        ExpMap(3).log(np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="eigenvalue within .* of -1"):
        Cayley(2).inverse(np.diag([-1.0, -1.0]))


def test_bad_inputs_projection():
    with pytest.raises(ValueError, match=r"W must be square, got shape \(3, 4\)"):
        polar_factor(np.ones((3, 4)))
    with pytest.raises(ValueError, match="W is singular or nearly so"):
        project(np.ones((4, 4)))
    with pytest.raises(ValueError, match="W contains NaN"):
        project(np.full((3, 3), np.nan))
    with pytest.raises(TypeError, match="W has dtype complex128 but this routine works on the real"):
        nearest_rotation(_W(3, True, 0))
    with pytest.raises(TypeError, match="W has dtype float32"):
        polar_factor(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="recentre=True needs kind"):
        project(np.eye(4), "butterfly", recentre=True)
    with pytest.raises(ValueError, match="lr must be a positive"):
        project(np.eye(4), lr=-1.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        project(np.eye(4), "qr")
    with pytest.raises(ValueError, match="reference has shape"):
        project(np.eye(4), reference=np.eye(3))
    with pytest.raises(TypeError, match="reference has dtype complex128"):
        project(np.eye(4), reference=np.eye(4, dtype=complex))


# ------------------------------------------------------------------ networks


def test_maxmin_preserves_norm_and_pairs():
    Z = np.random.default_rng(0).standard_normal((5, 8))
    H, swap = maxmin(Z)
    assert np.allclose(np.linalg.norm(H, axis=1), np.linalg.norm(Z, axis=1))
    assert np.all(H[:, 0::2] >= H[:, 1::2])


@pytest.mark.parametrize("mode", ["dense", "exp", "cayley"])
def test_network_gradients_match_finite_differences(mode):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((7, 5)), rng.integers(0, 3, 7)
    net = DeepNet(5, 3, width=4, depth=2, mode=mode, seed=2)
    for k in net.params:  # move away from theta = 0 and zero biases
        net.params[k][...] += 0.3 * rng.standard_normal(net.params[k].shape)
    net.loss_and_grads(X, y)
    for key in net.params:
        p = net.params[key]
        g_fd = np.empty(p.size)
        flat = p.reshape(-1)
        for i in range(p.size):
            old = flat[i]
            flat[i] = old + 1e-6
            lp = net.loss_and_grads(X, y)[0]
            flat[i] = old - 1e-6
            lm = net.loss_and_grads(X, y)[0]
            flat[i] = old
            g_fd[i] = (lp - lm) / 2e-6
        net.loss_and_grads(X, y)
        np.testing.assert_allclose(net.grads[key].reshape(-1), g_fd, rtol=1e-5, atol=1e-7, err_msg=key)


def test_orthogonal_network_gradient_norms_constant():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 8)), rng.integers(0, 4, 16)
    net = DeepNet(8, 4, width=8, depth=20, mode="exp", seed=0)
    _, norms = net.loss_and_grads(X, y)
    norms = np.array(norms[:-1])
    assert norms.max() / norms.min() - 1 < 1e-12
    dense = DeepNet(8, 4, width=8, depth=20, mode="dense", init="uniform", seed=0)
    _, nd = dense.loss_and_grads(X, y)
    assert nd[-2] / nd[0] > 100


def test_from_dense_and_train():
    from numerics.datasets import load_digits

    from dataclasses import replace

    d = load_digits(dtype=np.float64, seed=0)
    d = replace(d, X_train=d.X_train[:300], y_train=d.y_train[:300], X_test=d.X_test[:100], y_test=d.y_test[:100])
    dense = DeepNet(64, 10, width=8, depth=3, mode="dense", seed=0)
    h = train(dense, d, epochs=1, seed=0)
    assert len(h.test_accuracy) == 2 and 0 <= h.test_accuracy[-1] <= 1
    net = DeepNet.from_dense(dense, mode="cayley")
    for U in net.hidden_matrices():
        assert np.abs(U.T @ U - np.eye(8)).max() < 1e-12 and np.linalg.det(U) > 0
    np.testing.assert_array_equal(net.params["W_out"], dense.params["W_out"])
    assert 0 <= net.n_negative <= 3
    h2 = train(net, d, epochs=1, seed=0)
    assert np.isfinite(h2.train_loss[0])
    for U in net.hidden_matrices():
        assert np.abs(U.T @ U - np.eye(8)).max() < 1e-12


def test_epochs_to():
    assert epochs_to([0.1, 0.5, 0.9, 0.95], 0.9) == 2
    assert epochs_to([0.1, 0.5], 0.9) == np.inf


def test_bad_inputs_network():
    with pytest.raises(ValueError, match="width must be even"):
        DeepNet(4, 2, width=5, depth=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        DeepNet(4, 2, width=4, depth=2, mode="unitary")
    with pytest.raises(ValueError, match="init must be"):
        DeepNet(4, 2, width=4, depth=2, init="he")
    with pytest.raises(ValueError, match="bases\\[0\\] must be an orthogonal"):
        DeepNet(4, 2, width=4, depth=1, bases=[np.ones((4, 4))])
    with pytest.raises(TypeError, match="dense must be a DeepNet with mode='dense'"):
        DeepNet.from_dense(DeepNet(4, 2, width=4, depth=1, mode="exp"))


# ------------------------------------------------------------------ claims at tiny sizes


def test_claim_checks_small():
    import numerics.unitary.claims  # noqa: F401  (registers)
    from numerics.claims import run_check

    assert run_check("unitary.exact", ns=(4,), steps=3, fd_n=4).passed
    assert run_check("unitary.gradient-depth", depths=(16,), width=8, batch=32).passed
