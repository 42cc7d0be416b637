"""Learned butterfly factorizations ``B P`` and ``B P B P`` with a relaxed permutation (Dao et al. 2019).

Relaxed permutation.  For block sizes ``s = n, n/2, ..., 4`` (in that order) and
within every block of ``s`` consecutive coordinates, three steps are applied one
after the other, each mixing ``x`` with a permuted copy through a weight
``p = sigmoid(logit)``:

1. even/odd separation: ``x <- p x[q] + (1 - p) x`` with ``q`` listing the even
   positions of the block, then the odd ones;
2. reverse the first half of the block;
3. reverse the second half of the block.

With all weights in ``{0, 1}`` this is a permutation matrix ``P`` (``P x = x[perm]``);
separation alone at every level is the bit reversal.  ``3 (log2 n - 1)`` logits.

Model.  ``BP``: ``M = B P``; ``BPBP``: ``M = B_1 P_1 B_2 P_2``, ``B`` butterflies
(:class:`numerics.butterfly.Butterfly`, real or complex twiddles), increasing in stride by
default; ``decreasing=(False, True)`` gives ``B_1 P_1 B_2^* P_2`` with ``B_2`` applying stride
``n/2`` first (each butterfly's stage order is passed to the kernels as ``orders[b]``).
Loss ``f = mean |M - A|^2`` (so ``RMSE = sqrt f``).  Gradients are written by hand:
the butterfly part through :func:`numerics.butterfly.butterfly_backward`, the
relaxed permutations by the chain rule through each step
(``df/dp = Re sum conj(G) (X[:, q] - X)``, ``G <- (1 - p) G``, ``G[:, q] += p G``)
and ``dp/dlogit = p (1 - p)``.  Everything is computed on transposes
(``X = M^T`` has one row per column of ``M``), the layout of the butterfly kernels.

Fitting (:func:`learn_factorization`): random restarts, each Adam then L-BFGS
(``scipy.optimize.minimize``); then the permutation weights are rounded to
``{0, 1}`` (the learned permutation) and the twiddles alone refitted by L-BFGS
with the permutation fixed (with ``twiddle_restarts``, also from fresh random twiddles).  The
reported RMSE is that of the rounded model.
For ``B P``, ``exact_check`` also tries the rounded permutation during Adam with
the twiddles solved by the exact factorization.  :func:`learn_bp_levelwise`
learns a ``B P`` permutation one level at a time with the twiddles projected out;
:func:`learn_real_levelwise` does the same for ``Re(B P)`` with a rank-two
criterion and solves the twiddles by :func:`numerics.factorize.solve_real_twiddles`.

Loss and gradient run in the Numba kernels of :mod:`numerics.factorize._kernels`
(one restart or a parallel batch); ``_Model.loss_grad_numpy`` and
``_BatchModel.loss_grad_numpy`` are the plain-NumPy references.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from numerics._validation import check_array, check_finite, check_int, check_power_of_two, check_rng
from numerics.butterfly import Butterfly, butterfly_backward, butterfly_forward

__all__ = [
    "permutation_steps",
    "relaxed_permutation",
    "hard_permutation",
    "model_steps",
    "bp_loss_and_grad",
    "LearnedFactorization",
    "learn_factorization",
    "learn_bp_levelwise",
    "learn_real_levelwise",
    "levelwise_real_permutation",
    "fit_real_twiddles",
    "LevelwisePermutation",
    "depth_blocks",
    "KINDS",
]

KINDS = ("BP", "BPP", "BPBP")
_DTYPES = tuple(np.dtype(d) for d in (np.float64, np.complex128))


def permutation_steps(n: int) -> list[np.ndarray]:
    """Index arrays ``q`` of the ``3 (log2 n - 1)`` steps, in application order.

    Step ``3 l + c`` (block size ``s = n / 2**l``, choice ``c`` = separation,
    reverse first half, reverse second half) maps ``x`` to ``x[q]`` when fully on.
    """
    n = check_power_of_two("n", n)
    steps = []
    s = n
    while s >= 4:
        h = s // 2
        base = np.arange(0, n, s)[:, None]
        k = np.arange(h)[None, :]
        sep = np.concatenate([base + 2 * k, base + 2 * k + 1], axis=1).ravel()
        r1 = np.concatenate([base + h - 1 - k, base + h + k], axis=1).ravel()
        r2 = np.concatenate([base + k, base + s - 1 - k], axis=1).ravel()
        steps += [sep.astype(np.int64), r1.astype(np.int64), r2.astype(np.int64)]
        s = h
    return steps


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _apply_steps(X: np.ndarray, steps, p) -> list[np.ndarray]:
    """All intermediates ``X_0 = X, ..., X_K`` of the relaxed steps acting on the columns of ``X``."""
    out = [X]
    for q, pk in zip(steps, p):
        Xk = out[-1]
        out.append(pk * Xk[:, q] + (1.0 - pk) * Xk)
    return out


def _back_steps(stages, steps, p, G):
    """Backpropagate ``G = df/dX_K`` through the steps: returns ``(df/dX_0, df/dp)``."""
    dp = np.empty(len(steps))
    for k in range(len(steps) - 1, -1, -1):
        q, pk = steps[k], p[k]
        Xp = stages[k]
        dp[k] = float(np.vdot(G, Xp[:, q] - Xp).real)  # sum conj(G) (X[:, q] - X)
        qinv = np.empty_like(q)
        qinv[q] = np.arange(q.size)
        G = (1.0 - pk) * G + pk * G[:, qinv]  # every step is a permutation: the scatter-add is a gather
    return G, dp


def relaxed_permutation(logits) -> np.ndarray:
    """The dense ``n x n`` relaxed permutation matrix for ``logits`` of shape ``(3 (log2 n - 1),)``.

    ``P x`` applies the steps to ``x``.  For ``n = 2`` there are no logits and ``P = I``.
    """
    z = check_array("logits", logits, ndim=1, dtypes=(np.dtype(np.float64),))
    L = z.size // 3 + 1
    if z.size % 3:
        raise ValueError(f"logits must have length 3 (log2 n - 1), got length {z.size}")
    n = 1 << L
    steps = permutation_steps(n)
    Xt = _apply_steps(np.eye(n), steps, _sigmoid(z))[-1]  # = P^T
    return Xt.T.copy()


def hard_permutation(logits) -> np.ndarray:
    """The permutation ``perm`` (``P x = x[perm]``) with every weight rounded to 0 or 1."""
    z = check_array("logits", logits, ndim=1, dtypes=(np.dtype(np.float64),))
    n = 1 << (z.size // 3 + 1)
    return _compose_steps(permutation_steps(n), z > 0, n)


def _compose_steps(steps, on, n: int) -> np.ndarray:
    """``perm`` of the steps with ``on[k]`` true, applied in order (``P x = x[perm]``)."""
    perm = np.arange(n, dtype=np.int64)
    for q, o in zip(steps, on):
        if o:
            perm = perm[q]
    return perm


def model_steps(n: int, kind: str) -> list[np.ndarray]:
    """The relaxed steps of one ``(B, P)`` pair of ``kind``: :func:`permutation_steps`, and for ``"BPP"`` the three
    choices of the top level (block ``n``) once more in front, so that ``P = P_family Q`` with ``Q`` one extra
    top-level factor (the ``B P P`` model of Dao et al.; ``n = 2`` has no steps)."""
    steps = permutation_steps(n)
    return steps[:3] + steps if kind == "BPP" else steps


# ------------------------------------------------------------------------------------- model


class _Model:
    """Parameter packing and the loss of ``BP`` / ``BPBP`` for a fixed target."""

    def __init__(self, A: np.ndarray, kind: str, cplx: bool, steps=None, decreasing=None, real_part: bool = False):
        """``steps``: the permutation steps (index arrays of length n); default :func:`permutation_steps`.

        ``decreasing``: one bool per butterfly (default all ``False``): stride ``n/2`` applied first.
        ``real_part``: the loss compares ``Re M`` with ``A`` (complex twiddles, real ``A``).
        """
        self.real_part = bool(real_part)
        self.n = n = A.shape[0]
        self.L = n.bit_length() - 1
        self.kind = kind
        self.nb = 2 if kind == "BPBP" else 1
        self.decreasing = (False,) * self.nb if decreasing is None else tuple(bool(d) for d in decreasing)
        inc = np.arange(self.L, dtype=np.int64)
        self.orders = np.array([inc[::-1] if d else inc for d in self.decreasing])  # (nb, L)
        self.dtype = np.dtype(np.complex128 if cplx else np.float64)
        self.AT = np.ascontiguousarray(A.T, dtype=self.dtype)
        self.steps = model_steps(n, kind) if steps is None else list(steps)
        self.K = len(self.steps)
        self.steps_arr = np.array(self.steps, dtype=np.int64).reshape(self.K, n)
        self.tw_shape = (self.L, n // 2, 2, 2)
        self.tw_size = int(np.prod(self.tw_shape)) * (2 if cplx else 1)
        self.size = self.nb * (self.tw_size + self.K)
        self.eye = np.eye(n, dtype=self.dtype)

    def hard_perm(self, on) -> np.ndarray:
        """``perm`` of one pair's steps with ``on[k]`` true (``P x = x[perm]``)."""
        return _compose_steps(self.steps, on, self.n)

    def unpack(self, theta):
        out = []
        off = 0
        for _ in range(self.nb):
            t = theta[off : off + self.tw_size]
            off += self.tw_size
            tw = (t.view(np.complex128) if self.dtype.kind == "c" else t).reshape(self.tw_shape)
            z = theta[off : off + self.K]
            off += self.K
            out.append((np.ascontiguousarray(tw), z))
        return out

    def pack_grad(self, grads):
        parts = []
        for gtw, gz in grads:
            g = np.ascontiguousarray(gtw).ravel()
            parts.append(g.view(np.float64) if self.dtype.kind == "c" else g)
            parts.append(gz)
        return np.concatenate(parts)

    def kernel_loss_grad(self, TH, hard=None, parallel: bool = False):
        """Losses ``(R,)`` and gradients ``(R, size)`` of the rows of ``TH`` via the Numba kernels.

        ``hard``: optional fixed permutation weights, shape ``(R, nb, K)`` (logit gradients are then 0).
        """
        from ._kernels import bp_loss_grad_batch, bp_loss_grad_serial

        R = TH.shape[0]
        cplx = self.dtype.kind == "c"
        tw = np.empty((R, self.nb) + self.tw_shape, dtype=self.dtype)
        z = np.empty((R, self.nb, self.K))
        off = 0
        for b in range(self.nb):
            t = np.ascontiguousarray(TH[:, off : off + self.tw_size])
            off += self.tw_size
            tw[:, b] = (t.view(np.complex128) if cplx else t).reshape((R,) + self.tw_shape)
            z[:, b] = TH[:, off : off + self.K]
            off += self.K
        p = _sigmoid(z) if hard is None else np.ascontiguousarray(hard, dtype=np.float64)
        f = np.empty(R)
        gtw = np.empty_like(tw)
        gp = np.empty_like(p)
        (bp_loss_grad_batch if parallel and R > 1 else bp_loss_grad_serial)(self.AT, tw, p, self.steps_arr, self.orders,
                                                                            self.real_part, f, gtw, gp)
        G = np.empty((R, self.size))
        off = 0
        for b in range(self.nb):
            gt = gtw[:, b].reshape(R, -1)
            G[:, off : off + self.tw_size] = gt.view(np.float64) if cplx else gt
            off += self.tw_size
            G[:, off : off + self.K] = 0.0 if hard is not None else gp[:, b] * p[:, b] * (1.0 - p[:, b])
            off += self.K
        return f, G

    def loss_grad(self, theta, hard=None):
        """Loss and gradient of one parameter vector (Numba kernel; :meth:`loss_grad_numpy` is the reference)."""
        h = None if hard is None else np.stack(hard)[None]
        f, G = self.kernel_loss_grad(np.asarray(theta, dtype=np.float64)[None], h)
        return float(f[0]), G[0]

    def forward(self, theta, hard=None):
        """``M^T`` and the cache for :meth:`loss_grad`.  ``hard``: optional fixed weights per (B, P) pair."""
        pars = self.unpack(theta)
        X = self.eye
        cache = []
        # apply the last (rightmost) pair first: M = B_1 P_1 (B_2 P_2)
        for b in range(self.nb - 1, -1, -1):
            tw, z = pars[b]
            p = _sigmoid(z) if hard is None else hard[b]
            stages = _apply_steps(X, self.steps, p)
            Y = butterfly_forward(stages[-1], tw, increasing=not self.decreasing[b])
            cache.append((b, tw, z, p, stages))
            X = Y
        return X, cache

    def loss_grad_numpy(self, theta, hard=None):
        Y, cache = self.forward(theta, hard)
        R = Y - self.AT
        if self.real_part:
            R = R.real.astype(self.dtype)
        N = R.size
        f = float(np.sum((R.conj() * R).real) / N)
        G = (2.0 / N) * R
        grads = [None] * self.nb
        for b, tw, z, p, stages in reversed(cache):
            G, gtw = butterfly_backward(stages[-1], tw, G, increasing=not self.decreasing[b])
            G, dp = _back_steps(stages, self.steps, p, G)
            gz = dp * p * (1.0 - p) if hard is None else np.zeros_like(z)
            grads[b] = (gtw, gz)
        return f, self.pack_grad(grads)

    def init(self, rng, logit_scale: float = 0.0):
        parts = []
        for _ in range(self.nb):
            tw = Butterfly.random(self.n, seed=rng, dtype=self.dtype).twiddles
            t = np.ascontiguousarray(tw).ravel()
            parts.append(t.view(np.float64).copy() if self.dtype.kind == "c" else t.copy())
            parts.append(logit_scale * rng.standard_normal(self.K))
        return np.concatenate(parts)


