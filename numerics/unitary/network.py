"""Deep networks with orthogonal hidden layers, hand-written backward passes through the parametrisation.

:class:`DeepNet` is ``x -> h_0 = W_in x + b_in -> h_l = maxmin(U_l h_{l-1} + b_l)`` (``l = 1..depth``)
``-> logits = W_out h_depth + b_out``, trained with softmax cross-entropy.  ``maxmin`` sorts each
pair of coordinates (GroupSort with groups of two): it permutes coordinates, so it preserves the
norm of activations and of back-propagated gradients, and with orthogonal ``U_l`` every layer's
input gradient has exactly the same norm (the claim ``unitary.gradient-depth``).

The hidden matrices are

* ``mode="dense"``: free matrices ``W_l`` (the non-unitary network), or
* ``mode="exp"`` / ``"cayley"``: ``U_l = B_l R(theta_l)``, ``R`` the exponential or Cayley map of
  a skew-symmetric matrix (:mod:`numerics.unitary._param`), with a fixed orthogonal base ``B_l``
  and ``theta_l = 0`` at the start.  ``B_l`` is Haar-random on SO(n) (random start on the group)
  or the projection of a pre-trained dense network's ``W_l`` (:func:`from_dense`, fitted by
  :func:`numerics.unitary.project` through the exponential map).  The gradient of the loss with
  respect to ``theta_l`` is the parametrisation's ``vjp`` of ``B_l^T dL/dU_l``.

:func:`train` runs seeded minibatch Adam and records the test accuracy after every epoch.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from numerics._validation import check_array, check_int, check_rng

from ._param import parametrisation

__all__ = ["DeepNet", "train", "TrainHistory", "maxmin", "epochs_to"]

MODES = ("dense", "exp", "cayley")


def maxmin(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GroupSort on pairs ``(z_{2i}, z_{2i+1}) -> (max, min)``; returns the output and the swap mask."""
    a, b = Z[:, 0::2], Z[:, 1::2]
    swap = a < b
    H = np.empty_like(Z)
    H[:, 0::2] = np.where(swap, b, a)
    H[:, 1::2] = np.where(swap, a, b)
    return H, swap


def _maxmin_back(G: np.ndarray, swap: np.ndarray) -> np.ndarray:
    ga, gb = G[:, 0::2], G[:, 1::2]
    out = np.empty_like(G)
    out[:, 0::2] = np.where(swap, gb, ga)
    out[:, 1::2] = np.where(swap, ga, gb)
    return out


