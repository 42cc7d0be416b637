"""Cost model of one training step, and the fast-matrix-multiplication exponents of the amortisation argument.

Two things live here and are kept apart:

* **Our count model** (:func:`predicted_counts`, :func:`predicted_exponent`): the expected
  multiply-adds of one step of :class:`~numerics.wide.FastTrainer` and
  :class:`~numerics.wide.DenseTrainer` at initialisation, part by part, from ``s = m Phibar(b)``
  (expected active neurons per sample and layer).  The trainers' counters are exact; this model is
  what they are compared with.
* **The fast-multiplication argument** (:func:`omega_rect`, :func:`mm_table`,
  :func:`densify_period`): exponents ``omega(1, 1, a)`` of multiplying ``m x m^a`` by ``m^a x m``
  bounded from the two anchors ``omega = 2.3728596`` and ``alpha = 0.31389`` (``omega(1,1,alpha) = 2``)
  by convexity, and the re-densification period they imply.  Nothing in this package multiplies
  with a fast algorithm -- we use BLAS (cubic) and sparse outer products -- so these numbers are
  theory, never measurements.
"""
from __future__ import annotations

import math

import numpy as np

from numerics._validation import check_int
from numerics.stats import loglog_slope

from .model import default_bias, phibar

__all__ = [
    "OMEGA",
    "ALPHA",
    "omega_rect",
    "mm_table",
    "densify_period",
    "predicted_counts",
    "predicted_total",
    "predicted_exponent",
    "dense_counts",
    "SCHEDULES",
]

#: Square matrix multiplication exponent (anchor).
OMEGA = 2.3728596
#: Dual exponent: ``omega(1, 1, alpha) = 2`` (anchor).
ALPHA = 0.31389

SCHEDULES = ("fast-mm", "sparse")


def omega_rect(a: float, *, omega: float = OMEGA, alpha: float = ALPHA) -> float:
    """Upper bound on ``omega(1, 1, a)``, the exponent of an ``(m x m^a)(m^a x m)`` product.

    * ``a <= alpha``: 2 (the output alone has ``m^2`` entries, and ``alpha`` is defined by
      ``omega(1, 1, alpha) = 2``; ``omega(1, 1, .)`` is non-decreasing);
    * ``alpha <= a <= 1``: the chord ``2 + (a - alpha)(omega - 2)/(1 - alpha)``
      (``omega(1, 1, .)`` is convex, so it lies below the chord between the anchors);
    * ``a >= 1``: ``omega + a - 1`` (split the inner dimension into ``m^(a-1)`` square products).
    """
    a = float(a)
    if not (a >= 0 and math.isfinite(a)):
        raise ValueError(f"a must be a finite exponent >= 0, got a={a!r}")
    if a <= alpha:
        return 2.0
    if a <= 1:
        return 2.0 + (a - alpha) * (omega - 2.0) / (1.0 - alpha)
    return omega + a - 1.0


def mm_table(a_values=(0.0, 0.1, 0.2, ALPHA, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), *, sparsity_exponent=0.8) -> list[dict]:
    """The exponents of the lazy-update argument, one row per rank exponent ``a`` (rank ``r = m^a``).

    With factors of rank ``r = m^a`` accumulated over ``T = m^a / B`` steps and dense factor columns
    (the paper's setting), per step:

    * ``densify_fastmm = omega(1,1,a) - a``: amortised exponent of the re-densification with fast
      rectangular multiplication;
    * ``densify_blas = 2``: the same with cubic (BLAS) multiplication, ``m^2 r / T = B m^2``, whatever ``a``;
    * ``lowrank = 1 + a``: products with the dense ``m x r`` factors, ``m r`` per sample;
    * ``sparse_forward = 1 + sparsity_exponent``: ``m`` times the active neurons ``m^(1-c)``;
    * ``step_fastmm`` / ``step_blas``: the largest of these, i.e. the per-step exponent.
    """
    rows = []
    for a in a_values:
        w = omega_rect(a)
        d_fast = w - a
        low = 1.0 + a
        sp = 1.0 + sparsity_exponent
        rows.append(
            {
                "a": float(a),
                "omega_1_1_a": w,
                "densify_fastmm": d_fast,
                "densify_blas": 2.0,
                "lowrank": low,
                "sparse_forward": sp,
                "step_fastmm": max(d_fast, low, sp),
                "step_blas": max(2.0, low, sp),
            }
        )
    return rows


