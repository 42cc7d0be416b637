"""Tests of numerics.hadamard: the fast Walsh-Hadamard transform and its helpers.

Oracles: scipy.linalg.hadamard (dense product), the plain-NumPy stage-by-stage
reference in numerics.hadamard._reference, and the SymPy checks in
theory/symbolic_hadamard.py.
"""
from __future__ import annotations

import importlib.util
import math
import pathlib
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numerics
from numerics.hadamard import _kernels
from numerics.hadamard import fwht, fwht_inplace, next_power_of_two, pad_to_power_of_two
from numerics.hadamard._reference import dense_reference, fwht_reference, new_counter, total_ops

ROOT = pathlib.Path(__file__).resolve().parents[1]
NS = [2**p for p in range(0, 13)]  # 1 .. 4096
DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def H(n: int) -> np.ndarray:
    return scipy.linalg.hadamard(n, dtype=np.float64)


def rel(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def along(Hn: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """H applied along ``axis`` of ``x`` (in float64)."""
    y = np.tensordot(Hn, np.asarray(x, dtype=np.float64), axes=([1], [axis]))
    return np.moveaxis(y, 0, axis)


# ---------------------------------------------------------------------------
# Correctness against scipy.linalg.hadamard
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", NS)
def test_1d_matches_dense_hadamard_every_n(n):
    rng = np.random.default_rng(n)
    Hn = H(n)
    for dtype in DTYPES:
        x = rng.standard_normal(n).astype(dtype)
        y = fwht(x)
        assert y.dtype == dtype and y.shape == (n,)
        assert rel(y, Hn @ x.astype(np.float64)) <= TOL[dtype]


@pytest.mark.parametrize("n", [1, 2, 8, 64, 1024])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_any_axis(n, dtype):
    rng = np.random.default_rng(7)
    Hn = H(n)
    shapes = {0: (n, 3, 5), 1: (3, n, 5), 2: (3, 5, n)}
    for axis, shape in shapes.items():
        x = rng.standard_normal(shape).astype(dtype)
        ref = along(Hn, x, axis)
        for ax in (axis, axis - 3):  # positive and negative spelling
            y = fwht(x, axis=ax)
            assert y.dtype == dtype and y.shape == shape
            assert y.flags.c_contiguous
            assert rel(y, ref) <= TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
def test_layouts_and_axes_agree_bitwise(dtype):
    """Every path (1-D, rows, slabs, serial, parallel) rounds identically, in every norm."""
    rng = np.random.default_rng(9)
    X = rng.standard_normal((300, 128)).astype(dtype)
    for norm in ("backward", "ortho", "forward"):
        rows = fwht(X, norm=norm)
        np.testing.assert_array_equal(fwht(X.T, axis=0, norm=norm), rows.T)
        np.testing.assert_array_equal(fwht(np.ascontiguousarray(X.T), axis=0, norm=norm), rows.T)
        np.testing.assert_array_equal(fwht(X[7], norm=norm), rows[7])
        Y = X.copy()
        fwht_inplace(Y, norm=norm)
        np.testing.assert_array_equal(Y, rows)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_batches_use_parallel_kernel_and_agree(dtype):
    rng = np.random.default_rng(3)
    n = 256
    rows = numerics.hadamard.PARALLEL_MIN_ROWS + 3
    X = rng.standard_normal((rows, n)).astype(dtype)
    Y = fwht(X)
    assert rel(Y, X.astype(np.float64) @ H(n)) <= TOL[dtype]
    # serial kernel on the same data gives identical bits
    Z = X.copy()
    _kernels.fwht_rows_copy_serial(Z, Z, 1.0)
    np.testing.assert_array_equal(Y, Z)


@pytest.mark.parametrize("n", [2, 16, 4096, 2**15])
def test_norm_modes(n):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, n))
    ref = x @ H(n) if n <= 4096 else fwht_reference(x)
    assert rel(fwht(x, norm="backward"), ref) <= 1e-12
    assert rel(fwht(x, norm=None), ref) <= 1e-12  # None means "backward", as in scipy.fft
    assert rel(fwht(x, norm="ortho"), ref / math.sqrt(n)) <= 1e-12
    assert rel(fwht(x, norm="forward"), ref / n) <= 1e-12
    # ortho preserves norms and is its own inverse; forward inverts backward
    y = fwht(x, norm="ortho")
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.linalg.norm(x, axis=1), rtol=1e-12)
    assert rel(fwht(y, norm="ortho"), x) <= 1e-12
    assert rel(fwht(fwht(x), norm="forward"), x) <= 1e-12
    x32 = x.astype(np.float32)
    assert rel(fwht(fwht(x32, norm="ortho"), norm="ortho"), x32) <= 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(dtype):
    rng = np.random.default_rng(5)
    n = 64
    Hn = H(n)
    base = rng.standard_normal((2 * n, 3 * n)).astype(dtype)
    cases = [
        (base[:n, :n].T, 0),  # transposed view
        (base[:n, :n].T, 1),
        (base[::2, : 2 * n : 2], 1),  # strided rows and columns
        (base[::2, ::-3][:, :n], 1),  # negative stride
        (np.asfortranarray(base[:n, :n]), 1),  # Fortran order
        (np.asfortranarray(base[:n, :n]), 0),
        (base[0, ::3][:n], 0),  # 1-D strided
        (base[3, ::-1][:n], -1),  # 1-D reversed
    ]
    for x, axis in cases:
        assert not x.flags.c_contiguous
        before = x.copy()
        y = fwht(x, axis=axis)
        assert rel(y, along(Hn, x, axis)) <= TOL[dtype]
        np.testing.assert_array_equal(x, before)  # input untouched


