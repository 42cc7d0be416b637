"""Compressing the hidden weight matrix of a trained digits MLP at FLOP budgets (claim ``gblr.real-weights``).

A ReLU MLP ``64 -> width -> width -> 10`` (:func:`numerics.butterfly.networks.build_mlp`, dense) is trained
on scikit-learn's digits; its ``width x width`` hidden matrix is replaced by a structured one at each FLOP
budget (multiplications per input vector), with four structures:

* ``gblr``: :func:`numerics.gblr.fit_gblr` without its truncated-SVD candidate (so the structure is the
  searched/learned one: greedy palettes, relocation, proximal-gradient training), masks then fixed;
* ``lowrank``: truncated SVD, rank ``floor(F / 2 width)``;
* ``block-sparse``: best blocks (:func:`numerics.gblr.baselines.block_sparse_at_flops`);
* ``butterfly``: the first ``k`` factors of a butterfly (``2 width k`` multiplications, ``k <= log2 width``,
  the rest identity), fitted to the matrix by Adam on ``||B - W||_F^2`` through
  :func:`numerics.butterfly.butterfly_backward`.

Each compressed network is then fine-tuned briefly (all layers, structure fixed) and its test accuracy
recorded.
"""
from __future__ import annotations

import math

import numpy as np

from numerics import nn
from numerics._progress import progress
from numerics.nn._layers import Layer

from .baselines import block_sparse_at_flops
from .fit import fit_gblr

__all__ = ["StructuredLinear", "compress", "real_weights_experiment", "METHODS"]

METHODS = ("gblr", "lowrank", "block-sparse", "butterfly")


class StructuredLinear(Layer):
    """``Y = X W(theta)^T + b`` for a structured ``W`` given by ``build(params) -> W`` and the chain rule
    ``pullback(params, dL/dW) -> {name: dL/dparam}`` (a fine-tuning layer for :mod:`numerics.nn`)."""

    def __init__(self, params: dict, bias: np.ndarray, build, pullback, flops: int, name: str):
        super().__init__()
        for k, v in params.items():
            self._add_param(k, np.ascontiguousarray(v, dtype=np.float64))
        self._add_param("bias", np.ascontiguousarray(bias, dtype=np.float64))
        self._build, self._pullback = build, pullback
        W = build(self.params)
        self.out_features, self.in_features = W.shape
        self.dtype = np.dtype(np.float64)
        self.flops = int(flops)
        self.name = name

    def weight(self) -> np.ndarray:
        return self._build(self.params)

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        X = self._check_input(X)
        W = self._build(self.params)
        self._cache = (X, W) if train else None
        return X @ W.T + self.params["bias"]

    def backward(self, grad_out, *, need_grad_in: bool = True):
        X, W = self._cache
        G = self._check_grad_out(grad_out, X.shape[0], self.out_features)
        dW = G.T @ X
        for k, g in self._pullback(self.params, dW).items():
            self.grads[k][...] = g
        self.grads["bias"][...] = G.sum(axis=0)
        return G @ W if need_grad_in else None


