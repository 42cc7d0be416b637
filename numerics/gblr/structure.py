"""Test matrices with hidden structure and the equal-FLOP comparison (claim ``gblr.structure``)."""
from __future__ import annotations

import numpy as np

from numerics._validation import check_int, check_rng

from .baselines import block_sparse_at_flops, monarch_at_flops, tsvd_at_flops
from .fit import fit_gblr, learn_gblr

__all__ = ["structured_matrix", "compare_at_flops", "STRUCTURES", "KINDS"]

#: The targets of claim ``gblr.structure`` (each has an exact GBLR representation at its budget, except the
#: Gaussian control).
STRUCTURES = ("blockdiag+lowrank", "blocksparse-lowrank", "banded-lowrank", "gaussian")
#: All kinds :func:`structured_matrix` knows; ``banded`` (full-rank random band) is claim ``gblr.banded``.
KINDS = STRUCTURES + ("banded",)


def structured_matrix(kind: str, n: int, *, seed=0):
    """A test matrix and the FLOP budget at which a GBLR matrix can represent it exactly (Gaussian: ``n^2/2``).

    * ``blockdiag+lowrank``: ``n/8`` Gaussian ``8 x 8``-type diagonal blocks of size ``s = n/8`` plus a rank-2
      term; exact GBLR cost ``2 n (s + 2)``.
    * ``blocksparse-lowrank``: 6 rank-2 blocks of size ``n/4`` at random circular positions; cost ``6*2*2*(n/4)``.
    * ``banded``: Gaussian entries on the circular band ``|i - j| <= n/16``; budget ``n (2 n/16 + 1)`` (its
      number of non-zeros; no exact GBLR representation at this cost).
    * ``banded-lowrank``: a circular block-tridiagonal band (half-width ``< 2s``) whose ``3 n / s`` blocks of
      size ``s = n/8`` are Gaussian rank-2 matrices; exact GBLR cost ``(3 n / s) 2 (2 s) = 12 n``.
    * ``gaussian``: i.i.d. Gaussian, budget ``n^2 / 2``.
    """
    n = check_int("n", n, minimum=16)
    if n % 16:
        raise ValueError(f"n must be a multiple of 16, got n={n}")
    rng = check_rng("seed", seed)
    if kind == "blockdiag+lowrank":
        s = n // 8
        A = np.zeros((n, n))
        for b in range(n // s):
            A[b * s:(b + 1) * s, b * s:(b + 1) * s] = rng.standard_normal((s, s))
        A += rng.standard_normal((n, 2)) @ rng.standard_normal((2, n)) * np.sqrt(s / n)
        return A, 2 * n * (s + 2)
    if kind == "blocksparse-lowrank":
        bs = n // 4
        A = np.zeros((n, n))
        for _ in range(6):
            I = (rng.integers(n) + np.arange(bs)) % n
            J = (rng.integers(n) + np.arange(bs)) % n
            A[np.ix_(I, J)] += rng.standard_normal((bs, 2)) @ rng.standard_normal((2, bs))
        return A, 6 * 2 * 2 * bs
    if kind == "banded":
        bw = n // 16
        i = np.arange(n)
        d = np.abs(i[:, None] - i[None, :])
        d = np.minimum(d, n - d)
        return np.where(d <= bw, rng.standard_normal((n, n)), 0.0), n * (2 * bw + 1)
    if kind == "banded-lowrank":
        s = n // 8
        nb = n // s
        A = np.zeros((n, n))
        for b in range(nb):
            for d in (-1, 0, 1):
                c = (b + d) % nb
                A[b * s:(b + 1) * s, c * s:(c + 1) * s] = rng.standard_normal((s, 2)) @ rng.standard_normal((2, s))
        return A, 3 * nb * 2 * 2 * s
    if kind == "gaussian":
        return rng.standard_normal((n, n)), n * n // 2
    raise ValueError(f"kind must be one of {KINDS}, got kind={kind!r}")


def compare_at_flops(A, flops, *, steps: int = 600, restarts: int = 3, seed=0, search: bool = True) -> dict:
    """Relative Frobenius errors at ``flops`` of: GBLR learned by proximal-gradient training from the generic
    SVD start (:func:`numerics.gblr.learn_gblr`, key ``gblr``), truncated SVD, block-sparse and Monarch, and
    (if ``search``) the search pipeline :func:`numerics.gblr.fit_gblr` for comparison (key ``gblr_search``)."""
    nrm = np.linalg.norm(A)
    G, info = learn_gblr(A, flops, steps=steps, restarts=restarts, seed=seed)
    out = {"gblr": float(np.linalg.norm(G.todense() - A) / nrm), "gblr_flops": G.flops, "gblr_info": info,
           "gblr_operator": G}
    if search:
        Gs, sinfo = fit_gblr(A, flops)
        out["gblr_search"] = float(np.linalg.norm(Gs.todense() - A) / nrm)
        out["gblr_search_flops"], out["gblr_search_info"] = Gs.flops, sinfo
    B, f = tsvd_at_flops(A, flops)
    out["tsvd"], out["tsvd_flops"] = float(np.linalg.norm(B - A) / nrm), f
    B, f = block_sparse_at_flops(A, flops)
    out["block-sparse"], out["block-sparse_flops"] = float(np.linalg.norm(B - A) / nrm), f
    B, f, src = monarch_at_flops(A, flops)
    out["monarch"], out["monarch_flops"], out["monarch_source"] = float(np.linalg.norm(B - A) / nrm), f, src
    return out
