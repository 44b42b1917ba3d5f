"""The score kernel: a rulebook's accumulators decay, gain points, and make a score.

``score = clip(round(base + Σ acc + net), lo, hi)``; each rule's accumulator
decays by its half-life every day and gains the rule's points on a day its
event happens (capped in size).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from socialscore.scenario.vocabulary import CITIZEN_EVENTS

#: The derived event: an interaction with a friend low in the public ranking.
EV_INTERACTION = CITIZEN_EVENTS.index("interaction")
EV_INTERACTION_LOW = CITIZEN_EVENTS.index("interaction_low_scorer")


def decay_factor(half_life_days: float) -> float:
    """Daily decay factor for a half-life in days (0 = never decays)."""
    return 1.0 if half_life_days <= 0 else 0.5 ** (1.0 / half_life_days)


@njit(cache=True, inline="always")
def apply_rules(
    acc_row: np.ndarray,
    fired: np.ndarray,
    rated: bool,
    rule_event: np.ndarray,
    rule_points: np.ndarray,
    rule_decay: np.ndarray,
    rule_cap: np.ndarray,
) -> float:
    """Decay one entity's accumulators, add today's points, and return their sum.

    ``fired[e]`` counts how often event ``e`` was recorded today.
    """
    total = 0.0
    for r in range(rule_event.shape[0]):
        a = acc_row[r] * rule_decay[r]
        if rated:
            k = fired[rule_event[r]]
            if k > 0:
                a += rule_points[r] * k
            cap = rule_cap[r]
            if a > cap:
                a = cap
            elif a < -cap:
                a = -cap
        acc_row[r] = a
        total += a
    return total


@njit(cache=True, inline="always")
def clip_round(x: float, lo: int, hi: int) -> int:
    """Round half up (floor of x + 0.5) and clip into [lo, hi]."""
    v = math.floor(x + 0.5)
    if v < lo:
        return lo
    if v > hi:
        return hi
    return int(v)
