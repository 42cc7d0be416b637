"""Claims about unitary parametrisations, projection and unitary training (theory: ``theory/unitary.md``).

* ``unitary.exact``: every parametrisation gives ``U^H U = I`` to 1e-12 at every step of a descent,
  and its gradient equals finite differences to 1e-7 relative.
* ``unitary.polar``: the gradient-based fit converges to the polar factor (complex ``W``), reaching
  ``sum (sigma_i - 1)^2``; real ``det W < 0`` is detected and the fit reaches the nearest rotation at
  ``sum (sigma_i - 1)^2 + 4 sigma_min``.
* ``unitary.cost``: iterations and seconds to 1e-8 per parametrisation beside the closed-form polar factor.
* ``unitary.gradient-depth``: per-layer gradient norms are exactly constant with depth for orthogonal
  layers, and decay geometrically for an ordinary (uniform) initialisation.
* ``unitary.training``: projection-initialised unitary networks reach the target test accuracy in fewer
  epochs than randomly initialised ones (median over seeds), final gap to the dense network reported.
"""
from __future__ import annotations

import functools
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from numerics._progress import progress
from numerics.claims import Part, Result, claim

from ._param import KINDS, haar, parametrisation
from .network import DeepNet, epochs_to, train
from .projection import ReachabilityWarning, nearest_rotation, optimal_value, polar_factor, project

PAPER = "E: Chang 2021 (arXiv 2102.10052)"
THEORY = "theory/unitary.md"
NOTEBOOK = "notebooks/10_unitary.ipynb"


