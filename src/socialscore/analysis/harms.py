"""The one-run harm measures of DESIGN.md §4, as a long table.

Every row is (metric, subject, grp, value): ``subject`` names what the
metric is about (a gate, a grade transition, a decile) and ``grp`` the
group it is for ("all" for the whole population). :data:`DESCRIPTIONS`
gives every metric's meaning in words, for the CLI and the report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from socialscore.analysis import chilling, disparity, steady
from socialscore.measures import bootstrap as citizen_bootstrap
from socialscore.measures import statistics as metrics
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, COMPANY_GATES, GROUP_LABELS
from socialscore.scenario.window import measurement_window
from socialscore.simulation.kernels.gates import REPLICATES

DESCRIPTIONS: Final[dict[str, str]] = {
    "mean_score": (
        "Average score on the last day (95% interval: ±1.96 standard deviations of the scores "
        "over the square root of the number of citizens)."
    ),
    "sd_score": "Spread of scores on the last day (standard deviation).",
    "gini": (
        "Inequality of scores on the last day, measured on each score's height above the "
        "bottom of its scale (score minus the lowest possible score), so it reads the same "
        "on any scale: 0 when all are equal, near 1 when one citizen holds all the height "
        "and everyone else sits at the bottom."
    ),
    "grade_share": "Share of citizens in each grade on the last day (95% Wilson interval).",
    "blacklisted_share": (
        "Share of citizens below the blacklist line on the last day (95% Wilson interval)."
    ),
    "selection_rate": (
        "Share of a group's decisions at a gate that went the citizen's way, over the "
        "measurement window (95% Wilson interval)."
    ),
    "adverse_rate": (
        "Share of a group's decisions at a gate that went against the citizen (denied, "
        "dismissed, refused, barred), over the measurement window (95% Wilson interval)."
    ),
    "adverse_rate_per_member": (
        "Adverse decisions at a gate per member of the group over the measurement window, "
        "counting those who never applied (95% Poisson score interval)."
    ),
    "applications": "Number of decisions taken at a gate over the measurement window, per group.",
    "adverse_impact_ratio": (
        "Lowest group's selection rate divided by the highest group's (95% Katz interval); "
        "below 0.8 fails the four-fifths rule (evidence of adverse impact)."
    ),
    "four_fifths_pass": (
        "1 when the point adverse-impact ratio is at least 0.8, 0 when it is lower; empty when "
        "a group had no decisions or nobody was approved (not applicable)."
    ),
    "four_fifths_verdict": (
        "Four-fifths verdict from the interval of the adverse-impact ratio: 1 passes (interval "
        "wholly within 0.8–1.25), 0 fails (wholly below 0.8), 0.5 inconclusive (the interval "
        "straddles the line), empty when not applicable."
    ),
    "demographic_parity_difference": (
        "Highest group's selection rate minus the lowest's (95% Newcombe interval)."
    ),
    "applicants_p_value": (
        "p-value of the test that both groups' applicants are approved (and denied) at the same "
        "rate: Fisher's exact test for small counts, the two-proportion z-test otherwise."
    ),
    "adverse_outcome_ratio": (
        "Minority applicants' adverse rate divided by majority applicants' (95% Katz interval): "
        "above 1 the minority is denied or sanctioned more often. The gate fails when the whole "
        "interval lies beyond 1.25 (or below 0.8), is inconclusive when it straddles the line."
    ),
    "adverse_outcome_verdict": (
        "Verdict on the adverse-outcome ratio from its interval against the band 0.8–1.25: "
        "1 passes, 0 fails, 0.5 inconclusive, empty when not applicable."
    ),
    "adverse_outcome_ratio_population": (
        "Minority's adverse decisions per member divided by the majority's, whether or not they "
        "applied (95% interval on the log ratio of two Poisson rates)."
    ),
    "adverse_outcome_population_p_value": (
        "p-value of the test that adverse decisions fall on the groups in proportion to their "
        "size (exact conditional binomial test)."
    ),
    "adverse_outcome_population_verdict": (
        "Verdict on the per-member adverse-outcome ratio from its interval against the band "
        "0.8–1.25: 1 passes, 0 fails, 0.5 inconclusive, empty when not applicable."
    ),
    "erroneous_denials": (
        "Denials over the measurement window that would have been approvals without "
        "erroneous records."
    ),
    "rank_rank_correlation": (
        "Correlation of citizens' ranks at the start of the measurement window and at the "
        "end (Spearman; tied citizens share the middle of their ranks): 1 means everyone "
        "kept their place, 0 that the start says nothing about the end. Undefined when "
        "every citizen has the same score at the start or at the end."
    ),
    "rank_rank_slope": (
        "Slope of end rank on start rank over the measurement window (US parent-child "
        "income: about 0.34). Undefined when every citizen has the same score at the start."
    ),
    "bottom_decile_persistence": (
        "Share of the bottom tenth of the ranking at the start of the measurement window "
        "still in the bottom tenth at the end. Citizens tied at the edge of the bottom tenth "
        "count in it in part, so it always holds a tenth of the citizens. 0.10 is chance: "
        "what it is when the start says nothing about the end, or nobody has a distinct score."
    ),
    "grade_transition": (
        "Share of citizens in a grade at the start of the measurement window who ended it in "
        "each grade (95% Wilson interval)."
    ),
    "score_assortativity": (
        "Correlation of scores between friends: high values mean friendships sort by score."
    ),
    "friends_dropped": "Friendships dropped because of a friend's low score, over the run.",
    "followers_lost_by_decile": (
        "Average number of citizens who dropped a citizen as a friend, by the citizen's "
        "final score decile (0 = lowest tenth; citizens tied across a decile's edge count "
        "in each decile in part)."
    ),
    "privacy_auc": (
        "How well a low score alone singles out minority citizens (ROC AUC): 0.5 reveals "
        "nothing, 1 identifies them perfectly, below 0.5 they score higher."
    ),
    **chilling.DESCRIPTIONS,
    "mean_score_by_group": "Average score of each group on the last day.",
    "company_mean_score": "Average company score on the last day.",
    "drift_per_year": (
        "How much a daily series (the subject) was still moving at the end of the run: the "
        "straight-line trend over the run's last quarter (days as stated), projected over a "
        "year, with a 95% interval that allows for day-to-day autocorrelation."
    ),
    "settled": (
        "0 when a daily series (the subject) was still changing at the end of the run: its "
        "drift per year is significant (the interval excludes 0) and material (more than 5% "
        "of the series' level a year; for scores, 5% of the score scale's width). 1 when no "
        "such drift was found (a persistent series may hide a slow drift; a longer run tells)."
    ),
}


@dataclass(frozen=True)
class MetricRow:
    """One row of a metrics table: value, 95% interval (nan: none) and days (None: unstated)."""

    value: float
    low: float
    high: float
    first: int | None
    last: int | None

    @property
    def has_interval(self) -> bool:
        """True when the row carries an interval."""
        return not (math.isnan(self.low) or math.isnan(self.high))


def metric_row(
    metrics: pd.DataFrame, metric: str, subject: str = "", grp: str = "all"
) -> MetricRow | None:
    """One row of a metrics table (as pandas); None when the run did not produce it.

    Tables written before intervals and days were recorded read as nan and None.
    """
    hit = metrics[(metrics.metric == metric) & (metrics.subject == subject) & (metrics.grp == grp)]
    if not len(hit):
        return None
    r = hit.iloc[0]

    def num(name: str) -> float:
        v = r.get(name)
        return math.nan if v is None or pd.isna(v) else float(v)

    first, last = num("day_from"), num("day_to")
    return MetricRow(
        float(r.value),
        num("ci_low"),
        num("ci_high"),
        None if math.isnan(first) else int(first),
        None if math.isnan(last) else int(last),
    )


def metric_value(metrics: pd.DataFrame, metric: str, subject: str = "", grp: str = "all") -> float:
    """One value from a metrics table (as pandas); nan when the run did not produce it."""
    row = metric_row(metrics, metric, subject, grp)
    return math.nan if row is None else row.value


class _Rows:
    """The metrics table being built: each row a value, its 95% interval and its days."""

    def __init__(self, default_days: tuple[int, int]) -> None:
        self.default_days = default_days
        self.metric: list[str] = []
        self.subject: list[str] = []
        self.grp: list[str] = []
        self.value: list[float] = []
        self.ci_low: list[float | None] = []
        self.ci_high: list[float | None] = []
        self.day_from: list[int] = []
        self.day_to: list[int] = []

    def add(
        self,
        metric: str,
        value: float,
        *,
        subject: str = "",
        grp: str = "all",
        ci: tuple[float, float] | None = None,
        days: tuple[int, int] | None = None,
    ) -> None:
        """One row; ``days`` (first, last) defaults to the table's, ``ci`` to none."""
        first, last = self.default_days if days is None else days
        self.metric.append(metric)
        self.subject.append(subject)
        self.grp.append(grp)
        self.value.append(float(value))
        self.ci_low.append(None if ci is None else float(ci[0]))
        self.ci_high.append(None if ci is None else float(ci[1]))
        self.day_from.append(int(first))
        self.day_to.append(int(last))

    def table(self) -> pa.Table:
        return pa.table(
            {
                "metric": pa.array(self.metric, pa.string()),
                "subject": pa.array(self.subject, pa.string()),
                "grp": pa.array(self.grp, pa.string()),
                "value": pa.array(self.value, pa.float64()),
                "ci_low": pa.array(self.ci_low, pa.float64()),
                "ci_high": pa.array(self.ci_high, pa.float64()),
                "day_from": pa.array(self.day_from, pa.int32()),
                "day_to": pa.array(self.day_to, pa.int32()),
            }
        )


