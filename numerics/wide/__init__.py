"""Wide networks trained in subquadratic time per step (PAPERS.md section B; theory/subquadratic.md).

* :class:`WideNet`: ``L`` trained ``m x m`` layers with the shifted ReLU ``max(z - b, 0)``,
  Gaussian initialisation, squared loss.
* :class:`DenseTrainer`: the reference, every product a dense BLAS product.
* :class:`FastTrainer`: the same iterates, computing only over active neurons and keeping each
  weight as ``W_base + U V^T`` (sparse factors appended per step, re-densified every ``T`` steps);
  exact operation counters for every part.
* :mod:`~numerics.wide.cost`: the count model and the fast-multiplication exponent table.

Claims: ``numerics.wide.claims``; benchmark: ``numerics.wide.bench``.
"""
from .cost import ALPHA, OMEGA, densify_period, mm_table, omega_rect, predicted_counts, predicted_exponent
from .data import digits_task, teacher_student_task
from .dense import PARTS, DenseTrainer
from .fast import FastTrainer
from .model import WideNet, default_bias, expected_active, phibar, second_moment, shifted_relu
from .training import History, train

__all__ = [
    "WideNet",
    "DenseTrainer",
    "FastTrainer",
    "PARTS",
    "History",
    "train",
    "shifted_relu",
    "default_bias",
    "phibar",
    "second_moment",
    "expected_active",
    "digits_task",
    "teacher_student_task",
    "densify_period",
    "predicted_counts",
    "predicted_exponent",
    "mm_table",
    "omega_rect",
    "OMEGA",
    "ALPHA",
]
