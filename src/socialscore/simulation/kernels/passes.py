"""Simple passes over one chunk of citizens, each compiled on its own.

The behaviour kernel is a sequence of these passes. Each is a separate,
small function over one-dimensional arrays without branches on the citizen,
so that the compiler turns its loop into SIMD code; written inline in one
large kernel, most of the same loops compiled to scalar code. Candidates
of rare events are listed from 64-bit words of comparisons, so the work per
listed citizen has no unpredictable branch either.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from socialscore.simulation import rng

_LOW31 = np.uint64(0x7FFFFFFF)
_LOW8 = np.uint64(0xFF)
_ONE = np.uint32(1)


@njit(cache=True)
def fill_hashes(out: np.ndarray, key: np.uint64, start: int, stream: int) -> None:
    """``out[k]`` = the 64-bit hash of (key, citizen ``start + k``, stream)."""
    for k in range(out.shape[0]):
        out[k] = rng.entity_hash(key, start + k, stream)


@njit(cache=True)
def list_draws_under(
    listed: np.ndarray, bits: np.ndarray, pair_hash: np.ndarray, shift: np.uint64, bound: float
) -> int:
    """List the citizens whose 31-bit draw falls under ``bound``; returns how many.

    ``listed`` (uint64, at least as long as the chunk) receives their
    positions in order; ``bits`` (uint64, one word per 64 citizens) is
    scratch. A vector pass packs the comparisons into 64-bit words, and the
    set bits are read off with a trailing-zero count: no branch per citizen.
    """
    m = pair_hash.shape[0]
    full = m >> 6
    for w in range(full):
        base = w << 6
        b = np.uint64(0)
        for j in range(64):
            u = np.int32((pair_hash[base + j] >> shift) & _LOW31)
            b |= np.uint64(u < bound) << np.uint64(j)
        bits[w] = b
    words = full
    if m > full << 6:
        base = full << 6
        b = np.uint64(0)
        for j in range(m - base):
            u = np.int32((pair_hash[base + j] >> shift) & _LOW31)
            b |= np.uint64(u < bound) << np.uint64(j)
        bits[full] = b
        words += 1
    n = np.uint64(0)
    for w in range(words):
        b = bits[w]
        base = np.uint64(w << 6)
        while b != 0:
            listed[n] = base + np.uint64(trailing_zeros(b))
            n += np.uint64(1)
            b &= b - np.uint64(1)
    return int(n)


@njit(cache=True, fastmath=True)
def largest(values: np.ndarray, floor: float) -> float:
    """The largest of ``values`` and ``floor`` (exact in any order, so a vector loop)."""
    top = floor
    for k in range(values.shape[0]):
        top = max(top, values[k])
    return top


@njit(cache=True)
def group_thresholds(thr: np.ndarray, grp: np.ndarray, thr0: float, thr1: float) -> None:
    """Each citizen's threshold by group: ``thr1`` for the minority, else ``thr0``."""
    for k in range(thr.shape[0]):
        thr[k] = thr1 if grp[k] != 0 else thr0


@njit(cache=True)
def spread_thresholds(
    thr: np.ndarray,
    grp: np.ndarray,
    static_hash: np.ndarray,
    byte_shift: np.uint64,
    thr0: float,
    thr1: float,
    lo_mult: float,
    step: float,
) -> None:
    """Group thresholds times the fixed heterogeneity byte at ``byte_shift``."""
    for k in range(thr.shape[0]):
        level = np.int32((static_hash[k] >> byte_shift) & _LOW8)
        thr[k] = (thr1 if grp[k] != 0 else thr0) * (lo_mult + step * level)


@njit(cache=True)
def scale_by_table(thr: np.ndarray, values: np.ndarray, table: np.ndarray) -> None:
    """``thr[k] *= table[values[k]]`` (a trait's rate multiplier)."""
    for k in range(thr.shape[0]):
        thr[k] *= table[values[k]]


@njit(cache=True)
def scale_by_stress(thr: np.ndarray, stress: np.ndarray, sensitivity: float) -> None:
    """``thr[k] *= 1 + sensitivity · stress[k]``."""
    for k in range(thr.shape[0]):
        thr[k] *= 1.0 + sensitivity * stress[k]


@njit(cache=True)
def scale(thr: np.ndarray, factor: np.ndarray) -> None:
    """``thr[k] *= factor[k]``."""
    for k in range(thr.shape[0]):
        thr[k] *= factor[k]