def bp_loss_and_grad(A, theta, kind: str = "BP", complex_twiddles: bool | None = None, decreasing=None,
                     real_part: bool = False):
    """Loss ``mean |M - A|^2`` of the parameters ``theta`` and its gradient (for tests and finite differences).

    ``theta`` packs, for each ``(B, P)`` pair in order ``B_1 P_1 [B_2 P_2]``, the
    twiddles (real, or complex as interleaved real and imaginary parts) then the
    ``3 (log2 n - 1)`` logits.  ``decreasing``: stride order per butterfly; ``real_part``: the loss is
    ``mean (Re M - A)^2`` (complex twiddles); both as in :func:`learn_factorization`.
    """
    A, kind, cplx = _check_inputs(A, kind, complex_twiddles)
    cplx = _check_real_part(real_part, A, complex_twiddles, cplx)
    model = _Model(A, kind, cplx, decreasing=_check_decreasing(decreasing, kind), real_part=real_part)
    theta = check_array("theta", theta, ndim=1, dtypes=(np.dtype(np.float64),))
    if theta.size != model.size:
        raise ValueError(f"theta has length {theta.size}; expected {model.size} for kind={kind!r}, n={A.shape[0]}")
    return model.loss_grad(np.ascontiguousarray(theta))


def _check_decreasing(decreasing, kind: str) -> tuple:
    nb = 2 if kind == "BPBP" else 1
    if decreasing is None:
        return (False,) * nb
    if (not isinstance(decreasing, (tuple, list)) or len(decreasing) != nb
            or not all(isinstance(d, (bool, np.bool_)) for d in decreasing)):
        raise ValueError(f"decreasing must be a tuple of {nb} bool(s) (one per butterfly of kind={kind!r}), "
                         f"got decreasing={decreasing!r}")
    return tuple(bool(d) for d in decreasing)


def _check_real_part(real_part, A, complex_twiddles, cplx: bool) -> bool:
    """Validate ``real_part``; returns whether the twiddles are complex (always with ``real_part``)."""
    if not isinstance(real_part, (bool, np.bool_)):
        raise TypeError(f"real_part must be a bool, got real_part={real_part!r}")
    if not real_part:
        return cplx
    if A.dtype.kind == "c":
        raise TypeError(f"real_part=True fits the real part of the model to a real A, but A is complex ({A.dtype})")
    if complex_twiddles is False:
        raise ValueError("real_part=True needs complex twiddles (the real part of a real model is the model itself); "
                         "got complex_twiddles=False")
    return True


def _check_number(name: str, value, positive: bool = False) -> float:
    """``value`` as a float, finite and ``>= 0`` (``> 0`` if ``positive``); else a ValueError naming it."""
    if not (isinstance(value, (float, int, np.floating, np.integer)) and np.isfinite(value)
            and (value > 0 if positive else value >= 0)):
        what = "a positive finite number" if positive else "a finite number >= 0"
        raise ValueError(f"{name} must be {what}, got {name}={value!r}")
    return float(value)


def _check_square(A, dtypes, min_n: int, needs: str, hint: str = "") -> np.ndarray:
    """``A`` after checking: one of ``dtypes``, square, size a power of two ``>= min_n``, finite (``needs`` names
    what needs it in the message, ``hint`` is appended)."""
    A = check_array("A", A, ndim=2, dtypes=dtypes, finite=False)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square (n x n with n a power of two), got shape {A.shape}")
    n = A.shape[0]
    if n < min_n or n & (n - 1):
        raise ValueError(f"A has size n={n}; {needs} needs n a power of two >= {min_n}{hint}")
    check_finite("A", A)
    return A


