"""Shared argument checks: each bad input gets an error naming the parameter and the value."""
import numpy as np
import pytest

from numerics import _validation as v


def test_check_int():
    assert v.check_int("k", np.int64(3)) == 3
    with pytest.raises(TypeError, match="k must be an integer"):
        v.check_int("k", 3.0)
    with pytest.raises(TypeError, match="k must be an integer"):
        v.check_int("k", True)
    with pytest.raises(ValueError, match="k must be >= 1, got k=0"):
        v.check_int("k", 0, minimum=1)


def test_power_of_two():
    assert v.check_power_of_two("n", 1024) == 1024
    with pytest.raises(ValueError, match="n=1000 is not a power of two.*512 or 1024"):
        v.check_power_of_two("n", 1000)


def test_open_unit():
    assert v.check_open_unit("eps", 0.5) == 0.5
    for bad in (0, 1, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="eps must lie in the open interval"):
            v.check_open_unit("eps", bad)
    with pytest.raises(TypeError, match="eps"):
        v.check_open_unit("eps", "0.1")


def test_seeds():
    assert isinstance(v.check_rng("seed", 3), np.random.Generator)
    g = np.random.default_rng(0)
    assert v.check_rng("seed", g) is g
    with pytest.raises(TypeError, match="seed must be None"):
        v.check_seed("seed", 1.5)
    with pytest.raises(TypeError, match="seed must be None"):
        v.check_seed("seed", "42")
    with pytest.raises(ValueError, match="non-negative"):
        v.check_seed("seed", -1)


def test_check_array():
    x = np.ones(4, dtype=np.float32)
    assert v.check_array("x", x) is x
    with pytest.raises(TypeError, match="x has dtype int64"):
        v.check_array("x", np.ones(4, dtype=np.int64))
    with pytest.raises(TypeError, match="x has dtype complex128"):
        v.check_array("x", np.ones(4, dtype=complex))
    with pytest.raises(TypeError, match="x has dtype object"):
        v.check_array("x", np.array([1.0, None], dtype=object))
    with pytest.raises(ValueError, match=r"x must have ndim in \(2,\)"):
        v.check_array("x", x, ndim=2)
    y = np.ones(4)
    y[2] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(2,\)"):
        v.check_array("x", y)
    y[2] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        v.check_array("x", y)


def test_check_axis():
    assert v.check_axis("axis", -1, 3) == 2
    with pytest.raises(ValueError, match="axis=3 is out of range"):
        v.check_axis("axis", 3, 3)
