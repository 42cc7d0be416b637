"""The dense reference trainer: every product a full BLAS matrix product."""
from __future__ import annotations

import numpy as np
from scipy.linalg import blas as _blas

from numerics._validation import check_array

from .model import WideNet, activation_bytes, check_memory

__all__ = ["DenseTrainer", "PARTS", "check_lr", "loss_or_raise"]

#: Names of the counted parts of one training step (multiply-adds), shared by both trainers.
PARTS = ("input", "forward", "forward_lowrank", "output", "backward", "backward_lowrank", "gradient", "densify")


def check_lr(lr) -> float:
    import math
    import numbers

    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"lr must be a positive real number, got {lr!r}")
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite step size > 0, got lr={lr!r}")
    return lr


def loss_or_raise(F, Y, step: int) -> float:
    """``1/(2B) ||F - Y||_F^2``; a NaN or infinite loss stops training with the step named."""
    loss = float(0.5 * np.sum((F - Y) ** 2) / F.shape[0])
    if not np.isfinite(loss):
        raise FloatingPointError(
            f"the training loss is {loss} at step {step} (0-based): training diverged; "
            f"use a smaller lr (the step size) or check the data"
        )
    return loss


class DenseTrainer:
    """Minibatch gradient descent on the squared loss with dense products (the reference).

    Parameters
    ----------
    net : WideNet
        Initial parameters (copied unless ``copy=False``).
    lr : float > 0
        Step size ``eta``: ``W_l <- W_l - eta dLoss/dW_l``.
    copy : bool, default True
        Work on a copy of ``net`` (False: train ``net`` in place, saving its memory).
    memory_limit : int or None
        Bytes allowed for one step's activations (default: what the OS reports available).

    Attributes
    ----------
    t : int
        Steps taken.
    counts : list of dict
        Multiply-adds of every step, by part (:data:`PARTS`), from the shapes of the BLAS calls made.
    """

    name = "dense"

    def __init__(self, net: WideNet, *, lr, copy: bool = True, memory_limit=None):
        if not isinstance(net, WideNet):
            raise TypeError(f"net must be a WideNet, got {type(net).__name__}")
        self.lr = check_lr(lr)
        self.net = net.copy() if copy else net
        self.memory_limit = memory_limit
        self.t = 0
        self.counts: list[dict] = []
        self._gemm = _blas.get_blas_funcs("gemm", dtype=self.net.dtype)

    def weight(self, layer: int) -> np.ndarray:
        """Current ``W_layer`` (math convention, a copy), ``layer = 1..depth``."""
        return self.net.weight(layer).copy()

    def step(self, X, Y) -> float:
        """One gradient step on the batch ``(X, Y)``; returns the batch loss before the step."""
        net = self.net
        X, Y = net.check_data(X, Y)
        B, m, L = X.shape[0], net.m, net.depth
        check_memory(f"a training step on {B} samples at width m={m}", activation_bytes(B, m, L, net.dtype), self.memory_limit)
        dt = net.dtype
        bb = dt.type(net.b)
        cnt = dict.fromkeys(PARTS, 0)
        z = X @ net.A.T
        cnt["input"] = B * m * net.d_in
        H, M = [np.maximum(z - bb, 0)], [z > bb]
        for Wt in net.Wt:
            z = H[-1] @ Wt
            cnt["forward"] += B * m * m
            M.append(z > bb)
            H.append(np.maximum(z - bb, 0))
        F = H[-1] @ net.C.T
        loss = loss_or_raise(F, Y, self.t)
        R = (F - Y) / dt.type(B)
        D = (R @ net.C) * M[L]
        cnt["output"] = 2 * B * m * net.d_out
        eta = -self.lr
        for l in range(L, 0, -1):
            Wt = net.Wt[l - 1]
            Dn = (D @ Wt.T) * M[l - 1] if l > 1 else None
            if l > 1:
                cnt["backward"] += B * m * m
            # Wt <- Wt - eta H^T D, in place (as W^T, which is Fortran-ordered): no m x m temporary.
            out = self._gemm(alpha=eta, a=D, b=H[l - 1], beta=1.0, c=Wt.T, trans_a=True, overwrite_c=True)
            if not np.shares_memory(out, Wt):  # pragma: no cover - BLAS wrapper copied
                Wt[...] = out.T
            cnt["gradient"] += B * m * m + m * m
            D = Dn
        self.t += 1
        self.counts.append(cnt)
        return loss
