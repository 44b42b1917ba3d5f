"""Finding and reading results at the command line (issue 17): ``socialscore runs`` shows
whole run ids, filters, hides the runs of sweeps (saying how many), prints csv and json;
``report``, ``rerun`` and ``explain`` take ``latest`` or a unique start of an id;
``socialscore rm`` deletes runs whole, asking first.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import socialscore
from socialscore.cli import RUNS_SWEEPS_HIDDEN, app
from socialscore.store.catalogue import RunMeta, RunStore
from socialscore.studies import explain

SRC = Path(__file__).resolve().parents[1] / "src"
#: A scenario name whose run id is as long as new ids get (a 40-character slug: 65 characters).
LONG_NAME = "a scenario whose name runs well past forty characters"


def _cli(*args: str, answer: str | None = None) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, list(args), input=answer)
    return done.exit_code, done.stdout, done.stderr


def _old_run(store: RunStore) -> str:
    """A run made in 2024 (written straight into the store) with a long scenario name."""
    run_id = store.new_run_id(LONG_NAME)
    with store.writing(run_id) as writer:
        writer.write_table("daily", pa.table({"day": pa.array(range(5), type=pa.int32())}))
        meta = RunMeta(
            run_id=run_id,
            scenario_name=LONG_NAME,
            scenario_sha256="0" * 64,
            seed=7,
            population=1000,
            companies=20,
            days=5,
            created_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
            wall_seconds=0.1,
            version="0.1.0",
        )
        metrics = pa.table(
            {"metric": ["gini"], "subject": [""], "grp": ["all"], "value": [0.25]},
        )
        writer.finish(meta, metrics)
    return run_id


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three small runs (the second of sweep s1, the third tagged batch=b2) and an old one."""
    out = tmp_path_factory.mktemp("store")
    plain = socialscore.run("no-scoring", population=2_000, days=5, seed=1, out=out)
    swept = socialscore.run(
        "no-scoring", population=2_000, days=5, seed=2, out=out, tags={"sweep": "s1", "point": 0}
    )
    batch = socialscore.run(
        "no-scoring", population=2_000, days=5, seed=3, out=out, tags={"batch": "b2"}
    )
    return {
        "out": out,
        "plain": plain.run_id,
        "swept": swept.run_id,
        "batch": batch.run_id,
        "old": _old_run(RunStore(out)),
    }


