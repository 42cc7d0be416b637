"""Constructive membership in ``(BB*)^w_e``: explicit twiddles for permutations, sparse and structured matrices.

Every function returns a :class:`~numerics.kaleidoscope.Kaleidoscope` whose dense
matrix equals the target (up to floating-point rounding); the algorithms are
described in ``theory/kaleidoscope.md``.

* :func:`permutation_bbstar` -- any permutation of a power-of-two size is in ``BB*``
  (Benes network, routed by 2-colouring; :mod:`._kernels`).
* :func:`sparse_kaleidoscope` -- any ``n x n`` matrix with ``s`` nonzeros is in
  ``(BB*)^(4 ceil(s/n))_4`` (copy blocks, a diagonal and summing blocks between
  permutations).
* :func:`circulant_kaleidoscope` (``BB*``), :func:`toeplitz_kaleidoscope`
  (``(BB*)_2``), :func:`dft_kaleidoscope` (``(BB*)^2``), :func:`dct_kaleidoscope`
  and :func:`dst_kaleidoscope` (``(BB*)^2_2``).
"""
from __future__ import annotations

import numpy as np

from numerics._validation import check_array, check_power_of_two
from numerics.butterfly import Butterfly, bit_reversal_permutation

from .operator import Kaleidoscope

__all__ = [
    "check_permutation",
    "permutation_bbstar",
    "permutation_twiddles",
    "sparse_kaleidoscope",
    "circulant_kaleidoscope",
    "toeplitz_kaleidoscope",
    "dft_kaleidoscope",
    "dct_kaleidoscope",
    "dst_kaleidoscope",
    "dct2_matrix",
    "dst2_matrix",
]

_IDENT = np.array([[1.0, 0.0], [0.0, 1.0]])


def check_permutation(name: str, perm, *, power_of_two: bool = True) -> np.ndarray:
    """``perm`` as int64 if it is a permutation of ``range(len(perm))`` (of power-of-two length >= 2), else raise."""
    arr = np.asarray(perm)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array (a permutation), got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    N = arr.size
    if power_of_two and (N < 2 or N & (N - 1)):
        raise ValueError(f"{name} has length {N}; expected a power of two >= 2 (a BB* network needs N = 2**L)")
    arr = arr.astype(np.int64)
    if N and (arr.min() < 0 or arr.max() >= N or np.unique(arr).size != N):
        seen = np.bincount(np.clip(arr, 0, N - 1), minlength=N)
        bad = int(np.flatnonzero((seen != 1))[0]) if (seen != 1).any() else int(arr[(arr < 0) | (arr >= N)][0])
        raise ValueError(
            f"{name} is not a permutation of range({N}): value {bad} is missing, repeated or out of range"
        )
    return arr


def _identity_tw(L: int, half: int, dtype=np.float64) -> np.ndarray:
    tw = np.zeros((L, half, 2, 2), dtype=dtype)
    tw[..., 0, 0] = 1
    tw[..., 1, 1] = 1
    return tw


