"""Monitoring that follows detections (``[monitoring]``; docs/model.md, "One day", step 2).

Events of the monitored kinds are observed only in the units (regions or
groups) a patrol visits that day. The units' weights, which draw the
patrols, grow with what the patrols detect and decay: the runaway feedback
loop of predictive policing (Ensign et al., FAT* 2018). Three parts:

* :func:`draw_patrols`: the day's patrols, each to a unit drawn with
  probability proportional to the weights at the start of the day;
* :func:`filter_unobserved`, called by the behaviour kernel after the day's
  events (and loan outcomes) are drawn and before the rulebook: an event of a
  monitored kind by a citizen of an unpatrolled unit, or missed by detection,
  is removed from the day's events and from the observed tallies; true
  incidents and detections are counted per unit;
* :func:`update_weights`: the detections are added to the weights (with the
  linear-surprise correction, only with probability (1 − s) / max (1 − s')),
  then each weight loses Binomial(weight, decay), never below the floor —
  add, then decay, as the authors' ``polya.py``.

Every draw is counter-based (:mod:`socialscore.simulation.rng`): a patrol's by
(seed, day, patrol, ``PATROL``), a unit's by (seed, day, unit,
``MONITOR_CORRECTION`` or ``MONITOR_DECAY``), a citizen's detection by (seed,
day, citizen, ``DETECTION`` with the event's index). The loops over units
are short (a few units) and run once a day.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from socialscore.simulation import rng

#: Columns of the daily ``monitoring`` tally, per unit: the weight at the start of the
#: day, the weight at its end (after the update and the decay), the patrols sent, the
#: true incidents of the monitored kinds and those observed.
M_WEIGHT, M_WEIGHT_END, M_PATROLS, M_INCIDENTS, M_DETECTIONS = range(5)
MONITOR_TALLIES = 5


@njit(cache=True)
def draw_patrols(weights: np.ndarray, seed: int, day: int, patrols: int) -> np.ndarray:
    """Patrols per unit today: each patrol to unit r with probability w_r / Σ w.

    Patrol i takes the uniform u for (seed, day, i, ``PATROL``) and goes to the
    first unit r whose cumulative weight w_0 + … + w_r exceeds ⌊u · Σ w⌋
    (weights are whole numbers, at least 1). Returns int64 [units].
    """
    units = weights.shape[0]
    cumulative = np.cumsum(weights)
    total = cumulative[units - 1]
    counts = np.zeros(units, dtype=np.int64)
    key = rng.stream(rng.PATROL)
    for i in range(patrols):
        target = np.int64(rng.uniform(seed, day, i, key) * total)
        r = np.searchsorted(cumulative, target, side="right")
        counts[min(r, units - 1)] += 1
    return counts


@njit(cache=True)
def binomial_inverse(n: int, p: float, u: float) -> int:
    """The u-quantile of Binomial(n, p): the least k with P(X ≤ k) > u (inversion).

    The probabilities are summed from k = 0 in logarithms (the first terms may
    underflow for large n; they are then below any u's resolution).
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    log_q = math.log1p(-p)
    ratio = math.log(p) - log_q
    log_pk = n * log_q
    pk = math.exp(log_pk)
    cdf = pk
    k = 0
    mean = n * p
    while cdf <= u and k < n:
        log_pk += math.log(n - k) - math.log(k + 1) + ratio
        k += 1
        pk = math.exp(log_pk)
        cdf += pk
        if pk == 0.0 and k > mean:
            break  # rounding left the sum short of u: the tail beyond holds nothing
    return k


@njit(cache=True)
def update_weights(
    weights: np.ndarray,
    detections: np.ndarray,
    surprise: bool,
    decay: float,
    floor: int,
    seed: int,
    day: int,
) -> np.ndarray:
    """The weights at the end of the day: detections added, then decay. Returns a new array.

    With ``surprise`` (Ensign's linear surprise), unit r's detections are added
    only when the uniform for (seed, day, r, ``MONITOR_CORRECTION``) is below
    (1 − s_r) / max_j (1 − s_j), s the shares at the start of the day (always
    when that maximum is 0: a single unit). Then unit r loses
    Binomial(w_r, ``decay``) by inversion of the uniform for (seed, day, r,
    ``MONITOR_DECAY``), keeping at least ``floor``.
    """
    units = weights.shape[0]
    total = float(weights.sum())
    most = 0.0
    for r in range(units):
        most = max(most, 1.0 - weights[r] / total)
    out = weights.copy()
    correction_key = rng.stream(rng.MONITOR_CORRECTION)
    decay_key = rng.stream(rng.MONITOR_DECAY)
    for r in range(units):
        add = detections[r]
        if surprise and most > 0.0:
            chance = (1.0 - weights[r] / total) / most
            if not rng.uniform(seed, day, r, correction_key) < chance:
                add = 0
        w = out[r] + add
        lost = binomial_inverse(w, decay, rng.uniform(seed, day, r, decay_key))
        out[r] = max(w - lost, floor)
    return out


@njit(cache=True)
def filter_unobserved(
    mask: np.ndarray,
    grp: np.ndarray,
    start: int,
    region_start: np.ndarray,
    watch,
    seed: int,
    day: int,
    counts: np.ndarray,
    incidents: np.ndarray,
    detections: np.ndarray,
) -> None:
    """Remove today's unobserved events of the monitored kinds from one chunk's events.

    A citizen's unit is its group (``watch.by_group``) or its region (citizens
    are numbered region by region from ``region_start``). Each event of a
    monitored kind in ``mask`` is a true incident of the unit
    (``incidents[unit] += 1``); it is observed when the unit has a patrol today
    (``watch.patrolled[unit]``) and, with ``watch.detection`` below 1, the
    uniform for (seed, day, citizen, ``DETECTION`` with the event) is below
    it (``detections[unit] += 1``). An unobserved event's bit is cleared and
    it is taken off ``counts[event, group]`` (the chunk's observed event
    tallies). ``watch``: ``engine.Watch``; the arrays are the chunk's.
    """
    events = watch.events
    patrolled = watch.patrolled
    detection = watch.detection
    by_group = watch.by_group
    monitored = np.uint32(0)
    for j in range(events.shape[0]):
        monitored |= np.uint32(1) << np.uint32(events[j])
    r = np.int64(np.searchsorted(region_start, start, side="right") - 1)
    for k in range(mask.shape[0]):
        while start + k >= region_start[r + 1]:
            r += 1
        if mask[k] & monitored == 0:
            continue
        g = np.int64(grp[k])
        unit = g if by_group else r
        seen = patrolled[unit] != 0
        for j in range(events.shape[0]):
            e = events[j]
            bit = np.uint32(1) << np.uint32(e)
            if mask[k] & bit == 0:
                continue
            incidents[unit] += 1
            observed = seen
            if seen and detection < 1.0:
                draw = rng.uniform(seed, day, start + k, rng.stream(rng.DETECTION, e))
                observed = draw < detection
            if observed:
                detections[unit] += 1
            else:
                mask[k] &= ~bit
                counts[e, g] -= 1
