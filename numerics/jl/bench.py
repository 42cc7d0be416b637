"""Timings of the JL projections (reported, never asserted).

* ``jl.project``: project ``N = 4096`` rows of dimension ``n = 2^14`` to ``k = 256``
  (float64; one thread, then all threads): the fused SRHT batch kernel
  (:func:`numerics.jl.srht_project`, split and plain variants) against a dense
  Gaussian projection ``X @ G.T`` (BLAS, limited with threadpoolctl) and
  scikit-learn's ``SparseRandomProjection.transform`` (fit not timed).
* ``jl.matvec``: one vector through each operator.

``ratio`` is baseline seconds / row seconds (> 1: faster than the baseline).
"""
from __future__ import annotations

import numpy as np

from numerics.bench import time_call

__all__ = ["run"]


def _threads_context(n: int):
    import contextlib

    import numba
    from threadpoolctl import threadpool_limits

    @contextlib.contextmanager
    def ctx():
        old = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            with threadpool_limits(limits=n):
                yield
        finally:
            numba.set_num_threads(old)

    return ctx()


def run(quick: bool = True) -> list[dict]:
    """Benchmark rows (see :mod:`numerics.bench` for the keys)."""
    import numba
    from sklearn.random_projection import SparseRandomProjection

    from .operators import SRHT, AilonChazelle, GaussianProjection, SparseProjection

    N, n, k = 4096, 2**14, 256
    repeat = 3 if quick else 7
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, n))
    X32 = X.astype(np.float32)
    G = GaussianProjection(n, k, seed=1).components
    G32 = G.astype(np.float32)
    srp = SparseRandomProjection(n_components=k, random_state=0).fit(X[:8])
    split = SRHT(n, k, seed=2)
    plain = SRHT(n, k, seed=2, block_size=1)
    split32 = SRHT(n, k, seed=2, dtype=np.float32)
    rows: list[dict] = []
    max_threads = numba.config.NUMBA_NUM_THREADS
    elems = N * n

    def row(name, seconds, threads, dtype="float64", baseline=None, base_seconds=None, group="jl.project", n_=n, batch=N):
        r = dict(group=group, name=name, dtype=dtype, n=n_, batch=batch, threads=threads, seconds=seconds,
                 ns_per_element=seconds / (n_ * batch) * 1e9)
        if baseline is not None:
            r.update(baseline=baseline, ratio=base_seconds / seconds)
        return r

    for threads in sorted({1, max_threads}):
        with _threads_context(threads):
            t_dense = time_call(lambda: X @ G.T, min_time=0.0, repeat=repeat)
            t_srp = time_call(lambda: srp.transform(X), min_time=0.0, repeat=repeat)
            t_split = time_call(lambda: split.project(X), min_time=0.0, repeat=repeat)
            t_plain = time_call(lambda: plain.project(X), min_time=0.0, repeat=repeat)
            t_dense32 = time_call(lambda: X32 @ G32.T, min_time=0.0, repeat=repeat)
            t_split32 = time_call(lambda: split32.project(X32), min_time=0.0, repeat=repeat)
        dense = f"dense Gaussian X@G.T ({threads} thr)"
        sk = f"sklearn SparseRandomProjection.transform ({threads} thr)"
        rows += [
            row(dense, t_dense, threads),
            row(sk, t_srp, threads, baseline=dense, base_seconds=t_dense),
            row(f"srht_project split b={split.block_size}", t_split, threads, baseline=dense, base_seconds=t_dense),
            row(f"srht_project split b={split.block_size} vs sparse", t_split, threads, baseline=sk, base_seconds=t_srp),
            row("srht_project plain (full FWHT, b=1)", t_plain, threads, baseline=dense, base_seconds=t_dense),
            row(f"dense Gaussian X@G.T float32 ({threads} thr)", t_dense32, threads, dtype="float32"),
            row(f"srht_project split b={split32.block_size} float32", t_split32, threads, dtype="float32",
                baseline=f"dense Gaussian X@G.T float32 ({threads} thr)", base_seconds=t_dense32),
        ]

    # single vectors through each operator (one thread)
    x = X[0].copy()
    ops = {
        "GaussianProjection": GaussianProjection(n, k, seed=3),
        "SRHT": split,
        "AilonChazelle": AilonChazelle(n, k, seed=3),
        "SparseProjection": SparseProjection(n, k, seed=3),
    }
    with _threads_context(1):
        times = {name: time_call(lambda op=op: op.matvec(x), min_time=0.02, repeat=repeat) for name, op in ops.items()}
    for name, t in times.items():
        base = None if name == "GaussianProjection" else "GaussianProjection.matvec"
        rows.append(row(f"{name}.matvec", t, 1, baseline=base, base_seconds=times["GaussianProjection"], group="jl.matvec", batch=1))

    for r in rows:
        if "ratio" in r:
            print(f"  {r['group']}: {r['name']} [{r['threads']} thr]: {r['ratio']:.2f}x vs {r['baseline']}, "
                  f"{r['ns_per_element']:.3g} ns/element")
    return rows