def test_returns_new_array_and_accepts_read_only_and_lists():
    x = np.arange(8, dtype=np.float64)
    x.flags.writeable = False
    y = fwht(x)
    assert y is not x and not np.shares_memory(x, y)
    np.testing.assert_array_equal(x, np.arange(8.0))
    np.testing.assert_allclose(fwht([1.0, 2.0, 3.0, 4.0]), [10.0, -2.0, -4.0, 0.0])


def test_empty_batch_and_length_one():
    x = np.zeros((0, 8))
    assert fwht(x).shape == (0, 8)
    np.testing.assert_array_equal(fwht(np.array([2.5])), [2.5])
    np.testing.assert_array_equal(fwht(np.array([[2.5], [-1.0]]), axis=1), [[2.5], [-1.0]])


def test_large_n_against_reference():
    rng = np.random.default_rng(2)
    for n in (2**16, 2**18):
        x = rng.standard_normal(n)
        assert rel(fwht(x), fwht_reference(x)) <= 1e-12
        x32 = x.astype(np.float32)
        assert rel(fwht(x32), fwht_reference(x32.astype(np.float64))) <= 1e-5


# ---------------------------------------------------------------------------
# The reference, its operation counter, and the kernels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 4, 32, 1024])
def test_reference_matches_scipy_and_counts(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n)
    c = new_counter()
    y = fwht_reference(x, c)
    assert rel(y, H(n) @ x) <= 1e-12
    assert c["additions"] == c["subtractions"] == n * int(math.log2(n)) // 2
    assert total_ops(c) == n * int(math.log2(n))
    # batched: counts scale with the batch, along any axis
    X = rng.standard_normal((3, n, 2))
    cb = new_counter()
    Y = fwht_reference(X, cb, axis=1)
    assert rel(Y, along(H(n), X, 1)) <= 1e-12
    assert total_ops(cb) == 6 * n * int(math.log2(n))
    # dense product: n (n - 1)
    cd = new_counter()
    assert rel(dense_reference(x, cd), H(n) @ x) <= 1e-12
    assert total_ops(cd) == n * (n - 1)


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 128, 1024, 4096, 2**14, 2**17])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernel_is_bitwise_the_reference_algorithm(n, dtype):
    """Every butterfly rounds like the reference's a + b / a - b, so the results agree exactly."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    ref = fwht_reference(x)
    np.testing.assert_array_equal(fwht(x), ref)
    y = x.copy()
    _kernels.fwht_row_inplace(y)
    np.testing.assert_array_equal(y, ref)
    for inner in (1, 3, 8, 20):  # the slab kernel: scalar and vector stages
        X = rng.standard_normal((2, n, inner)).astype(dtype)
        np.testing.assert_array_equal(fwht(X, axis=1), fwht_reference(X, axis=1))


def test_row_kernel_callable_from_numba_any_layout():
    from numba import njit

    @njit
    def transform_rows_and_column(a):
        _kernels.fwht_row_inplace(a[1])  # contiguous row, layout 'C'
        _kernels.fwht_row_inplace(a[:, 2])  # strided column, scalar path
        v = a[:, 1:17]  # 2-D layout 'A': its rows are contiguous but typed 'A'
        _kernels.fwht_row_inplace(v[5])  # vectorised path through the layout cast

    a = np.random.default_rng(0).standard_normal((8, 32))
    b = a.copy()
    transform_rows_and_column(b)
    expected = a.copy()
    expected[1] = H(32) @ a[1]
    expected[:, 2] = H(8) @ expected[:, 2]
    expected[5, 1:17] = H(16) @ expected[5, 1:17]
    np.testing.assert_allclose(b, expected, rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="power of two"):
        _kernels.fwht_row_inplace(np.zeros(12))


def test_finite_scan_kernel():
    for dtype in DTYPES:
        x = np.zeros(3000, dtype=dtype)
        assert _kernels.first_nonfinite(x) == -1
        for bad, pos in [(np.nan, 2999), (np.inf, 1024), (-np.inf, 0)]:
            y = x.copy()
            y[pos] = bad
            assert _kernels.first_nonfinite(y) == pos


# ---------------------------------------------------------------------------
# fwht_inplace
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_inplace_same_object_and_correct(dtype):
    rng = np.random.default_rng(1)
    for shape, axis in [((64,), -1), ((5, 64), -1), ((64, 5), 0), ((3, 16, 4), 1), ((300, 32), 1)]:
        x = rng.standard_normal(shape).astype(dtype)
        ref = along(H(shape[axis]), x, axis) / math.sqrt(shape[axis])
        out = fwht_inplace(x, axis=axis, norm="ortho")
        assert out is x
        assert rel(x, ref) <= TOL[dtype]


def test_inplace_rows_with_gaps():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((6, 48))
    for view in (a[:, :32], a[::2, 16:], a[::-1, :16]):
        expected = view @ H(view.shape[1])
        res = fwht_inplace(view)
        assert res is view
        np.testing.assert_allclose(view, expected, rtol=1e-12, atol=1e-12)


def test_inplace_allocates_nothing():
    x = np.random.default_rng(0).standard_normal((4, 2**14))  # 512 KiB
    fwht_inplace(x.copy())  # compile / warm up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        data = x.ctypes.data
        out = fwht_inplace(x, norm="ortho")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out is x and out.ctypes.data == data
    assert peak - before < 4096, f"fwht_inplace allocated {peak - before} bytes (array is {x.nbytes})"


def test_inplace_bad_inputs():
    x = np.zeros((4, 8))
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fwht_inplace(ro)
    with pytest.raises(ValueError, match="C-contiguous"):
        fwht_inplace(np.zeros((8, 8)).T)
    with pytest.raises(ValueError, match="C-contiguous"):
        fwht_inplace(np.asfortranarray(np.zeros((8, 8))), axis=0)
    with pytest.raises(ValueError, match="C-contiguous"):
        fwht_inplace(np.zeros(16)[::2])
    overlapping = np.lib.stride_tricks.as_strided(np.zeros(16), shape=(3, 8), strides=(8, 8), writeable=True)
    with pytest.raises(ValueError, match="non-overlapping"):
        fwht_inplace(overlapping)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        fwht_inplace([1.0, 2.0])
    with pytest.raises(TypeError, match="dtype int64"):
        fwht_inplace(np.zeros(8, dtype=np.int64))
    with pytest.raises(ValueError, match="not a power of two"):
        fwht_inplace(np.zeros(6))
    y = np.ones(8)
    y[5] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf \(first at flat index 5"):
        fwht_inplace(y)
    assert np.isnan(y[5]) and np.all(np.delete(y, 5) == 1.0)  # untouched
    g = np.ones((3, 16))[:, :8]
    g[2, 3] = -np.inf
    with pytest.raises(ValueError, match=r"first at index \(2, 3\)"):
        fwht_inplace(g)
    fwht_inplace(y, check_finite=False)  # allowed when asked
    assert np.all(np.isnan(y))


# ---------------------------------------------------------------------------
# Bad inputs for fwht
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 6, 12, 1000])
def test_non_power_of_two_message_points_to_padding(n):
    with pytest.raises(ValueError, match=rf"length {n} along axis .* not a power of two.*pad_to_power_of_two"):
        fwht(np.zeros(n))
    with pytest.raises(ValueError, match="not a power of two"):
        fwht(np.zeros((2, n)), axis=1)
    with pytest.raises(ValueError, match="not a power of two"):
        fwht(np.zeros((n, 4)), axis=0)


def test_zero_length_is_refused():
    with pytest.raises(ValueError, match="length 0"):
        fwht(np.zeros(0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_inputs(bad, dtype):
    x = np.ones(16, dtype=dtype)
    x[9] = bad
    with pytest.raises(ValueError, match=r"NaN or inf \(first at index \(9,\)"):
        fwht(x)
    X = np.ones((3, 8, 4), dtype=dtype)
    X[1, 2, 3] = bad
    with pytest.raises(ValueError, match=r"first at index \(1, 2, 3\)"):
        fwht(X, axis=1)
    with pytest.raises(ValueError, match="NaN or inf"):
        fwht(X.T, axis=1)
    y = fwht(x, check_finite=False)  # skipping the check propagates NaN/inf
    assert not np.all(np.isfinite(y))


def test_overflow_warns():
    x = np.full(4, 1e308)
    with pytest.warns(RuntimeWarning, match="overflowed"):
        y = fwht(x)
    assert np.isinf(y[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fwht(np.full(4, 1e300))  # no false alarm


@pytest.mark.parametrize(
    "x",
    [
        np.arange(8),
        np.arange(8, dtype=np.int32),
        np.zeros(8, dtype=np.complex128),
        np.zeros(8, dtype=bool),
        np.zeros(8, dtype=np.float16),
        np.array([1.0, "a", None, 2.0, 0.0, 0.0, 0.0, 0.0], dtype=object),
    ],
)
def test_bad_dtypes(x):
    with pytest.raises(TypeError, match=rf"x has dtype {x.dtype}; expected float32 or float64"):
        fwht(x)
    with pytest.raises(TypeError, match="expected float32 or float64"):
        fwht(x.reshape(2, 4), axis=1)


def test_bad_axis_ndim_and_norm():
    x = np.zeros((4, 8))
    with pytest.raises(ValueError, match="axis=2 is out of range"):
        fwht(x, axis=2)
    with pytest.raises(ValueError, match="axis=-3 is out of range"):
        fwht(x, axis=-3)
    with pytest.raises(ValueError, match="axis=1 is out of range"):
        fwht(np.zeros(8), axis=1)
    with pytest.raises(TypeError, match="axis must be an integer"):
        fwht(x, axis=1.0)
    with pytest.raises(TypeError, match="axis must be an integer"):
        fwht(np.zeros(8), axis=True)
    with pytest.raises(ValueError, match="0-d"):
        fwht(np.float64(3.0))
    with pytest.raises(ValueError, match="0-d"):
        fwht_inplace(np.array(3.0))
    for norm in ("orthogonal", "Ortho", "", 1):
        with pytest.raises(ValueError, match="norm=.* is not a valid normalisation"):
            fwht(np.zeros(8), norm=norm)
        with pytest.raises(ValueError, match="not a valid normalisation"):
            fwht(x, axis=0, norm=norm)
    with pytest.raises(TypeError, match="float32 or float64"):
        fwht("abcd")


# ---------------------------------------------------------------------------
# Padding helpers
# ---------------------------------------------------------------------------


def test_next_power_of_two():
    assert [next_power_of_two(n) for n in (1, 2, 3, 5, 1000, 1024, 1025)] == [1, 2, 4, 8, 1024, 1024, 2048]
    assert next_power_of_two(np.int64(17)) == 32
    with pytest.raises(ValueError, match="n must be >= 1"):
        next_power_of_two(0)
    with pytest.raises(TypeError, match="n must be an integer"):
        next_power_of_two(4.0)
    with pytest.raises(TypeError, match="n must be an integer"):
        next_power_of_two(True)


def test_pad_to_power_of_two():
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    p = pad_to_power_of_two(x)
    assert p.dtype == np.float32 and p.shape == (2, 4)
    np.testing.assert_array_equal(p, [[1, 2, 3, 0], [4, 5, 6, 0]])
    p0 = pad_to_power_of_two(x, axis=0)
    assert p0.shape == (2, 3) and p0 is not x
    np.testing.assert_array_equal(pad_to_power_of_two(np.ones((3, 5)), axis=0), np.vstack([np.ones((3, 5)), np.zeros((1, 5))]))
    y = fwht(pad_to_power_of_two(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_allclose(y, H(4) @ [1.0, 2.0, 3.0, 0.0])
    with pytest.raises(ValueError, match="0-d"):
        pad_to_power_of_two(1.0)
    with pytest.raises(ValueError, match="length 0"):
        pad_to_power_of_two(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="axis=2 is out of range"):
        pad_to_power_of_two(np.zeros((2, 3)), axis=2)


def test_public_names_exposed_lazily():
    assert numerics.fwht is fwht
    assert numerics.fwht_inplace is fwht_inplace
    assert numerics.pad_to_power_of_two is pad_to_power_of_two
    assert numerics.next_power_of_two is next_power_of_two
    assert set(numerics.hadamard.__all__) >= {"fwht", "fwht_inplace", "pad_to_power_of_two", "next_power_of_two"}


# ---------------------------------------------------------------------------
# Properties (Hypothesis)
# ---------------------------------------------------------------------------

_elements = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
_coefficients = st.floats(min_value=-10, max_value=10, allow_subnormal=False)
EPS = np.finfo(np.float64).eps


@st.composite
def _vector_pairs(draw):
    n = 2 ** draw(st.integers(min_value=0, max_value=10))
    x = draw(hnp.arrays(np.float64, n, elements=_elements))
    y = draw(hnp.arrays(np.float64, n, elements=_elements))
    return x, y, draw(_coefficients), draw(_coefficients)


@settings(deadline=None, derandomize=True, max_examples=60)
@given(_vector_pairs())
def test_property_linearity_and_involution(pair):
    """Linearity and the two inverses, within worst-case rounding bounds.

    Each output of ``H z`` is a signed sum formed by ``log2 n`` roundings, so
    its error is at most about ``log2(n) * eps * sum|z|``; the tolerances
    below are twice the worst-case bounds derived in theory/fwht.md's terms.
    """
    x, y, a, b = pair
    n = x.size
    L = math.log2(n) + 1
    tiny = 1e-290  # products of coefficients and entries may underflow
    S = np.abs(a * x).sum() + np.abs(b * y).sum()
    lhs = fwht(a * x + b * y)
    rhs = a * fwht(x) + b * fwht(y)
    assert np.max(np.abs(lhs - rhs)) <= 4 * (L + 2) * EPS * S + tiny
    bound = 4 * L * EPS * n * np.abs(x).max() + tiny
    assert np.max(np.abs(fwht(fwht(x, norm="ortho"), norm="ortho") - x)) <= bound
    assert np.max(np.abs(fwht(fwht(x), norm="forward") - x)) <= bound


# ---------------------------------------------------------------------------
# Symbolic checks (theory/symbolic_hadamard.py)
# ---------------------------------------------------------------------------


def _load_symbolic():
    path = ROOT / "theory" / "symbolic_hadamard.py"
    spec = importlib.util.spec_from_file_location("symbolic_hadamard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_symbolic_hadamard_orthogonality_and_butterfly():
    assert _load_symbolic().check_hadamard_orthogonality() is True


def test_symbolic_op_count():
    assert _load_symbolic().check_fwht_op_count() is True


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_kernels_for_other_numba_code(dtype):
    """fwht_strided_inplace(_serial) transform axis 1 of (outer, n, inner) arrays, also from Numba."""
    from numba import njit

    @njit
    def blocks(buf, a, b):
        _kernels.fwht_strided_inplace_serial(buf[: a * b].reshape((1, a, b)), 1.0)

    rng = np.random.default_rng(8)
    for a, b in [(8, 1), (16, 3), (64, 8), (4, 40)]:
        buf = rng.standard_normal(a * b + 5).astype(dtype)
        expected = buf.copy()
        expected[: a * b] = (H(a) @ buf[: a * b].reshape(a, b).astype(np.float64)).ravel()
        blocks(buf, a, b)
        assert rel(buf, expected) <= TOL[dtype]
    X = rng.standard_normal((3, 32, 5)).astype(dtype)
    Y = X.copy()
    _kernels.fwht_strided_inplace(Y, 0.5)
    assert rel(Y, 0.5 * along(H(32), X, 1)) <= TOL[dtype]
