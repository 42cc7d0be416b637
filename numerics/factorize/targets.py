"""Dense target matrices for the learned-factorization table (scaled to entries of order ``1/sqrt n``).

* ``dft``: ``fft(eye(n)) / sqrt n`` (complex, unitary);
* ``dct``, ``dst``: orthonormal DCT-II and DST-II (``scipy.fft``);
* ``hadamard``: ``H_n / sqrt n`` (Sylvester order);
* ``hartley``: ``cas(2 pi j k / n) / sqrt n`` with ``cas = cos + sin``;
* ``convolution``: circulant matrix of a Gaussian filter (``c / sqrt n``), ``C x = c * x`` (cyclic);
* ``legendre``: ``P_j(x_i) / sqrt n``, ``P_j`` the Legendre polynomials, ``x_i`` the ``n`` equispaced points of
  ``[-1, 1]`` (endpoints included);
* ``hilbert``: ``1 / (i + j + 1)``, unscaled (the only exception to the ``1/sqrt n`` scale: its mean square is
  ``O(log n / n^2)``; the claims also use it scaled to mean square ``1/n``, see ``theory/factorization.md``);
* ``randn``: i.i.d. ``N(0, 1/n)``.

:func:`known_permutation` gives the permutation of the classical fast algorithm where there is one (the truth
the learned permutations are compared with).
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_power_of_two, check_rng

__all__ = ["TARGETS", "KNOWN_PERMUTATIONS", "known_permutation", "target_matrix"]

KNOWN_PERMUTATIONS = ("dft", "hadamard", "hartley", "dct", "dst")

TARGETS = ("dft", "dct", "dst", "hadamard", "hartley", "convolution", "legendre", "hilbert", "randn")


def target_matrix(name: str, n, *, seed=None) -> np.ndarray:
    """The ``n x n`` target ``name`` (one of :data:`TARGETS`); ``seed`` only matters for convolution and randn."""
    import scipy.fft
    import scipy.linalg
    from numpy.polynomial import legendre

    if name not in TARGETS:
        raise ValueError(f"name must be one of {TARGETS}, got name={name!r}")
    n = check_power_of_two("n", n)
    rng = check_rng("seed", seed)
    s = 1.0 / np.sqrt(n)
    I = np.eye(n)
    if name == "dft":
        return np.fft.fft(I, axis=0) * s
    if name == "dct":
        return scipy.fft.dct(I, type=2, norm="ortho", axis=0)
    if name == "dst":
        return scipy.fft.dst(I, type=2, norm="ortho", axis=0)
    if name == "hadamard":
        return scipy.linalg.hadamard(n).astype(np.float64) * s
    if name == "hartley":
        jk = 2 * np.pi * np.outer(np.arange(n), np.arange(n)) / n
        return (np.cos(jk) + np.sin(jk)) * s
    if name == "convolution":
        c = rng.standard_normal(n) * s
        return scipy.linalg.circulant(c)
    if name == "legendre":
        x = np.linspace(-1.0, 1.0, n)
        return legendre.legvander(x, n - 1) * s
    if name == "hilbert":
        return scipy.linalg.hilbert(n)
    return rng.standard_normal((n, n)) * s


def known_permutation(name: str, n) -> np.ndarray:
    """``perm`` (``P x = x[perm]``) of the classical algorithm for target ``name``: ``A = B P`` or ``A = Re(B P)``.

    * ``dft``: the bit reversal (Cooley-Tukey, ``F = B P_br``);
    * ``hartley``: the bit reversal (``H = Re((1 + i) F)``);
    * ``dct``: Makhoul's reordering ``v = x[q]`` (even samples, then odd samples reversed) followed by the bit
      reversal, ``perm = q[br]`` (``C = Re(D F Q)``, a ``Re(B P Q)`` with ``Q`` one top-level factor of the family);
    * ``dst``: the DCT's (``S = J C diag((-1)^j)``: the row reversal ``J`` maps every depth-``d`` row group
      ``{i + k n/2^d}`` onto another, so ``S P^T`` has the rank-two blocks of ``C P^T``);
    * ``hadamard``: the identity (``H_n`` is a butterfly).

    The reversals inside each level are a butterfly's to absorb, so other permutations serve as well; the
    depth-``d`` column blocks they induce are the identifiable part (``theory/factorization.md`` section 6).
    """
    from numerics.butterfly import bit_reversal_permutation

    if name not in KNOWN_PERMUTATIONS:
        raise ValueError(f"name must be one of {KNOWN_PERMUTATIONS} (targets with a known fast algorithm), "
                         f"got name={name!r}")
    n = check_power_of_two("n", n)
    if name == "hadamard":
        return np.arange(n, dtype=np.int64)
    br = bit_reversal_permutation(n).astype(np.int64)
    if name in ("dft", "hartley"):
        return br
    q = np.concatenate([np.arange(0, n, 2), np.arange(n - 1, 0, -2)]).astype(np.int64)
    return q[br]