@njit(cache=True)
def draw(
    mask: np.ndarray,
    pair_hash: np.ndarray,
    thr: np.ndarray,
    grp: np.ndarray,
    shift: np.uint64,
    event: int,
) -> tuple[int, int]:
    """Set ``event``'s bit where the 31-bit draw falls under the threshold.

    Returns the number of events and the number among the minority.
    """
    n_all = np.int32(0)
    n_minority = np.int32(0)
    bit = np.uint32(event)
    for k in range(mask.shape[0]):
        u = np.int32((pair_hash[k] >> shift) & _LOW31)
        hit = np.int32(1) if u < thr[k] else np.int32(0)
        mask[k] |= np.uint32(hit) << bit
        n_all += hit
        n_minority += hit & np.int32(grp[k])
    return n_all, n_minority


@njit(cache=True)
def add_points(
    points: np.ndarray, mask: np.ndarray, rated: np.ndarray, event: int, weight: float
) -> None:
    """``points[k] += weight`` for rated citizens whose ``event`` happened today."""
    ev = np.uint32(event)
    for k in range(points.shape[0]):
        points[k] += rated[k] * weight * np.float64((mask[k] >> ev) & _ONE)


@njit(cache=True)
def decay(
    row: np.ndarray, points: np.ndarray, total: np.ndarray, d: float, cap: float, weight: float
) -> None:
    """Decay an accumulator, add today's points, cap it, and add it to the score total."""
    for k in range(row.shape[0]):
        value = min(max(row[k] * d + points[k], -cap), cap)
        row[k] = value
        total[k] += value * weight


@njit(cache=True)
def decay_or_clear(
    row: np.ndarray,
    points: np.ndarray,
    total: np.ndarray,
    d: float,
    cap: float,
    weight: float,
    mask: np.ndarray,
    clear_event: int,
) -> None:
    """As :func:`decay`, but empty the accumulator on a day ``clear_event`` happens."""
    cb = np.uint32(clear_event)
    for k in range(row.shape[0]):
        keep = 1.0 - np.float64((mask[k] >> cb) & _ONE)
        value = min(max(row[k] * d + points[k], -cap), cap) * keep
        row[k] = value
        total[k] += value * weight


@njit(cache=True)
def scale_keeping(thr: np.ndarray, kept: np.ndarray, factor: np.ndarray) -> None:
    """``kept[k] = thr[k]``, then ``thr[k] *= factor[k]``."""
    for k in range(thr.shape[0]):
        x = thr[k]
        kept[k] = x
        thr[k] = x * factor[k]


@njit(cache=True)
def list_positive(listed: np.ndarray, bits: np.ndarray, values: np.ndarray) -> int:
    """List the positions ``k`` where ``values[k] > 0``; returns how many.

    As :func:`list_draws_under`: ``listed`` (uint16, at least as long as
    ``values``) receives them in order, ``bits`` is scratch.
    """
    m = values.shape[0]
    words = (m + 63) >> 6
    for w in range(words):
        base = w << 6
        b = np.uint64(0)
        for j in range(min(64, m - base)):
            b |= np.uint64(values[base + j] > 0.0) << np.uint64(j)
        bits[w] = b
    return _read_bits(listed, bits, words)


@njit(cache=True, inline="always")
def _read_bits(listed: np.ndarray, bits: np.ndarray, words: int) -> int:
    n = 0
    for w in range(words):
        b = bits[w]
        base = w << 6
        while b != 0:
            listed[n] = np.uint16(base + np.int64(trailing_zeros(b)))
            n += 1
            b &= b - np.uint64(1)
    return n


@njit(cache=True)
def list_flagged(listed: np.ndarray, bits: np.ndarray, flags: np.ndarray, want: int) -> int:
    """List the positions ``k`` where ``flags[k] & want`` is not 0; returns how many.

    As :func:`list_draws_under`: ``listed`` (uint16, at least as long as
    ``flags``) receives them in order, ``bits`` is scratch.
    """
    m = flags.shape[0]
    w8 = np.uint8(want)
    zero = np.uint8(0)
    words = (m + 63) >> 6
    for w in range(words):
        base = w << 6
        b = np.uint64(0)
        for j in range(min(64, m - base)):
            b |= np.uint64((flags[base + j] & w8) != zero) << np.uint64(j)
        bits[w] = b
    return _read_bits(listed, bits, words)


