"""Exact (SymPy) checks for theory/landscape.md: the encoder-decoder loss L(D, E) = 1/2 ||Y - D E Z||_F^2.

Each ``check_*`` returns True when the identity holds exactly at small symbolic sizes
(``Z = B X`` stands for the data behind the fixed map; the formulas only see ``Z``).
Run ``python theory/symbolic_landscape.py`` to print every result.
"""
from __future__ import annotations

import sympy as sp


def _mat(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


def _loss(D, E, Z, Y):
    R = Y - D * E * Z
    return sp.Rational(1, 2) * (R.T * R).trace()


def check_gradient_formulas(m: int = 2, k: int = 2, l: int = 2, d: int = 2) -> bool:
    """dL/dD = -(Y - DEZ) Z^T E^T and dL/dE = -D^T (Y - DEZ) Z^T, entry by entry, all entries symbolic."""
    D, E, Z, Y = _mat("d", m, k), _mat("e", k, l), _mat("z", l, d), _mat("y", m, d)
    L = sp.expand(_loss(D, E, Z, Y))
    G = (Y - D * E * Z) * Z.T
    gD, gE = -G * E.T, -D.T * G
    ok = all(sp.expand(sp.diff(L, D[i, j]) - gD[i, j]) == 0 for i in range(m) for j in range(k))
    return ok and all(sp.expand(sp.diff(L, E[i, j]) - gE[i, j]) == 0 for i in range(k) for j in range(l))


def check_hessian_quadratic_form(m: int = 2, k: int = 2, l: int = 2, d: int = 2) -> bool:
    """d^2/dt^2 L(D + t dD, E + t dE) at t = 0 equals ||(dD E + D dE) Z||^2 - 2 <Y - DEZ, dD dE Z>."""
    D, E, Z, Y = _mat("d", m, k), _mat("e", k, l), _mat("z", l, d), _mat("y", m, d)
    dD, dE = _mat("p", m, k), _mat("q", k, l)
    t = sp.Symbol("t", real=True)
    L_t = _loss(D + t * dD, E + t * dE, Z, Y)
    second = sp.diff(L_t, t, 2).subs(t, 0)
    M = (dD * E + D * dE) * Z
    R = Y - D * E * Z
    form = (M.T * M).trace() - 2 * (R.T * (dD * dE * Z)).trace()
    return sp.expand(second - form) == 0


def check_hessian_blocks(m: int = 2, k: int = 2, l: int = 2, d: int = 2) -> bool:
    """The block matrix of ``EncoderDecoder.hessian`` (row-major vec) equals SymPy's Hessian of L in (D, E).

    H_DD = I_m (x) E S E^T, H_EE = D^T D (x) S, H_DE[(a,b),(b',c)] = D[a,b'] (E S)[b,c] - G[a,c] delta_{bb'},
    with S = Z Z^T and G = (Y - DEZ) Z^T.
    """
    D, E, Z, Y = _mat("d", m, k), _mat("e", k, l), _mat("z", l, d), _mat("y", m, d)
    theta = list(D) + list(E)  # sympy flattens row-major
    L = _loss(D, E, Z, Y)
    H_sym = sp.hessian(L, theta)
    S = Z * Z.T
    ES = E * S
    G = (Y - D * E * Z) * Z.T
    H_DD = sp.kronecker_product(sp.eye(m), ES * E.T)
    H_EE = sp.kronecker_product(D.T * D, S)
    H_DE = sp.zeros(m * k, k * l)
    for a in range(m):
        for b in range(k):
            for b2 in range(k):
                for c in range(l):
                    H_DE[a * k + b, b2 * l + c] = D[a, b2] * ES[b, c] - (G[a, c] if b == b2 else 0)
    H = sp.BlockMatrix([[H_DD, H_DE], [H_DE.T, H_EE]]).as_explicit()
    return sp.expand(H - H_sym) == sp.zeros(*H.shape)


def check_gl_symmetry(m: int = 2, k: int = 2, l: int = 2, d: int = 2) -> bool:
    """L(D C, C^{-1} E) = L(D, E) for a symbolic invertible C."""
    D, E, Z, Y = _mat("d", m, k), _mat("e", k, l), _mat("z", l, d), _mat("y", m, d)
    C = _mat("c", k, k)
    return sp.simplify(_loss(D * C, C.inv() * E, Z, Y) - _loss(D, E, Z, Y)) == 0


def _rational_problem():
    """Z (2 x 4) with orthogonal rows (S_zz = 4 I), Y = A Z / 4 + c w^T (w orthogonal to the rows of Z),
    A = Q diag(4, 2) with a rational rotation Q, so S_yz = A and Sigma = A A^T / 4 = Q diag(4, 1) Q^T:
    eigenvalues 4 > 1 with eigenvectors the columns of Q, all exact rationals."""
    Z = sp.Matrix([[1, 1, 1, 1], [1, -1, 1, -1]])
    Q = sp.Matrix([[sp.Rational(3, 5), sp.Rational(-4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    A = Q * sp.diag(4, 2)
    w = sp.Matrix([[1, 1, -1, -1]])
    c = sp.Matrix([[sp.Rational(1, 3)], [sp.Rational(-2, 7)]])
    Y = A * Z / 4 + c * w
    S_zz = Z * Z.T
    S_yz = Y * Z.T
    Sigma = S_yz * S_zz.inv() * S_yz.T
    lam = [sp.Integer(4), sp.Integer(1)]
    return Z, Y, S_zz, S_yz, Sigma, Q, lam


def _critical_point(I, k, Q, S_yz, S_zz, C):
    U = sp.zeros(2, k)
    for j, i in enumerate(I):
        U[:, j] = Q[:, i]
    return U * C, C.inv() * U.T * S_yz * S_zz.inv()


def check_critical_points() -> bool:
    """For k = 1, 2, every index set I of {0, 1} with |I| <= k and a symbolic C in GL(k): the constructed
    (D, E) makes both gradients vanish identically and L = 1/2 (tr YY^T - sum_{i in I} lambda_i)."""
    Z, Y, S_zz, S_yz, Sigma, Q, lam = _rational_problem()
    if sp.simplify(Sigma * Q - Q * sp.diag(*lam)) != sp.zeros(2, 2):
        return False
    trYY = (Y * Y.T).trace()
    for k in (1, 2):
        C = _mat("c", k, k)
        for size in range(k + 1):
            for I in __import__("itertools").combinations(range(2), size):
                D, E = _critical_point(I, k, Q, S_yz, S_zz, C)
                G = (Y - D * E * Z) * Z.T
                if sp.simplify(G * E.T) != sp.zeros(2, k) or sp.simplify(D.T * G) != sp.zeros(k, 2):
                    return False
                if sp.simplify(_loss(D, E, Z, Y) - (trYY - sum(lam[i] for i in I)) / 2) != 0:
                    return False
    return True


def check_escape_drop() -> bool:
    """At the saddle I = {1} (k = 1), replacing u_1 by (u_1 + eps u_0)/sqrt(1 + eps^2) lowers L by exactly
    1/2 eps^2/(1 + eps^2) (lambda_0 - lambda_1) for symbolic eps (so 2L drops by the paper's expression)."""
    Z, Y, S_zz, S_yz, Sigma, Q, lam = _rational_problem()
    eps = sp.Symbol("epsilon", positive=True)
    C = sp.Matrix([[sp.Symbol("c", nonzero=True)]])
    D, E = _critical_point((1,), 1, Q, S_yz, S_zz, C)
    u = (Q[:, 1] + eps * Q[:, 0]) / sp.sqrt(1 + eps**2)
    D2, E2 = u * C, C.inv() * u.T * S_yz * S_zz.inv()
    drop = _loss(D, E, Z, Y) - _loss(D2, E2, Z, Y)
    return sp.simplify(drop - sp.Rational(1, 2) * eps**2 / (1 + eps**2) * (lam[0] - lam[1])) == 0


CHECKS = [check_gradient_formulas, check_hessian_quadratic_form, check_hessian_blocks, check_gl_symmetry,
          check_critical_points, check_escape_drop]

if __name__ == "__main__":  # pragma: no cover
    for fn in CHECKS:
        print(f"{fn.__name__}: {fn()}")