def _butterfly_fit(W, k: int, steps: int, seed: int):
    from numerics.butterfly import butterfly_backward, butterfly_forward

    n = W.shape[0]
    L = int(math.log2(n))
    rng = np.random.default_rng(seed)
    tw = np.zeros((L, n // 2, 2, 2))
    tw[:, :, 0, 0] = tw[:, :, 1, 1] = 1.0
    tw[:k] += 0.3 * rng.standard_normal((k, n // 2, 2, 2))
    I = np.eye(n)
    m1 = np.zeros_like(tw)
    m2 = np.zeros_like(tw)
    for t in range(steps):
        Y = butterfly_forward(I, tw)  # = B^T
        _, g = butterfly_backward(I, tw, Y - W.T)
        g[k:] = 0.0
        m1 = 0.9 * m1 + 0.1 * g
        m2 = 0.999 * m2 + 0.001 * g * g
        tw -= 1e-2 * (m1 / (1 - 0.9 ** (t + 1))) / (np.sqrt(m2 / (1 - 0.999 ** (t + 1))) + 1e-12)
    return tw


def compress(W, bias, method: str, flops: int, *, seed: int = 0, butterfly_steps: int = 300,
             gblr_train_steps: int = 300):
    """A :class:`StructuredLinear` approximating ``x -> W x + bias`` with at most ``flops`` multiplications.

    For ``method="gblr"`` the layer has an extra attribute ``info`` (the :func:`fit_gblr` candidates and
    the chosen one) and ``operator`` (the fitted :class:`GBLRMatrix`).
    """
    n_out, n_in = W.shape
    if method == "gblr":
        G, info = fit_gblr(W, flops, train_steps=gblr_train_steps, include_tsvd=False)
        mo, mi = G.masks()

        def build(p, mo=mo, mi=mi):
            return (mo * p["U"]).T @ (mi * p["V"])

        def pull(p, dW, mo=mo, mi=mi):
            return {"U": mo * ((mi * p["V"]) @ dW.T), "V": mi * ((mo * p["U"]) @ dW)}

        layer = StructuredLinear({"U": G.U * mo, "V": G.V * mi}, bias, build, pull, G.flops, method)
        layer.info, layer.operator = info, G
        return layer
    if method == "lowrank":
        r = max(1, flops // (n_out + n_in))
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        P, Q = U[:, :r] * s[:r], Vt[:r]
        return StructuredLinear({"P": P, "Q": Q}, bias, lambda p: p["P"] @ p["Q"],
                                lambda p, dW: {"P": dW @ p["Q"].T, "Q": p["P"].T @ dW}, r * (n_out + n_in), method)
    if method == "block-sparse":
        B, used = block_sparse_at_flops(W, flops)
        M = (B != 0).astype(np.float64)
        return StructuredLinear({"Wm": B}, bias, lambda p, M=M: M * p["Wm"], lambda p, dW, M=M: {"Wm": M * dW},
                                used, method)
    if method == "butterfly":
        from numerics.butterfly import butterfly_backward, butterfly_forward

        n = n_out
        L = int(math.log2(n))
        k = int(min(L, max(1, flops // (2 * n))))
        tw = _butterfly_fit(W, k, butterfly_steps, seed)
        I = np.eye(n)

        def build(p):
            return butterfly_forward(I, p["tw"]).T

        def pull(p, dW, k=k):
            _, g = butterfly_backward(I, p["tw"], np.ascontiguousarray(dW.T))
            g[k:] = 0.0
            return {"tw": g}

        return StructuredLinear({"tw": tw}, bias, build, pull, 2 * n * k, method)
    raise ValueError(f"method must be one of {METHODS}, got method={method!r}")


def real_weights_experiment(*, width: int = 64, budgets=(256, 384, 512, 768), epochs: int = 30,
                            finetune_epochs: int = 3, seed: int = 0, progress_bar: bool = False) -> dict:
    """Train the dense MLP, compress its hidden matrix with each method at each budget, fine-tune, test.

    Returns a dict with ``dense_accuracy``, ``budgets``, per method arrays ``acc_<m>`` (after fine-tuning),
    ``acc0_<m>`` (before), ``err_<m>`` (relative Frobenius error of the weight), ``flops_<m>``; per budget
    ``gblr_chosen`` (the GBLR candidate used), ``gblr_operators``, ``best_error`` and ``best_accuracy``
    (the winning method).
    """
    from numerics.butterfly.networks import build_mlp
    from numerics.datasets import load_digits

    split = load_digits(dtype=np.float64, seed=seed)
    model = build_mlp("dense", split.X_train.shape[1], 10, width=width, hidden=1, seed=seed, dtype=np.float64)
    nn.fit(model, split.X_train, split.y_train, optimizer=nn.Adam(1e-3), epochs=epochs, batch_size=64,
           seed=seed, progress=False)
    dense_acc = nn.accuracy(model, split.X_test, split.y_test)
    idx = [i for i, lay in enumerate(model.layers) if isinstance(lay, nn.Dense)][1]
    hidden = model.layers[idx]
    W = hidden.params["weight"].copy()
    b = hidden.params["bias"].copy()
    out = {"dense_accuracy": float(dense_acc), "budgets": np.array(budgets), "dense_flops": W.size}
    jobs = [(m, F) for m in METHODS for F in budgets]
    res = {}
    it = progress(jobs, desc="compress+finetune") if progress_bar else jobs
    for m, F in it:
        layer = compress(W, b, m, int(F), seed=seed)
        err = float(np.linalg.norm(layer.weight() - W) / np.linalg.norm(W))
        layers = [_clone(lay) for lay in model.layers]
        layers[idx] = layer
        net = nn.Sequential(layers)
        acc0 = nn.accuracy(net, split.X_test, split.y_test)
        nn.fit(net, split.X_train, split.y_train, optimizer=nn.Adam(3e-4), epochs=finetune_epochs, batch_size=64,
               seed=seed + 1, progress=False)
        acc = nn.accuracy(net, split.X_test, split.y_test)
        res[(m, F)] = (acc0, acc, err, layer.flops)
        if m == "gblr":
            out.setdefault("gblr_chosen", []).append(layer.info["chosen"])
            out.setdefault("gblr_operators", []).append(layer.operator)
    for m in METHODS:
        out[f"acc0_{m}"] = np.array([res[(m, F)][0] for F in budgets])
        out[f"acc_{m}"] = np.array([res[(m, F)][1] for F in budgets])
        out[f"err_{m}"] = np.array([res[(m, F)][2] for F in budgets])
        out[f"flops_{m}"] = np.array([res[(m, F)][3] for F in budgets])
    out["best_error"] = [min(METHODS, key=lambda m, j=j: out[f"err_{m}"][j]) for j in range(len(budgets))]
    out["best_accuracy"] = [max(METHODS, key=lambda m, j=j: out[f"acc_{m}"][j]) for j in range(len(budgets))]
    return out


def _clone(layer):
    import copy

    return copy.deepcopy(layer)
