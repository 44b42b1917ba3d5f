"""The network term and unfriending, on the network schedule.

Every ``every_days`` days, using the scores at the start of that day, each
citizen's network term becomes ``weight · (mean score of its friends −
center)`` and is kept until the next update. On the same days citizens drop
friends whose score is below a cut, each with a probability.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialscore import rng
from socialscore.behaviour import CHUNK


@njit(cache=True, parallel=True)
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
    n = friends.shape[0]
    k_total = friends.shape[1]
    for c in prange(dropped.shape[0]):
        dropped[c, :] = 0
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            total = 0.0
            count = 0
            for k in range(k_total):
                j = friends[i, k]
                if j < 0:
                    continue
                sj = score[j]
                if unfriend_probability > 0.0 and sj < unfriend_below:
                    if rng.uniform(seed, day, i, rng.KEY_UNFRIEND + k) < unfriend_probability:
                        friends[i, k] = -1
                        dropped[c, group[i]] += 1
                        continue
                total += sj
                count += 1
            net[i] = weight * (total / count - center) if count > 0 else 0.0
