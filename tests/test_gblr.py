"""Tests of numerics.gblr (GBLR matrices, Gaussian-Dirichlet masks, training, baselines)."""
from __future__ import annotations

import numpy as np
import pytest

from numerics.gblr import (GBLRMatrix, block_sparse_at_flops, fit_gblr, gaussian_dirichlet_mask,
                           gaussian_dirichlet_mask_grad, gblr_objective, harden, init_from_dense, interval_mask,
                           learn_gblr, monarch_at_flops, prox_widths, refine, relocate, svd_start, train_gblr,
                           tsvd_at_flops)
from numerics.gblr import _kernels
from numerics.gblr.structure import KINDS, structured_matrix
from numerics.gblr._reference import budget_threshold_reference, gblr_dense_reference, ls_sweep_reference


def _random(rng, no=9, ni=7, K=4, dtype=np.float64):
    so, lo = rng.integers(0, no, K), rng.integers(0, no + 1, K)
    si, li = rng.integers(0, ni, K), rng.integers(0, ni + 1, K)
    U, V = rng.standard_normal((K, no)).astype(dtype), rng.standard_normal((K, ni)).astype(dtype)
    return U, V, so, lo, si, li


# ------------------------------------------------------------------ mask
@pytest.mark.parametrize("n", [1, 4, 7, 10])
def test_mask_exact_against_indicator(n):
    for a in range(n + 1):
        for s in range(n):
            np.testing.assert_allclose(gaussian_dirichlet_mask(n, a / n, s / n), interval_mask(n, s, a), atol=1e-12)


def test_mask_vectorised_and_smoothing():
    w, l = np.array([0.25, 0.5]), np.array([0.0, 0.75])
    m = gaussian_dirichlet_mask(8, w, l)
    assert m.shape == (2, 8)
    np.testing.assert_allclose(m[1], [1, 1, 0, 0, 0, 0, 1, 1], atol=1e-12)
    smooth = gaussian_dirichlet_mask(8, w, l, sigma=1.0)
    assert np.abs(smooth - m).max() > 0.05  # a finite sigma changes the mask
    np.testing.assert_allclose(smooth.sum(axis=1), m.sum(axis=1), atol=1e-12)  # k = 0 term untouched


def test_mask_grad_finite_differences():
    rng = np.random.default_rng(0)
    for _ in range(10):
        n, w, l, sig = int(rng.integers(3, 20)), rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(1, 9)
        _, dw, dl = gaussian_dirichlet_mask_grad(n, w, l, sig)
        h = 1e-6
        fw = (gaussian_dirichlet_mask(n, w + h, l, sig) - gaussian_dirichlet_mask(n, w - h, l, sig)) / (2 * h)
        fl = (gaussian_dirichlet_mask(n, w, l + h, sig) - gaussian_dirichlet_mask(n, w, l - h, sig)) / (2 * h)
        np.testing.assert_allclose(dw, fw, atol=1e-7 * np.abs(dw).max())
        np.testing.assert_allclose(dl, fl, atol=1e-7 * np.abs(dl).max())
    assert np.linalg.norm(gaussian_dirichlet_mask_grad(16, 0.0, 0.3)[1]) > 0.5


@pytest.mark.parametrize("kw, match", [
    (dict(width=1.5, location=0.0), r"width must lie in \[0, 1\].*1\.5"),
    (dict(width=-0.1, location=0.0), r"width must lie in \[0, 1\]"),
    (dict(width=0.5, location=1.0), r"location must lie in \[0, 1\).*1\.0"),
    (dict(width=0.5, location=-0.2), r"location must lie in \[0, 1\)"),
    (dict(width=np.nan, location=0.0), r"width contains NaN"),
    (dict(width=0.5, location=0.1, sigma=0.0), r"sigma must be > 0"),
    (dict(width=0.5, location=0.1, sigma=np.nan), r"sigma must be > 0"),
    (dict(width=[0.5, 0.2], location=[0.1]), r"same length"),
])
def test_mask_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        gaussian_dirichlet_mask(8, **kw)


def test_mask_bad_types():
    with pytest.raises(TypeError, match="sigma"):
        gaussian_dirichlet_mask(8, 0.5, 0.0, sigma="big")
    with pytest.raises(TypeError, match="n must be an integer"):
        gaussian_dirichlet_mask(8.0, 0.5, 0.0)


