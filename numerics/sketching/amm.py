"""Approximate matrix multiplication (AMM) with random sketches: the bound that does hold.

For a sketch ``J`` (``k x n``) with ``E J^T J = I`` and matrices ``A (n x p)``,
``B (n x q)``, the product ``(JA)^T (JB)`` estimates ``A^T B``.  Sarlos (2006)
shows that JL-type sketches with ``k = O(eps^-2 log 1/delta)`` rows give

    ||A^T J^T J B - A^T B||_F <= eps ||A||_F ||B||_F   with probability >= 1 - delta.

Taking ``A^T = W`` and ``B = x`` gives the one-sided statement that survives
from the paper's Proposition 1: ``||W (J^T J - I) x|| <= eps ||W||_F ||x||``,
an error of order ``||W||_F / sqrt(k)``.  See ``theory/amm.md``.

:func:`amm_matrices` builds the test matrices (random and adversarial
families) that the claims ``amm.bound`` and ``amm.rate`` use.
"""
from __future__ import annotations

import math

import numpy as np

from numerics._validation import check_array, check_int, check_rng

from ._sketch import apply_adjoint_rows, apply_rows, check_sketch, check_vectors

__all__ = ["amm_error", "one_sided_error", "amm_matrices", "AMM_FAMILIES"]

#: Families of test pairs ``(A, B)`` known to :func:`amm_matrices`.
AMM_FAMILIES = ("gaussian", "rank-one", "spike", "coherent", "spiky", "heavy-tailed", "low-rank")


def _frobenius_pair(A: np.ndarray, B: np.ndarray) -> float:
    na = float(np.linalg.norm(A))
    nb = float(np.linalg.norm(B))
    if na == 0.0 or nb == 0.0:
        which = "A" if na == 0.0 else "B"
        raise ValueError(f"{which} has zero Frobenius norm; the relative error ||A^T J^T J B - A^T B||_F / (||A||_F ||B||_F) is undefined")
    return na * nb


def _amm_error_from_sketches(A, B, JA, JB, scale: float) -> float:
    """The relative AMM error from precomputed sketches ``JA``, ``JB`` (``scale = ||A||_F ||B||_F``)."""
    return float(np.linalg.norm(JA.T @ JB - A.T @ B) / scale)


def amm_error(A, B, J) -> float:
    """Relative error of sketched matrix multiplication, ``||A^T J^T J B - A^T B||_F / (||A||_F ||B||_F)``.

    Parameters
    ----------
    A : ndarray of float32/float64, shape (n, p)
    B : ndarray of float32/float64, shape (n, q)
        Same number of rows ``n`` as ``A`` (the dimension the sketch compresses).
        Passing the same array twice (``amm_error(A, A, J)``) sketches it once.
    J : LinearOperator, shape (k, n)
        The sketch, e.g. ``make_sketch("srht", n, k, seed=0)``.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        Non-float dtype, or ``J`` is not a linear operator.
    ValueError
        Wrong shapes, NaN/inf, or a zero matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from numerics.sketching import make_sketch
    >>> A = np.random.default_rng(0).standard_normal((1024, 4))
    >>> err = amm_error(A, A, make_sketch("gaussian", 1024, 256, seed=1))
    >>> bool(err < 0.3)
    True
    """
    A = check_array("A", A, ndim=2)
    B = check_array("B", B, ndim=2)
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must have the same number of rows, got A.shape={A.shape} and B.shape={B.shape}")
    J = check_sketch("J", J, A.shape[0])
    scale = _frobenius_pair(A, B)
    JA = apply_rows(J, A.T).T
    JB = JA if B is A else apply_rows(J, B.T).T
    return _amm_error_from_sketches(A, B, JA, JB, scale)


