"""Friend lists kept as the draws that made them: one byte per friendship.

The generator draws a citizen's friend in slot ``k`` from the counter-based
RNG: attempt ``a`` of the slot gives a candidate (in the citizen's region for
the first ``local`` slots when the region holds more than ``local`` citizens,
anywhere otherwise), and the first candidate that is neither the citizen nor
an earlier friend, and that homophily does not turn down, is kept. The
friend's id is therefore a function of (seed, citizen, slot, attempt, region),
so a list keeps only the attempt: one byte per friendship instead of a 4-byte
id, computed again (one hash) whenever it is read.

Codes are slot-major, ``codes[k, i]`` for citizen ``i``'s slot ``k``, so that a
pass over one slot reads contiguous bytes. A code is the attempt (0 to 63) of
a friendship; :data:`DROPPED_BIT` is added
when the friendship was dropped (the attempt is kept, so the friend at the
start can still be read back); :data:`EMPTY` is a slot no attempt filled.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialscore.simulation import rng
from socialscore.simulation.chunks import over_chunks

#: Attempts per slot before it is left empty (the random keys leave room for this many).
ATTEMPTS = rng.FRIEND_ATTEMPTS
#: Added to a code when the friendship was dropped.
DROPPED_BIT = 64
#: The code of an empty slot.
EMPTY = 255
#: Attempts at which homophily may still turn a candidate down.
HOMOPHILY_ATTEMPTS = 16
#: Citizens per block of the parallel passes (any size gives the same result).
_BLOCK = 4096


@njit(cache=True, inline="always")
def pick(static_key: np.uint64, i: int, k: int, attempt: int, base: int, span: int) -> int:
    """Attempt ``attempt`` of citizen ``i``'s slot ``k``: a citizen in ``[base, base + span)``.

    ``base`` and ``span`` are the first citizen and the size of the region for a
    local slot, 0 and the population otherwise: no branch, for vector loops.
    """
    u = rng.hash_uniform(
        rng.entity_hash(static_key, i, rng.stream(rng.FRIEND, k * ATTEMPTS + attempt))
    )
    return base + int(u * span)


@njit(cache=True, inline="always")
def candidate(
    static_key: np.uint64,
    i: int,
    k: int,
    attempt: int,
    local_slot: bool,
    lo: int,
    width: int,
    n: int,
) -> int:
    """The candidate that attempt ``attempt`` of citizen ``i``'s slot ``k`` draws.

    Within the region (first citizen ``lo``, ``width`` citizens) for a local
    slot, among all ``n`` citizens otherwise.
    """
    if local_slot:
        return pick(static_key, i, k, attempt, lo, width)
    return pick(static_key, i, k, attempt, 0, n)


@njit(cache=True, inline="always")
def is_local(k: int, local: int, width: int) -> bool:
    """Slot ``k`` draws within the region (the region has room for ``local`` friends)."""
    return k < local and width > local


@njit(cache=True)
def decode_slot(
    out: np.ndarray,
    codes_c: np.ndarray,
    k: int,
    static_key: np.uint64,
    start: int,
    region_start: np.ndarray,
    local: int,
    at_start: bool,
) -> None:
    """Write the friends in slot ``k`` of citizens ``start, start + 1, ...`` to ``out``.

    −1 where the slot holds no friend: an empty slot and, unless ``at_start``,
    a dropped friendship. A vector pass: the citizens of each region are done
    in one branch-free loop.
    """
    n = region_start[region_start.shape[0] - 1]
    limit = EMPTY if at_start else DROPPED_BIT
    runs = region_runs(region_start, start, codes_c.shape[1])
    for t in range(runs.shape[0]):
        r0, r1, lo, width = runs[t, 0], runs[t, 1], runs[t, 2], runs[t, 3]
        local_slot = is_local(k, local, width)
        base = lo if local_slot else 0
        span = width if local_slot else n
        # Views indexed from 0, so that the compiler sees non-negative indices
        # and vectorises the loop.
        seg_out = out[r0:r1]
        seg_codes = codes_c[k, r0:r1]
        first = start + r0
        for q in range(seg_out.shape[0]):
            code = np.int64(seg_codes[q])
            j = pick(static_key, first + q, k, code & (ATTEMPTS - 1), base, span)
            seg_out[q] = j if code < limit else -1


@njit(cache=True, inline="always")
def region_of(region_start: np.ndarray, i: int) -> int:
    """The region of citizen ``i`` (citizens are numbered region by region)."""
    return int(np.searchsorted(region_start, i, side="right")) - 1


@njit(cache=True)
def region_runs(region_start: np.ndarray, start: int, m: int) -> np.ndarray:
    """Citizens ``start`` to ``start + m - 1`` cut where regions change.

    One row per run: ``[first, stop, region's first citizen, region's size]``,
    ``first`` and ``stop`` counted from ``start``.
    """
    reg = region_of(region_start, start)
    last = region_of(region_start, start + max(m, 1) - 1)
    runs = np.empty((last - reg + 1, 4), dtype=np.int64)
    r0 = 0
    count = 0
    while r0 < m:
        lo = region_start[reg]
        r1 = min(m, region_start[reg + 1] - start)
        if r1 > r0:
            runs[count, 0] = r0
            runs[count, 1] = r1
            runs[count, 2] = lo
            runs[count, 3] = region_start[reg + 1] - lo
            count += 1
        r0 = max(r0, r1)
        reg += 1
    return runs[:count]


def draw(
    seed: int,
    region_start: np.ndarray,
    group: np.ndarray,
    local: int,
    distant: int,
    homophily: float,
) -> np.ndarray:
    """Draw every citizen's friends: ``local`` in its region, ``distant`` anywhere; the codes."""
    n = group.shape[0]
    codes = np.full((local + distant, n), EMPTY, dtype=np.uint8)
    over_chunks(
        _draw_blocks, (n + _BLOCK - 1) // _BLOCK, seed, region_start, group, local, homophily, codes
    )
    return codes