class DeepNet:
    """A deep network of ``depth`` square hidden layers of size ``width`` (see module docstring).

    Parameters
    ----------
    n_in, n_classes, width, depth : int
        ``width`` must be even (maxmin pairs); ``depth >= 1``.
    mode : {"dense", "exp", "cayley"}
    init : {"gaussian", "uniform"}, default "gaussian"
        Dense hidden layers only: entries ``N(0, 1/width)`` (norm-preserving on average) or
        ``U(-1/sqrt(width), 1/sqrt(width))`` (the common default of deep-learning libraries).
    seed : int
    bases : list of ndarray, optional
        Orthogonal bases ``B_l`` (default: Haar-random on SO(width)).
    """

    def __init__(self, n_in: int, n_classes: int, *, width: int = 64, depth: int = 16, mode: str = "exp",
                 init: str = "gaussian", seed=0, bases=None):
        self.n_in = check_int("n_in", n_in, minimum=1)
        self.n_classes = check_int("n_classes", n_classes, minimum=2)
        self.width = check_int("width", width, minimum=2)
        if self.width % 2:
            raise ValueError(f"width must be even (maxmin acts on pairs), got width={width}")
        self.depth = check_int("depth", depth, minimum=1)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got mode={mode!r}")
        if init not in ("gaussian", "uniform"):
            raise ValueError(f"init must be 'gaussian' or 'uniform', got init={init!r}")
        self.mode = mode
        rng = check_rng("seed", seed)
        n = self.width
        p = {"W_in": rng.standard_normal((n, n_in)) / np.sqrt(n_in), "b_in": np.zeros(n)}
        if mode == "dense":
            for l in range(self.depth):
                if init == "gaussian":
                    p[f"W{l}"] = rng.standard_normal((n, n)) / np.sqrt(n)
                else:
                    p[f"W{l}"] = rng.uniform(-1, 1, (n, n)) / np.sqrt(n)
            self.param = None
            self.bases = None
        else:
            from ._param import haar

            self.param = parametrisation(mode, n, complex=False)
            if bases is None:
                bases = []
                for _ in range(self.depth):
                    Q = haar(n, seed=rng)
                    if np.linalg.det(Q) < 0:
                        Q[:, 0] *= -1
                    bases.append(Q)
            if len(bases) != self.depth:
                raise ValueError(f"bases has {len(bases)} matrices; expected depth={self.depth}")
            self.bases = []
            for l, B in enumerate(bases):
                B = check_array(f"bases[{l}]", B, ndim=2, dtypes=(np.dtype(np.float64),))
                if B.shape != (n, n) or np.abs(B.T @ B - np.eye(n)).max() > 1e-10:
                    raise ValueError(f"bases[{l}] must be an orthogonal ({n}, {n}) matrix")
                self.bases.append(np.ascontiguousarray(B))
            for l in range(self.depth):
                p[f"theta{l}"] = self.param.zeros()
        for l in range(self.depth):
            p[f"b{l}"] = np.zeros(n)
        p["W_out"] = rng.standard_normal((self.n_classes, n)) / np.sqrt(n)
        p["b_out"] = np.zeros(self.n_classes)
        self.params = p
        self.grads = {k: np.zeros_like(v) for k, v in p.items()}

    def hidden_matrices(self) -> list[np.ndarray]:
        """The current ``U_l`` (or ``W_l``)."""
        if self.mode == "dense":
            return [self.params[f"W{l}"] for l in range(self.depth)]
        return [self.bases[l] @ self.param.matrix(self.params[f"theta{l}"]) for l in range(self.depth)]

    def forward(self, X):
        """Logits and the cache needed by :meth:`backward`."""
        p = self.params
        H = X @ p["W_in"].T + p["b_in"]
        cache = {"X": X, "H": [H], "swap": [], "pull": []}
        for l in range(self.depth):
            if self.mode == "dense":
                U = p[f"W{l}"]
                pull = None
            else:
                R, pull = self.param.value_and_vjp_fn(p[f"theta{l}"])
                U = self.bases[l] @ R
            H, swap = maxmin(H @ U.T + p[f"b{l}"])
            cache["H"].append(H)
            cache["swap"].append(swap)
            cache["pull"].append((U, pull))
        return H @ p["W_out"].T + p["b_out"], cache

    def backward(self, cache, dlogits) -> list[float]:
        """Fill :attr:`grads`; return ``||dL/dh_l||_F`` for ``l = 0..depth``.

        ``h_0`` is the input of the first hidden layer and ``h_depth`` the output of the last one.
        """
        p, g = self.params, self.grads
        Hs = cache["H"]
        g["W_out"][...] = dlogits.T @ Hs[-1]
        g["b_out"][...] = dlogits.sum(0)
        G = dlogits @ p["W_out"]
        norms = [float(np.linalg.norm(G))]
        for l in range(self.depth - 1, -1, -1):
            Gz = _maxmin_back(G, cache["swap"][l])
            U, pull = cache["pull"][l]
            gU = Gz.T @ Hs[l]
            g[f"b{l}"][...] = Gz.sum(0)
            if pull is None:
                g[f"W{l}"][...] = gU
            else:
                g[f"theta{l}"][...] = pull(self.bases[l].T @ gU)
            G = Gz @ U
            norms.append(float(np.linalg.norm(G)))
        g["W_in"][...] = G.T @ cache["X"]
        g["b_in"][...] = G.sum(0)
        return norms[::-1]

    def loss_and_grads(self, X, y):
        """Mean cross-entropy on ``(X, y)``, gradients in :attr:`grads`, and the per-layer gradient norms."""
        from numerics.nn import softmax_cross_entropy

        logits, cache = self.forward(X)
        loss, dlogits = softmax_cross_entropy(logits, y)
        return loss, self.backward(cache, dlogits)

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.forward(X)[0], axis=1)

    def accuracy(self, X, y) -> float:
        return float(np.mean(self.predict(X) == y))

    @classmethod
    def from_dense(cls, dense: "DeepNet", *, mode: str = "exp", max_iter: int = 150, tol: float = 1e-6):
        """A unitary network of the same shape started from the projection of ``dense``'s matrices.

        Each ``W_l`` is fitted through the exponential map (:func:`numerics.unitary.project`, at most
        ``max_iter`` steps: a starting point needs no 1e-8 accuracy);
        a ``W_l`` with ``det < 0`` gets the nearest rotation (counted in ``net.n_negative``).
        ``W_in``, ``W_out`` and the biases are copied.
        """
        from .projection import ReachabilityWarning, project

        if not isinstance(dense, DeepNet) or dense.mode != "dense":
            raise TypeError(f"dense must be a DeepNet with mode='dense', got {dense!r}")
        bases, neg, dist = [], 0, []
        for l in range(dense.depth):
            W = dense.params[f"W{l}"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ReachabilityWarning)
                r = project(W, "exp", max_iter=max_iter, tol=tol)
            neg += not r.reachable
            bases.append(r.U)
            dist.append(float(np.linalg.norm(r.U - W)))
        net = cls(dense.n_in, dense.n_classes, width=dense.width, depth=dense.depth, mode=mode, bases=bases)
        for k in ("W_in", "b_in", "W_out", "b_out") + tuple(f"b{l}" for l in range(dense.depth)):
            net.params[k][...] = dense.params[k]
        net.n_negative = neg
        net.projection_distance = dist
        return net

    def __repr__(self) -> str:
        return f"DeepNet(mode={self.mode!r}, width={self.width}, depth={self.depth})"


