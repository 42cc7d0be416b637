"""The fast Walsh-Hadamard transform (Sylvester order) and its helpers.

``fwht(x, axis=-1, norm="backward")`` computes ``scipy.linalg.hadamard(n) @ x``
along an axis with ``n log2 n`` additions and subtractions, in Numba.
``fwht_inplace`` overwrites a contiguous buffer without allocating;
``pad_to_power_of_two`` and ``next_power_of_two`` make padding explicit.
The kernel ``numerics.hadamard._kernels.fwht_row_inplace`` can be called from
other Numba kernels.
"""
from ._api import PARALLEL_MIN_ROWS, fwht, fwht_inplace, next_power_of_two, pad_to_power_of_two

__all__ = ["fwht", "fwht_inplace", "pad_to_power_of_two", "next_power_of_two", "PARALLEL_MIN_ROWS"]
