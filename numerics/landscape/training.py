"""Training encoder-decoders: descent from many random starts, and the two-phase scheme of paper A.

* :func:`descend`: plain gradient descent or Adam on ``(D, E)`` with ``B`` fixed,
  for a whole batch of starting points at once (the runs are stacked along a
  first axis and every step is a batched matrix product, so 100 runs cost about
  as much Python overhead as one).  Uses the sufficient statistics ``S_zz``,
  ``S_yz`` of an :class:`~numerics.landscape.EncoderDecoder`; the final losses
  are recomputed from the residual.
* :func:`random_starts`: Gaussian starting points at several scales.
* :func:`two_phase`: phase 1 trains ``(D, E)`` behind a fixed truncated-FJLT
  butterfly ``B``; phase 2 trains ``D``, ``E`` and ``B``'s twiddles together,
  the twiddle gradient coming from
  :func:`numerics.butterfly.functional.butterfly_backward`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from numerics._progress import progress
from numerics._validation import check_array, check_int, check_rng

from .model import EncoderDecoder

__all__ = ["DescentResult", "descend", "random_starts", "TwoPhaseResult", "two_phase", "butterfly_autoencoder_grads",
           "METHODS"]

#: Optimisers accepted by :func:`descend` and :func:`two_phase`.
METHODS = ("gd", "adam")


def _check_method(method) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    return method


def _check_positive(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive real number, got {value!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a positive finite real number, got {name}={value!r}")
    return v


@dataclass
class DescentResult:
    """Outcome of :func:`descend` for ``runs`` starting points.

    Attributes
    ----------
    D, E : ndarray, shapes (runs, m, k), (runs, k, l)
        Final factors.
    final_loss : ndarray (runs,)
        ``1/2 ||Y - D E B X||_F^2`` at the end, from the residual.
    steps : ndarray (n_records,)
        Step numbers at which ``losses`` were recorded (``0`` = the start).
    losses : ndarray (runs, n_records)
        Loss along the way (from the sufficient statistics).
    grad_norms : ndarray (runs, n_records)
        ``sqrt(||grad_D||^2 + ||grad_E||^2)`` along the way.
    """

    D: np.ndarray
    E: np.ndarray
    final_loss: np.ndarray
    steps: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray


def _batched_loss_and_grads(model: EncoderDecoder, D, E):
    """Loss (from ``S_zz``, ``S_yz``), gradients, for stacked ``D`` (r, m, k), ``E`` (r, k, l)."""
    ES = E @ model.Szz  # r k l
    W_S = D @ ES  # r m l : D E Szz
    G = model.Syz - W_S  # r m l
    DE = D @ E
    # 2L = tr YY - 2 <DE, Syz> + <DE Szz, DE>
    two_l = model.trace_yy - 2 * np.einsum("rml,ml->r", DE, model.Syz) + np.einsum("rml,rml->r", W_S, DE)
    gD = -G @ np.swapaxes(E, 1, 2)
    gE = -np.swapaxes(D, 1, 2) @ G
    return 0.5 * two_l, gD, gE


def descend(model: EncoderDecoder, D0, E0, *, method: str = "gd", lr: float, steps: int, lr_final: float | None = None,
            betas=(0.9, 0.999), adam_eps: float = 1e-12, record_every: int = 10, desc: str | None = None
            ) -> DescentResult:
    """Gradient descent or Adam on ``(D, E)`` (``B`` fixed) from a batch of starting points.

    Parameters
    ----------
    model : EncoderDecoder
    D0, E0 : ndarray, shapes (runs, m, k) and (runs, k, l) (or one start, (m, k) and (k, l))
    method : {"gd", "adam"}
    lr : float
        Step size (first step).
    steps : int
        Number of steps.
    lr_final : float, optional
        If given, the step size decays geometrically from ``lr`` to ``lr_final``
        over the run (Adam needs this to settle; plain GD does not).
    betas, adam_eps
        Adam's moment decay rates and denominator offset.
    record_every : int
        Record loss and gradient norm every this many steps.
    desc : str, optional
        Progress-bar label.
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"model must be an EncoderDecoder, got {type(model).__name__}")
    method = _check_method(method)
    lr = _check_positive("lr", lr)
    steps = check_int("steps", steps, minimum=0)
    record_every = check_int("record_every", record_every, minimum=1)
    D = np.array(check_array("D0", D0, ndim=(2, 3)), dtype=np.float64)
    E = np.array(check_array("E0", E0, ndim=(2, 3)), dtype=np.float64)
    single = D.ndim == 2
    if single:
        D, E = D[None], E[None] if E.ndim == 2 else E
    if E.ndim != 3 or D.shape[0] != E.shape[0]:
        raise ValueError(f"D0 and E0 must hold the same number of starts, got shapes {D0.shape} and {np.shape(E0)}")
    if D.shape[1:] != (model.m, model.k) or E.shape[1:] != (model.k, model.l):
        raise ValueError(f"D0 has shape {D.shape[1:]} and E0 {E.shape[1:]} per start; expected ({model.m}, {model.k}) "
                         f"and ({model.k}, {model.l})")
    decay = 1.0 if lr_final is None or steps == 0 else (_check_positive("lr_final", lr_final) / lr) ** (1.0 / steps)
    b1, b2 = float(betas[0]), float(betas[1])
    mD = np.zeros_like(D)
    vD = np.zeros_like(D)
    mE = np.zeros_like(E)
    vE = np.zeros_like(E)
    rec_steps, rec_loss, rec_grad = [], [], []
    rate = lr
    quiet = {} if desc else {"disable": True}
    for t in progress(range(steps + 1), desc=desc or f"{method} descent", **quiet):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below, by name
            loss, gD, gE = _batched_loss_and_grads(model, D, E)
        if t % record_every == 0 or t == steps:
            rec_steps.append(t)
            rec_loss.append(loss)
            rec_grad.append(np.sqrt(np.einsum("rmk,rmk->r", gD, gD) + np.einsum("rkl,rkl->r", gE, gE)))
        if t == steps:
            break
        if not np.all(np.isfinite(loss)):
            raise FloatingPointError(f"{method} diverged at step {t} (lr={rate:.3g}); use a smaller lr")
        if method == "gd":
            D -= rate * gD
            E -= rate * gE
        else:
            mD = b1 * mD + (1 - b1) * gD
            vD = b2 * vD + (1 - b2) * gD * gD
            mE = b1 * mE + (1 - b1) * gE
            vE = b2 * vE + (1 - b2) * gE * gE
            c1, c2 = 1 - b1 ** (t + 1), 1 - b2 ** (t + 1)
            D -= rate * (mD / c1) / (np.sqrt(vD / c2) + adam_eps)
            E -= rate * (mE / c1) / (np.sqrt(vE / c2) + adam_eps)
        rate *= decay
    R = model.Y[None] - D @ (E @ model.Z[None])
    final = 0.5 * np.einsum("rmd,rmd->r", R, R)
    return DescentResult(D=D, E=E, final_loss=final, steps=np.array(rec_steps),
                         losses=np.array(rec_loss).T, grad_norms=np.array(rec_grad).T)