# ------------------------------------------------------------------ operator
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_operator_against_reference(dtype):
    rng = np.random.default_rng(1)
    U, V, so, lo, si, li = _random(rng, dtype=dtype)
    G = GBLRMatrix.from_intervals(U, V, so, lo, si, li)
    D = gblr_dense_reference(U.astype(np.float64), V.astype(np.float64), so, lo, si, li)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(G.todense(), D, atol=tol)
    X = rng.standard_normal((7, 200)).astype(dtype)  # parallel path (batch >= 64)
    np.testing.assert_allclose(G @ X, D @ X, atol=tol * 10)
    x = rng.standard_normal(9).astype(dtype)
    np.testing.assert_allclose(G.rmatvec(x), D.T @ x, atol=tol * 10)
    np.testing.assert_allclose(G.H.todense(), D.T, atol=tol)
    assert G.flops == int(lo.sum() + li.sum())
    assert G.dtype == dtype


def test_operator_noncontiguous_and_dot_test():
    rng = np.random.default_rng(2)
    U, V, so, lo, si, li = _random(rng, no=12, ni=10, K=5)
    G = GBLRMatrix.from_intervals(U[:, ::1], V, so, lo, si, li)
    Xbig = rng.standard_normal((20, 30))
    X = Xbig[::2, ::3]  # non-contiguous (10, 10)
    np.testing.assert_allclose(G.matmat(X), G.todense() @ X, atol=1e-12)
    Ubig = np.asfortranarray(rng.standard_normal((5, 24)))[:, ::2]
    G2 = GBLRMatrix.from_intervals(Ubig, V, so, lo, si, li)
    np.testing.assert_allclose(G2.todense(), gblr_dense_reference(np.ascontiguousarray(Ubig), V, so, lo, si, li), atol=1e-12)
    u, v = rng.standard_normal(12), rng.standard_normal(10)
    assert abs(u @ (G @ v) - (G.H @ u) @ v) < 1e-12


def test_operator_fraction_constructor_and_scipy():
    from scipy.sparse.linalg import lsqr

    rng = np.random.default_rng(3)
    n = 8
    G = GBLRMatrix(rng.standard_normal((2, n)), rng.standard_normal((2, n)), [1.0, 0.5], [0.0, 0.75], [1.0, 0.25],
                   [0.0, 0.5])
    assert G.flops == 8 + 4 + 8 + 2
    b = G @ rng.standard_normal(n)
    x = lsqr(G, b, atol=1e-14, btol=1e-14)[0]
    assert np.linalg.norm(G @ x - b) < 1e-8 * np.linalg.norm(b)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(width_out=[1.2]), ValueError, r"width_out must lie in \[0, 1\]"),
    (dict(location_in=[1.0]), ValueError, r"location_in must lie in \[0, 1\)"),
    (dict(width_out=[0.3]), ValueError, r"not a multiple of 1/8"),
    (dict(width_in=[0.5, 0.5]), ValueError, r"width_in must have shape \(1,\)"),
    (dict(U=np.full((1, 8), np.nan)), ValueError, r"U contains NaN"),
    (dict(U=np.ones((2, 8))), ValueError, r"same number of components"),
    (dict(U=np.ones((1, 8), dtype=np.float32)), TypeError, r"same dtype"),
    (dict(U=np.ones((1, 8), dtype=np.int64)), TypeError, r"U has dtype int64"),
])
def test_operator_bad_input(kw, exc, match):
    args = dict(U=np.ones((1, 8)), V=np.ones((1, 8)), width_out=[0.5], location_out=[0.0], width_in=[0.5],
                location_in=[0.0])
    args.update(kw)
    with pytest.raises(exc, match=match):
        GBLRMatrix(**args)


