"""Layers with hand-written backward passes: Dense, ReLU, ButterflyLayer, ButterflyReplacement.

Every layer follows one small protocol (see :class:`Layer`):

* ``forward(X, *, train=True) -> Y`` for a batch of row vectors ``X`` of shape
  ``(batch, in_features)``; with ``train=True`` it keeps (references to) what
  the backward pass needs, with ``train=False`` it keeps nothing.
* ``backward(grad_out, *, need_grad_in=True) -> grad_in``: given ``dL/dY`` of the
  last training forward, *overwrites* ``grads[name]`` with ``dL/dparams[name]``
  (summed over the batch) and returns ``dL/dX`` (or ``None`` if not needed).
* ``params`` / ``grads``: dicts of arrays allocated once at construction.
  Optimizers update ``params`` in place and layers fill ``grads`` in place, so a
  model can hold references to both.

Products use BLAS (``numpy.matmul``) for dense parts and
:func:`numerics.butterfly.functional.butterfly_forward` /
:func:`~numerics.butterfly.functional.butterfly_backward` for butterflies.
Inputs are never cast: every array must have the layer's dtype.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from numerics._validation import check_int, check_rng, is_power_of_two

__all__ = ["Layer", "Dense", "ReLU", "ButterflyLayer", "ButterflyReplacement", "DTYPES", "DEFAULT_DTYPE"]

#: Dtypes a layer may have.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: Default dtype of every layer (float64, as everywhere else in :mod:`numerics`;
#: pass ``dtype=np.float32`` for roughly twice the training speed).
DEFAULT_DTYPE = np.dtype(np.float64)


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r}") from exc
    if dt not in DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r} ({dt})")
    return dt


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {name}={value!r}")
    return bool(value)


def _check_choice(name: str, value, choices: tuple) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {name}={value!r}")
    return value


def _check_positive_real(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a positive real number, got {name}={value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite positive number, got {name}={value!r}")
    return value


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _butterfly_size(cls: str, n_in: int, n_out: int, pad: bool, *, square: bool) -> tuple[int, int]:
    """Butterfly sizes ``(N_in, N_out)`` for a layer ``n_in -> n_out``; raise unless allowed.

    ``square``: one ``N x N`` butterfly (``N_in == N_out``); otherwise each side on its own.
    """
    if square:
        if not pad:
            for name, v in (("n_in", n_in), ("n_out", n_out)):
                if not is_power_of_two(v) or v < 2:
                    raise ValueError(
                        f"{cls}: {name}={v} is not a power of two >= 2, which a butterfly needs; "
                        f"pass pad=True to zero-pad the input to n={max(2, _next_pow2(max(n_in, n_out)))} "
                        f"and keep the first n_out={n_out} outputs"
                    )
            if n_in != n_out:
                raise ValueError(
                    f"{cls}: n_in={n_in} != n_out={n_out}, but a butterfly is square; pass pad=True to "
                    f"zero-pad the input to n={max(2, _next_pow2(max(n_in, n_out)))} and keep the first "
                    f"n_out={n_out} outputs"
                )
            return n_in, n_out
        N = max(2, _next_pow2(max(n_in, n_out)))
        return N, N
    sizes = []
    for name, v in (("n_in", n_in), ("n_out", n_out)):
        if pad:
            sizes.append(max(2, _next_pow2(v)))
        elif not is_power_of_two(v) or v < 2:
            raise ValueError(
                f"{cls}: {name}={v} is not a power of two >= 2, which a butterfly needs; pass pad=True "
                f"to zero-pad to {max(2, _next_pow2(v))} (inputs padded with zeros, first n_out outputs kept)"
            )
        else:
            sizes.append(v)
    return sizes[0], sizes[1]


class Layer:
    """Base class of the layers: the protocol shared by all of them.

    Attributes
    ----------
    params : dict[str, ndarray]
        Trainable arrays, updated in place by optimizers.
    grads : dict[str, ndarray]
        Same keys and shapes; overwritten by :meth:`backward`.
    in_features, out_features : int or None
        Row sizes of input and output (``None`` for size-preserving layers such as :class:`ReLU`).
    dtype : numpy.dtype or None
        Dtype of parameters, inputs and outputs (``None`` for dtype-agnostic layers).
    """

    params: dict
    grads: dict
    in_features: int | None = None
    out_features: int | None = None
    dtype: np.dtype | None = None

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._cache = None

    @property
    def n_params(self) -> int:
        """Number of stored trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    @property
    def n_weights_used(self) -> int:
        """Trainable scalars that can influence the output (``n_params`` unless a layer says otherwise)."""
        return self.n_params

    def _add_param(self, name: str, value: np.ndarray) -> None:
        arr = np.array(value, dtype=self.dtype, order="C", copy=True)
        self.params[name] = arr
        self.grads[name] = np.zeros_like(arr)

    def _check_input(self, X) -> np.ndarray:
        if not isinstance(X, np.ndarray):
            raise TypeError(f"{type(self).__name__}: X must be a numpy array, got {type(X).__name__}")
        if X.ndim != 2:
            raise ValueError(f"{type(self).__name__}: X must be 2-D (batch, features), got shape {X.shape}")
        if self.in_features is not None and X.shape[1] != self.in_features:
            raise ValueError(
                f"{type(self).__name__}: X has shape {X.shape}; expected {self.in_features} columns (in_features)"
            )
        if self.dtype is not None and X.dtype != self.dtype:
            raise TypeError(
                f"{type(self).__name__}: X has dtype {X.dtype} but the layer has dtype {self.dtype}; "
                f"convert explicitly (X.astype(np.{self.dtype})) if that is what you want"
            )
        return X

    def _check_grad_out(self, grad_out, batch: int, width: int) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called without a preceding forward(X, train=True)")
        if not isinstance(grad_out, np.ndarray) or grad_out.shape != (batch, width):
            shape = getattr(grad_out, "shape", type(grad_out).__name__)
            raise ValueError(
                f"{type(self).__name__}: grad_out has shape {shape}; expected {(batch, width)} "
                f"(the shape of the last forward output)"
            )
        if self.dtype is not None and grad_out.dtype != self.dtype:
            raise TypeError(f"{type(self).__name__}: grad_out has dtype {grad_out.dtype}; expected {self.dtype}")
        return grad_out

    def forward(self, X, *, train: bool = True) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def backward(self, grad_out, *, need_grad_in: bool = True):  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self, X, *, train: bool = False) -> np.ndarray:
        return self.forward(X, train=train)


