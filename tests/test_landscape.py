"""Tests of numerics.landscape: the encoder-decoder loss behind a fixed map B (Theorem 1 of paper A).

Oracles: central finite differences (gradients, Hessian), SVDs of X for Baldi-Hornik at B = I, an explicit
row-space projector for the sketched low-rank optimum, dense butterfly products from the NumPy reference,
and SymPy (``theory/symbolic_landscape.py``) for the identities.
"""
from __future__ import annotations

import importlib.util
import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import linalg

from numerics.butterfly import TruncatedButterfly
from numerics.butterfly._reference import butterfly_dense_reference
from numerics.landscape import EncoderDecoder, LandscapeWarning, apply_map, as_dense_map, index_sets
from numerics.landscape.training import butterfly_autoencoder_grads, descend, random_starts, two_phase

ROOT = Path(__file__).resolve().parents[1]


def _problem(seed=0, n=16, l=6, m=8, d=40, kind="random"):
    rng = np.random.default_rng(seed)
    T = TruncatedButterfly.random(n, l, seed=rng, kind=kind)
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(apply_map(T, X), 2)
    Y = rng.standard_normal((m, d))
    Y /= np.linalg.norm(Y)
    return T, X, Y, rng


def _fd_grad(f, th, h=1e-6):
    return np.array([(f(th + h * e) - f(th - h * e)) / (2 * h) for e in np.eye(th.size)])


# ---------------------------------------------------------------------------------------------------------------
# the map B
# ---------------------------------------------------------------------------------------------------------------


