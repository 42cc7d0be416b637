"""Benchmark: kaleidoscope forward ``X @ K.T`` against the dense product (``python -m numerics bench``).

Group ``kaleidoscope-fwd``, batch 256, float64, ``w = 1, 2``, ``e = 1``,
``n = 2**6 .. 2**12`` (quick: up to ``2**10``), one thread for Numba and BLAS
(``threadpoolctl``), both measured in the same run.  ``gflops`` counts
``2 w * 4 n log2 n`` flops per row for the K-matrix (``2 w`` butterflies) and
``2 n^2`` for dense.  ``ratio`` = dense seconds / K-matrix seconds.  Timings are
reported, never asserted.
"""
from __future__ import annotations

import numpy as np

from numerics.bench import time_call

from .operator import Kaleidoscope

BATCH = 256


def _row(name, n, seconds, flops, w=None, baseline=None, base_seconds=None) -> dict:
    row = {
        "group": "kaleidoscope-fwd",
        "name": name,
        "dtype": "float64",
        "n": int(n),
        "batch": BATCH,
        "threads": 1,
        "seconds": float(seconds),
        "ns_per_element": float(1e9 * seconds / (n * BATCH)),
        "gflops": float(flops / seconds / 1e9),
    }
    if w is not None:
        row["w"] = int(w)
    if baseline is not None:
        row["baseline"] = baseline
        row["ratio"] = float(base_seconds / seconds)
    return row


def run(quick: bool = True) -> list[dict]:
    """Rows for ``n = 2**6 .. 2**10`` (quick) or ``2**12`` (full)."""
    import numba
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    rows = []
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        with threadpool_limits(limits=1):
            for L in range(6, (10 if quick else 12) + 1):
                n = 1 << L
                X = rng.standard_normal((BATCH, n))
                W = rng.standard_normal((n, n))
                t_dense = time_call(lambda: X @ W.T, min_time=0.02 if quick else 0.1, repeat=3 if quick else 7)
                rows.append(_row("dense X @ W.T", n, t_dense, 2.0 * BATCH * n * n))
                for w in (1, 2):
                    K = Kaleidoscope.random(n, w=w, seed=1)
                    t = time_call(lambda: K.apply_rows(X), min_time=0.02 if quick else 0.1, repeat=3 if quick else 7)
                    rows.append(_row(f"Kaleidoscope w={w} apply_rows", n, t, 2 * w * 4.0 * BATCH * n * L, w=w,
                                     baseline="dense X @ W.T", base_seconds=t_dense))
    finally:
        numba.set_num_threads(previous)
    return rows
