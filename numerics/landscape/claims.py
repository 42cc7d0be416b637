"""Claims about the encoder-decoder landscape behind a fixed map ``B`` (theory: ``theory/landscape.md``).

* ``landscape.critical-points``: every critical point ``I`` (small sizes, four kinds of ``B``) has zero
  gradient, the predicted loss, and a negative Hessian eigenvalue exactly when ``I != {1..k}``.
* ``landscape.descent``: gradient descent and Adam from many random starts reach the global value.
* ``landscape.saddle-escape``: rotating a used eigenvector towards an unused larger one lowers the loss
  by exactly ``1/2 eps^2/(1+eps^2)(lambda_a - lambda_b)`` (the paper's expression is the drop of ``2L``).
* ``landscape.two-phase``: fixed FJLT butterfly then everything trained: ``<= (1+eps) Delta_k`` after
  phase 1, within 5% of ``Delta_k`` after phase 2.
* ``landscape.assumptions``: a repeated eigenvalue of ``Sigma(B)`` gives a continuum of global minima;
  a singular ``B X X^T B^T`` gives an affine family in ``E``; the library warns / raises for each.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from numerics._progress import progress
from numerics.claims import Part, Result, claim

from .model import EncoderDecoder, LandscapeWarning, apply_map, index_sets
from .training import descend, random_starts, two_phase

PAPER = "A: Ailon et al. 2021 (UAI), Theorem 1"
THEORY = "theory/landscape.md"
NOTEBOOK = "notebooks/05_landscape.ipynb"

#: The kinds of fixed map ``B`` the checks use.
B_KINDS = ("butterfly", "fjlt", "gaussian", "identity")


def make_map(kind: str, n: int, l: int, rng: np.random.Generator):
    """A fixed ``B`` of shape ``(l, n)``: a truncated random butterfly, a truncated FJLT butterfly, a Gaussian
    matrix (entries ``N(0, 1/n)``), or the identity (then ``l`` must equal ``n``)."""
    from numerics.butterfly import TruncatedButterfly

    if kind == "butterfly":
        return TruncatedButterfly.random(n, l, seed=rng, kind="random")
    if kind == "fjlt":
        return TruncatedButterfly.random(n, l, seed=rng, kind="fjlt")
    if kind == "gaussian":
        return rng.standard_normal((l, n)) / math.sqrt(n)
    if kind == "identity":
        if l != n:
            raise ValueError(f"the identity needs l = n, got l={l}, n={n}")
        return np.eye(n)
    raise ValueError(f"kind must be one of {B_KINDS}, got {kind!r}")


def _sizes_for(kind: str, n: int, l: int) -> tuple[int, int]:
    """``(n, l)`` for ``kind``: the identity uses ``n = l``."""
    return (l, l) if kind == "identity" else (n, l)


def fd_errors(model: EncoderDecoder, D, E, h: float = 1e-5) -> tuple[float, float]:
    """Relative max errors of the analytic gradient and Hessian against central finite differences."""
    th = model.pack(D, E)

    def grad(t):
        gD, gE = model.gradients(*model.unpack(t))
        return np.concatenate([gD.ravel(), gE.ravel()])

    def f(t):
        return model.loss(*model.unpack(t))

    eye = np.eye(th.size)
    g_fd = np.array([(f(th + h * e) - f(th - h * e)) / (2 * h) for e in eye])
    H_fd = np.array([(grad(th + h * e) - grad(th - h * e)) / (2 * h) for e in eye])
    g = grad(th)
    H = model.hessian(D, E)
    return float(np.max(np.abs(g_fd - g)) / np.max(np.abs(g))), float(np.max(np.abs(H_fd - H)) / np.max(np.abs(H)))


# =====================================================================================
# landscape.critical-points
# =====================================================================================


def normalised_problem(kind, n, l, m, d, rng):
    """``B`` of ``kind``, Gaussian ``X`` (``n x d``) scaled to ``||B X||_2 = 1``, Gaussian ``Y`` with ``||Y||_F = 1``."""
    n, l = _sizes_for(kind, n, l)
    B = make_map(kind, n, l, rng)
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(apply_map(B, X), 2)
    Y = rng.standard_normal((m, d))
    Y /= np.linalg.norm(Y)
    return B, X, Y


@claim(
    "landscape.critical-points",
    title="Theorem 1: every critical point I has zero gradient, loss 1/2(tr YY^T - sum_I lambda_i), "
          "and is a saddle iff I != {1..k}",
    statement=(
        "For L(D,E) = 1/2||Y - D E B X||_F^2 with B a truncated random butterfly, a truncated FJLT butterfly, a "
        "dense Gaussian matrix and the identity (n = 16, l = 6, m = 8, d = 40, k = 1, 2, 3; identity n = l = 6; data scaled to "
        "||BX||_2 = ||Y||_F = 1), the point D = [U_I, 0] C, E = C^-1 [U_I^T S_yz S_zz^-1; 0] (random C in GL(k)) "
        "for every index set I of the top min(l, m) eigenvalues of Sigma(B) with |I| <= k has gradient norm "
        "<= 1e-10 and loss equal to 1/2(tr YY^T - sum_{i in I} lambda_i) to relative 1e-10; its Hessian has a "
        "negative eigenvalue exactly when I != {1..k}; at I = {1..k} the Hessian's null space has dimension "
        "exactly k^2 (the GL(k) orbit) and it is positive definite across the orbit. The analytic gradient and "
        "Hessian agree with central finite differences (relative 1e-6)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#landscape.critical-points",
    quick=dict(n=16, l=6, m=8, d=40, ks=(1, 2, 3), kinds=B_KINDS),
    full=dict(n=32, l=8, m=10, d=100, ks=(1, 2, 3, 4), kinds=B_KINDS),
    seed=20210801,
)
def check_critical_points(*, seed, n, l, m, d, ks, kinds) -> Result:
    rows = []
    fd = []
    for bi, kind in enumerate(progress(kinds, desc="maps B")):
        rng = np.random.default_rng([seed, bi])
        B, X, Y = normalised_problem(kind, n, l, m, d, rng)
        for k in ks:
            model = EncoderDecoder(B, X, Y, k=k)
            fd.append(fd_errors(model, rng.standard_normal((model.m, k)), rng.standard_normal((k, model.l))))
            top = tuple(range(k))
            for I in index_sets(model.rank, k):
                D, E = model.critical_point(I, seed=rng)
                c = model.classify(D, E)
                value = model.critical_value(I)
                rows.append(dict(kind=kind, k=k, I=I, value=value, loss=model.loss(D, E), grad=c.gradient_norm,
                                 n_negative=c.n_negative, n_zero=c.n_zero, min_eig=float(c.eigenvalues[0]),
                                 max_eig=float(c.eigenvalues[-1]), transverse_min=c.transverse_min,
                                 is_top=I == top, saddle=c.kind == "saddle"))
    grad = max(r["grad"] for r in rows)
    rel = max(abs(r["loss"] - r["value"]) / r["value"] for r in rows)
    wrong = sum(r["saddle"] == r["is_top"] for r in rows)
    tops = [r for r in rows if r["is_top"]]
    null_bad = sum(r["n_zero"] != r["k"] ** 2 for r in tops)
    transverse = min(r["transverse_min"] / r["max_eig"] for r in tops)
    parts = [
        Part(f"critical points misclassified (saddle iff I != {{1..k}}) among {len(rows)}", wrong, 0, "=="),
        Part("max gradient norm at the critical points", grad, 1e-10, "<="),
        Part("max relative |L - 1/2(tr YY^T - sum_I lambda_i)| / L", rel, 1e-10, "<="),
        Part("global minima whose Hessian null space is not exactly k^2-dimensional", null_bad, 0, "=="),
        Part("min over global minima of (smallest Hessian eigenvalue across the GL(k) orbit) / (largest)",
             transverse, 1e-9, ">="),
        Part("max relative error of the gradient against central differences", max(a for a, _ in fd), 1e-6, "<="),
        Part("max relative error of the Hessian against central differences", max(b for _, b in fd), 1e-6, "<="),
    ]
    note = f"{len(rows)} critical points over B in {list(kinds)} and k in {list(ks)}"
    return Result(parts, headline=0, note=note, data=dict(rows=rows, kinds=list(kinds), ks=list(ks)))


# =====================================================================================
# landscape.descent
# =====================================================================================


def decaying_spectrum_data(n: int, d: int, rng: np.random.Generator, low: float = 0.3) -> np.ndarray:
    """``Q diag(s) G``: random rotation ``Q``, ``s`` geometric from 1 to ``low``, Gaussian ``G`` (``n x d``)."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = np.geomspace(1.0, low, n)
    return Q @ (s[:, None] * rng.standard_normal((n, d)))


