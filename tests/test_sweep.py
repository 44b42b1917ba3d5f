"""Sweeps: a grid runs everywhere alike, resumes, keeps failures, and finds the driver."""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from socialscore.scenario.errors import ScenarioError
from socialscore.store.catalogue import RunStore
from socialscore.studies.grid import apply, load_grid, split_key
from socialscore.studies.run import rebuild_report
from socialscore.studies.sweep import sweep, values

BASE = """
[scenario]
name = "sweep-base"
[run]
population = 1500
days = 15
seed = 5
[score]
base = 600
lo = 0
hi = 2000
grades = [{ name = "all", from = 0 }]
[streams.bill_late]
rate = 0.05
[[rules]]
event = "bill_late"
points = -10
half_life_days = 30
[gates.mortgage]
apply_rate = 0.02
threshold = 580
[gates.documents]
apply_rate = 0.02
threshold = 580
"""


def write(tmp_path: Path, grid: str) -> Path:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    path = tmp_path / "grid.toml"
    path.write_text(grid, encoding="utf-8")
    return path


GRID = """
[sweep]
name = "small"
base = "base.toml"
seeds = 2
metrics = ["mean_score", "adverse_impact_ratio:mortgage", "blacklisted_share"]
[grid]
"rules[0].points" = [-5, -20]
"gates.mortgage.threshold" = { start = 560, stop = 600, step = 40 }
"""


def frame(result, root) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    out = values(result, RunStore(root))
    return out.sort_values(["point", "seed", "metric", "subject"]).reset_index(drop=True)


def test_key_paths_address_tables_and_lists():
    assert split_key("rules[1].points") == ["rules", 1, "points"]
    data = {"rules": [{"points": -1}, {"points": -2}], "gates": {"mortgage": {"threshold": 600}}}
    changed = apply(data, {"rules[1].points": -9.0, "gates.mortgage.threshold": 612.4})
    assert changed["rules"][1]["points"] == -9.0
    assert changed["gates"]["mortgage"]["threshold"] == 612  # an integer setting stays integer
    assert data["rules"][1]["points"] == -2  # the base is not modified


def test_a_wrong_key_is_refused_before_any_run(tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, GRID.replace("gates.mortgage.threshold", "gates.mortage.threshold"))
    with pytest.raises(ScenarioError, match="did you mean 'mortgage'") as err:
        load_grid(path)
    assert "grid.toml" in str(err.value) and "gates.mortage.threshold" in str(err.value)


def test_a_grid_expands_to_every_combination_and_seed(tmp_path):  # type: ignore[no-untyped-def]
    grid = load_grid(write(tmp_path, GRID))
    assert [p.params for p in grid.points] == [
        {"rules[0].points": -5, "gates.mortgage.threshold": 560.0},
        {"rules[0].points": -5, "gates.mortgage.threshold": 600.0},
        {"rules[0].points": -20, "gates.mortgage.threshold": 560.0},
        {"rules[0].points": -20, "gates.mortgage.threshold": 600.0},
    ]
    assert grid.seeds == [5, 6]


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("sweep")
    root = tmp / "runs"
    return sweep(write(tmp, GRID), out=root, workers=2), root, tmp


def test_a_small_grid_runs_to_completion_on_local_processes(local_sweep):  # type: ignore[no-untyped-def]
    result, root, _ = local_sweep
    assert len(result.done) == 8 and not result.failed
    table = frame(result, root)
    assert set(table.metric) == {"mean_score", "adverse_impact_ratio", "blacklisted_share"}
    # Heavier penalties for late bills lower the mean score.
    mean = table[table.metric == "mean_score"].groupby("rules[0].points")["value"].mean()
    assert mean[-20] < mean[-5]
    # Every run is an ordinary catalogued run tagged with the sweep.
    runs = RunStore(root).list_runs()
    assert len(runs) == 8 and runs.tags.str.contains(result.sweep_id).all()
    page = (result.path / "sweep.html").read_text("utf-8")
    # Parameters in words, their key paths kept.
    assert "Harms against points of rule 0 (&#39;bill_late&#39;) (rules[0].points)" in page
    assert "<script" in page
    # A sweep's runs write no report of their own (5 MB each) until one is asked for.
    folders = [Path(p) for p in runs.path]
    assert not any((f / "report.html").exists() for f in folders)
    assert all((f / "daily.parquet").is_file() for f in folders)
    one = runs.run_id.iloc[0]
    written = rebuild_report(one, out=root)
    assert written.is_file() and "<script" in written.read_text("utf-8")
    assert RunStore(root).run_path(one) == written.parent  # the run is still complete


