"""Claims about Johnson-Lindenstrauss projections (paper A's FJLT building block).

* ``jl.norm``: for a fixed unit ``x`` and a random ``J`` (SRHT, Ailon-Chazelle,
  Gaussian, sparse), ``E ||Jx||^2 = 1``, ``std ||Jx||^2 ~ k^{-1/2}``, and the
  failure rate ``P(| ||Jx||^2 - 1 | > eps)`` at ``k = jl_min_dim(N, eps)`` is at
  most the per-vector bound ``2/N^2`` that dimension is built on.
* ``jl.adversarial``: without the random signs ``D``, subsampled Hadamard (and
  plain coordinate sampling) fails on inputs that are spiky in the transform
  (or original) domain; with ``D`` the same inputs meet the JL bound.
* ``jl.digits``: pairwise-distance distortion on scikit-learn's digits.

Every trial uses a fresh operator from its own child seed (see
:mod:`numerics.jl.experiments`); the theory is in ``theory/jl.md``.
"""
from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial.distance import pdist

from numerics.claims import Part, Result, claim
from numerics.stats import clopper_pearson, loglog_slope, standard_error

from .dims import jl_failure_bound, jl_min_dim
from .experiments import (
    METHODS,
    child_seeds,
    distortion,
    make_operator,
    norm_trials,
    pairwise_ratios,
    sampling_only_norms,
    unsigned_srht_norms,
)

PAPER = "A: Ailon et al. 2021 (UAI)"
THEORY = "theory/jl.md"
NOTEBOOK = "notebooks/01_fwht_fjlt.ipynb"


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    g = rng.standard_normal(n)
    return g / np.linalg.norm(g)


# =====================================================================================
# jl.norm
# =====================================================================================


def predicted_variance(method: str, x: np.ndarray, k: int) -> float:
    """Derived ``Var ||Jx||^2`` for a fixed unit ``x`` (``theory/jl.md``, section "Variance").

    With ``n`` the padded length and ``r4 = sum x_j^4``:

    * Gaussian: ``2/k``;
    * sparse, ``s = 1/density``: ``(2 + (s - 3) r4) / k``;
    * Ailon-Chazelle, density ``q``: ``(2 + 3 (1/q - 1)(3 - 2 r4)/n) / k``;
    * SRHT (rows without replacement): ``(2 - 2 r4)(n - k) / (k (n - 1))``.
    """
    from .operators import _next_pow2, ailon_chazelle_q

    x = np.asarray(x, dtype=np.float64)
    r4 = float(np.sum(x**4))
    n = _next_pow2(x.size)
    if method == "gaussian":
        return 2.0 / k
    if method == "sparse":
        s = np.sqrt(x.size)  # default density 1/sqrt(n_features)
        return (2.0 + (s - 3.0) * r4) / k
    if method == "ailon-chazelle":
        q = ailon_chazelle_q(n)
        return (2.0 + 3.0 * (1.0 / q - 1.0) * (3.0 - 2.0 * r4) / n) / k
    if method == "srht":
        return (2.0 - 2.0 * r4) * (n - k) / (k * (n - 1)) if n > 1 else 0.0
    raise ValueError(f"unknown method {method!r}")


