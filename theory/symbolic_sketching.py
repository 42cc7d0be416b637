"""Exact (SymPy) checks of the algebra behind theory/lemma_b1.md.

Every function builds the subsampled randomized Hadamard transform exactly,

    J = sqrt(n/k) * S * (H / sqrt(n)) * D,

with ``H`` the Sylvester-ordered Walsh-Hadamard matrix (entries +-1), ``S`` the
k x n matrix keeping a set of ``k`` *distinct* rows, and ``D = diag(d_1..d_n)``
a diagonal of *symbolic* signs.  The only property of the signs the algebra may
use is ``d_i**2 = 1``: reductions replace every power of ``d_i`` by its parity
and nothing else, so a result that reduces to zero holds for all ``2**n`` sign
patterns at once.  Where ``x`` appears it is a vector of independent symbols,
so the identities hold for every ``x``, not for samples.

Two exact representations are used:

* SymPy expressions (``srht_matrix``), for the small cases with symbolic ``x``;
* the polynomial ring ``QQ[c, d_1..d_n]`` (:class:`_SignRing`), where ``c``
  stands for the common scale ``sqrt(n/k)/sqrt(n) = 1/sqrt(k)`` and products
  are reduced with ``c**2 = 1/k`` and ``d_i**2 = 1``.  This is exact too, and
  fast enough to enumerate every row subset at ``n = 8``.

Each ``check_*`` function returns ``True`` when its statement holds exactly for
every case it enumerates, ``False`` otherwise (it never raises for a failed
identity).  ``tests/test_sketching.py`` imports this file by path and runs them.
Run it directly (``python theory/symbolic_sketching.py``) to print the results.
"""
from __future__ import annotations

import itertools
import random

import sympy as sp
from sympy.polys.rings import ring

__all__ = [
    "check_srht_gram",
    "check_lemma_b1_identity",
    "check_identity_needs_distinct_rows",
    "check_residual_spectrum",
    "check_srht_unbiased",
    "check_padded_identity",
    "check_padded_expectation",
    "check_srht_rank_one_variance",
]


def hadamard(n: int) -> sp.Matrix:
    """Sylvester Walsh-Hadamard matrix of order ``n`` (a power of two), entries +-1."""
    if n < 1 or n & (n - 1):
        raise ValueError(f"n must be a power of two, got n={n}")
    h = sp.Matrix([[1]])
    while h.shape[0] < n:
        h = sp.Matrix(sp.BlockMatrix([[h, h], [h, -h]]))
    return h


def sign_symbols(n: int):
    return sp.symbols(f"d0:{n}")


def srht_matrix(n: int, rows, signs) -> sp.Matrix:
    """Exact ``J = sqrt(n/k) S (H/sqrt n) D`` (SymPy expressions) for distinct ``rows``."""
    rows = list(rows)
    k = len(rows)
    if len(set(rows)) != k:
        raise ValueError(f"rows must be distinct, got {rows}")
    s = sp.zeros(k, n)
    for i, r in enumerate(rows):
        s[i, r] = 1
    return sp.sqrt(sp.Rational(n, k)) * s * (hadamard(n) / sp.sqrt(n)) * sp.diag(*signs)


def _reduce_signs(expr, signs):
    """Reduce a SymPy polynomial in the sign symbols using ``d**2 = 1`` only."""
    expr = sp.expand(expr)
    if expr == 0:
        return sp.Integer(0)
    out = sp.Integer(0)
    for monom, coeff in sp.Poly(expr, *signs).terms():
        term = coeff
        for sym, power in zip(signs, monom):
            term *= sym ** (power % 2)
        out += term
    return sp.expand(out)


def _is_zero_mod_signs(matrix_or_expr, signs) -> bool:
    entries = matrix_or_expr if isinstance(matrix_or_expr, sp.MatrixBase) else [matrix_or_expr]
    return all(_reduce_signs(e, signs) == 0 for e in entries)