def _check_inputs(A, kind, complex_twiddles):
    A = _check_square(A, _DTYPES, 2, "the learned butterfly factorization")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got kind={kind!r}")
    if complex_twiddles is None:
        cplx = A.dtype.kind == "c"
    elif not isinstance(complex_twiddles, (bool, np.bool_)):
        raise TypeError(f"complex_twiddles must be a bool or None, got {complex_twiddles!r}")
    else:
        cplx = bool(complex_twiddles)
    if A.dtype.kind == "c" and not cplx:
        raise TypeError(
            f"A is complex ({A.dtype}) but complex_twiddles=False: a real factorization cannot fit a complex "
            f"target; pass complex_twiddles=True (or None)"
        )
    return A, kind, cplx


@dataclass
class LearnedFactorization:
    """Result of :func:`learn_factorization`.

    Attributes
    ----------
    kind : str
        ``"BP"``, ``"BPP"`` or ``"BPBP"``.
    butterflies : list of Butterfly
        ``[B]`` or ``[B_1, B_2]``.
    perms : list of ndarray
        The learned (rounded) permutations ``perm`` (``P x = x[perm]``), one per butterfly.
    rmse : float
        ``sqrt(mean |M - A|^2)`` of the rounded model.
    rmse_relaxed : float
        The same before rounding (best restart; with ``vectorize=True``, after Adam only).
    history : list of float
        Final RMSE of every restart (rounded model; with ``vectorize=True``, of the refined ones).
    real_part : bool
        The model is ``Re(B_1 P_1 [B_2 P_2])`` (``learn_factorization(..., real_part=True)``).
    """

    kind: str
    butterflies: list
    perms: list
    rmse: float
    rmse_relaxed: float
    history: list = field(default_factory=list)
    real_part: bool = False

    def todense(self) -> np.ndarray:
        """``B_1 P_1 [B_2 P_2]`` (its real part if :attr:`real_part`) as a dense matrix."""
        M = _dense_product(self.butterflies, self.perms)
        return M.real.copy() if self.real_part else M


def _dense_product(butterflies, perms) -> np.ndarray:
    """``B_1 P_1 [B_2 P_2 ...]`` as a dense matrix (``P x = x[perm]``), from :meth:`Butterfly.todense`."""
    n = butterflies[0].n
    M = np.eye(n, dtype=butterflies[0].dtype)
    for B, perm in zip(reversed(butterflies), reversed(perms)):
        M = B.todense() @ M[perm, :]
    return M


def _adam(fg, theta, steps: int, lr: float):
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        _, g = fg(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def _lbfgs(fg, theta, maxiter: int):
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    # L-BFGS-B makes many tiny BLAS calls: threaded BLAS only adds contention (measured 10x slower on 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        res = minimize(fg, theta, jac=True, method="L-BFGS-B",
                       options={"maxiter": maxiter, "maxcor": 30, "ftol": 1e-32, "gtol": 1e-20, "maxfun": 2 * maxiter})
    return res.x, float(res.fun)


def _solve_exact(model: _Model, z, stop_rmse: float, rmse_relaxed: float):
    """Round ``z``, solve the ``B P`` twiddles exactly; the result if its RMSE is ``<= stop_rmse``, else None."""
    from .exact import butterfly_factorize

    perm = hard_permutation(np.asarray(z, dtype=np.float64))
    A = model.AT.T
    res = butterfly_factorize(A, perm, increasing=not model.decreasing[0])
    rmse = res.rel_error * float(np.linalg.norm(A)) / model.n
    if rmse > stop_rmse:
        return None
    return LearnedFactorization(kind="BP", butterflies=[res.butterfly], perms=[res.perm], rmse=float(rmse),
                                rmse_relaxed=rmse_relaxed, history=[float(rmse)])


