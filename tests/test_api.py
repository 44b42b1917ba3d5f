"""The public façade and the command line, as a user meets them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import socialscore
from socialscore.scenario.window import measurement_window
from socialscore.store.catalogue import RunStore


def test_public_names_are_pinned():
    assert sorted(socialscore.__all__) == [
        "Comparison",
        "LoadedScenario",
        "Result",
        "RunStore",
        "Scenario",
        "ScenarioError",
        "SweepResult",
        "audit_regime",
        "compare",
        "load",
        "open",
        "parse",
        "run",
        "sweep",
    ]


#: Run in a fresh interpreter: what ``import socialscore`` alone puts in the namespace
#: and in sys.modules, then what every public name resolves to.
FRESH_IMPORT = """
import json, sys
import socialscore
seen = {
    "public": sorted(n for n in vars(socialscore) if not n.startswith("_")),
    "dir": dir(socialscore),
    "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:])),
}
star = {}
exec("from socialscore import *", star)
seen["star"] = sorted(n for n in star if not n.startswith("_"))
seen["homes"] = {n: getattr(socialscore, n).__module__ for n in socialscore.__all__}
seen["dir_after"] = dir(socialscore)
try:
    socialscore.no_such_name
except AttributeError as exc:
    seen["missing"] = str(exc)