class _SignRing:
    """Exact matrices over ``QQ[c, d_1..d_n]`` with ``c**2 = 1/k`` and ``d_i**2 = 1``.

    ``srht(rows)`` is ``J = c * S H D`` (``c = sqrt(n/k)/sqrt(n) = 1/sqrt(k)``
    with ``k = len(rows)``).  ``rows`` may repeat an index (sampling with
    replacement), which the negative control uses.
    """

    def __init__(self, n: int, k: int):
        self.n, self.k = n, k
        self.ring, self.c, *self.d = ring(["c"] + [f"d{i}" for i in range(n)], sp.QQ)
        self._inv_k = sp.QQ(1, k)

    def reduce(self, p):
        out = self.ring.zero
        for monom, coeff in p.terms():
            ce, *de = monom
            term = self.ring(coeff * self._inv_k ** (ce // 2)) * self.c ** (ce % 2)
            for sym, power in zip(self.d, de):
                if power % 2:
                    term *= sym
            out += term
        return out

    def matmul(self, a, b):
        inner = range(len(b))
        return [[self.reduce(sum((a[i][t] * b[t][j] for t in inner), self.ring.zero)) for j in range(len(b[0]))]
                for i in range(len(a))]

    def eye(self, m: int):
        return [[self.ring.one if i == j else self.ring.zero for j in range(m)] for i in range(m)]

    @staticmethod
    def transpose(a):
        return [list(col) for col in zip(*a)]

    def srht(self, rows):
        h = hadamard(self.n)
        return [[self.c * int(h[r, col]) * self.d[col] for col in range(self.n)] for r in rows]

    def is_zero(self, a) -> bool:
        return all(self.reduce(e) == 0 for row in a for e in row)


def _gram_gap(n: int, rows):
    """``J J^T - (n/k) I_k`` in the sign ring."""
    r = _SignRing(n, len(rows))
    j = r.srht(rows)
    jjt = r.matmul(j, r.transpose(j))
    scale = r.ring(sp.QQ(n, len(rows)))
    eye = r.eye(len(rows))
    return r, [[jjt[i][t] - scale * eye[i][t] for t in range(len(rows))] for i in range(len(rows))]


def _identity_form(n: int, rows):
    """Coefficient matrix ``M`` of the identity gap, as a quadratic form in ``x``.

    ``||x - J^T J x||^2 - ||x||^2 - (n/k - 2)||Jx||^2 = x^T M x`` with
    ``M = (I - J^T J)^T (I - J^T J) - I - (n/k - 2) J^T J``.  ``M`` is symmetric,
    so the gap vanishes for every ``x`` iff ``M = 0``.
    """
    k = len(rows)
    r = _SignRing(n, k)
    j = r.srht(rows)
    g = r.matmul(r.transpose(j), j)  # J^T J
    eye = r.eye(n)
    i_minus_g = [[eye[i][t] - g[i][t] for t in range(n)] for i in range(n)]
    sq = r.matmul(r.transpose(i_minus_g), i_minus_g)
    coef = r.ring(sp.QQ(n, k) - 2)
    return r, [[sq[i][t] - eye[i][t] - coef * g[i][t] for t in range(n)] for i in range(n)]


def _identity_gap(n: int, rows, d, x):
    """``||x - J^T J x||^2 - (||x||^2 + (n/k - 2)||Jx||^2)`` as a SymPy expression."""
    k = len(rows)
    j = srht_matrix(n, rows, d)
    jx = j * x
    res = x - j.T * jx
    return (res.T * res)[0] - ((x.T * x)[0] + (sp.Rational(n, k) - 2) * (jx.T * jx)[0])


def check_srht_gram(ns=(2, 4, 8)) -> bool:
    """``J J^T = (n/k) I_k`` for every ``n`` in ``ns``, every ``k`` and every ``k``-subset of rows.

    This is the one fact the counter-example to Lemma B.1 rests on.  It uses
    ``S S^T = I_k`` (distinct rows), ``D^2 = I`` and ``H H^T = n I``.
    """
    for n in ns:
        for k in range(1, n + 1):
            for rows in itertools.combinations(range(n), k):
                r, gap = _gram_gap(n, rows)
                if not r.is_zero(gap):
                    return False
    return True


def check_lemma_b1_identity(symbolic_x=(4,), quadratic_form=(4, 8)) -> bool:
    """``||x - J^T J x||^2 = ||x||^2 + (n/k - 2) ||Jx||^2`` exactly, for every
    ``k`` from 1 to ``n`` and every ``k``-subset of rows.

    For ``n`` in ``symbolic_x``, ``x`` is a vector of independent symbols and
    the gap is expanded as a SymPy expression (signs symbolic, ``d^2 = 1``).
    For ``n`` in ``quadratic_form`` the gap is checked through its coefficient
    matrix (:func:`_identity_form`) in the sign ring, which is equivalent and
    fast enough for all 255 row subsets at ``n = 8``.
    """
    for n in symbolic_x:
        d = sign_symbols(n)
        x = sp.Matrix(sp.symbols(f"x0:{n}"))
        for k in range(1, n + 1):
            for rows in itertools.combinations(range(n), k):
                if not _is_zero_mod_signs(_identity_gap(n, rows, d, x), d):
                    return False
    for n in quadratic_form:
        for k in range(1, n + 1):
            for rows in itertools.combinations(range(n), k):
                r, form = _identity_form(n, rows)
                if not r.is_zero(form):
                    return False
    return True


def check_identity_needs_distinct_rows(n: int = 4) -> bool:
    """Negative control: with a *repeated* row (sampling with replacement),
    ``J J^T != (n/k) I`` and the identity fails.  Returns ``True`` when both
    fail for every row multiset of size 2..n that has a repeat, i.e. when the
    checks above are able to detect a wrong construction.
    """
    for k in range(2, n + 1):
        for rows in itertools.combinations_with_replacement(range(n), k):
            if len(set(rows)) == k:
                continue
            r, gap = _gram_gap(n, rows)
            if r.is_zero(gap):
                return False
            r, form = _identity_form(n, rows)
            if r.is_zero(form):
                return False
    return True


def check_residual_spectrum(n: int = 8, trials: int = 6, seed: int = 0) -> bool:
    """``(I - J^T J)^T (I - J^T J)`` has eigenvalue ``(n/k - 1)^2`` (k times) and ``1`` (n - k times).

    Hence over unit ``x``: ``min ||x - J^T J x||^2 = min(1, (n/k-1)^2)`` and
    ``max = max(1, (n/k-1)^2)``; for ``k <= n/2`` the residual is never below
    ``||x||``.  Checked with exact rational eigenvalues for concrete sign
    patterns and row sets drawn from a fixed seed, every ``k`` from 1 to ``n``.
    """
    rng = random.Random(seed)
    for k in range(1, n + 1):
        ratio = sp.Rational(n, k)
        want = {(ratio - 1) ** 2: k}
        if k < n:
            want[sp.Integer(1)] = want.get(sp.Integer(1), 0) + n - k
        for _ in range(trials):
            signs = [rng.choice((-1, 1)) for _ in range(n)]
            rows = sorted(rng.sample(range(n), k))
            j = srht_matrix(n, rows, signs)
            m = sp.eye(n) - j.T * j
            if (m.T * m).eigenvals() != want:
                return False
    return True


def check_srht_unbiased(n: int = 4) -> bool:
    """Averaged over all k-subsets (uniform sampling without replacement),
    ``E ||Jx||^2 = ||x||^2`` for every sign pattern, hence (by the identity)
    ``E ||x - J^T J x||^2 = (n/k - 1) ||x||^2`` exactly; both checked, with
    symbolic ``x`` and signs, for every ``k`` from 1 to ``n``.
    """
    d = sign_symbols(n)
    x = sp.Matrix(sp.symbols(f"x0:{n}"))
    norm2 = (x.T * x)[0]
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(range(n), k))
        sketch = sp.Integer(0)
        resid = sp.Integer(0)
        for rows in subsets:
            j = srht_matrix(n, rows, d)
            jx = j * x
            res = x - j.T * jx
            sketch += (jx.T * jx)[0]
            resid += (res.T * res)[0]
        m = len(subsets)
        if not _is_zero_mod_signs(sketch / m - norm2, d):
            return False
        if not _is_zero_mod_signs(resid / m - (sp.Rational(n, k) - 1) * norm2, d):
            return False
    return True


def check_padded_identity(n_features: int = 3, n: int = 4) -> bool:
    """Zero padding.  For ``x`` in ``R^{n_features}`` let ``J x := J_pad [x; 0]``
    and ``J^T y := (J_pad^T y)[:n_features]``, and let ``t`` be the padded tail
    of ``J_pad^T J x`` (its entries beyond ``n_features``).  Then

        ||x - J^T J x||^2 = ||x||^2 + (n/k - 2) ||J x||^2 - ||t||^2:

    the identity holds exactly in the padded space ``R^n``, and the residual
    measured in ``R^{n_features}`` is smaller by the energy the truncation
    drops.  Checked for every k-subset with symbolic ``x`` and signs; also
    requires ``t`` to be non-zero for some subset, so the correction is real.
    """
    d = sign_symbols(n)
    xs = sp.symbols(f"x0:{n_features}")
    x_pad = sp.Matrix(list(xs) + [0] * (n - n_features))
    x = sp.Matrix(xs)
    tail_seen = False
    for k in range(1, n + 1):
        for rows in itertools.combinations(range(n), k):
            j = srht_matrix(n, rows, d)
            jx = j * x_pad
            back = j.T * jx
            res = x - back[:n_features, 0]
            t = back[n_features:, 0]
            lhs = (res.T * res)[0]
            rhs = (x.T * x)[0] + (sp.Rational(n, k) - 2) * (jx.T * jx)[0] - (t.T * t)[0]
            if not _is_zero_mod_signs(lhs - rhs, d):
                return False
            if not _is_zero_mod_signs(t, d):
                tail_seen = True
    return tail_seen


def check_padded_expectation(n: int = 4) -> bool:
    """Expected residual measured in the original space ``R^m`` (``m < n``, zero padding):

        E ||x - J^T J x||^2 = (n/k - 1 - (n - m)(n - k) / (k (n - 1))) ||x||^2,

    the formula used by ``numerics.sketching.expected_residual_sq``.  The
    expectation is taken exactly: the average over every sign pattern of the
    ``m`` real coordinates and every ``k``-subset of rows, with symbolic ``x``;
    every ``m`` from 1 to ``n`` and every ``k`` from 1 to ``n``.
    """
    for m in range(1, n + 1):
        xs = sp.symbols(f"x0:{m}")
        x = sp.Matrix(xs)
        x_pad = sp.Matrix(list(xs) + [0] * (n - m))
        norm2 = (x.T * x)[0]
        patterns = list(itertools.product((-1, 1), repeat=m))
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(range(n), k))
            total = sp.Integer(0)
            for signs in patterns:
                for rows in subsets:
                    j = srht_matrix(n, rows, list(signs) + [1] * (n - m))
                    res = x - (j.T * (j * x_pad))[:m, 0]
                    total += (res.T * res)[0]
            mean = total / (len(patterns) * len(subsets))
            want = (sp.Rational(n, k) - 1 - sp.Rational((n - m) * (n - k), k * (n - 1))) * norm2
            if sp.expand(mean - want) != 0:
                return False
    return True


