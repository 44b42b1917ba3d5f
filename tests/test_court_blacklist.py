"""The shipped court-blacklist regime lands on the published scale: about 1% listed."""

from __future__ import annotations

import numpy as np

from conftest import simulate
from socialscore.scenario import load
from socialscore.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES


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
    travel = rec.gates[:, CITIZEN_GATES.index("travel"), :, :].sum(axis=(0, 1))
    blocked_share = 1 - travel[1] / travel[0]
    assert abs(blocked_share - listed.mean()) < 0.006
