"""Consequences of decisions: an approved loan is repaid or defaults ``after_days`` later.

The mortgage gate (:mod:`socialscore.simulation.kernels.gates`) notes, on an
approval, the day and the score the gate read (``state.outcome_approved_on``,
``state.outcome_score``; a citizen has at most one outcome pending, and an
approval while one is pending schedules nothing). On the outcome day the
behaviour kernel (:mod:`socialscore.simulation.kernels.behaviour`), before the
rules are applied, draws the outcome here: the chance of repayment is
piecewise-linear in that score (:func:`chance_at`), and the outcome is the
day's ``success`` or ``failure`` event, rated by the rulebook like any other.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialscore.simulation import rng
from socialscore.simulation.kernels import passes

#: A chance as draws in 2**31 (passes.chances).
_SCALE31 = 2147483648.0


@njit(cache=True)
def chance_at(score: float, scores: np.ndarray, chances: np.ndarray) -> float:
    """The chance at ``score``: linear between the ``scores`` points, constant beyond the ends.

    ``scores`` ascending (at least one point), ``chances`` one per point: the
    same as ``numpy.interp(score, scores, chances)``.
    """
    k = scores.shape[0]
    if score <= scores[0]:
        return chances[0]
    if score >= scores[k - 1]:
        return chances[k - 1]
    j = np.searchsorted(scores, score, side="right")  # scores[j - 1] <= score < scores[j]
    x0, x1 = scores[j - 1], scores[j]
    y0, y1 = chances[j - 1], chances[j]
    return y0 + (y1 - y0) * (score - x0) / (x1 - x0)


@njit(cache=True)
def _add_expected(expected: np.ndarray, e: int, g: int, p: float) -> None:
    """Add one citizen's chance ``p`` of event ``e`` to the chunk's sums (never chilled)."""
    c = passes.chances(p * _SCALE31)
    expected[e, g, passes.SUM_P] += c
    expected[e, g, passes.SUM_P_UNCHILLED] += c
    expected[e, g, passes.SUM_P_SQUARED] += passes.squared_chances(c)


@njit(cache=True)
def draw_outcomes(
    mask: np.ndarray,
    approved_on: np.ndarray,
    score_read: np.ndarray,
    grp: np.ndarray,
    start: int,
    seed: int,
    day: int,
    outcomes,
    counts: np.ndarray,
    expected: np.ndarray,
) -> None:
    """Draw the outcomes due today for one chunk of citizens (starting at ``start``).

    A citizen approved on day ``a`` (``approved_on[k] = a``, −1: none pending)
    has its outcome on day ``a + outcomes.after_days``: repaid when the
    uniform for (seed, day, citizen, ``rng.OUTCOME``) falls under the chance at
    ``score_read[k]`` for its group. The outcome's event bit is set in
    ``mask`` (the day's events), counted in ``counts[event, group]``, and its
    chance (success) or one minus it (failure) is added to ``expected`` (as
    :func:`socialscore.simulation.kernels.passes.probability_sums`; outcomes
    are never chilled); the pending outcome is cleared. ``outcomes``:
    ``compiled.Outcomes``; the arrays are the chunk's.
    """
    after = outcomes.after_days
    success, failure = outcomes.success, outcomes.failure
    scores, chance = outcomes.scores, outcomes.chance
    key = rng.stream(rng.OUTCOME)
    for k in range(approved_on.shape[0]):
        a = approved_on[k]
        if a < 0 or day - a < after:
            continue
        approved_on[k] = -1
        g = np.int64(grp[k])
        p = chance_at(np.float64(score_read[k]), scores, chance[g])
        e = success if rng.uniform(seed, day, start + k, key) < p else failure
        mask[k] |= np.uint32(1) << np.uint32(e)
        counts[e, g] += 1
        _add_expected(expected, success, g, p)
        _add_expected(expected, failure, g, 1.0 - p)