def test_operator_bad_products():
    G = GBLRMatrix.from_intervals(np.ones((1, 4)), np.ones((1, 5)), [0], [2], [1], [3])
    with pytest.raises(ValueError, match="X must have 5 columns"):
        G.apply_rows(np.ones((2, 4)))
    with pytest.raises(ValueError, match="X contains NaN"):
        G.apply_rows(np.full((2, 5), np.inf))
    with pytest.raises(ValueError, match=r"len_out must lie in \[0, 4\]"):
        GBLRMatrix.from_intervals(np.ones((1, 4)), np.ones((1, 5)), [0], [5], [1], [3])
    with pytest.raises(TypeError, match="start_in must be integers"):
        GBLRMatrix.from_intervals(np.ones((1, 4)), np.ones((1, 5)), [0], [2], [1.0], [3])


# ------------------------------------------------------------------ prox, objective, training
def test_prox_closed_form_and_bad_input():
    v = np.array([-0.5, 0.05, 0.3, 0.9, 1.7])
    np.testing.assert_allclose(prox_widths(v, 0.1), [0.0, 0.0, 0.2, 0.8, 1.0])
    grid = np.linspace(0, 1, 100001)
    for vi in v:
        j = np.argmin(0.5 * (grid - vi) ** 2 + 0.1 * grid)
        assert abs(prox_widths(vi, 0.1)[0] - grid[j]) <= 1e-5
    with pytest.raises(ValueError, match="step must be finite and >= 0"):
        prox_widths(v, -1.0)
    with pytest.raises(ValueError, match="v contains NaN"):
        prox_widths([np.nan], 0.1)


def test_objective_gradient_fd():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((6, 5))
    p = [rng.standard_normal((2, 6)), rng.standard_normal((2, 5)), np.array([0.3, 0.6]), np.array([0.2, 0.7]),
         np.array([0.5, 0.4]), np.array([0.1, 0.9])]
    f, g = gblr_objective(A, *p, sigma=3.0)
    keys = ["U", "V", "width_out", "location_out", "width_in", "location_in"]
    for i, k in enumerate(keys):
        d = rng.standard_normal(p[i].shape) * (0.01 if i >= 2 else 1)
        pp = [q.copy() for q in p]; pm = [q.copy() for q in p]
        pp[i] = pp[i] + 1e-6 * d; pm[i] = pm[i] - 1e-6 * d
        fd = (gblr_objective(A, *pp, sigma=3.0, grad=False)[0] - gblr_objective(A, *pm, sigma=3.0, grad=False)[0]) / 2e-6
        assert abs(fd - np.sum(g[k] * d)) <= 1e-6 * max(abs(fd), 1e-8)
    with pytest.raises(ValueError, match="U must be"):
        gblr_objective(A, p[0][:, :4], *p[1:])


def test_fit_recovers_low_rank_and_budget():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((16, 2)) @ rng.standard_normal((2, 16))
    G, info = fit_gblr(A, 64)
    assert G.flops <= 64
    assert np.linalg.norm(G.todense() - A) <= 1e-8 * np.linalg.norm(A)
    with pytest.raises(ValueError, match="flops=1 cannot be met"):
        fit_gblr(A, 1)
    with pytest.raises(TypeError, match="flops must be an integer"):
        fit_gblr(A, 64.0)
    with pytest.raises(ValueError, match="A contains NaN"):
        fit_gblr(np.full((4, 4), np.nan), 8)


def test_refine_monotone_and_train_decreases():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((16, 16))
    G0 = init_from_dense(A, 96)
    assert G0.flops <= 96
    e0 = np.linalg.norm(G0.todense() - A)
    G1 = refine(A, G0, sweeps=5)
    assert np.linalg.norm(G1.todense() - A) <= e0 + 1e-12
    Gr = GBLRMatrix.from_intervals(0.1 * rng.standard_normal((4, 16)), 0.1 * rng.standard_normal((4, 16)),
                                   [0, 4, 8, 12], [8, 8, 8, 8], [0, 4, 8, 12], [8, 8, 8, 8])
    for factors, lr in (("ls", 1e-2), ("adam", 1e-2), ("sgd", 20.0)):
        G, hist = train_gblr(A, Gr, 96, steps=30, factors=factors, lr=lr, hard_fraction=0.0)
        assert hist["objective"][-1] < 0.95 * hist["objective"][0], factors
        assert hist["flops"][-1] <= 96 + 1e-9 and G.flops <= 96
    with pytest.raises(ValueError, match="A has shape"):
        refine(A[:8], G0)
    with pytest.raises(ValueError, match="factors must be"):
        train_gblr(A, G1, 96, factors="lbfgs")
    with pytest.raises(ValueError, match="shrink and hard_fraction must lie in"):
        train_gblr(A, G1, 96, shrink=1.5)
    with pytest.raises(ValueError, match="lr_mask must be a finite number > 0"):
        train_gblr(A, G1, 96, lr_mask=0.0)
    with pytest.raises(ValueError, match="steps"):
        train_gblr(A, G1, 96, steps=-1)
    with pytest.raises(ValueError, match="zero matrix"):
        train_gblr(np.zeros((16, 16)), G1, 96)