def _finite(ci: tuple[float, float]) -> tuple[float, float] | None:
    """An interval, or None (no interval) when it is undefined."""
    return None if np.isnan(ci[0]) or np.isnan(ci[1]) else ci


def _col(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy())


def compute(
    scenario: Scenario,
    tables: dict[str, pa.Table],
    friends: Iterable[tuple[int, np.ndarray]],
) -> pa.Table:
    """Compute every one-run metric from the recorded tables and the final friendships.

    ``friends`` gives the friend lists at the end of the run block by block,
    as ``(first citizen, friend ids)`` (:meth:`socialscore.simulation.nation.Nation.friend_blocks`).
    """
    window = measurement_window(scenario, tables["daily"].num_rows)
    last_day = window.end
    rows = _Rows((last_day, last_day))  # snapshot measures: the last day
    whole = (0, last_day)
    mobility = (window.start, last_day)
    citizens = tables["citizens"]
    score = _col(citizens, "score")
    start = _col(citizens, "score_start")
    group = _col(citizens, "group")
    s = scenario.score
    seed = scenario.run.seed

    hist = metrics.score_histogram(score, s.lo, s.hi)
    values = np.arange(s.lo, s.hi + 1)
    # From the histogram: no per-citizen temporaries (the sums of integers are exact).
    n = max(int(hist.sum()), 1)
    mean = float((values * hist).sum()) / n
    sd = float(np.sqrt((hist * (values - mean) ** 2).sum() / n))
    half = disparity.Z95 * sd / np.sqrt(n)  # citizens as draws from the regime
    rows.add("mean_score", mean, ci=(mean - half, mean + half))
    rows.add("sd_score", sd)
    # Gini of the height above the scale's floor: the same under any shift-and-stretch
    # relabelling of the scale, so scales 0-600, 350-950 and 0-1,200 compare.
    rows.add(
        "gini",
        metrics.gini_above_floor(values, hist, s.lo),
        ci=_finite(citizen_bootstrap.gini_interval(values - s.lo, hist, seed=seed)),
    )
    listed = int(hist[: s.blacklist_below - s.lo].sum())
    rows.add("blacklisted_share", listed / n, ci=disparity.wilson_interval(listed, n))
    by_group = metrics.mean_by_group(score, group, len(GROUP_LABELS))
    for g, label in enumerate(GROUP_LABELS):
        if not np.isnan(by_group[g]):
            rows.add("mean_score_by_group", float(by_group[g]), grp=label)
    grades = _col(citizens, "grade")
    grade_start = _col(citizens, "grade_start")
    names = [g.name for g in s.grades]
    in_grade = metrics.score_histogram(grades, 0, len(names) - 1)
    for k, name in enumerate(names):
        count, total = int(in_grade[k]), max(len(grades), 1)
        rows.add(
            "grade_share",
            count / total,
            subject=name,
            ci=disparity.wilson_interval(count, total) if len(grades) else None,
        )

    measured = (window.start, window.end)
    members = group_members(tables, len(GROUP_LABELS))
    counts = disparity.gate_counts(tables["daily_gates"], GROUP_LABELS, window)
    replicates = (
        disparity.gate_replicates(
            tables["gate_replicates"], GROUP_LABELS, window, group, REPLICATES
        )
        if "gate_replicates" in tables
        else {}
    )
    for gate, (applied, selected, erroneous) in counts.items():
        if applied.sum() == 0:
            continue
        gd = disparity.GateDisparity(applied, selected, members[gate], replicates.get(gate))
        for metric, value, ci, grp in gd.metric_rows(GROUP_LABELS):
            rows.add(metric, value, subject=gate, grp=grp, ci=ci, days=measured)
        rows.add("erroneous_denials", erroneous, subject=gate, days=measured)

    mobility_ci = citizen_bootstrap.mobility_intervals(start, score, seed=seed)
    for name, measure in (
        ("rank_rank_correlation", metrics.rank_rank_correlation),
        ("rank_rank_slope", metrics.rank_rank_slope),
        ("bottom_decile_persistence", metrics.bottom_decile_persistence),
    ):
        rows.add(name, measure(start, score), ci=_finite(mobility_ci[name]), days=mobility)
    matrix = metrics.transition_matrix(grade_start, grades, len(names))
    started = metrics.score_histogram(grade_start, 0, len(names) - 1)
    for a, from_name in enumerate(names):
        for b, to_name in enumerate(names):
            if not np.isnan(matrix[a, b]):
                moved = round(float(matrix[a, b]) * int(started[a]))
                rows.add(
                    "grade_transition",
                    matrix[a, b],
                    subject=f"{from_name} -> {to_name}",
                    ci=disparity.wilson_interval(moved, int(started[a])),
                    days=mobility,
                )

    # The fixed-width friend lists are read in place; negative entries (empty or dropped)
    # are inactive.
    friend_moments = citizen_bootstrap.FriendMoments(score, seed=seed)
    assortativity = metrics.score_assortativity_blocks(friend_moments.observe(friends), score)
    rows.add(
        "score_assortativity",
        assortativity,
        ci=_finite(friend_moments.interval(assortativity)),
    )
    rows.add(
        "friends_dropped",
        float(tables["daily"].column("friends_dropped").to_numpy().sum()),
        days=whole,
    )
    lost = _col(citizens, "followers_lost")
    for decile, value in enumerate(metrics.mean_by_decile(score, lost)):
        rows.add("followers_lost_by_decile", value, subject=str(decile), days=whole)
    rows.add(
        "privacy_auc",
        metrics.auc_group_from_score(score, group, positive=1),
        ci=_finite(citizen_bootstrap.auc_interval(score, group, s.lo, s.hi, seed=seed)),
    )

    for m in chilling.measures(scenario, tables["daily_events"], window):
        rows.add(m.metric, m.value, subject=m.subject, grp=m.grp, ci=m.ci, days=m.days)

    company_score = _col(tables["companies"], "score")
    if company_score.size:
        rows.add("company_mean_score", float(company_score.mean()))

    for d in steady.drifts(scenario, tables["daily"]):
        rows.add("drift_per_year", d.per_year, subject=d.series, ci=(d.low, d.high), days=d.days)
        rows.add("settled", 1.0 if d.settled else 0.0, subject=d.series, days=d.days)
    return rows.table()


def group_members(tables: dict[str, pa.Table], groups: int) -> dict[str, np.ndarray]:
    """Each gate's group sizes: citizens per group, or companies per owner's group."""
    citizens = np.bincount(_col(tables["citizens"], "group"), minlength=groups)[:groups]
    companies = np.bincount(_col(tables["companies"], "owner_group"), minlength=groups)[:groups]
    return {
        **{g: citizens.astype(np.int64) for g in CITIZEN_GATES},
        **{g: companies.astype(np.int64) for g in COMPANY_GATES},
    }


def gate_months(tables: dict[str, pa.Table]) -> pa.Table:
    """The run's gate disparities by 30-day month (:func:`.disparity.gate_months`)."""
    days = tables["daily"].num_rows
    return disparity.gate_months(tables["daily_gates"], GROUP_LABELS, days=days)


def penalised_legal_events(scenario: Scenario) -> list[str]:
    """Events that are legal, deterrable and penalised by the rulebook (chilling targets).

    Interactions included (:func:`socialscore.analysis.chilling.deterred_events`).
    """
    return chilling.deterred_events(scenario)
