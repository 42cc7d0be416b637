"""Claims about subquadratic training of wide networks (theory: ``theory/subquadratic.md``).

* ``wide.sparsity-init``: active neurons per input at initialisation match ``m Phibar(b)``
  (input layer) and the exact conditional expectation (deeper layers) within 5%, and grow like
  ``m^0.8`` at most for ``b = sqrt(0.4 ln m)``.
* ``wide.sparsity-training``: during training the active sets change less, and the weights
  move relatively less, the wider the network.
* ``wide.low-rank``: ``rank(W_l(t) - W_l(0)) <= B t``.
* ``wide.cost``: counted multiply-adds per step grow like ``m^{<=1.8}`` (fast) vs ``m^2`` (dense).
* ``wide.equivalence``: the fast and dense trainers produce the same iterates (1e-9) and losses,
  which decrease.
* ``wide.fastmm-table``: the fast-multiplication exponents of the amortisation argument (theory only).
"""
from __future__ import annotations

import math
import time

import numpy as np
from scipy.special import ndtr
from threadpoolctl import threadpool_limits

from numerics._progress import progress
from numerics.claims import Part, Result, claim
from numerics.stats import loglog_slope

from . import cost
from .data import digits_task, teacher_student_task
from .dense import DenseTrainer
from .fast import FastTrainer
from .model import WideNet, expected_active, phibar, second_moment
from .training import train

PAPER = "B: Song, Zhang, Zhang 2021 (arXiv 2112.07628)"
THEORY = "theory/subquadratic.md"
NOTEBOOK = "notebooks/06_subquadratic.ipynb"
LR0 = 0.1  # step size in units of 1/(m Phibar(b)) (see theory page)


def ntk_lr(net: WideNet, lr0: float = LR0) -> float:
    """The step size ``lr0 / (m Phibar(b))`` used by the claims (comparable across widths)."""
    return lr0 / expected_active(net.m, net.b)


