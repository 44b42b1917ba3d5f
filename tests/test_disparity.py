"""Gate disparities: intervals that cover, tests that match enumeration, verdicts in three ways."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest

from socialscore.analysis import disparity as dp
from socialscore.scenario.window import Window

SIMULATIONS = 2_000
#: 95% intervals over 2,000 tables: the coverage's standard error is 0.005, so 0.93–0.97 is
#: four standard errors either side; a 90% interval (z = 1.645) lands near 0.90 and fails.
COVERAGE = (0.93, 0.97)


def coverage(hits: list[bool]) -> float:
    return float(np.mean(hits))


# -- intervals cover what they claim --------------------------------------------------------


def test_wilson_interval_covers_95_percent_of_binomial_draws():
    rng = np.random.default_rng(1)
    n, p = 150, 0.12
    hits = []
    for x in rng.binomial(n, p, SIMULATIONS):
        lo, hi = dp.wilson_interval(int(x), n)
        hits.append(lo <= p <= hi)
    assert COVERAGE[0] <= coverage(hits) <= COVERAGE[1]


@pytest.mark.parametrize("p1,p2", [(0.20, 0.08), (0.60, 0.45)])
def test_katz_interval_of_a_ratio_of_shares_covers_95_percent(p1, p2):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    n1, n2 = 400, 900
    truth = p1 / p2
    hits = []
    for x1, x2 in zip(
        rng.binomial(n1, p1, SIMULATIONS), rng.binomial(n2, p2, SIMULATIONS), strict=True
    ):
        lo, hi = dp.katz_ratio_interval(int(x1), n1, int(x2), n2)
        hits.append(lo <= truth <= hi)
    assert COVERAGE[0] <= coverage(hits) <= COVERAGE[1]


def test_rate_ratio_and_poisson_rate_intervals_cover_95_percent():
    rng = np.random.default_rng(3)
    e1, r1, e2, r2 = 2_000, 0.02, 18_000, 0.009
    ratio_hits, rate_hits = [], []
    for x1, x2 in zip(
        rng.poisson(e1 * r1, SIMULATIONS), rng.poisson(e2 * r2, SIMULATIONS), strict=True
    ):
        lo, hi = dp.rate_ratio_interval(int(x1), e1, int(x2), e2)
        ratio_hits.append(lo <= r1 / r2 <= hi)
        lo, hi = dp.poisson_rate_interval(int(x1), e1)
        rate_hits.append(lo <= r1 <= hi)
    assert COVERAGE[0] <= coverage(ratio_hits) <= COVERAGE[1]
    assert COVERAGE[0] <= coverage(rate_hits) <= COVERAGE[1]


def test_newcombe_interval_of_a_difference_covers_95_percent():
    rng = np.random.default_rng(4)
    n1, p1, n2, p2 = 300, 0.55, 120, 0.40
    hits = []
    for x1, x2 in zip(
        rng.binomial(n1, p1, SIMULATIONS), rng.binomial(n2, p2, SIMULATIONS), strict=True
    ):
        lo, hi = dp.newcombe_difference_interval(int(x1), n1, int(x2), n2)
        hits.append(lo <= p1 - p2 <= hi)
    assert COVERAGE[0] <= coverage(hits) <= COVERAGE[1]


def test_a_zero_count_leaves_its_side_of_the_interval_open():
    lo, hi = dp.katz_ratio_interval(0, 50, 10, 50)
    assert lo == 0.0 and 0.0 < hi < 1.0
    lo, hi = dp.katz_ratio_interval(10, 50, 0, 50)
    assert hi == math.inf and lo > 1.0
    assert all(math.isnan(v) for v in dp.katz_ratio_interval(0, 50, 0, 60))
    assert all(math.isnan(v) for v in dp.wilson_interval(0, 0))


# -- tests against exact enumeration --------------------------------------------------------


def fisher_by_enumeration(x1: int, n1: int, x2: int, n2: int) -> float:
    """Every table with the same margins, in exact rational arithmetic."""
    total = x1 + x2

    def prob(k: int) -> Fraction:
        return Fraction(math.comb(n1, k) * math.comb(n2, total - k), math.comb(n1 + n2, total))

    observed = prob(x1)
    ks = range(max(0, total - n2), min(total, n1) + 1)
    return float(sum(prob(k) for k in ks if prob(k) <= observed))


def binomial_by_enumeration(k: int, n: int, p: Fraction) -> float:
    def prob(j: int) -> Fraction:
        return math.comb(n, j) * p**j * (1 - p) ** (n - j)

    observed = prob(k)
    return float(sum(prob(j) for j in range(n + 1) if prob(j) <= observed))


@pytest.mark.parametrize(
    "table",
    [(3, 10, 0, 12), (1, 20, 7, 15), (5, 9, 5, 9), (0, 40, 4, 6), (12, 30, 2, 25), (2, 3, 0, 1)],
)
def test_fisher_exact_matches_enumeration(table):  # type: ignore[no-untyped-def]
    assert dp.fisher_exact_p(*table) == pytest.approx(fisher_by_enumeration(*table), rel=1e-9)


@pytest.mark.parametrize(
    "k,n,p", [(0, 12, Fraction(1, 10)), (7, 20, Fraction(1, 10)), (30, 60, Fraction(1, 2))]
)
def test_binomial_test_matches_enumeration(k, n, p):  # type: ignore[no-untyped-def]
    assert dp.binomial_test_p(k, n, float(p)) == pytest.approx(
        binomial_by_enumeration(k, n, p), rel=1e-9
    )


def test_two_proportion_test_uses_fisher_for_small_counts_and_agrees_with_it_for_large():
    assert dp.two_proportion_p(1, 20, 7, 15) == dp.fisher_exact_p(1, 20, 7, 15)
    z = dp.two_proportion_p(300, 2_000, 360, 2_000)
    assert z == pytest.approx(dp.fisher_exact_p(300, 2_000, 360, 2_000), rel=0.15)
    assert z < 0.05 < dp.two_proportion_p(300, 2_000, 310, 2_000)


# -- verdicts ------------------------------------------------------------------------------


def test_verdicts_use_the_interval_against_the_line():
    assert dp.verdict(0.7, 0.6, 0.79) == "fail"
    assert dp.verdict(0.85, 0.8, 0.95) == "pass"  # exactly 0.8 passes, as in the rule
    assert dp.verdict(0.82, 0.7, 0.95) == "inconclusive"
    assert dp.verdict(2.0, 1.3, 3.0) == "fail"  # a sanction twice as likely
    assert dp.verdict(1.2, 1.1, 1.3) == "inconclusive"
    assert dp.verdict(math.nan, math.nan, math.nan) == "not applicable"
    for v in ("pass", "fail", "inconclusive", "not applicable"):
        assert dp.verdict_from_code(dp.verdict_code(v)) == v  # type: ignore[arg-type]
    assert "straddles" in dp.verdict_words("inconclusive")


def test_everyone_approved_is_certain_only_with_many_decisions():
    few = dp.GateDisparity([5, 5], [5, 5], [100, 100]).impact_ratio()
    assert few.value == 1.0 and few.ci_low < dp.FOUR_FIFTHS and few.verdict == "inconclusive"
    many = dp.GateDisparity([20_000, 2_000], [20_000, 2_000], [100, 100]).impact_ratio()
    assert many.ci_low < 1.0 < many.ci_high and many.verdict == "pass"


def test_a_group_without_decisions_is_not_applicable_never_a_fail():
    d = dp.GateDisparity([100, 0], [90, 0], [1_000, 100])
    assert math.isnan(d.impact_ratio().value) and d.impact_ratio().verdict == "not applicable"
    assert d.adverse_outcome_ratio().verdict == "not applicable"
    assert math.isnan(d.passes_four_fifths())


def test_a_gate_that_approved_nobody_has_no_four_fifths_verdict():
    # A gate that approved nobody, as sesame-credit's documents gate did before its
    # recalibration (nobody reached 700): 0/0 approvals in both groups.
    d = dp.GateDisparity([40, 8], [0, 0], [1_000, 100])
    assert d.impact_ratio().verdict == "not applicable"
    assert math.isnan(d.passes_four_fifths())
    assert d.adverse_outcome_ratio().value == 1.0  # everyone was refused: no disparity


def test_a_sanction_twice_as_likely_fails_and_the_four_fifths_rule_does_not_see_it():
    # travel: the minority is barred 2% of its trips, the majority 1%.
    d = dp.GateDisparity([200_000, 50_000], [198_000, 49_000], [900_000, 100_000])
    assert d.impact_ratio().verdict == "pass"
    outcome = d.adverse_outcome_ratio()
    assert outcome.value == pytest.approx(2.0)
    assert outcome.ci_low > dp.ADVERSE_LINE and outcome.verdict == "fail"
    assert outcome.p_value < 1e-6
    per_member = d.adverse_outcome_ratio_population()
    assert per_member.value == pytest.approx((1_000 / 100_000) / (2_000 / 900_000))
    assert per_member.verdict == "fail"


def test_metric_rows_carry_intervals_for_every_rate_ratio_and_difference():
    d = dp.GateDisparity([500, 60], [400, 40], [9_000, 1_000])
    rows = {(m, g): (v, ci) for m, v, ci, g in d.metric_rows(("majority", "minority"))}
    for metric in ("selection_rate", "adverse_rate", "adverse_rate_per_member"):
        for grp in ("majority", "minority"):
            value, ci = rows[(metric, grp)]
            assert ci is not None and ci[0] <= value <= ci[1]
    for metric in (
        "adverse_impact_ratio",
        "demographic_parity_difference",
        "adverse_outcome_ratio",
        "adverse_outcome_ratio_population",
    ):
        value, ci = rows[(metric, "all")]
        assert ci is not None and ci[0] <= value <= ci[1]
    assert rows[("adverse_rate", "minority")][0] == pytest.approx(20 / 60)
    assert rows[("adverse_impact_ratio", "all")][0] == pytest.approx((40 / 60) / (400 / 500))


# -- the window filter against a plain loop ----------------------------------------------------


def test_gate_counts_sum_exactly_the_rows_of_the_window():
    rng = np.random.default_rng(7)
    gates, groups, days = ("mortgage", "travel", "public_contracts"), ("majority", "minority"), 50
    rows = [(d, gt, gr) for d in range(days) for gt in gates for gr in groups]
    applied = rng.integers(0, 40, len(rows))
    selected = rng.integers(0, applied + 1)
    erroneous = rng.integers(0, 3, len(rows))
    table = pa.table(
        {
            "day": pa.array([r[0] for r in rows], pa.int32()),
            "gate": [r[1] for r in rows],
            "group": [r[2] for r in rows],
            "applied": applied,
            "selected": selected,
            "erroneous_denials": erroneous,
        }
    )
    window = Window(17, 41, 0, "test")
    counts = dp.gate_counts(table, groups, window)
    assert list(counts) == list(gates)
    for gate in gates:
        want_a, want_s, want_e = [0, 0], [0, 0], 0
        for i, (day, gt, gr) in enumerate(rows):
            if gt == gate and 17 <= day <= 41:
                want_a[groups.index(gr)] += int(applied[i])
                want_s[groups.index(gr)] += int(selected[i])
                want_e += int(erroneous[i])
        a, s, e = counts[gate]
        assert a.tolist() == want_a and s.tolist() == want_s and e == want_e
    months = dp.gate_months(table, groups, days=days).to_pandas()
    assert sorted(set(months.day_from)) == [0, 30]
    assert set(months.day_to) == {29, 49}
    june = months[(months.gate == "mortgage") & (months.measure == "adverse_impact_ratio")]
    first = dp.gate_counts(table, groups, Window(0, 29, 0, "m"))["mortgage"]
    expected = dp.GateDisparity(first[0], first[1], [1, 1]).impact_ratio()
    assert june.value.iloc[0] == pytest.approx(expected.value)
    assert june.ci_low.iloc[0] == pytest.approx(expected.ci_low)


def _clustered_gate(gen: np.random.Generator, replicates: int) -> dp.GateDisparity:
    """5,000 people deciding 20 times each, each with a persistent adverse propensity
    (Beta: most rarely refused, a few nearly always): majority mean 0.10, minority 0.15."""
    group = (np.arange(5_000) % 5 == 0).astype(np.int64)  # a fifth are minority
    a = np.where(group == 1, 0.3, 0.2)
    p = gen.beta(a, 2.0 - a)
    adverse = gen.binomial(20, p)
    rep = np.arange(group.size) % replicates
    applied = np.zeros((replicates, 2), np.int64)
    bad = np.zeros((replicates, 2), np.int64)
    members = np.zeros((replicates, 2), np.int64)
    np.add.at(applied, (rep, group), 20)
    np.add.at(bad, (rep, group), adverse)
    np.add.at(members, (rep, group), 1)
    return dp.GateDisparity(
        applied.sum(0), (applied - bad).sum(0), members.sum(0), (applied, applied - bad, members)
    )


def test_repeated_decisions_about_the_same_people_widen_the_interval_to_honest_coverage():
    """Katz's interval treats 100,000 decisions as independent, though they come from 5,000
    people with persistent propensities: it covers the true ratio (1.5) about half the time.
    The jackknife over replicates of people restores near-95% coverage."""
    gen = np.random.default_rng(7)
    reps = 300
    clustered = independent = 0
    for _ in range(reps):
        gate = _clustered_gate(gen, 16)
        rows = {m: (v, ci) for m, v, ci, g in gate.metric_rows(("majority", "minority"))}
        _, (lo, hi) = rows["adverse_outcome_ratio"]
        clustered += lo <= 1.5 <= hi
        plain = dp.GateDisparity(gate.applied, gate.selected, gate.members)
        est = plain.adverse_outcome_ratio()
        independent += est.ci_low <= 1.5 <= est.ci_high
    assert independent / reps < 0.80, independent / reps
    assert 0.90 <= clustered / reps <= 0.99, clustered / reps


def test_replicates_that_add_nothing_leave_the_interval_as_it_is():
    # Identical replicates: the jackknife sees no spread, Katz's interval stands.
    applied = np.tile([[900, 100]], (16, 1))
    selected = np.tile([[810, 85]], (16, 1))
    members = applied.copy()
    with_reps = dp.GateDisparity(
        applied.sum(0), selected.sum(0), members.sum(0), (applied, selected, members)
    )
    plain = dp.GateDisparity(applied.sum(0), selected.sum(0), members.sum(0))
    a = with_reps.metric_rows(("majority", "minority"))
    b = plain.metric_rows(("majority", "minority"))
    assert a == b
