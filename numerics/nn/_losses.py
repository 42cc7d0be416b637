"""Losses returning ``(loss, gradient)``: softmax cross-entropy and squared loss.

Both average over the batch (rows), so the gradient carries a factor ``1/batch``
and the learning rate does not depend on the batch size.
"""
from __future__ import annotations

import numpy as np

from ._layers import DTYPES

__all__ = ["softmax_cross_entropy", "squared_loss", "check_labels"]


def _check_pred(name: str, x) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype not in DTYPES:
        raise TypeError(f"{name} has dtype {x.dtype}; expected float32 or float64")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be 2-D (batch, outputs) and non-empty, got shape {x.shape}")
    return x


def check_labels(y, n_samples: int, n_classes: int, name: str = "y") -> np.ndarray:
    """``y`` as given if it is a 1-D integer array of ``n_samples`` labels in ``[0, n_classes)``; raise otherwise."""
    if not isinstance(y, np.ndarray):
        y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{name} has dtype {y.dtype}; expected integer class labels 0..{n_classes - 1} "
            f"(convert explicitly, e.g. {name}.astype(np.int64))"
        )
    if y.shape != (n_samples,):
        raise ValueError(f"{name} has shape {y.shape}; expected ({n_samples},), one label per row")
    if n_samples:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} contains label {bad}; expected labels 0 <= {name} < n_classes={n_classes}")
    return y


def softmax_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of integer labels and its gradient.

    ``loss = mean_i [ logsumexp(logits_i) - logits_i[y_i] ]`` computed with the
    maximum subtracted (no overflow), and ``grad = (softmax(logits) - onehot(y)) / batch``.

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes), float32 or float64
    y : ndarray of int, shape (batch,)
        Labels in ``[0, n_classes)``.

    Returns
    -------
    loss : float
    grad : ndarray, same shape and dtype as ``logits``
    """
    logits = _check_pred("logits", logits)
    batch, n_classes = logits.shape
    y = check_labels(y, batch, n_classes)
    rows = np.arange(batch)
    Z = logits - logits.max(axis=1, keepdims=True)
    # log-sum-exp minus the label's logit, both shifted by the row maximum: log(s) - z_y
    z_y = Z[rows, y]
    np.exp(Z, out=Z)
    s = Z.sum(axis=1)
    loss = float(np.mean(np.log(s) - z_y, dtype=np.float64))
    Z /= s[:, None]
    Z[rows, y] -= 1
    Z /= batch
    return loss, Z


def squared_loss(pred, target) -> tuple[float, np.ndarray]:
    """Half squared error summed over outputs, averaged over the batch, and its gradient.

    ``loss = (1 / (2 batch)) * sum_ij (pred_ij - target_ij)**2`` and ``grad = (pred - target) / batch``.

    Parameters
    ----------
    pred : ndarray, shape (batch, m), float32 or float64
    target : ndarray, same shape and dtype as ``pred``, finite

    Returns
    -------
    loss : float
    grad : ndarray, same shape and dtype as ``pred``
    """
    pred = _check_pred("pred", pred)
    if not isinstance(target, np.ndarray):
        raise TypeError(f"target must be a numpy array, got {type(target).__name__}")
    if target.dtype != pred.dtype:
        raise TypeError(
            f"target has dtype {target.dtype} but pred has dtype {pred.dtype}; convert explicitly "
            f"(target.astype(np.{pred.dtype})) if that is what you want"
        )
    if target.shape != pred.shape:
        raise ValueError(f"target has shape {target.shape}; expected the shape of pred, {pred.shape}")
    D = pred - target
    batch = pred.shape[0]
    loss = float(0.5 * np.vdot(D, D).real / batch)
    D /= batch
    return loss, D