def conditioned_matrix(n: int, *, complex: bool, seed, lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    """``P diag(s) Q^H`` with Haar ``P, Q`` and singular values ``s`` uniform in ``[lo, hi]`` (not near singular)."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(lo, hi, n)
    return (haar(n, complex=complex, seed=rng) * s) @ haar(n, complex=complex, seed=rng)


def _fd_gradient(f, theta: np.ndarray, h: float) -> np.ndarray:
    """Fourth-order central differences of ``f`` at ``theta``, every coordinate."""
    g = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (8 * (f(theta + e) - f(theta - e)) - (f(theta + 2 * e) - f(theta - 2 * e))) / (12 * h)
    return g


# =====================================================================================
# unitary.exact
# =====================================================================================


@claim(
    "unitary.exact",
    title="The parametrisations are exact: U^H U = I to 1e-12 at every step, gradients = finite differences",
    statement=(
        "For the exponential map, the Cayley transform, Householder products and the rotation butterfly, real and "
        "complex, at sizes n (quick 4, 8, 16; full 4 .. 64): along 30 steps of gradient descent on 1/2||U - W||_F^2 "
        "from a random start, max |U^H U - I| <= 1e-12 at every step; the analytic gradient equals fourth-order "
        "central finite differences of the loss to relative 1e-7 (Euclidean norm, every coordinate, n <= 8)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#unitary.exact",
    quick=dict(ns=(4, 8, 16), fd_n=8, steps=30),
    full=dict(ns=(4, 8, 16, 32, 64), fd_n=8, steps=100),
    seed=20210221,
)
def check_exact(*, seed, ns, fd_n, steps) -> Result:
    orth, fd, rows = {}, {}, []
    with threadpool_limits(1):
        for ki, kind in enumerate(progress(KINDS, desc="parametrisations")):
            for cx in (False, True):
                label = f"{kind} ({'complex' if cx else 'real'})"
                worst = []
                for n in ns:
                    rng = np.random.default_rng([seed, ki, int(cx), n])
                    P = parametrisation(kind, n, complex=cx)
                    theta = P.random(rng, scale=0.5)
                    W = conditioned_matrix(n, complex=cx, seed=rng)
                    errs = []
                    for _ in range(steps):
                        U = P.matrix(theta)
                        errs.append(float(np.abs(U.conj().T @ U - np.eye(n)).max()))
                        theta = theta - 0.2 * P.vjp(theta, U - W)
                    worst.append(max(errs))
                orth[label] = np.array(worst)
                rng = np.random.default_rng([seed, ki, int(cx), 0])
                P = parametrisation(kind, fd_n, complex=cx)
                theta = P.random(rng, scale=0.5)
                W = conditioned_matrix(fd_n, complex=cx, seed=rng)

                def f(t):
                    R = P.matrix(t) - W
                    return 0.5 * float(np.vdot(R, R).real)

                g = P.vjp(theta, P.matrix(theta) - W)
                g_fd = _fd_gradient(f, theta, 1e-3)
                fd[label] = float(np.linalg.norm(g - g_fd) / np.linalg.norm(g))
                rows.append((label, max(worst), fd[label]))
    worst_orth = max(float(v.max()) for v in orth.values())
    worst_fd = max(fd.values())
    parts = [
        Part("max |U^H U - I| over every step, parametrisation and n", worst_orth, 1e-12, "<="),
        Part("max relative |grad - finite differences|", worst_fd, 1e-7, "<="),
    ]
    note = "; ".join(f"{lab}: orth {o:.1e}, fd {e:.1e}" for lab, o, e in rows)
    return Result(parts=parts, headline=0, note=note, data=dict(ns=np.array(ns), orth=orth, fd=fd))


# =====================================================================================
# unitary.polar and unitary.cost (share the fits)
# =====================================================================================


@functools.lru_cache(maxsize=8)
def polar_runs(seed: int, ns: tuple, householder_ns: tuple, max_iter: int, butterfly_iter: int = 500,
               plain_ns: tuple = ()):
    """Fits of complex ``W`` through every parametrisation; closed-form polar timings.  Cached per process."""
    runs = []
    with threadpool_limits(1):
        for n in progress(ns, desc="projection n"):
            W = conditioned_matrix(n, complex=True, seed=np.random.default_rng([seed, n]))
            t0 = time.perf_counter()
            Q = polar_factor(W)
            t_polar = time.perf_counter() - t0
            opt = optimal_value(W)
            for kind in KINDS:
                if kind == "householder" and n not in householder_ns:
                    continue
                if kind == "butterfly" and n & (n - 1):
                    continue
                it = min(max_iter, butterfly_iter) if kind == "butterfly" else max_iter
                r = project(W, kind, reference=Q, max_iter=it, seed=seed)
                runs.append(dict(n=n, kind=kind, distance=r.distance, loss=r.loss, opt=opt,
                                 iterations=r.iterations, converged=r.converged, seconds=r.seconds,
                                 to_1e8=r.iterations_to(1e-8), t_polar=t_polar))
            if n in plain_ns:  # the paper's plain descent in the Lie parameters (reported only)
                r = project(W, "exp", recentre=False, reference=Q, max_iter=max_iter)
                runs.append(dict(n=n, kind="exp-plain", distance=r.distance, loss=r.loss, opt=opt,
                                 iterations=r.iterations, converged=r.converged, seconds=r.seconds,
                                 to_1e8=r.iterations_to(1e-8), t_polar=t_polar))
    return runs


def _det_negative_case(seed: int, n: int, max_iter: int):
    """Real W with det < 0 (singular values 0.5 and [1, 2], so the reachable optimum is well separated)."""
    rng = np.random.default_rng([seed, 99, n])
    s = np.concatenate([[0.5], rng.uniform(1.0, 2.0, n - 1)])
    P, Qm = haar(n, seed=rng), haar(n, seed=rng)
    if np.linalg.det(P) * np.linalg.det(Qm) > 0:
        P[:, 0] *= -1
    W = (P * s) @ Qm
    R = nearest_rotation(W)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = project(W, "exp", reference=R, max_iter=max_iter)
    detected = sum(issubclass(w.category, ReachabilityWarning) for w in caught)
    return dict(W=W, r=r, detected=detected, opt_rot=optimal_value(W, rotation=True), opt=optimal_value(W),
                sigma_min=float(s.min()), dist_polar=float(np.linalg.norm(r.U - polar_factor(W))))


@claim(
    "unitary.polar",
    title="The gradient-based projection converges to the polar factor; real det W < 0 is detected",
    statement=(
        "For complex W = P diag(s) Q^H (Haar P, Q; s uniform in [0.5, 2]) with n up to 128 "
        "(quick 8, 16, 64), gradient descent on 1/2||U - W||_F^2 through the exponential map and the Cayley "
        "transform (recentred), and through "
        "Householder products (n <= 32; quick 8, 16), ends with ||U - polar(W)||_F <= 1e-8 and ||U - W||_F^2 within "
        "1e-9 (relative) of sum (sigma_i - 1)^2.  For real W with det W < 0 the exponential fit raises a "
        "ReachabilityWarning, and converges to the nearest rotation (||U - nearest_rotation(W)||_F <= 1e-8) at the "
        "value sum (sigma_i - 1)^2 + 4 sigma_min (relative 1e-9).  The butterfly fit is reported, not asserted (its "
        "image is a thin subset: the polar factor is generally out of reach), and so is the paper's plain descent in "
        "the Lie parameters (no recentring; quick n = 8, full 8, 16 and 32)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#unitary.polar",
    quick=dict(ns=(8, 16, 64), householder_ns=(8, 16), max_iter=3000, butterfly_iter=300, plain_ns=(8,), neg_n=16),
    full=dict(ns=(8, 16, 32, 64, 128), householder_ns=(8, 16, 32), max_iter=20000, butterfly_iter=5000,
              plain_ns=(8, 16, 32), neg_n=64),
    seed=20210222,
)
def check_polar(*, seed, ns, householder_ns, max_iter, butterfly_iter, plain_ns, neg_n) -> Result:
    runs = polar_runs(seed, tuple(ns), tuple(householder_ns), max_iter, butterfly_iter, tuple(plain_ns))
    asserted = [r for r in runs if r["kind"] in ("exp", "cayley", "householder")]
    dist = max(float(r["distance"][-1]) for r in asserted)
    gap = max(abs(r["loss"][-1] - r["opt"]) / r["opt"] for r in asserted)
    neg = _det_negative_case(seed, neg_n, max_iter)
    r = neg["r"]
    parts = [
        Part(f"max ||U - polar(W)||_F (exp, Cayley n <= {max(ns)}; Householder n <= {max(householder_ns)})", dist,
             1e-8, "<="),
        Part("max relative gap to sum (sigma_i - 1)^2", gap, 1e-9, "<="),
        Part("real det W < 0: ReachabilityWarnings raised", neg["detected"], 1, "=="),
        Part("real det W < 0: ||U - nearest rotation||_F", float(r.distance[-1]), 1e-8, "<="),
        Part("real det W < 0: relative gap to sum (sigma-1)^2 + 4 sigma_min",
             abs(r.loss[-1] - neg["opt_rot"]) / neg["opt_rot"], 1e-9, "<="),
    ]
    bf = [x for x in runs if x["kind"] == "butterfly"]
    note = ("butterfly (not asserted): " + ", ".join(
        f"n={x['n']}: ||U - polar|| = {x['distance'][-1]:.3g}, excess {(x['loss'][-1] - x['opt']):.3g}" for x in bf)
        + f"; det<0 case: ||U - polar(W)||_F = {neg['dist_polar']:.3g} (unreachable), "
          f"sum(sigma-1)^2 = {neg['opt']:.4g} vs reachable {neg['opt_rot']:.4g}")
    return Result(parts=parts, headline=0, note=note,
                  data=dict(runs=runs, negative=dict(distance=r.distance, loss=r.loss, opt_rot=neg["opt_rot"],
                                                     opt=neg["opt"], n=neg_n)))


@claim(
    "unitary.cost",
    title="Cost of projection: iterations and time to 1e-8 per parametrisation, beside the closed-form polar factor",
    statement=(
        "On the matrices of unitary.polar, the recentred exponential and Cayley fits and the Householder fit reach "
        "||U - polar(W)||_F <= 1e-8 within max_iter iterations; the iterations and seconds to 1e-8 of each, and "
        "the seconds of the closed-form polar factor (one SVD), are reported (timings not asserted), together with "
        "the paper's plain (not recentred) descent in the Lie parameters at small n."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#unitary.cost",
    quick=dict(ns=(8, 16, 64), householder_ns=(8, 16), max_iter=3000, butterfly_iter=300, plain_ns=(8,)),
    full=dict(ns=(8, 16, 32, 64, 128), householder_ns=(8, 16, 32), max_iter=20000, butterfly_iter=5000,
              plain_ns=(8, 16, 32)),
    seed=20210222,
)
def check_cost(*, seed, ns, householder_ns, max_iter, butterfly_iter, plain_ns) -> Result:
    runs = polar_runs(seed, tuple(ns), tuple(householder_ns), max_iter, butterfly_iter, tuple(plain_ns))
    parts = []
    for kind in ("exp", "cayley", "householder"):
        rs = [r for r in runs if r["kind"] == kind]
        worst = max((r["to_1e8"] if r["to_1e8"] is not None else np.inf) for r in rs)
        parts.append(Part(f"{kind}: max iterations to 1e-8 (n <= {max(r['n'] for r in rs)})", worst, max_iter, "<="))
    note = "; ".join(
        f"{r['kind']} n={r['n']}: {r['to_1e8'] if r['to_1e8'] is not None else 'not reached'} it, "
        f"{r['seconds'] / max(r['iterations'], 1) * (r['to_1e8'] or r['iterations']):.3g} s"
        for r in runs) + "; closed-form polar: " + ", ".join(
        f"n={n}: {next(r['t_polar'] for r in runs if r['n'] == n):.2g} s" for n in ns)
    return Result(parts=parts, headline=0, note=note, data=dict(runs=runs))


# =====================================================================================
# unitary.gradient-depth
# =====================================================================================


@claim(
    "unitary.gradient-depth",
    title="Stable gradients with depth: orthogonal layers keep every layer's gradient norm; ordinary init decays",
    statement=(
        "In the maxmin network of width 64 on a batch of 128 digits, at initialisation, the Frobenius norm of the "
        "loss gradient with respect to each hidden layer's input is the same for every layer to relative 1e-10 "
        "when the layers are orthogonal (random on SO(n)), at depths 16, 32, 64; with the common uniform "
        "initialisation U(-1/sqrt(n), 1/sqrt(n)) the first layer's gradient norm is >= 100 times smaller than the "
        "last one's already at depth 16 (shrinking about sqrt(3) per layer), and with Gaussian N(0, 1/n) it "
        "drifts as a random walk (reported)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#unitary.gradient-depth",
    quick=dict(depths=(16, 32, 64), width=64, batch=128),
    full=dict(depths=(16, 32, 64, 128), width=128, batch=256),
    seed=20210223,
)
def check_gradient_depth(*, seed, depths, width, batch) -> Result:
    from numerics.datasets import load_digits

    d = load_digits(dtype=np.float64, seed=0)
    X, y = d.X_train[:batch], d.y_train[:batch]
    norms = {}
    spread_u, ratio_uniform = [], []
    with threadpool_limits(1):
        for depth in depths:
            for mode, init in (("exp", "gaussian"), ("dense", "uniform"), ("dense", "gaussian")):
                net = DeepNet(X.shape[1], d.n_classes, width=width, depth=depth, mode=mode, init=init,
                              seed=np.random.default_rng([seed, depth]))
                _, nrm = net.loss_and_grads(X, y)
                nrm = np.array(nrm[:-1])  # inputs of hidden layers 1..depth (nrm[l] = ||dL/dh_l||)
                norms[(depth, "orthogonal" if mode == "exp" else init)] = nrm
                if mode == "exp":
                    spread_u.append(float(nrm.max() / nrm.min() - 1))
                elif init == "uniform":
                    ratio_uniform.append(float(nrm[-1] / nrm[0]))
    parts = [
        Part("orthogonal: max over depths of max/min layer gradient norm - 1", max(spread_u), 1e-10, "<="),
        Part(f"uniform init, depth {depths[0]}: last/first layer gradient norm", ratio_uniform[0], 100.0, ">="),
    ]
    note = ("uniform init last/first: " + ", ".join(f"depth {dd}: {r:.3g}" for dd, r in zip(depths, ratio_uniform))
            + "; gaussian init max/min: " + ", ".join(
                f"depth {dd}: {norms[(dd, 'gaussian')].max() / norms[(dd, 'gaussian')].min():.3g}" for dd in depths))
    return Result(parts=parts, headline=0, note=note, data=dict(norms=norms, depths=np.array(depths)))


# =====================================================================================
# unitary.training
# =====================================================================================


def training_runs(seed: int, seeds: int, width: int, depth: int, epochs: int, pre_epochs: int, lr: float,
                  batch_size: int, mode: str):
    """Per seed: dense pre-training, projection, then unitary training from projection and from random."""
    from numerics.datasets import load_digits

    d = load_digits(dtype=np.float64, seed=0)
    out = []
    with threadpool_limits(1):
        for s in progress(range(seeds), desc="seeds"):
            def rng(i):
                return np.random.default_rng([seed, s, i])

            dense = DeepNet(d.n_features, d.n_classes, width=width, depth=depth, mode="dense", seed=rng(0))
            hd = train(dense, d, epochs=pre_epochs, lr=lr, batch_size=batch_size, seed=rng(1))
            proj = DeepNet.from_dense(dense, mode=mode)
            hp = train(proj, d, epochs=epochs, lr=lr, batch_size=batch_size, seed=rng(2))
            rnd = DeepNet(d.n_features, d.n_classes, width=width, depth=depth, mode=mode, seed=rng(3))
            hr = train(rnd, d, epochs=epochs, lr=lr, batch_size=batch_size, seed=rng(2))
            out.append(dict(dense=np.array(hd.test_accuracy), projected=np.array(hp.test_accuracy),
                            random=np.array(hr.test_accuracy), n_negative=proj.n_negative))
    return out


@claim(
    "unitary.training",
    title="Faster unitary training: projection-initialised unitary networks reach the target accuracy sooner",
    statement=(
        "A maxmin network with 16 orthogonal hidden layers of width 64 on digits (Cayley parametrisation in quick "
        "mode, exponential map in full mode; Adam, lr 1e-3, batch 64), started from the exponential-map projection "
        "of a dense network of the same shape pre-trained for as many epochs, reaches the target test accuracy "
        "(quick 0.9, full 0.92) in fewer epochs than the same network started at random on SO(n): median over 5 "
        "(full 10) seeds, strictly fewer; min/max over seeds and the final accuracy gap to the dense network are "
        "reported."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#unitary.training",
    quick=dict(seeds=5, width=64, depth=16, epochs=6, pre_epochs=6, target=0.9, lr=1e-3, batch_size=64,
               mode="cayley"),
    full=dict(seeds=10, width=64, depth=16, epochs=15, pre_epochs=15, target=0.92, lr=1e-3, batch_size=64,
              mode="exp"),
    seed=20210224,
)
def check_training(*, seed, seeds, width, depth, epochs, pre_epochs, target, lr, batch_size, mode) -> Result:
    runs = training_runs(seed, seeds, width, depth, epochs, pre_epochs, lr, batch_size, mode)
    e_p = np.array([epochs_to(r["projected"], target) for r in runs])
    e_r = np.array([epochs_to(r["random"], target) for r in runs])
    med_p, med_r = float(np.median(e_p)), float(np.median(e_r))
    final_gap = float(np.median([r["dense"][-1] - r["projected"][-1] for r in runs]))
    parts = [
        Part("median epochs to target, projected", med_p, epochs, "<="),
        Part("median epochs (random) - median epochs (projected)", med_r - med_p, 1.0, ">="),
    ]
    note = (f"epochs to {target}: projected {e_p.tolist()}, random {e_r.tolist()}; final accuracy "
            f"dense {np.median([r['dense'][-1] for r in runs]):.3f}, projected "
            f"{np.median([r['projected'][-1] for r in runs]):.3f}, "
            f"random {np.median([r['random'][-1] for r in runs]):.3f}"
            f" (median dense - projected = {final_gap:+.3f}); layers with det W < 0 per seed: "
            f"{[r['n_negative'] for r in runs]}")
    return Result(parts=parts, headline=1, note=note,
                  data=dict(runs=runs, target=target, epochs_projected=e_p, epochs_random=e_r))
