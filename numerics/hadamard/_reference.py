"""Plain-NumPy references for the Walsh-Hadamard transform, with operation counts.

These are the oracles the tests and the cost claim use beside the Numba
kernels: short, vectorised NumPy, no cleverness.

* :func:`fwht_reference` runs the butterfly algorithm stage by stage and, if
  given a ``counter``, adds up the additions and subtractions it performs
  (the sizes of the arrays it adds and subtracts), so the operation count of
  the algorithm is *measured*, not assumed.
* :func:`dense_reference` multiplies by the Hadamard matrix the naive way
  (one running sum per output), counting its additions/subtractions too.
* :func:`sylvester_hadamard` builds ``H_n`` by the Sylvester recursion.
"""
from __future__ import annotations

import numpy as np

__all__ = ["fwht_reference", "dense_reference", "sylvester_hadamard", "new_counter", "total_ops"]


def new_counter() -> dict:
    """A fresh operation counter: ``{"additions": 0, "subtractions": 0}``."""
    return {"additions": 0, "subtractions": 0}


def total_ops(counter: dict) -> int:
    """Additions plus subtractions recorded in ``counter``."""
    return int(counter["additions"]) + int(counter["subtractions"])


def _length(x: np.ndarray, axis: int) -> int:
    n = x.shape[axis]
    if n < 1 or n & (n - 1):
        raise ValueError(f"x has length {n} along axis {axis}; expected a power of two")
    return n


def fwht_reference(x, counter: dict | None = None, *, axis: int = -1) -> np.ndarray:
    """Unnormalised Walsh-Hadamard transform by explicit butterfly stages (NumPy).

    For ``h = 1, 2, 4, ..., n/2`` the vector is viewed as blocks of ``2h``;
    each block's first half ``a`` and second half ``b`` become ``a + b`` and
    ``a - b``.  The result equals ``scipy.linalg.hadamard(n) @ x`` along
    ``axis``.

    Parameters
    ----------
    x : array_like
        Real array; its length along ``axis`` must be a power of two.  The
        dtype is kept for floating inputs (integers are computed in float64).
    counter : dict, optional
        If given, ``counter["additions"]`` and ``counter["subtractions"]``
        are increased by the number of scalar additions and subtractions
        performed (the number of elements of each array sum and difference
        formed), over all vectors of the batch.
    axis : int, optional
        Axis to transform (default: last).

    Returns
    -------
    numpy.ndarray
        The transform, a new array.
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension")
    y = np.moveaxis(arr, axis, -1).copy()
    n = _length(y, -1)
    batch = y.shape[:-1]
    h = 1
    while h < n:
        blocks = y.reshape(*batch, n // (2 * h), 2, h)
        a = blocks[..., 0, :]
        b = blocks[..., 1, :]
        s = a + b
        d = a - b
        if counter is not None:
            counter["additions"] = counter.get("additions", 0) + int(s.size)
            counter["subtractions"] = counter.get("subtractions", 0) + int(d.size)
        blocks[..., 0, :] = s
        blocks[..., 1, :] = d
        h *= 2
    return np.moveaxis(y, -1, axis)


def sylvester_hadamard(n: int, dtype=np.float64) -> np.ndarray:
    """``H_n`` by the Sylvester recursion ``H_2m = [[H_m, H_m], [H_m, -H_m]]``."""
    if n < 1 or n & (n - 1):
        raise ValueError(f"n={n} is not a power of two")
    H = np.ones((1, 1), dtype=dtype)
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    return H


def dense_reference(x, counter: dict | None = None) -> np.ndarray:
    """``H_n @ x`` for a 1-D ``x`` the naive way: one running signed sum per output.

    Output ``i`` starts at ``H[i, 0] x[0]`` and then adds or subtracts each of
    ``x[1], ..., x[n-1]`` according to the sign ``H[i, j]`` (sign changes are
    not arithmetic), i.e. ``n - 1`` additions/subtractions per output and
    ``n (n - 1)`` in all, all of which are counted in ``counter``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    n = _length(x, 0)
    H = sylvester_hadamard(n)
    y = H[:, 0] * x[0]
    for j in range(1, n):
        plus = H[:, j] > 0
        minus = ~plus
        y[plus] += x[j]  # outputs whose sign is +1 add x[j] ...
        y[minus] -= x[j]  # ... the others subtract it
        if counter is not None:
            counter["additions"] = counter.get("additions", 0) + int(np.count_nonzero(plus))
            counter["subtractions"] = counter.get("subtractions", 0) + int(np.count_nonzero(minus))
    return y
