"""Forward and backward time of each unitary parametrisation against n (``python -m numerics bench``).

Rows (format of :mod:`numerics.bench`): group ``unitary-forward`` (``param.matrix(theta)``) and
``unitary-backward`` (``param.vjp(theta, G)``), complex128, ``n = 16 .. 256`` (quick: 16, 64),
one row per parametrisation; ``baseline`` is the closed-form polar factor of an ``n x n`` complex
matrix (one SVD, group ``unitary-polar``) and ``ratio`` = polar seconds / row seconds.
``ns_per_element`` is per entry of ``U``.  BLAS is pinned to Numba's thread count.  Timings are
reported, never asserted.
"""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from numerics._jit import num_threads
from numerics.bench import time_call

from ._param import KINDS, parametrisation
from .projection import polar_factor


def run(quick: bool = True) -> list[dict]:
    ns = [16, 64] if quick else [16, 32, 64, 128, 256]
    threads = num_threads()
    rows = []
    rng = np.random.default_rng(0)
    with threadpool_limits(threads):
        for n in ns:
            W = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
            t_polar = time_call(lambda: polar_factor(W), min_time=0.05 if quick else 0.2, repeat=3)
            base = dict(dtype="complex128", n=n, batch=1, threads=threads)
            rows.append(dict(group="unitary-polar", name="polar (SVD)", seconds=t_polar,
                             ns_per_element=t_polar * 1e9 / n ** 2, baseline="", ratio=1.0, **base))
            G = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
            for kind in KINDS:
                P = parametrisation(kind, n, complex=True)
                th = P.random(1, scale=0.3 / np.sqrt(n))
                for group, fn in (("unitary-forward", lambda: P.matrix(th)),
                                  ("unitary-backward", lambda: P.vjp(th, G))):
                    t = time_call(fn, min_time=0.05 if quick else 0.2, repeat=3)
                    rows.append(dict(group=group, name=kind, seconds=t, ns_per_element=t * 1e9 / n ** 2,
                                     baseline="polar (SVD)", ratio=t_polar / t, **base))
    return rows
