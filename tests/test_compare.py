"""Comparing regimes on the same people: paired, reproducible, less noisy than independent runs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import socialscore
from socialscore.compare import behaviour_rates, compare
from socialscore.scenario import load
from socialscore.store import RunStore


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
    result = compare(["citizen-score", "no-scoring"], population=3_000, days=20, out=tmp_path)
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
    from socialscore.api import parse_json

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


def test_comparison_report_is_written_whole_with_the_stored_figures(tmp_path):  # type: ignore[no-untyped-def]
    result = compare(["no-scoring", "citizen-score"], population=3_000, days=20, out=tmp_path)
    page = (result.path / "comparison.html").read_text(encoding="utf-8")
    assert "<h1>no-scoring · citizen-score</h1>" in page
    mean = result.table[
        (result.table.scenario == "citizen-score") & (result.table.metric == "mean_score")
    ].iloc[0]
    assert f"{float(mean.difference):+.1f} points against no-scoring" in page
    assert (result.path / "comparison.parquet").is_file()
    assert not list(result.path.parent.glob(".*.tmp"))