def test_ls_sweep_kernel_against_reference_and_monotone():
    rng = np.random.default_rng(16)
    for no, ni, K in [(7, 5, 3), (12, 20, 6)]:
        U, V = rng.standard_normal((K, no)), rng.standard_normal((K, ni))
        mo, mi = rng.uniform(-0.1, 1.0, (K, no)), rng.uniform(-0.1, 1.0, (K, ni))
        mo[0] = 0.0  # a component whose output mask is empty keeps its factors on that side
        A = rng.standard_normal((no, ni))
        E = A - (mo * U).T @ (mi * V)
        out = [(U.copy(), V.copy(), E.copy()) for _ in range(2)]
        _kernels.ls_sweep(*out[0][:2], mo, mi, out[0][2])
        ls_sweep_reference(*out[1][:2], mo, mi, out[1][2])
        for a, b in zip(out[0], out[1]):
            np.testing.assert_allclose(a, b, atol=1e-12)
        np.testing.assert_allclose(out[0][2], A - (mo * out[0][0]).T @ (mi * out[0][1]), atol=1e-12)
        # with 0/1 masks every update is an exact least-squares step: the error never increases
        mo01, mi01 = (mo > 0.5).astype(float), (mi > 0.5).astype(float)
        E = A - (mo01 * U).T @ (mi01 * V)
        e0 = np.linalg.norm(E)
        Uc, Vc = U.copy(), V.copy()
        _kernels.ls_sweep(Uc, Vc, mo01, mi01, E)
        assert np.linalg.norm(E) <= e0 + 1e-12


def test_budget_threshold_kernel_against_reference():
    rng = np.random.default_rng(17)
    for _ in range(20):
        no, ni, K = int(rng.integers(3, 30)), int(rng.integers(3, 30)), int(rng.integers(1, 8))
        wo, wi = rng.uniform(0, 1, K), rng.uniform(0, 1, K)
        total = no * wo.sum() + ni * wi.sum()
        target = float(rng.uniform(0.1, 1.2) * total)
        mu = _kernels.budget_threshold(wo, wi, no, ni, target)
        assert abs(mu - budget_threshold_reference(wo, wi, no, ni, target)) <= 1e-12
        fl = no * np.clip(wo - mu * no, 0, 1).sum() + ni * np.clip(wi - mu * ni, 0, 1).sum()
        assert fl <= target + 1e-9


def test_baselines():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((16, 16))
    B, f = tsvd_at_flops(A, 64)
    assert f == 64 and np.linalg.matrix_rank(B) == 2
    s = np.linalg.svd(A, compute_uv=False)
    assert abs(np.linalg.norm(A - B) - np.sqrt(np.sum(s[2:] ** 2))) < 1e-10
    B, f = block_sparse_at_flops(A, 64)
    assert f <= 64 and np.count_nonzero(B) <= 64
    M, f, src = monarch_at_flops(A, 128)
    assert f <= 128 and np.linalg.norm(A - M) < np.linalg.norm(A)
    # a Monarch matrix is reproduced exactly by the p = q = 4 projection
    L, R = rng.standard_normal((4, 4, 4)), rng.standard_normal((4, 4, 4))
    Mx = np.einsum("kij,jkl->ikjl", L, R).reshape(16, 16)
    M2, f2, _ = monarch_at_flops(Mx, 128)
    assert np.linalg.norm(M2 - Mx) < 1e-10 * np.linalg.norm(Mx)
    with pytest.raises(ValueError, match="square"):
        monarch_at_flops(A[:8], 64)


