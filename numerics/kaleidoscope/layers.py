"""Layers for :mod:`numerics.nn` (same protocol: ``forward(X, train=True)``, ``backward(grad_out)``, ``params``/``grads``).

* :class:`KaleidoscopeLayer` -- ``Y = X K^T`` with ``K`` in ``(BB*)^w_e`` (real).
  ``kind="free"``: every twiddle is a parameter.  ``kind="permutation"``: every
  2x2 block is the relaxed switch ``[[1 - a, a], [a, 1 - a]]`` with
  ``a = sigmoid(logit)``; ``K`` is then doubly stochastic, and a permutation when
  every ``a`` is 0 or 1 (with ``w = e = 1`` every permutation is reachable: Benes).
* :class:`LocalConv` -- a 3x3 "same" convolution on an ``h x w`` image with
  ``C`` output channels, ReLU-free; output laid out channel-major ``(batch, C*h*w)``.
* :class:`AvgPool2` -- fixed 2x2 average pooling of each channel.

Both image layers depend on where each pixel sits, so they are the "model that
relies on pixel locality" of the unshuffling experiment (:mod:`.unshuffle`).
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_int, check_rng
from numerics.nn import Layer

from .operator import _sizes, kaleidoscope_backward, kaleidoscope_forward

__all__ = ["KaleidoscopeLayer", "LocalConv", "AvgPool2", "KINDS"]

KINDS = ("free", "permutation")


def _real_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64 (the layer is real only), got dtype={dtype!r}")
    return dt


class KaleidoscopeLayer(Layer):
    """A trainable kaleidoscope layer ``Y = X K^T``, ``K`` in ``(BB*)^w_e`` (real).

    Parameters
    ----------
    n : int
        Features in and out; ``n * e`` a power of two.
    w, e : int, default 1
    kind : {"free", "permutation"}, default "free"
        Free twiddles (initialised to the identity plus ``init_scale`` Gaussian
        noise), or relaxed switches (logits i.i.d. ``N(init_bias, init_scale^2)``;
        ``init_bias < 0`` starts close to the identity).
    init_scale, init_bias : float
    seed : None, int, SeedSequence or Generator
    dtype : float32 or float64

    Attributes
    ----------
    params : {"twiddles": (w, 2, L, N/2, 2, 2)} or {"logits": (w, 2, L, N/2)}
    """

    def __init__(self, n, *, w=1, e=1, kind="free", init_scale=0.1, init_bias=0.0, seed=None, dtype=np.float64):
        super().__init__()
        n, e, N = _sizes(n, e)
        self.w = check_int("w", w, minimum=1)
        self.n, self.e, self.N = n, e, N
        self.L = N.bit_length() - 1
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got kind={kind!r}")
        self.kind = kind
        self.dtype = _real_dtype(dtype)
        self.in_features = self.out_features = n
        rng = check_rng("seed", seed)
        shape = (self.w, 2, self.L, N // 2)
        if kind == "free":
            tw = np.zeros(shape + (2, 2))
            tw[..., 0, 0] = 1
            tw[..., 1, 1] = 1
            tw += init_scale * rng.standard_normal(tw.shape)
            self._add_param("twiddles", tw)
        else:
            self._add_param("logits", init_bias + init_scale * rng.standard_normal(shape))

    def __repr__(self) -> str:
        return f"KaleidoscopeLayer(n={self.n}, w={self.w}, e={self.e}, kind={self.kind!r}, dtype={self.dtype})"

    def twiddles(self) -> np.ndarray:
        """The current twiddles, shape ``(w, 2, L, N/2, 2, 2)``."""
        if self.kind == "free":
            return self.params["twiddles"]
        a = 1.0 / (1.0 + np.exp(-self.params["logits"]))
        tw = np.empty(a.shape + (2, 2), dtype=self.dtype)
        tw[..., 0, 0] = tw[..., 1, 1] = 1 - a
        tw[..., 0, 1] = tw[..., 1, 0] = a
        return tw

    def matrix(self) -> np.ndarray:
        """The dense ``n x n`` matrix ``K``."""
        Y, _ = kaleidoscope_forward(np.eye(self.n, dtype=self.dtype), np.ascontiguousarray(self.twiddles()), self.n)
        return Y.T.copy()

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        X = self._check_input(X)
        tw = np.ascontiguousarray(self.twiddles())
        Y, stages = kaleidoscope_forward(X, tw, self.n)
        self._cache = (stages, tw) if train else None
        return Y

    def backward(self, grad_out, *, need_grad_in: bool = True):
        stages, tw = self._cache if self._cache is not None else (None, None)
        G = self._check_grad_out(grad_out, stages[0].shape[0] if stages else 0, self.n)
        gX, gtw = kaleidoscope_backward(stages, tw, np.ascontiguousarray(G), self.n)
        if self.kind == "free":
            self.grads["twiddles"][...] = gtw
        else:
            a = 1.0 / (1.0 + np.exp(-self.params["logits"]))
            da = gtw[..., 0, 1] + gtw[..., 1, 0] - gtw[..., 0, 0] - gtw[..., 1, 1]
            self.grads["logits"][...] = da * a * (1 - a)
        return gX if need_grad_in else None


def _neighbour_index(h: int, w: int) -> np.ndarray:
    """``idx[p, k]``: the pixel at offset ``k`` (3x3, row-major) of pixel ``p``, or ``h*w`` (a zero pad) outside."""
    r, c = np.divmod(np.arange(h * w), w)
    idx = np.empty((h * w, 9), dtype=np.int64)
    k = 0
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            idx[:, k] = np.where(ok, rr * w + cc, h * w)
            k += 1
    return idx


class LocalConv(Layer):
    """3x3 zero-padded convolution of a one-channel ``h x w`` image into ``channels`` maps (with bias).

    Input ``(batch, h*w)`` (row-major pixels), output ``(batch, channels*h*w)`` (channel-major).
    """

    def __init__(self, h, w, channels, *, seed=None, dtype=np.float64):
        super().__init__()
        self.h = check_int("h", h, minimum=1)
        self.w = check_int("w", w, minimum=1)
        self.channels = check_int("channels", channels, minimum=1)
        self.dtype = _real_dtype(dtype)
        self.in_features = self.h * self.w
        self.out_features = self.channels * self.in_features
        rng = check_rng("seed", seed)
        self._idx = _neighbour_index(self.h, self.w)
        self._add_param("weight", rng.standard_normal((9, self.channels)) * np.sqrt(2.0 / 9))
        self._add_param("bias", np.zeros(self.channels))

    def __repr__(self) -> str:
        return f"LocalConv({self.h}x{self.w}, channels={self.channels}, dtype={self.dtype})"

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        X = self._check_input(X)
        Xp = np.concatenate([X, np.zeros((X.shape[0], 1), dtype=X.dtype)], axis=1)
        P = Xp[:, self._idx]  # (batch, hw, 9)
        Y = P @ self.params["weight"] + self.params["bias"]  # (batch, hw, C)
        self._cache = P if train else None
        return np.ascontiguousarray(Y.transpose(0, 2, 1)).reshape(X.shape[0], -1)

    def backward(self, grad_out, *, need_grad_in: bool = True):
        P = self._cache
        G = self._check_grad_out(grad_out, P.shape[0] if P is not None else 0, self.out_features)
        G = G.reshape(P.shape[0], self.channels, -1).transpose(0, 2, 1)  # (batch, hw, C)
        self.grads["weight"][...] = np.einsum("bpk,bpc->kc", P, G)
        self.grads["bias"][...] = G.sum(axis=(0, 1))
        if not need_grad_in:
            return None
        GP = G @ self.params["weight"].T  # (batch, hw, 9)
        gXp = np.zeros((P.shape[0], self.in_features + 1), dtype=self.dtype)
        for k in range(9):  # 9 scatter-adds of whole columns (each pixel appears once per offset)
            np.add.at(gXp.T, self._idx[:, k], GP[:, :, k].T)
        return gXp[:, : self.in_features]


class AvgPool2(Layer):
    """Fixed 2x2 average pooling of ``channels`` maps of size ``h x w`` (``h``, ``w`` even)."""

    def __init__(self, h, w, channels, *, dtype=np.float64):
        super().__init__()
        self.h = check_int("h", h, minimum=2)
        self.w = check_int("w", w, minimum=2)
        if self.h % 2 or self.w % 2:
            raise ValueError(f"h and w must be even for 2x2 pooling, got h={self.h}, w={self.w}")
        self.channels = check_int("channels", channels, minimum=1)
        self.dtype = _real_dtype(dtype)
        self.in_features = self.channels * self.h * self.w
        self.out_features = self.in_features // 4

    def __repr__(self) -> str:
        return f"AvgPool2({self.h}x{self.w}, channels={self.channels})"

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        X = self._check_input(X)
        b = X.shape[0]
        Y = X.reshape(b, self.channels, self.h // 2, 2, self.w // 2, 2).mean(axis=(3, 5))
        self._cache = b if train else None
        return Y.reshape(b, -1)

    def backward(self, grad_out, *, need_grad_in: bool = True):
        b = self._cache
        G = self._check_grad_out(grad_out, b if b is not None else 0, self.out_features)
        if not need_grad_in:
            return None
        G = G.reshape(b, self.channels, self.h // 2, 1, self.w // 2, 1) / 4
        return np.ascontiguousarray(np.broadcast_to(G, (b, self.channels, self.h // 2, 2, self.w // 2, 2))).reshape(b, -1)
