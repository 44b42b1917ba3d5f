"""Comparing regimes on the same people: paired, reproducible, less noisy than independent runs."""

from __future__ import annotations

import html
import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import socialscore
from socialscore.measures.intervals import MeanInterval
from socialscore.report.comparison import ComparisonFacts, build_comparison, change_words
from socialscore.scenario.files import load
from socialscore.store.catalogue import RunStore
from socialscore.studies.compare import behaviour_rates, compare


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(tmp_path):  # type: ignore[no-untyped-def]
    result = compare(
        ["citizen-score", "citizen-score"], population=3_000, days=20, seeds=2, out=tmp_path
    )
    assert result.table.difference.abs().max() == 0.0
    assert (result.table.ci_low.fillna(0) == 0).all() and (
        result.table.ci_high.fillna(0) == 0
    ).all()
    assert len(result.runs) == 2  # same name and seed: the second run replaces the first key
    assert len(RunStore(tmp_path).list_runs()) == 4


def test_comparison_is_stored_in_the_catalogue(tmp_path):  # type: ignore[no-untyped-def]
    result = compare(
        ["citizen-score", "no-scoring"], population=3_000, days=20, seeds=1, out=tmp_path
    )
    stored = RunStore(tmp_path).comparisons()
    assert set(stored.compare_id) == {result.compare_id}
    mine = stored[(stored.scenario == "no-scoring") & (stored.metric == "mean_score")]
    assert np.isclose(mine.difference.iloc[0], result.difference("no-scoring", "mean_score"))


def test_each_difference_is_the_mean_change_against_the_first_scenario(tmp_path):  # type: ignore[no-untyped-def]
    """Every difference is the mean over seeds of (scenario - first scenario) on each seed,
    recomputed here from the stored runs' own metrics."""
    result = compare(
        ["financial-only", "citizen-score"], population=4_000, days=40, seeds=2, out=tmp_path
    )
    store = RunStore(tmp_path)
    stored = {key: store.metrics(run_id) for key, run_id in result.runs.items()}
    checked = 0
    for row in result.table[result.table.scenario == "citizen-score"].itertuples():
        if row.metric == "behaviour_rate":
            continue
        per_seed = []
        for s in result.seeds:
            values = []
            for name in ("citizen-score", "financial-only"):
                m = stored[(name, s)]
                hit = m[(m.metric == row.metric) & (m.subject == row.subject) & (m.grp == row.grp)]
                values.append(float(hit.value.iloc[0]) if len(hit) else float("nan"))
            per_seed.append(values[0] - values[1])
        expected = float(np.mean(per_seed))
        if np.isnan(expected):
            continue
        assert row.difference == pytest.approx(expected, rel=1e-12, abs=1e-12), row
        checked += 1
    assert checked >= 10
    # Seeds differ, so paired differences vary and the interval is not a point.
    t = result.table
    gini = t[(t.scenario == "citizen-score") & (t.metric == "gini")]
    assert gini.ci_low.iloc[0] < gini.ci_high.iloc[0]


def test_common_random_numbers_make_differences_less_noisy(tmp_path):  # type: ignore[no-untyped-def]
    seeds = range(1, 7)
    event = "purchase_alcohol"

    def rate(name: str, seed: int) -> float:
        r = socialscore.run(name, population=4_000, days=40, seed=seed, out=tmp_path)
        rates = behaviour_rates(r)
        return float(rates[rates.subject == event].value.iloc[0])

    base = {s: rate("no-scoring", s) for s in seeds}
    regime = {s: rate("citizen-score", s) for s in seeds}
    independent = {s: rate("citizen-score", s + 100) for s in seeds}
    paired = np.array([regime[s] - base[s] for s in seeds])
    unpaired = np.array([independent[s] - base[s] for s in seeds])
    assert paired.var(ddof=1) < 0.25 * unpaired.var(ddof=1)


def test_scenarios_on_different_nations_are_refused(tmp_path):  # type: ignore[no-untyped-def]
    other = load("citizen-score").scenario
    other = other.model_copy(
        update={"nation": other.nation.model_copy(update={"minority_share": 0.3})}
    )
    text = other.model_dump_json(by_alias=True)
    from socialscore.studies.run import parse_json

    with pytest.raises(ValueError, match="different nations"):
        compare(["citizen-score", parse_json(text)], population=1_000, days=5, out=tmp_path)


