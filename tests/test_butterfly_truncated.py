"""Truncated butterflies: products against the dense matrix, adjoint, weight counts against brute force, bad input."""
import math

import numpy as np
import pytest

from numerics.butterfly import Butterfly, TruncatedButterfly, max_weights_used
from numerics.butterfly._reference import factor_matrix

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _tol(dtype):
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-12


def _rand(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


# ---------------------------------------------------------------------------- products


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("increasing", [True, False])
@pytest.mark.parametrize("n,l", [(2, 1), (2, 2), (8, 3), (32, 7), (64, 64)])
def test_todense_and_products_match_dense_rows(n, l, increasing, dtype):
    rng = np.random.default_rng(n * 100 + l)
    B = Butterfly(_rand(rng, (n.bit_length() - 1, n // 2, 2, 2), dtype), increasing=increasing)
    keep = np.sort(rng.choice(n, size=l, replace=False))
    T = TruncatedButterfly(B, keep)
    D = B.todense()[keep]
    assert T.shape == (l, n) and T.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(T.todense(), D)
    tol = _tol(dtype) * math.log2(n) * 10
    x = _rand(rng, n, dtype)
    X = _rand(rng, (n, 5), dtype)
    np.testing.assert_allclose(T @ x, D @ x, atol=tol, rtol=0)
    np.testing.assert_allclose(T.matmat(X), D @ X, atol=tol * 3, rtol=0)
    np.testing.assert_allclose(T.apply_rows(X.T), X.T @ D.T, atol=tol * 3, rtol=0)
    y = _rand(rng, l, dtype)
    Y = _rand(rng, (l, 4), dtype)
    np.testing.assert_allclose(T.H @ y, D.conj().T @ y, atol=tol * 3, rtol=0)
    np.testing.assert_allclose(T.H.matmat(Y), D.conj().T @ Y, atol=tol * 3, rtol=0)
    np.testing.assert_allclose(T.apply_rows(Y.T, adjoint=True), Y.T @ D.conj(), atol=tol * 3, rtol=0)


@pytest.mark.parametrize("kind", ["fjlt", "random", "orthogonal"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_adjoint_dot_test(kind, dtype):
    T = TruncatedButterfly.random(256, 37, seed=5, kind=kind, dtype=dtype)
    rng = np.random.default_rng(1)
    x = _rand(rng, 256, dtype)
    y = _rand(rng, 37, dtype)
    lhs = np.vdot(y, T @ x)
    rhs = np.vdot(T.H @ y, x)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs)) * 8


def test_non_contiguous_inputs():
    T = TruncatedButterfly.random(32, 9, seed=2, kind="random")
    D = T.todense()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 6))[::2]  # (32, 6), strided
    x = X[:, 1]
    np.testing.assert_allclose(T @ x, D @ x, atol=1e-12)
    np.testing.assert_allclose(T.matmat(X), D @ X, atol=1e-12)
    Y = rng.standard_normal((18, 3))[::2]
    np.testing.assert_allclose(T.H.matmat(Y), D.T @ Y, atol=1e-12)


def test_random_constructor_kinds_and_reproducibility():
    for kind in ("fjlt", "random", "orthogonal"):
        a = TruncatedButterfly.random(64, 10, seed=3, kind=kind)
        b = TruncatedButterfly.random(64, 10, seed=3, kind=kind)
        assert np.array_equal(a.keep, b.keep) and np.array_equal(a.todense(), b.todense())
        assert a.keep.dtype == np.int64 and np.all(np.diff(a.keep) > 0) and a.l == 10
    # the FJLT kind is a row subset of an orthogonal matrix
    T = TruncatedButterfly.random(64, 10, seed=3, kind="fjlt")
    D = T.todense()
    np.testing.assert_allclose(D @ D.T, np.eye(10), atol=1e-12)
    # the kept subset is uniform: every index about equally often
    counts = np.zeros(16)
    for s in range(400):
        counts[TruncatedButterfly.random(16, 4, seed=s).keep] += 1
    assert counts.min() > 60 and counts.max() < 140  # mean 100, sd ~ 8.7


def test_keep_is_read_only_and_copied():
    keep = np.array([1, 3])
    T = TruncatedButterfly(Butterfly.identity(4), keep)
    keep[0] = 0
    assert T.keep[0] == 1
    with pytest.raises(ValueError):
        T.keep[0] = 2
    assert T.keep.dtype == np.int64
    T2 = TruncatedButterfly(Butterfly.identity(4), np.array([0, 2], dtype=np.uint8))
    assert list(T2.keep) == [0, 2]


# ---------------------------------------------------------------------------- weight counts


def _brute_force_mask(B: Butterfly, keep) -> np.ndarray:
    """Used weights from dense 0/1 factor patterns: reachability by matrix products."""
    n, L = B.n, B.n_factors
    ones = np.ones((L, n // 2, 2, 2))
    P = [(factor_matrix(ones, t) != 0).astype(np.int64) for t in range(L)]  # P[t][out, in]
    applied = list(range(L)) if B.increasing else list(range(L - 1, -1, -1))
    sel = np.zeros((len(keep), n), dtype=np.int64)
    sel[np.arange(len(keep)), keep] = 1
    mask = np.zeros((L, n // 2, 2, 2), dtype=bool)
    for pos, t in enumerate(applied):
        M = sel.copy()  # paths from level-(t+1) indices to kept outputs
        for u in reversed(applied[pos + 1:]):
            M = M @ P[u]
        reach = M.sum(axis=0) > 0  # index after factor t reaches keep
        used_entries = (P[t] > 0) & reach[:, None]  # entry (out, in) of factor t
        # map back to the twiddle layout (same enumeration as the reference)
        s = 1 << t
        p = np.arange(n // 2)
        i = 2 * s * (p // s) + p % s
        j = i + s
        mask[t, :, 0, 0] = used_entries[i, i]
        mask[t, :, 0, 1] = used_entries[i, j]
        mask[t, :, 1, 0] = used_entries[j, i]
        mask[t, :, 1, 1] = used_entries[j, j]
        # the entry count equals the structural count of the factor's used rows
        assert used_entries.sum() == mask[t].sum()
    return mask


@pytest.mark.parametrize("increasing", [True, False])
@pytest.mark.parametrize("n", [2, 4, 8, 16, 32])
def test_weights_used_against_brute_force(n, increasing):
    rng = np.random.default_rng(n + increasing)
    B = Butterfly.identity(n, increasing=increasing)
    subsets = [np.arange(n)]
    for l in range(1, n + 1):
        for _ in range(6 if n <= 16 else 2):
            subsets.append(np.sort(rng.choice(n, size=l, replace=False)))
        subsets.append(np.arange(l))
        subsets.append((np.arange(l) * n) // l)
    for keep in subsets:
        T = TruncatedButterfly(B, keep)
        ref = _brute_force_mask(B, keep)
        np.testing.assert_array_equal(T.weights_used_mask, ref)
        assert T.n_weights_used == int(ref.sum()) <= max_weights_used(n, len(keep))
        assert T.n_weights_used <= 2 * n * math.log2(len(keep)) + 2 * n - 2 * len(keep) + 1e-9


def test_all_weights_used_for_full_keep_and_few_for_one():
    for n in (2, 64, 1024):
        T = TruncatedButterfly(Butterfly.hadamard(n), np.arange(n))
        assert T.n_params == T.n_weights_used == 2 * n * (n.bit_length() - 1)
        # one kept output: 2 (n - 1) weights (a binary tree of 2x2 rows)
        assert TruncatedButterfly(Butterfly.hadamard(n), [n // 3]).n_weights_used == 2 * (n - 1)


def test_unused_weights_do_not_affect_kept_outputs():
    rng = np.random.default_rng(7)
    for increasing in (True, False):
        B = Butterfly.random(64, seed=1, increasing=increasing)
        keep = np.sort(rng.choice(64, size=5, replace=False))
        T = TruncatedButterfly(B, keep)
        tw = np.array(B.twiddles)
        tw[~T.weights_used_mask] = rng.standard_normal(np.count_nonzero(~T.weights_used_mask))
        T2 = TruncatedButterfly(Butterfly(tw, increasing=increasing), keep)
        np.testing.assert_allclose(T2.todense(), T.todense(), atol=1e-12)
        # and changing a used weight does change them
        tw2 = np.array(B.twiddles)
        tw2[T.weights_used_mask] += 1.0
        assert not np.allclose(TruncatedButterfly(Butterfly(tw2, increasing=increasing), keep).todense(), T.todense())


def test_max_weights_used_closed_form_attained():
    for n in (2, 16, 128):
        for l in range(1, n + 1):
            W = max_weights_used(n, l)
            inc = TruncatedButterfly(Butterfly.identity(n), np.arange(l)).n_weights_used
            dec = TruncatedButterfly(Butterfly.identity(n, increasing=False), (np.arange(l) * n) // l).n_weights_used
            assert inc == dec == W
            bound = 2 * n * math.log2(l) + 2 * n - 2 * l
            if l & (l - 1) == 0:
                assert W == bound
            else:
                assert W < bound


# ---------------------------------------------------------------------------- bad input


def test_bad_keep():
    B = Butterfly.identity(8)
    with pytest.raises(ValueError, match=r"keep contains index 8, out of range"):
        TruncatedButterfly(B, [0, 8])
    with pytest.raises(ValueError, match=r"keep contains index -1, out of range"):
        TruncatedButterfly(B, [-1, 3])
    with pytest.raises(ValueError, match=r"duplicate indices \(e.g. 3\)"):
        TruncatedButterfly(B, [1, 3, 3])
    with pytest.raises(ValueError, match=r"keep has l=0 entries; expected 1 <= l <= n=8"):
        TruncatedButterfly(B, np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match=r"keep has l=9 entries"):
        TruncatedButterfly(B, np.arange(9))
    with pytest.raises(TypeError, match=r"keep has dtype float64"):
        TruncatedButterfly(B, [0.0, 1.0])
    with pytest.raises(TypeError, match=r"keep has dtype bool"):
        TruncatedButterfly(B, np.ones(8, dtype=bool))
    with pytest.raises(ValueError, match=r"keep must be sorted"):
        TruncatedButterfly(B, [3, 1])
    with pytest.raises(ValueError, match=r"keep must be 1-D"):
        TruncatedButterfly(B, [[0, 1]])
    with pytest.raises(TypeError, match=r"butterfly must be a numerics.butterfly.Butterfly"):
        TruncatedButterfly(np.eye(8), [0, 1])


def test_bad_random_arguments():
    with pytest.raises(ValueError, match=r"l must be <= 8, got l=9"):
        TruncatedButterfly.random(8, 9, seed=0)
    with pytest.raises(ValueError, match=r"l must be >= 1, got l=0"):
        TruncatedButterfly.random(8, 0, seed=0)
    with pytest.raises(TypeError, match=r"l must be an integer"):
        TruncatedButterfly.random(8, 2.0, seed=0)
    with pytest.raises(ValueError, match=r"n=12 is not a power of two"):
        TruncatedButterfly.random(12, 2, seed=0)
    with pytest.raises(TypeError, match=r"seed must be None, a non-negative int"):
        TruncatedButterfly.random(8, 2, seed=1.5)
    with pytest.raises(TypeError, match=r"seed must be None, a non-negative int"):
        TruncatedButterfly.random(8, 2, seed="abc")
    with pytest.raises(ValueError, match=r"kind must be one of \('fjlt', 'random', 'orthogonal'\)"):
        TruncatedButterfly.random(8, 2, seed=0, kind="dft")
    with pytest.raises(ValueError, match=r"l must be <= 8"):
        max_weights_used(8, 9)


def test_bad_product_inputs():
    T = TruncatedButterfly.random(8, 3, seed=0)
    with pytest.raises(ValueError, match=r"expected 8 rows"):
        T @ np.ones(3)
    with pytest.raises(ValueError, match=r"expected 3 rows"):
        T.H @ np.ones(8)
    with pytest.raises(TypeError, match=r"y has dtype int64"):
        T.H @ np.ones(3, dtype=np.int64)
    with pytest.raises(ValueError, match=r"y contains NaN or inf"):
        T.H @ np.array([1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match=r"expected 3 columns"):
        T.apply_rows(np.ones((2, 8)), adjoint=True)
    with pytest.raises(ValueError, match=r"expected 8 columns"):
        T.apply_rows(np.ones((2, 3)))
