"""Claims about kaleidoscope matrices (theory: ``theory/kaleidoscope.md``; paper: Dao et al., ICLR 2020).

* ``kaleidoscope.params``: ``(BB*)^w_e`` has ``4 w n e log2(n e)`` parameters and the
  butterfly-kernel forward/adjoint agree with the dense product of its factors.
* ``kaleidoscope.permutation``: every permutation is exactly in ``BB*`` (Benes routing).
* ``kaleidoscope.sparse``: every ``s``-sparse matrix is in ``(BB*)^(4 ceil(s/n))_4``.
* ``kaleidoscope.structured``: DFT, DCT-II, DST-II, circulant and Toeplitz matrices in
  ``(BB*)^w_e`` with ``w, e <= 2``, constructed exactly.
* ``kaleidoscope.expressivity``: on structured targets the K-matrix is exact at its
  parameter count, where low rank and sparse approximations of the same size are far off.
* ``kaleidoscope.unshuffle``: a ``BB*`` layer learns to undo a pixel shuffle of the digits.
"""
from __future__ import annotations

import math

import numpy as np

from numerics._progress import progress
from numerics.claims import Part, Result, claim

from ._reference import kaleidoscope_dense_reference
from .constructions import (
    circulant_kaleidoscope,
    dct2_matrix,
    dct_kaleidoscope,
    dft_kaleidoscope,
    dst2_matrix,
    dst_kaleidoscope,
    permutation_bbstar,
    sparse_kaleidoscope,
    toeplitz_kaleidoscope,
)
from .operator import Kaleidoscope

PAPER = "C: Dao et al. 2020 (ICLR)"
THEORY = "theory/kaleidoscope.md"
NOTEBOOK = "notebooks/08_kaleidoscope.ipynb"


def _rel(A, B) -> float:
    return float(np.linalg.norm(A - B) / max(np.linalg.norm(B), 1e-300))


