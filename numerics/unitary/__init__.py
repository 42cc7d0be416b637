"""Unitary and orthogonal weights: parametrisations, projection of pre-trained matrices, unitary networks.

* Parametrisations (real -> O(n)/SO(n), complex -> U(n)), each with ``matrix(theta)`` and a hand-written
  ``vjp(theta, G)``: :class:`ExpMap` (Lie parameters, gradient through the Frechet derivative of ``exp``),
  :class:`Cayley`, :class:`Householder` (products of reflectors), :class:`UnitaryButterfly` (2x2 rotations,
  ``n log n`` angles, built on :mod:`numerics.butterfly`); :func:`parametrisation` picks one by name.
* Projection: :func:`polar_factor` (closed form), :func:`nearest_rotation` (real, SO(n)),
  :func:`optimal_value`, and :func:`project`, the gradient-based fit through a parametrisation, which detects
  a real ``det W < 0`` (:class:`ReachabilityWarning`) and then fits the nearest reachable matrix.
* Networks: :class:`DeepNet` (dense or orthogonal hidden layers, maxmin activation), :func:`train`,
  :meth:`DeepNet.from_dense` (projection initialisation).

Theory: ``theory/unitary.md``; claims ``unitary.*`` in :mod:`numerics.unitary.claims`.
"""
from ._param import (KINDS, Cayley, ExpMap, Householder, Parametrisation, UnitaryButterfly, haar, parametrisation,
                     skew_from_params, skew_to_params)

__all__ = ["Parametrisation", "ExpMap", "Cayley", "Householder", "UnitaryButterfly", "KINDS", "parametrisation",
           "haar", "skew_from_params", "skew_to_params"]
from .projection import (ProjectionResult, ReachabilityWarning, nearest_rotation, optimal_value, polar_factor,
                         project)

__all__ += ["polar_factor", "nearest_rotation", "optimal_value", "project", "ProjectionResult", "ReachabilityWarning"]
from .network import DeepNet, TrainHistory, epochs_to, maxmin, train

__all__ += ["DeepNet", "train", "TrainHistory", "maxmin", "epochs_to"]
