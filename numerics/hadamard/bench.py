"""Benchmarks of the Walsh-Hadamard transform (``python -m numerics bench``).

Rows (see :mod:`numerics.bench` for the format):

* group ``fwht-1d``: one vector, one thread, ``n = 2**10 .. 2**22``, float64
  and float32.  ``numerics.fwht`` (the public call) against
  ``scipy.fft.rfft`` of the same length and dtype (a tuned O(n log n)
  transform, the natural yardstick) and, for ``n <= 2**12``, against the
  dense product ``hadamard(n) @ x`` (matrix built outside the timed call).
  Also the Numba kernel behind ``fwht`` alone (preallocated output, no
  argument checks or allocation).
* group ``fwht-batch``: 256 and 1024 rows of ``n = 2**12`` and ``2**14``
  with all Numba threads against one thread.

Timings are reported, never asserted.
"""
from __future__ import annotations

import numpy as np

from numerics.bench import time_call

from . import _kernels
from ._api import _aligned_empty, fwht


def _row(group, name, dtype, n, batch, threads, seconds, baseline=None, base_seconds=None) -> dict:
    row = {
        "group": group,
        "name": name,
        "dtype": np.dtype(dtype).name,
        "n": int(n),
        "batch": int(batch),
        "threads": int(threads),
        "seconds": float(seconds),
        "ns_per_element": float(1e9 * seconds / (n * batch)),
    }
    if baseline is not None:
        row["baseline"] = baseline
        row["ratio"] = float(base_seconds / seconds)
    return row


def run(quick: bool = True) -> list[dict]:
    """Time the transform; return rows for :func:`numerics.bench.format_rows`."""
    import numba
    import scipy.fft
    from scipy.linalg import hadamard

    rng = np.random.default_rng(0)
    min_time, repeat = (0.02, 5) if quick else (0.1, 9)
    log2ns = range(10, 23, 2) if quick else range(10, 23)
    rows: list[dict] = []
    threads_all = numba.config.NUMBA_NUM_THREADS
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        for dtype in (np.float64, np.float32):
            for p in log2ns:
                n = 2**p
                x = _aligned_empty(n, dtype)  # 64-byte aligned: alignment changes timings by up to ~1.5x
                x[:] = rng.standard_normal(n)
                t_rfft = time_call(lambda: scipy.fft.rfft(x), min_time=min_time, repeat=repeat)
                t_fwht = time_call(lambda: fwht(x), min_time=min_time, repeat=repeat)
                buf = _aligned_empty(n, dtype)
                t_kernel = time_call(lambda: _kernels.fwht_copy_1d(x, buf, 1.0), min_time=min_time, repeat=repeat)
                g = "fwht-1d"
                rows.append(_row(g, "scipy.fft.rfft", dtype, n, 1, 1, t_rfft))
                rows.append(_row(g, "numerics.fwht", dtype, n, 1, 1, t_fwht, "scipy.fft.rfft", t_rfft))
                rows.append(_row(g, "fwht kernel (no checks)", dtype, n, 1, 1, t_kernel, "scipy.fft.rfft", t_rfft))
                if n <= 2**12:
                    H = hadamard(n, dtype=dtype)
                    t_dense = time_call(lambda: H @ x, min_time=min_time, repeat=repeat)
                    rows.append(_row(g, "hadamard(n) @ x", dtype, n, 1, 1, t_dense))
                    rows.append(_row(g, "numerics.fwht", dtype, n, 1, 1, t_fwht, "hadamard(n) @ x", t_dense))
        numba.set_num_threads(previous)
        for dtype in (np.float64, np.float32):
            for n in (2**12, 2**14):
                for batch in (256, 1024):
                    X = _aligned_empty((batch, n), dtype)
                    X[:] = rng.standard_normal((batch, n))
                    numba.set_num_threads(1)
                    t1 = time_call(lambda: fwht(X), min_time=min_time, repeat=repeat)
                    numba.set_num_threads(threads_all)
                    tp = time_call(lambda: fwht(X), min_time=min_time, repeat=repeat)
                    g = "fwht-batch"
                    rows.append(_row(g, "numerics.fwht 1 thread", dtype, n, batch, 1, t1))
                    rows.append(
                        _row(g, "numerics.fwht", dtype, n, batch, threads_all, tp, "numerics.fwht 1 thread", t1)
                    )
    finally:
        numba.set_num_threads(previous)
    return rows


if __name__ == "__main__":  # pragma: no cover
    from numerics.bench import format_rows

    print(format_rows(run(quick=True)))