def check_srht_rank_one_variance(n: int = 4) -> bool:
    """Second moment of the rank-one AMM error for the SRHT (``A = B = x``):

        E (||Jx||^2 - ||x||^2)^2 = ((n - k)/(n - 1)) * (2/k) * (||x||^4 - sum_i x_i^4),

    exactly, averaging over every sign pattern and every ``k``-subset, with
    symbolic ``x``, every ``k`` from 1 to ``n``.  So the SRHT's rank-one error
    has at most the Gaussian sketch's second moment ``2/k`` (by Chebyshev,
    ``k >= 2/(eps^2 delta)`` suffices for it too), vanishes for a spike
    (``sum x_i^4 = ||x||^4``) and at ``k = n``.
    """
    xs = sp.symbols(f"x0:{n}")
    x = sp.Matrix(xs)
    norm2 = (x.T * x)[0]
    quartic = sum(v**4 for v in xs)
    patterns = list(itertools.product((-1, 1), repeat=n))
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(range(n), k))
        total = sp.Integer(0)
        for signs in patterns:
            for rows in subsets:
                jx = srht_matrix(n, rows, signs) * x
                total += ((jx.T * jx)[0] - norm2) ** 2
        mean = total / (len(patterns) * len(subsets))
        want = sp.Rational(n - k, n - 1) * sp.Rational(2, k) * (norm2**2 - quartic) if n > 1 else 0
        if sp.expand(mean - want) != 0:
            return False
    return True


if __name__ == "__main__":  # pragma: no cover
    import time

    for name in __all__:
        t0 = time.perf_counter()
        ok = globals()[name]()
        print(f"{name}: {ok} ({time.perf_counter() - t0:.1f} s)")
