"""``python -m numerics bench``: timings with ratios against baselines measured in the same run.

Each topic module listed in ``BENCH_MODULES`` exposes
``run(quick: bool) -> list[dict]``; each row has at least ``group``, ``name``,
``seconds``, and, where it compares, ``baseline`` (the name of the row it is
compared with) and ``ratio`` (baseline seconds / this row's seconds, so > 1
means faster than the baseline).  Rows may add ``n``, ``batch``, ``dtype``,
``ns_per_element``, ``gflops``, ``threads``.  Timings are reported, never asserted.
"""
from __future__ import annotations

import json
import platform
import time
from typing import Callable, Sequence

import numpy as np

from ._paths import report_dir

__all__ = ["BENCH_MODULES", "time_call", "run", "format_rows"]

BENCH_MODULES: tuple[str, ...] = (
    "numerics.hadamard.bench",
    "numerics.jl.bench",
    "numerics.butterfly.bench",
    "numerics.wide.bench",
    "numerics.factorize.bench",
    "numerics.kaleidoscope.bench",
    "numerics.gblr.bench",
    "numerics.unitary.bench",
)


def time_call(fn: Callable[[], object], *, min_time: float = 0.05, repeat: int = 7, max_loops: int = 1_000_000) -> float:
    """Best-of-``repeat`` seconds per call of ``fn`` (after one warm-up call).

    The loop count is chosen so one measurement lasts about ``min_time``; the
    minimum over repeats is the least noisy estimate on a shared machine.
    """
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or loops >= max_loops:
            break
        loops = min(max_loops, max(loops * 2, int(loops * min_time / max(dt, 1e-9))))
    best = dt / loops
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - t0) / loops)
    return best


def format_rows(rows: Sequence[dict]) -> str:
    cols = ["group", "name", "dtype", "n", "batch", "threads", "seconds", "ns_per_element", "gflops", "baseline", "ratio"]
    cols = [c for c in cols if any(c in r for r in rows)]

    def cell(r, c):
        v = r.get(c, "")
        if isinstance(v, float):
            if c == "seconds":
                return f"{v:.3e}"
            return f"{v:.3g}"
        return str(v)

    table = [cols] + [[cell(r, c) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(*, quick: bool = True, only: Sequence[str] | None = None) -> list[dict]:
    import importlib

    rows: list[dict] = []
    for name in BENCH_MODULES:
        short = name.split(".")[1]
        if only and short not in only:
            continue
        module = importlib.import_module(name)
        rows.extend(module.run(quick=quick))
    return rows


def main(*, quick: bool = True, only: Sequence[str] | None = None, json_path: str | None = None) -> int:
    rows = run(quick=quick, only=only)
    print(format_rows(rows))
    path = report_dir() / "bench.json" if json_path is None else json_path
    meta = {"machine": platform.machine(), "processor": platform.processor(), "python": platform.python_version(), "numpy": np.__version__}
    with open(path, "w") as fh:
        json.dump({"meta": meta, "rows": rows}, fh, indent=2)
    print(f"\nwritten {path}")
    return 0
