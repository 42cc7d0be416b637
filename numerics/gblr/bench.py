"""Benchmarks of the GBLR product against a dense BLAS product (``python -m numerics bench``).

Group ``gblr-matmat``: ``GBLRMatrix.apply_rows`` on a batch of 1024 rows, for square ``n = 256, 1024``
and a GBLR matrix with 16 components of widths ``n/8`` (``flops = 4 n``), against the dense ``X @ W.T``.
``ratio`` = dense seconds / GBLR seconds.  Timings are reported, never asserted.
"""
from __future__ import annotations

import numpy as np

from numerics.bench import time_call

from .operator import GBLRMatrix

BATCH = 1024


def _row(name, dtype, n, seconds, baseline=None, base=None):
    row = {"group": "gblr-matmat", "name": name, "dtype": np.dtype(dtype).name, "n": int(n), "batch": BATCH,
           "threads": 0, "seconds": float(seconds), "ns_per_element": float(1e9 * seconds / (n * BATCH))}
    if baseline is not None:
        row["baseline"] = baseline
        row["ratio"] = float(base / seconds)
    return row


def run(quick: bool = True) -> list[dict]:
    from numerics._jit import num_threads

    rows = []
    ns = (256,) if quick else (256, 1024)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for n in ns:
            K, w = 16, n // 8
            U = rng.standard_normal((K, n)).astype(dtype)
            V = rng.standard_normal((K, n)).astype(dtype)
            G = GBLRMatrix.from_intervals(U, V, rng.integers(0, n, K), np.full(K, w), rng.integers(0, n, K),
                                          np.full(K, w))
            W = G.todense()
            X = rng.standard_normal((BATCH, n)).astype(dtype)
            G.apply_rows(X)
            td = time_call(lambda: X @ W.T)
            tg = time_call(lambda: G.apply_rows(X))
            rows.append(_row("dense X @ W.T", dtype, n, td))
            r = _row(f"GBLRMatrix.apply_rows (flops={G.flops})", dtype, n, tg, "dense X @ W.T", td)
            r["threads"] = int(num_threads()) if callable(num_threads) else 0
            rows.append(r)
    return rows