def test_claim_modules_register():
    import numerics.gblr.claims  # noqa: F401
    from numerics.claims import get

    for cid in ["gblr.mask-exact", "gblr.gradients", "gblr.special-cases", "gblr.prox", "gblr.flops",
                "gblr.structure", "gblr.banded", "gblr.real-weights"]:
        assert get(cid).theory == "theory/gblr.md"


# ------------------------------------------------------------------ structure search
def _planted_block(n=24, s0=5, r0=17, a=8, b=6, seed=8):
    rng = np.random.default_rng(seed)
    A = np.zeros((n, n))
    I, J = (s0 + np.arange(a)) % n, (r0 + np.arange(b)) % n
    A[np.ix_(I, J)] = np.outer(rng.standard_normal(a), rng.standard_normal(b))
    return A


def test_relocate_moves_a_misplaced_rectangle_and_is_monotone():
    A = _planted_block()  # rank one on rows 5..12, columns 17..22 (wraps: 17..22 < 24)
    rng = np.random.default_rng(9)
    G0 = GBLRMatrix.from_intervals(rng.standard_normal((1, 24)), rng.standard_normal((1, 24)), [9], [8], [20], [6])
    e0 = np.linalg.norm(G0.todense() - A)
    G, moves = relocate(A, G0, sweeps=1, candidates=4)
    assert moves == 1
    assert (G.intervals["start_out"][0], G.intervals["start_in"][0]) == (5, 17)
    assert np.linalg.norm(G.todense() - A) <= 1e-12 * np.linalg.norm(A) < e0
    # never increases the error (random target, random rectangles)
    B = rng.standard_normal((16, 12))
    U, V, so, lo, si, li = _random(rng, no=16, ni=12, K=5)
    G1 = refine(B, GBLRMatrix.from_intervals(U, V, so, lo, si, li), sweeps=3)
    G2, _ = relocate(B, G1, sweeps=2)
    assert np.linalg.norm(G2.todense() - B) <= np.linalg.norm(G1.todense() - B) + 1e-12
    assert G2.flops == G1.flops
    with pytest.raises(ValueError, match="A has shape"):
        relocate(B[:8], G1)
    with pytest.raises(ValueError, match="candidates"):
        relocate(B, G1, candidates=0)


def test_init_max_length_and_svd_start():
    rng = np.random.default_rng(10)
    A = rng.standard_normal((32, 32))
    G = init_from_dense(A, 200, min_length=4, max_length=8)
    iv = G.intervals
    assert G.flops <= 200 and iv["len_out"].max() <= 8 and iv["len_in"].max() <= 8 and iv["len_out"].min() >= 4
    with pytest.raises(ValueError, match="max_length"):
        init_from_dense(A, 200, max_length=0)
    L = rng.standard_normal((32, 3)) @ rng.standard_normal((3, 20))
    S = svd_start(L, 5)
    assert S.n_components == 5 and S.flops == 5 * 52
    np.testing.assert_allclose(S.todense(), L, atol=1e-10)
    S2 = svd_start(L, 5, seed=3)  # random starts of full-width intervals: the same matrix
    assert S2.intervals["start_out"].any()
    np.testing.assert_allclose(S2.todense(), L, atol=1e-10)
    with pytest.raises(ValueError, match="components"):
        svd_start(L, 0)