class Dense(Layer):
    """Fully connected layer ``Y = X W^T + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output sizes (``>= 1``).
    bias : bool, default True
    init : {"he", "glorot"}, default "he"
        ``W`` i.i.d. normal with variance ``2 / n_in`` (He; keeps the second
        moment of activations through ReLU layers) or ``2 / (n_in + n_out)``
        (Glorot).  The bias starts at zero.
    seed : None, int, SeedSequence or Generator
    dtype : float32 or float64, default float64

    Attributes
    ----------
    params : {"weight": (n_out, n_in), "bias": (n_out,)}
    """

    def __init__(self, n_in, n_out, *, bias: bool = True, init: str = "he", seed=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.in_features = check_int("n_in", n_in, minimum=1)
        self.out_features = check_int("n_out", n_out, minimum=1)
        self.bias = _check_bool("bias", bias)
        self.init = _check_choice("init", init, ("he", "glorot"))
        self.dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        var = 2.0 / self.in_features if init == "he" else 2.0 / (self.in_features + self.out_features)
        W = rng.standard_normal((self.out_features, self.in_features)) * math.sqrt(var)
        self._add_param("weight", W)
        if self.bias:
            self._add_param("bias", np.zeros(self.out_features))

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features}, bias={self.bias}, dtype={self.dtype})"

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        X = self._check_input(X)
        Y = X @ self.params["weight"].T
        if self.bias:
            Y += self.params["bias"]
        self._cache = X if train else None
        return Y

    def backward(self, grad_out, *, need_grad_in: bool = True):
        X = self._cache
        G = self._check_grad_out(grad_out, X.shape[0] if X is not None else 0, self.out_features)
        np.matmul(G.T, X, out=self.grads["weight"])
        if self.bias:
            np.sum(G, axis=0, out=self.grads["bias"])
        return G @ self.params["weight"] if need_grad_in else None


class ReLU(Layer):
    """Elementwise ``max(x, 0)``; its derivative at 0 is taken as 0.  No parameters, any width and dtype."""

    def __repr__(self) -> str:
        return "ReLU()"

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        X = self._check_input(X)
        if X.dtype not in DTYPES:
            raise TypeError(f"ReLU: X has dtype {X.dtype}; expected float32 or float64")
        Y = np.maximum(X, 0)
        self._cache = (Y > 0) if train else None
        return Y

    def backward(self, grad_out, *, need_grad_in: bool = True):
        mask = self._cache
        G = self._check_grad_out(grad_out, *(mask.shape if mask is not None else (0, 0)))
        return G * mask if need_grad_in else None


