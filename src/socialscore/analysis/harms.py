"""The one-run harm measures, as a long table.

Every row is (metric, subject, grp, value): ``subject`` names what the
metric is about (a gate, a grade transition, a decile) and ``grp`` the
group it is for ("all" for the whole population). Every metric is declared,
with its words and the days it covers, in :mod:`socialscore.analysis.definitions`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

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
