"""The fast trainer: products over active neurons only, weights kept as ``W(0) + U V^T``.

Per step and layer (``S_i`` = active neurons of sample ``i`` in a layer, ``s ~ m Phibar(b)``):

* forward ``z_i = h_i Wt``: ``m |S_i^{in}|`` multiply-adds (rows of ``Wt`` at active inputs);
* backward: the input gradient is needed only at active inputs and ``delta`` is zero outside
  the active outputs: ``|S_i^{out}| |S_i^{in}|`` multiply-adds;
* the gradient ``-eta sum_i delta_i^T h_i`` is not formed: its ``B`` sparse rank-one columns are
  appended to the factors ``U`` (``-eta delta_i``) and ``V`` (``h_i``), so the layer's weight is
  ``W = W_base + U V^T``; products with ``U V^T`` cost ``nnz(u_c) + nnz(v_c)`` per column and sample;
* every ``T`` steps (``densify_every``) the factors are added into ``W_base`` by sparse outer
  products, ``sum_c nnz(u_c) nnz(v_c)`` multiply-adds, and dropped.

No ``m x m`` array is allocated after construction; every part is counted exactly by the kernels.
"""
from __future__ import annotations

import numpy as np

from .dense import PARTS, check_lr, loss_or_raise
from .model import WideNet, activation_bytes, check_memory
from . import _kernels as K

__all__ = ["FastTrainer", "active_csr"]


def active_csr(mask):
    """``(ptr, idx)`` of the True entries of a boolean ``(B, m)`` mask, row by row."""
    rows, cols = np.nonzero(mask)
    ptr = np.zeros(mask.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=mask.shape[0]), out=ptr[1:])
    return ptr, cols.astype(np.int64)