def _butterfly_funcs():
    from numerics.butterfly.functional import butterfly_backward, butterfly_forward

    return butterfly_forward, butterfly_backward


class ButterflyLayer(Layer):
    """A full ``n x n`` butterfly ``B`` with trainable twiddles, plus a bias: ``Y = X B^T + b``.

    Parameters
    ----------
    n_in, n_out : int
        Without ``pad`` both must equal the same power of two ``n >= 2``.
        With ``pad=True`` the layer uses ``n = max(2, next power of two >= max(n_in, n_out))``:
        the input rows are zero-padded from ``n_in`` to ``n`` columns and the first
        ``n_out`` outputs of ``B`` are kept, ``Y = ([X, 0] B^T)[:, :n_out] + b``.
        Nothing is padded unless asked for.
    init : {"random", "orthogonal", "fjlt", "identity", "hadamard"}, default "random"
        The :class:`~numerics.butterfly.Butterfly` constructor used for the twiddles
        (``random``: i.i.d. ``N(0, 1/2)`` entries, ``E||Bx||^2 = ||x||^2``;
        ``orthogonal``: random rotations/reflections; ``fjlt``: ``H D / sqrt n``;
        ``hadamard``: ``H / sqrt n``).  All of them preserve the norm of the input
        (exactly or in expectation): this layer has gain 1 and does not compensate
        for the halving of the second moment by a following ReLU; use ``gain``.
    increasing : bool, default True
        Stride order of the factors (see :class:`~numerics.butterfly.Butterfly`).
    bias : bool, default True
        The bias starts at zero.
    pad : bool, default False
    gain : float, default 1.0
        The twiddles of the first applied factor are multiplied by ``gain``, so
        ``B = gain * B_init`` (e.g. ``gain=sqrt(2)`` for a He-like scale before a ReLU).
    seed : None, int, SeedSequence or Generator
    dtype : float32 or float64, default float64

    Attributes
    ----------
    n : int
        Butterfly size.
    params : {"twiddles": (log2 n, n/2, 2, 2), "bias": (n_out,)}
    """

    INITS = ("random", "orthogonal", "fjlt", "identity", "hadamard")

    def __init__(
        self, n_in, n_out, *, init: str = "random", increasing: bool = True, bias: bool = True,
        pad: bool = False, gain: float = 1.0, seed=None, dtype=DEFAULT_DTYPE,
    ):
        from numerics.butterfly import Butterfly

        super().__init__()
        self.in_features = check_int("n_in", n_in, minimum=1)
        self.out_features = check_int("n_out", n_out, minimum=1)
        self.pad = _check_bool("pad", pad)
        self.n, _ = _butterfly_size("ButterflyLayer", self.in_features, self.out_features, self.pad, square=True)
        self.init = _check_choice("init", init, self.INITS)
        self.increasing = _check_bool("increasing", increasing)
        self.bias = _check_bool("bias", bias)
        self.gain = _check_positive_real("gain", gain)
        self.dtype = _check_dtype(dtype)
        kw = dict(dtype=np.float64, increasing=self.increasing)
        if init == "random":
            B = Butterfly.random(self.n, seed=seed, **kw)
        elif init == "orthogonal":
            B = Butterfly.random_orthogonal(self.n, seed=seed, **kw)
        elif init == "fjlt":
            B = Butterfly.fjlt(self.n, seed=seed, **kw)
        elif init == "identity":
            B = Butterfly.identity(self.n, **kw)
        else:
            B = Butterfly.hadamard(self.n, **kw)
        tw = np.array(B.twiddles)
        tw[0 if self.increasing else -1] *= self.gain
        self._add_param("twiddles", tw)
        if self.bias:
            self._add_param("bias", np.zeros(self.out_features))

    def __repr__(self) -> str:
        return (
            f"ButterflyLayer({self.in_features}, {self.out_features}, n={self.n}, init={self.init!r}, "
            f"pad={self.pad}, dtype={self.dtype})"
        )

    def butterfly(self):
        """The current ``n x n`` :class:`~numerics.butterfly.Butterfly` (a copy of the twiddles)."""
        from numerics.butterfly import Butterfly

        return Butterfly(self.params["twiddles"], increasing=self.increasing)

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        fwd, _ = _butterfly_funcs()
        X = self._check_input(X)
        if self.in_features == self.n:
            Xp = np.ascontiguousarray(X)
        else:
            Xp = np.zeros((X.shape[0], self.n), dtype=self.dtype)
            Xp[:, : self.in_features] = X
        Y = fwd(Xp, self.params["twiddles"], increasing=self.increasing)
        if self.out_features != self.n:
            Y = Y[:, : self.out_features]
        if self.bias:
            Y += self.params["bias"]
        self._cache = Xp if train else None
        return Y

    def backward(self, grad_out, *, need_grad_in: bool = True):
        _, bwd = _butterfly_funcs()
        Xp = self._cache
        G = self._check_grad_out(grad_out, Xp.shape[0] if Xp is not None else 0, self.out_features)
        if self.out_features == self.n:
            Gp = np.ascontiguousarray(G)
        else:
            Gp = np.zeros((G.shape[0], self.n), dtype=self.dtype)
            Gp[:, : self.out_features] = G
        gX, gtw = bwd(Xp, self.params["twiddles"], Gp, increasing=self.increasing)
        self.grads["twiddles"][...] = gtw
        if self.bias:
            np.sum(G, axis=0, out=self.grads["bias"])
        if not need_grad_in:
            return None
        return gX if self.in_features == self.n else gX[:, : self.in_features]


