"""The one place that decides how Numba compiles the project's kernels.

Every kernel module imports :func:`jit` from here instead of calling
``numba.njit`` directly, so caching, fastmath and parallelism are set once.

* ``cache=True``: compiled machine code is written next to the source (in
  ``__pycache__``) and reused by later processes, so only the first call on a
  fresh machine pays for compilation.  Set ``NUMERICS_NUMBA_CACHE=0`` to turn
  this off (for example on a read-only install).
* ``fastmath`` is off by default.  Kernels that are pure additions and
  multiplications on finite data may ask for it explicitly; it is never used
  on code that must see NaN or inf.
* ``parallel=True`` is requested per kernel; those kernels use ``prange`` over
  independent rows of a batch.

Importing this module imports Numba but compiles nothing: kernels are
compiled lazily on their first call (or loaded from the on-disk cache).
"""
from __future__ import annotations

import os

import numba

__all__ = ["jit", "CACHE", "prange", "num_threads"]

CACHE = os.environ.get("NUMERICS_NUMBA_CACHE", "1") not in ("0", "false", "False", "")

prange = numba.prange


def jit(*args, parallel: bool = False, fastmath: bool = False, inline: str = "never", **kwargs):
    """``numba.njit`` with the project's settings (nopython, cache, no fastmath).

    Used either bare (``@jit``) or with options (``@jit(parallel=True)``).
    """
    options = dict(cache=CACHE, parallel=parallel, fastmath=fastmath, nogil=True, error_model="numpy")
    if inline != "never":
        options["inline"] = inline
    options.update(kwargs)
    if args and callable(args[0]) and len(args) == 1:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)


def num_threads() -> int:
    """Number of threads Numba's parallel kernels use right now."""
    return numba.get_num_threads()