def one_sided_error(W, J, x):
    """``||W (J^T J - I) x|| / ||W||_F`` for a vector ``x`` (or each row of a matrix ``x``).

    The error of replacing ``W x`` by ``W J^T J x``; AMM with ``A^T = W`` and
    ``B = x`` bounds it by ``eps ||x||`` with probability ``1 - delta`` once
    ``k = O(eps^-2 log 1/delta)``, i.e. it decays like ``k^{-1/2}`` (while
    ``||x - J^T J x||`` does not, see :mod:`numerics.sketching.lemma`).

    Parameters
    ----------
    W : ndarray of float32/float64, shape (m, n)
        Non-zero.
    J : LinearOperator, shape (k, n)
    x : ndarray of float32/float64, shape (n,) or (r, n)
        One vector or one vector per row.

    Returns
    -------
    float or ndarray of shape (r,)
    """
    W = check_array("W", W, ndim=2)
    J = check_sketch("J", J, W.shape[1])
    X, was_1d = check_vectors("x", x, W.shape[1])
    wf = float(np.linalg.norm(W))
    if wf == 0.0:
        raise ValueError("W has zero Frobenius norm; the relative error ||W (J^T J - I) x|| / ||W||_F is undefined")
    delta = apply_adjoint_rows(J, apply_rows(J, X)) - X  # rows: (J^T J - I) x
    err = np.linalg.norm(delta @ W.T, axis=1) / wf
    return err[0] if was_1d else err


def _unit_columns(M: np.ndarray) -> np.ndarray:
    return M / np.linalg.norm(M, axis=0, keepdims=True)


def amm_matrices(family: str, n: int, p: int = 8, *, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """A test pair ``(A, B)`` (float64, ``n`` rows) for the AMM bound.

    Parameters
    ----------
    family : str
        One of :data:`AMM_FAMILIES`:

        * ``"gaussian"``: independent ``A``, ``B`` (``n x p``) with i.i.d. ``N(0, 1)`` entries;
        * ``"rank-one"``: ``A = B = x``, one random unit column (the worst case
          of the Gaussian sketch's second moment: ``E err^2 = 2/k``);
        * ``"spike"``: ``A = B = e_i``, one standard basis vector (worst case for
          sparse sketches, exact for the SRHT);
        * ``"coherent"``: ``A = B``, ``p`` nearly parallel columns ``v + 0.1 g_j``;
        * ``"spiky"``: ``A = B``, ``p`` columns each concentrated on one coordinate
          (``e_{i_j}`` plus ``1e-3`` Gaussian noise);
        * ``"heavy-tailed"``: independent ``A``, ``B`` with Student-t (2 degrees
          of freedom) entries: a few entries dominate;
        * ``"low-rank"``: ``A = B = U diag(2^-j)``, orthonormal ``U`` (``n x p``),
          geometric spectrum.
    n : int
        Number of rows (the sketched dimension).
    p : int, default 8
        Number of columns (ignored by ``"rank-one"`` and ``"spike"``, which have one).
    seed : None, int, SeedSequence or Generator

    Returns
    -------
    A, B : ndarray of float64; ``B is A`` for the symmetric families.
    """
    if not isinstance(family, str) or family not in AMM_FAMILIES:
        raise ValueError(f"family must be one of {AMM_FAMILIES}, got family={family!r}")
    n = check_int("n", n, minimum=2)
    p = check_int("p", p, minimum=1, maximum=n)
    rng = check_rng("seed", seed)
    if family == "gaussian":
        return rng.standard_normal((n, p)), rng.standard_normal((n, p))
    if family == "rank-one":
        a = _unit_columns(rng.standard_normal((n, 1)))
        return a, a
    if family == "spike":
        a = np.zeros((n, 1))
        a[rng.integers(n), 0] = 1.0
        return a, a
    if family == "coherent":
        v = rng.standard_normal((n, 1)) / math.sqrt(n)
        a = v + 0.1 * rng.standard_normal((n, p)) / math.sqrt(n)
        return a, a
    if family == "spiky":
        a = 1e-3 * rng.standard_normal((n, p))
        a[rng.choice(n, size=p, replace=False), np.arange(p)] += 1.0
        return a, a
    if family == "heavy-tailed":
        return rng.standard_t(2.0, size=(n, p)), rng.standard_t(2.0, size=(n, p))
    # low-rank
    u, _ = np.linalg.qr(rng.standard_normal((n, p)))
    a = u * (2.0 ** -np.arange(p))
    return a, a
