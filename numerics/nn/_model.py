"""``Sequential``: a chain of layers with checked sizes and dtypes."""
from __future__ import annotations

import numpy as np

from numerics._validation import check_int

from ._layers import Layer

__all__ = ["Sequential"]


class Sequential:
    """Layers applied one after the other.

    Parameters
    ----------
    layers : sequence of Layer
        At least one layer with fixed sizes.  At construction, each layer's
        ``in_features`` must equal the ``out_features`` of the last sized layer
        before it (size-preserving layers such as :class:`ReLU` are skipped), and
        all layers with a dtype must share it.

    Attributes
    ----------
    layers : list of Layer
    in_features, out_features : int
    dtype : numpy.dtype
    params, grads : dict[str, ndarray]
        ``"{index}.{name}"`` -> the layers' own arrays (not copies): optimizers
        update ``params`` in place, :meth:`backward` overwrites ``grads``.
    n_params, n_weights_used : int
    """

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer, got an empty sequence")
        width, width_at, dtype, dtype_at = None, None, None, None
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a numerics.nn.Layer, got {type(layer).__name__}")
            if layer.in_features is not None and width is not None and layer.in_features != width:
                raise ValueError(
                    f"layer {i} ({layer!r}) has in_features={layer.in_features}, but layer {width_at} "
                    f"({layers[width_at]!r}) has out_features={width}; consecutive sizes must match"
                )
            if layer.out_features is not None:
                width, width_at = layer.out_features, i
            if layer.dtype is not None:
                if dtype is not None and layer.dtype != dtype:
                    raise TypeError(
                        f"layer {i} ({layer!r}) has dtype {layer.dtype}, but layer {dtype_at} has dtype {dtype}; "
                        f"all layers must share one dtype"
                    )
                if dtype is None:
                    dtype, dtype_at = layer.dtype, i
        sized = [l for l in layers if l.in_features is not None]
        if not sized or dtype is None:
            raise ValueError("Sequential needs at least one layer with fixed sizes and a dtype (e.g. Dense)")
        self.layers = layers
        self.in_features = sized[0].in_features
        self.out_features = width
        self.dtype = dtype
        self.params = {f"{i}.{k}": v for i, l in enumerate(layers) for k, v in l.params.items()}
        self.grads = {f"{i}.{k}": v for i, l in enumerate(layers) for k, v in l.grads.items()}

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(l) for l in self.layers)
        return f"Sequential([\n  {inner}\n])"

    @property
    def n_params(self) -> int:
        """Stored trainable scalars of all layers."""
        return int(sum(l.n_params for l in self.layers))

    @property
    def n_weights_used(self) -> int:
        """Sum of the layers' ``n_weights_used`` (differs from ``n_params`` for :class:`ButterflyReplacement`)."""
        return int(sum(l.n_weights_used for l in self.layers))

    def check_input(self, X, name: str = "X") -> np.ndarray:
        """``X`` if it is a 2-D array of the model's dtype with ``in_features`` columns; raise otherwise."""
        if not isinstance(X, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(X).__name__}")
        if X.dtype != self.dtype:
            raise TypeError(
                f"{name} has dtype {X.dtype} but the model has dtype {self.dtype}; convert explicitly "
                f"({name}.astype(np.{self.dtype})) if that is what you want"
            )
        if X.ndim != 2 or X.shape[1] != self.in_features:
            raise ValueError(f"{name} has shape {X.shape}; expected (n_samples, {self.in_features})")
        return X

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        """Output of the last layer for the rows of ``X``; ``train=True`` keeps what :meth:`backward` needs."""
        H = self.check_input(X)
        for layer in self.layers:
            H = layer.forward(H, train=train)
        return H

    def __call__(self, X) -> np.ndarray:
        """``forward(X, train=False)``: outputs in evaluation mode, nothing cached."""
        return self.forward(X, train=False)

    def backward(self, grad_out, *, need_grad_in: bool = True):
        """Back-propagate ``dL/dY`` of the last training forward, filling every layer's ``grads``.

        Returns ``dL/dX``, or ``None`` with ``need_grad_in=False`` (the first layer
        then skips its input gradient where it can; :func:`fit` does this).
        """
        G = grad_out
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            G = self.layers[i].backward(G, need_grad_in=need_grad_in or i > 0)
        return G

    def predict(self, X, *, batch_size: int | None = 1024) -> np.ndarray:
        """Outputs for ``X`` in evaluation mode (nothing cached), ``batch_size`` rows at a time (``None``: all)."""
        X = self.check_input(X)
        if batch_size is None or X.shape[0] == 0:
            return self.forward(X, train=False)
        bs = check_int("batch_size", batch_size, minimum=1)
        if X.shape[0] <= bs:
            return self.forward(X, train=False)
        out = np.empty((X.shape[0], self.out_features), dtype=self.dtype)
        for s in range(0, X.shape[0], bs):
            out[s : s + bs] = self.forward(X[s : s + bs], train=False)
        return out
