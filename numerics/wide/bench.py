"""Wall time per training step, fast against dense trainer (``python -m numerics bench``).

Rows (format of :mod:`numerics.bench`): group ``wide-step``, L = 2 trained layers, batch 16,
float64, digits inputs, widths ``m = 2^9 .. 2^14`` (quick: ``2^9, 2^11, 2^13``).  For each width
the dense reference is timed first (trained in place, then freed), then the fast trainer on a
fresh network from the same seed -- same process, same run.  ``seconds`` is the median over the
timed steps (after one warm-up step), ``ratio`` = dense / fast seconds, ``memory_bytes`` the bytes of
the trainer's arrays (weights, plus the fast trainer's factors).  BLAS is pinned to Numba's thread
count (``threadpoolctl``).  A final row per trainer gives the fitted log-log exponent of seconds
against m (``name`` spells it out).  Timings are reported, never asserted.
"""
from __future__ import annotations

import gc

import numpy as np
from threadpoolctl import threadpool_limits

from numerics._jit import num_threads
from numerics.stats import loglog_slope

from .data import digits_task
from .dense import DenseTrainer
from .fast import FastTrainer
from .model import WideNet, expected_active

BATCH = 16
DEPTH = 2


def _nbytes(tr) -> int:
    total = tr.net.A.nbytes + tr.net.C.nbytes + sum(w.nbytes for w in tr.net.Wt)
    for f in getattr(tr, "factors", []):
        total += sum(a.nbytes for blk in f.blocks for a in blk)
    return int(total)


def _time(cls, m, X, Y, steps, seed):
    net = WideNet.init(m, depth=DEPTH, d_in=X.shape[1], d_out=Y.shape[1], seed=seed)
    tr = cls(net, lr=0.1 / expected_active(m, net.b), copy=False)
    import time

    secs = []
    for t in range(steps + 1):
        rows = np.arange(t * BATCH, (t + 1) * BATCH) % X.shape[0]
        Xb, Yb = np.ascontiguousarray(X[rows]), np.ascontiguousarray(Y[rows])
        t0 = time.perf_counter()
        tr.step(Xb, Yb)
        secs.append(time.perf_counter() - t0)
    mem = _nbytes(tr)
    ops = float(np.mean([sum(c.values()) for c in tr.counts[1:]]))
    del tr, net
    gc.collect()
    return float(np.median(secs[1:])), mem, ops


def run(quick: bool = True) -> list[dict]:
    log2_ms = [9, 11, 13] if quick else [9, 10, 11, 12, 13, 14]
    X, Y = digits_task(256, seed=0)
    threads = num_threads()
    rows, sec = [], {"dense": [], "fast": []}
    with threadpool_limits(threads):
        for p in log2_ms:
            m = 2**p
            steps = 3 if m >= 2**13 else 8
            d_sec, d_mem, d_ops = _time(DenseTrainer, m, X, Y, steps, seed=p)
            f_sec, f_mem, f_ops = _time(FastTrainer, m, X, Y, steps, seed=p)
            sec["dense"].append(d_sec)
            sec["fast"].append(f_sec)
            base = dict(group="wide-step", dtype="float64", n=m, batch=BATCH, threads=threads)
            rows.append(dict(base, name="dense step", seconds=d_sec, ns_per_element=1e9 * d_sec / (m * BATCH),
                             memory_bytes=d_mem, multiply_adds=d_ops))
            rows.append(dict(base, name="fast step", seconds=f_sec, ns_per_element=1e9 * f_sec / (m * BATCH),
                             memory_bytes=f_mem, multiply_adds=f_ops, baseline="dense step", ratio=d_sec / f_sec))
    ms = [2**p for p in log2_ms]
    for name in ("dense", "fast"):
        slope = loglog_slope(ms, sec[name])
        rows.append(dict(group="wide-step", name=f"{name} step: fitted exponent of seconds vs m = {slope:.2f}",
                         dtype="float64", n=ms[-1], batch=BATCH, threads=threads, seconds=sec[name][-1], exponent=slope))
    return rows
