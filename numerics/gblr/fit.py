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
* :func:`train_gblr`: proximal gradient with Adam or SGD on all parameters through smooth masks,
  widths soft-thresholded (FLOP-weighted L1) and clipped, locations taken modulo 1, the penalty adapted
  so that the (continuous) FLOP count stays under the budget; then :func:`harden` rounds to the grid.
* :func:`svd_start`: the generic start (SVD split into full-width rank-one pieces).
* :func:`fit_gblr`: the pipeline (greedy inits over a palette of length caps, refine, the truncated SVD,
  optionally training from the best greedy start and from the SVD start, harden + refine; the lowest
  error wins).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from numerics._progress import progress
from numerics._validation import check_array, check_int, check_rng

from .mask import check_locations, check_sigma, check_widths, gaussian_dirichlet_mask_grad
from .operator import GBLRMatrix

__all__ = ["prox_widths", "gblr_objective", "init_from_dense", "svd_start", "refine", "relocate", "harden",
           "train_gblr", "fit_gblr",
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
    """Per step: ``objective`` (smooth masks), ``flops`` (continuous ``sum n w``), ``lam`` (the L1 weight
    used in the prox step), ``sigma``."""


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
    (bisection; the FLOP-weighted soft threshold that meets a continuous FLOP target)."""
    def fl(mu):
        return n_out * np.clip(wo - mu * n_out, 0, 1).sum() + n_in * np.clip(wi - mu * n_in, 0, 1).sum()

    if fl(0.0) <= target:
        return 0.0
    lo, hi = 0.0, 1.0 / min(n_out, n_in)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if fl(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def svd_start(A, components: int):
    """The generic start of the issue: the leading ``components`` SVD pairs of ``A`` split into rank-one
    pieces ``(sqrt(s) u, sqrt(s) v)`` with full-width masks (a GBLR member, possibly over the budget)."""
    A = check_array("A", A, ndim=2)
    components = check_int("components", components, minimum=1)
    n_out, n_in = A.shape
    Uu, s, Vt = np.linalg.svd(A.astype(np.float64), full_matrices=False)
    r = min(components, s.size)
    rs = np.sqrt(s[:r])
    return GBLRMatrix.from_intervals((Uu[:, :r] * rs).T.astype(A.dtype), (Vt[:r] * rs[:, None]).astype(A.dtype),
                                     np.zeros(r, int), np.full(r, n_out), np.zeros(r, int), np.full(r, n_in))


def train_gblr(A, G0: GBLRMatrix, flops, *, steps: int = 200, optimizer: str = "adam", lr: float = 1e-2,
               lr_mask: float = 1e-3, sigma=None, sigma_final=None, lam: float = 0.0, shrink: float = 0.5,
               progress_bar: bool = False):
    """Proximal gradient on ``1/2 ||W - A||^2/||A||^2 + lam_t sum_k (n_out w_out_k + n_in w_in_k)``.

    Starts from ``G0`` (any GBLR matrix, e.g. :func:`init_from_dense` or :func:`svd_start`, possibly over
    the budget).  Each step: the analytic gradient through Gaussian-Dirichlet masks whose ``sigma`` is
    annealed geometrically from ``sigma`` (default ``n/8``: strongly smoothed masks, so that locations
    feel blocks several entries away) to ``sigma_final`` (default ``n``: nearly sharp); an Adam (or SGD)
    step on factors (rate ``lr``) and on widths/locations (rate ``lr_mask``); then the proximal step of the
    FLOP-weighted L1 penalty on widths, :func:`prox_widths` with threshold ``lr_mask lam_t n`` and
    clipping to ``[0, 1]``, where ``lam_t = max(lam, mu_t / lr_mask)`` and ``mu_t`` is the smallest
    threshold that brings the continuous FLOPs ``sum (n_out w_out + n_in w_in)`` to the target ``F_t``;
    ``F_t`` decreases linearly from ``G0``'s FLOPs to ``flops`` during the first ``shrink`` fraction of the
    steps and then stays at ``flops``; locations are taken modulo 1.  Returns ``(params, history)``; use
    :func:`harden` + :func:`refine` for an operator.
    """
    A = check_array("A", A, ndim=2)
    n_out, n_in = A.shape
    if G0.shape != A.shape:
        raise ValueError(f"A has shape {A.shape} but G0 has shape {G0.shape}")
    flops = check_flops(flops, n_out, n_in)
    steps = check_int("steps", steps, minimum=0)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got optimizer={optimizer!r}")
    lr = _real("lr", lr, lo_open=True)
    lr_mask = _real("lr_mask", lr_mask, lo_open=True)
    lam0 = _real("lam", lam)
    shrink = _real("shrink", shrink)
    n = max(n_out, n_in)
    sig0 = check_sigma(n / 8 if sigma is None else sigma)
    sig1 = check_sigma(n if sigma_final is None else sigma_final)
    wo, wi = G0.widths
    lo, li = G0.locations
    mo, mi = G0.masks()
    p = {"U": G0.U.astype(np.float64) * mo, "V": G0.V.astype(np.float64) * mi,
         "width_out": wo.copy(), "location_out": lo.copy(), "width_in": wi.copy(), "location_in": li.copy()}
    rates = {"U": lr, "V": lr, "width_out": lr_mask, "location_out": lr_mask, "width_in": lr_mask,
             "location_in": lr_mask}
    m1 = {k: np.zeros_like(v) for k, v in p.items()}
    m2 = {k: np.zeros_like(v) for k, v in p.items()}
    hist = TrainHistory(objective=[], flops=[], lam=[], sigma=[])
    F0 = float(G0.flops)
    it = progress(range(steps), desc="gblr train") if progress_bar else range(steps)
    for t in it:
        frac = t / max(steps - 1, 1)
        if math.isinf(sig0) or math.isinf(sig1):
            sig = sig1
        else:
            sig = sig0 * (sig1 / sig0) ** frac
        target = flops if (shrink <= 0 or frac >= shrink) else F0 + (flops - F0) * frac / shrink
        f, g = gblr_objective(A, p["U"], p["V"], p["width_out"], p["location_out"], p["width_in"],
                              p["location_in"], sigma=sig)
        for k in p:
            if optimizer == "adam":
                m1[k] = 0.9 * m1[k] + 0.1 * g[k]
                m2[k] = 0.999 * m2[k] + 0.001 * g[k] ** 2
                upd = (m1[k] / (1 - 0.9 ** (t + 1))) / (np.sqrt(m2[k] / (1 - 0.999 ** (t + 1))) + 1e-12)
            else:
                upd = g[k]
            p[k] = p[k] - rates[k] * upd
        mu = _budget_lambda(np.clip(p["width_out"], 0, 1), np.clip(p["width_in"], 0, 1), n_out, n_in, target)
        lam_t = max(lam0, mu / lr_mask)
        p["width_out"] = prox_widths(p["width_out"], lr_mask * lam_t * n_out)
        p["width_in"] = prox_widths(p["width_in"], lr_mask * lam_t * n_in)
        for k in ("location_out", "location_in"):
            p[k] = np.mod(p[k], 1.0)
            p[k][p[k] >= 1.0] = 0.0
        hist["objective"].append(f)
        hist["flops"].append(float(n_out * p["width_out"].sum() + n_in * p["width_in"].sum()))
        hist["lam"].append(lam_t)
        hist["sigma"].append(sig)
    return p, hist


def _rel_err(A, G) -> float:
    D = G.todense().astype(np.float64)
    return float(np.linalg.norm(D - A) / np.linalg.norm(A))


def _harden_refine(A, p, flops, sweeps):
    n_out, n_in = A.shape
    so, lo_, si, li_ = harden(p["width_out"], p["location_out"], p["width_in"], p["location_in"], n_out, n_in, flops)
    G = GBLRMatrix.from_intervals(p["U"].astype(A.dtype), p["V"].astype(A.dtype), so, lo_, si, li_)
    return refine(A, G, sweeps=sweeps)


def _greedy_candidate(A, flops, sweeps, **kw):
    G = refine(A, init_from_dense(A, flops, **kw), sweeps=sweeps)
    G, _ = relocate(A, G)
    return refine(A, G, sweeps=sweeps)


def fit_gblr(A, flops, *, sweeps: int = 30, train_steps: int = 0, sigma=None, lr: float = 3e-3,
             lr_mask: float = 1e-3, squares=None, include_tsvd: bool = True, seed=0, progress_bar: bool = False):
    """Learn a GBLR approximation of ``A`` with at most ``flops`` multiplications per vector.

    Candidates (the one with the lowest ``||W - A||_F`` is returned):

    * ``greedy(mixed)``: :func:`init_from_dense` with power-of-two lengths from ``n/16`` to ``n``;
      ``greedy(c x c)``: the same with every interval of length ``c``, for each ``c`` in ``squares``
      (default ``n/2, n/4, n/8``; the greedy's per-FLOP score is myopic -- with mixed lengths it opens
      small pieces and rectangles that straddle hidden blocks -- and which palette works depends on the
      hidden structure); each followed by :func:`refine`, :func:`relocate` (coordinate search over
      rectangle locations) and :func:`refine`;
    * ``tsvd`` (if ``include_tsvd``): the truncated SVD written as full-width components (with it the
      result is never worse than low rank; without it every candidate's structure was searched or learned);
    * if ``train_steps > 0``: ``train(greedy)`` -- :func:`train_gblr` (proximal gradient through
      Gaussian-Dirichlet masks, annealed sigma) from the best greedy candidate, and ``train(svd)`` -- the
      same from the generic start :func:`svd_start` (full-width SVD pieces with
      ``K = min(n_out, n_in, 4 floor(flops / (n_out + n_in)))``, four times the tSVD rank, shrunk to the
      budget by the L1 prox), each followed by :func:`harden` and :func:`refine`.

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
        start = min((k for k in errs if k.startswith("greedy")), key=errs.get)
        starts = {"train(greedy)": out[start],
                  "train(svd)": svd_start(A, max(1, min(n_out, n_in, 4 * (flops // (n_out + n_in)))))}
        for name, G0 in starts.items():
            p, hist[name] = train_gblr(A, G0, flops, steps=train_steps, lr=lr, lr_mask=lr_mask, sigma=sigma,
                                       progress_bar=progress_bar)
            out[name] = _harden_refine(A, p, flops, sweeps)
            errs[name] = _rel_err(A, out[name])
    chosen = min(errs, key=errs.get)
    return out[chosen], {"errors": errs, "chosen": chosen, "history": hist}