print(json.dumps(seen))
"""
HEAVY = ("numba", "pandas", "plotly", "duckdb")


def test_the_namespace_is_the_public_names_and_the_import_stays_light():
    import json

    got = subprocess.run(
        [sys.executable, "-c", FRESH_IMPORT, *HEAVY],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(got.stdout)
    public = sorted(socialscore.__all__)
    # Nothing but the public names: no submodule, no helper the façade imports.
    assert set(seen["public"]) <= set(public), seen["public"]
    assert seen["dir"] == public and seen["dir_after"] == public
    assert seen["star"] == public
    # Each public name resolves to the object its home module defines.
    assert set(seen["homes"]) == set(public)
    assert all(home.startswith("socialscore.") for home in seen["homes"].values()), seen
    assert "no_such_name" in seen["missing"]
    # The guard that keeps the façade light: importing it loads none of the heavy libraries.
    assert seen["heavy"] == [], seen["heavy"]


def test_run_returns_tables_and_stores_a_complete_catalogued_run(tmp_path):  # type: ignore[no-untyped-def]
    result = socialscore.run("citizen-score", population=4_000, days=15, seed=3, out=tmp_path)
    assert (result.path / "scenario.toml").read_text().startswith("#")
    for name in (
        "daily",
        "daily_groups",
        "daily_gates",
        "daily_events",
        "daily_grades",
        "score_histogram",
        "citizens",
        "companies",
        "gate_months",
    ):
        assert (result.path / f"{name}.parquet").is_file()
    citizens = result.to_pandas("citizens")
    assert len(citizens) == 4_000
    store = RunStore(tmp_path)
    runs = store.list_runs()
    assert runs.run_id.tolist() == [result.run_id]
    assert int(runs.population.iloc[0]) == 4_000
    stored = store.load_table(result.run_id, "citizens")
    assert stored.equals(result.table("citizens"))
    metrics = store.metrics(result.run_id)
    assert set(metrics.metric) >= {
        "gini",
        "adverse_impact_ratio",
        "rank_rank_correlation",
        "bottom_decile_persistence",
        "score_assortativity",
        "privacy_auc",
        "erroneous_denials",
        "grade_transition",
        "demographic_parity_difference",
        "grade_share",
    }


def test_metric_values_follow_from_the_tables(tmp_path):  # type: ignore[no-untyped-def]
    result = socialscore.run("citizen-score", population=6_000, days=30, seed=8, out=tmp_path)
    daily = result.to_pandas("daily_gates")
    window = measurement_window(result.scenario, 30)  # gate measures cover the window only
    daily = daily[(daily.day >= window.start) & (daily.day <= window.end)]
    gates = daily.groupby(["gate", "group"])[["applied", "selected"]].sum()
    mortgage = gates.loc["mortgage"]
    rates = mortgage.selected / mortgage.applied
    assert result.metric("selection_rate", subject="mortgage", grp="minority") == rates["minority"]
    for group in ("majority", "minority"):
        applied = mortgage.applied[group]
        assert result.metric("applications", subject="mortgage", grp=group) == applied
    expected_ratio = rates.min() / rates.max()
    assert np.isclose(result.metric("adverse_impact_ratio", subject="mortgage"), expected_ratio)
    m = result.metrics.to_pandas()
    row = m[(m.metric == "adverse_impact_ratio") & (m.subject == "mortgage")].iloc[0]
    assert (row.day_from, row.day_to) == (window.start, window.end)
    assert row.ci_low <= row.value <= row.ci_high
    score = result.table("citizens").column("score").to_numpy()
    assert np.isclose(result.metric("mean_score"), score.mean())
    # Every metric the run wrote has words (and so is one Result.metric accepts) ...
    assert set(m.metric) <= set(socialscore.analysis.definitions.DESCRIPTIONS)
    # ... and a typo is an error naming the metric meant, not a silent nan.
    with pytest.raises(KeyError, match="Did you mean 'adverse_impact_ratio'"):
        result.metric("adverse_impact_raito", subject="mortgage")


def _cli(*args: str, **kwargs) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-m", "socialscore", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_cli_run_prints_summary_and_writes_run(tmp_path):  # type: ignore[no-untyped-def]
    proc = _cli("run", "--population", "3000", "--days", "10", "--out", str(tmp_path))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "adverse-impact" in out and "four-fifths" in out and "95% interval" in out
    assert "written to" in out
    assert len(RunStore(tmp_path).list_runs()) == 1


def test_two_runs_started_together_both_complete_and_are_catalogued(tmp_path):  # type: ignore[no-untyped-def]
    procs = [
        _cli(
            "run", "--population", "20000", "--days", "20", "--seed", str(s), "--out", str(tmp_path)
        )
        for s in (1, 2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "Error" not in err
    runs = RunStore(tmp_path).list_runs()
    assert sorted(runs.seed.tolist()) == [1, 2]


def test_sigkill_during_runs_leaves_the_catalogue_consistent(tmp_path):  # type: ignore[no-untyped-def]
    store = RunStore(tmp_path)
    for delay in (1.5, 4.0, 7.0):
        proc = _cli(
            "run",
            "--population",
            "30000",
            "--days",
            "60",
            "--out",
            str(tmp_path),
            start_new_session=True,
        )
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        store.reconcile()
        for row in store.list_runs().itertuples():
            folder = Path(row.path)
            assert (folder / "manifest.json").is_file()
            assert (folder / "citizens.parquet").is_file()
    incomplete = tmp_path / ".incomplete"
    assert not incomplete.exists() or not any(incomplete.iterdir())
    done = _cli("run", "--population", "3000", "--days", "5", "--out", str(tmp_path))
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert len(store.list_runs()) >= 1


def test_cli_refuses_a_bad_option_with_its_name_and_writes_nothing(tmp_path):  # type: ignore[no-untyped-def]
    proc = _cli("run", "--population", "5", "--out", str(tmp_path / "runs"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "Bad option --population" in err and "greater than or equal to 100" in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "runs").exists()


def test_cli_lists_runs_and_shipped_scenarios(tmp_path):  # type: ignore[no-untyped-def]
    socialscore.run("no-scoring", population=2_000, days=3, out=tmp_path)
    proc = _cli("runs", "--out", str(tmp_path))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "no-scoring" in out and "2,000" in out
    proc = _cli("scenarios")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    for name in ("citizen-score", "no-scoring", "benchmark"):
        assert name in out


def test_cli_report_names_a_missing_run(tmp_path):  # type: ignore[no-untyped-def]
    proc = _cli("report", "no-such-run", "--out", str(tmp_path))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "no-such-run" in err and "Traceback" not in err
