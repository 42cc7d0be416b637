"""Kaleidoscope matrices ``(BB*)^w_e`` (Dao et al., ICLR 2020): operator, constructions, a learnable layer.

:class:`Kaleidoscope` is the ``(BB*)^w_e`` family as a ``LinearOperator`` built on
the butterfly kernels of :mod:`numerics.butterfly`.  The construction functions
give explicit members: any permutation (:func:`permutation_bbstar`), any sparse
matrix (:func:`sparse_kaleidoscope`), circulant, Toeplitz, DFT, DCT and DST.
:class:`KaleidoscopeLayer` is a trainable ``BB*`` layer for :mod:`numerics.nn` (free twiddles or
relaxed switches); :func:`unshuffle_digits` runs the learned-unshuffle experiment on the digits with the
locality-based layers :class:`LocalConv` and :class:`AvgPool2`.
"""
from .constructions import (
    check_permutation,
    circulant_kaleidoscope,
    dct2_matrix,
    dct_kaleidoscope,
    dft_kaleidoscope,
    dst2_matrix,
    dst_kaleidoscope,
    permutation_bbstar,
    permutation_twiddles,
    sparse_kaleidoscope,
    toeplitz_kaleidoscope,
)
from .layers import AvgPool2, KaleidoscopeLayer, LocalConv
from .operator import Kaleidoscope, kaleidoscope_n_params
from .unshuffle import round_to_permutation, unshuffle_digits

__all__ = [
    "Kaleidoscope",
    "kaleidoscope_n_params",
    "check_permutation",
    "permutation_bbstar",
    "permutation_twiddles",
    "sparse_kaleidoscope",
    "circulant_kaleidoscope",
    "toeplitz_kaleidoscope",
    "dft_kaleidoscope",
    "dct_kaleidoscope",
    "dst_kaleidoscope",
    "dct2_matrix",
    "dst2_matrix",
    "KaleidoscopeLayer",
    "LocalConv",
    "AvgPool2",
    "round_to_permutation",
    "unshuffle_digits",
]
