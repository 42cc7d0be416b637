"""Encoder-decoder landscapes behind a fixed linear map (Theorem 1 of Ailon et al. 2021; Baldi-Hornik at B = I).

* :class:`EncoderDecoder`: the loss ``1/2 ||Y - D E B X||_F^2``, its gradients and
  exact Hessian in ``(D, E)``, ``Sigma(B)`` and its spectrum, the critical point of
  every index set ``I`` and its value, classification by the Hessian spectrum
  modulo the ``GL(k)`` symmetry, and the saddle escape.
* :mod:`~numerics.landscape.training`: gradient descent and Adam from many random
  starts (vectorised over starts), and the two-phase scheme (fixed FJLT butterfly,
  then butterfly twiddles trained too).

Claims: ``numerics.landscape.claims``; theory: ``theory/landscape.md``.
"""
from .model import Classification, EncoderDecoder, LandscapeWarning, apply_map, as_dense_map, index_sets
from .training import (
    METHODS,
    DescentResult,
    TwoPhaseResult,
    butterfly_autoencoder_grads,
    descend,
    random_starts,
    two_phase,
)

__all__ = [
    "EncoderDecoder",
    "Classification",
    "LandscapeWarning",
    "as_dense_map",
    "apply_map",
    "index_sets",
    "descend",
    "random_starts",
    "DescentResult",
    "two_phase",
    "TwoPhaseResult",
    "butterfly_autoencoder_grads",
    "METHODS",
]
