"""Plain-NumPy references of the optimizer kernels in :mod:`numerics.nn._kernels` (for tests)."""
from __future__ import annotations

import numpy as np

__all__ = ["adam_step_reference", "sgd_step_reference"]


def adam_step_reference(p, g, m, v, t, lr, b1, b2, eps, wd):
    """One Adam step at step number ``t`` (1-based), in place on ``p``, ``m``, ``v``."""
    g = g + wd * p
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    mhat = m / (1 - b1**t)
    vhat = v / (1 - b2**t)
    p -= lr * mhat / (np.sqrt(vhat) + eps)


def sgd_step_reference(p, g, vel, lr, mu, wd, nesterov):
    """One SGD step with momentum ``mu`` (``vel`` starts at zero), in place on ``p`` and ``vel``."""
    g = g + wd * p
    vel[...] = mu * vel + g
    p -= lr * (g + mu * vel if nesterov else vel)