#: Quantities of :func:`probability_sums`: Σ p, Σ p without chilling, Σ p².
SUM_P = 0
SUM_P_UNCHILLED = 1
SUM_P_SQUARED = 2
#: A threshold's chances are draws in 2**31: p = chances · P_UNIT.
P_UNIT = 2.0**-31
#: Squared chances are kept in units of 2**-34 (rounded): p² = value · P2_UNIT.
P2_UNIT = 2.0**-34
_P2_SHIFT = np.int64(28)
_P2_HALF = np.int64(1) << np.int64(27)
_DRAWS = 2147483648.0


@njit(cache=True, inline="always")
def chances(threshold: float) -> np.int64:
    """How many of the 2**31 values of a 31-bit draw fall under ``threshold`` (≥ 0).

    The draw ``u`` (an integer) falls under ``x`` for ``u < ceil(x)``: the
    event's probability is exactly ``chances(x) · 2**-31``.
    """
    return np.int64(math.ceil(min(threshold, _DRAWS)))


@njit(cache=True, inline="always")
def squared_chances(c: np.int64) -> np.int64:
    """``c²`` in units of 2**-34 of a squared probability, rounded (at most 2**34)."""
    return (c * c + _P2_HALF) >> _P2_SHIFT


@njit(cache=True, inline="always")
def _add_sums(x: np.int64, f: np.int64, m0: np.int64, m1: np.int64, sums: tuple) -> tuple:  # type: ignore[type-arg]
    xx = squared_chances(x)
    return (
        sums[0] + (x & m0),
        sums[1] + (x & m1),
        sums[2] + (f & m0),
        sums[3] + (f & m1),
        sums[4] + (xx & m0),
        sums[5] + (xx & m1),
    )


@njit(cache=True, inline="always")
def _store_sums(out: np.ndarray, sums: tuple) -> None:  # type: ignore[type-arg]
    out[0, SUM_P] += sums[0]
    out[1, SUM_P] += sums[1]
    out[0, SUM_P_UNCHILLED] += sums[2]
    out[1, SUM_P_UNCHILLED] += sums[3]
    out[0, SUM_P_SQUARED] += sums[4]
    out[1, SUM_P_SQUARED] += sums[5]


@njit(cache=True)
def probability_sums(
    thr: np.ndarray, unchilled: np.ndarray, grp: np.ndarray, chilled: bool, out: np.ndarray
) -> None:
    """Add per group the chances of the thresholds, of the unchilled ones, and their squares.

    ``out[g, q]`` (int64) gains, over citizens of group ``g``, :func:`chances`
    of ``thr`` (q = :data:`SUM_P`), of ``unchilled`` (:data:`SUM_P_UNCHILLED`;
    ``thr`` itself unless ``chilled``) and :func:`squared_chances` of the
    first (:data:`SUM_P_SQUARED`). Integer sums: exact, the same in any order,
    on any machine and for any thread count.
    """
    zero = np.int64(0)
    sums = (zero, zero, zero, zero, zero, zero)
    if chilled:
        for k in range(thr.shape[0]):
            m1 = -np.int64(grp[k])
            sums = _add_sums(chances(thr[k]), chances(unchilled[k]), ~m1, m1, sums)
    else:
        for k in range(thr.shape[0]):
            m1 = -np.int64(grp[k])
            x = chances(thr[k])
            sums = _add_sums(x, x, ~m1, m1, sums)
    _store_sums(out, sums)


@njit(cache=True)
def probability_sums_and_part(
    thr: np.ndarray,
    unchilled: np.ndarray,
    grp: np.ndarray,
    part: np.ndarray,
    out: np.ndarray,
    out_part: np.ndarray,
) -> None:
    """:func:`probability_sums` into ``out``, and over citizens with ``part`` 1 into ``out_part``.

    One pass for both (the interaction, and its part with a low-ranked friend).
    """
    zero = np.int64(0)
    sums = (zero, zero, zero, zero, zero, zero)
    sums_part = (zero, zero, zero, zero, zero, zero)
    for k in range(thr.shape[0]):
        x = chances(thr[k])
        f = chances(unchilled[k])
        g1 = np.int64(grp[k])
        m1 = -g1
        sums = _add_sums(x, f, ~m1, m1, sums)
        w = np.int64(part[k])
        sums_part = _add_sums(x, f, -(w - (g1 & w)), -(g1 & w), sums_part)
    _store_sums(out, sums)
    _store_sums(out_part, sums_part)
