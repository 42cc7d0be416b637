"""Kernel caching: our kernels' cache stamps depend on every kernel source file."""
import importlib

import numba
import pytest

from numerics import _jit

KERNEL_MODULES = [
    "numerics.hadamard._kernels",
    "numerics.jl._kernels",
    "numerics.butterfly._kernels",
    "numerics.nn._kernels",
    "numerics.wide._kernels",
    "numerics.kaleidoscope._kernels",
    "numerics.gblr._kernels",
    "numerics.factorize._kernels",
]


def _dispatchers(module):
    return [f for f in vars(module).values() if isinstance(f, numba.core.registry.CPUDispatcher)]


@pytest.mark.skipif(not _jit.CACHE, reason="caching turned off by NUMERICS_NUMBA_CACHE=0")
@pytest.mark.parametrize("name", KERNEL_MODULES)
def test_every_kernel_is_cached_with_the_suite_stamp(name):
    module = importlib.import_module(name)
    dispatchers = _dispatchers(module)
    assert dispatchers
    for f in dispatchers:
        locator = f._cache._impl.locator
        assert getattr(locator, "_numerics_suite", False), f"{f.py_func.__name__} uses {type(locator).__name__}"
        assert locator.get_source_stamp()[1] == _jit.suite_stamp()


def test_the_stamp_covers_every_kernel_file(tmp_path):
    names = {p.name for p in _jit.kernel_sources()}
    assert names == {"_jit.py", "_kernels.py"}
    parents = {p.parent.name for p in _jit.kernel_sources()}
    assert {"hadamard", "jl"} <= parents
    a, b = tmp_path / "a_kernels.py", tmp_path / "b_kernels.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    before = _jit._hash_files([a, b])
    b.write_text("y = 3\n")  # editing a callee's file changes the caller's stamp too
    assert _jit._hash_files([a, b]) != before