def permutation_twiddles(perm):
    """Twiddles ``(tw_dec, tw_inc)`` (float64, 0/1 entries) with ``B_inc B*_dec x = x[perm]``."""
    from . import _kernels as K

    p = check_permutation("perm", perm)
    N = p.size
    L = N.bit_length() - 1
    tw_dec = np.zeros((L, N // 2, 2, 2))
    tw_inc = np.zeros((L, N // 2, 2, 2))
    K.benes_route(p, tw_dec, tw_inc)
    return tw_dec, tw_inc


def permutation_bbstar(perm, *, dtype=np.float64) -> Kaleidoscope:
    """The permutation matrix ``P = np.eye(N)[perm]`` (so ``P @ x == x[perm]``) as a member of ``BB*``.

    Parameters
    ----------
    perm : array of int, shape (N,)
        A permutation of ``range(N)``, ``N`` a power of two ``>= 2``.
    dtype : float32, float64, complex64 or complex128

    Returns
    -------
    Kaleidoscope
        ``w = 1``, ``e = 1``; every block is ``I_2`` or the swap ``[[0, 1], [1, 0]]``.

    Raises
    ------
    TypeError, ValueError
        If ``perm`` is not an integer permutation of power-of-two length.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.random.default_rng(0).permutation(16)
    >>> K = permutation_bbstar(p)
    >>> bool(np.array_equal(K.todense(), np.eye(16)[p]))
    True
    """
    tw_dec, tw_inc = permutation_twiddles(perm)
    return Kaleidoscope(np.stack([tw_dec, tw_inc])[None].astype(dtype))


def _rev_conjugate(tw: np.ndarray) -> np.ndarray:
    """Twiddles of ``R F R`` for every factor (``R`` = bit reversal): stride ``2^t`` becomes ``2^(L-1-t)``."""
    L, half = tw.shape[:2]
    N = 2 * half
    rev = bit_reversal_permutation(N)
    out = np.empty_like(tw)
    for t in range(L):
        s = 1 << t
        p = np.arange(half)
        i = 2 * s * (p // s) + p % s
        ri = rev[i]
        t2 = L - 1 - t
        s2 = 1 << t2
        q = (ri // (2 * s2)) * s2 + ri % s2
        out[t2, q] = tw[t, p]
    return out


def permutation_inc_dec(perm):
    """Twiddles ``(tw_inc, tw_dec)`` with ``B*_dec B_inc x = x[perm]`` (increasing butterfly applied first).

    Route ``R P R`` (``R`` = bit reversal) with :func:`permutation_twiddles` and
    conjugate each factor by ``R``: that maps stride ``2^t`` to ``2^(L-1-t)``, turning
    the decreasing half into an increasing one and conversely.
    """
    p = check_permutation("perm", perm)
    rev = bit_reversal_permutation(p.size)
    d, i = permutation_twiddles(rev[p[rev]])
    return _rev_conjugate(d), _rev_conjugate(i)


def _pair_index(idx: np.ndarray, t: int) -> np.ndarray:
    s = 1 << t
    return (idx // (2 * s)) * s + idx % s


def _pack_blocks(counts: np.ndarray, N: int, what: str):
    """Aligned power-of-two blocks (sizes ``>= counts``) for the nonzero counts; returns starts and sizes."""
    used = np.flatnonzero(counts)
    sizes = np.zeros(counts.size, dtype=np.int64)
    sizes[used] = 1 << np.ceil(np.log2(counts[used])).astype(np.int64)
    order = used[np.argsort(-sizes[used], kind="stable")]
    starts = np.full(counts.size, -1, dtype=np.int64)
    starts[order] = np.concatenate([[0], np.cumsum(sizes[order])[:-1]]) if order.size else []
    total = int(sizes.sum())
    if total > N:
        raise ValueError(f"{what} blocks need {total} slots but only N={N} are available")
    return starts, sizes


def _complete(partial: np.ndarray) -> np.ndarray:
    """Fill the ``-1`` entries of a partial injective map with the unused values (a full permutation)."""
    p = partial.copy()
    free = np.setdiff1d(np.arange(p.size), p[p >= 0])
    p[p < 0] = free
    return p


def _block_tw(L: int, half: int, starts, sizes, block) -> np.ndarray:
    """Butterfly twiddles with ``block`` on every pair inside the aligned blocks, identity elsewhere."""
    tw = _identity_tw(L, half)
    N = 2 * half
    for t in range(L):
        s = 1 << t
        sel = sizes > s  # blocks of size >= 2s contain whole pairs of stride s
        if not sel.any():
            continue
        b = starts[sel]
        m = sizes[sel]
        # every i in [b, b + m) with bit t clear
        idx = np.concatenate([bb + np.flatnonzero(((np.arange(mm) >> t) & 1) == 0) for bb, mm in zip(b, m)])
        tw[t, _pair_index(idx, t)] = block
    return tw


def _sparse_stage(rows, cols, vals, N: int):
    """Four ``BB*`` pairs on ``N`` coordinates realising ``y[r] += v x[c]`` for the listed entries (``y = M x``).

    Columns and rows each get an aligned power-of-two block of slots; returns the
    twiddles, shape ``(4, 2, L, N/2, 2, 2)``.
    """
    L = N.bit_length() - 1
    half = N // 2
    dtype = np.result_type(vals.dtype, np.float64)
    m = rows.size
    # column side: sort entries by column, slot = column block start + rank within the column
    cc = np.bincount(cols, minlength=N)
    cstart, csize = _pack_blocks(cc, N, "column")
    o = np.argsort(cols, kind="stable")
    rank_c = np.empty(m, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(cc)])[cols[o]]
    rank_c[o] = np.arange(m) - first
    cslot = cstart[cols] + rank_c
    # row side
    rc = np.bincount(rows, minlength=N)
    rstart, rsize = _pack_blocks(rc, N, "row")
    o = np.argsort(rows, kind="stable")
    rank_r = np.empty(m, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(rc)])[rows[o]]
    rank_r[o] = np.arange(m) - first
    rslot = rstart[rows] + rank_r
    # P1: x[c] -> slot cstart[c]
    p1 = -np.ones(N, dtype=np.int64)
    usedc = np.flatnonzero(cc)
    p1[cstart[usedc]] = usedc
    d1, i1 = permutation_twiddles(_complete(p1))
    # copy (decreasing): [[1, 0], [1, 0]] inside column blocks, then the diagonal folded into the stride-1 factor
    copy = _block_tw(L, half, cstart, csize, np.array([[1.0, 0.0], [1.0, 0.0]])).astype(dtype)
    D = np.zeros(N, dtype=dtype)
    D[cslot] = vals
    copy[0, :, 0, :] *= D[0::2, None]
    copy[0, :, 1, :] *= D[1::2, None]
    # P3: column slot -> row slot (increasing half first)
    p3 = -np.ones(N, dtype=np.int64)
    p3[rslot] = cslot
    i3, d3 = permutation_inc_dec(_complete(p3))
    # sum (increasing): [[1, 1], [0, 0]] inside row blocks
    ssum = _block_tw(L, half, rstart, rsize, np.array([[1.0, 1.0], [0.0, 0.0]]))
    # P4: slot rstart[r] -> r
    p4 = -np.ones(N, dtype=np.int64)
    usedr = np.flatnonzero(rc)
    p4[usedr] = rstart[usedr]
    d4, i4 = permutation_twiddles(_complete(p4))
    pairs = [(d1, i1), (copy, i3), (d3, ssum), (d4, i4)]
    return np.stack([np.stack([a.astype(dtype), b.astype(dtype)]) for a, b in pairs])


def sparse_kaleidoscope(S, *, e=4) -> Kaleidoscope:
    """An ``n x n`` matrix with ``s`` nonzeros as a member of ``(BB*)^(4 ceil(s/n))_e`` (default ``e = 4``).

    Parameters
    ----------
    S : ndarray, shape (n, n)
        Dense float32/float64/complex64/complex128, finite; ``n`` a power of two.
        (Zeros are the structural zeros.)
    e : int, default 4
        Expansion, a power of two ``>= 4``.

    Returns
    -------
    Kaleidoscope
        ``w = 4 ceil(s / n)`` (``w = 4`` if ``S = 0``), ``e``, dtype float64 or complex128.

    Notes
    -----
    The ``s`` nonzeros are split into ``k = ceil(s/n)`` chunks of at most ``n``.
    With coordinates ``A = [0, n)`` (input ``x``) and ``B = [n, 2n)`` (accumulator
    ``y``), chunk ``i < k`` applies ``(x, y) -> (x, y + S_i x)`` and the last chunk
    ``(x, y) -> S_k x + y`` into ``A``; each is one :func:`_sparse_stage`, i.e.
    four ``BB*`` pairs on ``N = e n`` coordinates.
    """
    S = check_array("S", S, ndim=2, dtypes=(np.float32, np.float64, np.complex64, np.complex128))
    n = S.shape[0]
    if S.shape[1] != n:
        raise ValueError(f"S must be square, got shape {S.shape}")
    check_power_of_two("n (the size of S)", n)
    e = check_power_of_two("e", e)
    if e < 4:
        raise ValueError(f"e must be >= 4 for the sparse construction, got e={e}")
    N = n * e
    if N < 2:
        raise ValueError(f"n * e must be >= 2, got n={n}, e={e}")
    dtype = np.complex128 if S.dtype.kind == "c" else np.float64
    r, c = np.nonzero(S)
    v = S[r, c].astype(dtype)
    s = r.size
    k = max(1, -(-s // n))
    stages = []
    ar = np.arange(n)
    for i in range(k):
        sl = slice(i * n, min((i + 1) * n, s))
        rr, cc, vv = r[sl], c[sl], v[sl]
        if i < k - 1:
            # keep x in A, y in B: entries x_c -> A c (1), y_r -> B r (1), S_i: x_c -> B r
            rows = np.concatenate([ar, n + ar, n + rr])
            cols = np.concatenate([ar, n + ar, cc])
            vals = np.concatenate([np.ones(2 * n, dtype=dtype), vv])
        else:
            if k == 1:
                rows, cols, vals = rr, cc, vv
            else:
                rows = np.concatenate([ar, rr])
                cols = np.concatenate([n + ar, cc])
                vals = np.concatenate([np.ones(n, dtype=dtype), vv])
        stages.append(_sparse_stage(rows.astype(np.int64), cols.astype(np.int64), vals, N))
    return Kaleidoscope(np.concatenate(stages), n)


# -- structured transforms ---------------------------------------------------------------
def _check_size(n) -> int:
    n = check_power_of_two("n", n)
    if n < 2:
        raise ValueError(f"n must be a power of two >= 2, got n={n}")
    return n


def circulant_kaleidoscope(c) -> Kaleidoscope:
    """The circulant ``C[i, j] = c[(i - j) mod n]`` (``C x`` = circular convolution ``c * x``) in ``BB*``.

    ``C = F^{-1} diag(F c) F`` with ``F = P B`` (decimation in frequency,
    :meth:`Butterfly.dft` with ``increasing=False``, ``P`` the bit reversal):
    ``C = (1/n) B^H diag((F c)[perm]) B``; ``B`` has decreasing strides, ``B^H``
    increasing ones, and the diagonal is folded into the last factor of ``B^H``.
    Returns a complex128 operator.
    """
    c = check_array("c", c, ndim=1, dtypes=(np.float32, np.float64, np.complex64, np.complex128))
    n = _check_size(c.size)
    B = Butterfly.dft(n, increasing=False)
    lam = np.fft.fft(c.astype(np.complex128))[bit_reversal_permutation(n)] / n
    dec = np.array(B.twiddles)
    inc = np.ascontiguousarray(np.conj(np.swapaxes(dec, -1, -2)))
    # the last applied factor of B^H (increasing) is stride n/2: scale its inputs by lam
    # (diag before B^H == scaling the columns of the first applied factor of B^H: stride 1)
    i = np.arange(0, n, 2)
    inc[0, :, :, 0] *= lam[i, None]
    inc[0, :, :, 1] *= lam[i + 1, None]
    return Kaleidoscope(np.stack([dec, inc])[None])


def toeplitz_kaleidoscope(col, row) -> Kaleidoscope:
    """The Toeplitz ``T[i, j] = col[i - j]`` (``i >= j``), ``row[j - i]`` (``j > i``) in ``(BB*)_2`` (``w = 1, e = 2``).

    ``T`` is the top-left corner of the ``2n`` circulant with first column
    ``(col[0], ..., col[n-1], 0, row[n-1], ..., row[1])``.  ``row[0]`` is ignored
    (``col[0]`` is the diagonal), as in :func:`scipy.linalg.toeplitz`.
    """
    col = check_array("col", col, ndim=1, dtypes=(np.float32, np.float64, np.complex64, np.complex128))
    row = check_array("row", row, ndim=1, dtypes=(np.float32, np.float64, np.complex64, np.complex128))
    n = _check_size(col.size)
    if row.size != n:
        raise ValueError(f"row has length {row.size}; expected {n} (the length of col)")
    c = np.concatenate([col.astype(np.complex128), [0], row[:0:-1].astype(np.complex128)])
    K = circulant_kaleidoscope(c)
    return Kaleidoscope(K.twiddles, n)


def dft_kaleidoscope(n) -> Kaleidoscope:
    """The unnormalised DFT ``numpy.fft.fft(np.eye(n))`` in ``(BB*)^2``: ``F = B_dit P``.

    ``P`` (bit reversal) is routed into the first ``BB*`` pair (Benes); the second
    pair is ``B_dit`` (:meth:`Butterfly.dft`, increasing strides) after an identity ``B*``.
    """
    n = _check_size(n)
    L = n.bit_length() - 1
    d, i = permutation_twiddles(bit_reversal_permutation(n))
    B = np.array(Butterfly.dft(n, increasing=True).twiddles)
    tw = np.stack([np.stack([d, i]), np.stack([_identity_tw(L, n // 2), B])]).astype(np.complex128)
    return Kaleidoscope(tw)


def dct2_matrix(n, *, norm=None) -> np.ndarray:
    """``scipy.fft.dct(np.eye(n), type=2, norm=norm, axis=0)``: ``y_k = 2 sum_j x_j cos(pi k (2j+1) / (2n))``."""
    from scipy.fft import dct

    return dct(np.eye(n), type=2, norm=norm, axis=0)


def dst2_matrix(n, *, norm=None) -> np.ndarray:
    """``scipy.fft.dst(np.eye(n), type=2, norm=norm, axis=0)``: ``y_k = 2 sum_j x_j sin(pi (k+1) (2j+1) / (2n))``."""
    from scipy.fft import dst

    return dst(np.eye(n), type=2, norm=norm, axis=0)


def _check_norm(norm):
    if norm not in (None, "ortho"):
        raise ValueError(f"norm must be None or 'ortho', got norm={norm!r}")
    return norm


def _xor_left(tw: np.ndarray, mask: int) -> np.ndarray:
    """Twiddles of ``X_mask B`` for an increasing butterfly ``B`` (``(X_mask y)_i = y_{i xor mask}``).

    Factor ``t`` becomes ``X_{m<=t} F_t X_{m<t}`` (``m<=t``: the bits ``0..t`` of the
    mask), again a stride-``2^t`` factor: its pair at ``i`` takes the block of
    ``F_t``'s pair at ``i xor m<t``, rows swapped if bit ``t`` of the mask is set.
    """
    L, half = tw.shape[:2]
    out = np.empty_like(tw)
    for t in range(L):
        s = 1 << t
        low = mask & (s - 1)
        p = np.arange(half)
        i = 2 * s * (p // s) + p % s
        src = _pair_index(i ^ low, t)
        blk = tw[t, src]
        out[t] = blk[:, ::-1, :] if (mask >> t) & 1 else blk
    return out


def _dct_tw(n: int, norm, *, sign_input: bool, reverse_output: bool) -> np.ndarray:
    """``(BB*)^2_2`` twiddles of the DCT-II (optionally with input signs ``(-1)^j`` and reversed output).

    ``DCT-II x = top_n( D F_{2n} G x )`` with ``G x = (x, J x)`` (``J`` reversal),
    ``D = diag(exp(-i pi k / (2n)))`` and ``F_{2n} = B_dit P``.  ``P G = (P Q) C``
    with ``C`` the stride-``n`` copy ``(x, 0) -> (x, x)`` and ``Q = diag(I, J)``:
    route ``P Q`` by Benes and fold ``C`` (and the input signs) into its first factor.
    """
    N = 2 * n
    L = N.bit_length() - 1
    rev = bit_reversal_permutation(N)
    q = np.arange(N)
    q[n:] = n + (n - 1 - np.arange(n))  # (Q z)[i] = z[q[i]]: J on the lower half
    d, i = permutation_twiddles(q[rev])  # (P Q z)[i] = (Q z)[rev[i]] = z[q[rev[i]]]
    d = d.astype(np.complex128)
    i = i.astype(np.complex128)
    # first applied factor of d is stride n (t = L-1): right-multiply its blocks by [[1, 0], [1, 0]]
    copy = np.array([[1.0, 0.0], [1.0, 0.0]])
    d[L - 1] = d[L - 1] @ copy
    if sign_input:
        sgn = (-1.0) ** np.arange(n)
        d[L - 1, :, :, 0] *= sgn[:, None]  # pair p of stride n joins p and p + n; x lives at p < n
    B = np.array(Butterfly.dft(N, increasing=True).twiddles)
    k = np.arange(N)
    D = np.exp(-1j * np.pi * k / N)
    if norm == "ortho":
        D = D * np.sqrt(1.0 / (2 * n))
        D[0] *= np.sqrt(0.5)
    # fold D into the last applied factor (stride n, t = L-1): scale the rows of its blocks
    top = np.arange(n)
    B[L - 1, :, 0, :] *= D[top, None]
    B[L - 1, :, 1, :] *= D[top + n, None]
    if reverse_output:
        B = _xor_left(B, n - 1)
    return np.stack([np.stack([d, i]), np.stack([_identity_tw(L, n).astype(np.complex128), B])])


def dct_kaleidoscope(n, *, norm=None) -> Kaleidoscope:
    """The DCT-II (``scipy.fft.dct(type=2, norm=norm)``) as a member of ``(BB*)^2_2`` (complex128 twiddles).

    See :func:`_dct_tw`.  ``norm``: ``None`` (unnormalised) or ``"ortho"``.
    """
    n = _check_size(n)
    norm = _check_norm(norm)
    return Kaleidoscope(_dct_tw(n, norm, sign_input=False, reverse_output=False), n)


def dst_kaleidoscope(n, *, norm=None) -> Kaleidoscope:
    """The DST-II (``scipy.fft.dst(type=2, norm=norm)``) as a member of ``(BB*)^2_2`` (complex128 twiddles).

    ``DST-II = J DCT-II diag((-1)^j)`` (``J`` the reversal of the ``n`` outputs, and
    for ``norm="ortho"`` the special scaling moves from output ``0`` to ``n-1``):
    the signs go into the first factor, ``J`` into the last butterfly as an
    xor-by-``(n-1)`` relabelling (:func:`_xor_left`).
    """
    n = _check_size(n)
    norm = _check_norm(norm)
    tw = _dct_tw(n, None, sign_input=True, reverse_output=True)
    if norm == "ortho":
        N = 2 * n
        L = N.bit_length() - 1
        scale = np.full(N, np.sqrt(1.0 / (2 * n)))
        scale[n - 1] *= np.sqrt(0.5)
        B = tw[1, 1]
        top = np.arange(n)
        B[L - 1, :, 0, :] *= scale[top, None]
        B[L - 1, :, 1, :] *= scale[top + n, None]
    return Kaleidoscope(tw, n)
