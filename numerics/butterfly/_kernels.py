"""Numba kernels for butterfly matrices (products of ``log2 n`` sparse 2x2-block factors).

Layout of the twiddles
----------------------
``tw`` has shape ``(L, n/2, 2, 2)`` with ``L = log2 n``.  Factor ``t`` has
stride ``s = 2**t``; its pair ``p`` joins indices ``i`` and ``j = i + s``
where the ``i`` with bit ``t`` clear are enumerated in increasing order:
``i = 2 s (p // s) + p % s``.  Equivalently, for every block start
``base = 0, 2s, 4s, ...`` and offset ``k = 0..s-1``: ``i = base + k`` and
``p = base/2 + k``.  The pair maps ``(x_i, x_j) -> (a x_i + b x_j, c x_i + d x_j)``
with ``[[a, b], [c, d]] = tw[t, p]``.

Kernels
-------
``butterfly_rows(x, tw, order)`` / ``butterfly_rows_serial``
    Apply the factors ``tw[order[0]]``, then ``tw[order[1]]``, ... in place
    to every row of the C-contiguous 2-D array ``x`` (rows in parallel with
    ``prange`` in the first variant).

The adjoint needs no kernel of its own: ``B^H`` is the butterfly whose blocks
are the conjugate transposes ``[[conj a, conj c], [conj b, conj d]]``, applied
in the reverse order, so the caller passes those twiddles and ``order[::-1]``.

``x`` and ``tw`` must have the same dtype (float32, float64, complex64 or
complex128).  No ``fastmath``: NaN/inf are checked by the callers anyway, and
results round as the plain scalar recurrence does.
"""
from __future__ import annotations

import numpy as np

from numerics._jit import jit, prange

__all__ = [
    "butterfly_rows",
    "butterfly_rows_serial",
]


@jit
def _row_forward(x, tw, order):
    n = x.shape[0]
    for f in range(order.shape[0]):
        t = order[f]
        s = 1 << t
        for base in range(0, n, 2 * s):
            p0 = base >> 1
            for k in range(s):
                i = base + k
                p = p0 + k
                xi = x[i]
                xj = x[i + s]
                x[i] = tw[t, p, 0, 0] * xi + tw[t, p, 0, 1] * xj
                x[i + s] = tw[t, p, 1, 0] * xi + tw[t, p, 1, 1] * xj


@jit(parallel=True)
def butterfly_rows(x, tw, order):
    """Apply the factors ``tw[order[0]], tw[order[1]], ...`` in place to each row of ``x`` (parallel)."""
    for r in prange(x.shape[0]):
        _row_forward(x[r], tw, order)


@jit
def butterfly_rows_serial(x, tw, order):
    """One-thread version of :func:`butterfly_rows`."""
    for r in range(x.shape[0]):
        _row_forward(x[r], tw, order)
