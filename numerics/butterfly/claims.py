"""Claims about butterfly matrices (theory: ``theory/butterfly.md``).

* ``butterfly.factor-algebra``: the Hadamard-, FJLT- and DFT-initialised
  butterflies multiply out to ``H_n / sqrt n``, ``H_n D / sqrt n`` and the DFT
  matrix (with the bit-reversal permutation), to rounding.
* ``butterfly.weight-counts``: a butterfly has ``2 n log2 n`` weights, all used
  when every output is kept; a truncated one keeping ``l`` outputs uses at most
  ``2 n log2 l + 6 n`` (paper, appendix F) -- in fact at most
  ``W(n, l) = 2 sum_u min(n, l 2^u) <= 2 n log2 l + 2 n - 2 l``, attained.
"""
from __future__ import annotations

import math

import numpy as np

from numerics._progress import progress
from numerics.claims import Part, Result, claim

from .operator import Butterfly, bit_reversal_permutation
from .truncated import TruncatedButterfly, max_weights_used

PAPER = "A: Ailon et al. 2021 (UAI)"
THEORY = "theory/butterfly.md"
NOTEBOOK = "notebooks/03_butterfly.ipynb"


@claim(
    "butterfly.factor-algebra",
    title="Hadamard, FJLT and DFT butterflies multiply out exactly",
    statement=(
        "For n = 2, 4, ..., 4096 and both stride orders, the product of the Hadamard-initialised factors equals "
        "scipy.linalg.hadamard(n)/sqrt(n) and that of the FJLT-initialised ones H_n diag(d)/sqrt(n), to 1e-12 "
        "max abs error; the DFT butterfly with the bit-reversal permutation equals numpy.fft.fft(np.eye(n)) to "
        "relative Frobenius error <= 1e-12 * log2 n (and entrywise max abs error <= 1e-12 * log2 n, entries "
        "have modulus 1)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#butterfly.factor-algebra",
    quick={"max_log2n": 11},
    full={"max_log2n": 12},
    seed=20210702,
)
def check_factor_algebra(*, seed: int, max_log2n: int) -> Result:
    """Multiply out the structured butterflies (via ``todense``) and compare with dense references.

    Returned ``data`` (one entry per ``n``): ``ns``; ``hadamard_inc``,
    ``hadamard_dec``, ``fjlt_inc``, ``fjlt_dec`` (max abs error against
    ``hadamard(n) [diag(d)] / sqrt n``); ``dft_inc``, ``dft_dec`` (relative
    Frobenius error ``||B P - F||_F / ||F||_F`` resp. ``||P B - F||_F / ||F||_F``);
    ``dft_inc_max``, ``dft_dec_max`` (max abs entry error); ``dft_bound``
    (``1e-12 log2 n``).
    """
    from scipy.linalg import hadamard

    rng = np.random.default_rng(seed)
    ns = [2**p for p in range(1, max_log2n + 1)]
    keys = ["hadamard_inc", "hadamard_dec", "fjlt_inc", "fjlt_dec", "dft_inc", "dft_dec", "dft_inc_max", "dft_dec_max"]
    data = {k: [] for k in keys}
    for n in ns:
        Hs = hadamard(n, dtype=np.float64) / math.sqrt(n)
        for inc, tag in ((True, "inc"), (False, "dec")):
            data[f"hadamard_{tag}"].append(float(np.max(np.abs(Butterfly.hadamard(n, increasing=inc).todense() - Hs))))
            B, d = Butterfly.fjlt(n, seed=rng, increasing=inc, return_signs=True)
            data[f"fjlt_{tag}"].append(float(np.max(np.abs(B.todense() - Hs * d[None, :]))))
        del Hs
        F = np.fft.fft(np.eye(n), axis=0)
        perm = bit_reversal_permutation(n)
        for inc, tag in ((True, "inc"), (False, "dec")):
            D = Butterfly.dft(n, increasing=inc).todense()
            M = D[:, perm] if inc else D[perm, :]  # B P  or  P B
            E = M - F
            data[f"dft_{tag}"].append(float(np.linalg.norm(E) / np.linalg.norm(F)))
            data[f"dft_{tag}_max"].append(float(np.max(np.abs(E))))
        del F
    data = {k: np.array(v) for k, v in data.items()}
    data["ns"] = np.array(ns)
    logn = np.log2(data["ns"])
    data["dft_bound"] = 1e-12 * logn
    had = max(data["hadamard_inc"].max(), data["hadamard_dec"].max())
    fj = max(data["fjlt_inc"].max(), data["fjlt_dec"].max())
    dft_rel = max(np.max(data["dft_inc"] / logn), np.max(data["dft_dec"] / logn))
    dft_max = max(np.max(data["dft_inc_max"] / logn), np.max(data["dft_dec_max"] / logn))
    parts = [
        Part("max abs error, Hadamard butterfly vs H_n/sqrt(n) (both orders)", had, 1e-12, "<="),
        Part("max abs error, FJLT butterfly vs H_n D/sqrt(n) (both orders)", fj, 1e-12, "<="),
        Part("max over n of ||B P - F||_F / (||F||_F log2 n), DFT (both orders)", dft_rel, 1e-12, "<="),
        Part("max over n of max|B P - F| / log2 n, DFT (both orders)", dft_max, 1e-12, "<="),
    ]
    note = (
        f"n = 2..{ns[-1]}, strides increasing (Cooley-Tukey, F = B P) and decreasing (Gentleman-Sande, F = P B); "
        f"largest DFT relative error {max(data['dft_inc'].max(), data['dft_dec'].max()):.2e} "
        f"at n={ns[int(np.argmax(np.maximum(data['dft_inc'], data['dft_dec'])))]}."
    )
    return Result(parts=parts, headline=2, note=note, data=data)


def _subsets(n: int, l: int, n_random: int, rng) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random subsets (uniform) and adversarial ones (contiguous blocks, evenly spread, bit-reversed)."""
    rand = [np.sort(rng.choice(n, size=l, replace=False)) for _ in range(n_random)]
    start = (n - l) // 2
    spread = (np.arange(l, dtype=np.int64) * n) // l
    adv = [
        np.arange(l, dtype=np.int64),  # contiguous block at 0
        np.arange(start, start + l, dtype=np.int64),  # contiguous block in the middle
        spread,  # evenly spread (multiples of n/l)
        np.sort((spread + n // (2 * l)) % n) if l < n else spread,  # spread, shifted
        np.sort(bit_reversal_permutation(n)[:l]),  # bit-reversed prefix
    ]
    return rand, adv


@claim(
    "butterfly.weight-counts",
    title="Weights of full and truncated butterflies",
    statement=(
        "A butterfly of size n has exactly 2 n log2 n weights, every one reaching an output when all n are kept; "
        "keeping any l of the n outputs, the number of weights that reach a kept output is at most "
        "2 n log2 l + 6 n (paper, appendix F) for every l = 1..n and every subset tried (uniformly random "
        "ones and adversarial ones: contiguous blocks, evenly spread, bit-reversed), for both stride orders. "
        "Sharper (derived in theory/butterfly.md): at most W(n, l) = 2 sum_{u<log2 n} min(n, l 2^u) "
        "<= 2 n log2 l + 2 n - 2 l, and W is attained."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#butterfly.weight-counts",
    quick={"min_log2n": 4, "max_log2n": 8, "n_random": 8},
    full={"min_log2n": 4, "max_log2n": 11, "n_random": 40},
    seed=20210703,
)
def check_weight_counts(*, seed: int, min_log2n: int, max_log2n: int, n_random: int) -> Result:
    """Count used weights of :class:`TruncatedButterfly` for every ``l`` and many subsets.

    For each ``n = 2**min_log2n .. 2**max_log2n``, both stride orders, every
    ``l = 1..n``: ``n_random`` uniform subsets and 5 adversarial ones.

    Returned ``data``: ``ns``; ``n_params`` (per n); for each ``n`` a dict
    ``per_n[n]`` with arrays over ``l``: ``ls``, ``max_used`` (over all
    subsets and both orders), ``max_random`` and ``mean_random`` (over the
    random subsets, both orders), ``max_adversarial``, ``bound`` (``2 n log2 l
    + 6 n``), ``sharp`` (``W(n, l)``).
    """
    rng = np.random.default_rng(seed)
    ns = [2**p for p in range(min_log2n, max_log2n + 1)]
    per_n = {}
    n_params, all_used_full = [], []
    worst_ratio, worst_over_sharp, worst_attain = 0.0, -np.inf, 0
    min_slack, min_slack_at = np.inf, None
    n_subsets = 0
    for n in ns:
        Bs = [Butterfly.identity(n, increasing=True), Butterfly.identity(n, increasing=False)]
        n_params.append(Bs[0].n_params)
        all_used_full.append(min(TruncatedButterfly(B, np.arange(n)).n_weights_used for B in Bs))
        ls = np.arange(1, n + 1)
        rec = {k: np.zeros(n) for k in ("max_used", "max_random", "mean_random", "max_adversarial", "bound", "sharp")}
        for a, l in enumerate(progress(ls, desc=f"weight counts n={n}")):
            rand, adv = _subsets(n, int(l), n_random, rng)
            ur = [TruncatedButterfly(B, k).n_weights_used for B in Bs for k in rand]
            ua = [[TruncatedButterfly(B, k).n_weights_used for k in adv] for B in Bs]
            n_subsets += len(ur) + 2 * len(adv)
            bound = 2 * n * math.log2(l) + 6 * n
            W = max_weights_used(n, int(l))
            mx = max(max(ur), max(map(max, ua)))
            rec["max_used"][a] = mx
            rec["max_random"][a] = max(ur)
            rec["mean_random"][a] = float(np.mean(ur))
            rec["max_adversarial"][a] = max(map(max, ua))
            rec["bound"][a] = bound
            rec["sharp"][a] = W
            worst_ratio = max(worst_ratio, mx / bound)
            worst_over_sharp = max(worst_over_sharp, mx - W)
            worst_attain = max(worst_attain, max(abs(max(u) - W) for u in ua))  # each order attains W
            if (bound - mx) / n < min_slack:
                min_slack, min_slack_at = (bound - mx) / n, (n, int(l))
        rec["ls"] = ls
        per_n[n] = rec
    n_params = np.array(n_params)
    expected = np.array([2 * n * (n.bit_length() - 1) for n in ns])
    parts = [
        Part("max over n, l, subsets, orders of used / (2 n log2 l + 6 n)", worst_ratio, 1.0, "<="),
        Part("max |n_params - 2 n log2 n| over n", float(np.max(np.abs(n_params - expected))), 0.0, "=="),
        Part("max (n_params - used) with all n outputs kept", float(np.max(n_params - np.array(all_used_full))), 0.0, "=="),
        Part("max over n, l, subsets of used - W(n, l) (sharp bound)", float(worst_over_sharp), 0.0, "<="),
        Part("max over n, l, order of |W(n, l) - max used over adversarial subsets| (W attained)", float(worst_attain), 0.0, "=="),
    ]
    data = {"ns": np.array(ns), "n_params": n_params, "per_n": per_n, "min_slack_over_n": float(min_slack),
            "min_slack_at": min_slack_at, "n_subsets": n_subsets}
    note = (
        f"n = {ns[0]}..{ns[-1]}, every l, {n_random} random + 5 adversarial subsets per (n, l) and order "
        f"({n_subsets} counts); smallest slack of the paper's bound: {min_slack:.3f} n weights "
        f"at (n, l) = {min_slack_at} (theory: slack >= 4 n + 2 l, equality for l a power of two)."
    )
    return Result(parts=parts, headline=0, note=note, data=data)


@claim(
    "butterfly.cost",
    title="A butterfly costs 2 n log2 n multiply-adds per vector, a dense matrix n^2",
    statement=(
        "Applying a butterfly of size n to one vector takes exactly 2 n log2 n multiply-adds (4 per pair, n/2 pairs "
        "in each of the log2 n factors), counted from the factors' structure; the product of the factors has all "
        "n^2 entries structurally nonzero, so applying it as a dense matrix takes n^2. Checked for n = 2..2^13 "
        "(quick) and 2..2^20 for the butterfly (dense to 2^14, full). Measured forward times (not asserted: "
        "machines are noisy) grow with fitted log-log slope about 1 (n log n) against about 2 for dense BLAS."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#butterfly.cost",
    quick={"max_log2n": 13, "max_log2n_dense": 13, "time_log2ns": (4, 11), "batch": 256},
    full={"max_log2n": 20, "max_log2n_dense": 14, "time_log2ns": (4, 13), "batch": 1024},
    seed=20210704,
)
def check_cost(*, seed: int, max_log2n: int, max_log2n_dense: int, time_log2ns: tuple, batch: int) -> Result:
    """Count multiply-adds (:mod:`numerics.butterfly.cost`) and time the forward pass against dense.

    Returned ``data``: ``ns``, ``butterfly_ops`` (counted), ``closed_form``
    (``2 n log2 n``); ``ns_dense``, ``dense_ops`` (counted), ``n_squared``;
    ``time_ns``, ``t_butterfly``, ``t_dense`` (seconds per batch of ``batch``
    float64 rows, best of 3); ``slope_butterfly``, ``slope_dense`` (log-log
    slopes fitted over ``n >= 2**7``, where fixed overheads no longer dominate);
    ``crossover_n`` (smallest timed ``n`` from which the butterfly is faster at
    every larger timed size, ``None`` if never); ``batch``.
    """
    from numerics.stats import loglog_slope

    from .cost import butterfly_multiply_adds, dense_multiply_adds, time_forward

    ns = np.array([2**p for p in range(1, max_log2n + 1)])
    ops = np.array([butterfly_multiply_adds(int(n)) for n in progress(ns, desc="butterfly counts")])
    closed = np.array([2 * n * (int(n).bit_length() - 1) for n in ns])
    nsd = np.array([2**p for p in range(1, max_log2n_dense + 1)])
    dense = np.array([dense_multiply_adds(int(n)) for n in progress(nsd, desc="dense counts")])
    tn = np.array([2**p for p in range(time_log2ns[0], time_log2ns[1] + 1)])
    tb, td = time_forward(tn, batch=batch, seed=seed)
    fit = tn >= 2**7
    sb, sd = loglog_slope(tn[fit], tb[fit]), loglog_slope(tn[fit], td[fit])
    cross = None
    for k in range(tn.size - 1, -1, -1):
        if tb[k] < td[k]:
            cross = int(tn[k])
        else:
            break
    parts = [
        Part("max over n of |counted butterfly multiply-adds - 2 n log2 n|", float(np.max(np.abs(ops - closed))), 0.0, "=="),
        Part("max over n of |counted dense multiply-adds - n^2|", float(np.max(np.abs(dense - nsd**2))), 0.0, "=="),
    ]
    note = (
        f"counts for n = 2..{ns[-1]} (dense 2..{nsd[-1]}); measured forward, batch {batch}, float64, "
        f"n = {tn[0]}..{tn[-1]}: fitted slope (n >= 128) butterfly {sb:.2f}, dense {sd:.2f}; "
        f"butterfly faster from n = {cross}; at n = {tn[-1]} {td[-1] / tb[-1]:.1f}x faster (timings not asserted)."
    )
    data = {"ns": ns, "butterfly_ops": ops, "closed_form": closed, "ns_dense": nsd, "dense_ops": dense,
            "n_squared": nsd**2, "time_ns": tn, "t_butterfly": tb, "t_dense": td, "slope_butterfly": sb,
            "slope_dense": sd, "crossover_n": cross, "batch": batch}
    return Result(parts=parts, headline=0, note=note, data=data)


@claim(
    "butterfly.replace-dense",
    title="Dense hidden layers replaced by J2^T W' J1 butterfly layers on real data",
    statement=(
        "A ReLU MLP whose wide hidden layers (width 1024) are replaced by the paper's layer J2^T W' J1 "
        "(FJLT-initialised truncated butterflies keeping l = 128 of 1024 outputs, around a 128 x 128 core) reaches mean test accuracy within "
        "1 percentage point of the dense MLP (>= 5 seeds, same data, optimiser and epochs) on scikit-learn's "
        "digits and on a text set (first names from gender-guesser, hashed character n-grams), with >= 10x fewer "
        "weights in the replaced layers and fewer exact multiply-adds per training epoch and per inference; "
        "measured seconds per epoch and per inference are reported beside the counts (not asserted)."
    ),
    paper=PAPER,
    theory="theory/butterfly_networks.md",
    notebook="notebooks/04_butterfly_networks.ipynb#butterfly.replace-dense",
    quick={"n_seeds": 5, "width": 1024, "hidden": 1, "l": 128, "digits_epochs": 12, "names_epochs": 10,
           "names_samples": 6000, "names_features": 256},
    full={"n_seeds": 5, "width": 1024, "hidden": 2, "l": 128, "digits_epochs": 40, "names_epochs": 15,
          "names_samples": 0, "names_features": 1024},
    seed=20210705,
)
def check_replace_dense(*, seed: int, n_seeds: int, width: int, hidden: int, l: int, digits_epochs: int,
                        names_epochs: int, names_samples: int, names_features: int) -> Result:
    """Train dense and butterfly MLPs on digits and first names from ``n_seeds`` seeds and compare.

    ``names_samples = 0`` uses every name.  Returned ``data``: for each data set
    ``"digits"`` and ``"first_names"``, the dict of
    :func:`numerics.butterfly.networks.compare` (accuracies, learning curves,
    weights, multiply-add counts, measured seconds).
    """
    from numerics import datasets

    from .networks import compare

    splits = {
        "digits": (datasets.load_digits(seed=seed % 2**31), digits_epochs),
        "first_names": (
            datasets.load_first_names(seed=seed % 2**31, max_samples=names_samples or None, n_features=names_features),
            names_epochs,
        ),
    }
    seeds = [seed + i for i in range(n_seeds)]
    parts, data, notes = [], {}, []
    for name, (split, epochs) in splits.items():
        r = compare(split, seeds=seeds, epochs=epochs, width=width, hidden=hidden, l=l)
        data[name] = r
        acc_d, acc_b = r["dense_test_acc"], r["butterfly_test_acc"]
        gap = float(acc_d.mean() - acc_b.mean())
        parts += [
            Part(f"{name}: mean test accuracy, dense minus butterfly (fraction)", gap, 0.01, "<="),
            Part(f"{name}: weights in replaced layers, dense / butterfly", r["dense_weights"] / r["butterfly_weights"],
                 10.0, ">="),
            Part(f"{name}: multiply-adds per training epoch, dense / butterfly",
                 r["dense_madds_epoch"] / r["butterfly_madds_epoch"], 1.0, ">="),
            Part(f"{name}: multiply-adds per inference pass, dense / butterfly",
                 r["dense_madds_inference"] / r["butterfly_madds_inference"], 1.0, ">="),
        ]
        sec_d, sec_b = np.median(r["dense_epoch_seconds"]), np.median(r["butterfly_epoch_seconds"])
        inf_d, inf_b = np.median(r["dense_inference_seconds"]), np.median(r["butterfly_inference_seconds"])
        notes.append(
            f"{name} ({split.X_train.shape[0]} train, {split.X_test.shape[0]} test, {epochs} epochs): accuracy "
            f"dense {acc_d.mean():.4f} +- {acc_d.std(ddof=1):.4f}, butterfly {acc_b.mean():.4f} +- "
            f"{acc_b.std(ddof=1):.4f}; measured s/epoch dense {sec_d:.3g}, butterfly {sec_b:.3g} ({sec_d / sec_b:.2f}x); "
            f"inference dense {inf_d:.3g} s, butterfly {inf_b:.3g} s ({inf_d / inf_b:.2f}x)"
        )
    return Result(parts=parts, headline=0, note="; ".join(notes) + " (timings measured, not asserted).", data=data)
