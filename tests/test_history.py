"""Records before day 0 (``[[history]]``): who carries them, how old they are, what they cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from conftest import minimal
from socialscore.scenario.vocabulary import TRAITS
from socialscore.simulation import nation
from socialscore.simulation.compiled import compile_scenario, trait_multiplier_table
from socialscore.simulation.state import history_ages, initial_state

N = 200_000


def scenario(history: dict[str, Any], rule: dict[str, Any] | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    rule = {"event": "court_judgment", "points": -100, "cleared_by": "debt_paid"} | (rule or {})
    return minimal(
        run={"population": N, "days": 1, "seed": 7},
        streams={
            "court_judgment": {"rate": 0.0, "trait": "financial_stress", "trait_strength": 1.0}
        },
        rules=[rule],
        history=[{"event": "court_judgment"} | history],
        **extra,
    )


def day_zero(sc):  # type: ignore[no-untyped-def]
    nat = nation.generate(sc)
    return nat, initial_state(sc, nat, compile_scenario(sc))


def test_the_share_carrying_a_record_is_the_share_asked_for_weighted_by_the_trait():
    """Expected share 2%, four binomial s.d. (0.13 points); the chosen are more stressed by the
    stream's own trait multiplier: their mean multiplier is E[m²]/E[m] (a size-biased pick)."""
    sc = scenario({"share": 0.02})
    nat, st = day_zero(sc)
    held = st.acc[0] < 0
    assert abs(held.mean() - 0.02) <= 4 * np.sqrt(0.02 * 0.98 / N)
    m = trait_multiplier_table(1.0)[nat.traits[TRAITS.index("financial_stress")]]
    expected = (m**2).mean() / m.mean()
    assert m[held].mean() == pytest.approx(expected, rel=0.03)
    assert m[held].mean() > m.mean() * 1.1


def test_the_points_held_are_the_rules_points_decayed_to_the_records_age():
    """With a 100-day half-life and ages exponential (mean 50 days, cut at 200), the points held
    at the end of day 0 average points·E[0.5^(age/100)], computed here by summing the
    truncated exponential's probability of each whole-day age (four s.d. of the mean)."""
    sc = scenario(
        {"share": 0.2, "age_scale_days": 50, "age_max_days": 200},
        {"half_life_days": 100, "cleared_by": None},
    )
    nat = nation.generate(sc)
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    engine = Engine(sc, nat)
    engine.step(0, Recorder(sc, nat))
    held = engine.state.acc[0][engine.state.acc[0] < 0]
    ages = np.arange(1, 201)
    # P(age = a): the exponential's mass on (a − 1, a], renormalised to the cut.
    mass = np.exp(-(ages - 1) / 50) - np.exp(-ages / 50)
    expected = -100 * float((mass * 0.5 ** (ages / 100)).sum() / mass.sum())
    assert abs(held.mean() - expected) <= 4 * held.std() / np.sqrt(held.size)
    assert held.min() >= -100 * 0.5 ** (1 / 100) - 1e-3  # at most one day old: one decay
    assert held.max() <= -100 * 0.5 ** (200 / 100) + 1e-3  # at most 200 days old


def test_ages_follow_the_cut_exponential():
    u = (np.arange(100_000) + 0.5) / 100_000
    ages = history_ages(u, 2700.0, 2130)
    assert ages.min() == 1 and ages.max() == 2130
    # The median of an exponential of mean 2700 cut at 2130: solve F(a) = 1/2.
    tail = 1 - np.exp(-2130 / 2700)
    median = -2700 * np.log(1 - 0.5 * tail)
    assert abs(np.median(ages) - median) <= 1.0
    assert (history_ages(u, 0.0, 10) == 1).all()


def test_only_citizens_rated_on_day_zero_carry_records():
    sc = scenario({"share": 0.5}, participation={"mandatory_from_day": 30, "opt_in_share": 0.2})
    _, st = day_zero(sc)
    held = st.acc[0] < 0
    assert held.any()
    assert not held[st.participant == 0].any()


def test_a_record_without_a_rule_or_on_an_expiring_rule_is_refused_by_key():
    with pytest.raises(
        ValidationError, match=r"history\[0\]\.event = 'court_judgment' has no rule"
    ):
        minimal(rules=[], history=[{"event": "court_judgment", "share": 0.1}])
    with pytest.raises(ValidationError, match=r"history\[0\].*expires_after_days"):
        scenario({"share": 0.1}, {"expires_after_days": 30, "cleared_by": None})
    with pytest.raises(ValidationError, match="did you mean 'court_judgment'"):
        scenario({"event": "court_judgement", "share": 0.1})


def test_the_same_seed_gives_the_same_records():
    sc = scenario({"share": 0.01, "age_scale_days": 30, "age_max_days": 90}, {"half_life_days": 30})
    _, a = day_zero(sc)
    _, b = day_zero(sc)
    assert np.array_equal(a.acc, b.acc)
    _, c = day_zero(sc.with_overrides(seed=8))
    assert not np.array_equal(a.acc, c.acc)
