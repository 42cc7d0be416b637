"""Numba kernels of the optimizers: one fused pass over each parameter array.

Each update reads and writes every array once (NumPy would make several passes
and temporaries).  They are serial on purpose: the update is memory-bound, and a
parallel (OpenMP) kernel run between OpenBLAS calls made both several times
slower here, the two thread pools spinning against each other.  Arrays are 1-D contiguous views of the parameters; scalars
are passed in the parameters' dtype so float32 stays float32.  No fastmath: the
training loop must see NaN and inf.  :mod:`numerics.nn._reference` holds the
plain-NumPy versions used by the tests.
"""
from __future__ import annotations

import math

from numerics._jit import jit

__all__ = ["adam_step", "sgd_step"]


@jit(inline="always")
def _adam_one(p, g, m, v, k, lr_t, b1, c1m, b2, c2m, inv_sqrt_c2, eps, wd):
    gk = g[k] + wd * p[k]
    mk = b1 * m[k] + c1m * gk
    vk = b2 * v[k] + c2m * (gk * gk)
    m[k] = mk
    v[k] = vk
    p[k] -= lr_t * mk / (math.sqrt(vk) * inv_sqrt_c2 + eps)


@jit
def adam_step(p, g, m, v, lr_t, b1, c1m, b2, c2m, inv_sqrt_c2, eps, wd):
    """Adam in place: ``c1m = 1 - b1``, ``c2m = 1 - b2``, ``lr_t = lr / (1 - b1**t)``, ``inv_sqrt_c2 = 1/sqrt(1 - b2**t)``."""
    for k in range(p.shape[0]):
        _adam_one(p, g, m, v, k, lr_t, b1, c1m, b2, c2m, inv_sqrt_c2, eps, wd)


@jit(inline="always")
def _sgd_one(p, g, vel, k, lr, mu, wd, nesterov):
    gk = g[k] + wd * p[k]
    vk = mu * vel[k] + gk
    vel[k] = vk
    if nesterov:
        p[k] -= lr * (gk + mu * vk)
    else:
        p[k] -= lr * vk


@jit
def sgd_step(p, g, vel, lr, mu, wd, nesterov):
    """SGD with momentum in place: ``vel = mu vel + (g + wd p)``; ``p -= lr vel`` (or Nesterov)."""
    for k in range(p.shape[0]):
        _sgd_one(p, g, vel, k, lr, mu, wd, nesterov)