class _Factors:
    """Sparse columns of ``U`` and ``V`` appended since the last densify (one block per step)."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.blocks = []
        self._packed = None

    @property
    def ncol(self) -> int:
        return sum(len(b[0]) - 1 for b in self.blocks)

    def append(self, u_ptr, u_idx, u_val, v_ptr, v_idx, v_val):
        self.blocks.append((u_ptr, u_idx, u_val, v_ptr, v_idx, v_val))
        self._packed = None

    def clear(self):
        self.blocks = []
        self._packed = None

    def packed(self):
        if self._packed is None:
            if not self.blocks:
                z = np.zeros(1, dtype=np.int64)
                e = np.zeros(0, dtype=np.int64)
                ev = np.zeros(0, dtype=self.dtype)
                self._packed = (z, e, ev, z, e, ev, 0)
            else:
                def cat_ptr(ptrs):
                    out, off = [np.zeros(1, dtype=np.int64)], 0
                    for p in ptrs:
                        out.append(p[1:] + off)
                        off += p[-1]
                    return np.concatenate(out)

                b = self.blocks
                self._packed = (
                    cat_ptr([x[0] for x in b]), np.concatenate([x[1] for x in b]), np.concatenate([x[2] for x in b]),
                    cat_ptr([x[3] for x in b]), np.concatenate([x[4] for x in b]), np.concatenate([x[5] for x in b]),
                    self.ncol,
                )
        return self._packed


class FastTrainer:
    """Minibatch gradient descent with the same iterates as :class:`~numerics.wide.DenseTrainer`, sparsely.

    Parameters
    ----------
    net : WideNet
        Initial parameters (copied unless ``copy=False``).
    lr : float > 0
        Step size.
    densify_every : int >= 1 or None
        Re-densification period ``T`` (steps).  None: :func:`numerics.wide.cost.densify_period`
        for this width and the batch size of the first step.
    copy : bool, default True
    memory_limit : int or None
        Bytes allowed for one step's activations (default: what the OS reports available).

    Attributes
    ----------
    t : int
        Steps taken.
    counts : list of dict
        Exact multiply-adds of every step by part (:data:`numerics.wide.PARTS`); ``densify``
        is charged to the step that triggers it.
    active : list of ndarray
        Active neurons per sample and hidden layer of the last step, shape ``(B, depth + 1)``.
    """

    name = "fast"

    def __init__(self, net: WideNet, *, lr, densify_every=None, copy: bool = True, memory_limit=None):
        from numerics._validation import check_int

        if not isinstance(net, WideNet):
            raise TypeError(f"net must be a WideNet, got {type(net).__name__}")
        self.lr = check_lr(lr)
        self.densify_every = None if densify_every is None else check_int("densify_every", densify_every, minimum=1)
        self.net = net.copy() if copy else net
        self.memory_limit = memory_limit
        self.factors = [_Factors(self.net.dtype) for _ in range(self.net.depth)]
        self.t = 0
        self.counts: list[dict] = []
        self.active = None

    @property
    def rank(self) -> int:
        """Columns currently held in each layer's factors (the rank bound of ``U V^T``)."""
        return self.factors[0].ncol

    def weight(self, layer: int) -> np.ndarray:
        """Current ``W_layer = (W_base + U V^T)`` in the math convention (a new dense array; for checks only)."""
        Wt = self.net.Wt[layer - 1].copy()
        K.densify(Wt, self.factors[layer - 1].packed())
        return Wt.T

    def densify(self) -> int:
        """Add every layer's factors into its base weight now; returns the multiply-adds."""
        ops = 0
        for Wt, f in zip(self.net.Wt, self.factors):
            ops += K.densify(Wt, f.packed())
            f.clear()
        return ops

    def step(self, X, Y) -> float:
        """One gradient step on the batch ``(X, Y)``; returns the batch loss before the step."""
        net = self.net
        X, Y = net.check_data(X, Y)
        B, m, L = X.shape[0], net.m, net.depth
        check_memory(f"a training step on {B} samples at width m={m}", activation_bytes(B, m, L, net.dtype), self.memory_limit)
        if self.densify_every is None:
            from .cost import densify_period

            self.densify_every = densify_period(m, B)
        dt = net.dtype
        bb = dt.type(net.b)
        cnt = dict.fromkeys(PARTS, 0)
        z = X @ net.A.T
        cnt["input"] = B * m * net.d_in
        H, M = [np.maximum(z - bb, 0)], [z > bb]
        for l in range(L):
            z = np.zeros((B, m), dtype=dt)
            cnt["forward"] += K.sparse_forward(H[-1], net.Wt[l], z)
            cnt["forward_lowrank"] += K.lowrank_forward(H[-1], self.factors[l].packed(), z)
            M.append(z > bb)
            H.append(np.maximum(z - bb, 0))
        self.active = np.stack([mk.sum(axis=1) for mk in M], axis=1)
        F = H[-1] @ net.C.T
        loss = loss_or_raise(F, Y, self.t)
        R = (F - Y) / dt.type(B)
        D = (R @ net.C) * M[L]
        cnt["output"] = 2 * B * m * net.d_out
        csr = [active_csr(mk) for mk in M]
        new = []
        for l in range(L, 0, -1):
            out_ptr, out_idx = csr[l]
            in_ptr, in_idx = csr[l - 1]
            rows_out = np.repeat(np.arange(B), np.diff(out_ptr))
            rows_in = np.repeat(np.arange(B), np.diff(in_ptr))
            u_val = dt.type(-self.lr) * D[rows_out, out_idx]
            v_val = H[l - 1][rows_in, in_idx]
            cnt["gradient"] += u_val.size
            new.append((l - 1, (out_ptr, out_idx, u_val, in_ptr, in_idx, v_val)))
            if l > 1:
                G = np.zeros((B, m), dtype=dt)
                cnt["backward"] += K.sparse_backward(D, net.Wt[l - 1], out_ptr, out_idx, in_ptr, in_idx, G)
                cnt["backward_lowrank"] += K.lowrank_backward(D, self.factors[l - 1].packed(), G)
                G *= M[l - 1]
                D = G
        for l, cols in new:
            self.factors[l].append(*cols)
        self.t += 1
        if self.t % self.densify_every == 0:
            cnt["densify"] = self.densify()
        self.counts.append(cnt)
        return loss