@claim(
    "jl.norm",
    title="JL norm preservation of SRHT, Ailon-Chazelle, Gaussian and sparse projections",
    statement=(
        "For a fixed unit x and a random J (SRHT, Ailon-Chazelle FJLT, Gaussian, sparse): "
        "E||Jx||^2 = 1 (within 3 standard errors), std ||Jx||^2 decays like k^(-1/2) "
        "(fitted log-log slope -0.5 +- 0.1) and matches the derived variance within 10%, and at k = jl_min_dim(N, eps) the failure rate "
        "P(| ||Jx||^2 - 1 | > eps) is at most the per-vector bound 2 exp(-k(eps^2/2 - eps^3/3)/2) <= 2/N^2."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#jl.norm",
    quick=dict(n=512, ks=(8, 16, 32, 64), trials=2000, n_fail=600, n_points=2, eps_fail=(0.1, 0.2, 0.5), trials_fail=1000),
    full=dict(n=4096, ks=(16, 32, 64, 128, 256, 512), trials=3000, n_fail=2048, n_points=10, eps_fail=(0.1, 0.2, 0.5), trials_fail=2000),
    seed=20210701,
)
def check_norm(*, seed, n, ks, trials, n_fail, n_points, eps_fail, trials_fail) -> Result:
    methods = list(METHODS)
    ks = [int(k) for k in ks]
    x = _unit(np.random.default_rng([seed, 0]), n)
    norms, means, ses, stds, slopes, predicted = {}, {}, {}, {}, {}, {}
    parts_mean, parts_slope, parts_var, parts_fail = [], [], [], []
    for mi, method in enumerate(methods):
        vals = np.stack([norm_trials(method, x, k, trials, [seed, 1, mi, k]) for k in ks])
        norms[method] = vals
        means[method] = vals.mean(axis=1)
        ses[method] = np.array([standard_error(v) for v in vals])
        stds[method] = vals.std(axis=1, ddof=1)
        slopes[method] = loglog_slope(ks, stds[method])
        z = np.abs(means[method] - 1.0) / ses[method]
        parts_mean.append(Part(f"{method}: max over k of |mean ||Jx||^2 - 1| / SE", float(z.max()), 3.0, "<="))
        parts_slope.append(Part(f"{method}: log-log slope of std ||Jx||^2 vs k", slopes[method], (-0.6, -0.4), "in"))
        predicted[method] = np.sqrt([predicted_variance(method, x, k) for k in ks])
        rel = np.abs(stds[method] / predicted[method] - 1.0)
        parts_var.append(Part(f"{method}: max over k of |std / derived std - 1|", float(rel.max()), 0.1, "<="))

    # failure rate at the JL dimension: a fresh unit x of dimension n_fail, one bound per eps
    x_fail = _unit(np.random.default_rng([seed, 2]), n_fail)
    eps_fail = [float(e) for e in eps_fail]
    k_fail = [int(jl_min_dim(n_points, e)) for e in eps_fail]
    deltas = [float(jl_failure_bound(k, e)) for k, e in zip(k_fail, eps_fail)]
    rates = {m: [] for m in methods}
    fail_norms = {m: [] for m in methods}
    for ei, (eps, k, delta) in enumerate(zip(eps_fail, k_fail, deltas)):
        if k > n_fail:
            raise ValueError(f"jl_min_dim({n_points}, {eps}) = {k} exceeds n_fail={n_fail}; raise n_fail")
        for mi, method in enumerate(methods):
            vals = norm_trials(method, x_fail, k, trials_fail, [seed, 3, mi, ei])
            fail_norms[method].append(vals)
            rate = float(np.mean(distortion(vals) > eps))
            rates[method].append(rate)
            parts_fail.append(Part(f"{method}: failure rate at eps={eps}, k={k} (bound 2exp(-k c/2))", rate, delta, "<="))

    # the Gaussian's failure probability is known exactly: ||Gx||^2 ~ chi2_k / k for unit x
    chi2_rates = [float(stats.chi2.sf(k * (1 + e), k) + stats.chi2.cdf(k * (1 - e), k)) for k, e in zip(k_fail, eps_fail)]
    parts_exact = []
    for eps, k, p, rate in zip(eps_fail, k_fail, chi2_rates, rates["gaussian"]):
        lo = float(stats.binom.ppf(0.0005, trials_fail, p)) / trials_fail
        hi = float(stats.binom.ppf(0.9995, trials_fail, p)) / trials_fail
        parts_exact.append(Part(f"gaussian: failure rate at eps={eps} vs exact chi-square {p:.4g} (99.9% band)", rate, (lo, hi), "in"))
    parts = parts_mean + parts_slope + parts_var + parts_fail + parts_exact
    note = (
        f"x fixed, J fresh per trial; {trials} trials per (method, k) at n={n}; failure rates from {trials_fail} trials "
        f"at n={n_fail}, N={n_points} points (per-vector bound 2/N^2={2 / n_points**2:.3g}); "
        f"exact Gaussian failure rates {', '.join(f'{r:.3g}' for r in chi2_rates)}"
    )
    data = dict(
        methods=methods, ks=np.array(ks), n=n, norms=norms, means=means, ses=ses, stds=stds, slopes=slopes,
        predicted_stds=predicted,
        eps_fail=np.array(eps_fail), k_fail=np.array(k_fail), deltas=np.array(deltas), rates=rates,
        fail_norms=fail_norms, chi2_rates=np.array(chi2_rates), n_points=n_points, n_fail=n_fail,
    )
    return Result(parts=parts, headline=len(parts_mean), note=note, data=data)


# =====================================================================================
# jl.adversarial
# =====================================================================================


@claim(
    "jl.adversarial",
    title="Random signs D are what make the subsampled Hadamard transform a JL map",
    statement=(
        "Without D, sqrt(n/k) S (H/sqrt n) maps a normalised Hadamard column to squared norm 0 or n/k "
        "(failure rate 1), and on a block indicator its failure rate follows the exact hypergeometric law; "
        "plain coordinate sampling fails on e_1 in the same way. With random signs (the SRHT) e_1 is "
        "preserved exactly and all three inputs meet the per-vector JL bound at k = jl_min_dim(N, eps)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#jl.adversarial",
    quick=dict(n=1024, eps=0.5, n_points=10, trials=2000, block=16),
    full=dict(n=16384, eps=0.5, n_points=10, trials=10000, block=128),
    seed=20210702,
)
def check_adversarial(*, seed, n, eps, n_points, trials, block) -> Result:
    from scipy.linalg import hadamard  # noqa: F401  (documentation: the column below is hadamard(n)[:, 1])

    k = int(jl_min_dim(n_points, eps))
    if k > n:
        raise ValueError(f"jl_min_dim({n_points}, {eps}) = {k} exceeds n={n}")
    delta = float(jl_failure_bound(k, eps))
    e1 = np.zeros(n)
    e1[0] = 1.0
    # column 1 of the Sylvester Hadamard matrix: (-1)^(j & 1), normalised
    hcol = np.where(np.arange(n) & 1, -1.0, 1.0) / np.sqrt(n)
    blk = np.zeros(n)
    blk[:block] = 1.0 / np.sqrt(block)
    inputs = {"e_1": e1, "Hadamard column": hcol, f"block of {block}": blk}
    methods = {
        "sampling only (sqrt(n/k) S)": sampling_only_norms,
        "no signs (sqrt(n/k) S H/sqrt n)": unsigned_srht_norms,
        "SRHT (with D)": lambda x, k, t, s: norm_trials("srht", x, k, t, s),
    }
    norms = {}
    for ii, (iname, x) in enumerate(inputs.items()):
        for mi, (mname, fn) in enumerate(methods.items()):
            norms[(iname, mname)] = fn(x, k, trials, [seed, ii, mi])
    rate = {key: float(np.mean(distortion(v) > eps)) for key, v in norms.items()}
    maxdist = {key: float(distortion(v).max()) for key, v in norms.items()}

    # exact law of the unsigned transform on the block: H x = sqrt(m) on the n/m multiples of m,
    # so ||J x||^2 = (m/k) C with C ~ Hypergeometric(n, n/m, k)
    hg = stats.hypergeom(n, n // block, k)
    c = np.arange(0, min(k, n // block) + 1)
    p_block = float(hg.pmf(c)[np.abs(block / k * c - 1.0) > eps].sum())
    lo = float(stats.binom.ppf(0.0005, trials, p_block)) / trials
    hi = float(stats.binom.ppf(0.9995, trials, p_block)) / trials

    S, U, R = list(methods)
    B = f"block of {block}"
    parts = [
        Part("SRHT: failure rate on the Hadamard column", rate[("Hadamard column", R)], delta, "<="),
        Part("SRHT: failure rate on the block", rate[(B, R)], delta, "<="),
        Part("SRHT: max | ||Je_1||^2 - 1 | (H D e_1 is flat)", maxdist[("e_1", R)], 1e-12, "<="),
        Part("no signs: failure rate on the Hadamard column (exact: 1)", rate[("Hadamard column", U)], 0.99, ">="),
        Part("no signs: failure rate on the block vs exact hypergeometric (99.9% band)", rate[(B, U)], (lo, hi), "in"),
        Part("sampling only: failure rate on e_1 (exact: 1)", rate[("e_1", S)], 0.99, ">="),
    ]
    note = (
        f"n={n}, k=jl_min_dim({n_points}, {eps})={k}, per-vector bound {delta:.3g}; {trials} fresh operators per cell; "
        f"max distortion with/without D on the Hadamard column: {maxdist[('Hadamard column', R)]:.3g} / "
        f"{maxdist[('Hadamard column', U)]:.3g}"
    )
    data = dict(
        n=n, k=k, eps=eps, delta=delta, inputs=list(inputs), methods=list(methods), norms=norms, rate=rate,
        maxdist=maxdist, p_block_exact=p_block, block=block,
    )
    return Result(parts=parts, headline=0, note=note, data=data)


# =====================================================================================
# jl.digits
# =====================================================================================


@claim(
    "jl.digits",
    title="Pairwise-distance distortion of SRHT and Gaussian projections on the digits data",
    statement=(
        "On scikit-learn's digits (1797 x 64), the expected fraction of the 1.6 million pairs whose squared "
        "distance is distorted by more than eps is at most the per-pair bound 2 exp(-k(eps^2/2 - eps^3/3)/2) "
        "for SRHT and Gaussian projections; for the Gaussian it equals the exact chi-square rate; "
        "the SRHT with k = n = 64 preserves every distance exactly."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#jl.digits",
    quick=dict(ks=(8, 16, 32, 48, 64), reps=16, eps=0.5, k_check=(32, 48)),
    full=dict(ks=(4, 8, 16, 24, 32, 40, 48, 56, 64), reps=40, eps=0.5, k_check=(24, 32, 40, 48, 56)),
    seed=20210703,
)
def check_digits(*, seed, ks, reps, eps, k_check) -> Result:
    from sklearn.datasets import load_digits

    X = load_digits().data.astype(np.float64)
    n = X.shape[1]
    methods = ["srht", "gaussian"]
    ks = [int(k) for k in ks]
    bins = np.linspace(-2.0, 1.0, 121)  # log10 of the distance ratio
    frac = {m: np.zeros((len(ks), reps)) for m in methods}
    maxdist = {m: np.zeros((len(ks), reps)) for m in methods}
    hist = {m: np.zeros((len(ks), bins.size - 1)) for m in methods}
    quant = {m: np.zeros((len(ks), 3)) for m in methods}
    d0 = pdist(X, "sqeuclidean")
    for mi, m in enumerate(methods):
        for ki, k in enumerate(ks):
            seeds = child_seeds([seed, mi, k], reps)
            for r in range(reps):
                ratio = pairwise_ratios(X, make_operator(m, n, k, seeds[r]), d0=d0)
                d = distortion(ratio)
                frac[m][ki, r] = np.mean(d > eps)
                maxdist[m][ki, r] = d.max()
                if r == 0:
                    hist[m][ki] = np.histogram(np.log10(np.maximum(ratio, 1e-300)), bins=bins)[0]
                    quant[m][ki] = np.quantile(ratio, [0.001, 0.5, 0.999])
    deltas = np.array([float(jl_failure_bound(k, eps)) for k in ks])
    p_chi2 = np.array([float(stats.chi2.sf(k * (1 + eps), k) + stats.chi2.cdf(k * (1 - eps), k)) for k in ks])

    parts = []
    for m in methods:
        for k in k_check:
            ki = ks.index(int(k))
            parts.append(Part(f"{m} k={k}: mean fraction of pairs with distortion > {eps}", float(frac[m][ki].mean()), float(deltas[ki]), "<="))
    tq = float(stats.t.ppf(0.9995, reps - 1))
    for k in k_check:
        ki = ks.index(int(k))
        f = frac["gaussian"][ki]
        half = tq * f.std(ddof=1) / np.sqrt(reps)
        parts.append(Part(f"gaussian k={k}: mean fraction vs exact chi-square rate {p_chi2[ki]:.4g} (99.9% t band)", float(f.mean()), (float(p_chi2[ki] - half), float(p_chi2[ki] + half)), "in"))
    if n in ks:
        parts.append(Part(f"srht k=n={n}: max distortion over all pairs", float(maxdist["srht"][ks.index(n)].max()), 1e-12, "<="))
    n_pairs = X.shape[0] * (X.shape[0] - 1) // 2
    note = (
        f"{n_pairs} pairs, {reps} fresh operators per (method, k); all-pairs JL would need "
        f"k >= jl_min_dim(1797, eps) = {int(jl_min_dim(1797, eps))} > 64, so the per-pair statement is what is checked"
    )
    data = dict(
        ks=np.array(ks), methods=methods, eps=eps, frac=frac, maxdist=maxdist, hist=hist, bins=bins,
        quantiles=quant, deltas=deltas, p_chi2=p_chi2, n_pairs=n_pairs,
    )
    return Result(parts=parts, headline=0, note=note, data=data)
