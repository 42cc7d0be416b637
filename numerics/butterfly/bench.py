"""Benchmarks of the butterfly kernels against dense BLAS products (``python -m numerics bench``).

Rows (see :mod:`numerics.bench` for the format), batch 1024, float32 and
float64, ``n = 2**6 .. 2**13``, measured in the same run with BLAS pinned to
the same number of threads as Numba (``threadpoolctl``):

* group ``butterfly-fwd``: ``butterfly_forward(X, tw)`` against the dense
  ``X @ W.T``.  ``gflops`` counts ``4 batch n log2 n`` flops (the butterfly's
  ``2 n log2 n`` multiply-adds per row) resp. ``2 batch n^2`` for dense.
* group ``butterfly-fwdbwd``: one training step's products,
  ``butterfly_forward`` then ``butterfly_backward`` (which recomputes the
  forward pass inside each tile), against ``X @ W.T``, ``G @ W`` and
  ``G.T @ X``.  ``gflops`` counts the useful work ``3 * 4 batch n log2 n``
  (forward, input gradient, twiddle gradient; the recomputation is not
  counted) resp. ``3 * 2 batch n^2``.

``ratio`` = dense seconds / butterfly seconds (> 1: the butterfly is faster).
:func:`summary` adds, per group, dtype and thread count, the fitted log-log
slopes of time against ``n`` (:func:`numerics.stats.loglog_slope`) and the
crossover size (smallest ``n`` from which the butterfly is faster at every
measured size).  Timings are reported, never asserted.
"""
from __future__ import annotations

import math
import time

import numpy as np

from numerics.bench import time_call
from numerics.stats import loglog_slope

from .functional import butterfly_backward, butterfly_forward

BATCH = 1024
DENSE = {"butterfly-fwd": "dense X @ W.T", "butterfly-fwdbwd": "dense X @ W.T + G @ W + G.T @ X"}
BUTTERFLY = {"butterfly-fwd": "butterfly_forward", "butterfly-fwdbwd": "butterfly_forward + butterfly_backward"}


def _row(group, name, dtype, n, threads, seconds, flops, baseline=None, base_seconds=None) -> dict:
    row = {
        "group": group,
        "name": name,
        "dtype": np.dtype(dtype).name,
        "n": int(n),
        "batch": BATCH,
        "threads": int(threads),
        "seconds": float(seconds),
        "ns_per_element": float(1e9 * seconds / (n * BATCH)),
        "gflops": float(flops / seconds / 1e9),
    }
    if baseline is not None:
        row["baseline"] = baseline
        row["ratio"] = float(base_seconds / seconds)
    return row


def summary(rows) -> list[dict]:
    """Fitted slopes and crossover per (group, dtype, threads), as extra rows.

    Each row has ``group``, ``dtype``, ``threads``, ``slope_butterfly``,
    ``slope_dense`` (log-log slopes of seconds against ``n`` over all measured
    sizes), ``crossover_n`` (smallest measured ``n`` from which the butterfly
    is faster at every larger measured size; ``None`` if never) and a ``name``
    that spells these out for the table.
    """
    out = []
    keys = sorted({(r["group"], r["dtype"], r["threads"]) for r in rows if r["group"] in DENSE})
    for group, dtype, threads in keys:
        sel = [r for r in rows if (r["group"], r["dtype"], r["threads"]) == (group, dtype, threads)]
        bf = sorted((r["n"], r["seconds"], r.get("ratio")) for r in sel if r["name"] == BUTTERFLY[group])
        de = sorted((r["n"], r["seconds"]) for r in sel if r["name"] == DENSE[group])
        if len(bf) < 2 or len(de) < 2:
            continue
        sb = loglog_slope([b[0] for b in bf], [b[1] for b in bf])
        sd = loglog_slope([d[0] for d in de], [d[1] for d in de])
        cross = None
        for k in range(len(bf) - 1, -1, -1):
            if bf[k][2] is not None and bf[k][2] > 1:
                cross = bf[k][0]
            else:
                break
        out.append({
            "group": group, "dtype": dtype, "threads": threads, "batch": BATCH,
            "slope_butterfly": sb, "slope_dense": sd, "crossover_n": cross,
            "name": f"fit: slope butterfly {sb:.2f}, dense {sd:.2f}; faster from n={cross}",
        })
    return out


def run(quick: bool = True) -> list[dict]:
    """Time butterfly forward and forward+backward against dense BLAS; rows for :func:`numerics.bench.format_rows`."""
    import numba
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    if quick:
        log2ns, repeat, min_time = (6, 7, 10, 12, 13), 3, 0.01
        thread_counts = [numba.config.NUMBA_NUM_THREADS]
    else:
        log2ns, repeat, min_time = range(6, 14), 5, 0.05
        thread_counts = sorted({1, numba.config.NUMBA_NUM_THREADS})
    rows: list[dict] = []
    previous = numba.get_num_threads()
    try:
        for threads in thread_counts:
            numba.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                for dtype in (np.float32, np.float64):
                    for p in log2ns:
                        n = 2**p
                        X = rng.standard_normal((BATCH, n)).astype(dtype)
                        G = rng.standard_normal((BATCH, n)).astype(dtype)
                        W = (rng.standard_normal((n, n)) / math.sqrt(n)).astype(dtype)
                        tw = (rng.standard_normal((p, n // 2, 2, 2)) * math.sqrt(0.5)).astype(dtype)
                        f_bf = 4.0 * BATCH * n * p
                        f_de = 2.0 * BATCH * n * n

                        def fwdbwd():
                            butterfly_forward(X, tw)
                            butterfly_backward(X, tw, G)

                        def dense_fwdbwd():
                            X @ W.T
                            G @ W
                            G.T @ X

                        rep = repeat if n < 2**12 else 2
                        for group, fb, fd, k in (
                            ("butterfly-fwd", lambda: butterfly_forward(X, tw), lambda: X @ W.T, 1),
                            ("butterfly-fwdbwd", fwdbwd, dense_fwdbwd, 3),
                        ):
                            # OpenBLAS worker threads keep spinning for about 0.1 s after a
                            # product; a Numba thread woken on the same core then waits a whole
                            # scheduler slice (measured: 8 ms steps at n = 128, 2x at n = 4096).
                            # So the butterfly is timed first, after the previous dense product's
                            # threads have gone to sleep; Numba's pool waits passively
                            # (numerics._jit), so it does not disturb the dense timing after it.
                            time.sleep(0.3)
                            # The butterfly's calls take milliseconds, so a short stall of the
                            # machine weighs on them far more than on the dense seconds-long
                            # products: more samples (still the best of them, as for dense).
                            tb = time_call(fb, min_time=max(min_time, 0.05), repeat=max(rep, 7))
                            td = time_call(fd, min_time=min_time, repeat=rep)
                            rows.append(_row(group, DENSE[group], dtype, n, threads, td, k * f_de))
                            rows.append(_row(group, BUTTERFLY[group], dtype, n, threads, tb, k * f_bf, DENSE[group], td))
    finally:
        numba.set_num_threads(previous)
    return rows + summary(rows)


if __name__ == "__main__":  # pragma: no cover
    from numerics.bench import format_rows

    print(format_rows(run(quick=True)))
