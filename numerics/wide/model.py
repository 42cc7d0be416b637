"""The wide network both trainers train: shifted ReLU, Gaussian initialisation, squared loss.

Architecture (row-vector convention, one sample is a row ``x`` of length ``d_in``)::

    h_0 = sigma_b(x A^T)                 A: (m, d_in), entries N(0, 1), fixed
    h_l = sigma_b(h_{l-1} W_l^T)         W_l: (m, m), entries N(0, 1/(m q(b))), trained, l = 1..L
    f   = h_L C^T                        C: (d_out, m), entries N(0, 1/(m q(b))), fixed
    loss = 1/(2 B) sum_i ||f_i - y_i||^2

with ``sigma_b(z) = max(z - b, 0)`` and ``q(b) = E[sigma_b(g)^2]`` for ``g ~ N(0, 1)``, so that
a pre-activation has variance about 1 in every layer when ``||x|| = 1``.  The weights are stored
*transposed*, ``Wt[l] = W_l^T`` of shape ``(m_in, m_out)``, so that ``z = h @ Wt[l]`` and the
row ``Wt[l][k]`` (the outgoing weights of input neuron ``k``) is contiguous: a product with a
sparse ``h`` reads only the rows of its active neurons.  Only the ``m x m`` matrices are trained
(``A`` and ``C`` stay at their initial values, as in the over-parametrisation theory this follows).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from numerics._validation import check_array, check_int, check_rng

__all__ = [
    "WideNet",
    "shifted_relu",
    "default_bias",
    "phibar",
    "second_moment",
    "expected_active",
    "available_memory",
    "check_memory",
    "weight_bytes",
    "activation_bytes",
]

FLOAT = (np.dtype(np.float32), np.dtype(np.float64))


def _check_bias(b) -> float:
    import numbers

    if isinstance(b, (bool, np.bool_)) or not isinstance(b, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"b must be a real number >= 0, got {b!r}")
    b = float(b)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"b must be a finite threshold >= 0 (the shift of max(z - b, 0)), got b={b!r}")
    return b


def _check_width(m) -> int:
    return check_int("m", m, minimum=1)


def default_bias(m) -> float:
    """The threshold ``b(m) = sqrt(0.4 ln m)``: at most ``m^0.8`` active neurons per input in expectation.

    ``m * Phibar(b) <= m * phi(b) / b = m^0.8 / (b sqrt(2 pi))`` (Mills' ratio), and
    ``b sqrt(2 pi) >= 1`` once ``m >= 3``.
    """
    m = _check_width(m)
    return math.sqrt(0.4 * math.log(m)) if m > 1 else 0.0


def phibar(b) -> float:
    """Gaussian upper tail ``P(g > b)``, ``g ~ N(0, 1)``."""
    return float(ndtr(-float(b)))


def second_moment(b) -> float:
    """``q(b) = E[max(g - b, 0)^2] = (1 + b^2) Phibar(b) - b phi(b)``, ``g ~ N(0, 1)``."""
    b = float(b)
    pdf = math.exp(-0.5 * b * b) / math.sqrt(2 * math.pi)
    return (1 + b * b) * phibar(b) - b * pdf


def expected_active(m, b) -> float:
    """Expected number of active neurons of one layer for one input at initialisation, ``m Phibar(b)``."""
    return _check_width(m) * phibar(_check_bias(b))


def shifted_relu(z, b):
    """``max(z - b, 0)`` elementwise (a new array of ``z``'s dtype)."""
    z = check_array("z", z, finite=False)
    b = _check_bias(b)
    return np.maximum(z - z.dtype.type(b), 0)


# ----------------------------------------------------------------------------- memory
def available_memory() -> int:
    """Bytes the OS reports as available (``MemAvailable`` of ``/proc/meminfo``; total RAM as fallback)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover
        return os_pages()
    except Exception:  # pragma: no cover
        return 1 << 62


def os_pages() -> int:  # pragma: no cover - fallback only
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def weight_bytes(m, depth, d_in, d_out, dtype=np.float64) -> int:
    """Bytes of the parameters: ``depth`` matrices ``m x m`` plus ``A`` and ``C``."""
    item = np.dtype(dtype).itemsize
    return item * (depth * m * m + m * d_in + m * d_out)


def activation_bytes(n, m, depth, dtype=np.float64) -> int:
    """Bytes a pass over ``n`` samples holds: pre-activations, activations, masks and gradients of every layer."""
    item = np.dtype(dtype).itemsize
    return n * m * (depth + 1) * (3 * item + 1)


def check_memory(what: str, need: int, memory_limit=None) -> None:
    """Raise ``MemoryError`` (before anything is allocated) when ``need`` bytes exceed the limit.

    ``memory_limit`` defaults to :func:`available_memory`.
    """
    limit = available_memory() if memory_limit is None else check_int("memory_limit", memory_limit, minimum=0)
    if need > limit:
        raise MemoryError(
            f"{what} needs {need / 2**30:.3g} GiB but only {limit / 2**30:.3g} GiB are available "
            f"(memory_limit={limit}); use a smaller width m, fewer samples or a smaller batch"
        )


# ----------------------------------------------------------------------------- network
@dataclass
class WideNet:
    """Parameters of the wide network (see the module docstring for the architecture).

    Attributes
    ----------
    A : ndarray (m, d_in)
        Fixed input layer.
    Wt : list of ndarray (m, m)
        The trained layers, transposed: ``Wt[l] = W_{l+1}^T`` (``z = h @ Wt[l]``).
    C : ndarray (d_out, m)
        Fixed output layer.
    b : float
        Threshold of the shifted ReLU.
    """

    A: np.ndarray
    Wt: list
    C: np.ndarray
    b: float

    @classmethod
    def init(cls, m, *, depth=2, d_in, d_out, b=None, seed=None, dtype=np.float64, memory_limit=None) -> "WideNet":
        """Gaussian initialisation (``O(m^2)`` work, done once).

        Parameters
        ----------
        m : int >= 1
            Width (neurons per hidden layer).
        depth : int >= 1
            Number ``L`` of trained ``m x m`` layers.
        d_in, d_out : int >= 1
            Input and output dimensions.
        b : float >= 0 or None
            Threshold; None uses :func:`default_bias` ``sqrt(0.4 ln m)``.
        seed : int, Generator or None
        dtype : float32 or float64
        memory_limit : int or None
            Bytes allowed for the parameters (default: what the OS reports available); a network
            that does not fit raises ``MemoryError`` before anything is allocated.
        """
        m = _check_width(m)
        depth = check_int("depth", depth, minimum=1)
        d_in = check_int("d_in", d_in, minimum=1)
        d_out = check_int("d_out", d_out, minimum=1)
        b = default_bias(m) if b is None else _check_bias(b)
        dt = np.dtype(dtype)
        if dt not in FLOAT:
            raise TypeError(f"dtype must be float32 or float64, got dtype={dtype!r}")
        check_memory(f"a width-{m} network with {depth} trained layers ({dt.name})",
                     weight_bytes(m, depth, d_in, d_out, dt), memory_limit)
        rng = check_rng("seed", seed)
        q = second_moment(b)
        scale = 1.0 / math.sqrt(m * q)
        A = rng.standard_normal((m, d_in), dtype=np.float64).astype(dt, copy=False)
        Wt = []
        for _ in range(depth):
            W = rng.standard_normal((m, m), dtype=dt)
            W *= dt.type(scale)
            Wt.append(W)
        C = (rng.standard_normal((d_out, m), dtype=np.float64) * scale).astype(dt, copy=False)
        return cls(A=A, Wt=Wt, C=C, b=b)

    # -- shapes
    @property
    def m(self) -> int:
        return int(self.A.shape[0])

    @property
    def depth(self) -> int:
        return len(self.Wt)

    @property
    def d_in(self) -> int:
        return int(self.A.shape[1])

    @property
    def d_out(self) -> int:
        return int(self.C.shape[0])

    @property
    def dtype(self) -> np.dtype:
        return self.A.dtype

    def copy(self) -> "WideNet":
        return WideNet(A=self.A.copy(), Wt=[w.copy() for w in self.Wt], C=self.C.copy(), b=self.b)

    def weight(self, layer: int) -> np.ndarray:
        """The math-convention weight ``W_layer = Wt[layer-1]^T`` (a view), ``layer = 1..depth``."""
        layer = check_int("layer", layer, minimum=1, maximum=self.depth)
        return self.Wt[layer - 1].T

    def check_data(self, X, Y=None):
        """Validate a batch: ``X`` (n, d_in) and ``Y`` (n, d_out) of the network's dtype, finite."""
        X = check_array("X", X, ndim=2, dtypes=(self.dtype,))
        if X.shape[1] != self.d_in:
            raise ValueError(f"X has {X.shape[1]} features but the network expects d_in={self.d_in} (X.shape={X.shape})")
        if X.shape[0] < 1:
            raise ValueError("X has no rows; expected at least one sample")
        if Y is None:
            return X
        Y = check_array("Y", Y, ndim=2, dtypes=(self.dtype,))
        if Y.shape != (X.shape[0], self.d_out):
            raise ValueError(f"Y has shape {Y.shape}; expected (n, d_out) = ({X.shape[0]}, {self.d_out}) to match X")
        return X, Y

    def forward(self, X, *, memory_limit=None):
        """Dense forward pass over all rows of ``X``: returns ``(pre, post, out)``.

        ``pre[l]`` and ``post[l]`` (l = 0..depth) are the pre-activations and activations of
        hidden layer ``l`` (``l = 0`` is the fixed input layer), ``out`` the network output.
        Raises ``MemoryError`` before allocating when ``len(X)`` samples do not fit at this width.
        """
        X = self.check_data(X)
        check_memory(f"a forward pass of {X.shape[0]} samples at width m={self.m}",
                     activation_bytes(X.shape[0], self.m, self.depth, self.dtype), memory_limit)
        bb = self.dtype.type(self.b)
        z = X @ self.A.T
        pre, post = [z], [np.maximum(z - bb, 0)]
        for Wt in self.Wt:
            z = post[-1] @ Wt
            pre.append(z)
            post.append(np.maximum(z - bb, 0))
        return pre, post, post[-1] @ self.C.T

    def loss(self, X, Y, *, memory_limit=None) -> float:
        """``1/(2n) sum_i ||f(x_i) - y_i||^2`` over all rows."""
        X, Y = self.check_data(X, Y)
        out = self.forward(X, memory_limit=memory_limit)[2]
        return float(0.5 * np.sum((out - Y) ** 2) / X.shape[0])

    def active_counts(self, X, *, memory_limit=None) -> np.ndarray:
        """Active neurons per sample and hidden layer, shape ``(n, depth + 1)`` (column 0: input layer)."""
        pre = self.forward(X, memory_limit=memory_limit)[0]
        bb = self.dtype.type(self.b)
        return np.stack([np.count_nonzero(z > bb, axis=1) for z in pre], axis=1)