def descent_problem(kind, n, l, k, d, rng):
    """Autoencoder (``Y = X``) problem for the descent check: ``X`` scaled to ``||X||_2 = 1`` and ``B``
    rescaled (a reparametrisation that ``E`` absorbs) to ``||B X||_2 = 1``.  Returns the model."""
    n, l = _sizes_for(kind, n, l)
    B = make_map(kind, n, l, rng)
    X = decaying_spectrum_data(n, d, rng)
    X /= np.linalg.norm(X, 2)
    Bd = np.asarray(apply_map(B, np.eye(n)))
    Bd /= np.linalg.norm(Bd @ X, 2)
    return EncoderDecoder(Bd, X, k=k), B


@claim(
    "landscape.descent",
    title="Gradient descent and Adam from random starts reach the global value 1/2(tr YY^T - sum_{i<=k} lambda_i)",
    statement=(
        "For autoencoders X ~ D E B X with B fixed (a truncated FJLT butterfly, a dense Gaussian matrix, the "
        "identity; n = 16, l = 8, k = 3, d = 400 samples with a geometric spectrum), plain gradient descent and "
        "Adam, each from 50 random Gaussian starts in (D, E) at scales 1e-3..0.3, end at the global value "
        "1/2(tr XX^T - sum_{i<=k} lambda_i) to relative 1e-6 in every run (no run stops at a saddle)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#landscape.descent",
    quick=dict(n=16, l=8, k=3, d=400, runs=50, kinds=("fjlt", "gaussian", "identity"), gd_steps=6000,
               adam_steps=4000),
    full=dict(n=32, l=12, k=4, d=1000, runs=200, kinds=("fjlt", "gaussian", "identity"), gd_steps=20000,
              adam_steps=10000),
    seed=20210802,
)
def check_descent(*, seed, n, l, k, d, runs, kinds, gd_steps, adam_steps) -> Result:
    out = {}
    worst = 0.0
    for bi, kind in enumerate(kinds):
        rng = np.random.default_rng([seed, bi])
        model, _ = descent_problem(kind, n, l, k, d, rng)
        sets, ladder = model.critical_values()
        target = model.global_value()
        D0, E0, scales = random_starts(model, runs, scales=(1e-3, 1e-2, 1e-1, 0.3), seed=rng)
        res = {}
        for method, lr, lr_final, steps in (("gd", 0.2, None, gd_steps), ("adam", 0.02, 1e-5, adam_steps)):
            r = descend(model, D0, E0, method=method, lr=lr, lr_final=lr_final, steps=steps,
                        record_every=max(1, steps // 400), desc=f"{kind} {method}")
            rel = np.abs(r.final_loss - target) / target
            worst = max(worst, float(rel.max()))
            # a run "passes near a saddle" when its loss plateaus within 1% of a non-global critical value
            near = np.zeros(runs, dtype=bool)
            saddle_values = ladder[[i for i, I in enumerate(sets) if I != tuple(range(k))]]
            for j in range(runs):
                dist = np.min(np.abs(r.losses[j][:, None] - saddle_values[None, :]) / saddle_values[None, :], axis=1)
                flat = r.grad_norms[j] < 1e-2 * max(float(r.grad_norms[j].max()), 1e-300)
                near[j] = bool(np.any((dist < 1e-2) & flat))
            res[method] = dict(final=r.final_loss, rel=rel, steps=r.steps, losses=r.losses, grad_norms=r.grad_norms,
                               near_saddle=near)
        out[kind] = dict(target=target, ladder=ladder, sets=sets, scales=scales, trace=model.trace_yy, **res)
    n_near = {f"{kind}/{m}": int(out[kind][m]["near_saddle"].sum()) for kind in kinds for m in ("gd", "adam")}
    parts = [
        Part(f"max over {2 * runs * len(kinds)} runs of |L_final - L*| / L*", worst, 1e-6, "<="),
    ]
    note = "runs whose loss plateaued within 1% of a saddle value on the way: " + ", ".join(
        f"{key} {v}/{runs}" for key, v in n_near.items())
    return Result(parts, headline=0, note=note, data=dict(results=out, kinds=list(kinds), runs=runs, k=k))


# =====================================================================================
# landscape.saddle-escape
# =====================================================================================


@claim(
    "landscape.saddle-escape",
    title="Saddle escape: rotating u_b towards an unused u_a (lambda_a > lambda_b) lowers L by "
          "1/2 eps^2/(1+eps^2)(lambda_a - lambda_b)",
    statement=(
        "At every saddle I with |I| = k (same four maps B and sizes as landscape.critical-points), replacing the "
        "used eigenvector u_b by (u_b + eps u_a)/sqrt(1+eps^2), a not in I, lambda_a > lambda_b, lowers "
        "L = 1/2||Y - D E B X||_F^2 by 1/2 eps^2/(1+eps^2)(lambda_a - lambda_b) to relative 1e-8 (difference "
        "computed as 1/2 <(W1 - W0) Z, R0 + R1>, free of cancellation) "
        "(eps = 0.01, 0.1, 1, 10; full adds 0.03, 0.3, 3, 100); the paper's eps^2/(1+eps^2)(lambda_a - lambda_b) is the drop of "
        "2L = ||Y - DEBX||_F^2 (ratio observed/paper = 1/2). The Hessian curvature along the escape direction "
        "equals -(lambda_a - lambda_b) to relative 1e-8."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#landscape.saddle-escape",
    quick=dict(n=16, l=6, m=8, d=40, ks=(1, 2, 3), kinds=B_KINDS, epss=(0.01, 0.1, 1.0, 10.0)),
    full=dict(n=32, l=8, m=10, d=100, ks=(1, 2, 3, 4), kinds=B_KINDS, epss=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)),
    seed=20210803,
)
def check_saddle_escape(*, seed, n, l, m, d, ks, kinds, epss) -> Result:
    drop_err, curv_err, ratio_err = 0.0, 0.0, 0.0
    rows = []
    for bi, kind in enumerate(kinds):
        rng = np.random.default_rng([seed, bi])
        B, X, Y = normalised_problem(kind, n, l, m, d, rng)
        for k in ks:
            model = EncoderDecoder(B, X, Y, k=k)
            lam = model.eigenvalues
            for I in index_sets(model.rank, k):
                if len(I) != k or I == tuple(range(k)):
                    continue
                Q1, _ = np.linalg.qr(rng.standard_normal((k, k)))
                C = Q1 * rng.uniform(0.5, 2.0, size=k)
                D, E = model.critical_point(I, C=C)
                H = model.hessian(D, E)
                for b in I:
                    for a in range(b):
                        if a in I:
                            continue
                        dD, dE = model.escape_direction(I, a, b, C=C)
                        v = np.concatenate([dD.ravel(), dE.ravel()])
                        curv = float(v @ H @ v)
                        gap = float(lam[a] - lam[b])
                        curv_err = max(curv_err, abs(curv + gap) / gap)
                        for eps in epss:
                            D2, E2 = model.escape_point(I, a, b, eps, C=C)
                            drop = model.loss_difference(D, E, D2, E2)
                            pred = model.predicted_drop(a, b, eps)
                            paper = eps**2 / (1 + eps**2) * gap
                            drop_err = max(drop_err, abs(drop - pred) / pred)
                            ratio_err = max(ratio_err, abs(drop / paper - 0.5))
                            rows.append(dict(kind=kind, k=k, I=I, a=a, b=b, eps=eps, drop=drop, predicted=pred,
                                             gap=gap, curvature=curv))
    parts = [
        Part(f"max relative error of the loss drop against 1/2 eps^2/(1+eps^2)(lambda_a - lambda_b) "
             f"({len(rows)} escapes)", drop_err, 1e-8, "<="),
        Part("max |observed drop / paper's eps^2/(1+eps^2)(lambda_a - lambda_b) - 1/2|", ratio_err, 1e-8, "<="),
        Part("max relative error of the Hessian curvature along the escape direction against -(lambda_a - lambda_b)",
             curv_err, 1e-8, "<="),
    ]
    return Result(parts, headline=0, data=dict(rows=rows))


# =====================================================================================
# landscape.two-phase
# =====================================================================================


def synthetic_low_rank(n: int, d: int, rank: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """The paper's synthetic data: ``rank`` random orthonormal directions in ``R^n`` with small Gaussian
    coefficients (``N(0, 0.1^2)``), one sample per column, plus Gaussian noise with Frobenius norm ``noise``
    times the signal's."""
    U, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    S = U @ (0.1 * rng.standard_normal((rank, d)))
    N = rng.standard_normal((n, d))
    N *= noise * np.linalg.norm(S) / np.linalg.norm(N)
    return S + N


@claim(
    "landscape.two-phase",
    title="Two-phase training: (1+eps) Delta_k after phase 1 (fixed FJLT butterfly) in >= half the trials, "
          "within 5% of Delta_k after phase 2 (butterfly trained too)",
    statement=(
        "Autoencoders X ~ D E B X with B a truncated FJLT butterfly of l = ceil(k ln k + k/eps) rows (eps = 1/2): "
        "phase 1 trains (D, E) with B fixed (Adam), phase 2 trains D, E and B's twiddles (Adam, gradient through "
        "butterfly_backward). On the paper's synthetic data (rank r = 32 and 64 at n = 1024, d = 2048; quick: "
        "r = 8, 16 at n = 128, d = 256; k = r, noise at 30% of the signal's norm) and on real data (digits, 64 pixels x 1347 "
        "training images, k = 5, 10; full mode adds the first-names text set, 256 hashed n-gram features), "
        "||X - DEBX||_F^2 <= (1+eps) Delta_k after phase 1 in at least half of the trials (quick: 4 per setting, "
        "full: 20), and <= 1.05 Delta_k after phase 2 in every trial continued to phase 2 (quick: 1 per setting, "
        "full: 5); Delta_k = PCA's error, compared with FJLT-then-PCA (the phase-1 optimum)."
    ),
    paper=PAPER + " and Prop. 2",
    theory=THEORY,
    notebook=NOTEBOOK + "#landscape.two-phase",
    quick=dict(n=128, d=256, ranks=(8, 16), noise=0.3, trials=4, phase2_trials=1,
               real=(("digits", 5), ("digits", 10)), eps=0.5, phase1_steps=300, phase2_steps=150, phase2_lr=3e-3),
    full=dict(n=1024, d=2048, ranks=(32, 64), noise=0.3, trials=20, phase2_trials=5,
              real=(("digits", 5), ("digits", 10), ("first_names", 10)), eps=0.5,
              phase1_steps=600, phase2_steps=400, phase2_lr=3e-3),
    seed=20210804,
)
def check_two_phase(*, seed, n, d, ranks, noise, trials, phase2_trials, real, eps, phase1_steps, phase2_steps,
                    phase2_lr) -> Result:
    from numerics.datasets import load_digits, load_first_names
    from numerics.sketching import low_rank_residual, sarlos_rows

    settings = []
    for ri, r in enumerate(ranks):
        X = synthetic_low_rank(n, d, int(r), noise, np.random.default_rng([seed, 0, ri]))
        settings.append((f"synthetic rank {r}", X, int(r)))
    for name, k in real:
        if name == "digits":
            X = np.asarray(load_digits(dtype=np.float64).X_train.T)
        elif name == "first_names":
            X = np.asarray(load_first_names(n_features=256, max_samples=3000, dtype=np.float64).X_train.T)
        else:
            raise ValueError(f"unknown real data set {name!r}; expected 'digits' or 'first_names'")
        settings.append((f"{name} k={k}", X, int(k)))
    rows = []
    for si, (name, X, k) in enumerate(settings):
        l = sarlos_rows(k, eps)
        delta_k = low_rank_residual(X, k)
        for t in progress(range(trials), desc=name):
            steps2 = phase2_steps if t < phase2_trials else 0
            res = two_phase(X, k, l, seed=np.random.default_rng([seed, 1, si, t]), phase1_steps=phase1_steps,
                            phase2_steps=steps2, phase2_lr=phase2_lr, delta_k=delta_k)
            rows.append(dict(setting=name, k=k, l=l, n=X.shape[0], d=X.shape[1], delta_k=res.delta_k,
                             sketch_pca=res.sketch_pca / res.delta_k, phase1=res.phase1 / res.delta_k,
                             phase2=res.phase2 / res.delta_k if steps2 else None, curve1=res.curve1 / res.delta_k,
                             curve2=res.curve2 / res.delta_k if steps2 else None))
    names = [s[0] for s in settings]
    frac = {nm: float(np.mean([r["phase1"] <= 1 + eps for r in rows if r["setting"] == nm])) for nm in names}
    worst_frac = min(frac, key=frac.get)
    rows2 = [r for r in rows if r["phase2"] is not None]
    worst2 = max(rows2, key=lambda r: r["phase2"])
    gap1 = max(abs(r["phase1"] - r["sketch_pca"]) / r["sketch_pca"] for r in rows)
    parts = [
        Part(f"min over settings of the fraction of {trials} trials with phase-1 error <= (1+eps) Delta_k (worst: "
             f"{worst_frac})", frac[worst_frac], 0.5, ">="),
        Part(f"max over {len(rows2)} phase-2 runs of phase-2 error / Delta_k (worst: {worst2['setting']})",
             worst2["phase2"], 1.05, "<="),
        Part("min over phase-2 runs of phase-2 error / Delta_k (PCA is optimal: >= 1)",
             min(r["phase2"] for r in rows2), 1.0 - 1e-9, ">="),
    ]
    note = "; ".join(
        f"{nm}: phase 1 {np.median([r['phase1'] for r in rows if r['setting'] == nm]):.3f}, FJLT+PCA "
        f"{np.median([r['sketch_pca'] for r in rows if r['setting'] == nm]):.3f}, phase 2 "
        f"{np.median([r['phase2'] for r in rows2 if r['setting'] == nm]):.3f} x Delta_k (medians)" for nm in names)
    note += f"; max relative gap between trained phase-1 error and the FJLT+PCA optimum: {gap1:.2e}"
    return Result(parts, headline=1, note=note, data=dict(rows=rows, eps=eps, settings=names))


# =====================================================================================
# landscape.assumptions
# =====================================================================================


def repeated_eigenvalue_problem(B, n: int, d: int, spectrum, rng: np.random.Generator):
    """``X`` (``n x d``, Gaussian) and ``Y = A B X + Y_perp`` with ``Sigma(B) = U diag(spectrum) U^T`` exactly
    (``A = U diag(sqrt spectrum) W^T S_zz^{-1/2}``, ``W`` orthogonal, ``Y_perp`` orthogonal to the rows of
    ``B X``), so that repeated values in ``spectrum`` are repeated eigenvalues of ``Sigma(B)``."""
    from scipy import linalg

    X = rng.standard_normal((n, d))
    Z = apply_map(B, X)
    l = Z.shape[0]
    spectrum = np.asarray(spectrum, dtype=np.float64)
    m = spectrum.size
    U, _ = np.linalg.qr(rng.standard_normal((m, m)))
    W, _ = np.linalg.qr(rng.standard_normal((l, l)))
    Szz = Z @ Z.T
    Szz_mhalf = linalg.inv(linalg.sqrtm(Szz).real)
    sq = np.zeros((m, l))
    r = min(m, l)
    sq[np.arange(r), np.arange(r)] = np.sqrt(spectrum[:r])
    A = U @ sq @ W.T @ Szz_mhalf
    P = Z.T @ linalg.solve(Szz, Z)  # projector onto the row space of Z (d x d)
    Yp = rng.standard_normal((m, d)) * 0.1
    Yp -= Yp @ P
    return X, A @ Z + Yp


@claim(
    "landscape.assumptions",
    title="Assumptions matter: a repeated eigenvalue of Sigma(B) gives a continuum of global minima; a singular "
          "B X X^T B^T an affine family in E; the library warns or raises",
    statement=(
        "(a) With B a truncated butterfly (n = 16, l = 6, m = 6, k = 2) and data built so that Sigma(B) has "
        "eigenvalues (4, 2, 2, 1, 0.5, 0.25), EncoderDecoder issues a LandscapeWarning naming Sigma(B) and the "
        "tied pair; the critical points with u_2 replaced by cos(t) u_2 + sin(t) u_3 (t in [0, pi]) all have "
        "gradient <= 1e-10, the global loss (relative 1e-10) and no negative Hessian eigenvalue, and the Hessian "
        "null space grows from k^2 to k^2 + 1. (b) With d = 4 < l = 6 samples B X X^T B^T is singular: "
        "EncoderDecoder raises ValueError naming it; with allow_singular=True it warns, gradient descent from "
        "random starts reaches the pseudo-inverse global value (relative 1e-6), E + F with F B X = 0 leaves loss "
        "and zero gradient unchanged, and the Hessian null space at the minimum is k^2 + k(l - rank BX)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#landscape.assumptions",
    quick=dict(n=16, l=6, k=2, d=40, d_singular=4, n_angles=13, runs=20, gd_steps=5000),
    full=dict(n=32, l=8, k=2, d=100, d_singular=5, n_angles=61, runs=100, gd_steps=10000),
    seed=20210805,
)
def check_assumptions(*, seed, n, l, k, d, d_singular, n_angles, runs, gd_steps) -> Result:
    from numerics.butterfly import TruncatedButterfly

    rng = np.random.default_rng(seed)
    B = TruncatedButterfly.random(n, l, seed=rng, kind="random")
    # (a) repeated eigenvalue lambda_2 = lambda_3, split by the global index set {0, 1} (k = 2)
    spectrum = np.array([4.0, 2.0, 2.0, 1.0, 0.5, 0.25][:l] + [0.1 * 0.5**i for i in range(max(0, l - 6))])
    X, Y = repeated_eigenvalue_problem(B, n, d, spectrum, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = EncoderDecoder(B, X, Y, k=k)
    warned_a = sum(issubclass(w.category, LandscapeWarning) and "Sigma(B)" in str(w.message) for w in caught)
    u = model.eigenvectors
    angles = np.linspace(0.0, math.pi, n_angles)
    target = model.global_value()
    cont = []
    for t in angles:
        U = np.zeros((model.m, k))
        U[:, 0] = u[:, 0]
        U[:, 1] = math.cos(t) * u[:, 1] + math.sin(t) * u[:, 2]
        D, E = model._from_basis(U, np.eye(k))
        c = model.classify(D, E)
        cont.append(dict(angle=t, loss=model.loss(D, E), grad=c.gradient_norm, n_negative=c.n_negative,
                         n_zero=c.n_zero))
    # contrast: the same construction with distinct eigenvalues
    spectrum_d = spectrum.copy()
    spectrum_d[2] = 1.5
    Xd, Yd = repeated_eigenvalue_problem(B, n, d, spectrum_d, rng)
    model_d = EncoderDecoder(B, Xd, Yd, k=k)
    nz_distinct = model_d.classify(*model_d.critical_point(range(k))).n_zero

    # (b) singular B X X^T B^T: fewer samples than rows of B
    # X = B^+ Q with Q (l x d_singular) orthonormal columns, so B X = Q: rank d_singular < l, and the nonzero
    # eigenvalues of B X X^T B^T all equal 1 (gradient descent then converges fast in the E directions that matter)
    Bd = apply_map(B, np.eye(n))
    Qs, _ = np.linalg.qr(rng.standard_normal((l, d_singular)))
    Xs = np.linalg.pinv(Bd) @ Qs
    Ys = rng.standard_normal((l, d_singular))
    raised = 0
    try:
        EncoderDecoder(B, Xs, Ys, k=k)
    except ValueError as exc:
        raised = int("B X X^T B^T" in str(exc) and "singular" in str(exc))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ms = EncoderDecoder(B, Xs, Ys, k=k, allow_singular=True)
    warned_b = sum(issubclass(w.category, LandscapeWarning) and "B X X^T B^T" in str(w.message) for w in caught)
    rank_z = int(np.linalg.matrix_rank(ms.Z))
    Ds, Es = ms.critical_point(range(k))
    cs = ms.classify(Ds, Es)
    from scipy import linalg

    N = linalg.null_space(ms.Z.T)  # l x (l - rank): F = G N^T has F Z = 0
    F = rng.standard_normal((k, N.shape[1])) @ N.T
    shifted_loss_err = abs(ms.loss(Ds, Es + F) - ms.loss(Ds, Es)) / ms.loss(Ds, Es)
    shifted_grad = float(np.sqrt(sum(np.sum(g * g) for g in ms.gradients(Ds, Es + F))))
    scale = np.linalg.norm(ms.Z, 2)
    ms_scaled = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LandscapeWarning)
        ms_scaled = EncoderDecoder(B, Xs / scale, Ys / np.linalg.norm(Ys), k=k, allow_singular=True)
    D0, E0, _ = random_starts(ms_scaled, runs, scales=(1e-2, 1e-1, 0.3), seed=rng)
    r = descend(ms_scaled, D0, E0, method="gd", lr=0.2, steps=gd_steps, record_every=50)
    gd_rel = float(np.max(np.abs(r.final_loss - ms_scaled.global_value()) / ms_scaled.global_value()))

    parts = [
        Part("LandscapeWarnings naming Sigma(B) for the repeated eigenvalue", warned_a, 1, ">="),
        Part("max gradient norm along the continuum of global minima", max(c["grad"] for c in cont), 1e-10, "<="),
        Part("max relative spread of the loss along the continuum", max(abs(c["loss"] - target) / target for c in cont),
             1e-10, "<="),
        Part("negative Hessian eigenvalues along the continuum", sum(c["n_negative"] for c in cont), 0, "=="),
        Part("min Hessian null-space dimension along the continuum minus k^2 (distinct eigenvalues: "
             f"{nz_distinct - k * k})", min(c["n_zero"] for c in cont) - k * k, 1, "=="),
        Part("ValueError naming B X X^T B^T raised for d < l samples", raised, 1, "=="),
        Part("LandscapeWarnings naming B X X^T B^T with allow_singular=True", warned_b, 1, ">="),
        Part("relative loss change from E -> E + F with F B X = 0", shifted_loss_err, 1e-10, "<="),
        Part("gradient norm at (D, E + F)", shifted_grad, 1e-10, "<="),
        Part(f"Hessian null-space dimension at the singular minimum minus (k^2 + k(l - rank BX)) "
             f"[= {k * k + k * (l - rank_z)}]", cs.n_zero - (k * k + k * (l - rank_z)), 0, "=="),
        Part(f"max over {runs} gradient-descent runs of relative distance to the pseudo-inverse global value",
             gd_rel, 1e-6, "<="),
    ]
    data = dict(angles=angles, continuum=cont, target=target, eigenvalues=model.eigenvalues, nz_distinct=nz_distinct,
                singular_eigs=cs.eigenvalues, singular_nullity=cs.n_zero, rank_z=rank_z, l=l, k=k,
                gd_final=r.final_loss, gd_target=ms_scaled.global_value())
    return Result(parts, headline=0, data=data)