@njit(cache=True, nogil=True)
def _draw_blocks(
    first_block: int,
    last_block: int,
    seed: int,
    region_start: np.ndarray,
    group: np.ndarray,
    local: int,
    homophily: float,
    codes: np.ndarray,
) -> None:
    k_total, n = codes.shape
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    ids = np.empty(max(k_total, 1), dtype=np.int64)
    for b in range(first_block, last_block):
        first = b * _BLOCK
        r = region_of(region_start, first)
        for i in range(first, min(first + _BLOCK, n)):
            while i >= region_start[r + 1]:
                r += 1
            lo = region_start[r]
            width = region_start[r + 1] - lo
            for k in range(k_total):
                ids[k] = -1
                local_slot = is_local(k, local, width)
                for attempt in range(ATTEMPTS):
                    j = candidate(static_key, i, k, attempt, local_slot, lo, width, n)
                    if j == i:
                        continue
                    duplicate = False
                    for q in range(k):
                        if ids[q] == j:
                            duplicate = True
                            break
                    if duplicate:
                        continue
                    if homophily > 0.0 and group[j] != group[i] and attempt < HOMOPHILY_ATTEMPTS:
                        key = rng.stream(rng.HOMOPHILY, k * ATTEMPTS + attempt)
                        if rng.hash_uniform(rng.entity_hash(static_key, i, key)) < homophily:
                            continue
                    ids[k] = j
                    codes[k, i] = attempt
                    break


@njit(cache=True, parallel=True)
def _ids(
    codes: np.ndarray,
    first: int,
    seed: int,
    region_start: np.ndarray,
    local: int,
    at_start: bool,
) -> np.ndarray:
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    k_total, m = codes.shape
    out = np.empty((m, k_total), dtype=np.int32)
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        lo = b * _BLOCK
        hi = min(lo + _BLOCK, m)
        friend = np.empty(hi - lo, dtype=np.int64)
        for k in range(k_total):
            decode_slot(
                friend, codes[:, lo:hi], k, static_key, first + lo, region_start, local, at_start
            )
            out[lo:hi, k] = friend
    return out


def ids(
    codes: np.ndarray,
    seed: int,
    region_start: np.ndarray,
    local: int,
    *,
    first: int = 0,
    at_start: bool = False,
) -> np.ndarray:
    """The friends' ids (int32 ``[citizens, slots]``) that ``codes[:, r]`` name.

    Column ``r`` of ``codes`` holds the slots of citizen ``first + r``.

    −1 marks an empty slot and, unless ``at_start``, a dropped friendship;
    with ``at_start`` the lists are read as they were generated.
    """
    return _ids(codes, first, seed, region_start, local, at_start)


@njit(cache=True)
def _count_followers(
    codes: np.ndarray,
    seed: int,
    region_start: np.ndarray,
    local: int,
    now: np.ndarray,
    lost: np.ndarray,
) -> bool:
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    top = np.iinfo(now.dtype).max
    k_total, n = codes.shape
    friend = np.empty(_BLOCK, dtype=np.int64)
    for first in range(0, n, _BLOCK):
        block = codes[:, first : first + _BLOCK]
        m = block.shape[1]
        for k in range(k_total):
            # Every friend as generated, in a vector pass; counted now or lost.
            decode_slot(friend[:m], block, k, static_key, first, region_start, local, True)
            for q in range(m):
                j = friend[q]
                if j < 0:
                    continue
                tally = now if block[k, q] < DROPPED_BIT else lost
                if tally[j] == top:
                    return False
                tally[j] += 1
    return True


def followers(
    codes: np.ndarray, seed: int, region_start: np.ndarray, local: int
) -> tuple[np.ndarray, np.ndarray]:
    """How many citizens count each citizen as a friend now, and how many dropped it.

    In uint16, or int32 in the unlikely case that a count does not fit; one
    pass over the lists.
    """
    n = int(region_start[-1])
    for dtype in (np.uint16, np.int32):
        now = np.zeros(n, dtype=dtype)
        lost = np.zeros(n, dtype=dtype)
        if _count_followers(codes, seed, region_start, local, now, lost):
            break
    return now, lost


@njit(cache=True, parallel=True)
def out_degree(codes: np.ndarray, at_start: bool = False) -> np.ndarray:
    """How many friends each citizen counts now, or counted at the start of the run."""
    limit = EMPTY if at_start else DROPPED_BIT
    out = np.empty(codes.shape[1], dtype=np.int16)
    for i in prange(codes.shape[1]):
        k = 0
        for q in range(codes.shape[0]):
            k += codes[q, i] < limit
        out[i] = k
    return out
