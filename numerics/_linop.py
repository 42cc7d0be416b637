"""The shared front of the suite's square ``LinearOperator`` types.

:class:`SquareOperator` gives the public products (``matvec``, ``rmatvec``,
``matmat``, ``rmatmat``, and through them ``@`` and ``dot``) one input check:
an allowed dtype (never cast), ``n`` rows, finite values, with an error that
names the argument, its shape and what was expected.  Subclasses set
``_noun`` (for messages) and ``_input_dtypes`` and implement the private
products on checked input.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._validation import check_array, check_finite

__all__ = ["SquareOperator"]


class SquareOperator(LinearOperator):
    """A square ``LinearOperator`` whose public products check their input first."""

    _noun = "operator"
    _input_dtypes: tuple = ()

    def _check_input(self, name: str, x, ndim: tuple) -> np.ndarray:
        x = check_array(name, x, ndim=ndim, dtypes=self._input_dtypes, finite=False)
        n = self.shape[1]
        if x.shape[0] != n:
            raise ValueError(
                f"{name} has shape {x.shape}; expected {n} rows "
                f"(shape ({n},) or ({n}, k)) for a {self._noun} of shape {self.shape}"
            )
        check_finite(name, x)
        return x

    def matvec(self, x):
        return super().matvec(self._check_input("x", x, (1, 2)))

    def rmatvec(self, x):
        return super().rmatvec(self._check_input("x", x, (1, 2)))

    def matmat(self, X):
        return super().matmat(self._check_input("X", X, (2,)))

    def rmatmat(self, X):
        return super().rmatmat(self._check_input("X", X, (2,)))