def test_cli_compare_prints_differences(tmp_path):  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "socialscore",
            "compare",
            "no-scoring",
            "citizen-score",
            "--population",
            "3000",
            "--days",
            "15",
            "--seeds",
            "2",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    words = " ".join(proc.stdout.split())
    assert "Differences against no-scoring" in words
    assert "stored in the catalogue (table comparisons)" in words
    assert "adverse impact ratio: mortgage" in words


@pytest.fixture(scope="module")
def three_seeds(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("compare")
    return compare(["no-scoring", "citizen-score"], population=3_000, days=20, seeds=3, out=out)


def test_comparison_report_is_written_whole_with_the_stored_figures(three_seeds):  # type: ignore[no-untyped-def]
    result = three_seeds
    page = (result.path / "comparison.html").read_text(encoding="utf-8")
    assert "<h1>no-scoring · citizen-score</h1>" in page
    mean = result.table[
        (result.table.scenario == "citizen-score") & (result.table.metric == "mean_score")
    ].iloc[0]
    diff = MeanInterval(float(mean.difference), float(mean.ci_low), float(mean.ci_high), 3)
    words = change_words(diff, "mean score", "no-scoring", unit=" points", digits=2)
    assert f"the mean score was {float(mean['mean']):,.1f}, {words}." in page
    assert (result.path / "comparison.parquet").is_file()
    assert not list(result.path.parent.glob(".*.tmp"))


def test_the_comparison_table_reads_without_exponents_or_nan_and_lists_rated_behaviours(
    three_seeds,
):  # type: ignore[no-untyped-def]
    """Behaviour rates are per 1,000 citizen-days in plain decimals (1.2e-05 was printed
    before); only behaviours some compared regime rates get a row."""
    import re

    from socialscore.scenario.files import load

    page = (three_seeds.path / "comparison.html").read_text(encoding="utf-8")
    table = page[page.index("<table") :]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert cells
    assert not [c for c in cells if re.search(r"\dd?e[-+]\d|nan|\+n/a", c)]
    rated = {r.event for r in load("citizen-score").scenario.rules}
    listed = set(re.findall(r"behaviour rate: (\w+) \(per 1,000 citizen-days\)", table))
    assert listed and listed <= rated
    t = three_seeds.table
    every = set(t[t.metric == "behaviour_rate"].subject)
    assert every - rated  # the unrated ones were measured, just not listed


def test_significant_figures_are_plain_decimals() -> None:
    from socialscore.report import format as fmt

    assert fmt.significant(0.0000123, sign=True) == "+0.0000123"
    assert fmt.significant(-0.000148) == "-0.000148"
    assert fmt.significant(1234.5) == "1,234"
    assert fmt.significant(0.0) == "0" and fmt.significant(float("nan")) == "n/a"


def test_paired_interval_is_the_student_t_interval_of_per_seed_differences(three_seeds):  # type: ignore[no-untyped-def]
    result = three_seeds
    v = result.values
    t = result.table
    checked = 0
    # Dating decides in every seed; at 3,000 citizens the mortgage gate often has no
    # minority decision in the window (not applicable, no ratio).
    for metric, subject in [("mean_score", ""), ("adverse_impact_ratio", "dating")]:
        per = v[(v.metric == metric) & (v.subject == subject) & (v.grp == "all")]
        wide = per.pivot(index="seed", columns="scenario", values="value")
        diffs = (wide["citizen-score"] - wide["no-scoring"]).to_numpy()
        assert len(diffs) == 3
        # By hand: mean +- t(0.975, 2) * sd / sqrt(3); with 2 degrees of freedom t has the
        # closed form (2p - 1) / sqrt(2 p (1 - p)) = 4.30265 (a printed table's 4.3027 is off
        # by 1e-5, too much when the mean and the half-width nearly cancel).
        t975 = 0.95 / np.sqrt(2 * 0.975 * 0.025)
        half = t975 * np.std(diffs, ddof=1) / np.sqrt(3)
        row = t[(t.scenario == "citizen-score") & (t.metric == metric) & (t.subject == subject)]
        row = row[row.grp == "all"].iloc[0]
        assert row.difference == pytest.approx(diffs.mean(), abs=1e-12)
        assert row.ci_low == pytest.approx(diffs.mean() - half, rel=1e-4, abs=1e-9)
        assert row.ci_high == pytest.approx(diffs.mean() + half, rel=1e-4, abs=1e-9)
        level = wide["citizen-score"].to_numpy()
        spread = t975 * np.std(level, ddof=1) / np.sqrt(3)
        assert row.mean_low == pytest.approx(level.mean() - spread, rel=1e-4, abs=1e-9)
        assert row.seeds == 3
        checked += 1
    assert checked == 2


def test_one_seed_gives_no_interval_and_says_so(tmp_path):  # type: ignore[no-untyped-def]
    result = compare(
        ["no-scoring", "citizen-score"], population=2_000, days=10, seeds=1, out=tmp_path
    )
    other = result.table[result.table.scenario == "citizen-score"]
    assert other.ci_low.isna().all() and other.ci_high.isna().all()
    assert other.mean_low.isna().all()
    page = (result.path / "comparison.html").read_text(encoding="utf-8")
    assert "one seed: no interval, so no change in mean score can be claimed" in page
    assert "points lower than under" not in page and "points higher than under" not in page


def test_compare_runs_five_seeds_unless_told_and_says_so():  # type: ignore[no-untyped-def]
    assert inspect.signature(compare).parameters["seeds"].default == 5
    proc = subprocess.run(
        [sys.executable, "-m", "socialscore", "compare", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    words = " ".join(proc.stdout.split())
    assert "Seeds per scenario (default 5)" in words
    assert "one seed gives no interval" in words


def _table(
    rows: list[tuple[str, str, str, float, float, float, float, float, float]],
) -> pd.DataFrame:
    cols = ["scenario", "metric", "subject", "mean", "mean_low", "mean_high"]
    cols += ["difference", "ci_low", "ci_high"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.assign(grp="all", seeds=5)


def _headlines(table: pd.DataFrame) -> list[str]:
    page = build_comparison(table, ["base", "regime"], [1, 2, 3, 4, 5], ComparisonFacts("c", 1, 1))
    return [html.unescape(h) for h in re.findall(r"<li class=\"[^\"]*\">(.*?)</li>", page)]


NAN = float("nan")


def test_a_headline_states_a_change_only_when_its_interval_excludes_zero():
    changed = _table(
        [
            ("base", "mean_score", "", 600.0, 599.0, 601.0, 0.0, 0.0, 0.0),
            ("regime", "mean_score", "", 590.0, 588.0, 592.0, -10.0, -12.5, -7.5),
        ]
    )
    assert _headlines(changed) == [
        "Under regime the mean score was 590.0, 10 points lower than under base "
        "(95% interval -12 to -7.5 points)."
    ]
    unclear = _table(
        [
            ("base", "mean_score", "", 600.0, 599.0, 601.0, 0.0, 0.0, 0.0),
            ("regime", "mean_score", "", 601.0, 598.0, 604.0, 1.0, -2.0, 4.0),
        ]
    )
    assert _headlines(unclear) == [
        "Under regime the mean score was 601.0, no measurable difference in mean score against "
        "base (+1 points, 95% interval -2 to +4 points)."
    ]


def test_a_verdict_whose_interval_straddles_the_line_says_so():
    rows = [
        ("base", "adverse_impact_ratio", "mortgage", 0.95, 0.93, 0.97, 0.0, 0.0, 0.0),
        ("regime", "adverse_impact_ratio", "mortgage", 0.78, 0.74, 0.83, -0.17, -0.2, -0.14),
    ]
    (text,) = _headlines(_table(rows))
    assert "0.78 at the mortgage gate, and its 95% interval 0.74 to 0.83 straddles the " in text
    assert "straddles the four-fifths line: these seeds cannot tell" in text
    assert "below the four-fifths line" not in text
    rows[1] = ("regime", "adverse_impact_ratio", "mortgage", 0.7, 0.66, 0.74, -0.25, -0.3, -0.2)
    (text,) = _headlines(_table(rows))
    assert "below the four-fifths line (95% interval 0.66 to 0.74)" in text


def test_a_drop_in_a_behaviour_is_claimed_only_when_its_interval_is_below_zero():
    rows = [
        ("base", "behaviour_rate", "protest", 0.010, NAN, NAN, 0.0, 0.0, 0.0),
        ("regime", "behaviour_rate", "protest", 0.009, NAN, NAN, -0.001, -0.0015, -0.0005),
    ]
    (text,) = _headlines(_table(rows))
    assert text.startswith("Under regime, 'protest' happened 10% less often than under base")
    rows[1] = ("regime", "behaviour_rate", "protest", 0.009, NAN, NAN, -0.001, -0.003, 0.001)
    (text,) = _headlines(_table(rows))
    assert "no measurable difference in how often 'protest' happened" in text
    assert "less often" not in text


def test_the_ratio_chart_marks_a_straddling_gate_as_undecided():
    from socialscore.report.charts import FAIL_SYMBOL, PASS_SYMBOL
    from socialscore.report.comparison import STRADDLE_SYMBOL, air_symbol

    assert air_symbol(MeanInterval(0.78, 0.74, 0.83, 5)) == STRADDLE_SYMBOL
    assert air_symbol(MeanInterval(0.70, 0.66, 0.74, 5)) == FAIL_SYMBOL
    assert air_symbol(MeanInterval(0.90, 0.85, 0.95, 5)) == PASS_SYMBOL
    assert air_symbol(MeanInterval(0.78, NAN, NAN, 1)) == FAIL_SYMBOL  # one seed: the value
    rows = [
        ("base", "adverse_impact_ratio", "mortgage", 0.95, 0.93, 0.97, 0.0, 0.0, 0.0),
        ("regime", "adverse_impact_ratio", "mortgage", 0.78, 0.74, 0.83, -0.17, -0.2, -0.14),
    ]
    page = build_comparison(_table(rows), ["base", "regime"], [1, 2], ComparisonFacts("c", 1, 1))
    assert '"symbol":["diamond-open"]' in page.replace(" ", "")


def test_every_scenario_is_measured_over_the_same_window(tmp_path):  # type: ignore[no-untyped-def]
    """citizen-score's own window starts later than no-scoring's; compared, both use the later."""
    from socialscore.scenario.window import measurement_window

    free = load("no-scoring").scenario.with_overrides(population=3_000, days=240)
    scored = load("citizen-score").scenario.with_overrides(population=3_000, days=240)
    assert measurement_window(free).start < measurement_window(scored).start
    result = compare(
        ["no-scoring", "citizen-score"], population=3_000, days=240, seeds=1, out=tmp_path
    )
    start = measurement_window(scored).start
    gates = result.values[result.values.metric == "selection_rate"]
    assert len(gates) and (gates.day_from == start).all()
    page = (result.path / "comparison.html").read_text("utf-8")
    assert f"<b>days {start}–239</b>" in page


def test_the_window_can_be_set_for_every_compared_scenario(tmp_path):  # type: ignore[no-untyped-def]
    result = compare(
        ["no-scoring", "citizen-score"],
        population=2_000,
        days=240,
        seeds=1,
        measure_from=200,
        out=tmp_path,
    )
    gates = result.values[result.values.metric == "selection_rate"]
    assert len(gates) and (gates.day_from == 200).all()


def test_the_comparison_alarm_needs_the_whole_interval_below_the_line() -> None:
    from socialscore.measures.intervals import MeanInterval
    from socialscore.report.comparison import line_words

    nan = float("nan")
    assert line_words(MeanInterval(0.70, 0.65, 0.75, 5), 0.8, "the line")[1] is True
    assert line_words(MeanInterval(0.70, 0.55, 0.85, 5), 0.8, "the line")[1] is False
    assert line_words(MeanInterval(0.60, nan, nan, 1), 0.8, "the line")[1] is False