def test_train_from_svd_start_meets_budget():
    A = structured_matrix("blocksparse-lowrank", 32, seed=1)[0]
    G0 = svd_start(A, 8, seed=0)
    G, hist = train_gblr(A, G0, 96, steps=60)
    assert hist["flops"][0] > 96 and hist["flops"][-1] <= 96 + 1e-6  # shrunk to the budget by the L1 prox
    sig = np.array(hist["sigma"])
    soft = np.isfinite(sig)
    assert soft[0] and not soft[-1]  # smoothed masks first, exact (sigma = inf) masks in the hard phase
    assert np.all(np.diff(sig[soft]) >= 0)  # sigma annealed upwards (blur shrinking)
    hard = np.array(hist["hard_error"])
    assert np.isnan(hard[soft]).all() and np.isfinite(hard[~soft]).all()
    assert G.flops <= 96
    assert abs(np.linalg.norm(G.todense() - A) / np.linalg.norm(A) - np.nanmin(hard)) <= 1e-9
    with pytest.raises(ValueError, match="G0 has shape"):
        train_gblr(A[:16], G0, 96)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_learn_finds_planted_block_sparse_structure(dtype):
    A, F = structured_matrix("blocksparse-lowrank", 32, seed=3)
    A = A.astype(dtype)
    G, info = learn_gblr(A, F, restarts=2, steps=300, seed=0)
    assert G.flops <= F and G.dtype == dtype and len(info["errors"]) == 2
    assert G.n_components == min(32, 8 * (F // 64))  # default start: 8 x the tSVD rank of SVD pieces
    err = np.linalg.norm(G.todense() - A) / np.linalg.norm(A)
    assert abs(err - min(info["errors"])) <= 1e-5
    bs = np.linalg.norm(block_sparse_at_flops(A, F)[0] - A) / np.linalg.norm(A)
    assert err <= 0.5 * bs
    # non-contiguous input gives the same result as its contiguous copy
    C = np.zeros((32, 64), dtype=dtype)
    C[:, ::2] = A
    assert not C[:, ::2].flags.c_contiguous
    G2, _ = learn_gblr(C[:, ::2], F, restarts=1, steps=50, seed=1)
    G3, _ = learn_gblr(np.ascontiguousarray(A), F, restarts=1, steps=50, seed=1)
    np.testing.assert_allclose(G2.todense(), G3.todense(), atol=1e-4 if dtype == np.float32 else 1e-10)
    with pytest.raises(ValueError, match="restarts"):
        learn_gblr(A, F, restarts=0)
    with pytest.raises(ValueError, match="oversample"):
        learn_gblr(A, F, oversample=0)
    with pytest.raises(ValueError, match="components"):
        learn_gblr(A, F, components=0)
    with pytest.raises(ValueError, match="flops=1 cannot be met"):
        learn_gblr(A, 1)
    with pytest.raises(ValueError, match="A contains NaN"):
        learn_gblr(np.full((8, 8), np.nan), 16)


def test_fit_finds_planted_block_sparse_structure():
    A, F = structured_matrix("blocksparse-lowrank", 32, seed=3)
    G, info = fit_gblr(A, F, include_tsvd=False)
    assert "tsvd" not in info["errors"] and G.flops <= F
    bs = np.linalg.norm(block_sparse_at_flops(A, F)[0] - A)
    assert np.linalg.norm(G.todense() - A) <= 0.5 * bs


@pytest.mark.parametrize("kind", KINDS)
def test_structured_matrices(kind):
    A, F = structured_matrix(kind, 32, seed=4)
    assert A.shape == (32, 32) and F > 0
    if kind == "banded-lowrank":  # blocks of size 4 on the circular block tridiagonal, each of rank 2
        s = 4
        for b in range(8):
            for c in range(8):
                blk = A[b * s:(b + 1) * s, c * s:(c + 1) * s]
                on = (c - b) % 8 in (0, 1, 7)
                assert (np.linalg.matrix_rank(blk) == 2) if on else not blk.any()
        assert F == 24 * 2 * 2 * s


def test_structured_matrix_bad_input():
    with pytest.raises(ValueError, match="kind must be one of"):
        structured_matrix("toeplitz", 32)
    with pytest.raises(ValueError, match="multiple of 16"):
        structured_matrix("banded", 40)


def test_harden_rounds_and_meets_budget():
    so, lo, si, li = harden([0.26, 1.0], [0.1, 0.95], [0.5, 0.49], [0.0, 0.3], 8, 8, 100)
    np.testing.assert_array_equal(lo, [2, 8])  # round(0.26 * 8) = 2
    np.testing.assert_array_equal(so, [1, 0])  # round(0.95 * 8) = 8 = 0 mod 8
    np.testing.assert_array_equal(li, [4, 4])
    np.testing.assert_array_equal(si, [0, 2])
    so, lo, si, li = harden([1.0, 1.0], [0.0, 0.5], [1.0, 1.0], [0.0, 0.5], 8, 8, 20)
    assert lo.sum() + li.sum() == 20  # shortened from 32 to the budget, longest intervals first
    with pytest.raises(ValueError, match="width_out must lie in"):
        harden([1.5], [0.0], [0.5], [0.0], 8, 8, 10)
