"""Starting scores per group (``score.initial``) and a saturating score (``score.saturating``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from conftest import minimal, simulate
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.recorder import Recorder

SCORES = [300, 500, 700, 850]
MAJORITY = [0.1, 0.2, 0.3, 0.4]
MINORITY = [0.4, 0.3, 0.2, 0.1]


def scenario(score: dict[str, Any] | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    base = {
        "base": 600,
        "lo": 300,
        "hi": 850,
        "blacklist_below": 300,
        "grades": [{"name": "all", "from": 300}],
        "initial": {"scores": SCORES, "majority": MAJORITY, "minority": MINORITY},
    }
    return minimal(
        score=base | (score or {}),
        run={"population": 10_003, "days": 1, "seed": 3},
        nation={"minority_share": 0.3},
        **extra,
    )


def day_zero_scores(sc):  # type: ignore[no-untyped-def]
    engine, _ = simulate(sc.with_overrides(days=1))
    return engine.nation.group, engine.state.score


def test_each_group_starts_with_its_distribution_to_the_citizen():
    """Exact up to rounding: each score holds its share of the group within one citizen."""
    group, score = day_zero_scores(scenario())
    for g, weights in ((0, MAJORITY), (1, MINORITY)):
        members = score[group == g]
        counts = np.array([(members == s).sum() for s in SCORES])
        assert counts.sum() == members.size
        expected = np.asarray(weights) / sum(weights) * members.size
        assert np.abs(counts - expected).max() <= 1.0, (g, counts, expected)


def test_who_starts_where_is_random_and_fixed_by_the_seed():
    sc = scenario()
    _, a = day_zero_scores(sc)
    _, b = day_zero_scores(sc)
    _, c = day_zero_scores(sc.with_overrides(seed=4))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # Not sorted by citizen number (which follows the regions).
    assert abs(np.corrcoef(np.arange(a.size), a)[0, 1]) < 0.05


def test_the_starting_record_counts_under_the_rules_points():
    """A rule's points add to the starting score (a +50 bonus on day 0 for everyone)."""
    sc = scenario(
        streams={"good_deed": {"rate": 1.0, "spread": 0.0}},
        rules=[{"event": "good_deed", "points": 50}],
    )
    _, score = day_zero_scores(sc)
    assert set(np.unique(score)) == {350, 550, 750, 850}  # 850 + 50 clipped


@pytest.mark.parametrize("purpose", [None, ["finance"]], ids=["public score", "a view"])
def test_gates_read_the_starting_record_in_every_view(purpose):
    """Everyone applies for a mortgage on day 0 at 600: exactly those who start at 700 or 850
    are approved, whether the gate reads the public score or a purpose-limited view."""
    gate = {"apply_rate": 1.0, "threshold": 600, "reapply": True, "purpose": purpose}
    sc = scenario(gates={"mortgage": gate})
    engine, recorder = simulate(sc)
    from socialscore.simulation.kernels.gates import G_MORTGAGE, T_APPLIED, T_SELECTED

    start = engine.state.offset + sc.score.base
    for g in (0, 1):
        members = engine.nation.group == g
        assert recorder.gates[0, G_MORTGAGE, g, T_APPLIED] == members.sum()
        assert recorder.gates[0, G_MORTGAGE, g, T_SELECTED] == (start[members] >= 600).sum()


def saturating_run(saturating: bool) -> np.ndarray:
    """Everyone at 850 on day 0 gains +100 on day 0 (clipped), then loses 100 on day 1."""
    sc = scenario(
        {"saturating": saturating, "initial": {"scores": [850], "majority": [1.0]}},
        streams={"good_deed": {"rate": 1.0, "spread": 0.0}},
        rules=[{"event": "good_deed", "points": 100}],
    )
    sc = sc.with_overrides(days=2)
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    recorder = Recorder(sc, nat)
    engine.step(0, recorder)
    day0 = engine.state.score.copy()
    # On day 1 a penalty of 100 replaces the reward: swap the rule's points in place.
    engine.compiled.layout.points[:] = -100.0
    engine.step(1, recorder)
    assert (day0 == 850).all()
    return engine.state.score


def test_a_saturating_score_loses_points_beyond_its_range():
    """Saturating: the reward beyond 850 is lost, so the penalty takes everyone to 750.
    Not saturating: the record keeps the 950 and the penalty leaves everyone at 850."""
    assert (saturating_run(True) == 750).all()
    assert (saturating_run(False) == 850).all()


@pytest.mark.parametrize(
    ("initial", "message"),
    [
        ({"scores": [500, 400], "majority": [1, 1]}, "strictly ascending"),
        ({"scores": [400, 500], "majority": [1]}, "majority has 1 weights for 2 scores"),
        ({"scores": [400, 500], "majority": [0, 0]}, "add up to 0"),
        ({"scores": [200, 500], "majority": [1, 1]}, "outside"),
    ],
)
def test_a_starting_distribution_that_cannot_work_is_refused(initial, message):
    with pytest.raises(ValidationError, match=message):
        scenario({"initial": initial})
