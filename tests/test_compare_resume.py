"""A stopped comparison loses only its run in progress; a bad seed range runs nothing.

Issue 13: item 1 (a killed comparison's finished runs are reused by its rerun)
and item 9 (``compare --seed 2**63-1 --seeds 2`` stored 2 orphan runs, then failed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from socialscore.cli import app
from socialscore.store.catalogue import RunStore
from socialscore.studies.compare import compare

SRC = Path(__file__).resolve().parents[1] / "src"
SCENARIOS = ["no-scoring", "citizen-score"]
SIZE = {"population": 1_000, "days": 12}


def run_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and p.name[0].isdigit()]


def test_a_seed_range_past_the_largest_seed_is_refused_before_any_run(tmp_path: Path) -> None:
    largest = 2**63 - 1
    with pytest.raises(ValueError, match=rf"--seed {largest} with --seeds 2 needs seeds"):
        compare(SCENARIOS, **SIZE, seed=largest, seeds=2, out=tmp_path)
    assert not run_folders(tmp_path)
    got = CliRunner().invoke(
        app,
        ["compare", *SCENARIOS, "--seed", str(largest), "--seeds", "2", "--out", str(tmp_path)],
    )
    assert got.exit_code == 2, got.output
    assert "give a smaller --seed or fewer --seeds" in " ".join(got.output.split())
    assert not run_folders(tmp_path) and RunStore(tmp_path).list_runs().empty


def test_ctrl_c_stops_a_comparison_and_the_rerun_reuses_its_finished_runs(
    tmp_path: Path,
) -> None:
    root = tmp_path / "runs"
    command = [sys.executable, "-m", "socialscore", "compare", *SCENARIOS, "--seeds", "2"]
    command += ["--population", str(SIZE["population"]), "--days", str(SIZE["days"])]
    proc = subprocess.Popen(
        [*command, "--out", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not run_folders(root):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    # The caveats of so small a run come first (each a "Note:"), then one line: the stop.
    notes, _, stop = err.strip().rpartition("\n")
    assert not notes or notes.startswith("Note: "), err
    assert "rerun the same command to reuse them" in stop, err
    before = set(RunStore(root).list_runs().run_id)
    assert 1 <= len(before) < 4
    assert f"{len(before)} of 4 runs finished" in stop
    # The rerun runs only what is missing, and reuses the finished runs.
    rerun = compare(SCENARIOS, **SIZE, seeds=2, out=root)
    after = set(RunStore(root).list_runs().run_id)
    assert len(after) == 4 and before <= set(rerun.runs.values())
    # Once more: every run is reused, and the numbers are those of the fresh runs.
    again = compare(SCENARIOS, **SIZE, seeds=2, out=root)
    assert set(RunStore(root).list_runs().run_id) == after
    assert again.runs == rerun.runs
    pd.testing.assert_frame_equal(again.table, rerun.table)
    pd.testing.assert_frame_equal(again.values, rerun.values)


def test_a_comparison_made_with_other_settings_is_not_reused(tmp_path: Path) -> None:
    first = compare(SCENARIOS, population=600, days=10, seeds=1, out=tmp_path)
    other = compare(SCENARIOS, population=600, days=11, seeds=1, out=tmp_path)
    assert not set(first.runs.values()) & set(other.runs.values())
    window = compare(SCENARIOS, population=600, days=10, seeds=1, measure_from=3, out=tmp_path)
    assert not set(first.runs.values()) & set(window.runs.values())
    assert len(RunStore(tmp_path).list_runs()) == 6
