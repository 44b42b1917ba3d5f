"""The daily citizen kernel: draw each citizen's events, rate them, score.

Citizens are processed in fixed chunks (so that the per-chunk tallies, and
therefore every recorded number, are the same for any thread count). For
each citizen and active stream the day's probability is the stream's base
rate times the citizen's fixed heterogeneity, trait and group multipliers,
and the feedback multipliers (stress, chilling, gaming); the event happens
when the counter-based draw for (seed, day, citizen, stream) falls under it.

Within a chunk the loops run stream by stream and rule by rule over the
chunk's citizens (not citizen by citizen), with the day's events kept as one
bit mask per citizen: inner loops without branches on the citizen, which
the compiler turns into SIMD code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from socialscore import rng
from socialscore.rulebook import EV_INTERACTION, EV_INTERACTION_LOW, clip_round

#: Citizens per chunk: the unit of parallel work and of per-chunk tallies.
CHUNK = 16_384
#: Streams whose threshold bound is below this probability are drawn by thinning.
SPARSE_BELOW = 0.1


def chunk_count(n: int) -> int:
    """Number of chunks for ``n`` entities."""
    return (n + CHUNK - 1) // CHUNK


@njit(cache=True, inline="always")
def heterogeneity(static_hash: np.uint64, event: int, spread: float) -> float:
    """An entity's fixed rate multiplier U(1 − spread, 1 + spread) for an event.

    ``static_hash`` is the entity's day-independent hash for the event's group
    of eight (``event // 8``); the multiplier takes 256 levels.
    """
    return 1.0 - spread + 2.0 * spread * rng.byte_uniform(static_hash, event & 7)


@njit(cache=True, parallel=True)
def step_citizens(
    seed: int,
    day: int,
    n_events: int,
    # fixed nation
    group: np.ndarray,
    traits: np.ndarray,
    friends: np.ndarray,
    # state (updated)
    acc: np.ndarray,
    score: np.ndarray,
    score_clean: np.ndarray,
    err_acc: np.ndarray,
    net: np.ndarray,
    participant: np.ndarray,
    stress: np.ndarray,
    aware: np.ndarray,
    aware_offset: np.ndarray,
    chill: np.ndarray,
    gaming: np.ndarray,
    # streams
    s_event: np.ndarray,
    s_rate: np.ndarray,
    s_spread: np.ndarray,
    s_trait: np.ndarray,
    s_trait_table: np.ndarray,
    s_group_mult: np.ndarray,
    s_stress: np.ndarray,
    s_chill_index: np.ndarray,
    chill_values: np.ndarray,
    s_gaming_index: np.ndarray,
    gaming_values: np.ndarray,
    # rules
    r_event: np.ndarray,
    r_points: np.ndarray,
    r_slot: np.ndarray,
    q_decay: np.ndarray,
    q_cap: np.ndarray,
    q_weight: np.ndarray,
    q_clear: np.ndarray,
    # score scale and other scalars
    base: int,
    lo: int,
    hi: int,
    all_rated: bool,
    low_ranked: np.ndarray,
    error_rate: float,
    error_decay: float,
    error_weight: float,
    # per-chunk tallies (outputs, zeroed here)
    hist: np.ndarray,
    group_hist: np.ndarray,
    event_counts: np.ndarray,
    error_counts: np.ndarray,
) -> None:
    """Advance every citizen by one day: events, rules, score.

    ``acc`` is accumulator-major, ``[accumulator, citizen]``; rule ``r`` adds
    to accumulator ``r_slot[r]`` today; accumulator ``q`` counts in the public
    score with weight ``q_weight[q]`` and is emptied on a day its citizen's
    event ``q_clear[q]`` happens (see :mod:`socialscore.scoring`). Erroneous
    records are kept apart: ``err_acc`` holds their decayed number, and each
    counts ``error_weight`` points in the public score.
    """
    n = group.shape[0]
    n_chunks = hist.shape[0]
    n_streams = s_event.shape[0]
    n_rules = r_event.shape[0]
    n_friends = friends.shape[1]
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    today_key = rng.day_key(seed, day)
    scale31 = 2147483648.0
    low31 = np.uint64(0x7FFFFFFF)
    low8 = np.uint64(0xFF)
    for c in prange(n_chunks):
        hist[c, :] = 0
        group_hist[c, :, :] = 0
        event_counts[c, :, :] = 0
        error_counts[c, :] = 0
        start = c * CHUNK
        m = min(start + CHUNK, n) - start
        # Chunk views indexed from 0: the compiler can prove the indices are
        # non-negative and turn the loops below into vector code.
        grp = group[start : start + m]
        stress_c = stress[start : start + m]
        mask = np.zeros(m, dtype=np.uint32)
        pair_hash = np.empty(m, dtype=np.uint64)
        static_hash = np.empty(m, dtype=np.uint64)
        errors = np.zeros(m, dtype=np.uint8)
        total = np.zeros(m, dtype=np.float64)
        thr = np.empty(m, dtype=np.float64)
        rated = np.empty(m, dtype=np.float64)
        for k in range(m):
            rated[k] = 1.0 if all_rated or participant[start + k] != 0 else 0.0
        # Feedback multipliers, one exp per distinct coefficient and citizen. Only
        # aware citizens have exposures; they are stored in citizen order, compactly.
        chill_mult = np.ones((chill_values.shape[0], m), dtype=np.float64)
        gaming_mult = np.ones((gaming_values.shape[0], m), dtype=np.float64)
        gaming_max = np.ones(gaming_values.shape[0], dtype=np.float64)
        if chill_values.shape[0] > 0 or gaming_values.shape[0] > 0:
            a = aware_offset[c]
            for k in range(m):
                if aware[start + k] == 0:
                    continue
                x = chill[a]
                y = gaming[a]
                a += 1
                if x > 0.0:
                    for q in range(chill_values.shape[0]):
                        chill_mult[q, k] = math.exp(-chill_values[q] * x)
                if y > 0.0:
                    for q in range(gaming_values.shape[0]):
                        gaming_mult[q, k] = math.exp(gaming_values[q] * y)
            for q in range(gaming_values.shape[0]):
                gaming_max[q] = gaming_mult[q].max()
        stress_max = 0.0
        for k in range(m):
            stress_max = max(stress_max, stress_c[k])
        pair = -1
        block = -1
        for a in range(n_streams):
            e = s_event[a]
            if e >> 1 != pair:
                pair = e >> 1
                for k in range(m):
                    pair_hash[k] = rng.entity_hash(today_key, start + k, rng.KEY_EVENT + pair)
            spread = s_spread[a]
            if spread > 0.0 and e >> 3 != block:
                block = e >> 3
                for k in range(m):
                    static_hash[k] = rng.entity_hash(
                        static_key, start + k, rng.KEY_HETEROGENEITY + block
                    )
            shift = np.uint64(32 * (e & 1) + 1)
            byte_shift = np.uint64(8 * (e & 7))
            thr0 = s_rate[a] * s_group_mult[a, 0] * scale31
            thr1 = s_rate[a] * s_group_mult[a, 1] * scale31
            t = s_trait[a]
            ss = s_stress[a]
            bit = np.uint32(1) << np.uint32(e)
            lo_mult = 1.0 - spread + spread / 256.0
            step = spread * (2.0 / 256.0)
            ci = s_chill_index[a]
            gi = s_gaming_index[a]
            # An upper bound of every threshold in the chunk (chilling only lowers them).
            bound = max(thr0, thr1)
            if spread > 0.0:
                bound *= lo_mult + step * 255.0
            if t >= 0:
                bound *= s_trait_table[a].max()
            if ss > 0.0:
                bound *= 1.0 + ss * stress_max
            if gi >= 0:
                bound *= gaming_max[gi]
            bound *= 1.0 + 1e-9
            if bound < SPARSE_BELOW * scale31:
                # Thinning: only citizens whose draw falls under the bound need their exact
                # threshold, computed in the same order as below, so decisions are identical.
                n_all = np.int32(0)
                n_minority = np.int32(0)
                for k in range(m):
                    u = np.int32((pair_hash[k] >> shift) & low31)
                    if u < bound:
                        i = start + k
                        x = thr1 if group[i] != 0 else thr0
                        if spread > 0.0:
                            level = np.int32((static_hash[k] >> byte_shift) & low8)
                            x = x * (lo_mult + step * level)
                        if t >= 0:
                            x *= s_trait_table[a, traits[t, i]]
                        if ss > 0.0:
                            x *= 1.0 + ss * stress[i]
                        if ci >= 0:
                            x *= chill_mult[ci, k]
                        if gi >= 0:
                            x *= gaming_mult[gi, k]
                        if u < x:
                            mask[k] |= bit
                            n_all += 1
                            n_minority += np.int32(group[i])
                event_counts[c, e, 0] += n_all - n_minority
                event_counts[c, e, 1] += n_minority
            else:
                # One simple pass per factor, so that each loop compiles to SIMD code.
                if spread > 0.0:
                    for k in range(m):
                        level = np.int32((static_hash[k] >> byte_shift) & low8)
                        thr[k] = (thr1 if grp[k] != 0 else thr0) * (
                            lo_mult + step * level
                        )
                else:
                    for k in range(m):
                        thr[k] = thr1 if grp[k] != 0 else thr0
                if t >= 0:
                    trait_c = traits[t, start : start + m]
                    table = s_trait_table[a]
                    for k in range(m):
                        thr[k] *= table[trait_c[k]]
                if ss > 0.0:
                    for k in range(m):
                        thr[k] *= 1.0 + ss * stress_c[k]
                if ci >= 0:
                    for k in range(m):
                        thr[k] *= chill_mult[ci, k]
                if gi >= 0:
                    for k in range(m):
                        thr[k] *= gaming_mult[gi, k]
                n_all = np.int32(0)
                n_minority = np.int32(0)
                for k in range(m):
                    u = np.int32((pair_hash[k] >> shift) & low31)
                    hit = np.int32(1) if u < thr[k] else np.int32(0)
                    mask[k] |= np.uint32(hit) << np.uint32(e)
                    n_all += hit
                    n_minority += hit & np.int32(grp[k])
                event_counts[c, e, 0] += n_all - n_minority
                event_counts[c, e, 1] += n_minority
            if e == EV_INTERACTION and n_friends > 0:
                low_bit = np.uint32(1) << np.uint32(EV_INTERACTION_LOW)
                for k in range(m):
                    if mask[k] & bit:
                        i = start + k
                        slot = rng.uniform_below(
                            seed, day, i, rng.KEY_INTERACTION_FRIEND, n_friends
                        )
                        j = friends[i, slot]
                        if j >= 0 and (low_ranked[j >> 3] >> (j & 7)) & 1:
                            mask[k] |= low_bit
                            event_counts[c, EV_INTERACTION_LOW, group[i]] += 1
        if error_rate > 0.0:
            for k in range(m):
                pair_hash[k] = rng.entity_hash(today_key, start + k, rng.KEY_DATA_ERROR)
            error_bound = error_rate * 9007199254740992.0
            for k in range(m):
                # The same 53-bit uniform as rng.uniform, compared in integers.
                if rated[k] > 0.0 and np.int64(pair_hash[k] >> np.uint64(11)) < error_bound:
                    errors[k] = 1
                    error_counts[c, group[start + k]] += 1
        for q in range(q_decay.shape[0]):
            thr[:] = 0.0
            for r in range(n_rules):
                if r_slot[r] != q or r_points[r] == 0.0:
                    continue
                ev = np.uint32(r_event[r])
                w = r_points[r]
                for k in range(m):
                    thr[k] += rated[k] * w * np.float64((mask[k] >> ev) & np.uint32(1))
            d = q_decay[q]
            cap = q_cap[q]
            wq = q_weight[q]
            row = acc[q, start : start + m]
            # Accumulators of unrated citizens only decay, so the cap never binds for them.
            if q_clear[q] >= 0:
                cb = np.uint32(q_clear[q])
                for k in range(m):
                    keep = 1.0 - np.float64((mask[k] >> cb) & np.uint32(1))
                    value = min(max(row[k] * d + thr[k], -cap), cap) * keep
                    row[k] = value
                    total[k] += value * wq
            else:
                for k in range(m):
                    value = min(max(row[k] * d + thr[k], -cap), cap)
                    row[k] = value
                    total[k] += value * wq
        err_c = err_acc[start : start + m]
        net_c = net[start : start + m]
        score_c = score[start : start + m]
        clean_c = score_clean[start : start + m]
        for k in range(m):
            g = grp[k]
            e_acc = err_c[k] * error_decay
            if errors[k]:
                e_acc += 1.0
            err_c[k] = e_acc
            raw = base + total[k] + e_acc * error_weight + net_c[k] * rated[k]
            s = clip_round(raw, lo, hi)
            score_c[k] = s
            clean_c[k] = clip_round(raw - e_acc * error_weight, lo, hi) if e_acc != 0.0 else s
            hist[c, s - lo] += 1
            group_hist[c, g, 0] += 1
            group_hist[c, g, 1] += s
