"""A scikit-learn transformer around the JL operators."""
from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from numerics._validation import check_array, check_seed

from .dims import jl_min_dim
from .operators import AilonChazelle, GaussianProjection, SparseProjection, SRHT, _check_dtype

__all__ = ["FJLTransform", "KINDS"]

#: ``kind`` -> operator class.
KINDS = {
    "srht": SRHT,
    "ailon-chazelle": AilonChazelle,
    "gaussian": GaussianProjection,
    "sparse": SparseProjection,
}


class FJLTransform(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Reduce dimension with a Johnson-Lindenstrauss projection (SRHT by default).

    Parameters
    ----------
    n_components : int or "auto", default "auto"
        Target dimension.  ``"auto"`` uses :func:`numerics.jl.jl_min_dim` with
        ``n_samples = X.shape[0]`` at fit time and ``eps``; a value larger than
        ``n_features`` is an error (the message carries the numbers).
    eps : float in (0, 1), default 0.1
        Distortion used by ``n_components="auto"``.
    kind : {"srht", "ailon-chazelle", "gaussian", "sparse"}, default "srht"
        Which projection to use.
    random_state : None, int, SeedSequence or Generator
        Seed of the random projection (drawn at ``fit``).
    dtype : float32, float64 or None, default None
        Dtype of the operator; ``None`` uses the dtype of ``X`` at ``fit``.

    Attributes
    ----------
    n_components_ : int
        The target dimension actually used.
    operator_ : SRHT, AilonChazelle, GaussianProjection or SparseProjection
        The fitted ``LinearOperator`` of shape ``(n_components_, n_features_in_)``.
    components_ : ndarray, shape (n_components_, n_features_in_)
        The dense matrix of the projection (computed on first access).
    n_features_in_ : int

    Notes
    -----
    Inputs must be dense float32/float64 arrays without NaN or inf; other
    dtypes raise instead of being converted.  ``transform(X)`` equals
    ``X @ components_.T``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((100, 5000))
    >>> t = FJLTransform(eps=0.5, random_state=0).fit(X)
    >>> t.n_components_, t.transform(X).shape
    (221, (100, 221))
    """

    def __init__(self, n_components="auto", *, eps=0.1, kind="srht", random_state=None, dtype=None):
        self.n_components = n_components
        self.eps = eps
        self.kind = kind
        self.random_state = random_state
        self.dtype = dtype

    def _check_X(self, X, *, reset: bool):
        if sparse.issparse(X):
            raise TypeError("FJLTransform needs a dense float32/float64 array; got a scipy.sparse matrix (use X.toarray())")
        X = check_array("X", X, ndim=2)
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features (shape {X.shape}), but FJLTransform was fitted with "
                f"n_features_in_={self.n_features_in_}"
            )
        return X

    def fit(self, X, y=None):
        """Draw the projection for data shaped like ``X`` (only its shape and dtype are used)."""
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got kind={self.kind!r}")
        X = self._check_X(X, reset=True)
        n_samples, n_features = X.shape
        if isinstance(self.n_components, str):
            if self.n_components != "auto":
                raise ValueError(f"n_components must be a positive int or 'auto', got n_components={self.n_components!r}")
            k = int(jl_min_dim(n_samples, eps=self.eps))
            if k > n_features:
                raise ValueError(
                    f"eps={self.eps} and n_samples={n_samples} give a target dimension of {k}, "
                    f"larger than n_features={n_features}; pass a larger eps or an explicit n_components"
                )
        else:
            k = self.n_components
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
                raise TypeError(f"n_components must be a positive int or 'auto', got n_components={k!r}")
            k = int(k)
            if not 1 <= k <= n_features:
                raise ValueError(f"n_components must satisfy 1 <= n_components <= n_features, got n_components={k} with n_features={n_features}")
        dtype = X.dtype if self.dtype is None else _check_dtype(self.dtype)
        seed = check_seed("random_state", self.random_state)
        self.operator_ = KINDS[self.kind](n_features, k, seed=seed, dtype=dtype)
        self.n_components_ = k
        self._components = None
        return self

    def transform(self, X):
        """Project the rows of ``X``: returns ``X @ components_.T``, shape ``(n_samples, n_components_)``."""
        check_is_fitted(self, "operator_")
        X = self._check_X(X, reset=False)
        return self.operator_.project(X)

    @property
    def components_(self) -> np.ndarray:
        check_is_fitted(self, "operator_")
        if getattr(self, "_components", None) is None:
            self._components = self.operator_.todense()
        return self._components

    @property
    def _n_features_out(self):
        return self.n_components_
