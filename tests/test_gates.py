"""Each gate's decision rule, on hand-made citizens; gate disparities measured on whole runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialscore
from conftest import minimal, small
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, TRAITS
from socialscore.simulation.compiled import Feedback, compile_scenario
from socialscore.simulation.engine import Day, GateTallies, NationArrays
from socialscore.simulation.kernels import gates as g
from socialscore.simulation.state import State

SCORES = np.array([400, 599, 600, 700], dtype=np.int16)


def decide(
    scenario,
    *,
    day=0,
    score=SCORES,
    clean=None,
    percentile=None,
    employer=None,  # type: ignore[no-untyped-def]
    children=None,
    group=None,
):
    n = score.shape[0]
    s = scenario.score
    compiled = compile_scenario(scenario)
    zeros = np.zeros(n, np.float32)
    state = State(
        score=score,
        score_clean=score if clean is None else clean,
        # Citizen k's published percentile is below[k]: published scores lo, lo + 1, ...
        published=(s.lo + np.arange(n)).astype(np.int16),
        published_below=_below(s, np.linspace(0, 0.75, n) if percentile is None else percentile),
        net=zeros,
        offset=np.zeros(0, np.float32),  # everyone starts at the base
        acc=np.zeros((compiled.layout.accumulators, n), np.float32),
        err_acc=zeros,
        stress=np.zeros(n, np.float32),
        chill=np.zeros(0, np.float32),  # nobody is aware: no exposures
        gaming=np.zeros(0, np.float32),
        employer=np.full(n, -1, np.int32) if employer is None else employer.copy(),
        has_mortgage=np.zeros(n, np.uint8),
        participant=np.ones(n, np.uint8),
        aware=np.zeros(0, np.int32),  # the aware citizens: none
        aware_offset=np.zeros(len(range(0, n, g.CHUNK)) + 1, np.int64),
        friend_codes=np.zeros((0, n), np.uint8),
        dispute_filed_on=np.zeros(0, np.int32),
        company_acc=np.zeros((0, 0), np.float32),
        company_score=np.zeros(0, np.int16),
    )
    nation = NationArrays(
        group=np.zeros(n, np.uint8) if group is None else group,
        traits=np.full((len(TRAITS), n), 128, np.uint8),
        children=np.ones(n, np.uint8) if children is None else children,
        region_start=np.array([0, n], np.int64),
        friends_local=0,
        companies=10,
        company_compliance=np.zeros(0, np.uint8),
        company_group=np.zeros(0, np.uint8),
    )
    tallies = GateTallies(
        gates=np.zeros((1, len(CITIZEN_GATES), 2, g.TALLIES), np.int64),
        reasons=np.zeros((1, len(CITIZEN_GATES), 2, len(compiled.layout.labels)), np.int64),
        group_state=np.zeros((1, 2, 6), np.float64),
        decided=np.zeros(n, np.uint32),
    )
    g.step_gates(
        0,  # chunks 0 to 0: the test's citizens are one chunk
        1,
        Day(seed=1, day=day, all_rated=True, low_ranked=np.zeros((n + 7) // 8, np.uint8)),
        nation,
        state,
        compiled.views,
        compiled.score,
        compiled.gates,
        Feedback(
            stress_decay=1.0, chill_below=0, chill_weight=1.0, gaming_increment=0.0, gaming_cap=0.0
        ),
        tallies,
    )
    out = {
        "employer": state.employer,
        "has_mortgage": state.has_mortgage,
        "stress": state.stress,
        "counts": tallies.gates[0],
        "reasons": tallies.reasons[0],
    }
    return tallies.gates[0, :, 0, :3], out


def _below(s, percentiles):  # type: ignore[no-untyped-def]
    below = np.zeros(s.hi - s.lo + 1, np.float32)
    below[: len(percentiles)] = percentiles
    return below


def only(gate: str, **params):  # type: ignore[no-untyped-def]
    return minimal(
        score={
            "base": 600,
            "lo": 350,
            "hi": 950,
            "blacklist_below": 450,
            "grades": [{"name": "all", "from": 350}],
        },
        gates={gate: params},
    )


def test_mortgage_is_approved_at_the_threshold_and_denial_raises_stress():
    counts, state = decide(only("mortgage", apply_rate=1.0, threshold=600, denial_stress=0.5))
    assert counts[g.G_MORTGAGE].tolist() == [4, 2, 0]
    assert state["has_mortgage"].tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(state["stress"], [0.5, 0.5, 0, 0])


def test_denial_caused_by_an_erroneous_record_is_counted():
    clean = np.array([400, 600, 600, 700], dtype=np.int16)
    counts, _ = decide(only("mortgage", apply_rate=1.0, threshold=600), clean=clean)
    assert counts[g.G_MORTGAGE, g.T_ERRONEOUS] == 1


def test_hiring_employs_only_the_unemployed_at_the_threshold():
    employer = np.array([-1, -1, -1, 3], np.int32)
    counts, state = decide(only("job_hiring", search_rate=1.0, threshold=599), employer=employer)
    assert counts[g.G_HIRING].tolist() == [3, 2, 0]
    assert state["employer"][0] == -1
    assert np.all(state["employer"][1:] >= 0)


def test_retention_review_dismisses_below_the_threshold():
    employer = np.zeros(4, np.int32)
    counts, state = decide(
        only("job_retention", review_rate=1.0, threshold=600, dismissal_stress=2.0),
        employer=employer,
    )
    assert counts[g.G_RETENTION].tolist() == [4, 2, 0]
    assert state["employer"].tolist() == [-1, -1, 0, 0]
    np.testing.assert_allclose(state["stress"], [2, 2, 0, 0])


def test_school_admits_on_admission_day_only_and_only_parents():
    sc = only("school", admission_day=5, threshold=650)
    children = np.array([1, 1, 0, 2], np.uint8)
    on_day, _ = decide(sc, day=5, children=children)
    assert on_day[g.G_SCHOOL].tolist() == [3, 1, 0]
    off_day, _ = decide(sc, day=6, children=children)
    assert off_day[g.G_SCHOOL].tolist() == [0, 0, 0]
    next_year, _ = decide(sc, day=365 + 5, children=children)
    assert next_year[g.G_SCHOOL].tolist() == [3, 1, 0]


def test_dating_match_weighs_both_public_percentiles():
    assert g.dating_match(0.5, 0.6, 0.2, 0.3)
    assert not g.dating_match(0.5, 0.1, 0.2, 0.9)  # partner too low
    assert not g.dating_match(0.1, 0.5, 0.2, 0.9)  # self too low
    assert not g.dating_match(0.3, 0.9, 0.2, 0.3)  # too far apart


def test_dating_gate_counts_attempts_and_matches():
    percentile = np.array([0.9, 0.9, 0.9, 0.9], np.float32)
    counts, _ = decide(
        only("dating", attempt_rate=1.0, min_partner_percentile=0.5, max_percentile_gap=0.1),
        percentile=percentile,
    )
    assert counts[g.G_DATING].tolist() == [4, 4, 0]
    low = np.array([0.1, 0.1, 0.1, 0.1], np.float32)
    counts, _ = decide(only("dating", attempt_rate=1.0, min_partner_percentile=0.5), percentile=low)
    assert counts[g.G_DATING].tolist() == [4, 0, 0]


def test_documents_granted_at_the_threshold():
    counts, _ = decide(only("documents", apply_rate=1.0, threshold=401))
    assert counts[g.G_DOCUMENTS].tolist() == [4, 3, 0]


def test_travel_is_blocked_for_the_blacklisted_only():
    counts, _ = decide(only("travel", attempt_rate=1.0))
    assert counts[g.G_TRAVEL].tolist() == [4, 3, 0]


def test_disabled_gates_take_no_decision():
    counts, _ = decide(minimal())
    assert counts.sum() == 0


def test_tallies_are_kept_by_group():
    group = np.array([0, 1, 1, 0], np.uint8)
    sc = only("mortgage", apply_rate=1.0, threshold=600)
    _, state = decide(sc, group=group)
    counts = state["counts"][None, :, :, :3]
    assert counts[0, g.G_MORTGAGE, 0].tolist() == [2, 1, 0]
    assert counts[0, g.G_MORTGAGE, 1].tolist() == [2, 1, 0]


# -- disparities over a whole run ----------------------------------------------------------

#: Equal-sized groups, so both have enough travel decisions in a small run.
HALF = {"minority_share": 0.5}
RATIOS = ("adverse_impact_ratio", "adverse_outcome_ratio", "adverse_outcome_ratio_population")


def run_metrics(sc: Scenario, tmp_path) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return socialscore.run(sc, out=tmp_path).metrics.to_pandas()


def with_nation(sc: Scenario, **nation: object) -> Scenario:
    return sc.model_copy(update={"nation": sc.nation.model_copy(update=nation)})


def identical_groups(sc: Scenario) -> Scenario:
    """The same regime on two groups that differ in nothing but their label."""
    traits = {k: v.model_copy(update={"minority_shift": 0.0}) for k, v in sc.nation.traits.items()}
    streams = {k: v.model_copy(update={"minority_multiplier": 1.0}) for k, v in sc.streams.items()}
    sc = with_nation(
        sc, **HALF, minority_income_shift=0.0, minority_concentration=0.0, traits=traits
    )
    return sc.model_copy(update={"streams": streams})


def row(m: pd.DataFrame, metric: str, gate: str) -> pd.Series:
    return m[(m.metric == metric) & (m.subject == gate) & (m.grp == "all")].iloc[0]


@pytest.fixture(scope="module")
def citizen_score() -> Scenario:
    return with_nation(small("citizen-score", population=60_000, days=200), **HALF)


def test_travel_bans_fall_more_often_on_the_minority_though_the_four_fifths_rule_passes(
    citizen_score, tmp_path
):  # type: ignore[no-untyped-def]
    m = run_metrics(citizen_score, tmp_path)
    # Approvals: almost every trip is allowed, so the four-fifths rule sees nothing.
    assert row(m, "adverse_impact_ratio", "travel").value > 0.99
    assert row(m, "four_fifths_pass", "travel").value == 1.0
    # Bans: the minority is barred far more often, among travellers and per member.
    for metric in ("adverse_outcome_ratio", "adverse_outcome_ratio_population"):
        r = row(m, metric, "travel")
        assert r.value > 1.5 and r.ci_low > 1.0 and r.ci_high > r.value
        assert (r.day_from, r.day_to) == (100, 199)
    assert row(m, "adverse_outcome_population_p_value", "travel").value < 0.01
    minority = m[(m.metric == "adverse_rate_per_member") & (m.subject == "travel")]
    rates = minority.set_index("grp").value
    assert rates["minority"] > 2 * rates["majority"]


def test_identical_groups_give_ratios_whose_intervals_hold_one(citizen_score, tmp_path):  # type: ignore[no-untyped-def]
    m = run_metrics(identical_groups(citizen_score), tmp_path)
    for metric in RATIOS:
        r = row(m, metric, "travel")
        assert r.ci_low <= 1.0 <= r.ci_high, metric
    # A gate's 95% intervals exclude 1 about one time in twenty (its three ratios move
    # together): over seven gates, three or more such gates happen about once in a hundred.
    ratios = m[m.metric.isin(RATIOS) & m.ci_low.notna()]
    outside = ratios[(ratios.ci_low > 1.0) | (ratios.ci_high < 1.0)]
    assert ratios.subject.nunique() >= 6 and outside.subject.nunique() <= 2
