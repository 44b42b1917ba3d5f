"""The daily citizen kernel: draw each citizen's events, rate them, score.

One pass over citizens, in fixed chunks (so that the per-chunk tallies, and
therefore every recorded number, are the same for any thread count). For
each citizen and active stream the day's probability is the stream's base
rate times the citizen's fixed heterogeneity, trait and group multipliers,
and the feedback multipliers (stress, chilling, gaming); the event happens
when the counter-based draw for (seed, day, citizen, stream) falls under it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from socialscore import rng
from socialscore.rulebook import EV_INTERACTION, EV_INTERACTION_LOW, apply_rules, clip_round

#: Citizens per chunk: the unit of parallel work and of per-chunk tallies.
CHUNK = 16_384


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
    percentile: np.ndarray,
    participant: np.ndarray,
    stress: np.ndarray,
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
    s_chill: np.ndarray,
    s_gaming: np.ndarray,
    # rules
    r_event: np.ndarray,
    r_points: np.ndarray,
    r_decay: np.ndarray,
    r_cap: np.ndarray,
    # score scale and other scalars
    base: int,
    lo: int,
    hi: int,
    all_rated: bool,
    low_percentile: float,
    error_rate: float,
    error_event: int,
    error_points: float,
    error_decay: float,
    # per-chunk tallies (outputs, zeroed here)
    hist: np.ndarray,
    group_hist: np.ndarray,
    event_counts: np.ndarray,
    error_counts: np.ndarray,
) -> None:
    """Advance every citizen by one day: events, rules, score."""
    n = group.shape[0]
    n_chunks = hist.shape[0]
    n_streams = s_event.shape[0]
    n_friends = friends.shape[1]
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    today_key = rng.day_key(seed, day)
    for c in prange(n_chunks):
        hist[c, :] = 0
        group_hist[c, :, :] = 0
        event_counts[c, :, :] = 0
        error_counts[c, :] = 0
        fired = np.zeros(n_events, dtype=np.int64)
        start = c * CHUNK
        stop = min(start + CHUNK, n)
        for i in range(start, stop):
            g = group[i]
            fired[:] = 0
            st = stress[i]
            ch = chill[i]
            gm = gaming[i]
            static_block = -1
            static_hash = np.uint64(0)
            pair = -1
            pair_hash = np.uint64(0)
            for a in range(n_streams):
                e = s_event[a]
                p = s_rate[a] * s_group_mult[a, g]
                if s_spread[a] > 0.0:
                    if e >> 3 != static_block:
                        static_block = e >> 3
                        static_hash = rng.entity_hash(
                            static_key, i, rng.KEY_HETEROGENEITY + static_block
                        )
                    p *= heterogeneity(static_hash, e, s_spread[a])
                t = s_trait[a]
                if t >= 0:
                    p *= s_trait_table[a, traits[i, t]]
                if st > 0.0 and s_stress[a] > 0.0:
                    p *= 1.0 + s_stress[a] * st
                if ch > 0.0 and s_chill[a] > 0.0:
                    p *= math.exp(-s_chill[a] * ch)
                if gm > 0.0 and s_gaming[a] > 0.0:
                    p *= math.exp(s_gaming[a] * gm)
                if e >> 1 != pair:
                    pair = e >> 1
                    pair_hash = rng.entity_hash(today_key, i, rng.KEY_EVENT + pair)
                if rng.half_uniform(pair_hash, e & 1) < p:
                    fired[e] = 1
                    event_counts[c, e, g] += 1
                    if e == EV_INTERACTION and n_friends > 0:
                        k = rng.uniform_below(seed, day, i, rng.KEY_INTERACTION_FRIEND, n_friends)
                        j = friends[i, k]
                        if j >= 0 and percentile[j] < low_percentile:
                            fired[EV_INTERACTION_LOW] = 1
                            event_counts[c, EV_INTERACTION_LOW, g] += 1
            rated = all_rated or participant[i] != 0
            erroneous = False
            if error_rate > 0.0 and rated:
                if rng.uniform(seed, day, i, rng.KEY_DATA_ERROR) < error_rate:
                    erroneous = True
                    fired[error_event] += 1
                    error_counts[c, g] += 1
            total = apply_rules(acc[i], fired, rated, r_event, r_points, r_decay, r_cap)
            raw = base + total + (net[i] if rated else 0.0)
            s = clip_round(raw, lo, hi)
            score[i] = s
            e_acc = err_acc[i] * error_decay
            if erroneous:
                e_acc += error_points
            err_acc[i] = e_acc
            score_clean[i] = clip_round(raw - e_acc, lo, hi) if e_acc != 0.0 else s
            hist[c, s - lo] += 1
            group_hist[c, g, 0] += 1
            group_hist[c, g, 1] += s
