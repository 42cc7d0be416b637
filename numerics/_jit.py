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

Cache freshness.  Numba decides whether a cached kernel is stale from the
source file of that kernel alone, but our kernels call kernels in other files
(the fused FJLT projection calls the FWHT), and a cached caller keeps the code
of the callee it was compiled with.  So for functions defined inside this
package the cache stamp also carries a hash of every kernel source file
(``_jit.py`` and each ``_kernels.py``): editing any kernel invalidates every
cached kernel of the suite, and nothing stale is ever loaded.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Numba's parallel kernels run on an OpenMP thread pool whose idle threads spin by
# default; in a network that alternates BLAS products (OpenBLAS threads also spin)
# with parallel Numba kernels, the two pools then steal the cores from each other
# (measured: a butterfly MLP step 2-3x slower on 2 cores).  Passive waiting costs a
# few microseconds per parallel launch.  Set before the pool starts; a value the
# user exported wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
from numba.core import caching as _caching

__all__ = ["jit", "CACHE", "prange", "num_threads", "kernel_sources", "suite_stamp"]

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


_PACKAGE = Path(__file__).resolve().parent


def kernel_sources() -> list[Path]:
    """The files whose content decides whether any cached kernel is fresh."""
    return [_PACKAGE / "_jit.py", *sorted(_PACKAGE.rglob("_kernels.py"))]


def _hash_files(paths) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(Path(path).name).encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


_STAMP: str | None = None


def suite_stamp() -> str:
    """Hash of all kernel sources (computed once per process)."""
    global _STAMP
    if _STAMP is None:
        _STAMP = _hash_files(kernel_sources())
    return _STAMP


def _install_cache_locators() -> None:
    """Put locators in front of Numba's that add :func:`suite_stamp` to our kernels' stamps."""
    impl = getattr(_caching, "CacheImpl", None) or getattr(_caching, "_CacheImpl")
    if any(getattr(c, "_numerics_suite", False) for c in impl._locator_classes):
        return
    bases = []
    for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator"):
        base = getattr(_caching, name, None) or getattr(_caching, "_" + name)
        bases.append(base)

    class _SuiteStamp:
        _numerics_suite = True

        @classmethod
        def from_function(cls, py_func, py_file):
            try:
                inside = Path(py_file).resolve().is_relative_to(_PACKAGE)
            except OSError:
                inside = False
            if not inside:
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return (super().get_source_stamp(), suite_stamp())

    suite = [type(f"Suite{b.__name__.lstrip('_')}", (_SuiteStamp, b), {}) for b in bases]
    impl._locator_classes = suite + list(impl._locator_classes)


if CACHE:
    _install_cache_locators()