@claim(
    "wide.sparsity-init",
    title="Shifted ReLU: m Phibar(b) <= m^0.8 active neurons per input at initialisation",
    statement=(
        "With b = sqrt(0.4 ln m), the mean number of active neurons per input of the input layer is "
        "m Phibar(b) within 5%, that of each deeper layer is its exact conditional expectation "
        "sum_i m Phibar(b sqrt(m q(b)) / ||h_i||) within 5%, for every m tried; the count is <= m^0.8 "
        "and its fitted log-log slope against m is <= 0.8."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#wide.sparsity-init",
    quick={"log2_ms": [9, 10, 11, 12], "seeds": 6, "n": 128, "depth": 2},
    full={"log2_ms": [9, 10, 11, 12, 13, 14], "seeds": 16, "n": 256, "depth": 2},
    seed=20211214,
)
def check_sparsity_init(*, seed, log2_ms, seeds, n, depth) -> Result:
    """Counts on teacher-student inputs (independent, unit norm) and, for the figure, on digits."""
    ms = [2**p for p in log2_ms]
    Xt, _ = teacher_student_task(n, d=64, seed=seed)
    Xd, _ = digits_task(min(n, 256), seed=seed)
    obs = np.zeros((len(ms), depth + 1))
    cond = np.zeros((len(ms), depth + 1))
    dig = np.zeros((len(ms), depth + 1))
    with threadpool_limits(1):
        for a, m in enumerate(progress(ms, desc="sparsity-init")):
            for s in range(seeds):
                net = WideNet.init(m, depth=depth, d_in=64, d_out=1, seed=seed * 1000 + 10 * m + s)
                dig[a] += net.active_counts(Xd).mean(axis=0) / seeds
                pre, post, _ = net.forward(Xt)
                obs[a] += np.array([np.count_nonzero(z > net.b, axis=1).mean() for z in pre]) / seeds
                q = second_moment(net.b)
                c = [m * phibar(net.b)]  # ||x|| = 1: exactly N(0, 1) pre-activations
                for h in post[:-1]:
                    sd = np.linalg.norm(h, axis=1) / math.sqrt(m * q)
                    with np.errstate(divide="ignore"):  # an all-zero h gives no active neuron: ndtr(-inf) = 0
                        c.append(float(np.mean(m * ndtr(-net.b / sd))))
                cond[a] += np.array(c) / seeds
                del net, pre, post
    expected = np.array([expected_active(m, math.sqrt(0.4 * math.log(m))) for m in ms])
    ratio0 = obs[:, 0] / expected
    ratio_deep = obs[:, 1:] / cond[:, 1:]
    ms_arr = np.array(ms, dtype=float)
    slope = loglog_slope(ms_arr, obs[:, 0])
    parts = [
        Part("max over m |mean active / (m Phibar(b)) - 1|, input layer", float(np.max(np.abs(ratio0 - 1))), 0.05, "<="),
        Part("max over m, layers >= 1 |mean active / conditional expectation - 1|", float(np.max(np.abs(ratio_deep - 1))), 0.05, "<="),
        Part("max over m of mean active / m^0.8 (all layers)", float(np.max(obs / ms_arr[:, None] ** 0.8)), 1.0, "<="),
        Part("fitted log-log slope of active count vs m, input layer", slope, 0.8, "<="),
    ]
    note = (
        f"m = {ms[0]}..{ms[-1]}, {seeds} networks per m, {n} teacher-student inputs; deeper layers against "
        f"m Phibar(b) unconditionally: ratios {np.round(obs[:, 1:].mean(1) / expected, 3).tolist()}."
    )
    data = {"ms": ms_arr, "observed": obs, "conditional": cond, "expected": expected, "digits": dig,
            "ratio_input": ratio0, "ratio_deep": ratio_deep, "slope": slope}
    return Result(parts=parts, headline=0, note=note, data=data)


@claim(
    "wide.sparsity-training",
    title="Active sets and weights change less the wider the network",
    statement=(
        "Training on digits (full batch, step lr0/(m Phibar(b))), the fraction of active (sample, neuron) "
        "pairs of the trained layers that flipped between initialisation and the end, and "
        "||W(t) - W(0)||_F / ||W(0)||_F, both have a negative fitted log-log slope against m."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#wide.sparsity-training",
    quick={"log2_ms": [9, 10, 11, 12], "steps": 30, "n": 32},
    full={"log2_ms": [9, 10, 11, 12, 13, 14], "steps": 100, "n": 32},
    seed=20211215,
)
def check_sparsity_training(*, seed, log2_ms, steps, n) -> Result:
    ms = [2**p for p in log2_ms]
    X, Y = digits_task(n, seed=seed)
    flips, rel, losses = [], [], []
    with threadpool_limits(1):
        for m in progress(ms, desc="sparsity-training"):
            net = WideNet.init(m, depth=2, d_in=X.shape[1], d_out=Y.shape[1], seed=seed + m)
            fast = FastTrainer(net, lr=ntk_lr(net), copy=False)
            pre0 = [z > net.b for z in net.forward(X)[0][1:]]
            W0 = [net.weight(l).copy() for l in range(1, net.depth + 1)]
            h = train(fast, X, Y, steps=steps, seed=seed)
            pre1 = [z > net.b for z in fast.net.forward(X)[0][1:]] if fast.rank == 0 else None
            if pre1 is None:
                fast.densify()
                pre1 = [z > net.b for z in fast.net.forward(X)[0][1:]]
            flips.append(sum(int(np.sum(a != b)) for a, b in zip(pre0, pre1)) / sum(int(a.sum()) for a in pre0))
            rel.append(float(np.mean([np.linalg.norm(fast.net.weight(l) - W0[l - 1]) / np.linalg.norm(W0[l - 1])
                                      for l in range(1, net.depth + 1)])))
            losses.append(h.losses)
            del net, fast, W0
    ms_arr = np.array(ms, dtype=float)
    s_flip = loglog_slope(ms_arr, flips)
    s_rel = loglog_slope(ms_arr, rel)
    parts = [
        Part("fitted log-log slope of flip fraction vs m", s_flip, 0.0, "<="),
        Part("fitted log-log slope of ||W(t)-W(0)||_F/||W(0)||_F vs m", s_rel, 0.0, "<="),
        Part("final / initial loss, largest m", float(losses[-1][-1] / losses[-1][0]), 1.0, "<="),
    ]
    note = f"flip fractions {np.round(flips, 4).tolist()}, relative changes {[f'{r:.2e}' for r in rel]} after {steps} steps"
    return Result(parts=parts, headline=0, note=note,
                  data={"ms": ms_arr, "flips": np.array(flips), "rel_change": np.array(rel), "losses": np.array(losses)})


@claim(
    "wide.low-rank",
    title="W(t) - W(0) has rank at most (samples per step) x t",
    statement=(
        "For the dense reference trainer (batch B = 16, digits), the numerical rank (singular values above "
        "1e-10 times the largest) of W_l(t) - W_l(0) is at most B t for every layer and t = 1..steps."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#wide.low-rank",
    quick={"m": 512, "steps": 12, "batch": 16},
    full={"m": 2048, "steps": 40, "batch": 16},
    seed=20211216,
)
def check_low_rank(*, seed, m, steps, batch) -> Result:
    X, Y = digits_task(128, seed=seed)
    net = WideNet.init(m, depth=2, d_in=X.shape[1], d_out=Y.shape[1], seed=seed)
    W0 = [net.weight(l).copy() for l in (1, 2)]
    ranks = np.zeros((steps, 2), dtype=int)
    spectra = []

    def record(t, tr):
        for l in (1, 2):
            sv = np.linalg.svd(tr.net.weight(l) - W0[l - 1], compute_uv=False)
            ranks[t, l - 1] = int(np.sum(sv > 1e-10 * sv[0]))
            if l == 1 and t in (0, steps // 2, steps - 1):
                spectra.append((t + 1, sv))

    with threadpool_limits(1):
        train(DenseTrainer(net, lr=ntk_lr(net)), X, Y, steps=steps, batch_size=batch, seed=seed, callback=record)
    ts = np.arange(1, steps + 1)
    worst = float(np.max(ranks / (batch * ts)[:, None]))
    parts = [Part("max over t, l of rank(W_l(t) - W_l(0)) / (B t)", worst, 1.0, "<=")]
    note = f"m={m}, B={batch}: ranks at t = 1..{steps} (layer 1): {ranks[:, 0].tolist()}"
    return Result(parts=parts, note=note, data={"t": ts, "ranks": ranks, "bound": batch * ts, "spectra": spectra})


def _cost_run(m, *, trainer, X, Y, batch, steps, seed):
    net = WideNet.init(m, depth=2, d_in=X.shape[1], d_out=Y.shape[1], seed=seed + m)
    cls = FastTrainer if trainer == "fast" else DenseTrainer
    tr = cls(net, lr=ntk_lr(net), copy=False)
    h = train(tr, X, Y, steps=steps, batch_size=batch, seed=seed)
    period = getattr(tr, "densify_every", 1) or 1
    counts = h.total_counts()
    per_step = float(counts.mean())
    parts = {k: float(np.mean([c[k] for c in h.counts])) for k in h.counts[0]}
    return per_step, float(np.median(h.seconds[1:] if steps > 1 else h.seconds)), parts, period


@claim(
    "wide.cost",
    title="Counted operations per step: m^{<=1.8} (fast) against m^2 (dense)",
    statement=(
        "Multiply-adds per training step counted by the trainers (L = 2, batch 16, digits, steps averaged "
        "over whole densify periods) have a fitted log-log exponent <= 1.8 for the fast trainer and in "
        "[1.9, 2.1] for the dense one; the cost model's predicted exponent over the same m lies within 0.1 "
        "of the fast trainer's and is <= 1.8."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#wide.cost",
    quick={"log2_ms": [9, 10, 11, 12], "dense_log2_ms": [9, 10, 11], "steps": 4, "batch": 16},
    full={"log2_ms": [9, 10, 11, 12, 13, 14], "dense_log2_ms": [9, 10, 11, 12, 13, 14], "steps": 8, "batch": 16},
    seed=20211217,
)
def check_cost(*, seed, log2_ms, dense_log2_ms, steps, batch) -> Result:
    X, Y = digits_task(128, seed=seed)
    ms = [2**p for p in log2_ms]
    dms = [2**p for p in dense_log2_ms]
    fast, fast_sec, fast_parts, dense, dense_sec = [], [], [], [], []
    with threadpool_limits(1):
        for m in progress(ms, desc="cost fast"):
            T = cost.densify_period(m, batch)
            c, s, p, _ = _cost_run(m, trainer="fast", X=X, Y=Y, batch=batch, steps=T * max(1, -(-steps // T)), seed=seed)
            fast.append(c), fast_sec.append(s), fast_parts.append(p)
        for m in progress(dms, desc="cost dense"):
            c, s, _, _ = _cost_run(m, trainer="dense", X=X, Y=Y, batch=batch, steps=steps, seed=seed)
            dense.append(c), dense_sec.append(s)
    pred = cost.predicted_exponent(ms, batch=batch, depth=2, d_in=X.shape[1], d_out=Y.shape[1],
                                   period=cost.densify_period(ms[-1], batch))
    s_fast = loglog_slope(ms, fast)
    s_dense = loglog_slope(dms, dense)
    parts = [
        Part("fitted exponent, fast trainer counts", s_fast, 1.8, "<="),
        Part("fitted exponent, dense trainer counts", s_dense, (1.9, 2.1), "in"),
        Part("|fast exponent - model's predicted exponent|", abs(s_fast - pred["fitted"]), 0.1, "<="),
        Part("model's predicted exponent over the same m", pred["fitted"], 1.8, "<="),
    ]
    note = (
        f"m = {ms[0]}..{ms[-1]} (dense {dms[0]}..{dms[-1]}); predicted exponent {pred['fitted']:.3f} "
        f"(asymptotically 1.8); wall-time exponents (reported, not asserted): fast "
        f"{loglog_slope(ms, fast_sec):.2f}, dense {loglog_slope(dms, dense_sec):.2f}"
    )
    data = {"ms": np.array(ms), "fast": np.array(fast), "dense_ms": np.array(dms), "dense": np.array(dense),
            "predicted": pred["totals"], "fast_seconds": np.array(fast_sec), "dense_seconds": np.array(dense_sec),
            "fast_parts": fast_parts, "slope_fast": s_fast, "slope_dense": s_dense, "slope_predicted": pred["fitted"]}
    return Result(parts=parts, headline=0, note=note, data=data)


@claim(
    "wide.equivalence",
    title="Training is unchanged: fast and dense iterates agree to 1e-9",
    statement=(
        "Over `steps` minibatch steps (batch 16) on digits and on the teacher-student task, with lazy "
        "factors (densify every 3 steps) and with the default schedule, the losses of the fast and dense "
        "trainers agree to 1e-9 relative at every step, the weights to 1e-9 relative (Frobenius) at the end, "
        "and the mean loss of the last 10 steps is at most half that of the first 10."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#wide.equivalence",
    quick={"m": 1024, "steps": 50},
    full={"m": 4096, "steps": 200},
    seed=20211218,
)
def check_equivalence(*, seed, m, steps) -> Result:
    tasks = {"digits": digits_task(64, seed=seed), "teacher-student": teacher_student_task(64, d=32, seed=seed)}
    loss_err, w_err, decrease, curves = 0.0, 0.0, 0.0, {}
    with threadpool_limits(1):
        for name, (X, Y) in tasks.items():
            net = WideNet.init(m, depth=2, d_in=X.shape[1], d_out=Y.shape[1], seed=seed)
            dense = DenseTrainer(net, lr=ntk_lr(net))
            hd = train(dense, X, Y, steps=steps, batch_size=16, seed=seed)
            curves[name] = {"dense": hd.losses}
            for T in (3, None):
                fast = FastTrainer(net, lr=ntk_lr(net), densify_every=T)
                hf = train(fast, X, Y, steps=steps, batch_size=16, seed=seed)
                curves[name][f"fast T={fast.densify_every}"] = hf.losses
                loss_err = max(loss_err, float(np.max(np.abs(hf.losses - hd.losses) / np.abs(hd.losses))))
                for l in (1, 2):
                    Wd = dense.weight(l)
                    w_err = max(w_err, float(np.linalg.norm(fast.weight(l) - Wd) / np.linalg.norm(Wd)))
            decrease = max(decrease, float(hd.losses[-10:].mean() / hd.losses[:10].mean()))
    parts = [
        Part("max relative loss difference fast vs dense (all steps, tasks, schedules)", loss_err, 1e-9, "<="),
        Part("max relative Frobenius weight difference at the end", w_err, 1e-9, "<="),
        Part("max over tasks of mean loss last 10 / first 10 steps", decrease, 0.5, "<="),
    ]
    return Result(parts=parts, headline=0, note=f"m={m}, L=2, {steps} steps, float64", data={"curves": curves})


@claim(
    "wide.fastmm-table",
    title="Fast rectangular multiplication makes the lazy re-densification subquadratic (theory)",
    statement=(
        "From the anchors omega = 2.3728596 and alpha = 0.31389 (omega(1,1,alpha) = 2) and convexity: re-densifying "
        "rank m^alpha every m^alpha/B steps costs m^(2-alpha) = m^1.686 per step, the best rank exponent for dense "
        "factors gives a per-step exponent below 1.6, while cubic (BLAS) multiplication gives 2 for every rank. "
        "Theory only: nothing here is measured."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#wide.fastmm-table",
    quick={"grid": 2001},
    full={"grid": 20001},
    seed=0,
)
def check_fastmm_table(*, seed, grid) -> Result:
    a = np.linspace(0.0, 1.0, grid)
    rows = cost.mm_table(a)
    dens = np.array([r["densify_fastmm"] for r in rows])
    low = np.array([r["lowrank"] for r in rows])
    both = np.maximum(dens, low)
    k = int(np.argmin(both))
    blas = np.array([max(r["densify_blas"], r["lowrank"]) for r in rows])
    table = cost.mm_table()
    parts = [
        Part("omega(1,1,1) bound equals omega (anchor)", abs(cost.omega_rect(1.0) - cost.OMEGA), 1e-12, "<="),
        Part("amortised densify exponent at a = alpha", cost.omega_rect(cost.ALPHA) - cost.ALPHA, 2.0 - cost.ALPHA + 1e-12, "<="),
        Part("min over a of max(densify, low-rank) exponent, fast MM", float(both[k]), 1.6, "<="),
        Part("min over a of the same with cubic (BLAS) multiplication", float(blas.min()), 2.0, ">="),
    ]
    periods = {f"m=2^{p}": cost.densify_period(2**p, 16) for p in (9, 12, 14, 20, 30)}
    note = f"best rank exponent a = {a[k]:.4f}, per-step exponent {both[k]:.4f}; periods T = m^alpha/16: {periods}"
    return Result(parts=parts, headline=2, note=note,
                  data={"a": a, "densify_fastmm": dens, "lowrank": low, "blas": blas, "table": table, "periods": periods})