def random_starts(model: EncoderDecoder, runs: int, *, scales=(1e-3, 1e-2, 1e-1, 1.0), seed=None):
    """``runs`` Gaussian starts ``(D0, E0)`` with i.i.d. ``N(0, s^2)`` entries, ``s`` cycling through ``scales``.

    Small scales start next to the saddle at ``D = E = 0``.  Returns ``(D0, E0, s)``.
    """
    runs = check_int("runs", runs, minimum=1)
    rng = check_rng("seed", seed)
    s = np.array([float(scales[i % len(scales)]) for i in range(runs)])
    D0 = rng.standard_normal((runs, model.m, model.k)) * s[:, None, None]
    E0 = rng.standard_normal((runs, model.k, model.l)) * s[:, None, None]
    return D0, E0, s


# ---------------------------------------------------------------------------------------
# two-phase training
# ---------------------------------------------------------------------------------------


@dataclass
class TwoPhaseResult:
    """Outcome of :func:`two_phase` (losses are ``||X - D E B X||_F^2``, i.e. ``2 L``, to compare with ``Delta_k``).

    Attributes
    ----------
    delta_k : float
        ``||X - X_k||_F^2`` (PCA, the optimum over all rank-``k`` maps).
    sketch_pca : float
        ``||X - J_k(X)||_F^2`` with ``J`` the initial ``B``: FJLT followed by PCA,
        i.e. the global minimum of phase 1 (``tr(XX^T) - sum_{i<=k} lambda_i(Sigma(B))``).
    phase1, phase2 : float
        Squared error after phase 1 and after phase 2.
    curve1, curve2 : ndarray
        Squared error along phase 1 and phase 2.
    l : int
    """

    delta_k: float
    sketch_pca: float
    phase1: float
    phase2: float
    curve1: np.ndarray
    curve2: np.ndarray
    l: int
    info: dict = field(default_factory=dict)