def default_l(n) -> int:
    """Default number ``l`` of kept outputs of a truncated butterfly of size ``n`` (a power of two).

    ``l = min(n, 2 ** (ceil(log2(n) / 2) + 1))``, i.e. about ``2 sqrt(n)``
    rounded up to a power of two: 64 for ``n = 1024``, 128 for ``n = 4096``,
    16 for ``n = 64``.  (The paper takes ``l`` of order ``k log k``; ``2 sqrt n``
    keeps the dense core ``l x l`` at ``O(n)`` weights, the same order as the butterflies.)
    """
    n = check_int("n", n, minimum=1)
    p = max(0, (n - 1).bit_length())
    return int(min(1 << p, 1 << ((p + 1) // 2 + 1)))


class ButterflyReplacement(Layer):
    """The paper's replacement of a dense layer: ``y = J2^T W' J1 x + b`` (Ailon et al. 2021).

    * ``J1 = S1 B1`` (``l_in x n_in``): a butterfly ``B1`` of size ``n_in`` followed by
      keeping a fixed random sorted subset ``keep_in`` of ``l_in`` outputs;
    * ``W'`` (``l_out x l_in``): a small dense core;
    * ``J2 = S2 B2`` (``l_out x n_out``), applied transposed: ``J2^T h = B2^T S2^T h``
      (scatter ``h`` into the kept outputs ``keep_out`` of an ``n_out`` vector, then ``B2^T``).

    The twiddles of ``B1`` and ``B2``, the core and the bias are trainable; the
    kept subsets are fixed.

    Parameters
    ----------
    n_in, n_out : int
        Powers of two ``>= 2`` unless ``pad=True``, in which case each is padded on
        its own to ``N = max(2, next power of two)``: the input is zero-padded to
        ``N_in`` columns and the first ``n_out`` of the ``N_out`` outputs are kept.
    l_in, l_out : int, optional
        Kept outputs of ``J1`` and ``J2``, ``1 <= l <= N``.  Default
        :func:`default_l` of the (padded) size, e.g. 64 for 1024.
    init : {"he", "glorot"}, default "he"
        Scale of the core; see Notes.
    increasing : bool, default True
        Stride order of ``B1`` and ``B2``.
    bias : bool, default True
        Starts at zero.
    pad : bool, default False
    seed : None, int, SeedSequence or Generator
        Draws, in this order, ``keep_in`` and ``B1``, ``keep_out`` and ``B2``, then the core.
    dtype : float32 or float64, default float64

    Attributes
    ----------
    n_in_padded, n_out_padded : int
        Butterfly sizes ``N_in``, ``N_out``.
    keep_in, keep_out : ndarray of int64
        Kept outputs of ``J1`` and ``J2`` (read-only).
    params : {"twiddles_in": (log2 N_in, N_in/2, 2, 2), "core": (l_out, l_in),
              "twiddles_out": (log2 N_out, N_out/2, 2, 2), "bias": (n_out,)}
        ``twiddles_out`` are those of ``B2`` itself (so ``J2 = B2[keep_out]``).
    n_params : int
        Stored weights: ``2 N_in log2 N_in + l_in l_out + 2 N_out log2 N_out (+ n_out)``.
    n_weights_used : int
        Weights that influence the output: twiddles reaching a kept output of
        ``J1`` or ``J2`` (:attr:`TruncatedButterfly.weights_used_mask`), plus the core and bias.

    Notes
    -----
    Initialisation.  ``B1`` and ``B2`` start as FJLT rotations ``H D / sqrt N``
    (orthogonal, entries ``+-1/sqrt N``), so each kept coordinate of ``J1 x`` has
    mean square ``||x||^2 / N_in`` and ``||J2^T h|| = ||h||`` spreads evenly over
    the ``N_out`` outputs.  The core is i.i.d. normal with variance
    ``gain^2 N_in N_out / (n_in l_in l_out)``, which makes the mean square of an
    output coordinate ``gain^2`` times that of an input coordinate in expectation,
    the same as a :class:`Dense` layer of the same shape: ``gain^2 = 2`` for
    ``init="he"``, ``2 n_in / (n_in + n_out)`` for ``"glorot"``.
    (Equivalently: the paper's scaled FJLTs ``sqrt(N/l) S H D / sqrt N`` around a
    core of variance ``gain^2 / n_in`` when unpadded.)
    """

    def __init__(
        self, n_in, n_out, *, l_in=None, l_out=None, init: str = "he", increasing: bool = True,
        bias: bool = True, pad: bool = False, seed=None, dtype=DEFAULT_DTYPE,
    ):
        from numerics.butterfly import TruncatedButterfly

        super().__init__()
        self.in_features = check_int("n_in", n_in, minimum=1)
        self.out_features = check_int("n_out", n_out, minimum=1)
        self.pad = _check_bool("pad", pad)
        N_in, N_out = _butterfly_size("ButterflyReplacement", self.in_features, self.out_features, self.pad, square=False)
        self.n_in_padded, self.n_out_padded = N_in, N_out
        self.l_in = default_l(N_in) if l_in is None else check_int("l_in", l_in, minimum=1)
        self.l_out = default_l(N_out) if l_out is None else check_int("l_out", l_out, minimum=1)
        for name, l, N, n in (("l_in", self.l_in, N_in, self.in_features), ("l_out", self.l_out, N_out, self.out_features)):
            if l > N:
                side = name[2:]
                detail = f"n_{side}={n}" if N == n else f"n_{side}={n} padded to {N}"
                raise ValueError(
                    f"ButterflyReplacement: {name}={l} > {detail}; a truncated butterfly keeps at most "
                    f"as many outputs as it has (expected 1 <= {name} <= {N})"
                )
        self.init = _check_choice("init", init, ("he", "glorot"))
        self.increasing = _check_bool("increasing", increasing)
        self.bias = _check_bool("bias", bias)
        self.dtype = _check_dtype(dtype)
        rng = check_rng("seed", seed)
        T1 = TruncatedButterfly.random(N_in, self.l_in, seed=rng, kind="fjlt", dtype=np.float64, increasing=self.increasing)
        T2 = TruncatedButterfly.random(N_out, self.l_out, seed=rng, kind="fjlt", dtype=np.float64, increasing=self.increasing)
        self.keep_in, self.keep_out = T1.keep, T2.keep
        self._mask_in, self._mask_out = T1.weights_used_mask, T2.weights_used_mask
        n_i, n_o = self.in_features, self.out_features
        gain2 = 2.0 if init == "he" else 2.0 * n_i / (n_i + n_o)
        var = gain2 * N_in * N_out / (n_i * self.l_in * self.l_out)
        core = rng.standard_normal((self.l_out, self.l_in)) * math.sqrt(var)
        self._add_param("twiddles_in", T1.butterfly.twiddles)
        self._add_param("core", core)
        self._add_param("twiddles_out", T2.butterfly.twiddles)
        if self.bias:
            self._add_param("bias", np.zeros(n_o))

    def __repr__(self) -> str:
        return (
            f"ButterflyReplacement({self.in_features}, {self.out_features}, l_in={self.l_in}, "
            f"l_out={self.l_out}, pad={self.pad}, dtype={self.dtype})"
        )

    @property
    def n_weights_used(self) -> int:
        """Twiddles reaching a kept output of ``J1`` or ``J2``, plus the core and the bias."""
        n = int(np.count_nonzero(self._mask_in)) + int(np.count_nonzero(self._mask_out))
        n += self.params["core"].size
        if self.bias:
            n += self.params["bias"].size
        return n

    def J1(self):
        """``J1`` with the current twiddles, as a :class:`~numerics.butterfly.TruncatedButterfly` (``l_in x N_in``)."""
        from numerics.butterfly import Butterfly, TruncatedButterfly

        return TruncatedButterfly(Butterfly(self.params["twiddles_in"], increasing=self.increasing), self.keep_in)

    def J2(self):
        """``J2`` with the current twiddles, as a :class:`~numerics.butterfly.TruncatedButterfly` (``l_out x N_out``)."""
        from numerics.butterfly import Butterfly, TruncatedButterfly

        return TruncatedButterfly(Butterfly(self.params["twiddles_out"], increasing=self.increasing), self.keep_out)

    def todense(self) -> np.ndarray:
        """The ``n_out x n_in`` matrix of the linear part, ``(J2^T W' J1)[:n_out, :n_in]`` (float64, for tests)."""
        from numerics.butterfly import Butterfly

        p = {k: v.astype(np.float64) for k, v in self.params.items()}
        J1 = Butterfly(p["twiddles_in"], increasing=self.increasing).todense()[self.keep_in]
        J2 = Butterfly(p["twiddles_out"], increasing=self.increasing).todense()[self.keep_out]
        M = J2.T @ p["core"] @ J1
        return M[: self.out_features, : self.in_features]

    def _tw_out_T(self) -> np.ndarray:
        # B2^T is the butterfly with transposed blocks applied in the reverse stride order.
        return np.ascontiguousarray(np.swapaxes(self.params["twiddles_out"], -1, -2))

    def forward(self, X, *, train: bool = True) -> np.ndarray:
        fwd, _ = _butterfly_funcs()
        X = self._check_input(X)
        batch, N_in, N_out = X.shape[0], self.n_in_padded, self.n_out_padded
        if self.in_features == N_in:
            Xp = np.ascontiguousarray(X)
        else:
            Xp = np.zeros((batch, N_in), dtype=self.dtype)
            Xp[:, : self.in_features] = X
        H1 = fwd(Xp, self.params["twiddles_in"], increasing=self.increasing)[:, self.keep_in]  # (batch, l_in)
        H2 = H1 @ self.params["core"].T  # (batch, l_out)
        Z2 = np.zeros((batch, N_out), dtype=self.dtype)
        Z2[:, self.keep_out] = H2
        twT = self._tw_out_T()
        Y = fwd(Z2, twT, increasing=not self.increasing)
        if self.out_features != N_out:
            Y = Y[:, : self.out_features]
        if self.bias:
            Y += self.params["bias"]
        self._cache = (Xp, H1, Z2, twT) if train else None
        return Y

    def backward(self, grad_out, *, need_grad_in: bool = True):
        _, bwd = _butterfly_funcs()
        cache = self._cache
        batch = cache[0].shape[0] if cache is not None else 0
        G = self._check_grad_out(grad_out, batch, self.out_features)
        Xp, H1, Z2, twT = cache
        N_in, N_out = self.n_in_padded, self.n_out_padded
        if self.out_features == N_out:
            Gp = np.ascontiguousarray(G)
        else:
            Gp = np.zeros((batch, N_out), dtype=self.dtype)
            Gp[:, : self.out_features] = G
        gZ2, gtwT = bwd(Z2, twT, Gp, increasing=not self.increasing)
        self.grads["twiddles_out"][...] = np.swapaxes(gtwT, -1, -2)
        gH2 = gZ2[:, self.keep_out]  # (batch, l_out)
        np.matmul(gH2.T, H1, out=self.grads["core"])
        gH1 = gH2 @ self.params["core"]  # (batch, l_in)
        gZ1 = np.zeros((batch, N_in), dtype=self.dtype)
        gZ1[:, self.keep_in] = gH1
        gX, gtw1 = bwd(Xp, self.params["twiddles_in"], gZ1, increasing=self.increasing)
        self.grads["twiddles_in"][...] = gtw1
        if self.bias:
            np.sum(G, axis=0, out=self.grads["bias"])
        if not need_grad_in:
            return None
        return gX if self.in_features == N_in else gX[:, : self.in_features]