def test_a_sweep_asked_for_reports_writes_one_per_run(tmp_path):  # type: ignore[no-untyped-def]
    grid = GRID.replace("seeds = 2", "seeds = 1").replace(
        '"gates.mortgage.threshold" = { start = 560, stop = 600, step = 40 }', ""
    )
    result = sweep(write(tmp_path, grid), out=tmp_path / "runs", workers=1, reports=True)
    runs = RunStore(tmp_path / "runs").list_runs()
    assert len(result.done) == 2 == len(runs)
    assert all((Path(p) / "report.html").is_file() for p in runs.path)


def test_rerunning_the_same_grid_skips_completed_runs(local_sweep):  # type: ignore[no-untyped-def]
    _, root, tmp = local_sweep
    again = sweep(tmp / "grid.toml", out=root, workers=2)
    assert again.skipped == 8 and len(again.done) == 8
    assert len(RunStore(root).list_runs()) == 8  # nothing was run twice


def test_a_failing_run_is_recorded_and_the_others_complete(tmp_path):  # type: ignore[no-untyped-def]
    grid = GRID.replace("{ start = 560, stop = 600, step = 40 }", "[580, 5000]")
    result = sweep(write(tmp_path, grid), out=tmp_path / "runs", workers=2)
    assert len(result.done) == 4 and len(result.failed) == 4
    for f in result.failed:
        assert f.params["gates.mortgage.threshold"] == 5000
        assert "gates.mortgage.threshold = 5000 lies outside the score range" in (f.error or "")
    rows = RunStore(tmp_path / "runs").sweep_runs(result.sweep_id)
    assert sorted(rows.status) == ["done"] * 4 + ["failed"] * 4
    # Resuming retries only the failed runs (which fail again).
    again = sweep(tmp_path / "grid.toml", out=tmp_path / "runs", workers=2)
    assert again.skipped == 4 and len(again.failed) == 4


def test_ray_gives_the_same_results_as_local_processes(local_sweep, tmp_path):  # type: ignore[no-untyped-def]
    ray = pytest.importorskip("ray")
    result, root, tmp = local_sweep
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        on_ray = sweep(tmp / "grid.toml", out=tmp_path / "ray-runs", ray_address="auto")
    finally:
        ray.shutdown()
    assert len(on_ray.done) == 8 and not on_ray.failed
    pd.testing.assert_frame_equal(frame(on_ray, tmp_path / "ray-runs"), frame(result, root))


SOBOL = """
[sweep]
name = "sobol"
base = "base.toml"
seeds = 1
metrics = ["mean_score"]
[sensitivity]
method = "sobol"
samples = 8
[sensitivity.parameters]
"rules[0].points" = [-30.0, 0.0]
"gates.documents.threshold" = [400.0, 800.0]
"""


def test_sobol_indices_find_the_only_parameter_that_matters(tmp_path):  # type: ignore[no-untyped-def]
    # The mean score depends on the late-bill points only: the documents
    # threshold feeds nothing back (documents carry no stress), and common
    # random numbers keep everything else equal.
    result = sweep(write(tmp_path, SOBOL), out=tmp_path / "runs", workers=2)
    assert len(result.done) == 8 * (2 + 2)
    indices = pd.read_parquet(result.path / "indices.parquet")
    get = indices.set_index(["parameter", "index"])["value"]
    assert get[("gates.documents.threshold", "ST")] == pytest.approx(0.0, abs=1e-9)
    assert get[("gates.documents.threshold", "S1")] == pytest.approx(0.0, abs=1e-9)
    assert get[("rules[0].points", "ST")] == pytest.approx(1.0, abs=0.15)
    assert get[("rules[0].points", "S1")] == pytest.approx(1.0, abs=0.25)
    page = (result.path / "sweep.html").read_text("utf-8")
    assert "Sensitivity indices" in page
    assert "driven most by points of rule 0 (&#39;bill_late&#39;) (rules[0].points)" in page


