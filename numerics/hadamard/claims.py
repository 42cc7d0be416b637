"""Claims about the fast Walsh-Hadamard transform (theory: ``theory/fwht.md``).

* ``fwht.exact``: :func:`numerics.fwht` is the Sylvester Hadamard product,
  to rounding, in every mode (1-D, batched, any axis, all norms, float32).
* ``fwht.cost``: the butterfly algorithm performs exactly ``n log2 n``
  additions/subtractions (counted), against ``n (n - 1)`` for the dense
  product; measured time grows like ``n log n`` (reported, not asserted).
"""
from __future__ import annotations

import math

import numpy as np

from numerics.claims import Part, Result, claim

from . import _kernels
from ._api import _aligned_empty, fwht
from ._reference import dense_reference, fwht_reference, new_counter, total_ops

PAPER = "A: Ailon et al. 2021 (UAI)"
THEORY = "theory/fwht.md"
NOTEBOOK = "notebooks/01_fwht_fjlt.ipynb"


def _rel(err: np.ndarray, ref: np.ndarray, axis: int = -1) -> float:
    """Largest norm-wise relative error over the vectors of a batch."""
    num = np.linalg.norm(err, axis=axis)
    den = np.linalg.norm(ref, axis=axis)
    return float(np.max(num / den))