def test_apply_map_butterfly_matches_dense_reference():
    T, X, _, _ = _problem(1)
    dense = butterfly_dense_reference(np.asarray(T.butterfly.twiddles), T.butterfly.increasing)[T.keep]
    np.testing.assert_allclose(apply_map(T, X), dense @ X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(as_dense_map("B", T), dense, rtol=1e-12, atol=1e-12)


def test_apply_map_dense_and_linear_operator():
    rng = np.random.default_rng(2)
    B = rng.standard_normal((5, 9))
    X = rng.standard_normal((9, 7))
    np.testing.assert_allclose(apply_map(B, X), B @ X)
    from scipy.sparse.linalg import aslinearoperator

    M = EncoderDecoder(aslinearoperator(B), X, k=2)
    np.testing.assert_allclose(M.Z, B @ X, rtol=1e-13)


# ---------------------------------------------------------------------------------------------------------------
# loss, gradients, Hessian
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_gradients_and_hessian_match_finite_differences(k):
    T, X, Y, rng = _problem(3)
    M = EncoderDecoder(T, X, Y, k=k)
    D, E = rng.standard_normal((M.m, k)), rng.standard_normal((k, M.l))
    th = M.pack(D, E)
    g = np.concatenate([a.ravel() for a in M.gradients(D, E)])
    g_fd = _fd_grad(lambda t: M.loss(*M.unpack(t)), th)
    np.testing.assert_allclose(g, g_fd, rtol=0, atol=1e-7 * np.abs(g).max())
    H_fd = np.array(
        [
            (np.concatenate([a.ravel() for a in M.gradients(*M.unpack(th + 1e-6 * e))])
             - np.concatenate([a.ravel() for a in M.gradients(*M.unpack(th - 1e-6 * e))])) / 2e-6
            for e in np.eye(th.size)
        ]
    )
    H = M.hessian(D, E)
    np.testing.assert_allclose(H, H_fd, rtol=0, atol=1e-7 * np.abs(H).max())
    np.testing.assert_allclose(H, H.T)


def test_loss_is_half_squared_frobenius_and_float32_noncontiguous_input():
    rng = np.random.default_rng(4)
    B = rng.standard_normal((4, 10))
    Xbig = rng.standard_normal((10, 60)).astype(np.float32)
    X = Xbig[:, ::2]  # non-contiguous float32
    assert not X.flags.c_contiguous
    M = EncoderDecoder(B, X, k=2)
    D, E = rng.standard_normal((10, 2)), rng.standard_normal((2, 4))
    X64 = X.astype(np.float64)
    expected = 0.5 * np.linalg.norm(X64 - D @ E @ B @ X64) ** 2
    assert M.loss(D, E) == pytest.approx(expected, rel=1e-12)
    M2 = EncoderDecoder(B, np.ascontiguousarray(X64), k=2)
    np.testing.assert_allclose(M.eigenvalues, M2.eigenvalues, rtol=1e-12, atol=1e-12)


def test_sigma_baldi_hornik_identity_autoencoder():
    """B = I, Y = X: Sigma = X X^T, eigenvalues sigma_i(X)^2, global value 1/2 sum_{i>k} sigma_i^2."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((7, 30))
    M = EncoderDecoder(np.eye(7), X, k=3)
    s = linalg.svd(X, compute_uv=False)
    np.testing.assert_allclose(M.eigenvalues, s**2, rtol=1e-12)
    assert M.global_value() == pytest.approx(0.5 * np.sum(s[3:] ** 2), rel=1e-12)


def test_global_value_is_sketched_low_rank_error():
    """Autoencoder behind B: 2 L* = ||X - [X Q]_k Q^T||_F^2 with Q a basis of the row space of B X."""
    T, X, _, _ = _problem(6, n=32, l=10, d=50)
    M = EncoderDecoder(T, X, k=4)
    Q = linalg.orth((apply_map(T, X)).T)
    u, s, vt = linalg.svd(X @ Q, full_matrices=False)
    Jk = (u[:, :4] * s[:4]) @ vt[:4] @ Q.T
    assert 2 * M.global_value() == pytest.approx(np.linalg.norm(X - Jk) ** 2, rel=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# critical points, classification, escape
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_every_critical_point(k):
    T, X, Y, rng = _problem(7)
    M = EncoderDecoder(T, X, Y, k=k)
    sets = list(index_sets(M.rank, k))
    assert len(sets) == sum(len(list(itertools.combinations(range(M.rank), s))) for s in range(k + 1))
    for I in sets:
        D, E = M.critical_point(I, seed=rng)
        gD, gE = M.gradients(D, E)
        assert np.linalg.norm(gD) + np.linalg.norm(gE) < 1e-12
        value = 0.5 * (np.linalg.norm(Y) ** 2 - sum(M.eigenvalues[i] for i in I))
        assert M.loss(D, E) == pytest.approx(value, rel=1e-12)
        c = M.classify(D, E)
        assert (c.kind == "minimum") == (I == tuple(range(k))), (I, c)
        if I == tuple(range(k)):
            assert c.n_zero == k * k and c.symmetry_dim == k * k and c.transverse_min > 0


def test_gl_symmetry_leaves_loss_unchanged_and_is_null_space():
    T, X, Y, rng = _problem(8)
    M = EncoderDecoder(T, X, Y, k=3)
    D, E = M.critical_point((0, 1, 2))
    C = np.eye(3) + 0.3 * rng.standard_normal((3, 3))
    assert M.loss(D @ C, np.linalg.solve(C, E)) == pytest.approx(M.loss(D, E), rel=1e-12)
    V = M.symmetry_tangent(D, E)
    assert V.shape == (M.n_params, 9)
    H = M.hessian(D, E)
    assert np.abs(H @ V).max() < 1e-10 * np.abs(H).max()


def test_escape_drop_and_curvature():
    T, X, Y, _ = _problem(9)
    M = EncoderDecoder(T, X, Y, k=2)
    I, a, b = (0, 2), 1, 2
    D, E = M.critical_point(I)
    lam = M.eigenvalues
    for eps in (0.05, 0.5, 5.0):
        D2, E2 = M.escape_point(I, a, b, eps)
        drop = M.loss(D, E) - M.loss(D2, E2)
        assert drop == pytest.approx(0.5 * eps**2 / (1 + eps**2) * (lam[a] - lam[b]), rel=1e-9)
        assert drop == pytest.approx(M.predicted_drop(a, b, eps), rel=1e-9)
    dD, dE = M.escape_direction(I, a, b)
    v = np.concatenate([dD.ravel(), dE.ravel()])
    assert v @ M.hessian(D, E) @ v == pytest.approx(-(lam[a] - lam[b]), rel=1e-10)
    # the tangent really is the derivative of the escape curve
    h = 1e-6
    Dp, Ep = M.escape_point(I, a, b, h)
    Dm, Em = M.escape_point(I, a, b, -h)
    np.testing.assert_allclose((Dp - Dm) / (2 * h), dD, atol=1e-8)
    np.testing.assert_allclose((Ep - Em) / (2 * h), dE, atol=1e-8)


def test_critical_values_ladder_sorted_by_formula():
    T, X, Y, _ = _problem(10)
    M = EncoderDecoder(T, X, Y, k=2)
    sets, values = M.critical_values()
    assert min(values) == pytest.approx(M.global_value())
    assert sets[int(np.argmin(values))] == (0, 1)
    assert max(values) == pytest.approx(0.5 * M.trace_yy)


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,lr,lr_final,steps", [("gd", 0.2, None, 3000), ("adam", 0.02, 1e-5, 3000)])
def test_descend_reaches_global_value(method, lr, lr_final, steps):
    rng = np.random.default_rng(11)
    X = np.diag(np.geomspace(1, 0.3, 8)) @ rng.standard_normal((8, 200))
    X /= np.linalg.norm(X, 2)
    M = EncoderDecoder(np.eye(8), X, k=2)
    D0, E0, _ = random_starts(M, 6, scales=(1e-3, 0.1), seed=1)
    r = descend(M, D0, E0, method=method, lr=lr, lr_final=lr_final, steps=steps)
    np.testing.assert_allclose(r.final_loss, M.global_value(), rtol=1e-6)
    # batched runs equal single runs
    r1 = descend(M, D0[2], E0[2], method=method, lr=lr, lr_final=lr_final, steps=50)
    r6 = descend(M, D0, E0, method=method, lr=lr, lr_final=lr_final, steps=50)
    np.testing.assert_allclose(r1.final_loss[0], r6.final_loss[2], rtol=1e-12)
    np.testing.assert_allclose(r6.losses[:, -1], r6.final_loss, rtol=1e-9)


def test_butterfly_autoencoder_grads_match_finite_differences():
    rng = np.random.default_rng(12)
    n, l, k, d = 8, 3, 2, 10
    T = TruncatedButterfly.random(n, l, seed=rng, kind="random")
    tw = np.array(T.butterfly.twiddles)
    keep = np.asarray(T.keep)
    Xt = rng.standard_normal((d, n))
    D, E = rng.standard_normal((n, k)), rng.standard_normal((k, l))
    loss, gD, gE, gtw = butterfly_autoencoder_grads(Xt, tw, keep, D, E)
    dense = butterfly_dense_reference(tw)[keep]
    assert loss == pytest.approx(0.5 * np.linalg.norm(Xt.T - D @ E @ dense @ Xt.T) ** 2, rel=1e-12)

    def f(t):
        tw2 = t.reshape(tw.shape)
        return 0.5 * np.linalg.norm(Xt.T - D @ E @ butterfly_dense_reference(tw2)[keep] @ Xt.T) ** 2

    np.testing.assert_allclose(gtw.ravel(), _fd_grad(f, tw.ravel().copy()), rtol=1e-6, atol=1e-6)
    M = EncoderDecoder(T, Xt.T, k=k)
    gD2, gE2 = M.gradients(D, E)
    np.testing.assert_allclose(gD, gD2, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gE, gE2, rtol=1e-10, atol=1e-10)


def test_two_phase_small():
    rng = np.random.default_rng(13)
    U, _ = np.linalg.qr(rng.standard_normal((64, 4)))
    X = U @ rng.standard_normal((4, 200)) + 0.1 * rng.standard_normal((64, 200))
    res = two_phase(X, 4, 16, seed=0, phase1_steps=200, phase2_steps=20)
    assert res.delta_k == pytest.approx(np.sum(linalg.svd(X, compute_uv=False)[4:] ** 2), rel=1e-10)
    assert res.sketch_pca >= res.delta_k * (1 - 1e-12)
    assert res.phase1 >= res.sketch_pca * (1 - 1e-9)  # phase 1 cannot beat its global optimum
    assert res.phase1 <= 1.01 * res.sketch_pca
    assert res.curve2[0] == pytest.approx(res.phase1, rel=1e-9)
    assert res.phase2 < res.phase1 and res.phase2 >= res.delta_k * (1 - 1e-12)


# ---------------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------------


def test_singular_bxxb_raises_and_allow_singular_warns():
    rng = np.random.default_rng(14)
    B = rng.standard_normal((6, 10))
    X = rng.standard_normal((10, 4))  # d = 4 < l = 6
    with pytest.raises(ValueError, match=r"B X X\^T B\^T \(6 x 6\) is singular.*allow_singular"):
        EncoderDecoder(B, X, k=2)
    with pytest.warns(LandscapeWarning, match=r"B X X\^T B\^T .*pseudo-inverse"):
        M = EncoderDecoder(B, X, k=2, allow_singular=True)
    assert M.singular
    B2 = np.vstack([B[:5], B[:1]])  # repeated row: rank 5 < l = 6
    with pytest.raises(ValueError, match=r"B X X\^T B\^T.*singular"):
        EncoderDecoder(B2, rng.standard_normal((10, 50)), k=2)


def test_repeated_eigenvalue_warns():
    X = np.zeros((4, 4))
    X[np.arange(4), np.arange(4)] = [3.0, 2.0, 2.0, 1.0]
    with pytest.warns(LandscapeWarning, match=r"Sigma\(B\) has repeated eigenvalues.*lambda_2 = 4 ~ lambda_3 = 4"):
        EncoderDecoder(np.eye(4), X, k=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X[2, 2] = 1.5
        EncoderDecoder(np.eye(4), X, k=2)


def test_bad_sizes_and_values():
    rng = np.random.default_rng(15)
    B = rng.standard_normal((4, 10))
    X = rng.standard_normal((10, 30))
    with pytest.raises(ValueError, match=r"k=5 > l=4"):
        EncoderDecoder(B, X, k=5)
    with pytest.raises(ValueError, match=r"k=3 > m=2"):
        EncoderDecoder(B, X, rng.standard_normal((2, 30)), k=3)
    with pytest.raises(ValueError, match=r"X has shape \(9, 30\); expected 10 rows"):
        EncoderDecoder(B, X[:9], k=2)
    with pytest.raises(ValueError, match=r"Y has shape \(3, 29\).*same number of columns"):
        EncoderDecoder(B, X, rng.standard_normal((3, 29)), k=2)
    Xn = X.copy()
    Xn[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN"):
        EncoderDecoder(B, Xn, k=2)
    Yn = rng.standard_normal((3, 30))
    Yn[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"Y contains NaN or inf"):
        EncoderDecoder(B, X, Yn, k=2)
    Bn = B.copy()
    Bn[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"B contains NaN"):
        EncoderDecoder(Bn, X, k=2)
    with pytest.raises(TypeError, match=r"X has dtype int64"):
        EncoderDecoder(B, X.astype(np.int64), k=2)
    with pytest.raises(TypeError, match=r"k must be an integer"):
        EncoderDecoder(B, X, k=2.0)
    M = EncoderDecoder(B, X, k=2)
    with pytest.raises(ValueError, match=r"D has shape \(10, 3\); expected \(10, 2\)"):
        M.loss(np.zeros((10, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\|I\|=3 > k=2"):
        M.critical_point((0, 1, 2))
    with pytest.raises(ValueError, match=r"repeated indices"):
        M.critical_point((1, 1))
    with pytest.raises(ValueError, match=r"contains 12"):
        M.critical_point((12,))
    with pytest.raises(ValueError, match=r"a=1 must not be in I"):
        M.escape_point((0, 1), 1, 0, 0.1)
    with pytest.raises(ValueError, match=r"b=3 must be in I"):
        M.escape_point((0, 1), 2, 3, 0.1)
    with pytest.raises(ValueError, match=r"C must be invertible"):
        M.critical_point((0,), C=np.zeros((2, 2)))
    D0, E0, _ = random_starts(M, 2, seed=0)
    with pytest.raises(ValueError, match=r"method must be one of"):
        descend(M, D0, E0, method="sgd", lr=0.1, steps=1)
    with pytest.raises(ValueError, match=r"lr must be a positive"):
        descend(M, D0, E0, lr=-0.1, steps=1)
    with pytest.raises(ValueError, match=r"expected \(10, 2\) and \(2, 4\)"):
        descend(M, D0[:, :, :1], E0[:, :1], lr=0.1, steps=1)
    with pytest.raises(FloatingPointError, match=r"diverged"):
        descend(M, D0 * 100, E0 * 100, lr=10.0, steps=100)
    with pytest.raises(ValueError, match=r"need k <= l <= n"):
        two_phase(X, 5, 4)
    with pytest.raises(ValueError, match=r"l=40 > d=30 samples"):
        two_phase(np.zeros((64, 30)), 2, 40)


# ---------------------------------------------------------------------------------------------------------------
# symbolic checks and registry
# ---------------------------------------------------------------------------------------------------------------


def _symbolic():
    spec = importlib.util.spec_from_file_location("symbolic_landscape", ROOT / "theory" / "symbolic_landscape.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["check_gradient_formulas", "check_hessian_quadratic_form", "check_hessian_blocks",
                                  "check_gl_symmetry", "check_critical_points", "check_escape_drop"])
def test_symbolic(name):
    assert getattr(_symbolic(), name)() is True


def test_claims_registered_with_pages():
    import numerics.claims as C

    ids = [c.id for c in C.all_claims() if c.id.startswith("landscape.")]
    assert ids == ["landscape.critical-points", "landscape.descent", "landscape.saddle-escape",
                   "landscape.two-phase", "landscape.assumptions"]
    theory = (ROOT / "theory" / "landscape.md").read_text()
    for cid in ids:
        c = C.get(cid)
        assert (ROOT / c.theory).is_file() and cid in theory
        assert c.notebook == f"notebooks/05_landscape.ipynb#{cid}"


def test_transverse_directions_and_slice():
    T, X, Y, _ = _problem(16)
    M = EncoderDecoder(T, X, Y, k=2)
    D, E = M.critical_point((0, 2))
    w, V = M.transverse_directions(D, E, 2)
    assert w[0] < 0 < w[1] or w[0] < w[1] < 0
    H = M.hessian(D, E)
    np.testing.assert_allclose(V[:, 0] @ H @ V[:, 0], w[0], rtol=1e-10)
    s = np.array([-0.1, 0.0, 0.1])
    grid = M.loss_slice(D, E, V[:, 0], V[:, 1], s, s)
    assert grid[1, 1] == pytest.approx(M.loss(D, E), rel=1e-13)
    for i, a in enumerate(s):
        for j, b in enumerate(s):
            assert grid[i, j] == pytest.approx(M.loss(*M.unpack(M.pack(D, E) + a * V[:, 0] + b * V[:, 1])), rel=1e-12)
    # second difference along v1 approximates the (negative) curvature
    h = 1e-4
    g = M.loss_slice(D, E, V[:, 0], V[:, 1], [-h, 0, h], [0.0])[:, 0]
    assert (g[0] - 2 * g[1] + g[2]) / h**2 == pytest.approx(w[0], rel=1e-4)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(2, 7), st.integers(1, 7), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_property_critical_points_dense_b(n, l, m, k, seed):
    l = min(l, n)
    k = min(k, l, m)
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((l, n))
    X = rng.standard_normal((n, l + 5))
    Y = rng.standard_normal((m, l + 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LandscapeWarning)  # an unlucky near-tie is allowed here
        M = EncoderDecoder(B, X, Y, k=k)
    sets = list(index_sets(M.rank, k))
    I = sets[int(rng.integers(len(sets)))]
    D, E = M.critical_point(I, seed=rng)
    gD, gE = M.gradients(D, E)
    scale = np.linalg.norm(M.Syz) * (np.linalg.norm(D) + np.linalg.norm(E)) + 1e-300
    assert (np.linalg.norm(gD) + np.linalg.norm(gE)) / scale < 1e-10
    assert M.loss(D, E) == pytest.approx(M.critical_value(I), rel=1e-9, abs=1e-12 * M.trace_yy)


def test_loss_difference_matches_direct_difference():
    T, X, Y, rng = _problem(17)
    M = EncoderDecoder(T, X, Y, k=2)
    D0, E0 = rng.standard_normal((M.m, 2)), rng.standard_normal((2, M.l))
    D1, E1 = rng.standard_normal((M.m, 2)), rng.standard_normal((2, M.l))
    assert M.loss_difference(D0, E0, D1, E1) == pytest.approx(M.loss(D0, E0) - M.loss(D1, E1), rel=1e-12)