def test_cli_sweep_and_query(local_sweep):  # type: ignore[no-untyped-def]
    _, root, tmp = local_sweep
    proc = subprocess.run(
        [sys.executable, "-m", "socialscore", "sweep", str(tmp / "grid.toml"), "--out", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "8 already done before" in proc.stdout.replace("\n", " ")
    proc = subprocess.run(
        [sys.executable, "-m", "socialscore", "query", "--out", str(root),
         "select status, count(*) as n from sweep_runs group by status"],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "done" in proc.stdout and "8" in proc.stdout


def test_morris_screening_gives_no_effect_to_a_parameter_that_does_nothing(tmp_path):  # type: ignore[no-untyped-def]
    grid = SOBOL.replace('method = "sobol"\nsamples = 8', 'method = "morris"\nsamples = 4')
    result = sweep(write(tmp_path, grid), out=tmp_path / "runs", workers=2)
    assert len(result.done) == 4 * (2 + 1)  # trajectories x (parameters + 1)
    indices = pd.read_parquet(result.path / "indices.parquet")
    get = indices.set_index(["parameter", "index"])["value"]
    assert get[("gates.documents.threshold", "mu_star")] == pytest.approx(0.0, abs=1e-9)
    assert get[("rules[0].points", "mu_star")] > 1.0  # points move the mean score


def _grid_frame(per_seed: dict[int, list[float]]) -> pd.DataFrame:
    """A sweep's values: one metric over a parameter a (two values) and b, per seed."""
    rows = []
    for seed, (a_lo_b_lo, a_lo_b_hi, a_hi_b_lo, a_hi_b_hi) in per_seed.items():
        for a, b, v in [
            (1, 10, a_lo_b_lo),
            (1, 20, a_lo_b_hi),
            (2, 10, a_hi_b_lo),
            (2, 20, a_hi_b_hi),
        ]:
            rows.append(
                {
                    "seed": seed,
                    "a": a,
                    "b": b,
                    "metric": "blacklisted_share",
                    "subject": "",
                    "value": v,
                }
            )
    return pd.DataFrame(rows)  # fmt: skip


def test_summary_band_is_the_student_t_interval_of_per_seed_means():
    from socialscore.studies.sweep import summarise

    frame = _grid_frame({1: [0.1, 0.3, 0.5, 0.7], 2: [0.2, 0.2, 0.9, 0.5], 3: [0.0, 0.4, 0.4, 0.4]})
    got = summarise(frame, "a").set_index("value")
    # By hand: average over b per seed, then mean +- t(0.975, 2) sd / sqrt(3).
    at_1 = np.array([0.2, 0.2, 0.2])
    at_2 = np.array([0.6, 0.7, 0.4])
    half = 4.3027 * at_2.std(ddof=1) / np.sqrt(3)
    assert got.loc[2, "mean"] == pytest.approx(at_2.mean())
    assert got.loc[2, "ci_low"] == pytest.approx(at_2.mean() - half, abs=1e-4)
    assert got.loc[2, "ci_high"] == pytest.approx(at_2.mean() + half, abs=1e-4)
    assert got.loc[1, "ci_low"] == pytest.approx(at_1.mean()) == got.loc[1, "ci_high"]
    assert (got.seeds == 3).all()


def test_one_seed_gives_no_band_and_no_claimed_change():
    from socialscore.report.sweep import change_sentence
    from socialscore.studies.sweep import endpoint_change, summarise

    frame = _grid_frame({4: [0.1, 0.3, 0.5, 0.7]})
    got = summarise(frame, "a")
    assert got.ci_low.isna().all() and got.ci_high.isna().all()
    text = change_sentence(
        "a", "blacklisted share", endpoint_change(frame, "a", "blacklisted_share", "")
    )
    assert "one seed: no interval" in text and "went from" not in text


def test_a_change_across_a_parameter_is_stated_only_when_its_interval_excludes_zero():
    from socialscore.report.sweep import change_sentence
    from socialscore.studies.sweep import endpoint_change

    # Seed by seed the share rises by 0.40, 0.50, 0.45 from a = 1 to a = 2: a change.
    rising = _grid_frame(
        {1: [0.1, 0.1, 0.5, 0.5], 2: [0.2, 0.2, 0.7, 0.7], 3: [0.3, 0.3, 0.75, 0.75]}
    )
    change = endpoint_change(rising, "a", "blacklisted_share", "")
    assert change is not None
    assert change.difference.mean == pytest.approx(0.45)
    half = 4.3027 * np.std([0.4, 0.5, 0.45], ddof=1) / np.sqrt(3)
    assert change.difference.low == pytest.approx(0.45 - half, abs=1e-4)
    text = change_sentence("a", "blacklisted share", change)
    assert text.startswith("Across a from 1 to 2, blacklisted share went from 0.2 to 0.65")
    # Seed noise larger than the mean change: +0.3, -0.2, +0.05 is no measurable difference.
    noisy = _grid_frame(
        {1: [0.1, 0.1, 0.4, 0.4], 2: [0.5, 0.5, 0.3, 0.3], 3: [0.3, 0.3, 0.35, 0.35]}
    )
    text = change_sentence(
        "a", "blacklisted share", endpoint_change(noisy, "a", "blacklisted_share", "")
    )
    assert "no measurable difference in blacklisted share" in text and "went from" not in text


def test_sweep_report_headlines_rest_on_the_interval(local_sweep):  # type: ignore[no-untyped-def]
    from socialscore.report.sweep import change_sentence
    from socialscore.studies.sweep import endpoint_change

    result, root, _ = local_sweep
    table = values(result, RunStore(root))
    change = endpoint_change(table, "rules[0].points", "adverse_impact_ratio", "mortgage")
    assert change is not None and change.difference.n == 2
    page = (result.path / "sweep.html").read_text("utf-8")
    named = "points of rule 0 ('bill_late') (rules[0].points)"
    sentence = change_sentence(named, "adverse impact ratio: mortgage", change)
    assert html.escape(sentence).replace("&#x27;", "&#39;") in page  # jinja2 writes &#39;
    assert "Student t interval of that mean across seeds" in page


def test_a_band_is_an_area_and_every_panel_draws_its_mean_in_one_colour():
    from socialscore.report.sweep import MEAN_COLOUR, _parameter_charts

    summary = pd.DataFrame(
        {
            "metric": ["mean_score"] * 3 + ["gini"] * 3,
            "subject": [""] * 6,
            "value": [1.0, 2.0, 3.0] * 2,
            "mean": [600.0, 590.0, 580.0, 0.1, 0.2, 0.3],
            "ci_low": [595.0, 585.0, 575.0, 0.05, 0.15, 0.25],
            "ci_high": [605.0, 595.0, 585.0, 0.15, 0.25, 0.35],
            "seeds": [3] * 6,
        }
    )
    (chart,) = _parameter_charts({"x": summary}, ["x"], words={"x": "the x (x)"})
    assert chart.title == "Harms against the x (x)"
    traces = chart.figure["data"]
    bands = [t for t in traces if t.get("fill") == "toself"]
    means = [t for t in traces if t.get("fill") != "toself"]
    assert len(bands) == len(means) == 2
    assert all(t["mode"] == "lines" for t in bands)  # no markers at the band's edges
    assert {t["line"]["color"] for t in means} == {MEAN_COLOUR}


def test_the_band_is_described_as_what_it_is():
    from socialscore.report.sweep import _parameter_charts
    from socialscore.studies.sweep import summarise

    def charts(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
        return _parameter_charts({"a": summarise(frame, "a")}, ["a"])

    (one,) = charts(_grid_frame({4: [0.1, 0.3, 0.5, 0.7]}))
    assert "one seed: no interval (no band)" in one.how_to_read
    (three,) = charts(
        _grid_frame({1: [0.1, 0.3, 0.5, 0.7], 2: [0.2, 0.2, 0.9, 0.5], 3: [0.0, 0.4, 0.4, 0.4]})
    )
    assert "95% Student t interval of that mean across seeds" in three.how_to_read
    assert "bootstrap" not in three.how_to_read
