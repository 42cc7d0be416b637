"""Argument checking shared by every public function.

Each helper raises ``ValueError`` or ``TypeError`` whose message names the
parameter, the value received and what was expected.  Nothing here pads,
truncates or converts dtypes silently: a function that accepts several dtypes
says so through ``dtypes``, and anything else is an error.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "check_array",
    "check_finite",
    "check_int",
    "check_open_unit",
    "check_rng",
    "check_seed",
    "is_power_of_two",
    "check_power_of_two",
    "check_axis",
]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Booleans are rejected (``True`` is not a size).  Integer NumPy scalars are
    accepted; floats, even integral ones, are not.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_describe(value)} of type {type(value).__name__}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {name}={value}")
    return value


def is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def check_power_of_two(name: str, n: int) -> int:
    n = check_int(name, n, minimum=1)
    if not is_power_of_two(n):
        lower = 1 << (n.bit_length() - 1)
        raise ValueError(
            f"{name}={n} is not a power of two; expected 1, 2, 4, 8, ... "
            f"(nearest: {lower} or {lower * 2}). Pad explicitly with numerics.pad_to_power_of_two "
            f"if zero-padding is what you want."
        )
    return n


def check_open_unit(name: str, value) -> float:
    """A float strictly between 0 and 1 (eps, delta, ...)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number in (0, 1), got {_describe(value)}")
    value = float(value)
    if not (0.0 < value < 1.0):
        raise ValueError(f"{name} must lie in the open interval (0, 1), got {name}={value!r}")
    return value


def check_seed(name: str, seed):
    """Accept None, a non-negative int, a SeedSequence or a Generator."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(
            f"{name} must be None, a non-negative int, a numpy SeedSequence or Generator; "
            f"got {_describe(seed)} of type {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be non-negative, got {name}={seed}")
    return int(seed)


def check_rng(name: str, seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from anything :func:`check_seed` accepts."""
    seed = check_seed(name, seed)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def check_axis(name: str, axis, ndim: int) -> int:
    axis = check_int(name, axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array with ndim={ndim}; expected -{ndim} <= {name} < {ndim}")
    return axis % ndim


def check_finite(name: str, x: np.ndarray) -> None:
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(f"{name} contains NaN or inf (first at index {where}: {x[where]!r}); expected finite values")


def check_array(
    name: str,
    x,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtypes: tuple = FLOAT_DTYPES,
    finite: bool = True,
) -> np.ndarray:
    """Return ``x`` as an ndarray without changing its dtype, or raise.

    Lists and other array-likes are converted with ``np.asarray``; the result
    must then have one of ``dtypes`` (default float32/float64).  Integer,
    complex, bool and object arrays are refused with a message instead of being
    cast, so a caller never gets a silently changed dtype.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # pragma: no cover - numpy's own message is fine
            raise TypeError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype not in dtypes:
        allowed = ", ".join(str(d) for d in dtypes)
        raise TypeError(
            f"{name} has dtype {arr.dtype}; expected one of ({allowed}). "
            f"Convert explicitly, e.g. {name}.astype(np.float64), if that is what you want."
        )
    if ndim is not None:
        allowed_ndim = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed_ndim:
            raise ValueError(f"{name} must have ndim in {allowed_ndim}, got ndim={arr.ndim} (shape {arr.shape})")
    if finite and arr.size:
        check_finite(name, arr)
    return arr
