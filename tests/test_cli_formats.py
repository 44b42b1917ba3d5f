"""Machine-readable output (issue 17): ``query`` and ``compare`` print csv or json on
stdout alone (notes go to stderr), and ``audit --format json`` says which run it
stored, where its report is, on how many citizens, with which seed and bounds.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import socialscore
from socialscore.cli import app
from socialscore.store.catalogue import RunStore

SQL = "select run_id, seed, population, created_at from runs order by seed"


def _cli(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, list(args))
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small runs (seeds 1 and 2)."""
    root = tmp_path_factory.mktemp("formats")
    for seed in (1, 2):
        socialscore.run("no-scoring", population=2_000, days=5, seed=seed, out=root)
    return root


def test_query_csv_and_json_parse_back_to_the_same_rows(out: Path) -> None:
    code, stdout, stderr = _cli("query", SQL, "--out", str(out), "--format", "csv")
    assert code == 0, stderr
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert [(r["seed"], r["population"]) for r in rows] == [("1", "2000"), ("2", "2000")]
    assert [r["run_id"] for r in rows] == list(RunStore(out).list_runs()["run_id"])[::-1]
    code, stdout, stderr = _cli("query", SQL, "--out", str(out), "--format", "json")
    assert code == 0, stderr
    records = json.loads(stdout)
    assert [(r["run_id"], r["seed"], r["population"]) for r in records] == [
        (r["run_id"], int(r["seed"]), int(r["population"])) for r in rows
    ]
    assert records[0]["created_at"].startswith(rows[0]["created_at"][:10])


def test_query_json_keeps_the_limit_and_says_the_rest_on_stderr(out: Path) -> None:
    args = ("query", "select * from metrics", "--out", str(out), "--format", "json")
    code, stdout, stderr = _cli(*args, "--limit", "3")
    assert code == 0
    records = json.loads(stdout)
    assert len(records) == 3 and "more rows not shown" in stderr
    assert all(isinstance(r["value"], float) or r["value"] is None for r in records)


def test_query_json_writes_missing_values_as_null_and_escapes_controls(out: Path) -> None:
    sql = "select 'a\x1bb' as name, cast('nan' as double) as x, null as y"
    code, stdout, _ = _cli("query", sql, "--out", str(out), "--format", "json")
    assert code == 0
    assert "\x1b" not in stdout
    (record,) = json.loads(stdout)
    assert record == {"name": "a\x1bb", "x": None, "y": None}
    code, stdout, _ = _cli("query", sql, "--out", str(out), "--format", "csv")
    assert "\x1b" not in stdout and "a\\x1bb" in stdout  # shown escaped, as in every table


def test_compare_json_is_every_measure_of_every_scenario(tmp_path: Path) -> None:
    code, stdout, stderr = _cli(
        "compare", "no-scoring", "citizen-score", "--seeds", "1",
        "--population", "2000", "--days", "5", "--out", str(tmp_path), "--format", "json",
    )  # fmt: skip
    assert code == 0, stderr
    rows = json.loads(stdout)
    assert {r["scenario"] for r in rows} == {"no-scoring", "citizen-score"}
    assert {"metric", "subject", "grp", "mean", "difference", "ci_low", "seeds"} <= set(rows[0])
    first = [r for r in rows if r["scenario"] == "no-scoring"]
    assert first and all(r["difference"] == 0.0 for r in first if r["mean"] is not None)
    assert "comparison.html" in "".join(stderr.split())  # where the report is: not in the data
    assert not any(math.isnan(r["mean"]) for r in rows if isinstance(r["mean"], float))


def test_audit_json_names_the_run_its_report_size_seed_and_bounds(tmp_path: Path) -> None:
    code, stdout, stderr = _cli(
        "audit", "no-scoring", "--population", "2000", "--days", "5", "--seed", "9",
        "--min-impact-ratio", "0.75", "--out", str(tmp_path), "--format", "json",
    )  # fmt: skip
    assert code in (0, 1), stderr
    doc = json.loads(stdout)
    (run_id,) = RunStore(tmp_path).list_runs()["run_id"]
    assert doc["run_id"] == run_id
    assert doc["report"] == str(RunStore(tmp_path).run_path(run_id) / "report.html")
    assert Path(doc["report"]).is_file()
    assert (doc["population"], doc["days"], doc["seed"]) == (2000, 5, 9)
    assert doc["thresholds"]["min_impact_ratio"] == 0.75
    assert doc["thresholds"]["max_sanction_ratio"] == 3.0
    assert doc["scenario"] == "no-scoring" and doc["checks"]


def test_audit_csv_is_one_row_per_check_and_table_is_the_text_view(tmp_path: Path) -> None:
    import csv
    import io

    code, stdout, stderr = _cli(
        "audit", "no-scoring", "--population", "2000", "--days", "5",
        "--out", str(tmp_path), "--format", "csv",
    )  # fmt: skip
    assert code in (0, 1), stderr
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert rows and list(rows[0]) == ["law", "subject", "verdict", "reason", "value"]
    assert {r["verdict"] for r in rows} <= {"pass", "fail", "inconclusive", "not applicable"}
    code, stdout, _ = _cli(
        "audit", "no-scoring", "--population", "2000", "--days", "5",
        "--out", str(tmp_path), "--format", "table",
    )  # fmt: skip
    assert "no-scoring passes every check" in stdout or "no-scoring fails" in stdout
    assert "The checks one by one" in stdout