def _adam_update(p, g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-12):
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)


def butterfly_autoencoder_grads(Xt, tw, keep, D, E, *, increasing: bool = True):
    """Loss ``1/2 ||X - D E T X||_F^2`` (``T`` = butterfly of ``tw`` restricted to outputs ``keep``) and its
    gradients in ``D``, ``E`` and the twiddles, for ``Xt = X^T`` (``d x n``, samples as rows).

    ``dL/dD = -R Z^T E^T``, ``dL/dE = -D^T R Z^T``, ``dL/dZ = -E^T D^T R`` (``Z = T X``, ``R = X - D E Z``);
    ``dL/dZ`` is scattered into the kept outputs and pulled back through
    :func:`~numerics.butterfly.functional.butterfly_backward`.

    Returns
    -------
    loss : float
    gD, gE, gtw : ndarray, shapes of ``D``, ``E``, ``tw``
    """
    from numerics.butterfly.functional import butterfly_backward, butterfly_forward

    full = butterfly_forward(Xt, tw, increasing=increasing)  # (d, n)
    Zt = full[:, keep]  # (d, l)
    Rt = Xt - (Zt @ E.T) @ D.T  # (d, m) residual, transposed (m = n for an autoencoder)
    RZ = Rt.T @ Zt  # R Z^T
    gD = -RZ @ E.T
    gE = -D.T @ RZ
    gfull = np.zeros_like(full)
    gfull[:, keep] = -(Rt @ D) @ E  # (dL/dZ)^T
    _, gtw = butterfly_backward(Xt, tw, gfull, increasing=increasing)
    return 0.5 * float(np.sum(Rt * Rt)), gD, gE, gtw


