"""Optimizers updating parameter arrays in place: SGD (momentum, Nesterov) and Adam.

An optimizer's :meth:`step(params, grads)` takes two dicts with the same keys
(e.g. :attr:`Sequential.params` and :attr:`Sequential.grads`) and updates every
``params[k]`` in place.  State (velocities, moments, step counts) is kept per key
and created at the first step; reusing an optimizer with arrays of another shape
or dtype under the same key is an error.  ``weight_decay`` adds ``wd * p`` to the
gradient of every parameter (L2 regularisation, biases included).  The updates
with state run as fused serial Numba kernels (:mod:`numerics.nn._kernels`), one
pass over each array.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import _kernels as K

__all__ = ["Optimizer", "SGD", "Adam"]


def _real(name: str, value, *, lo: float, hi: float = math.inf, lo_open: bool = False, hi_open: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {name}={value!r}")
    v = float(value)
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}, got {name}={value!r}")
    return v


class Optimizer:
    """Base class: per-key state and the :meth:`step` protocol."""

    def __init__(self):
        self.state: dict = {}

    def _state(self, key, p: np.ndarray, names: tuple) -> dict:
        st = self.state.get(key)
        if st is None:
            st = {name: np.zeros_like(p) for name in names}
            st["t"] = 0
            self.state[key] = st
        else:
            ref = st[names[0]]
            if ref.shape != p.shape or ref.dtype != p.dtype:
                raise ValueError(
                    f"parameter {key!r} has shape {p.shape} and dtype {p.dtype}, but this optimizer's state "
                    f"for it has shape {ref.shape} and dtype {ref.dtype}; use a fresh optimizer per model"
                )
        return st

    def step(self, params: dict, grads: dict) -> None:
        """Update every ``params[k]`` in place from ``grads[k]``."""
        if params.keys() != grads.keys():
            raise ValueError(f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}")
        for key, p in params.items():
            g = grads[key]
            if g.shape != p.shape or g.dtype != p.dtype:
                raise ValueError(
                    f"grads[{key!r}] has shape {g.shape} and dtype {g.dtype}; expected {p.shape} and {p.dtype}"
                )
            if not (p.flags.c_contiguous and g.flags.c_contiguous):
                raise ValueError(f"params[{key!r}] and grads[{key!r}] must be C-contiguous (updated in place as flat views)")
            self._update(key, p, g)

    def _update(self, key, p, g):  # pragma: no cover - interface
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    With ``g = grad + weight_decay * p`` and the velocity ``v`` (zero at start):

    * ``momentum == 0``: ``p -= lr * g``;
    * otherwise ``v = momentum * v + g`` and ``p -= lr * v``, or with ``nesterov=True``
      ``p -= lr * (g + momentum * v)``.

    Parameters
    ----------
    lr : float
        Learning rate, ``> 0``.
    momentum : float, default 0.0
        In ``[0, 1)``.
    nesterov : bool, default False
        Requires ``momentum > 0``.
    weight_decay : float, default 0.0
        ``>= 0``.
    """

    def __init__(self, lr, momentum=0.0, nesterov: bool = False, weight_decay=0.0):
        super().__init__()
        self.lr = _real("lr", lr, lo=0.0, lo_open=True)
        self.momentum = _real("momentum", momentum, lo=0.0, hi=1.0, hi_open=True)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be a bool, got nesterov={nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")
        self.nesterov = bool(nesterov)
        self.weight_decay = _real("weight_decay", weight_decay, lo=0.0)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, weight_decay={self.weight_decay})"

    def _update(self, key, p, g):
        if self.momentum == 0.0:
            if self.weight_decay:
                g = g + self.weight_decay * p
            p -= self.lr * g
            return
        st = self._state(key, p, ("velocity",))
        st["t"] += 1
        dt = p.dtype.type
        K.sgd_step(p.reshape(-1), g.reshape(-1), st["velocity"].reshape(-1), dt(self.lr), dt(self.momentum),
                    dt(self.weight_decay), self.nesterov)


class Adam(Optimizer):
    """Adam (Kingma and Ba) with bias correction; ``weight_decay`` is added to the gradient (not AdamW).

    Per parameter, at step ``t = 1, 2, ...`` with ``g = grad + weight_decay * p``:
    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``p -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.

    Parameters
    ----------
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Each in ``[0, 1)``.
    eps : float, default 1e-8
        ``> 0``.
    weight_decay : float, default 0.0
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__()
        self.lr = _real("lr", lr, lo=0.0, lo_open=True)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got betas={betas!r}")
        self.betas = (
            _real("betas[0]", betas[0], lo=0.0, hi=1.0, hi_open=True),
            _real("betas[1]", betas[1], lo=0.0, hi=1.0, hi_open=True),
        )
        self.eps = _real("eps", eps, lo=0.0, lo_open=True)
        self.weight_decay = _real("weight_decay", weight_decay, lo=0.0)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, weight_decay={self.weight_decay})"

    def _update(self, key, p, g):
        b1, b2 = self.betas
        st = self._state(key, p, ("m", "v"))
        st["t"] += 1
        t = st["t"]
        dt = p.dtype.type
        K.adam_step(p.reshape(-1), g.reshape(-1), st["m"].reshape(-1), st["v"].reshape(-1),
                    dt(self.lr / (1.0 - b1**t)), dt(b1), dt(1.0 - b1), dt(b2), dt(1.0 - b2),
                    dt(1.0 / math.sqrt(1.0 - b2**t)), dt(self.eps), dt(self.weight_decay))
