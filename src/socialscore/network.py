"""The network term and unfriending, on the network schedule.

Every ``every_days`` days, using the scores at the start of that day, each
citizen's network term becomes ``weight · (mean score of its friends −
center)`` and is kept until the next update. On the same days citizens drop
friends whose score is below a cut, each with a probability (a dropped
friendship stays in the list as a negative entry that still names the friend).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialscore import rng
from socialscore.behaviour import CHUNK
from socialscore.chunks import over_chunks

#: A dropped friendship keeps its friend's id as ``DROPPED - id`` (−2 or below),
#: so the lists as generated can be read back at the end of a run; −1 is a slot
#: that never held a friend.
DROPPED = -2


@njit(cache=True, inline="always")
def friend_at_start(entry: int) -> int:
    """The friend a list entry held at the start of the run (−1: none)."""
    if entry >= 0:
        return entry
    return DROPPED - entry if entry <= DROPPED else -1


@njit(cache=True, parallel=True)
def friends_at_start(friends: np.ndarray) -> np.ndarray:
    """The friend lists as generated, from lists in which friendships were dropped."""
    out = np.empty_like(friends)
    for i in prange(friends.shape[0]):
        for k in range(friends.shape[1]):
            out[i, k] = friend_at_start(friends[i, k])
    return out


def step_network(
    seed: int,
    day: int,
    friends: np.ndarray,
    group: np.ndarray,
    score: np.ndarray,
    net: np.ndarray,
    weight: float,
    center: float,
    unfriend_below: int,
    unfriend_probability: float,
    dropped: np.ndarray,
) -> None:
    """Recompute every network term and apply unfriending; tally drops per chunk and group."""
    over_chunks(
        _network_chunks,
        dropped.shape[0],
        seed,
        day,
        friends,
        group,
        score,
        net,
        weight,
        center,
        unfriend_below,
        unfriend_probability,
        dropped,
    )


@njit(cache=True, nogil=True)
def _network_chunks(
    first: int,
    last: int,
    seed: int,
    day: int,
    friends: np.ndarray,
    group: np.ndarray,
    score: np.ndarray,
    net: np.ndarray,
    weight: float,
    center: float,
    unfriend_below: int,
    unfriend_probability: float,
    dropped: np.ndarray,
) -> None:
    """Chunks ``first`` to ``last - 1`` of :func:`step_network`, in this thread."""
    n = friends.shape[0]
    key = rng.day_key(seed, day)
    for c in range(first, last):
        start = c * CHUNK
        stop = min(start + CHUNK, n)
        dropped[c, 0], dropped[c, 1] = _network_chunk(
            key,
            start,
            friends[start:stop],
            group[start:stop],
            score,
            net[start:stop],
            weight,
            center,
            unfriend_below,
            unfriend_probability,
        )


@njit(cache=True)
def _network_chunk(
    key: np.uint64,
    start: int,
    friends_c: np.ndarray,
    group_c: np.ndarray,
    score: np.ndarray,
    net_c: np.ndarray,
    weight: float,
    center: float,
    unfriend_below: int,
    unfriend_probability: float,
) -> tuple[int, int]:
    """One chunk of :func:`step_network`; returns the friendships dropped by each group."""
    k_total = friends_c.shape[1]
    unfriend = unfriend_probability > 0.0
    dropped0 = np.int64(0)
    dropped1 = np.int64(0)
    for r in range(friends_c.shape[0]):
        total = np.int64(0)
        count = np.int64(0)
        drops = np.int64(0)
        for k in range(k_total):
            j = friends_c[r, k]
            if j < 0:
                continue
            sj = np.int64(score[j])
            if unfriend and sj < unfriend_below:
                u = rng.hash_uniform(rng.entity_hash(key, start + r, rng.KEY_UNFRIEND + k))
                if u < unfriend_probability:
                    friends_c[r, k] = DROPPED - j
                    drops += 1
                    continue
            total += sj
            count += 1
        net_c[r] = weight * (float(total) / count - center) if count > 0 else 0.0
        g = np.int64(group_c[r])
        dropped1 += drops * g
        dropped0 += drops * (1 - g)
    return dropped0, dropped1