def _adam_exact(model: _Model, theta, steps: int, lr: float, every: int, stop_rmse: float):
    """:func:`_adam` that tries :func:`_solve_exact` every ``every`` steps: ``(theta, first success or None)``."""
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        f, g = model.loss_grad(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        if t % every == 0:
            found = _solve_exact(model, model.unpack(theta)[0][1], stop_rmse, float(np.sqrt(max(f, 0.0))))
            if found is not None:
                return theta, found
    return theta, None


def learn_factorization(A, kind: str = "BP", *, restarts: int = 4, adam_steps: int = 500, lr: float = 0.02,
                        lbfgs_iters: int = 1000, complex_twiddles: bool | None = None, seed=None,
                        stop_rmse: float = 1e-10, vectorize: bool = False,
                        refine: int | None = None, exact_check: int = 0,
                        decreasing=None, twiddle_restarts: int = 0,
                        logit_init: float = 0.0, real_part: bool = False, halving: int = 1) -> LearnedFactorization:
    """Fit ``A ~ B P`` (``kind="BP"``), ``B P Q`` (``"BPP"``) or ``B_1 P_1 B_2 P_2`` (``"BPBP"``) by Adam, then L-BFGS.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64 or complex128, finite; ``n`` a power of two ``>= 2``.
    kind : {"BP", "BPP", "BPBP"}
        ``"BPP"`` is the model Dao et al. used for DCT and DST: one butterfly and the permutation
        ``P Q``, with ``Q`` one extra factor of the top level (three more logits, applied first; see
        :func:`model_steps`).  Its result has one butterfly and one (composed) permutation.
    restarts : int, default 4
        Random initialisations (twiddles :meth:`Butterfly.random`, logits ``logit_init`` times standard
        normal draws; 0 gives weights 1/2 as in the paper); stops early once a rounded model reaches
        ``stop_rmse``.
    adam_steps, lr : Adam iterations and step size.
    lbfgs_iters : int
        L-BFGS iterations for the relaxed fit and again for the refit with rounded permutations.
    complex_twiddles : bool or None
        Default: complex iff ``A`` is complex.  A complex ``A`` with ``False`` is an error.
    seed : None, int or Generator
    stop_rmse : float
    vectorize : bool, default False
        ``False``: every restart in turn runs Adam, L-BFGS on the relaxed model, rounding and
        an L-BFGS refit.  ``True``: all restarts run Adam together (vectorised,
        :class:`_BatchModel`); every restart's permutation is then rounded and its twiddles
        refitted by ``adam_steps // 2`` further vectorised Adam steps (step ``lr / 2``) with the
        hard permutation; the ``refine`` restarts with the smallest loss, best first, get the
        L-BFGS refit, stopping at ``stop_rmse``.  Much faster at small ``n``, and rounding
        before the relaxed model has drifted to mixed weights works better for ``B P B P``.
    refine : int or None
        With ``vectorize=True``: how many restarts get the L-BFGS refit (default ``min(restarts, 5)``).
    exact_check : int, default 0
        ``kind="BP"`` without ``vectorize`` only.  If positive, every ``exact_check`` Adam steps and
        after the relaxed L-BFGS the current logits are rounded and the twiddles for that hard
        permutation solved by :func:`numerics.factorize.butterfly_factorize` (exact when ``A P^T`` is a
        butterfly); a restart stops as soon as this rounded model reaches ``stop_rmse``.  The
        permutation is still only what the relaxed fit learned; this replaces the L-BFGS refit of the
        twiddles when the permutation is right and lets a restart stop before its logits drift.
    decreasing : tuple of bool or None
        Stride order of each butterfly (one entry per butterfly: ``(d,)`` for ``"BP"``, ``(d_1, d_2)``
        for ``"BPBP"``); ``True`` applies stride ``n/2`` first (the ``B^*`` of Dao et al.).  Default:
        all increasing.  ``(False, True)`` fits ``B_1 P_1 B_2^* P_2``, the order of the classical
        DCT/DST algorithms (``theory/factorization.md`` section 5).
    logit_init : float, default 0.0
        Standard deviation of the initial permutation logits.  With all logits 0 every restart starts from
        the same relaxed permutation and only the twiddles differ; random logits (e.g. 2) spread the
        restarts over the permutation family (``theory/factorization.md`` section 5).
    halving : int, default 1
        With ``vectorize=True``: successive halving of the restarts (the role of the asynchronous
        hyperband scheduler in Dao et al.'s runs).  The Adam phase runs in ``halving`` rounds of
        ``adam_steps // halving`` steps; after every round but the last only the quarter of the restarts
        with the smallest relaxed loss (at least ``refine``) go on, with their Adam moments.  So many
        cheap restarts explore the permutations and the promising ones are trained longer.
    real_part : bool, default False
        Fit ``Re(B P)`` (``Re(B_1 P_1 B_2 P_2)``) to a real ``A`` with complex twiddles: the loss is
        ``mean (Re M - A)^2`` and the imaginary part of ``M`` is free, as in the code of Dao et al.
        (a real target with complex factors is compared on the real part).  The classical fast
        algorithms of the real transforms are of this form: Hartley is ``Re((1 + i) F)`` and DCT-II is
        ``Re(D F Q)`` with ``Q`` an input reordering (``theory/factorization.md`` section 5).  Needs a
        real ``A`` and ``complex_twiddles`` ``True`` or ``None`` (then complex); the result's
        :meth:`LearnedFactorization.todense` is the real part.
    twiddle_restarts : int, default 0
        With ``vectorize=True``: if no refined restart reaches ``stop_rmse``, the distinct rounded
        permutations of the refined restarts (best first) are kept fixed and their twiddles fitted
        again from ``twiddle_restarts`` fresh random starts (batched Adam as in
        :func:`numerics.factorize.bpbp.fit_bpbp_fixed`, then L-BFGS on the best quarter), until one
        reaches ``stop_rmse``.  The warm-started refit often stalls on a right permutation
        (the twiddle landscape of ``B P B P`` is itself non-convex); fresh starts get past it.

    Returns
    -------
    LearnedFactorization
        The best restart (smallest RMSE of the rounded model).

    Raises
    ------
    TypeError
        If ``A`` has another dtype than float64/complex128, is complex with ``complex_twiddles=False``, or is
        complex with ``real_part=True``; if ``real_part`` is not a bool.
    ValueError
        If ``A`` is not square with a power-of-two size ``>= 2``, contains NaN or inf, ``kind`` is unknown,
        ``decreasing`` does not have one bool per butterfly, ``logit_init`` is negative or not finite,
        ``twiddle_restarts`` is negative or set without ``vectorize=True``, ``halving`` is below 1 or above 1
        without ``vectorize=True``, or ``real_part=True`` with ``complex_twiddles=False``.
    """
    A, kind, cplx = _check_inputs(A, kind, complex_twiddles)
    decreasing = _check_decreasing(decreasing, kind)
    cplx = _check_real_part(real_part, A, complex_twiddles, cplx)
    restarts = check_int("restarts", restarts, minimum=1)
    adam_steps = check_int("adam_steps", adam_steps, minimum=0)
    lbfgs_iters = check_int("lbfgs_iters", lbfgs_iters, minimum=0)
    rng = check_rng("seed", seed)
    if not isinstance(vectorize, (bool, np.bool_)):
        raise TypeError(f"vectorize must be a bool, got {vectorize!r}")
    exact_check = check_int("exact_check", exact_check, minimum=0)
    twiddle_restarts = check_int("twiddle_restarts", twiddle_restarts, minimum=0)
    halving = check_int("halving", halving, minimum=1)
    if halving > 1 and not vectorize:
        raise ValueError(f"halving={halving} needs vectorize=True")
    logit_init = _check_number("logit_init", logit_init)
    if twiddle_restarts and not vectorize:
        raise ValueError(f"twiddle_restarts={twiddle_restarts} needs vectorize=True")
    if exact_check and (kind != "BP" or vectorize or real_part):
        raise ValueError(f"exact_check={exact_check} needs kind='BP', vectorize=False and real_part=False (got "
                         f"kind={kind!r}, vectorize={vectorize}, real_part={real_part})")
    model = _Model(A, kind, cplx, decreasing=decreasing, real_part=real_part)
    if vectorize:
        refine = min(restarts, 5) if refine is None else check_int("refine", refine, minimum=1)
        return _learn_vectorized(model, restarts, adam_steps, lr, lbfgs_iters, rng, stop_rmse, refine,
                                 twiddle_restarts, logit_init, halving)
    best = None
    history = []
    for _ in range(restarts):
        theta = model.init(rng, logit_init)
        if exact_check:
            theta, found = _adam_exact(model, theta, adam_steps, lr, exact_check, stop_rmse)
            if found is None:
                theta, f_rel = _lbfgs(model.loss_grad, theta, lbfgs_iters)
                found = _solve_exact(model, model.unpack(theta)[0][1], stop_rmse, float(np.sqrt(max(f_rel, 0.0))))
            if found is not None:
                found.history = history + found.history
                return found
        else:
            theta = _adam(model.loss_grad, theta, adam_steps, lr)
            theta, f_rel = _lbfgs(model.loss_grad, theta, lbfgs_iters)
        pars = model.unpack(theta)
        hard = [(z > 0).astype(np.float64) for _, z in pars]
        theta_h, f_h = _lbfgs(lambda th: model.loss_grad(th, hard), theta, lbfgs_iters)
        rmse = float(np.sqrt(max(f_h, 0.0)))
        history.append(rmse)
        if best is None or rmse < best[0]:
            best = (rmse, float(np.sqrt(max(f_rel, 0.0))), theta_h, [z.copy() for _, z in pars])
        if rmse <= stop_rmse:
            break
    rmse, rmse_rel, theta_h, logits = best
    pars = model.unpack(theta_h)
    return LearnedFactorization(
        kind=kind,
        butterflies=[Butterfly(tw, increasing=not d) for (tw, _), d in zip(pars, model.decreasing)],
        perms=[model.hard_perm(z > 0) for z in logits],
        rmse=rmse,
        rmse_relaxed=rmse_rel,
        history=history,
        real_part=model.real_part,
    )


# ------------------------------------------------------------------------ vectorised restarts


class _BatchModel:
    """``_Model`` for ``R`` restarts at once: ``theta`` has shape ``(R, size)`` (same packing per row).

    Plain NumPy on arrays of shape ``(R, n, n)``; every operation is vectorised over the
    restarts, the rows and the butterfly pairs (loops run over levels and steps only).
    Used for the Adam phase of :func:`learn_factorization` with ``vectorize=True``, where
    at small ``n`` one call costs about as much as one call of the unbatched model.
    """

    def __init__(self, model: _Model):
        self.m = model
        n = model.n
        self.pairs = []
        for t in range(model.L):
            s = 1 << t
            p = np.arange(n // 2)
            i = 2 * s * (p // s) + p % s
            self.pairs.append((i, i + s))

    def unpack(self, theta):
        m = self.m
        R = theta.shape[0]
        out = []
        off = 0
        for _ in range(m.nb):
            t = np.ascontiguousarray(theta[:, off : off + m.tw_size])
            off += m.tw_size
            tw = (t.view(np.complex128) if m.dtype.kind == "c" else t).reshape((R,) + m.tw_shape)
            z = theta[:, off : off + m.K]
            off += m.K
            out.append((tw, z))
        return out

    def loss_grad(self, theta, hard=None):
        """Per-restart losses ``f`` (shape ``(R,)``) and gradients (shape ``(R, size)``), Numba kernels in parallel.

        ``hard``: optional fixed permutation weights, shape ``(nb, R, K)`` (logit gradients are then 0).
        """
        h = None if hard is None else np.transpose(hard, (1, 0, 2))
        return self.m.kernel_loss_grad(theta, h, parallel=True)

    def loss_grad_numpy(self, theta, hard=None):
        """Plain-NumPy reference of :meth:`loss_grad` (vectorised over restarts, rows and pairs)."""
        m = self.m
        R = theta.shape[0]
        pars = self.unpack(theta)
        X = np.broadcast_to(m.eye, (R, m.n, m.n))
        cache = []
        for b in range(m.nb - 1, -1, -1):
            tw, z = pars[b]
            p = _sigmoid(z) if hard is None else hard[b]
            stages = [X]
            for k, q in enumerate(m.steps):
                pk = p[:, k, None, None]
                Xk = stages[-1]
                stages.append(pk * Xk[:, :, q] + (1.0 - pk) * Xk)
            bstages = [stages[-1]]
            for t in m.orders[b]:
                i, j = self.pairs[t]
                Xt = bstages[-1]
                xi, xj = Xt[:, :, i], Xt[:, :, j]
                w = tw[:, None, t]
                Y = np.empty(Xt.shape, dtype=m.dtype)
                Y[:, :, i] = w[..., 0, 0] * xi + w[..., 0, 1] * xj
                Y[:, :, j] = w[..., 1, 0] * xi + w[..., 1, 1] * xj
                bstages.append(Y)
            cache.append((b, tw, p, stages, bstages))
            X = bstages[-1]
        Rr = X - m.AT
        if m.real_part:
            Rr = Rr.real.astype(m.dtype)
        N = m.n * m.n
        f = np.sum((Rr.conj() * Rr).real, axis=(1, 2)) / N
        G = (2.0 / N) * Rr
        grads = [None] * m.nb
        for b, tw, p, stages, bstages in reversed(cache):
            gtw = np.empty_like(tw)
            twc = tw.conj()
            for tt in range(m.L - 1, -1, -1):
                t = m.orders[b, tt]
                i, j = self.pairs[t]
                xin = bstages[tt].conj()
                xi, xj = xin[:, :, i], xin[:, :, j]
                gi, gj = G[:, :, i], G[:, :, j]
                gtw[:, t, :, 0, 0] = np.sum(gi * xi, axis=1)
                gtw[:, t, :, 0, 1] = np.sum(gi * xj, axis=1)
                gtw[:, t, :, 1, 0] = np.sum(gj * xi, axis=1)
                gtw[:, t, :, 1, 1] = np.sum(gj * xj, axis=1)
                w = twc[:, None, t]
                Gn = np.empty_like(G)
                Gn[:, :, i] = w[..., 0, 0] * gi + w[..., 1, 0] * gj
                Gn[:, :, j] = w[..., 0, 1] * gi + w[..., 1, 1] * gj
                G = Gn
            dp = np.empty_like(p)
            for k in range(m.K - 1, -1, -1):
                q = m.steps[k]
                pk = p[:, k, None, None]
                Xp = stages[k]
                dp[:, k] = np.sum((np.conj(G) * (Xp[:, :, q] - Xp)).real, axis=(1, 2))
                Gn = (1.0 - pk) * G
                Gn[:, :, q] += pk * G
                G = Gn
            g = gtw.reshape(R, -1)
            gz = dp * p * (1.0 - p) if hard is None else np.zeros_like(dp)
            grads[b] = (g.view(np.float64) if m.dtype.kind == "c" else g, gz)
        return f, np.concatenate([a for pair in grads for a in pair], axis=1)


def _adam_batch(fg, theta, steps: int, lr: float, state=None):
    """Adam on every row of ``theta`` at once (identical to :func:`_adam` per row).

    ``state``: optional ``[m, v, t]`` (moments and step count) to continue from; updated in place.
    """
    if state is None:
        state = [np.zeros_like(theta), np.zeros_like(theta), 0]
    m, v, t0 = state
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(t0 + 1, t0 + steps + 1):
        _, g = fg(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    state[:] = [m, v, t0 + steps]
    return theta


def _adam_halving(fg, theta, steps: int, lr: float, rounds: int, keep_min: int):
    """Successive halving over the rows of ``theta``: ``rounds`` rounds of ``steps // rounds`` Adam steps
    (:func:`_adam_batch`, moments carried over); after every round but the last only the quarter of the rows
    with the smallest loss (at least ``keep_min``) go on.  ``rounds = 1`` is plain :func:`_adam_batch`."""
    state = [np.zeros_like(theta), np.zeros_like(theta), 0]
    per = steps // rounds
    for rd in range(rounds):
        theta = _adam_batch(fg, theta, per, lr, state)
        if rd < rounds - 1:
            f, _ = fg(theta)
            keep = np.sort(np.argsort(f, kind="stable")[: max(keep_min, theta.shape[0] // 4)])
            theta = theta[keep]
            state[0], state[1] = state[0][keep], state[1][keep]
    return theta


def _learn_vectorized(model: _Model, restarts, adam_steps, lr, lbfgs_iters, rng, stop_rmse, refine,
                      twiddle_restarts=0, logit_init=0.0, halving=1, logit_mean=None):
    """``logit_mean``: optional ``(nb, K)`` centre of the initial logits (``logit_init`` is then the spread)."""
    bm = _BatchModel(model)
    TH = np.stack([model.init(rng, logit_init) for _ in range(restarts)])
    if logit_mean is not None:
        for b in range(model.nb):
            off = b * (model.tw_size + model.K) + model.tw_size
            TH[:, off:off + model.K] += logit_mean[b]
    TH = _adam_halving(bm.loss_grad, TH, adam_steps, lr, halving, refine)
    f_rel, _ = bm.loss_grad(TH)
    hard = np.stack([(z > 0).astype(np.float64) for _, z in bm.unpack(TH)])  # (nb, R, K)
    TH = _adam_batch(lambda th: bm.loss_grad(th, hard), TH, adam_steps // 2, lr / 2)
    f_hard, _ = bm.loss_grad(TH, hard)
    best = None
    history = []
    tried = []
    for r in np.argsort(f_hard, kind="stable")[:refine]:
        hr = [hard[b, r] for b in range(model.nb)]
        theta_h, f_h = _lbfgs(lambda th: model.loss_grad(th, hr), TH[r], lbfgs_iters)
        rmse = float(np.sqrt(max(f_h, 0.0)))
        history.append(rmse)
        tried.append((rmse, r))
        if best is None or rmse < best[0]:
            best = (rmse, float(np.sqrt(max(f_rel[r], 0.0))), theta_h, hr)
        if rmse <= stop_rmse:
            break
    if twiddle_restarts and best[0] > stop_rmse:
        seen = set()
        for _, r in sorted(tried, key=lambda x: x[0]):
            hr = [hard[b, r] for b in range(model.nb)]
            key = tuple(tuple(model.hard_perm(h > 0.5)) for h in hr)
            if key in seen:
                continue
            seen.add(key)
            theta_h, f_h, _ = _refit_fresh(model, hr, twiddle_restarts, adam_steps, lbfgs_iters, rng, stop_rmse,
                                           refine=max(1, twiddle_restarts // 4))
            rmse = float(np.sqrt(max(f_h, 0.0)))
            history.append(rmse)
            if rmse < best[0]:
                best = (rmse, float(np.sqrt(max(f_rel[r], 0.0))), theta_h, hr)
            if rmse <= stop_rmse:
                break
    rmse, rmse_rel, theta_h, hr = best
    pars = model.unpack(theta_h)
    return LearnedFactorization(
        kind=model.kind,
        butterflies=[Butterfly(tw, increasing=not d) for (tw, _), d in zip(pars, model.decreasing)],
        perms=[model.hard_perm(h > 0.5) for h in hr],
        rmse=rmse,
        rmse_relaxed=rmse_rel,
        history=history,
        real_part=model.real_part,
    )


def _refit_fresh(model: _Model, hard, restarts: int, adam_steps: int, lbfgs_iters: int, rng, stop_rmse: float,
                 refine: int | None = None):
    """Twiddles for fixed step weights ``hard`` (one ``(K,)`` array per butterfly) from fresh random starts.

    All ``restarts`` run ``adam_steps`` Adam steps (step 0.02) together; L-BFGS then refines the ``refine`` with the smallest loss
    (default all), best first, until one reaches ``stop_rmse``.  Returns ``(theta, f, history)`` of the best
    (``f`` the loss, ``history`` the RMSE of every refined start).
    """
    TH = np.stack([model.init(rng) for _ in range(restarts)])
    h = np.stack(hard)

    def fg(th):
        return model.kernel_loss_grad(th, np.broadcast_to(h, (th.shape[0], model.nb, model.K)).copy(), parallel=True)

    TH = _adam_batch(fg, TH, adam_steps, 0.02)
    f, _ = fg(TH)
    best = None
    history = []
    for r in np.argsort(f, kind="stable")[:refine]:
        theta, fr = _lbfgs(lambda th: model.loss_grad(th, hard), TH[r], lbfgs_iters)
        history.append(float(np.sqrt(max(fr, 0.0))))
        if best is None or fr < best[1]:
            best = (theta, fr)
        if fr <= stop_rmse**2:
            break
    return best[0], best[1], history
# --------------------------------------------------------------------- level-wise B P learner


def _level_loss_grad(T: np.ndarray, q: np.ndarray, z: float):
    """Relaxed level criterion of :func:`learn_bp_levelwise` and its derivative in the logit ``z``.

    ``T`` has shape ``(c, s, s)``; the separation ``q`` (length ``s``) acts on the columns with weight
    ``p = sigmoid(z)``: ``Y = T + p (T[:, :, q] - T)``.  For every block ``c``, row ``i < s/2`` and column
    half ``hh`` the ``2 x s/2`` matrix ``[Y[c, i, hh]; Y[c, i + s/2, hh]]`` is split into its best rank-one
    part and a residual ``R``; ``f = ||R||^2 / ||Y||^2`` (0 iff the top butterfly factor fits exactly).
    By the envelope theorem ``df/dY = 2 R / ||Y||^2 - 2 f Y / ||Y||^2``.
    """
    from .exact import _leading_pair

    c, s, _ = T.shape
    h = s // 2
    p = float(_sigmoid(z))
    D = T[:, :, q] - T
    Y = T + p * D
    M = Y.reshape(c, 2, h, 2, h).transpose(0, 2, 3, 1, 4)  # (c, i, hh, r, j): the 2 x h blocks
    u, w = _leading_pair(M)
    R = M - u[..., :, None] * w[..., None, :]
    r2 = float(np.sum((R.conj() * R).real))
    S = float(np.sum((Y.conj() * Y).real))
    if S == 0.0:
        return 0.0, 0.0
    f = r2 / S
    GM = (2.0 / S) * R - (2.0 * f / S) * M
    DM = D.reshape(c, 2, h, 2, h).transpose(0, 2, 3, 1, 4)
    dfdp = float(np.sum((GM.conj() * DM).real))
    return f, dfdp * p * (1.0 - p)


def _level_split(T: np.ndarray) -> np.ndarray:
    """The ``2 c`` sub-targets ``(2c, s/2, s/2)`` of one level of the hierarchical factorization of ``T``."""
    from .exact import _leading_pair

    c, s, _ = T.shape
    h = s // 2
    M = T.reshape(c, 2, h, 2, h).transpose(0, 2, 3, 1, 4)
    _, w = _leading_pair(M)  # (c, i, hh, j)
    return np.ascontiguousarray(w.transpose(0, 2, 1, 3)).reshape(2 * c, h, h)


def learn_bp_levelwise(A, *, steps: int = 40, lr: float = 0.1, complex_twiddles: bool | None = None,
                       tol: float = 1e-12) -> LearnedFactorization:
    """Learn ``A ~ B P`` level by level: relaxed separation logits by Adam, twiddles solved exactly.

    A butterfly's top factor pairs rows ``i`` and ``i + n/2``; ``B P`` has that factor iff, for every
    such row pair and each half of the columns of ``A P^T``, the ``2 x n/2`` block is rank one.  Only the
    first level of the permutation family (block size ``n``) moves columns between halves, so this
    criterion depends on its logits alone.  For block sizes ``s = n, n/2, ..., 4`` in turn:

    1. the separation weight ``p = sigmoid(z)`` of that level (``z = 0`` at the start) is fitted by
       ``steps`` Adam steps (step ``lr``) on the relaxed criterion ``f(z)`` = squared residual of the
       best rank-one fits of all ``2 x s/2`` blocks over the squared norm (the twiddles of the level
       are projected out: the rank-one SVD is their optimum; :func:`_level_loss_grad`);
    2. ``z`` is rounded (``p > 1/2``) and the level is split by the rank-one SVDs into the ``2 n/s``
       sub-targets of size ``s/2`` on which the next level's shared logit is learned.

    The two reversal choices of every level are fixed *off*: reversing a half is an XOR of the offsets,
    which preserves butterfly support, so they cannot change whether ``A P^T`` is a butterfly (they are
    not identifiable for ``B P``; ``theory/factorization.md`` section 3), and the relaxed criterion is
    symmetric under ``p -> 1 - p`` in each of them (zero gradient at ``p = 1/2``).  Finally the twiddles
    for the learned (hard) permutation come from :func:`numerics.factorize.butterfly_factorize`, exact
    when ``A P^T`` is a butterfly, otherwise its hierarchical approximation.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64 or complex128, finite; ``n`` a power of two ``>= 2``.
    steps : int, default 40
        Adam steps per level.
    lr : float, default 0.1
        Adam step size for the logits.
    complex_twiddles : bool or None
        Default: complex iff ``A`` is complex.  A complex ``A`` with ``False`` is an error; a real ``A``
        with ``True`` is factorised as complex.
    tol : float, default 1e-12
        Passed to the exact factorization (``exact`` flag only).

    Returns
    -------
    LearnedFactorization
        ``kind="BP"``; ``history`` holds the relaxed level criterion ``f`` after the Adam steps of each
        level (top first); ``rmse_relaxed`` is ``nan`` (there is no global relaxed model).

    Raises
    ------
    TypeError, ValueError
        As :func:`learn_factorization`.
    """
    from .exact import butterfly_factorize

    A, _, cplx = _check_inputs(A, "BP", complex_twiddles)
    steps = check_int("steps", steps, minimum=1)
    lr = _check_number("lr", lr, positive=True)
    dtype = np.dtype(np.complex128 if cplx else np.float64)
    A = np.asarray(A, dtype=dtype)
    n = A.shape[0]
    T = np.ascontiguousarray(A)[None]
    logits = []
    history = []
    s = n
    while s >= 4:
        q = permutation_steps(s)[0]
        z, m, v = 0.0, 0.0, 0.0
        for t in range(1, steps + 1):
            f, g = _level_loss_grad(T, q, z)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            z -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-12)
        history.append(float(_level_loss_grad(T, q, z)[0]))
        logits += [z, -1.0, -1.0]
        if z > 0:
            T = T[:, :, q]
        T = _level_split(T)
        s //= 2
    perm = hard_permutation(np.array(logits, dtype=np.float64)) if logits else np.arange(n, dtype=np.int64)
    res = butterfly_factorize(A, perm, tol=tol)
    rmse = res.rel_error * float(np.linalg.norm(A)) / n
    return LearnedFactorization(kind="BP", butterflies=[res.butterfly], perms=[res.perm], rmse=float(rmse),
                                rmse_relaxed=float("nan"), history=history)


# ------------------------------------------------------ level-wise learner of Re(B P) / Re(B P Q)


def _rank2_loss_grad(T: np.ndarray, d: int):
    """Rank-two criterion at depth ``d`` of a real ``n x n`` matrix ``T`` and its gradient.

    If ``T = Re(B)`` for a complex butterfly ``B``, the rows ``i + k n/2^d`` (``k < 2^d``) of ``B`` restricted to
    a column block ``[beta n/2^d, (beta + 1) n/2^d)`` are multiples of one row of a depth-``d`` sub-butterfly,
    so the real ``2^d x n/2^d`` block of ``T`` has rank at most two.  ``f`` = squared singular values beyond the
    second, summed over the blocks, over ``||T||^2``; by the envelope theorem ``df/dT = 2 R / S - 2 f T / S``
    with ``R`` the residual of the best rank-two approximations.
    """
    n = T.shape[0]
    b, g = n >> d, 1 << d
    X = T.reshape(g, b, g, b).transpose(1, 2, 0, 3)  # (i, beta, k, j): row k b + i, column beta b + j
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    R = X - (U[..., :2] * s[..., None, :2]) @ Vt[..., :2, :]
    S = float(np.sum(T * T))
    f = float(np.sum(s[..., 2:] ** 2)) / S
    G = (2.0 / S) * R.transpose(2, 0, 1, 3).reshape(n, n) - (2.0 * f / S) * T
    return f, G


def _levelwise_stage(T0: np.ndarray, steps, d: int, z0: np.ndarray, adam_steps: int, lr: float):
    """Adam on the logits ``z`` of the relaxed ``steps`` acting on the columns of ``T0`` (in order), for the
    rank-two criterion at depth ``d``; returns the final logits and the criterion of their rounding."""
    z = np.array(z0, dtype=np.float64)
    m = np.zeros_like(z)
    v = np.zeros_like(z)
    for t in range(1, adam_steps + 1):
        p = _sigmoid(z)
        stages = _apply_steps(T0, steps, p)
        _, G = _rank2_loss_grad(stages[-1], d)
        _, dp = _back_steps(stages, steps, p, G)
        g = dp * p * (1.0 - p)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        z -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-12)
    f_hard = _rank2_loss_grad(_apply_steps(T0, steps, (z > 0).astype(np.float64))[-1], d)[0]
    return z, f_hard


def _check_real_levelwise(A, kind, fname: str) -> np.ndarray:
    """Input checks shared by the level-wise real-part learners (``fname`` names the caller in messages)."""
    A = _check_square(A, (np.dtype(np.float64),), 16, fname, " (the rank-two criterion is empty below; use "
                      "learn_factorization(..., real_part=True))")
    if kind not in ("BP", "BPP"):
        raise ValueError(f"kind must be 'BP' or 'BPP' for {fname}, got kind={kind!r}")
    return A


@dataclass
class LevelwisePermutation:
    """Result of :func:`levelwise_real_permutation`.

    Attributes
    ----------
    kind : str
        ``"BP"`` or ``"BPP"``.
    perm : ndarray of int64, shape (n,)
        The learned permutation (``P x = x[perm]``), every choice the criterion cannot see set off.
    on : ndarray of bool
        The hard choices over :func:`model_steps` ``(n, kind)`` (for ``"BPP"`` the three of ``Q`` first).
    identified : ndarray of bool
        Which of those choices the criterion decides: the separations of levels ``0 .. log2 n - 3``, the
        family's reversals (fixed off: a butterfly absorbs them) and, for ``"BPP"``, ``Q``'s separation; not the
        last level's separation, nor ``Q``'s two reversals.
    criteria : ndarray of float
        The rank-two criterion of the rounded choices after each stage (depth 2 first, then depths
        ``3 .. log2 n - 2``); of order ``1e-30`` when ``A = Re(B P)`` (or ``Re(B P Q)``) for the learned ``P``.
    """

    kind: str
    perm: np.ndarray
    on: np.ndarray
    identified: np.ndarray
    criteria: np.ndarray

    def blocks(self, d: int) -> set:
        """The column sets of ``A`` forming the depth-``d`` column blocks of ``A P^T`` (``2^d`` frozensets)."""
        return depth_blocks(self.perm, d)


def depth_blocks(perm, d: int) -> set:
    """The depth-``d`` column blocks of ``A P^T`` for ``P x = x[perm]``, as the set of ``2^d`` frozensets of
    columns of ``A`` (``perm[k n/2^d : (k + 1) n/2^d]``).  What the rank-two criterion identifies of ``perm``."""
    from .exact import check_permutation

    n = check_power_of_two("len(perm)", np.asarray(perm).size)
    perm = check_permutation("perm", perm, n)
    b = n >> check_int("d", d, minimum=0, maximum=n.bit_length() - 1)
    return {frozenset(perm[k * b:(k + 1) * b].tolist()) for k in range(n // b)}


def levelwise_real_permutation(A, kind: str = "BP", *, steps: int = 60, lr: float = 0.1, logit_restarts: int = 8,
                               seed=None) -> LevelwisePermutation:
    """Learn the permutation of ``A ~ Re(B P)`` (or ``Re(B P Q)``) level by level from the rank-two criterion.

    If ``A = Re(B P)``, every depth-``d`` block of ``A P^T`` (rows ``i + k n/2^d``, a column block of width
    ``n/2^d``) has rank at most two (:func:`_rank2_loss_grad`), and which columns form a depth-``d`` block depends
    only on the separation choices of the top ``d`` levels of the family (reversals only reorder a block; a
    butterfly absorbs them, so they are fixed off).  The criterion is informative for ``2 <= d <= log2 n - 2``
    (blocks of at least 3 x 3).  These are the permutation stages of :func:`learn_real_levelwise` without its
    twiddle fit, so they run at any size (each Adam step is a batch of small SVDs, ``O(n^2)`` memory; 1.5 to 2.5
    minutes at ``n = 1024`` on two cores):

    1. depth 2: the separation logits of levels 0 and 1 (block sizes ``n``, ``n/2``) and, for ``"BPP"``, the
       three logits of ``Q`` are learned jointly by Adam on the relaxed criterion (``steps`` steps, step
       ``lr``) from ``logit_restarts`` random initialisations; the best rounded one is kept;
    2. depth ``d = 3 .. log2 n - 2``: the separation logit of level ``d - 1``, the others fixed.

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64, finite, ``n`` a power of two ``>= 16``.
    kind : {"BP", "BPP"}
    steps, lr : Adam steps per stage and step size for the logits.
    logit_restarts : int
        Random initialisations (standard normal logits) of the depth-2 stage.
    seed : None, int or Generator

    Returns
    -------
    LevelwisePermutation

    Raises
    ------
    TypeError
        If ``A`` is not float64.
    ValueError
        If ``A`` is not square with a power-of-two size ``>= 16``, contains NaN or inf, or ``kind`` is not
        ``"BP"`` or ``"BPP"``.
    """
    A = _check_real_levelwise(A, kind, "levelwise_real_permutation")
    steps = check_int("steps", steps, minimum=1)
    logit_restarts = check_int("logit_restarts", logit_restarts, minimum=1)
    lr = _check_number("lr", lr, positive=True)
    rng = check_rng("seed", seed)
    n = A.shape[0]
    L = n.bit_length() - 1
    fam = permutation_steps(n)
    nq = 3 if kind == "BPP" else 0
    # depth 2: Q (BPP) and the separations of levels 0 and 1
    first = fam[:3][:nq] + [fam[0], fam[3]]
    best = None
    for _ in range(logit_restarts):
        z, f = _levelwise_stage(A, first, 2, rng.standard_normal(len(first)), steps, lr)
        if best is None or f < best[1]:
            best = (z, f)
    on = list(best[0] > 0)
    history = [best[1]]
    # the hard choices so far, as "on" flags over model_steps(n, kind) (Q first, then the family)
    flags = np.zeros(nq + len(fam), dtype=bool)
    flags[:nq] = on[:nq]
    flags[nq + 0], flags[nq + 3] = on[nq], on[nq + 1]
    msteps = model_steps(n, kind)
    for d in range(3, L - 1):
        T = A[:, _compose_steps(msteps, flags, n)]
        z, f = _levelwise_stage(T, [fam[3 * (d - 1)]], d, 0.1 * rng.standard_normal(1), steps, lr)
        flags[nq + 3 * (d - 1)] = z[0] > 0
        history.append(f)
    identified = np.ones(nq + len(fam), dtype=bool)
    identified[1:nq] = False
    identified[nq + 3 * (L - 2)] = False
    return LevelwisePermutation(kind=kind, perm=_compose_steps(msteps, flags, n), on=flags, identified=identified,
                                criteria=np.array(history))


def learn_real_levelwise(A, kind: str = "BP", *, steps: int = 60, lr: float = 0.1, logit_restarts: int = 8,
                         finish: str = "exact", restarts: int = 256, adam_steps: int = 1200, halving: int = 4,
                         lbfgs_iters: int = 3000, twiddle_restarts: int = 8, logit_scale: float = 3.0,
                         logit_spread: float = 0.3, seed=None, stop_rmse: float = 1e-10) -> LearnedFactorization:
    """Learn ``A ~ Re(B P)`` (``kind="BP"``) or ``Re(B P Q)`` (``"BPP"``) level by level, then the twiddles.

    The real-part analogue of :func:`learn_bp_levelwise`:

    1. and 2. the permutation stages of :func:`levelwise_real_permutation` (a rank-two criterion per depth learns
       the separation choices level by level);
    3. ``finish="exact"`` (default): for every setting of the choices the criterion cannot see (the last level's
       separation and, for ``"BPP"``, the two reversals of ``Q``: 2 or 8 permutations) the twiddles are solved
       exactly by :func:`solve_real_twiddles` (no learning rate, as the exact factorization does for
       :func:`learn_bp_levelwise`), and the best is kept: under a second per permutation at ``N = 1024``, so the
       permutation stages dominate.  ``finish="joint"``: the joint learner (:func:`learn_factorization` with
       ``vectorize=True, real_part=True``: ``restarts`` restarts, successive halving in ``halving`` rounds over
       ``adam_steps`` Adam steps, rounding, twiddle refits, ``twiddle_restarts`` fresh twiddle starts) finishes from
       these logits: every identified choice starts at ``+-logit_scale`` (the family's reversals at
       ``-logit_scale``), the rest at 0 (the last level's separation, which the criterion cannot see, and for
       ``"BPP"`` the reversals of ``Q``: measured, both "separate, reverse one half" forms of ``Q`` reach
       criterion 0 and only one fits), all plus ``N(0, logit_spread^2)`` noise.  That finish recovers the
       transforms up to ``N = 128`` and fails at 256 (the twiddle fit has local minima; ``theory/factorization.md``
       section 6).

    The reversal choices of the family are fixed off (they reorder columns within a block; a butterfly absorbs
    them, as for :func:`learn_bp_levelwise`).

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64, finite, ``n`` a power of two ``>= 16``.
    kind : {"BP", "BPP"}
    steps, lr, logit_restarts :
        The permutation stages, as in :func:`levelwise_real_permutation`.
    finish : {"exact", "joint"}
        How step 3 gets the twiddles and the unseen choices.
    restarts, adam_steps, halving, lbfgs_iters, twiddle_restarts : int
        The joint learner of step 3 (as in :func:`learn_factorization`; ``finish="joint"`` only).
    logit_scale, logit_spread : float
        Initial logits of step 3: ``+-logit_scale`` for the identified choices, noise of std ``logit_spread``.
    seed : None, int or Generator
    stop_rmse : float
        A twiddle fit stops its L-BFGS candidates once one reaches it.

    Returns
    -------
    LearnedFactorization
        ``real_part=True``, one butterfly and the composed permutation (``P Q`` for ``"BPP"``); ``history``
        holds the rounded criterion after each stage (depth 2 first), then the RMSE of every exact completion
        (``"exact"``) or the joint learner's refit RMSEs (``"joint"``, whose ``rmse_relaxed`` is the joint learner's;
        ``nan`` for ``"exact"``).

    Raises
    ------
    TypeError
        If ``A`` is not float64 (the real part is fitted to a real target).
    ValueError
        If ``A`` is not square with a power-of-two size ``>= 16``, contains NaN or inf, ``kind`` is not
        ``"BP"`` or ``"BPP"``, or ``finish`` is not ``"exact"`` or ``"joint"``.
    """
    A = _check_real_levelwise(A, kind, "learn_real_levelwise")
    if finish not in ("exact", "joint"):
        raise ValueError(f"finish must be 'exact' or 'joint', got finish={finish!r}")
    twiddle_restarts = check_int("twiddle_restarts", twiddle_restarts, minimum=0)
    restarts = check_int("restarts", restarts, minimum=1)
    halving = check_int("halving", halving, minimum=1)
    adam_steps = check_int("adam_steps", adam_steps, minimum=0)
    logit_scale = _check_number("logit_scale", logit_scale)
    logit_spread = _check_number("logit_spread", logit_spread)
    lbfgs_iters = check_int("lbfgs_iters", lbfgs_iters, minimum=0)
    rng = check_rng("seed", seed)
    lp = levelwise_real_permutation(A, kind, steps=steps, lr=lr, logit_restarts=logit_restarts, seed=rng)
    flags, known, history = lp.on, lp.identified, list(lp.criteria)
    if finish == "exact":
        from itertools import product

        from .realpart import solve_real_twiddles

        n = A.shape[0]
        msteps = model_steps(n, kind)
        unseen = np.flatnonzero(~known)
        best = None
        for bits in product((False, True), repeat=unseen.size):
            on = flags.copy()
            on[unseen] = bits
            fit = solve_real_twiddles(A, _compose_steps(msteps, on, n), seed=rng)
            history.append(fit.rmse)
            if best is None or fit.rmse < best.rmse:
                best = fit
        best.history, best.kind = history, kind
        return best
    # The joint learner finishes from these logits: the identified choices (and the family's reversals, fixed off:
    # a butterfly absorbs them) start at +-logit_scale, the others at 0 (the last level's separation and, for BPP,
    # the two reversals of Q: measured, both "separate, reverse one half" forms of Q reach criterion 0 and only one
    # fits), so that they and the twiddles are learned together (successive halving over the restarts).
    mean = np.where(known, np.where(flags, logit_scale, -logit_scale), 0.0)
    model = _Model(A, kind, True, real_part=True)
    res = _learn_vectorized(model, restarts, adam_steps, 0.02, lbfgs_iters, rng, stop_rmse, refine=8,
                            twiddle_restarts=twiddle_restarts, logit_init=logit_spread, halving=halving,
                            logit_mean=mean[None])
    res.history = history + res.history
    return res


# ------------------------------------------------- twiddles of Re(B P) by variable projection


def _top_projection(T: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """``tw`` with its top factor (stride ``n/2``) replaced by the least-squares optimum of ``||Re(F_top R) - T||``.

    ``R`` is the product of the lower factors (``tw[:-1]``).  Row ``q`` of ``F_top R`` is ``t00 R_q + t01 R_{q+n/2}``
    and row ``q + n/2`` is ``t10 R_q + t11 R_{q+n/2}``; their real parts are linear in
    ``(Re t, Im t)``, so each row pair is a least-squares problem with the ``n x 4`` design
    ``[Re R_q, -Im R_q, Re R_{q+n/2}, -Im R_{q+n/2}]`` and two right-hand sides (minimum-norm solution).
    """
    L, h = tw.shape[0], tw.shape[1]
    tw = tw.copy()
    tw[L - 1] = np.eye(2)
    R = Butterfly(tw).todense()
    D = np.stack([R[:h].real, -R[:h].imag, R[h:].real, -R[h:].imag], axis=-1)  # (h, n, 4)
    rhs = np.stack([T[:h], T[h:]], axis=-1)  # (h, n, 2)
    x = np.linalg.pinv(D) @ rhs  # (h, 4, 2)
    tw[L - 1, :, :, 0] = x[:, 0] + 1j * x[:, 1]  # (h, 2): rows r = 0, 1 of the block, column 0
    tw[L - 1, :, :, 1] = x[:, 2] + 1j * x[:, 3]
    return tw


def fit_real_twiddles(A, perm, *, starts: int = 16, maxiter: int = 1500, seed=None,
                      stop_rmse: float = 1e-10) -> LearnedFactorization:
    """Complex twiddles of ``A ~ Re(B P)`` for a given permutation, by variable projection.

    The top factor of ``B = F_top R`` enters ``Re(B)`` linearly, so for given lower factors ``R`` its optimum is a
    set of ``n/2`` independent least-squares problems with 4 real unknowns (:func:`_top_projection`).  L-BFGS
    minimises ``f(R) = min_top mean (Re(F_top R) - A P^T)^2`` over the lower twiddles only; by the envelope theorem
    its gradient is the ordinary gradient taken at the projected top factor.  Each start is a random complex
    butterfly (:meth:`Butterfly.random`); starts run one after the other until one reaches ``stop_rmse``.

    Projecting the top factor out makes the fit much more reliable than fitting all twiddles (measured with the
    right permutation: DCT-II_32 exact from 3 of 6 random starts against 0 of 6 for L-BFGS on all twiddles;
    Hartley_128 from 3 of 16), but it does not remove the local minima (DCT-II_128: 1 of 48;
    ``theory/factorization.md`` section 6).

    Parameters
    ----------
    A : ndarray, shape (n, n)
        float64, finite; ``n`` a power of two ``>= 4``.
    perm : array of int, shape (n,)
        A permutation of ``range(n)``: ``P x = x[perm]`` (e.g. :func:`known_permutation` or
        :attr:`LevelwisePermutation.perm`).
    starts : int, default 16
        Random starts.
    maxiter : int, default 1500
        L-BFGS iterations per start.
    seed : None, int or Generator
    stop_rmse : float, default 1e-10
        Stop at the first start whose RMSE is at most this.

    Returns
    -------
    LearnedFactorization
        ``kind="BP"``, ``real_part=True``, ``perms=[perm]``; ``history`` holds the RMSE of every start run;
        ``rmse_relaxed`` is ``nan`` (nothing is relaxed).

    Raises
    ------
    TypeError
        If ``A`` is not float64 or ``perm`` is not an integer array.
    ValueError
        If ``A`` is not square with a power-of-two size ``>= 4`` or contains NaN or inf, or ``perm`` is not a
        permutation of ``range(n)``.
    """
    from .exact import check_permutation

    A = _check_square(A, (np.dtype(np.float64),), 4, "fit_real_twiddles")
    n = A.shape[0]
    perm = check_permutation("perm", perm, n)
    starts = check_int("starts", starts, minimum=1)
    maxiter = check_int("maxiter", maxiter, minimum=1)
    stop_rmse = _check_number("stop_rmse", stop_rmse)
    rng = check_rng("seed", seed)
    T = np.ascontiguousarray(A[:, perm])
    L, h = n.bit_length() - 1, n // 2
    model = _Model(T, "BP", True, steps=[], real_part=True)
    nlow = (L - 1) * h * 4

    def full(x):
        tw = np.empty((L, h, 2, 2), dtype=np.complex128)
        tw[: L - 1] = x.view(np.complex128).reshape(L - 1, h, 2, 2)
        return _top_projection(T, tw)

    def fg(x):
        f, g = model.loss_grad(full(x).view(np.float64).ravel(), hard=[np.zeros(0)])
        return f, g[: 2 * nlow]

    best, history = None, []
    for _ in range(starts):
        x0 = np.ascontiguousarray(Butterfly.random(n, seed=rng, dtype=np.complex128).twiddles[: L - 1]).view(np.float64)
        x, f = _lbfgs(fg, x0.ravel().copy(), maxiter)
        rmse = float(np.sqrt(max(f, 0.0)))
        history.append(rmse)
        if best is None or rmse < best[0]:
            best = (rmse, full(x))
        if rmse <= stop_rmse:
            break
    return LearnedFactorization(kind="BP", butterflies=[Butterfly(best[1])], perms=[perm], rmse=best[0],
                                rmse_relaxed=float("nan"), history=history, real_part=True)