def densify_period(m, batch, *, schedule: str = "fast-mm", alpha: float = ALPHA) -> int:
    """Steps between re-densifications.

    ``"fast-mm"``: ``T = max(1, floor(m^alpha / batch))`` -- the largest rank ``B T <= m^alpha``
    whose densify still costs ``m^(2+o(1))`` with fast rectangular multiplication, so its cost per
    step is ``m^(2 - alpha)`` (the paper's amortisation).  ``"sparse"``: ``T = 1`` -- with factor
    columns supported on active sets (ours) a densify costs ``sum_c nnz(u_c) nnz(v_c)``, linear in
    the number of columns, so its amortised cost per step does not depend on ``T`` while the
    factor products grow with ``T``: the count model is minimised by densifying every step.
    """
    m = check_int("m", m, minimum=1)
    batch = check_int("batch", batch, minimum=1)
    if schedule == "fast-mm":
        return max(1, int(math.floor(m**alpha / batch)))
    if schedule == "sparse":
        return 1
    raise ValueError(f"schedule must be one of {SCHEDULES}, got schedule={schedule!r}")


def predicted_counts(m, *, batch, depth=2, d_in=64, d_out=10, b=None, period=1, s_in=None, s=None) -> dict:
    """Expected multiply-adds of one fast-trainer step, by part, averaged over a densify period.

    ``s = m Phibar(b)`` active neurons per sample and layer (override with ``s``, and the input
    layer's with ``s_in``), active sets of different layers treated as independent.  With ``T =
    period`` and rank ``B j`` at step ``j = 0..T-1`` of a period (mean ``B (T-1)/2``)::

        input            B m d_in
        forward          L B m s
        forward_lowrank  L B (B (T-1)/2) 2 s
        output           2 B m d_out
        backward         (L-1) B s^2
        backward_lowrank (L-1) B (B (T-1)/2) 2 s
        gradient         L B s                (scaling -eta delta)
        densify          L B s^2              (amortised: B T columns of s^2 every T steps)
    """
    m = check_int("m", m, minimum=1)
    b = default_bias(m) if b is None else float(b)
    s = m * phibar(b) if s is None else float(s)
    s_in = s if s_in is None else float(s_in)
    B, L, T = batch, depth, period
    r_mean = B * (T - 1) / 2.0
    return {
        "input": B * m * d_in,
        "forward": B * m * (s_in + (L - 1) * s),
        "forward_lowrank": B * r_mean * (s_in + s + (L - 1) * 2 * s),
        "output": 2 * B * m * d_out,
        "backward": (L - 1) * B * s * s,
        "backward_lowrank": (L - 1) * B * r_mean * 2 * s,
        "gradient": L * B * s,
        "densify": B * (s * s_in + (L - 1) * s * s),
    }


def predicted_total(m, **kw) -> float:
    return float(sum(predicted_counts(m, **kw).values()))


def dense_counts(m, *, batch, depth=2, d_in=64, d_out=10) -> dict:
    """Multiply-adds of one dense step (exact: shapes of the BLAS products)."""
    B, L = batch, depth
    return {
        "input": B * m * d_in,
        "forward": L * B * m * m,
        "forward_lowrank": 0,
        "output": 2 * B * m * d_out,
        "backward": (L - 1) * B * m * m,
        "backward_lowrank": 0,
        "gradient": L * (B * m * m + m * m),
        "densify": 0,
    }


def predicted_exponent(ms, **kw) -> dict:
    """Fitted log-log slope of the predicted fast count over ``ms``, and the asymptotic exponent.

    With ``b = sqrt(2 c ln m)`` the leading term ``L B m s = L B m^2 Phibar(b)`` is
    ``Theta(m^(2 - c) / sqrt(ln m))``; the default ``b = sqrt(0.4 ln m)`` has ``c = 0.2``, exponent 1.8.
    Over a finite range the ``1/sqrt(ln m)`` factor makes the fitted slope a little smaller.
    """
    ms = [check_int("m", m, minimum=2) for m in ms]
    totals = [predicted_total(m, **kw) for m in ms]
    return {"fitted": loglog_slope(ms, totals), "asymptotic": 1.8, "totals": np.array(totals)}
