"""The Gaussian-Dirichlet mask: a differentiable circular interval (paper D, Lee & Kim, ICLR 2024).

For a length ``n``, width ``w in [0, 1]`` and location ``l in [0, 1)`` the mask is
defined by its real-FFT coefficients, ``k = 0 .. n // 2``::

    M[k] = w sinc(k w) / sinc(k / n) * exp(i (-2 pi k l + pi k (1/n - w))) * exp(-k^2 / (2 sigma^2))

(``sinc(x) = sin(pi x) / (pi x)``) and ``m = n * irfft(M, n)``, i.e. the inverse
transform *without* its ``1/n``.  Since ``w sinc(k w) / sinc(k / n) = sin(pi k w) /
(n sin(pi k / n))``, with ``sigma = inf`` and integer ``w n``, ``l n`` the coefficients
are ``1/n`` times the DFT of the indicator of ``{l n, ..., l n + w n - 1} (mod n)``:
the mask is that 0/1 circular interval exactly (``theory/gblr.md``).  A finite
``sigma`` damps high frequencies (a smoothed interval).

Derivatives (used by :func:`gaussian_dirichlet_mask_grad`), with ``P`` the phase and ``G`` the
Gaussian factor: ``d/dw [w sinc(k w)] = cos(pi k w)``, so

    dM/dw = (cos(pi k w) / sinc(k / n) - i pi k A) P G,     dM/dl = -2 pi i k M,

with ``A = w sinc(k w) / sinc(k/n)``.  At ``w = 0`` the first is ``P G / sinc(k/n)``,
which is not zero: a closed interval can reopen under a gradient step.  ``irfft``
is real-linear (it keeps the real part of the ``k = 0`` and, for even ``n``, the
``k = n/2`` coefficient), so the mask derivatives are ``n * irfft`` of these.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from numerics._validation import check_int

__all__ = ["gaussian_dirichlet_mask", "gaussian_dirichlet_mask_grad", "interval_mask", "check_widths",
           "check_locations", "check_sigma"]


def _as_float_vector(name: str, value) -> tuple[np.ndarray, bool]:
    scalar = np.ndim(value) == 0
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype} ({value!r:.60})")
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    arr = np.atleast_1d(arr).astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        i = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise ValueError(f"{name} contains NaN or inf (first at index {i}: {arr[i]!r}); expected finite values")
    return arr, scalar


def check_widths(name: str, w) -> tuple[np.ndarray, bool]:
    """Widths as a float64 vector in ``[0, 1]`` (and whether the input was a scalar), or raise."""
    arr, scalar = _as_float_vector(name, w)
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must lie in [0, 1], got {name}[{i}]={arr[i]!r}")
    return arr, scalar


def check_locations(name: str, l) -> tuple[np.ndarray, bool]:
    """Locations as a float64 vector in ``[0, 1)``, or raise."""
    arr, scalar = _as_float_vector(name, l)
    bad = (arr < 0) | (arr >= 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must lie in [0, 1) (take it modulo 1), got {name}[{i}]={arr[i]!r}")
    return arr, scalar


def check_sigma(sigma) -> float:
    """``sigma > 0`` (``math.inf`` allowed: the unsmoothed Dirichlet mask)."""
    if isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"sigma must be a positive real number or math.inf, got sigma={sigma!r}")
    s = float(sigma)
    if math.isnan(s) or s <= 0:
        raise ValueError(f"sigma must be > 0 (or math.inf), got sigma={sigma!r}")
    return s


def _coefficients(n: int, w: np.ndarray, l: np.ndarray, sigma: float):
    k = np.arange(n // 2 + 1, dtype=np.float64)
    W = w[:, None]
    den = np.sinc(k / n)[None, :]
    A = W * np.sinc(k[None, :] * W) / den
    P = np.exp(1j * (-2 * np.pi * k[None, :] * l[:, None] + np.pi * k[None, :] * (1.0 / n - W)))
    G = np.ones_like(k) if math.isinf(sigma) else np.exp(-(k**2) / (2.0 * sigma**2))
    return k, W, den, A, P, G[None, :]


def gaussian_dirichlet_mask(n, width, location, sigma=math.inf) -> np.ndarray:
    """The Gaussian-Dirichlet mask(s) of length ``n``.

    Parameters
    ----------
    n : int
        Mask length, ``>= 1``.
    width : float or 1-D array
        In ``[0, 1]`` (fraction of ``n``).
    location : float or 1-D array, same length as ``width``
        In ``[0, 1)`` (start of the interval as a fraction of ``n``).
    sigma : float, default ``math.inf``
        Gaussian damping of the frequency ``k``: ``exp(-k^2 / (2 sigma^2))``.

    Returns
    -------
    m : ndarray, shape (n,) for scalar inputs, else (len(width), n), float64
        With ``sigma = inf`` and integer ``width * n``, ``location * n`` this is the 0/1
        indicator of ``{location n, ..., location n + width n - 1} mod n``.

    Examples
    --------
    >>> (gaussian_dirichlet_mask(6, 0.5, 4 / 6) > 0.5).astype(int)
    array([1, 0, 0, 0, 1, 1])
    """
    m, _, _ = _mask_impl(n, width, location, sigma, grads=False)
    return m


def gaussian_dirichlet_mask_grad(n, width, location, sigma=math.inf):
    """The mask and its analytic derivatives with respect to width and location.

    Same parameters as :func:`gaussian_dirichlet_mask`.

    Returns
    -------
    m, dm_dwidth, dm_dlocation : ndarray
        Each of shape (n,) or (len(width), n).
    """
    return _mask_impl(n, width, location, sigma, grads=True)


def _mask_impl(n, width, location, sigma, grads: bool):
    n = check_int("n", n, minimum=1)
    w, s1 = check_widths("width", width)
    l, s2 = check_locations("location", location)
    if w.shape != l.shape:
        raise ValueError(f"width and location must have the same length, got {w.shape[0]} and {l.shape[0]}")
    sigma = check_sigma(sigma)
    k, W, den, A, P, G = _coefficients(n, w, l, sigma)
    M = A * P * G
    m = n * np.fft.irfft(M, n, axis=-1)
    dw = dl = None
    if grads:
        dM_dw = (np.cos(np.pi * k[None, :] * W) / den - 1j * np.pi * k[None, :] * A) * P * G
        dM_dl = -2j * np.pi * k[None, :] * M
        dw = n * np.fft.irfft(dM_dw, n, axis=-1)
        dl = n * np.fft.irfft(dM_dl, n, axis=-1)
    if s1 and s2:
        m = m[0]
        if grads:
            dw, dl = dw[0], dl[0]
    return m, dw, dl


def interval_mask(n, start, length) -> np.ndarray:
    """The exact 0/1 indicator of ``{start, ..., start + length - 1} mod n`` (an oracle; no FFT)."""
    n = check_int("n", n, minimum=1)
    start = check_int("start", start, minimum=0, maximum=n - 1)
    length = check_int("length", length, minimum=0, maximum=n)
    m = np.zeros(n)
    m[(start + np.arange(length)) % n] = 1.0
    return m