@pytest.fixture
def copy(made: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the store, for tests that delete runs."""
    target = tmp_path / "store"
    shutil.copytree(made["out"], target)
    return target


def _unique_start(run_id: str, others: list[str]) -> str:
    """The shortest start of ``run_id`` that starts none of ``others``."""
    return next(
        run_id[:n]
        for n in range(1, len(run_id))
        if not any(o.startswith(run_id[:n]) for o in others)
    )


def _csv_ids(out: Path, *args: str) -> list[str]:
    code, stdout, stderr = _cli("runs", "--out", str(out), "--format", "csv", *args)
    assert code == 0, stderr
    return [row["run_id"] for row in csv.DictReader(io.StringIO(stdout))]


# -- socialscore runs ------------------------------------------------------------------


def test_runs_shows_every_whole_id_in_a_100_column_terminal(made: dict[str, Any]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "socialscore", "runs", "--out", str(made["out"]), "--sweeps"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(made["old"]) == 65
    lines = done.stdout.splitlines()
    for key in ("plain", "swept", "batch", "old"):
        assert any(made[key] in line for line in lines), made[key]  # whole, on one line
    assert max(len(line) for line in lines) <= 100
    assert "citizens" in done.stdout  # other columns shrink or go; the id stays


def test_runs_hides_the_runs_of_sweeps_and_says_how_many(made: dict[str, Any]) -> None:
    code, stdout, _ = _cli("runs", "--out", str(made["out"]))
    assert code == 0
    assert made["plain"] in stdout and made["batch"] in stdout
    assert made["swept"] not in stdout
    assert RUNS_SWEEPS_HIDDEN.format(hidden="1 run") in " ".join(stdout.split())
    code, stdout, _ = _cli("runs", "--out", str(made["out"]), "--sweeps")
    assert made["swept"] in stdout and "of sweeps hidden" not in stdout
    assert _csv_ids(made["out"], "--sweep", "s1") == [made["swept"]]
    assert _csv_ids(made["out"], "--sweep", "s2") == []


def test_runs_filters_by_scenario_tag_and_day(made: dict[str, Any]) -> None:
    newest_first = [made["batch"], made["plain"]]
    assert _csv_ids(made["out"], "--scenario", "no-scoring") == newest_first
    assert _csv_ids(made["out"], "--scenario", LONG_NAME) == [made["old"]]
    assert _csv_ids(made["out"], "--tag", "batch=b2") == [made["batch"]]
    assert _csv_ids(made["out"], "--tag", "point=0", "--sweeps") == [made["swept"]]
    assert _csv_ids(made["out"], "--since", "2025-01-01") == newest_first
    assert _csv_ids(made["out"], "--since", "2024-05-01") == [*newest_first, made["old"]]
    code, _, stderr = _cli("runs", "--out", str(made["out"]), "--tag", "batch")
    assert code == 2 and "KEY=VALUE" in stderr
    code, _, stderr = _cli("runs", "--out", str(made["out"]), "--since", "1 May")
    assert code == 2 and "%Y-%m-%d" in stderr


def test_runs_limit_keeps_the_newest_and_says_how_many_more(made: dict[str, Any]) -> None:
    code, stdout, _ = _cli("runs", "--out", str(made["out"]), "--limit", "1")
    assert code == 0
    assert made["batch"] in stdout and made["plain"] not in stdout
    assert "2 more not shown (the newest 1 of 3 matching runs)" in " ".join(stdout.split())
    code, stdout, stderr = _cli(
        "runs", "--out", str(made["out"]), "--format", "csv", "--limit", "1"
    )
    assert len(list(csv.DictReader(io.StringIO(stdout)))) == 1
    assert "2 more not shown" in " ".join(stderr.split())  # the note is not in the data


def test_runs_csv_and_json_hold_every_column_and_nothing_else(made: dict[str, Any]) -> None:
    out = str(made["out"])
    code, stdout, _ = _cli("runs", "--out", out, "--format", "json", "--sweeps")
    assert code == 0
    rows = json.loads(stdout)  # stdout is the JSON document alone
    assert [r["run_id"] for r in rows] == [made["batch"], made["swept"], made["plain"], made["old"]]
    swept = rows[1]
    assert swept["tags"] == {"sweep": "s1", "point": 0}
    assert swept["path"] == str(Path(out).resolve() / made["swept"])
    assert swept["population"] == 2000 and swept["seed"] == 2
    assert datetime.fromisoformat(swept["created_at"]).year >= 2025
    code, stdout, _ = _cli("runs", "--out", out, "--format", "csv", "--sweeps")
    table = list(csv.DictReader(io.StringIO(stdout)))
    assert [r["run_id"] for r in table] == [r["run_id"] for r in rows]
    assert json.loads(table[1]["tags"]) == {"sweep": "s1", "point": 0}
    assert set(table[0]) >= {"run_id", "scenario_name", "path", "tags", "created_at", "seed"}


# -- naming a run: latest, a start of an id ------------------------------------------------


def test_report_takes_latest_and_a_unique_start_of_an_id(copy: Path, made: dict[str, Any]) -> None:
    code, stdout, stderr = _cli("report", "latest", "--out", str(copy))
    assert code == 0, stderr
    assert made["batch"] in "".join(stdout.split())  # the newest run
    start = _unique_start(made["plain"], [made[k] for k in ("swept", "batch", "old")])
    assert len(start) < len(made["plain"])
    code, stdout, stderr = _cli("report", start, "--out", str(copy))
    assert code == 0, stderr
    assert str(copy / made["plain"] / "report.html") in "".join(stdout.split())


def test_an_ambiguous_start_is_refused_naming_the_candidates(made: dict[str, Any]) -> None:
    code, stdout, stderr = _cli("report", "20", "--out", str(made["out"]))
    assert code == 2 and not stdout
    said = " ".join(stderr.split())
    assert "starts 4 run ids" in said
    for key in ("plain", "swept", "batch", "old"):
        assert made[key] in said


def test_a_missing_run_names_the_command_that_lists_runs(made: dict[str, Any]) -> None:
    code, _, stderr = _cli("explain", "nothing-like-it", "0", "--out", str(made["out"]))
    assert code == 2
    said = " ".join(stderr.split())
    assert "socialscore runs --out" in said and "list_runs" not in said


def test_rerun_resolves_once_and_records_the_whole_id(copy: Path, made: dict[str, Any]) -> None:
    code, stdout, stderr = _cli("rerun", "latest", "--out", str(copy))
    assert code == 0, stderr
    assert f"Rerun of {made['batch']} written as" in " ".join(stdout.split())
    rows = json.loads(_cli("runs", "--out", str(copy), "--format", "json")[1])
    assert rows[0]["tags"] == {"rerun_of": made["batch"]}  # not "latest"


def test_explain_from_python_takes_latest(made: dict[str, Any]) -> None:
    (trail,) = explain.trails("latest", [3], out=made["out"])
    assert trail.run_id == made["batch"] and trail.citizen == 3


# -- socialscore rm ----------------------------------------------------------------------


def _catalogue_rows(out: Path, run_id: str) -> dict[str, int]:
    con = duckdb.connect(str(out / "catalogue.duckdb"), read_only=True)
    try:
        counts = {}
        for table in ("runs", "metrics", "sweep_runs"):
            row = con.execute(f"select count(*) from {table} where run_id = ?", [run_id])
            counts[table] = int(row.fetchall()[0][0])
        return counts
    finally:
        con.close()


def test_rm_yes_deletes_folder_and_rows_and_runs_no_longer_lists_it(
    copy: Path, made: dict[str, Any]
) -> None:
    gone = made["plain"]
    code, stdout, stderr = _cli("rm", gone[:-2], "--yes", "--out", str(copy))
    assert code == 0, stderr
    assert gone in stdout and "Deleted 1 run." in stdout
    assert not (copy / gone).exists()
    assert _catalogue_rows(copy, gone) == {"runs": 0, "metrics": 0, "sweep_runs": 0}
    assert gone not in _csv_ids(copy, "--sweeps")
    RunStore(copy).reconcile()
    assert gone not in _csv_ids(copy, "--sweeps")  # reconcile does not bring it back
    assert _catalogue_rows(copy, made["batch"])["metrics"] > 0  # the others are intact


def test_rm_asks_first_and_deletes_nothing_unless_told_yes(
    copy: Path, made: dict[str, Any]
) -> None:
    code, stdout, stderr = _cli("rm", "latest", "--out", str(copy), answer="n\n")
    assert code == 1 and "Nothing deleted." in stderr
    assert made["batch"] in stdout and "Delete 1 run" in stdout  # it said what it would delete
    assert (copy / made["batch"]).is_dir() and made["batch"] in _csv_ids(copy)
    code, stdout, _ = _cli("rm", "latest", "--out", str(copy))  # nobody to answer
    assert code == 1 and (copy / made["batch"]).is_dir()
    code, stdout, _ = _cli("rm", "latest", "--out", str(copy), answer="y\n")
    assert code == 0 and not (copy / made["batch"]).exists()


def test_rm_older_than_selects_only_the_old_runs(copy: Path, made: dict[str, Any]) -> None:
    code, stdout, stderr = _cli("rm", "--older-than", "30d", "--yes", "--out", str(copy))
    assert code == 0, stderr
    assert "Deleted 1 run." in stdout
    assert _csv_ids(copy, "--sweeps") == [made["batch"], made["swept"], made["plain"]]
    code, stdout, _ = _cli("rm", "--older-than", "2w", "--yes", "--out", str(copy))
    assert code == 0 and "nothing deleted" in stdout
    code, _, stderr = _cli("rm", "--older-than", "30", "--out", str(copy))
    assert code == 2 and "12h, 30d or 2w" in stderr


def test_rm_needs_runs_or_an_age_but_not_both(copy: Path, made: dict[str, Any]) -> None:
    for args in ((), ("latest", "--older-than", "1d")):
        code, _, stderr = _cli("rm", *args, "--yes", "--out", str(copy))
        assert code == 2 and "--older-than" in stderr
    assert len(_csv_ids(copy, "--sweeps")) == 4
