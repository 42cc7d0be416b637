"""Butterfly matrices: products of ``log2 n`` factors of 2x2 blocks, as fast linear operators.

:class:`Butterfly` holds twiddles of shape ``(log2 n, n/2, 2, 2)`` (real or
complex), applies them with Numba kernels (forward and adjoint, batched over
rows, parallel for large batches) and has constructors for random,
random orthogonal/unitary, identity, Walsh-Hadamard, FJLT and DFT butterflies.
:func:`bit_reversal_permutation` gives the permutation that completes the DFT.
:func:`butterfly_forward` and :func:`butterfly_backward` work on raw twiddle
arrays and give the gradients with respect to the input and every twiddle
(what :mod:`numerics.nn`'s butterfly layers are built on).
"""
from .operator import TWIDDLE_DTYPES, Butterfly, bit_reversal_permutation

__all__ = ["Butterfly", "bit_reversal_permutation", "TWIDDLE_DTYPES"]
from .truncated import KINDS, TruncatedButterfly, max_weights_used  # noqa: E402

__all__ += ["TruncatedButterfly", "max_weights_used", "KINDS"]
from .functional import butterfly_backward, butterfly_forward  # noqa: E402

__all__ += ["butterfly_forward", "butterfly_backward"]