@claim(
    "kaleidoscope.params",
    title="(BB*)^w_e has 4 w n e log2(n e) parameters; fast forward and adjoint match the dense product",
    statement=(
        "For n*e = 2..256, w = 1..3, e in {1, 2, 4}, real and complex: the operator stores exactly "
        "4 w n e log2(n e) twiddle entries (2 w log2(n e) factors of (n e)/2 blocks of 4 entries), and its "
        "forward and adjoint products through the butterfly kernels equal the dense product of the explicit "
        "factors (top-left n x n corner of M_{w-1}...M_0, M_k = B_k B*_k) to relative Frobenius error <= 1e-12."
    ),
    paper=PAPER, theory=THEORY, notebook=NOTEBOOK + "#kaleidoscope.params",
    quick={"max_log2N": 7, "trials": 1}, full={"max_log2N": 9, "trials": 5}, seed=2020_0401,
)
def check_params(*, seed: int, max_log2N: int, trials: int) -> Result:
    """``data``: ``configs`` (rows n, w, e, complex), ``n_params``, ``formula``, ``err_fwd``, ``err_adj``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small dense products: one BLAS thread avoids oversubscription
        return _check_params(seed, max_log2N, trials)


def _check_params(seed: int, max_log2N: int, trials: int) -> Result:
    rng = np.random.default_rng(seed)
    rows, counts, formula, ef, ea = [], [], [], [], []
    for L in range(1, max_log2N + 1):
        N = 1 << L
        for e in (1, 2, 4):
            if N % e or N // e < 1:
                continue
            n = N // e
            for w in (1, 2, 3):
                for cplx in (False, True):
                    for _ in range(trials):
                        K = Kaleidoscope.random(n, w=w, e=e, seed=rng, dtype=np.complex128 if cplx else np.float64)
                        D = kaleidoscope_dense_reference(np.array(K.twiddles), n)
                        X = rng.standard_normal((n, 3)) + (1j * rng.standard_normal((n, 3)) if cplx else 0)
                        ef.append(_rel(K @ X, D @ X))
                        ea.append(_rel(K.H @ X, D.conj().T @ X))
                        rows.append((n, w, e, int(cplx)))
                        counts.append(K.n_params)
                        formula.append(4 * w * n * e * int(math.log2(n * e)))
    counts, formula = np.array(counts), np.array(formula)
    data = dict(configs=np.array(rows), n_params=counts, formula=formula, err_fwd=np.array(ef), err_adj=np.array(ea))
    parts = [
        Part("configurations with n_params != 4 w n e log2(n e)", float(np.sum(counts != formula)), 0.0, "=="),
        Part("max relative error, forward vs dense factors", float(np.max(ef)), 1e-12, "<="),
        Part("max relative error, adjoint vs dense factors", float(np.max(ea)), 1e-12, "<="),
    ]
    return Result(parts=parts, headline=0, note=f"{len(rows)} operators, n*e up to {1 << max_log2N}.", data=data)


def _special_perms(N: int) -> list[np.ndarray]:
    from numerics.butterfly import bit_reversal_permutation

    idx = np.arange(N)
    L = N.bit_length() - 1
    shuffle = ((idx << 1) | (idx >> (L - 1))) & (N - 1) if L > 0 else idx  # perfect shuffle (rotate bits)
    return [idx, idx[::-1].copy(), bit_reversal_permutation(N), shuffle, np.roll(idx, 1)]


@claim(
    "kaleidoscope.permutation",
    title="Every permutation is exactly in BB* (constructive, Benes routing)",
    statement=(
        "For N = 2..2^max_log2N and, at each N, `trials` uniformly random permutations plus the identity, "
        "reversal, bit reversal, perfect shuffle and cyclic shift, the routed BB* member (one butterfly with "
        "decreasing strides, then one with increasing strides, all blocks I_2 or the swap) equals np.eye(N)[perm] "
        "with max abs error <= 1e-12 (in fact 0)."
    ),
    paper=PAPER, theory=THEORY, notebook=NOTEBOOK + "#kaleidoscope.permutation",
    quick={"max_log2N": 9, "trials": 40}, full={"max_log2N": 11, "trials": 200}, seed=2020_0402,
)
def check_permutation(*, seed: int, max_log2N: int, trials: int) -> Result:
    """``data``: ``Ns``, ``max_err`` (per N), ``n_tested`` (per N), ``example`` (a routed N=16 permutation's twiddles)."""
    rng = np.random.default_rng(seed)
    Ns, errs, counts = [], [], []
    for L in progress(range(1, max_log2N + 1), desc="permutations"):
        N = 1 << L
        perms = [rng.permutation(N) for _ in range(trials)] + _special_perms(N)
        worst = 0.0
        for p in perms:
            K = permutation_bbstar(p)
            worst = max(worst, float(np.max(np.abs(K.todense() - np.eye(N)[p]))))
        Ns.append(N)
        errs.append(worst)
        counts.append(len(perms))
    p16 = rng.permutation(16)
    data = dict(Ns=np.array(Ns), max_err=np.array(errs), n_tested=np.array(counts), example_perm=p16,
                example_twiddles=np.array(permutation_bbstar(p16).twiddles[0]))
    parts = [Part("max abs error over all N and permutations", float(max(errs)), 1e-12, "<=")]
    return Result(parts=parts, note=f"{int(sum(counts))} permutations, N = 2..{Ns[-1]}.", data=data)


@claim(
    "kaleidoscope.sparse",
    title="Every s-sparse n x n matrix is in (BB*)^(4 ceil(s/n))_4",
    statement=(
        "For n = 2..2^max_log2n and s in {1, n/2, n, n+1, 3n, n^2/2, n^2} (capped at n^2), `trials` random "
        "matrices with s nonzeros at uniformly random positions (Gaussian values) plus adversarial patterns "
        "(one full row, one full column, a diagonal, one repeated entry block), the constructed member has "
        "w = 4 ceil(s/n), e = 4 and equals S with max abs error <= 1e-12 max|S|."
    ),
    paper=PAPER, theory=THEORY, notebook=NOTEBOOK + "#kaleidoscope.sparse",
    quick={"max_log2n": 5, "trials": 5}, full={"max_log2n": 7, "trials": 20}, seed=2020_0403,
)
def check_sparse(*, seed: int, max_log2n: int, trials: int) -> Result:
    """``data``: rows ``(n, s, w)`` in ``cases``, ``err`` (relative max error), ``w_expected``."""
    rng = np.random.default_rng(seed)
    cases, errs, wexp = [], [], []
    for L in range(1, max_log2n + 1):
        n = 1 << L
        sizes = sorted({min(n * n, max(1, s)) for s in (1, n // 2, n, n + 1, 3 * n, n * n // 2, n * n)})
        mats = []
        for s in sizes:
            for _ in range(trials):
                S = np.zeros((n, n))
                S.flat[rng.choice(n * n, size=s, replace=False)] = rng.standard_normal(s)
                mats.append(S)
        for pattern in range(3):
            S = np.zeros((n, n))
            j = rng.integers(n)
            if pattern == 0:
                S[j] = rng.standard_normal(n)
            elif pattern == 1:
                S[:, j] = rng.standard_normal(n)
            else:
                S[np.arange(n), np.arange(n)] = rng.standard_normal(n)
            mats.append(S)
        S = np.zeros((n, n), dtype=np.complex128)
        S.flat[rng.choice(n * n, size=n, replace=False)] = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        mats.append(S)
        for S in mats:
            s = int(np.count_nonzero(S))
            K = sparse_kaleidoscope(S)
            errs.append(float(np.max(np.abs(K.todense() - S)) / np.max(np.abs(S))))
            cases.append((n, s, K.w, K.e))
            wexp.append(4 * max(1, -(-s // n)))
    cases = np.array(cases)
    data = dict(cases=cases, err=np.array(errs), w_expected=np.array(wexp))
    parts = [
        Part("max relative max-abs error ||K - S||_max / ||S||_max", float(max(errs)), 1e-12, "<="),
        Part("cases with w != 4 ceil(s/n) or e != 4", float(np.sum((cases[:, 2] != wexp) | (cases[:, 3] != 4))), 0.0, "=="),
    ]
    return Result(parts=parts, note=f"{len(errs)} matrices, n = 2..{1 << max_log2n}.", data=data)


def _structured_targets(n: int, rng):
    from scipy.linalg import circulant, toeplitz

    c = rng.standard_normal(n)
    col, row = rng.standard_normal(n), rng.standard_normal(n)
    return [
        ("DFT", dft_kaleidoscope(n), np.fft.fft(np.eye(n), axis=0)),
        ("DCT-II", dct_kaleidoscope(n), dct2_matrix(n)),
        ("DCT-II ortho", dct_kaleidoscope(n, norm="ortho"), dct2_matrix(n, norm="ortho")),
        ("DST-II", dst_kaleidoscope(n), dst2_matrix(n)),
        ("DST-II ortho", dst_kaleidoscope(n, norm="ortho"), dst2_matrix(n, norm="ortho")),
        ("circulant", circulant_kaleidoscope(c), circulant(c)),
        ("Toeplitz", toeplitz_kaleidoscope(col, row), toeplitz(col, row)),
    ]


@claim(
    "kaleidoscope.structured",
    title="DFT, DCT, DST, circulant and Toeplitz matrices are in (BB*)^w_e with w, e <= 2 (constructive)",
    statement=(
        "For n = 2..2^max_log2n (circulant and Toeplitz with `trials` random Gaussian generators each): the DFT is "
        "constructed in (BB*)^2_1, the DCT-II and DST-II (unnormalised and orthonormal) in (BB*)^2_2, circulant "
        "convolution in (BB*)^1_1 and Toeplitz in (BB*)^1_2, each equal to the dense matrix (numpy.fft, "
        "scipy.fft.dct/dst, scipy.linalg.circulant/toeplitz) to relative Frobenius error <= 1e-12."
    ),
    paper=PAPER, theory=THEORY, notebook=NOTEBOOK + "#kaleidoscope.structured",
    quick={"max_log2n": 8, "trials": 3}, full={"max_log2n": 10, "trials": 10}, seed=2020_0404,
)
def check_structured(*, seed: int, max_log2n: int, trials: int) -> Result:
    """``data``: ``ns``; per target name ``err_<name>`` (max over trials, per n) and ``w_<name>``, ``e_<name>``."""
    rng = np.random.default_rng(seed)
    ns = [1 << L for L in range(1, max_log2n + 1)]
    data: dict = {"ns": np.array(ns)}
    worst_w = worst_e = 0
    for n in ns:
        per = {}
        for _ in range(trials):
            for name, K, M in _structured_targets(n, rng):
                per[name] = max(per.get(name, 0.0), _rel(K.todense(), M))
                data.setdefault(f"w_{name}", K.w)
                data.setdefault(f"e_{name}", K.e)
                worst_w, worst_e = max(worst_w, K.w), max(worst_e, K.e)
        for name, v in per.items():
            data.setdefault(f"err_{name}", []).append(v)
    names = [k[4:] for k in data if k.startswith("err_")]
    for name in names:
        data[f"err_{name}"] = np.array(data[f"err_{name}"])
    worst = max(float(data[f"err_{nm}"].max()) for nm in names)
    parts = [
        Part("max relative Frobenius error over targets and n", worst, 1e-12, "<="),
        Part("largest w used", float(worst_w), 2.0, "<="),
        Part("largest e used", float(worst_e), 2.0, "<="),
    ]
    note = "; ".join(f"{nm}: w={data[f'w_{nm}']}, e={data[f'e_{nm}']}, max err {data[f'err_{nm}'].max():.1e}" for nm in names)
    return Result(parts=parts, headline=0, note=note, data=data)


def _truncated_svd_errors(M, ranks):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one thread: much faster than an oversubscribed pool on a shared machine
        s = np.linalg.svd(M, compute_uv=False)
    tot = np.sum(s**2)
    return np.array([math.sqrt(max(0.0, np.sum(s[r:] ** 2) / tot)) for r in ranks])


def _topk_errors(M, ks):
    a = np.sort(np.abs(M).ravel() ** 2)[::-1]
    tail = np.concatenate([np.cumsum(a[::-1])[::-1], [0.0]])
    tot = a.sum()
    return np.array([math.sqrt(tail[min(k, a.size)] / tot) for k in ks])


@claim(
    "kaleidoscope.expressivity",
    title="Exact K-matrix representations need far fewer parameters than low-rank or sparse approximations",
    statement=(
        "At n = 2^log2n (512 quick, 2048 full), for the DFT, DCT-II, a random circulant, a random Toeplitz matrix and a random "
        "permutation: the constructed K-matrix is exact (relative Frobenius error <= 1e-12) with P_K = "
        "4 w n e log2(n e) parameters, while the best rank-r approximation (truncated SVD, 2 n r parameters) "
        "and the best k-sparse approximation (top-k entries, k parameters) with at most P_K parameters have "
        "relative error >= 0.5 on every target except the permutation (which is itself n-sparse, so top-k "
        "is exact at k = n; reported, not bounded)."
    ),
    paper=PAPER, theory=THEORY, notebook=NOTEBOOK + "#kaleidoscope.expressivity",
    quick={"log2n": 9}, full={"log2n": 11}, seed=2020_0405,
)
def check_expressivity(*, seed: int, log2n: int) -> Result:
    """``data[name]`` = dict with ``k_params``, ``k_err``, ``lr_params``, ``lr_err``, ``sp_params``, ``sp_err`` arrays."""
    from scipy.linalg import circulant, toeplitz

    rng = np.random.default_rng(seed)
    n = 1 << log2n
    p = rng.permutation(n)
    targets = [
        ("DFT", dft_kaleidoscope(n), np.fft.fft(np.eye(n), axis=0)),
        ("DCT-II", dct_kaleidoscope(n), dct2_matrix(n)),
    ]
    c = rng.standard_normal(n)
    targets.append(("circulant", circulant_kaleidoscope(c), circulant(c)))
    col, row = rng.standard_normal(n), rng.standard_normal(n)
    targets.append(("Toeplitz", toeplitz_kaleidoscope(col, row), toeplitz(col, row)))
    targets.append(("permutation", permutation_bbstar(p), np.eye(n)[p]))
    ranks = np.unique(np.round(np.geomspace(1, n, 24)).astype(int))
    ks = np.unique(np.round(np.geomspace(1, n * n, 40)).astype(int))
    data: dict = {"n": n}
    worst_k, worst_other = 0.0, math.inf
    for name, K, M in targets:
        kerr = _rel(K.todense(), M)
        lr = _truncated_svd_errors(M, ranks)
        sp = _topk_errors(M, ks)
        P = K.n_params
        lr_at = float(_truncated_svd_errors(M, [min(n, P // (2 * n))])[0])
        sp_at = float(_topk_errors(M, [P])[0])
        data[name] = dict(k_params=P, k_err=kerr, w=K.w, e=K.e, lr_params=2 * n * ranks, lr_err=lr, sp_params=ks,
                          sp_err=sp, lr_at_budget=lr_at, sp_at_budget=sp_at)
        worst_k = max(worst_k, kerr)
        if name != "permutation":
            worst_other = min(worst_other, lr_at, sp_at)
    parts = [
        Part("max K-matrix relative error (all targets)", worst_k, 1e-12, "<="),
        Part("min relative error of rank-r / top-k at the K-matrix's parameter count (structured targets)",
             worst_other, 0.5, ">="),
    ]
    note = "; ".join(
        f"{nm}: P_K={data[nm]['k_params']}, rank-r err {data[nm]['lr_at_budget']:.2f}, top-k err {data[nm]['sp_at_budget']:.2f}"
        for nm, _, _ in targets
    )
    return Result(parts=parts, headline=1, note=note, data=data)


@claim(
    "kaleidoscope.unshuffle",
    title="A BB* layer learns to undo a pixel shuffle of the digits for a locality-based model",
    statement=(
        "Digits (8x8) with pixels shuffled by a fixed random permutation; a local model (3x3 convolution, ReLU, "
        "2x2 average pooling, dense read-out) trained on clean images is frozen and a BB* layer with relaxed "
        "switches is trained in front of it on the shuffled training set. Over the seeds: the model without the "
        "layer is near chance on shuffled test images (accuracy <= 0.2), with the learned layer it regains >= 90% "
        "of its clean accuracy, and with the layer rounded to a permutation >= 80%; the rounded permutation puts "
        ">= 10% of the pixels exactly at their true location (chance 1/64) and >= 40% within one pixel of it "
        "(chance about 12%). Exact recovery of the whole permutation is NOT reached."
    ),
    paper=PAPER, theory=THEORY, notebook=NOTEBOOK + "#kaleidoscope.unshuffle",
    quick={"seeds": 1, "layer_epochs": 40}, full={"seeds": 3, "layer_epochs": 60}, seed=2020_0406,
)
def check_unshuffle(*, seed: int, seeds: int, layer_epochs: int) -> Result:
    """``data``: per-seed arrays of every scalar returned by :func:`unshuffle_digits`, plus ``last`` (its full dict)."""
    from .unshuffle import unshuffle_digits

    runs = [unshuffle_digits(seed=seed + i, layer_epochs=layer_epochs) for i in progress(range(seeds), desc="unshuffle")]
    keys = [k for k, v in runs[0].items() if np.ndim(v) == 0]
    data = {k: np.array([r[k] for r in runs]) for k in keys}
    data["last"] = runs[-1]
    regain = data["acc_layer"] / data["acc_clean"]
    regain_r = data["acc_rounded"] / data["acc_clean"]
    parts = [
        Part("max accuracy of the frozen model on shuffled pixels, no layer", float(data["acc_shuffled_frozen"].max()), 0.2, "<="),
        Part("min accuracy with learned layer / clean accuracy", float(regain.min()), 0.9, ">="),
        Part("min accuracy with rounded permutation / clean accuracy", float(regain_r.min()), 0.8, ">="),
        Part("min fraction of pixels mapped exactly", float(data["frac_exact"].min()), 0.1, ">="),
        Part("min fraction of pixels within one pixel", float(data["frac_within1"].min()), 0.4, ">="),
    ]
    note = (
        f"clean {data['acc_clean'].mean():.3f}, shuffled without layer {data['acc_shuffled_frozen'].mean():.3f}, "
        f"with layer {data['acc_layer'].mean():.3f}, rounded {data['acc_rounded'].mean():.3f}; same architecture "
        f"retrained on shuffled pixels {data['acc_shuffled_retrained'].mean():.3f}; exact {data['frac_exact'].mean():.2f}, "
        f"within one pixel {data['frac_within1'].mean():.2f}."
    )
    return Result(parts=parts, headline=1, note=note, data=data)