@dataclass
class TrainHistory:
    test_accuracy: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)

    def epochs_to(self, target: float):
        return epochs_to(self.test_accuracy, target)


def epochs_to(acc, target: float):
    """First epoch (1-based; 0 = before training) whose test accuracy is ``>= target``; ``inf`` if never."""
    hit = np.flatnonzero(np.asarray(acc) >= target)
    return float(hit[0]) if hit.size else float("inf")


def train(net: DeepNet, data, *, epochs: int, lr: float = 1e-3, batch_size: int = 64, seed=0) -> TrainHistory:
    """Seeded minibatch Adam on ``data`` (a :class:`numerics.datasets.Split`, float64); test accuracy per epoch.

    ``history.test_accuracy[0]`` is the accuracy before training.
    """
    from numerics.nn import Adam

    epochs = check_int("epochs", epochs, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    X = check_array("data.X_train", data.X_train, ndim=2, dtypes=(np.dtype(np.float64),))
    y = data.y_train
    rng = check_rng("seed", seed)
    opt = Adam(lr)
    hist = TrainHistory()
    hist.test_accuracy.append(net.accuracy(data.X_test, data.y_test))
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        tot = 0.0
        for s in range(0, X.shape[0], batch_size):
            idx = order[s:s + batch_size]
            loss, _ = net.loss_and_grads(X[idx], y[idx])
            if not np.isfinite(loss):
                raise FloatingPointError("the training loss became non-finite")
            opt.step(net.params, net.grads)
            tot += loss * idx.size
        hist.train_loss.append(tot / X.shape[0])
        hist.test_accuracy.append(net.accuracy(data.X_test, data.y_test))
    return hist