@claim(
    "fwht.exact",
    title="FWHT equals the Sylvester Hadamard product",
    statement=(
        "numerics.fwht(x) equals scipy.linalg.hadamard(n) @ x to 1e-12 relative error in float64 "
        "(1e-5 in float32) for every n = 2, 4, ..., 4096, for single vectors and batches along "
        "either axis; with norm='ortho' it preserves norms to 1e-12 and is its own inverse."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#fwht.exact",
    quick={"max_log2n": 12, "trials": 3},
    full={"max_log2n": 12, "trials": 32},
    seed=20210701,
)
def check_exact(*, seed: int, max_log2n: int, trials: int) -> Result:
    """Compare :func:`numerics.fwht` with the dense Hadamard product for n = 2..2**max_log2n.

    For each ``n`` draws ``trials`` standard normal vectors and transforms
    them as one batch along the last axis, one by one as 1-D vectors, and as
    the columns of the transposed batch (``axis=0``); compares each with
    ``scipy.linalg.hadamard(n) @ x`` in float64.

    Returned ``data`` (one entry per ``n``):

    ``ns``
        the sizes ``2, 4, ..., 2**max_log2n``.
    ``rel_err``
        float64: largest norm-wise relative error ``||fwht(x) - H x|| / ||H x||``
        over all vectors and the three layouts.
    ``rel_err32``
        the same for float32 inputs (reference computed in float64 from the
        float32 values).
    ``norm_err``
        ``max | ||fwht(x, norm="ortho")|| / ||x|| - 1 |``.
    ``inv_err``
        ``max ||fwht(fwht(x, "ortho"), "ortho") - x|| / ||x||``.
    """
    from scipy.linalg import hadamard

    rng = np.random.default_rng(seed)
    ns = [2**p for p in range(1, max_log2n + 1)]
    rel_err, rel_err32, norm_err, inv_err = [], [], [], []
    for n in ns:
        H = hadamard(n, dtype=np.float64)
        X = rng.standard_normal((trials, n))
        ref = X @ H.T  # rows: H x (H is symmetric)
        errs = [
            _rel(fwht(X) - ref, ref),
            max(_rel(fwht(x) - r, r) for x, r in zip(X, ref)),
            _rel(fwht(np.ascontiguousarray(X.T), axis=0) - ref.T, ref.T, axis=0),
        ]
        rel_err.append(max(errs))
        X32 = X.astype(np.float32)
        ref32 = X32.astype(np.float64) @ H.T
        rel_err32.append(max(_rel(fwht(X32).astype(np.float64) - ref32, ref32),
                             _rel(fwht(X32[0]).astype(np.float64) - ref32[0], ref32[0])))
        Y = fwht(X, norm="ortho")
        norm_err.append(float(np.max(np.abs(np.linalg.norm(Y, axis=1) / np.linalg.norm(X, axis=1) - 1.0))))
        inv_err.append(_rel(fwht(Y, norm="ortho") - X, X))
    data = {
        "ns": np.array(ns),
        "rel_err": np.array(rel_err),
        "rel_err32": np.array(rel_err32),
        "norm_err": np.array(norm_err),
        "inv_err": np.array(inv_err),
    }
    parts = [
        Part("max relative error vs hadamard(n) @ x, float64", max(rel_err), 1e-12, "<="),
        Part("max relative error, float32", max(rel_err32), 1e-5, "<="),
        Part("max | ||Hx||/||x|| - 1 |, norm='ortho'", max(norm_err), 1e-12, "<="),
        Part("max relative error of ortho(ortho(x)) vs x", max(inv_err), 1e-12, "<="),
    ]
    worst = ns[int(np.argmax(rel_err))]
    note = (
        f"n = 2..{ns[-1]}, {trials} vectors per n, batched/1-D/axis=0; "
        f"largest float64 error at n={worst}; float32 errors grow slowly with log2 n."
    )
    return Result(parts=parts, headline=0, note=note, data=data)


def _time_one_thread(sizes, dtype, *, min_time: float, repeat: int, rng, api: bool = False) -> np.ndarray:
    """Best-of-``repeat`` seconds per transform of one vector, one Numba thread.

    Times the out-of-place kernel behind :func:`numerics.fwht` on
    preallocated buffers (``api=False``), or the public call itself with its
    argument checks and allocation (``api=True``).
    """
    import numba

    from numerics.bench import time_call

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        out = []
        for n in sizes:
            x = _aligned_empty(n, dtype)  # 64-byte aligned, as fwht allocates large outputs
            x[:] = rng.standard_normal(n)
            if api:
                fn = lambda: fwht(x)  # noqa: E731
            else:
                y = _aligned_empty(n, dtype)
                fn = lambda: _kernels.fwht_copy_1d(x, y, 1.0)  # noqa: E731
            out.append(time_call(fn, min_time=min_time, repeat=repeat))
        return np.array(out)
    finally:
        numba.set_num_threads(previous)


@claim(
    "fwht.cost",
    title="FWHT costs n log2 n additions",
    statement=(
        "The butterfly algorithm performs exactly n log2 n additions/subtractions for every "
        "n = 2, 4, ..., 2**22 (counted by running it), against n(n-1) for the dense product; "
        "its measured one-thread time grows like n log n (fitted log-log slope over "
        "n = 2**10..2**22 expected in 0.95..1.25, reported, not asserted)."
    ),
    paper=PAPER,
    theory=THEORY,
    notebook=NOTEBOOK + "#fwht.cost",
    quick={"max_log2n": 22, "dense_max_log2n": 9, "time_log2n": (10, 22), "repeat": 3, "min_time": 0.01},
    full={"max_log2n": 22, "dense_max_log2n": 11, "time_log2n": (10, 22), "repeat": 9, "min_time": 0.1},
    seed=20210702,
)
def check_cost(
    *, seed: int, max_log2n: int, dense_max_log2n: int, time_log2n: tuple, repeat: int, min_time: float
) -> Result:
    """Count the additions of the butterfly algorithm and time the kernel.

    Runs the counting NumPy reference :func:`fwht_reference` on a random
    vector for every ``n = 2..2**max_log2n`` and compares the count with the
    closed form ``n log2 n`` (derived in ``theory/fwht.md``); checks that the
    counted reference and the Numba kernel compute the same transform; counts
    the naive dense product (:func:`dense_reference`) up to
    ``2**dense_max_log2n`` and compares with ``n (n - 1)``.  Then times
    :func:`numerics.fwht` on one vector, one thread, for every
    ``n = 2**lo..2**hi`` (``time_log2n = (lo, hi)``), in float64 and float32,
    and fits the log-log slope of seconds against ``n``.  The kernel is timed
    (not the public call, whose constant ~1 microsecond of checks would
    flatten the slope at small ``n``); ``seconds_api`` shows the public call.  Timings are only
    reported: no part depends on them.

    Returned ``data``:

    ``count_ns``, ``ops``, ``ops_closed_form``
        sizes, counted additions+subtractions of the butterfly algorithm and
        ``n log2 n``, for ``n = 2..2**max_log2n``.
    ``ops_dense``
        ``n (n - 1)``, the dense product's count, for the same sizes.
    ``dense_ns``, ``ops_dense_counted``
        sizes and counted operations of the naive dense product.
    ``ns``
        the timed sizes ``2**lo .. 2**hi``.
    ``seconds``, ``seconds32``
        best-of-``repeat`` seconds per transform of one vector by the Numba
        kernel behind ``fwht`` (preallocated output), float64 and float32,
        one thread.
    ``seconds_api``
        the same for the public call ``numerics.fwht(x)`` in float64
        (argument checks, allocation and dispatch included: about a
        microsecond more, which matters only at small ``n``).
    ``ns_per_element``, ``ns_per_element32``
        ``1e9 * seconds / n``.
    ``slope``, ``slope32``
        fitted log-log slope of seconds against ``n`` (``n log n`` time gives
        a little above 1; cache effects move it).
    """
    from numerics.stats import loglog_slope

    rng = np.random.default_rng(seed)
    count_ns = [2**p for p in range(1, max_log2n + 1)]
    ops = []
    kernel_diff = 0.0
    for n in count_ns:
        x = rng.standard_normal(n)
        counter = new_counter()
        y = fwht_reference(x, counter)
        ops.append(total_ops(counter))
        if n <= 2**16:  # the counted algorithm is the one the kernel runs
            z = x.copy()
            _kernels.fwht_row_inplace(z)
            kernel_diff = max(kernel_diff, float(np.linalg.norm(z - y) / np.linalg.norm(y)))
    ops = np.array(ops, dtype=np.int64)
    closed = np.array([n * int(math.log2(n)) for n in count_ns], dtype=np.int64)
    ops_dense = np.array([n * (n - 1) for n in count_ns], dtype=np.int64)

    dense_ns = [2**p for p in range(1, dense_max_log2n + 1)]
    dense_counted = []
    for n in dense_ns:
        counter = new_counter()
        dense_reference(rng.standard_normal(n), counter)
        dense_counted.append(total_ops(counter))
    dense_counted = np.array(dense_counted, dtype=np.int64)

    lo, hi = time_log2n
    ns = np.array([2**p for p in range(lo, hi + 1)])
    seconds = _time_one_thread(ns, np.float64, min_time=min_time, repeat=repeat, rng=rng)
    seconds32 = _time_one_thread(ns, np.float32, min_time=min_time, repeat=repeat, rng=rng)
    seconds_api = _time_one_thread(ns, np.float64, min_time=min_time, repeat=repeat, rng=rng, api=True)
    slope = loglog_slope(ns, seconds)
    slope32 = loglog_slope(ns, seconds32)

    data = {
        "count_ns": np.array(count_ns),
        "ops": ops,
        "ops_closed_form": closed,
        "ops_dense": ops_dense,
        "dense_ns": np.array(dense_ns),
        "ops_dense_counted": dense_counted,
        "ns": ns,
        "seconds": seconds,
        "seconds32": seconds32,
        "seconds_api": seconds_api,
        "ns_per_element": 1e9 * seconds / ns,
        "ns_per_element32": 1e9 * seconds32 / ns,
        "slope": slope,
        "slope32": slope32,
    }
    parts = [
        Part(f"max |counted ops - n log2 n|, n = 2..2^{max_log2n}", int(np.max(np.abs(ops - closed))), 0, "=="),
        Part(
            f"max |counted dense ops - n(n-1)|, n = 2..2^{dense_max_log2n}",
            int(np.max(np.abs(dense_counted - ops_dense[: len(dense_ns)]))),
            0,
            "==",
        ),
        Part("relative difference, counted reference vs Numba kernel", kernel_diff, 1e-12, "<="),
    ]
    note = (
        f"time (one thread) ~ n^{slope:.3f} (float64), n^{slope32:.3f} (float32) over "
        f"n = 2^{lo}..2^{hi} (expected 0.95..1.25; reported, not asserted); "
        f"float64 {data['ns_per_element'].min():.2f}..{data['ns_per_element'].max():.2f} ns/element, "
        f"float32 {data['ns_per_element32'].min():.2f}..{data['ns_per_element32'].max():.2f}; "
        f"at n = 2^{max_log2n} the dense product needs {ops_dense[-1] / ops[-1]:.3g}x more additions."
    )
    return Result(parts=parts, headline=0, note=note, data=data)
