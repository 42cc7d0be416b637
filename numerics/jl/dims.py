"""Johnson-Lindenstrauss target dimensions and the failure probability they imply.

The formula is the one scikit-learn uses (Dasgupta and Gupta's elementary
proof): for ``N`` points and distortion ``eps`` a Gaussian projection to

    k >= 4 ln(N) / (eps^2/2 - eps^3/3)

dimensions preserves every squared pairwise distance within a factor
``1 +- eps`` with probability at least ``1/N`` (so ``O(N)`` independent draws
find such a projection with high probability).  The proof bounds the failure
probability for *one* fixed vector by

    delta(k, eps) = 2 exp(-k (eps^2/2 - eps^3/3) / 2),

which equals ``2/N^2`` at the dimension above; a union bound over the
``N(N-1)/2`` pairs leaves a failure probability of at most ``1 - 1/N``.  :func:`jl_failure_bound` returns that
per-vector ``delta`` for a given ``k``; it is what the claims check.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["jl_min_dim", "jl_failure_bound"]


def _as_real_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {value!r} (dtype {arr.dtype})")
    return arr.astype(np.float64)


def _eps_array(eps) -> np.ndarray:
    e = _as_real_array("eps", eps)
    if np.any(~np.isfinite(e)) or np.any(e <= 0.0) or np.any(e >= 1.0):
        raise ValueError(f"eps must lie in the open interval (0, 1), got eps={eps!r}")
    return e


def jl_min_dim(n_samples, eps=0.1):
    """Smallest "safe" target dimension of a JL projection of ``n_samples`` points.

    Computes ``floor(4 ln(n_samples) / (eps**2/2 - eps**3/3))``, the same value
    as :func:`sklearn.random_projection.johnson_lindenstrauss_min_dim`.

    Parameters
    ----------
    n_samples : int, float or array_like
        Number of points, ``>= 1``.  Arrays are broadcast against ``eps``.
    eps : float or array_like, default 0.1
        Allowed relative distortion of squared distances, in ``(0, 1)``.

    Returns
    -------
    numpy.int64 or ndarray of int64
        The target dimension (element-wise for array input).

    Raises
    ------
    ValueError
        If ``eps`` is outside ``(0, 1)`` or ``n_samples < 1``.
    TypeError
        If an argument is not real-valued.

    Notes
    -----
    At this dimension the per-vector failure bound
    :func:`jl_failure_bound` is at most ``2 / n_samples**2``.

    Examples
    --------
    >>> int(jl_min_dim(1e6, eps=0.5))
    663
    >>> jl_min_dim(1e6, eps=[0.5, 0.1, 0.01]).tolist()
    [663, 11841, 1112658]
    >>> jl_min_dim([1e4, 1e5, 1e6], eps=0.1).tolist()
    [7894, 9868, 11841]
    """
    e = _eps_array(eps)
    n = _as_real_array("n_samples", n_samples)
    if np.any(~np.isfinite(n)) or np.any(n < 1):
        raise ValueError(f"n_samples must be >= 1 (a number of points), got n_samples={n_samples!r}")
    denominator = e**2 / 2.0 - e**3 / 3.0
    return (4.0 * np.log(n) / denominator).astype(np.int64)


def jl_failure_bound(k, eps):
    """Per-vector failure bound ``2 exp(-k (eps^2/2 - eps^3/3) / 2)`` of a JL projection.

    For a fixed unit vector ``x`` and a ``k x n`` Gaussian projection ``J``
    with ``N(0, 1/k)`` entries, ``P(| ||Jx||^2 - 1 | > eps) <= delta(k, eps)``
    (Dasgupta-Gupta).  At ``k = jl_min_dim(N, eps)`` this is ``<= 2/N^2``
    (slightly above it only because :func:`jl_min_dim` rounds down).

    Parameters
    ----------
    k : int or array_like of int
        Target dimension, ``>= 1``.
    eps : float or array_like
        Distortion in ``(0, 1)``.

    Returns
    -------
    float or ndarray
        The bound ``delta`` (may exceed 1, in which case it says nothing).

    Examples
    --------
    >>> import numpy as np
    >>> k = int(jl_min_dim(10, eps=0.5))
    >>> bool(jl_failure_bound(k, 0.5) < 2 / 10**2 * 1.05)
    True
    """
    e = _eps_array(eps)
    if isinstance(k, (bool, np.bool_)):
        raise TypeError(f"k must be an integer or an array of integers, got {k!r}")
    kk = np.asarray(k)
    if kk.dtype.kind not in "iu":
        raise TypeError(f"k must be an integer or an array of integers, got {k!r} (dtype {kk.dtype})")
    if np.any(kk < 1):
        raise ValueError(f"k must be >= 1, got k={k!r}")
    c = e**2 / 2.0 - e**3 / 3.0
    out = 2.0 * np.exp(-kk.astype(np.float64) * c / 2.0)
    if np.ndim(out) == 0 and isinstance(k, (numbers.Integral, np.integer)) and np.ndim(eps) == 0:
        return float(out)
    return out
