"""Minibatch training with progress, seeds, evaluation and a stop on NaN/inf."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from numerics._progress import progress as _progress
from numerics._validation import check_int, check_rng

from ._losses import check_labels, softmax_cross_entropy, squared_loss
from ._model import Sequential
from ._optim import Adam

__all__ = ["History", "fit", "evaluate", "accuracy", "predict", "LOSSES"]

#: Losses accepted by :func:`fit` and :func:`evaluate`.
LOSSES = {"cross_entropy": softmax_cross_entropy, "squared": squared_loss}


@dataclass
class History:
    """Per-epoch record of :func:`fit` (one entry per epoch in every list that applies).

    Attributes
    ----------
    train_loss : list of float
        Mean of the minibatch losses over the epoch, weighted by batch size (each
        at the weights before its step, as in most libraries).
    train_accuracy : list of float
        Same, for the fraction of correct argmax predictions (``cross_entropy`` only; empty otherwise).
    val_loss, val_accuracy : list of float
        On ``(X_val, y_val)`` after each epoch, in evaluation mode (empty without validation data;
        ``val_accuracy`` also empty for the squared loss).
    epoch_seconds : list of float
        Wall time of the epoch's training steps alone (shuffling, forward, backward,
        update and the NaN checks), excluding evaluation.
    steps_per_epoch : int
    """

    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    steps_per_epoch: int = 0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def as_arrays(self) -> dict:
        """The lists as float64 arrays (for plotting)."""
        return {k: np.asarray(getattr(self, k), dtype=np.float64)
                for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "epoch_seconds")}


def _check_model(model) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a numerics.nn.Sequential, got {type(model).__name__}")
    return model


def _check_loss(loss: str):
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got loss={loss!r}")
    return LOSSES[loss]


def _check_data(model: Sequential, X, y, loss: str, xname: str, yname: str):
    X = model.check_input(X, xname)
    if X.shape[0] == 0:
        raise ValueError(f"{xname} has no rows (shape {X.shape})")
    if not np.isfinite(X).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValueError(f"{xname} contains NaN or inf (first at index {bad}); expected finite values")
    if loss == "cross_entropy":
        y = check_labels(y, X.shape[0], model.out_features, yname)
    else:
        if not isinstance(y, np.ndarray):
            raise TypeError(f"{yname} must be a numpy array, got {type(y).__name__}")
        if y.dtype != model.dtype:
            raise TypeError(
                f"{yname} has dtype {y.dtype} but the model has dtype {model.dtype}; convert explicitly "
                f"({yname}.astype(np.{model.dtype})) if that is what you want"
            )
        if y.shape != (X.shape[0], model.out_features):
            raise ValueError(f"{yname} has shape {y.shape}; expected ({X.shape[0]}, {model.out_features})")
        if not np.isfinite(y).all():
            raise ValueError(f"{yname} contains NaN or inf; expected finite targets")
    return X, y


def _first_nonfinite(params: dict):
    """Name of the first parameter holding NaN or inf, or ``None`` (fast path: one sum per array)."""
    for key, p in params.items():
        with np.errstate(over="ignore", invalid="ignore"):
            total = p.sum()
        if not np.isfinite(total) and not np.isfinite(p).all():
            return key
    return None


def _reraise_nonfinite(exc: ValueError, where: str, epoch: int, step: int, steps: int):
    if "NaN or inf" in str(exc):
        raise FloatingPointError(
            f"NaN or inf in the {where} at epoch {epoch}, step {step} (of {steps}); training stopped "
            f"(lower the learning rate or check the data): {exc}"
        ) from exc
    raise exc


def fit(
    model, X, y, *, loss: str = "cross_entropy", optimizer=None, epochs: int = 10, batch_size: int = 64,
    seed=None, X_val=None, y_val=None, progress: bool = True,
) -> History:
    """Train ``model`` by minibatch gradient steps; return the per-epoch :class:`History`.

    Each epoch visits the rows of ``X`` once in an order shuffled by the seeded
    generator, in batches of ``batch_size`` (the last one may be smaller): forward
    in training mode, loss and gradient, backward, ``optimizer.step(model.params, model.grads)``.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (n_samples, model.in_features)
        The model's dtype exactly (never cast), finite.
    y : ndarray
        ``cross_entropy``: integer labels in ``[0, model.out_features)``, shape ``(n_samples,)``.
        ``squared``: targets of the model's dtype, shape ``(n_samples, model.out_features)``.
    loss : {"cross_entropy", "squared"}
        :func:`softmax_cross_entropy` or :func:`squared_loss` (both batch means).
    optimizer : object with ``step(params, grads)``, default ``Adam()``
        Kept across calls if passed (so momentum/Adam state carries over).
    epochs : int, default 10
    batch_size : int, default 64
    seed : None, int, SeedSequence or Generator
        Shuffling.  With a fixed seed and a freshly built model, training is deterministic.
    X_val, y_val : ndarray, optional
        Evaluated after every epoch (both or neither).
    progress : bool, default True
        Show a progress bar over epochs (``numerics._progress``; ``NUMERICS_PROGRESS=0`` silences it).

    Returns
    -------
    History

    Raises
    ------
    FloatingPointError
        When the loss of a minibatch, any parameter after a step, or an
        activation reaching a butterfly kernel is NaN or inf; the message names
        the (1-based) epoch and step within the epoch, and the parameter.  Training stops there (the model keeps the bad values).
    """
    model = _check_model(model)
    loss_fn = _check_loss(loss)
    X, y = _check_data(model, X, y, loss, "X", "y")
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")
    if X_val is not None:
        X_val, y_val = _check_data(model, X_val, y_val, loss, "X_val", "y_val")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool, got progress={progress!r}")
    if optimizer is None:
        optimizer = Adam()
    elif not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    rng = check_rng("seed", seed)
    classify = loss == "cross_entropy"
    n = X.shape[0]
    starts = range(0, n, batch_size)
    hist = History(steps_per_epoch=len(starts))
    params, grads = model.params, model.grads

    bar = _progress(range(1, epochs + 1), desc="fit", unit="epoch", **({} if progress else {"disable": True}))
    for epoch in bar:
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        total_loss, correct = 0.0, 0
        for step, s in enumerate(starts, start=1):
            idx = perm[s : s + batch_size]
            xb, yb = X[idx], y[idx]
            try:
                out = model.forward(xb, train=True)
            except ValueError as exc:  # a butterfly kernel refusing NaN/inf activations
                _reraise_nonfinite(exc, "forward pass", epoch, step, len(starts))
            value, grad = loss_fn(out, yb)
            if not np.isfinite(value):
                raise FloatingPointError(
                    f"loss is {value} at epoch {epoch}, step {step} (of {len(starts)}); "
                    f"training stopped (lower the learning rate or check the data)"
                )
            total_loss += value * idx.shape[0]
            if classify:
                correct += int(np.count_nonzero(out.argmax(axis=1) == yb))
            try:
                model.backward(grad, need_grad_in=False)
            except ValueError as exc:
                _reraise_nonfinite(exc, "backward pass", epoch, step, len(starts))
            optimizer.step(params, grads)
            bad = _first_nonfinite(params)
            if bad is not None:
                raise FloatingPointError(
                    f"parameter {bad!r} contains NaN or inf after the update at epoch {epoch}, step {step} "
                    f"(of {len(starts)}); training stopped (lower the learning rate or check the gradients)"
                )
        hist.epoch_seconds.append(time.perf_counter() - t0)
        hist.train_loss.append(total_loss / n)
        if classify:
            hist.train_accuracy.append(correct / n)
        if X_val is not None:
            vl, va = _evaluate(model, X_val, y_val, loss_fn, classify, 1024)
            hist.val_loss.append(vl)
            if classify:
                hist.val_accuracy.append(va)
        if progress:
            post = {"loss": f"{hist.train_loss[-1]:.4g}"}
            if hist.val_accuracy:
                post["val_acc"] = f"{hist.val_accuracy[-1]:.4f}"
            bar.set_postfix(post, refresh=False)
    return hist


def _evaluate(model, X, y, loss_fn, classify, batch_size):
    total, correct = 0.0, 0
    for s in range(0, X.shape[0], batch_size):
        out = model.forward(X[s : s + batch_size], train=False)
        yb = y[s : s + batch_size]
        value, _ = loss_fn(out, yb)
        total += value * out.shape[0]
        if classify:
            correct += int(np.count_nonzero(out.argmax(axis=1) == yb))
    n = X.shape[0]
    return total / n, (correct / n if classify else None)


def evaluate(model, X, y, *, loss: str = "cross_entropy", batch_size: int = 1024) -> tuple[float, float | None]:
    """Mean loss and accuracy (``None`` for the squared loss) of ``model`` on ``(X, y)``, in evaluation mode.

    Inputs are checked as in :func:`fit`; computed ``batch_size`` rows at a time.
    """
    model = _check_model(model)
    loss_fn = _check_loss(loss)
    X, y = _check_data(model, X, y, loss, "X", "y")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return _evaluate(model, X, y, loss_fn, loss == "cross_entropy", batch_size)


def accuracy(model, X, y, *, batch_size: int = 1024) -> float:
    """Fraction of rows whose largest output is the label ``y`` (integer labels in ``[0, out_features)``)."""
    return evaluate(model, X, y, loss="cross_entropy", batch_size=batch_size)[1]


def predict(model, X, *, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for the rows of ``X`` in evaluation mode, ``batch_size`` rows at a time."""
    return _check_model(model).predict(X, batch_size=batch_size)
