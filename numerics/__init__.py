"""numerics: a theory-and-numerics suite for structured linear maps.

Fast transforms (the Walsh-Hadamard transform), Johnson-Lindenstrauss
projections (SRHT, Ailon-Chazelle FJLT, Gaussian, sparse) as SciPy
``LinearOperator``s, and the checks of the papers' claims about them.

Importing the package is cheap: subpackages (and Numba) load on first use, and
compiled kernels are cached on disk.  Main entry points::

    numerics.fwht(x, axis=-1, norm="backward")     # Walsh-Hadamard transform
    numerics.SRHT(n_features, k, seed=0)           # sqrt(n/k) S H D as a LinearOperator
    numerics.jl_min_dim(n_samples, eps=0.1)        # JL target dimension
    python -m numerics reproduce                   # every claim, notebook and figure
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it (loaded on first attribute access)
_LAZY = {
    # hadamard
    "fwht": "numerics.hadamard",
    "fwht_inplace": "numerics.hadamard",
    "pad_to_power_of_two": "numerics.hadamard",
    "next_power_of_two": "numerics.hadamard",
    # jl
    "SRHT": "numerics.jl",
    "AilonChazelle": "numerics.jl",
    "GaussianProjection": "numerics.jl",
    "SparseProjection": "numerics.jl",
    "FJLTransform": "numerics.jl",
    "jl_min_dim": "numerics.jl",
    "srht_project": "numerics.jl",
    # butterfly
    "Butterfly": "numerics.butterfly",
    "bit_reversal_permutation": "numerics.butterfly",
    "TruncatedButterfly": "numerics.butterfly",
}
_SUBPACKAGES = ("hadamard", "jl", "sketching", "butterfly", "nn", "landscape", "wide", "factorize", "kaleidoscope", "gblr", "unitary", "datasets", "claims", "plotting", "stats", "bench", "reproduce")

__all__ = sorted(_LAZY) + list(_SUBPACKAGES)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"numerics.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'numerics' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
