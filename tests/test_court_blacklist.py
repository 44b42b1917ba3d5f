"""The shipped court-blacklist regime lands on the published scale: about 1% listed."""

from __future__ import annotations

import numpy as np

from conftest import simulate
from socialscore.scenario.files import load
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES
from socialscore.simulation.kernels.gates import G_TRAVEL, T_APPLIED, T_SELECTED


def test_about_one_percent_is_listed_after_a_year():
    sc = load("court-blacklist").scenario.with_overrides(population=100_000, days=365, seed=1)
    engine, rec = simulate(sc)
    listed = engine.state.score < sc.score.blacklist_below
    # Stated band: 1% +- 0.2 points (the binomial s.d. at this size is 0.03 points).
    assert 0.008 <= listed.mean() <= 0.012
    # Listed citizens hold an unpaid judgment; payment removed others from the list.
    judgments = rec.events[:, CITIZEN_EVENTS.index("court_judgment"), :].sum()
    assert judgments > listed.sum()
    # Only the published consequences: travel and school are decided, nothing else.
    decided = {CITIZEN_GATES[k] for k in np.nonzero(rec.gates[:, :, :, 0].sum(axis=(0, 2)))[0]}
    assert decided <= {"travel", "school"} and "travel" in decided


def test_travel_is_blocked_exactly_for_the_listed_day_by_day():
    """Travel attempts are drawn independently of the score, so on each day the blocked share
    of attempts is the listed share of that day: the blocked count must match the expectation
    summed day by day, within four binomial standard deviations (about 0.1 percentage points
    of the attempts here, against a listed share that grows from 0 to 1%)."""
    sc = load("court-blacklist").scenario.with_overrides(population=100_000, days=365, seed=2)
    _, rec = simulate(sc)
    line = sc.score.blacklist_below - sc.score.lo
    listed_share = rec.hist[:, :line].sum(axis=1) / rec.hist.sum(axis=1)
    attempts = rec.gates[:, G_TRAVEL, :, T_APPLIED].sum(axis=1)
    blocked = attempts - rec.gates[:, G_TRAVEL, :, T_SELECTED].sum(axis=1)
    expected = float((attempts * listed_share).sum())
    sd = float(np.sqrt((attempts * listed_share * (1 - listed_share)).sum()))
    assert expected > 1_000  # enough blocked attempts for the check to mean something
    assert abs(blocked.sum() - expected) <= 4 * sd, (int(blocked.sum()), expected, sd)
