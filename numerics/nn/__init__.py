"""A small neural-network toolkit with hand-written backward passes (NumPy arrays, no autograd).

Layers (:class:`Dense`, :class:`ReLU`, :class:`ButterflyLayer`, and the paper's
:class:`ButterflyReplacement` ``J2^T W' J1`` of Ailon et al. 2021) share one
protocol (:class:`Layer`): ``forward(X, train=True)``, ``backward(grad_out)``,
``params``/``grads`` dicts updated in place.  :class:`Sequential` chains them with
checked sizes and dtypes; :func:`softmax_cross_entropy` and :func:`squared_loss`
give losses with gradients; :class:`SGD` and :class:`Adam` update parameters in
place; :func:`fit` runs seeded minibatch training with progress and a
:class:`History`, and stops with ``FloatingPointError`` on NaN/inf.

Everything is float32 or float64 (default float64 as in the rest of
:mod:`numerics`; float32 trains about twice as fast).  Nothing is cast:
inputs must have the model's dtype.

Example
-------
>>> import numpy as np
>>> from numerics import nn
>>> model = nn.Sequential([nn.Dense(64, 256, seed=0), nn.ReLU(),
...                        nn.ButterflyReplacement(256, 256, seed=1), nn.ReLU(),
...                        nn.Dense(256, 10, seed=2)])
>>> X = np.random.default_rng(0).standard_normal((100, 64))
>>> y = np.arange(100) % 10
>>> hist = nn.fit(model, X, y, optimizer=nn.Adam(1e-3), epochs=2, batch_size=32, seed=0, progress=False)
>>> len(hist.train_loss)
2
"""
from ._layers import DEFAULT_DTYPE, DTYPES, ButterflyLayer, ButterflyReplacement, Dense, Layer, ReLU, default_l
from ._losses import check_labels, softmax_cross_entropy, squared_loss
from ._model import Sequential
from ._optim import SGD, Adam, Optimizer
from ._train import LOSSES, History, accuracy, evaluate, fit, predict

__all__ = [
    "Layer", "Dense", "ReLU", "ButterflyLayer", "ButterflyReplacement", "default_l", "DTYPES", "DEFAULT_DTYPE",
    "Sequential",
    "softmax_cross_entropy", "squared_loss", "check_labels",
    "Optimizer", "SGD", "Adam",
    "fit", "evaluate", "accuracy", "predict", "History", "LOSSES",
]
