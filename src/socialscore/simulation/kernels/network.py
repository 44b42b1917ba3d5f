"""The network term and unfriending, on the network schedule.

Every ``every_days`` days, using the scores at the start of that day, each
citizen's network term becomes ``weight · (mean score of its friends −
center)`` and is kept until the next update. On the same days citizens drop
friends whose score is below a cut, each with a probability (a dropped
friendship keeps its draw, marked dropped: :mod:`socialscore.simulation.kernels.friends`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialscore.simulation import rng
from socialscore.simulation.kernels.behaviour import CHUNK
from socialscore.simulation.kernels.friends import DROPPED_BIT, decode_slot


@njit(cache=True, nogil=True)
def step_network(first: int, last: int, today, nation, state, network, dropped: np.ndarray) -> None:
    """Recompute every network term and apply unfriending; tally drops per chunk and group.

    Runs chunks ``first`` to ``last - 1``; :func:`socialscore.simulation.chunks.over_chunks`
    shares the chunks out over threads. The bundles are named tuples, each made
    in one place (classes in :mod:`socialscore.simulation.engine`, ``compiled``
    and ``state``, named below).

    Args:
        first: The first chunk to run.
        last: One past the last chunk to run.
        today: The day's inputs (``engine.Day``).
        nation: The nation's fixed arrays (``engine.NationArrays``).
        state: The run's state (``state.State``): friend lists and network terms change.
        network: The network rule (``compiled.Network``).
        dropped: int64 [chunk, group], filled with the friendships each group dropped.
    """
    codes = state.friend_codes
    n = codes.shape[1]
    key = rng.day_key(today.seed, today.day)
    static_key = rng.day_key(today.seed, rng.STATIC_DAY)
    for c in range(first, last):
        start = c * CHUNK
        stop = min(start + CHUNK, n)
        dropped[c, 0], dropped[c, 1] = _network_chunk(
            key,
            static_key,
            start,
            codes[:, start:stop],
            nation.region_start,
            nation.friends_local,
            nation.group[start:stop],
            state.score,
            state.net[start:stop],
            network.weight,
            network.center,
            network.unfriend_below,
            network.unfriend_probability,
        )


@njit(cache=True)
def _network_chunk(
    key: np.uint64,
    static_key: np.uint64,
    start: int,
    codes_c: np.ndarray,
    region_start: np.ndarray,
    local: int,
    group_c: np.ndarray,
    score: np.ndarray,
    net_c: np.ndarray,
    weight: float,
    center: float,
    unfriend_below: int,
    unfriend_probability: float,
) -> tuple[int, int]:
    """One chunk of :func:`step_network`; returns the friendships dropped by each group."""
    k_total, m = codes_c.shape
    unfriend = unfriend_probability > 0.0
    total = np.zeros(m, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    drops = np.zeros(m, dtype=np.int64)
    friend = np.empty(m, dtype=np.int64)
    # Slot by slot: the friends' ids in a vector pass, then their scores. Sums of
    # integers, so the order of the slots does not change any result.
    for k in range(k_total):
        unfriend_key = rng.stream(rng.UNFRIEND, k)
        decode_slot(friend, codes_c, k, static_key, start, region_start, local, False)
        for r in range(m):
            j = friend[r]
            present = j >= 0
            sj = np.int64(score[max(j, 0)])
            if present and unfriend and sj < unfriend_below:
                u = rng.hash_uniform(rng.entity_hash(key, start + r, unfriend_key))
                if u < unfriend_probability:
                    codes_c[k, r] += DROPPED_BIT
                    drops[r] += 1
                    continue
            total[r] += sj * present
            count[r] += present
    dropped0 = np.int64(0)
    dropped1 = np.int64(0)
    for r in range(m):
        c = count[r]
        net_c[r] = weight * (float(total[r]) / c - center) if c > 0 else 0.0
        g = np.int64(group_c[r])
        dropped1 += drops[r] * g
        dropped0 += drops[r] * (1 - g)
    return dropped0, dropped1
