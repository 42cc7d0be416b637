"""Learning a GBLR matrix: initialisation from a dense matrix, refinement, proximal-gradient training.

* :func:`prox_widths`: the proximal step on widths, ``argmin_{w in [0,1]} 1/2 (w - v)^2 + t lam |w|``
  ``= clip(soft_threshold(v, t lam), 0, 1)`` (elementwise).
* :func:`gblr_objective`: ``f = 1/2 ||W(theta) - A||_F^2 / ||A||_F^2`` for smooth (Gaussian-Dirichlet)
  masks and its hand-written gradient with respect to every factor, width and location.
* :func:`init_from_dense`: under a FLOP budget, split the residual greedily into rank-one pieces on
  circular rectangles: candidate rectangles are ranked by energy per FLOP (all locations at once from
  circular prefix sums), the best few by exact top singular value per FLOP, and the winner's leading
  SVD pair (of that sub-block) becomes a component.
* :func:`refine`: cyclic block-coordinate descent over components with masks fixed (each step replaces
  one component by the best rank-one piece of the current residual on its rectangle; monotone).
* :func:`relocate`: coordinate search over rectangle locations (lengths fixed; monotone).
* :func:`svd_start`: the generic start (SVD split into full-width rank-one pieces, optionally at random starts).
* :func:`train_gblr`: proximal-gradient training: Gaussian-Dirichlet masks smoothed over a number of entries
  annealed from ``n/16`` to ``1/4``, then exact (rounded, ``sigma = inf``) masks with straight-through
  gradients; factors by exact cyclic least squares (or Adam/SGD); widths by a normalised gradient step and the
  FLOP-weighted soft threshold (prox) whose level meets a FLOP target that falls geometrically to the budget;
  locations by Adam, modulo 1; collapsed components restarted at the residual's leading singular pair.
* :func:`learn_gblr`: the issue's pipeline: generic start, :func:`train_gblr`, :func:`refine`; best of a few
  independent runs.  The structure (widths, locations) comes from training only.
* :func:`fit_gblr`: the search pipeline kept as a comparison (greedy rectangles over a palette of length caps,
  refine, relocate, the truncated SVD, optionally :func:`learn_gblr`; the lowest error wins).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from numerics._progress import progress
from numerics._validation import check_array, check_int, check_rng

from . import _kernels as _K
from .mask import check_locations, check_widths, gaussian_dirichlet_mask_grad
from .operator import GBLRMatrix

__all__ = ["prox_widths", "gblr_objective", "init_from_dense", "svd_start", "refine", "relocate", "harden",
           "train_gblr", "learn_gblr", "fit_gblr",
           "check_flops", "TrainHistory"]


def _real(name, value, *, lo=0.0, lo_open=False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {name}={value!r}")
    v = float(value)
    if not math.isfinite(v) or (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be a finite number {'>' if lo_open else '>='} {lo}, got {name}={value!r}")
    return v


def check_flops(flops, n_out: int, n_in: int, *, minimum: int = 2) -> int:
    """A FLOP budget: an integer in ``[minimum, K_max (n_out + n_in)]``; ``minimum = 2`` is one 1x1 piece."""
    f = check_int("flops", flops)
    if f < minimum:
        raise ValueError(f"flops={f} cannot be met: the smallest GBLR component (a 1x1 block) costs {minimum} "
                         f"multiplications per vector")
    return f


# ------------------------------------------------------------------------------------------------ prox
def prox_widths(v, step) -> np.ndarray:
    """``argmin_{w in [0, 1]} 1/2 (w - v)^2 + step |w|`` elementwise: ``clip(sign(v) max(|v| - step, 0), 0, 1)``.

    Parameters
    ----------
    v : array_like of float
        Widths after a gradient step (any real values, finite).
    step : float or array broadcastable to ``v``
        ``t * lambda >= 0`` (step size times penalty weight).
    """
    v = check_array("v", np.atleast_1d(np.asarray(v, dtype=np.float64)))
    step = np.asarray(step, dtype=np.float64)
    if not np.isfinite(step).all() or (step < 0).any():
        raise ValueError(f"step must be finite and >= 0, got step={step!r:.60}")
    soft = np.sign(v) * np.maximum(np.abs(v) - step, 0.0)
    return np.clip(soft, 0.0, 1.0)


# ------------------------------------------------------------------------------------------------ objective
def gblr_objective(A, U, V, width_out, location_out, width_in, location_in, *, sigma=math.inf, grad=True):
    """``f = 1/2 ||W - A||_F^2 / ||A||_F^2`` for ``W = sum_k (m_out_k u_k)(m_in_k v_k)^T`` with
    Gaussian-Dirichlet masks of the given ``sigma``, and its gradient.

    Returns
    -------
    f : float
    grads : dict or None
        Keys ``U, V, width_out, location_out, width_in, location_in`` (same shapes as the inputs).
        Derivation: with ``G = (W - A) / ||A||^2``, ``P_k = G (m_in_k v_k)`` and ``Q_k = G^T (m_out_k u_k)``:
        ``df/du_k = m_out_k P_k``, ``df/dm_out_k = u_k P_k`` and ``df/dw_out_k = <u_k P_k, dm_out_k/dw>``
        (likewise for locations and the input side).
    """
    A = check_array("A", A, ndim=2)
    n_out, n_in = A.shape
    U = check_array("U", U, ndim=2)
    V = check_array("V", V, ndim=2)
    if U.shape[1] != n_out or V.shape[1] != n_in or U.shape[0] != V.shape[0]:
        raise ValueError(f"U must be (K, {n_out}) and V (K, {n_in}) for A of shape {A.shape}, got U.shape={U.shape}, "
                         f"V.shape={V.shape}")
    mo, dmo_w, dmo_l = gaussian_dirichlet_mask_grad(n_out, np.atleast_1d(width_out), np.atleast_1d(location_out), sigma)
    mi, dmi_w, dmi_l = gaussian_dirichlet_mask_grad(n_in, np.atleast_1d(width_in), np.atleast_1d(location_in), sigma)
    if mo.shape[0] != U.shape[0] or mi.shape[0] != U.shape[0]:
        raise ValueError(f"need one width and location per component ({U.shape[0]}), got {mo.shape[0]} and {mi.shape[0]}")
    Ue = mo * U
    Ve = mi * V
    A64 = A.astype(np.float64, copy=False)
    nrm2 = float(np.sum(A64 * A64))
    if nrm2 == 0:
        raise ValueError("A is the zero matrix: the relative objective is undefined")
    R = Ue.T @ Ve - A64
    f = 0.5 * float(np.sum(R * R)) / nrm2
    if not grad:
        return f, None
    G = R / nrm2
    P = Ve @ G.T          # (K, n_out): G (m_in v)
    Q = Ue @ G            # (K, n_in):  G^T (m_out u)
    gmo = U * P
    gmi = V * Q
    grads = {
        "U": mo * P,
        "V": mi * Q,
        "width_out": np.sum(gmo * dmo_w, axis=1),
        "location_out": np.sum(gmo * dmo_l, axis=1),
        "width_in": np.sum(gmi * dmi_w, axis=1),
        "location_in": np.sum(gmi * dmi_l, axis=1),
    }
    return f, grads


# ------------------------------------------------------------------------------------------------ init
def _lengths(n: int, min_length: int = 1, max_length: int | None = None) -> np.ndarray:
    """Candidate interval lengths: powers of two in ``[min_length, max_length]`` and ``n`` (if ``<= max_length``);
    never empty (falls back to ``min(min_length, n)``)."""
    c = set()
    p = 1
    while p <= n:
        c.add(p)
        p *= 2
    c.add(n)
    lo = min(min_length, n)
    hi = n if max_length is None else max(min(max_length, n), lo)
    return np.array(sorted(x for x in c if lo <= x <= hi) or [lo], dtype=np.int64)


def _sigma1_estimate(B: np.ndarray, iters: int = 12) -> float:
    """Top singular value by power iteration from the row of largest norm (a lower bound, tight in practice)."""
    v = B[np.argmax(np.einsum("ij,ij->i", B, B))].copy()
    s = 0.0
    for _ in range(iters):
        nv = np.linalg.norm(v)
        if nv == 0:
            return 0.0
        u = B @ (v / nv)
        s = np.linalg.norm(u)
        if s == 0:
            return 0.0
        v = B.T @ (u / s)
    return float(np.linalg.norm(v))


def _top_pair(B: np.ndarray, u0=None, iters: int = 0):
    """Leading singular triplet of ``B`` (SVD, or ``iters`` power steps from ``u0``)."""
    if u0 is None or iters == 0 or min(B.shape) <= 8:
        Uu, s, Vt = np.linalg.svd(B, full_matrices=False)
        return s[0], Uu[:, 0], Vt[0]
    u = u0
    for _ in range(iters):
        v = B.T @ u
        nv = np.linalg.norm(v)
        if nv == 0:
            return 0.0, u0, np.zeros(B.shape[1])
        v /= nv
        u = B @ v
        s = np.linalg.norm(u)
        if s == 0:
            return 0.0, u0, v
        u /= s
    return s, u, v


def init_from_dense(A, flops, *, min_length=None, max_length=None, candidates: int = 16) -> GBLRMatrix:
    """Greedy rank-one pieces on circular rectangles, under the FLOP budget (masks exact, ``sigma = inf``).

    Each step: for every pair of candidate lengths ``(a, b)`` and every location, the residual energy
    ``||R_IJ||_F^2`` of the ``a x b`` circular rectangle (from 2-D prefix sums of the tiled ``R**2``);
    the ``candidates`` rectangles with the most energy per FLOP ``(a + b)`` get their exact top
    singular value; the one with the largest ``sigma_1^2 / (a + b)`` that still fits the budget becomes a
    component (its leading SVD pair), and is subtracted from the residual.  Stops when no rectangle fits.
    Interval lengths are powers of two ``>= min_length`` (and ``n``) (default ``n // 16``: a
    per-FLOP greedy would otherwise spend the budget on single large entries) and ``<= max_length``
    (default: no cap).  The cap matters: the per-FLOP score is myopic and often opens one full-width
    component that straddles several hidden blocks; :func:`fit_gblr` therefore tries a palette of caps.
    """
    A = check_array("A", A, ndim=2)
    n_out, n_in = A.shape
    flops = check_flops(flops, n_out, n_in)
    candidates = check_int("candidates", candidates, minimum=1)
    mo_ = max(1, n_out // 16) if min_length is None else check_int("min_length", min_length, minimum=1)
    mi_ = max(1, n_in // 16) if min_length is None else mo_
    cap = None if max_length is None else check_int("max_length", max_length, minimum=1)
    La = _lengths(n_out, mo_, cap)
    Lb = _lengths(n_in, mi_, cap)
    R = A.astype(np.float64).copy()
    comps = []
    used = 0
    io = np.arange(n_out)
    ii = np.arange(n_in)
    while True:
        left = flops - used
        E = R * R
        T = np.zeros((2 * n_out + 1, 2 * n_in + 1))
        T[1:, 1:] = np.cumsum(np.cumsum(np.tile(E, (2, 2)), axis=0), axis=1)
        best_scores, best_keys = [], []
        for a in La:
            for b in Lb:
                if a + b > left:
                    continue
                S = T[a:a + n_out, b:b + n_in] - T[:n_out, b:b + n_in] - T[a:a + n_out, :n_in] + T[:n_out, :n_in]
                score = S / (a + b)
                flat = score.ravel()
                m = min(candidates, flat.size)
                idx = np.argpartition(flat, -m)[-m:]
                best_scores.append(flat[idx])
                best_keys.append(np.stack([np.full(m, a), np.full(m, b), idx // n_in, idx % n_in], axis=1))
        if not best_scores:
            break
        sc = np.concatenate(best_scores)
        keys = np.concatenate(best_keys)
        if sc.max() <= 1e-30:
            break
        top = np.argsort(sc)[::-1][:candidates]
        best = None
        for t in top:
            a, b, s, r = (int(x) for x in keys[t])
            I = (s + io[:a]) % n_out
            J = (r + ii[:b]) % n_in
            sv = _sigma1_estimate(R[np.ix_(I, J)])
            gain = sv * sv / (a + b)
            if best is None or gain > best[0]:
                best = (gain, a, b, s, r, I, J)
        gain, a, b, s, r, I, J = best
        sv, u, v = _top_pair(R[np.ix_(I, J)])
        if gain <= 1e-30:
            break
        uf = np.zeros(n_out)
        vf = np.zeros(n_in)
        uf[I] = sv * u
        vf[J] = v
        R[np.ix_(I, J)] -= np.outer(uf[I], vf[J])
        comps.append((uf, vf, s, a, r, b))
        used += a + b
    if not comps:
        raise ValueError(f"flops={flops} cannot be met by any candidate rectangle")
    U = np.array([c[0] for c in comps])
    V = np.array([c[1] for c in comps])
    G = GBLRMatrix.from_intervals(U.astype(A.dtype), V.astype(A.dtype), [c[2] for c in comps],
                                  [c[3] for c in comps], [c[4] for c in comps], [c[5] for c in comps])
    return G


def refine(A, G: GBLRMatrix, *, sweeps: int = 20, tol: float = 1e-12, als_iters: int = 2) -> GBLRMatrix:
    """Cyclic block-coordinate descent on the factors with the masks of ``G`` fixed.

    For each component in turn, a rank-one matrix on its rectangle for the residual without it replaces
    it: the leading SVD pair for small rectangles (or a zero piece), else ``als_iters`` warm-started
    alternating least-squares steps from the current piece (each step is exact given the other factor).
    Never increases ``||W - A||_F``.  Stops after ``sweeps`` sweeps or when a
    sweep improves the squared error by less than ``tol`` relative.
    """
    A = check_array("A", A, ndim=2)
    if A.shape != G.shape:
        raise ValueError(f"A has shape {A.shape} but G has shape {G.shape}")
    sweeps = check_int("sweeps", sweeps, minimum=0)
    als_iters = check_int("als_iters", als_iters, minimum=0)
    n_out, n_in = A.shape
    iv = G.intervals
    U = G.U.astype(np.float64).copy()
    V = G.V.astype(np.float64).copy()
    mo, mi = G.masks()
    U *= mo
    V *= mi
    R = A.astype(np.float64) - U.T @ V
    idx = [((iv["start_out"][k] + np.arange(iv["len_out"][k])) % n_out,
            (iv["start_in"][k] + np.arange(iv["len_in"][k])) % n_in) for k in range(G.n_components)]
    prev = float(np.sum(R * R))
    for _ in range(sweeps):
        for k, (I, J) in enumerate(idx):
            if I.size == 0 or J.size == 0:
                continue
            B = R[np.ix_(I, J)] + np.outer(U[k, I], V[k, J])
            nv = np.linalg.norm(V[k, J])
            if min(B.shape) <= 8 or nv == 0 or not np.any(U[k, I]):
                s, u, v = _top_pair(B)
                U[k, I] = s * u
                V[k, J] = v
            else:
                # warm-started alternating least squares: each half-step is the exact best factor given
                # the other, so the captured energy never drops below the current piece's
                v = V[k, J] / nv
                for _ in range(als_iters):
                    w = B.T @ (B @ v)
                    nw = np.linalg.norm(w)
                    if nw == 0:
                        break
                    v = w / nw
                U[k, I] = B @ v
                V[k, J] = v
            R[np.ix_(I, J)] = B - np.outer(U[k, I], V[k, J])
        cur = float(np.sum(R * R))
        if prev - cur <= tol * max(prev, 1e-300):
            break
        prev = cur
    return GBLRMatrix.from_intervals(U.astype(G.dtype), V.astype(G.dtype), iv["start_out"], iv["len_out"],
                                     iv["start_in"], iv["len_in"])


def _window_energy(R: np.ndarray, a: int, b: int) -> np.ndarray:
    """``S[s, r] = ||R_IJ||_F^2`` for every circular ``a x b`` window starting at ``(s, r)`` (2-D prefix sums)."""
    n_out, n_in = R.shape
    T = np.zeros((2 * n_out + 1, 2 * n_in + 1))
    T[1:, 1:] = np.cumsum(np.cumsum(np.tile(R * R, (2, 2)), axis=0), axis=1)
    return T[a:a + n_out, b:b + n_in] - T[:n_out, b:b + n_in] - T[a:a + n_out, :n_in] + T[:n_out, :n_in]


def relocate(A, G: GBLRMatrix, *, sweeps: int = 2, candidates: int = 8) -> tuple[GBLRMatrix, int]:
    """Coordinate search over the locations of the components' rectangles, lengths fixed.

    For each component ``k`` in turn, with ``R_k`` the residual without it: among the current location and
    the ``candidates`` locations whose ``a x b`` window of ``R_k`` has the most energy, take the one with
    the largest top singular value of the window (the current one unless another is strictly larger) and
    put the leading SVD pair of ``R_k`` there.  Each move captures ``sigma_1^2`` of the new window, at
    least what the old piece captured, so ``||W - A||_F`` never increases.  Returns ``(G, moves)``.
    """
    A = check_array("A", A, ndim=2)
    if A.shape != G.shape:
        raise ValueError(f"A has shape {A.shape} but G has shape {G.shape}")
    sweeps = check_int("sweeps", sweeps, minimum=0)
    candidates = check_int("candidates", candidates, minimum=1)
    n_out, n_in = A.shape
    iv = G.intervals
    so, lo, si, li = iv["start_out"], iv["len_out"], iv["start_in"], iv["len_in"]
    mo, mi = G.masks()
    U = G.U.astype(np.float64) * mo
    V = G.V.astype(np.float64) * mi
    R = A.astype(np.float64) - U.T @ V
    io, ii = np.arange(n_out), np.arange(n_in)
    moves = 0
    for _ in range(sweeps):
        for k in range(U.shape[0]):
            a, b = int(lo[k]), int(li[k])
            if a == 0 or b == 0:
                continue
            I = (so[k] + io[:a]) % n_out
            J = (si[k] + ii[:b]) % n_in
            R[np.ix_(I, J)] += np.outer(U[k, I], V[k, J])
            flat = _window_energy(R, a, b).ravel()
            m = min(candidates, flat.size)
            best = (np.linalg.norm(R[np.ix_(I, J)], 2), int(so[k]), int(si[k]))
            for t in np.argpartition(flat, -m)[-m:]:
                s0, r0 = divmod(int(t), n_in)
                if (s0, r0) == best[1:]:
                    continue
                sv = np.linalg.norm(R[np.ix_((s0 + io[:a]) % n_out, (r0 + ii[:b]) % n_in)], 2)
                if sv > best[0] * (1 + 1e-12):
                    best = (sv, s0, r0)
            if best[1:] != (int(so[k]), int(si[k])):
                moves += 1
            so[k], si[k] = best[1], best[2]
            I = (so[k] + io[:a]) % n_out
            J = (si[k] + ii[:b]) % n_in
            sv, u, v = _top_pair(R[np.ix_(I, J)])
            U[k] = 0.0
            V[k] = 0.0
            U[k, I] = sv * u
            V[k, J] = v
            R[np.ix_(I, J)] -= np.outer(U[k, I], V[k, J])
    return GBLRMatrix.from_intervals(U.astype(G.dtype), V.astype(G.dtype), so, lo, si, li), moves


# ------------------------------------------------------------------------------------------------ training
class TrainHistory(dict):
    """Per step: ``objective``, ``flops`` (continuous ``sum n w``), ``lam`` (the soft-threshold level ``mu_t``
    of the prox step), ``sigma``, ``hard_error``."""


def harden(width_out, location_out, width_in, location_in, n_out: int, n_in: int, flops: int):
    """Round widths and locations to the grid (lengths ``round(w n)``, starts ``round(l n) mod n``); if the
    rounded FLOPs exceed the budget, shorten the longest intervals by one until they fit.

    Returns integer ``start_out, len_out, start_in, len_in``.
    """
    wo, _ = check_widths("width_out", width_out)
    lo, _ = check_locations("location_out", location_out)
    wi, _ = check_widths("width_in", width_in)
    li, _ = check_locations("location_in", location_in)
    flops = check_int("flops", flops, minimum=0)
    lo_ = np.rint(wo * n_out).astype(np.int64)
    li_ = np.rint(wi * n_in).astype(np.int64)
    so = np.rint(lo * n_out).astype(np.int64) % n_out
    si = np.rint(li * n_in).astype(np.int64) % n_in
    excess = int(lo_.sum() + li_.sum()) - flops
    while excess > 0:
        both = np.concatenate([lo_, li_])
        j = int(np.argmax(both))
        if j < lo_.size:
            lo_[j] -= 1
        else:
            li_[j - lo_.size] -= 1
        excess -= 1
    return so, lo_, si, li_




def _budget_lambda(wo, wi, n_out: int, n_in: int, target: float) -> float:
    """Smallest ``mu >= 0`` with ``sum n_out clip(wo - mu n_out) + n_in clip(wi - mu n_in) <= target``
    (bisection, Numba kernel ``_kernels.budget_threshold``; the FLOP-weighted soft threshold that meets a
    continuous FLOP target)."""
    return float(_K.budget_threshold(np.ascontiguousarray(wo, dtype=np.float64),
                                     np.ascontiguousarray(wi, dtype=np.float64), int(n_out), int(n_in),
                                     float(target)))


def svd_start(A, components: int, *, seed=None):
    """The generic start of the issue: the leading ``components`` SVD pairs of ``A`` split into rank-one
    pieces ``(sqrt(s) u, sqrt(s) v)`` with full-width masks (a GBLR member, possibly over the budget).

    With ``seed`` (an int or Generator) each full-width interval gets a uniformly random start (the same set of
    indices, so the same matrix, but a different place from which training shrinks it); else every start is 0.
    Nothing about the target's structure is used.
    """
    A = check_array("A", A, ndim=2)
    components = check_int("components", components, minimum=1)
    n_out, n_in = A.shape
    Uu, s, Vt = np.linalg.svd(A.astype(np.float64), full_matrices=False)
    r = min(components, s.size)
    rs = np.sqrt(s[:r])
    if seed is None:
        so, si = np.zeros(r, int), np.zeros(r, int)
    else:
        rng = check_rng("seed", seed)
        so, si = rng.integers(0, n_out, r), rng.integers(0, n_in, r)
    return GBLRMatrix.from_intervals((Uu[:, :r] * rs).T.astype(A.dtype), (Vt[:r] * rs[:, None]).astype(A.dtype),
                                     so, np.full(r, n_out), si, np.full(r, n_in))


def _blur_sigma(n: int, blur: float) -> float:
    """``sigma`` whose Gaussian factor ``exp(-k^2 / (2 sigma^2))`` smooths the mask with a (periodic) Gaussian of
    standard deviation ``blur`` entries: ``sigma = n / (2 pi blur)``."""
    return n / (2.0 * math.pi * blur)


def _ls_factors(U, V, mo, mi, E):
    """One cyclic sweep of exact least-squares factor updates with masks fixed (in place; returns ``E = A - W``).

    For component ``k`` with ``R_k = E + (m_out_k u_k)(m_in_k v_k)^T`` and ``x = m_in_k v_k``:
    ``u_k = R_k x / ||x||^2`` on every row (where ``m_out_k = 1`` this is the exact minimiser; elsewhere it is the
    value ``u_k`` would need if the interval grew there, which is what the width and location gradients then
    see), then likewise ``v_k`` from ``y = m_out_k u_k``, then ``(u_k, v_k)`` rescaled to equal norms (``W``
    and the mask gradients do not change).  Components whose mask covers (almost) none of their factor keep it.
    Numba kernel ``_kernels.ls_sweep`` (reference: ``_reference.ls_sweep_reference``).
    """
    _K.ls_sweep(U, V, np.ascontiguousarray(mo, dtype=np.float64), np.ascontiguousarray(mi, dtype=np.float64), E)
    return E


def _reseed(E, seed_len_out, seed_len_in, iters: int = 10):
    """The leading singular pair of the residual ``E`` (power iteration) and short intervals centred on the
    largest entries of its singular vectors: ``(u, v, start_out, start_in)``."""
    n_out, n_in = E.shape
    v = E[np.argmax(np.einsum("ij,ij->i", E, E))].copy()
    u = np.zeros(n_out)
    for _ in range(iters):
        u = E @ v
        u /= np.linalg.norm(u) + 1e-300
        v = E.T @ u
    s = float(np.linalg.norm(v))
    v /= s + 1e-300
    so = (int(np.argmax(np.abs(u))) - seed_len_out // 2) % n_out
    si = (int(np.argmax(np.abs(v))) - seed_len_in // 2) % n_in
    return math.sqrt(s) * u, math.sqrt(s) * v, so, si


def train_gblr(A, G0: GBLRMatrix, flops, *, steps: int = 600, factors: str = "ls", lr: float = 1e-2,
               lr_mask=None, blur=None, blur_final: float = 0.25, shrink: float = 0.5, hard_fraction: float = 0.3,
               restart_every: int = 10, hard_lr: float = 0.3, progress_bar: bool = False):
    """Proximal-gradient training of widths and locations (and the factors) under a FLOP budget.

    Minimises ``f = 1/2 ||W(theta) - A||_F^2 / ||A||_F^2`` subject to the continuous FLOP count
    ``sum_k (n_out w_out_k + n_in w_in_k) <= F_t`` from ``G0`` (e.g. :func:`svd_start`; may be over budget).
    Each step:

    1. masks and their derivatives: Gaussian-Dirichlet with ``sigma`` chosen so that the mask is smoothed
       over ``b_t`` entries, ``b_t`` annealed geometrically from ``blur`` (default ``n/16`` entries: a block
       several entries away is felt) to ``blur_final``; in the last ``hard_fraction`` of the steps the masks are
       evaluated at the rounded (:func:`harden`) widths and locations with ``sigma = inf`` (exact 0/1 masks;
       straight-through: their gradient updates the continuous parameters), with the step statistics restarted
       and the mask rate multiplied by ``hard_lr``;
    2. factors: ``factors="ls"``: one cyclic sweep of exact rank-one least squares (:func:`_ls_factors`);
       ``"adam"``/``"sgd"``: one Adam/SGD step with rate ``lr`` on ``U, V``;
    3. widths: a gradient step of length ``lr_mask`` (default ``0.5 / n``) divided by the running RMS of all
       width gradients (one scalar, so components keep their relative pull), then the proximal step of the
       FLOP-weighted L1 penalty :func:`prox_widths` with threshold ``mu_t n`` (and clipping to ``[0, 1]``),
       where ``mu_t`` is the smallest threshold that brings the continuous FLOPs to ``F_t``; ``F_t`` falls
       geometrically from ``G0``'s FLOPs to ``flops`` over the first ``shrink`` fraction of the steps;
    4. locations: an Adam step of rate ``lr_mask``, then modulo 1;
    5. every ``restart_every`` steps before the hard phase, up to ``max(1, K/16)`` collapsed components
       (a rounded length of 0 on either side) restart as the leading singular pair of the residual on short
       intervals (``n/16`` entries) at its largest entries.

    Returns
    -------
    G : GBLRMatrix
        Within the budget: the hardened iterate with the lowest error seen in the hard phase (or the hardened
        final parameters if there is none).  Follow with :func:`refine`.
    history : TrainHistory
        Per step ``objective`` (with the masks used at that step), ``flops`` (continuous), ``lam`` (``mu_t``),
        ``sigma`` (output side), ``hard_error`` (relative error with exact masks; NaN before the hard phase).
    """
    A = check_array("A", A, ndim=2)
    n_out, n_in = A.shape
    if G0.shape != A.shape:
        raise ValueError(f"A has shape {A.shape} but G0 has shape {G0.shape}")
    flops = check_flops(flops, n_out, n_in)
    steps = check_int("steps", steps, minimum=0)
    if factors not in ("ls", "adam", "sgd"):
        raise ValueError(f"factors must be 'ls', 'adam' or 'sgd', got factors={factors!r}")
    lr = _real("lr", lr, lo_open=True)
    n = max(n_out, n_in)
    lr_mask = 0.5 / n if lr_mask is None else _real("lr_mask", lr_mask, lo_open=True)
    b0 = n / 16 if blur is None else _real("blur", blur, lo_open=True)
    b1 = _real("blur_final", blur_final, lo_open=True)
    shrink = _real("shrink", shrink)
    hard_fraction = _real("hard_fraction", hard_fraction)
    if shrink > 1 or hard_fraction > 1:
        raise ValueError(f"shrink and hard_fraction must lie in [0, 1], got shrink={shrink}, "
                         f"hard_fraction={hard_fraction}")
    restart_every = check_int("restart_every", restart_every, minimum=0)
    hard_lr = _real("hard_lr", hard_lr, lo_open=True)
    A64 = A.astype(np.float64)
    nrm2 = float(np.sum(A64 * A64))
    if nrm2 == 0:
        raise ValueError("A is the zero matrix: the relative objective is undefined")
    K = G0.n_components
    wo, wi = (w.copy() for w in G0.widths)
    lo, li = (x.copy() for x in G0.locations)
    U = G0.U.astype(np.float64).copy()
    V = G0.V.astype(np.float64).copy()
    mom = {q: np.zeros(K) for q in ("lo", "li")}
    vel = {q: np.zeros(K) for q in ("lo", "li")}
    fm1 = {"U": np.zeros_like(U), "V": np.zeros_like(V)}
    fm2 = {"U": np.zeros_like(U), "V": np.zeros_like(V)}
    wrms, t0 = 0.0, 0
    F0 = float(n_out * wo.sum() + n_in * wi.sum())
    hard_start = int(round(steps * (1.0 - hard_fraction)))
    seed_out, seed_in = max(1, n_out // 16), max(1, n_in // 16)
    best = (math.inf, None)
    hist = TrainHistory(objective=[], flops=[], lam=[], sigma=[], hard_error=[])
    it = progress(range(steps), desc="gblr train") if progress_bar else range(steps)
    for t in it:
        frac = t / max(steps - 1, 1)
        hard = t >= hard_start
        if shrink > 0 and frac < shrink and F0 > flops:
            target = F0 * (flops / F0) ** (frac / shrink)
        else:
            target = float(flops)
        if hard:
            if t == hard_start:  # the exact masks' gradients have another scale: restart the step statistics
                wrms, t0 = 0.0, t
                lr_mask *= hard_lr
                for d in (mom, vel):
                    d["lo"][:] = 0.0
                    d["li"][:] = 0.0
            so, lo_len, si, li_len = harden(wo, lo, wi, li, n_out, n_in, flops)
            so_s, si_s = math.inf, math.inf
            mo, dmo_w, dmo_l = gaussian_dirichlet_mask_grad(n_out, lo_len / n_out, so / n_out, math.inf)
            mi, dmi_w, dmi_l = gaussian_dirichlet_mask_grad(n_in, li_len / n_in, si / n_in, math.inf)
        else:
            b = b0 * (b1 / b0) ** min(frac / max(1.0 - hard_fraction, 1e-12), 1.0)
            so_s, si_s = _blur_sigma(n_out, b), _blur_sigma(n_in, b)
            if restart_every and t > 0 and t % restart_every == 0:
                dead = np.flatnonzero((wo * n_out < 0.5) | (wi * n_in < 0.5))
                if dead.size:
                    mo = gaussian_dirichlet_mask_grad(n_out, wo, lo, so_s)[0]
                    mi = gaussian_dirichlet_mask_grad(n_in, wi, li, si_s)[0]
                    E = A64 - (mo * U).T @ (mi * V)
                    for k in dead[:max(1, K // 16)]:
                        U[k], V[k], s0, r0 = _reseed(E, seed_out, seed_in)
                        wo[k], wi[k] = seed_out / n_out, seed_in / n_in
                        lo[k], li[k] = s0 / n_out, r0 / n_in
                        for d in (mom, vel):
                            d["lo"][k] = d["li"][k] = 0.0
                        mk = gaussian_dirichlet_mask_grad(n_out, wo[k], lo[k], so_s)[0]
                        mik = gaussian_dirichlet_mask_grad(n_in, wi[k], li[k], si_s)[0]
                        E -= np.outer(mk * U[k], mik * V[k])
            mo, dmo_w, dmo_l = gaussian_dirichlet_mask_grad(n_out, wo, lo, so_s)
            mi, dmi_w, dmi_l = gaussian_dirichlet_mask_grad(n_in, wi, li, si_s)
        mo, mi = np.atleast_2d(mo), np.atleast_2d(mi)
        E = A64 - (mo * U).T @ (mi * V)
        if factors == "ls":
            E = _ls_factors(U, V, mo, mi, E)
        else:
            Gm = -E / nrm2
            gU = mo * ((mi * V) @ Gm.T)
            gV = mi * ((mo * U) @ Gm)
            for q, g, P in (("U", gU, U), ("V", gV, V)):
                if factors == "adam":
                    fm1[q] = 0.9 * fm1[q] + 0.1 * g
                    fm2[q] = 0.999 * fm2[q] + 0.001 * g * g
                    P -= lr * (fm1[q] / (1 - 0.9 ** (t + 1))) / (np.sqrt(fm2[q] / (1 - 0.999 ** (t + 1))) + 1e-12)
                else:
                    P -= lr * g
            E = A64 - (mo * U).T @ (mi * V)
        f = 0.5 * float(np.sum(E * E)) / nrm2
        if hard:
            err = math.sqrt(2.0 * f)
            if err < best[0]:
                best = (err, (U.copy(), V.copy(), so, lo_len, si, li_len))
        # gradient of f with respect to the mask parameters (as in gblr_objective)
        Gm = -E / nrm2
        P = (mi * V) @ Gm.T
        Q = (mo * U) @ Gm
        g = {"wo": np.sum(U * P * dmo_w, axis=1), "lo": np.sum(U * P * dmo_l, axis=1),
             "wi": np.sum(V * Q * dmi_w, axis=1), "li": np.sum(V * Q * dmi_l, axis=1)}
        gw2 = float(np.mean(np.concatenate([g["wo"], g["wi"]]) ** 2))
        wrms = 0.99 * wrms + 0.01 * gw2
        scale = lr_mask / (math.sqrt(wrms / (1 - 0.99 ** (t - t0 + 1))) + 1e-300)
        wo = np.clip(wo - scale * g["wo"], 0.0, 1.0)
        wi = np.clip(wi - scale * g["wi"], 0.0, 1.0)
        mu = _budget_lambda(wo, wi, n_out, n_in, target)
        wo = prox_widths(wo, mu * n_out)
        wi = prox_widths(wi, mu * n_in)
        locs = {"lo": lo, "li": li}
        for q in locs:
            mom[q] = 0.9 * mom[q] + 0.1 * g[q]
            vel[q] = 0.999 * vel[q] + 0.001 * g[q] ** 2
            step = (mom[q] / (1 - 0.9 ** (t - t0 + 1))) / (np.sqrt(vel[q] / (1 - 0.999 ** (t - t0 + 1))) + 1e-300)
            x = np.mod(locs[q] - lr_mask * step, 1.0)
            x[x >= 1.0] = 0.0
            locs[q] = x
        lo, li = locs["lo"], locs["li"]
        hist["objective"].append(f)
        hist["flops"].append(float(n_out * wo.sum() + n_in * wi.sum()))
        hist["lam"].append(mu)
        hist["sigma"].append(so_s)
        hist["hard_error"].append(math.sqrt(2.0 * f) if hard else math.nan)
    so, lo_len, si, li_len = harden(wo, lo, wi, li, n_out, n_in, flops)
    G = GBLRMatrix.from_intervals(U.astype(A.dtype), V.astype(A.dtype), so, lo_len, si, li_len)
    if best[1] is not None and best[0] < _rel_err(A64, G):
        Ub, Vb, so, lo_len, si, li_len = best[1]
        G = GBLRMatrix.from_intervals(Ub.astype(A.dtype), Vb.astype(A.dtype), so, lo_len, si, li_len)
    return G, hist


def learn_gblr(A, flops, *, restarts: int = 3, steps: int = 600, components=None, oversample: int = 8,
               sweeps: int = 30, seed=0, progress_bar: bool = False, **train_kw):
    """Learn a GBLR approximation of ``A`` within ``flops`` by proximal-gradient training from the generic start.

    ``restarts`` independent runs of :func:`train_gblr` (default ``factors="ls"``), each from
    :func:`svd_start` with ``components`` full-width SVD pieces at random
    starts (seeded from ``seed``), each followed by :func:`refine` (exact rank-one refits, masks fixed);
    the run with the lowest error is returned.  Nothing about the target's structure is used: the widths and
    locations come from training only.  Computed in float64; the result has ``A``'s dtype.

    Parameters
    ----------
    A : ndarray, shape (n_out, n_in)
        The dense matrix (float32 or float64, finite, not zero; any strides).
    flops : int
        Budget: multiplications per matrix-vector product, ``>= 2``.
    restarts : int, default 3
        Independent training runs (different random interval starts).
    steps : int, default 600
        Steps per run (:func:`train_gblr`).
    components : int, optional
        SVD pieces in the start; default ``min(n_out, n_in, oversample * max(1, r))`` with
        ``r = flops // (n_out + n_in)`` the rank of the truncated SVD at this budget (many more pieces than a
        low-rank fit could afford, set by the budget only).
    oversample : int, default 8
    sweeps : int, default 30
        :func:`refine` sweeps after training.
    seed : int, Generator or SeedSequence, default 0
    progress_bar : bool, default False
    **train_kw
        Passed to :func:`train_gblr` (``factors``, ``lr_mask``, ``blur``, ``shrink``, ...).

    Returns
    -------
    G : GBLRMatrix
        Within the budget.
    info : dict
        ``errors`` (relative error of every run), ``chosen`` (index of the returned run), ``histories``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.kron(np.eye(4), np.ones((4, 4)))            # four 4 x 4 blocks of rank one
    >>> G, info = learn_gblr(A, 4 * 8, restarts=1, steps=200)
    >>> bool(G.flops <= 32), round(info["errors"][0], 6)
    (True, 0.0)
    """
    A = check_array("A", A, ndim=2)
    n_out, n_in = A.shape
    flops = check_flops(flops, n_out, n_in)
    restarts = check_int("restarts", restarts, minimum=1)
    oversample = check_int("oversample", oversample, minimum=1)
    if components is None:
        K = min(n_out, n_in, oversample * max(1, flops // (n_out + n_in)))
    else:
        K = check_int("components", components, minimum=1)
    rng = check_rng("seed", seed)
    seeds = rng.integers(0, 2**31, restarts)
    best, errs, hists = None, [], []
    A64 = A.astype(np.float64)  # trained in float64 whatever the input; the result has A's dtype
    for r in range(restarts):
        G0 = svd_start(A64, K, seed=int(seeds[r]))
        G, h = train_gblr(A64, G0, flops, steps=steps, progress_bar=progress_bar, **train_kw)
        G = refine(A64, G, sweeps=sweeps)
        iv = G.intervals
        G = GBLRMatrix.from_intervals(G.U.astype(A.dtype), G.V.astype(A.dtype), iv["start_out"], iv["len_out"],
                                      iv["start_in"], iv["len_in"])
        e = _rel_err(A64, G)
        errs.append(e)
        hists.append(h)
        if best is None or e < best[0]:
            best = (e, G, r)
    return best[1], {"errors": errs, "chosen": best[2], "histories": hists}


def _rel_err(A, G) -> float:
    D = G.todense().astype(np.float64)
    return float(np.linalg.norm(D - A) / np.linalg.norm(A))


def _greedy_candidate(A, flops, sweeps, **kw):
    G = refine(A, init_from_dense(A, flops, **kw), sweeps=sweeps)
    G, _ = relocate(A, G)
    return refine(A, G, sweeps=sweeps)


def fit_gblr(A, flops, *, sweeps: int = 30, train_steps: int = 0, restarts: int = 1, squares=None,
             include_tsvd: bool = True, seed=0, progress_bar: bool = False):
    """The search pipeline (a comparison for :func:`learn_gblr`): a GBLR approximation of ``A`` with at most
    ``flops`` multiplications per vector, the lowest-error candidate among

    * ``greedy(mixed)``: :func:`init_from_dense` with power-of-two lengths from ``n/16`` to ``n``;
      ``greedy(c x c)``: the same with every interval of length ``c``, for each ``c`` in ``squares``
      (default ``n/2, n/4, n/8``; the greedy's per-FLOP score is myopic -- with mixed lengths it opens
      small pieces and rectangles that straddle hidden blocks -- and which palette works depends on the
      hidden structure); each followed by :func:`refine`, :func:`relocate` (coordinate search over
      rectangle locations) and :func:`refine`;
    * ``tsvd`` (if ``include_tsvd``): the truncated SVD written as full-width components;
    * ``train`` (if ``train_steps > 0``): :func:`learn_gblr` with ``restarts`` runs of ``train_steps`` steps.

    Returns ``(G, info)`` with ``info = {"errors": {name: relative error}, "chosen": name, "history": ...}``.
    """
    A = check_array("A", A, ndim=2)
    n_out, n_in = A.shape
    flops = check_flops(flops, n_out, n_in)
    train_steps = check_int("train_steps", train_steps, minimum=0)
    check_rng("seed", seed)
    n = min(n_out, n_in)
    if squares is None:
        squares = [c for c in (n // 2, n // 4, n // 8) if c >= 1]
    out = {"greedy(mixed)": _greedy_candidate(A, flops, sweeps)}
    for c in squares:
        c = check_int("squares[i]", c, minimum=1, maximum=n)
        if 2 * c <= flops:
            out[f"greedy({c}x{c})"] = _greedy_candidate(A, flops, sweeps, min_length=c, max_length=c)
    r = flops // (n_out + n_in)
    if include_tsvd and r >= 1:
        Uu, s, Vt = np.linalg.svd(A.astype(np.float64), full_matrices=False)
        r = min(r, s.size)
        out["tsvd"] = GBLRMatrix.from_intervals((Uu[:, :r] * s[:r]).T.astype(A.dtype), Vt[:r].astype(A.dtype),
                                                np.zeros(r, int), np.full(r, n_out), np.zeros(r, int),
                                                np.full(r, n_in))
    errs = {k: _rel_err(A, g) for k, g in out.items()}
    hist = {}
    if train_steps:
        out["train"], info = learn_gblr(A, flops, restarts=restarts, steps=train_steps, sweeps=sweeps, seed=seed,
                                        progress_bar=progress_bar)
        errs["train"] = _rel_err(A, out["train"])
        hist["train"] = info["histories"]
    chosen = min(errs, key=errs.get)
    return out[chosen], {"errors": errs, "chosen": chosen, "history": hist}