def two_phase(X, k: int, l: int, *, seed=None, phase1_steps: int = 300, phase2_steps: int = 100,
              phase1_lr: float = 0.05, phase1_lr_final: float = 1e-4, phase2_lr: float = 1e-3,
              init_scale: float = 1e-2, delta_k: float | None = None) -> TwoPhaseResult:
    """The two-phase scheme of paper A for an autoencoder ``X ~ D E B X`` (columns of ``X`` are samples).

    Phase 1: ``B`` = truncated FJLT butterfly (``l`` of ``n`` outputs of ``H D / sqrt n``, random signs and
    outputs), fixed; ``(D, E)`` trained by Adam from a small random start.  Phase 2: ``D``, ``E`` and all
    twiddles of ``B`` trained by Adam, the twiddle gradient from
    :func:`~numerics.butterfly.functional.butterfly_backward`.

    Parameters
    ----------
    X : ndarray (n, d), ``n`` a power of two
    k : int
        Bottleneck width, ``1 <= k <= l``.
    l : int
        Rows kept by the butterfly, ``k <= l <= n``.
    seed : None, int or Generator
    phase1_steps, phase2_steps : int
    phase1_lr, phase1_lr_final : float
        Adam step size in phase 1, decaying geometrically (the data is rescaled
        internally so that ``||B X||_2 = 1``; losses are reported in the original units).
    phase2_lr : float
        Adam step size in phase 2 (constant).
    init_scale : float
        Standard deviation of the phase-1 start.
    delta_k : float, optional
        ``||X - X_k||_F^2`` if already known (saves an SVD when running many trials on one ``X``).
    """
    from numerics.butterfly import TruncatedButterfly
    from numerics.butterfly.functional import butterfly_forward
    from numerics.sketching import low_rank_residual

    X = np.asarray(check_array("X", X, ndim=2), dtype=np.float64)
    n, d = X.shape
    k = check_int("k", k, minimum=1)
    l = check_int("l", l, minimum=1)
    if not k <= l <= n:
        raise ValueError(f"need k <= l <= n, got k={k}, l={l}, n={n} (X of shape {X.shape})")
    if l > d:
        raise ValueError(f"l={l} > d={d} samples: B X X^T B^T would be singular; use more samples or a smaller l")
    rng = check_rng("seed", seed)
    phase1_steps = check_int("phase1_steps", phase1_steps, minimum=0)
    phase2_steps = check_int("phase2_steps", phase2_steps, minimum=0)
    T = TruncatedButterfly.random(n, l, seed=rng, kind="fjlt")
    tw = np.array(T.butterfly.twiddles, dtype=np.float64)
    inc = T.butterfly.increasing
    keep = np.asarray(T.keep)

    delta_k = low_rank_residual(X, k) if delta_k is None else float(delta_k)
    Xt = np.ascontiguousarray(X.T)  # (d, n): samples as rows, the butterflies' batch layout
    Zt = butterfly_forward(Xt, tw, increasing=inc)[:, keep]  # (d, l)
    scale = math.sqrt(float(np.linalg.eigvalsh(Zt.T @ Zt)[-1]))  # ||B X||_2
    Xs = X / scale
    model = EncoderDecoder(T, Xs, k=k)
    sketch_pca = 2 * (model.global_value()) * scale**2

    D0 = rng.standard_normal((1, n, k)) * init_scale
    E0 = rng.standard_normal((1, k, l)) * init_scale
    res1 = descend(model, D0, E0, method="adam", lr=phase1_lr, lr_final=phase1_lr_final, steps=phase1_steps,
                   record_every=max(1, phase1_steps // 100))
    curve1 = 2 * res1.losses[0] * scale**2
    phase1 = 2 * float(res1.final_loss[0]) * scale**2

    # phase 2: everything trained, in the scaled units (B X has unit spectral norm at the start)
    D, E = res1.D[0].copy(), res1.E[0].copy()
    Xst = np.ascontiguousarray(Xs.T)
    state = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in (("D", D), ("E", E), ("tw", tw))}
    curve2 = []
    quiet = {} if phase2_steps > 200 else {"disable": True}
    for t in progress(range(1, phase2_steps + 2), desc="phase 2", **quiet):
        loss, gD, gE, gtw = butterfly_autoencoder_grads(Xst, tw, keep, D, E, increasing=inc)
        curve2.append(2 * loss * scale**2)
        if t == phase2_steps + 1:
            break
        for name, p, g in (("D", D, gD), ("E", E, gE), ("tw", tw, gtw)):
            m_, v_ = state[name]
            _adam_update(p, g, m_, v_, t, phase2_lr)
    curve2 = np.array(curve2)
    return TwoPhaseResult(delta_k=delta_k, sketch_pca=sketch_pca, phase1=phase1, phase2=float(curve2[-1]),
                          curve1=curve1, curve2=curve2, l=l,
                          info=dict(n=n, d=d, k=k, steps1=res1.steps, scale=scale))
