"""Exact (SymPy) checks of the identities in ``theory/fwht.md``.

Run directly (``python theory/symbolic_hadamard.py``) or from the tests, which
load this file with importlib.  Each ``check_*`` returns True when every
identity holds exactly and raises ``AssertionError`` naming the first one that
does not.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["sylvester", "butterfly", "butterfly_recursive", "check_hadamard_orthogonality", "check_fwht_op_count"]


def sylvester(n: int) -> sp.Matrix:
    """``H_n`` by the Sylvester recursion ``H_2m = [[H_m, H_m], [H_m, -H_m]]`` (SymPy integers)."""
    if n < 1 or n & (n - 1):
        raise ValueError(f"n={n} is not a power of two")
    H = sp.Matrix([[1]])
    while H.shape[0] < n:
        H = sp.BlockMatrix([[H, H], [H, -H]]).as_explicit()
    return H


def butterfly(values: list) -> list:
    """The in-place butterfly stages on a list of SymPy expressions (returns a new list).

    For ``h = 1, 2, 4, ...``: the pair ``(x_j, x_{j+h})`` with bit ``h`` of
    ``j`` clear becomes ``(x_j + x_{j+h}, x_j - x_{j+h})``; also counts the
    additions/subtractions formed, returned as the second element.
    """
    x = list(values)
    n = len(x)
    h = 1
    ops = 0
    while h < n:
        for j in range(n):
            if not j & h:
                a, b = x[j], x[j + h]
                x[j], x[j + h] = a + b, a - b
                ops += 2
        h *= 2
    return x, ops


def butterfly_recursive(values: list) -> list:
    """``H_n x`` by the recursion ``H_n (a, b) = (H_{n/2}(a + b), H_{n/2}(a - b))``."""
    n = len(values)
    if n == 1:
        return list(values)
    a, b = values[: n // 2], values[n // 2 :]
    return butterfly_recursive([u + v for u, v in zip(a, b)]) + butterfly_recursive([u - v for u, v in zip(a, b)])


def check_hadamard_orthogonality(max_n: int = 32, max_butterfly_n: int = 16) -> bool:
    """``H_n H_nᵀ = n I`` exactly for n = 2..max_n, and the butterfly equals ``H_n x`` for n <= max_butterfly_n.

    The butterfly (both the recursion on halves and the in-place stages the
    kernels use) is run on the symbols ``x0 .. x(n-1)`` and compared with the
    matrix-vector product entry by entry after expansion; the stage form's
    count of additions/subtractions is compared with ``n log2 n``.  Also checks that
    entry ``(i, j)`` is ``(-1)**popcount(i & j)``.
    """
    n = 2
    while n <= max_n:
        H = sylvester(n)
        assert H * H.T == n * sp.eye(n), f"H_{n} H_{n}^T != {n} I"
        assert H == H.T, f"H_{n} is not symmetric"
        for i in range(n):
            for j in range(n):
                assert H[i, j] == (-1) ** bin(i & j).count("1"), f"H_{n}[{i},{j}] has the wrong sign"
        if n <= max_butterfly_n:
            xs = sp.symbols(f"x0:{n}")
            y, ops = butterfly(list(xs))
            target = H * sp.Matrix(xs)
            z = butterfly_recursive(list(xs))
            for i in range(n):
                assert sp.expand(y[i] - target[i]) == 0, f"butterfly differs from H_{n} x in entry {i}"
                assert sp.expand(z[i] - target[i]) == 0, f"recursive butterfly differs from H_{n} x in entry {i}"
            assert ops == n * sp.log(n, 2), f"butterfly on n={n} used {ops} operations, not n log2 n"
        n *= 2
    return True


def check_fwht_op_count(max_p: int = 22) -> bool:
    """``T(n) = 2 T(n/2) + n``, ``T(1) = 0`` is solved by ``T(n) = n log2 n``.

    Substituting ``n = 2**p``, ``t(p) = T(2**p) / 2**p`` turns the recurrence
    into ``t(p) = t(p-1) + 1``, ``t(0) = 0``; ``sympy.rsolve`` must return
    ``t(p) = p``.  Then the closed form is substituted into the recurrence
    symbolically (for a symbolic power of two ``n = 2**p``), and the recurrence
    is iterated in exact integers for p = 0..max_p against ``n log2 n``.
    """
    p = sp.symbols("p", integer=True, nonnegative=True)
    t = sp.Function("t")
    sol = sp.rsolve(t(p) - t(p - 1) - 1, t(p), {t(0): 0})
    assert sp.simplify(sol - p) == 0, f"rsolve gave t(p) = {sol}, expected p"

    T_closed = lambda q: 2**q * q  # noqa: E731  (T(2**q) = 2**q * q = n log2 n)
    residual = T_closed(p) - (2 * T_closed(p - 1) + 2**p)
    assert sp.simplify(sp.expand(residual)) == 0, f"closed form does not satisfy the recurrence: {residual}"
    assert T_closed(0) == 0

    n = sp.symbols("n", positive=True)
    assert sp.simplify((n * sp.log(n, 2)).subs(n, 2**p) - T_closed(p)) == 0

    T = 0  # T(1)
    for q in range(1, max_p + 1):
        T = 2 * T + 2**q
        assert T == 2**q * q, f"recurrence gives T(2^{q}) = {T}, not {2**q * q}"
    return True


if __name__ == "__main__":  # pragma: no cover
    print("check_hadamard_orthogonality:", check_hadamard_orthogonality())
    print("check_fwht_op_count:", check_fwht_op_count())
