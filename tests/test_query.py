"""`socialscore query` reads the catalogue and can change nothing (issue 13, item 2).

Each attack from the issue is fed through the command; afterwards every file
of the store (catalogue, lock, run folders) must be byte-identical and no
file may have appeared anywhere."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_fake_run

SRC = Path(__file__).resolve().parents[1] / "src"
if importlib.util.find_spec("socialscore") is None:  # package not installed: use src/
    sys.path.insert(0, str(SRC))

from socialscore.cli import app  # noqa: E402
from socialscore.store.catalogue import RunStore  # noqa: E402
from socialscore.store.query import DEFAULT_LIMIT, MSG_QUERY_EMPTY, QueryError, run_query  # noqa: E402

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    """A store with two runs, a finished sweep row and a comparison."""
    st = RunStore(tmp_path / "runs")
    first = write_fake_run(st)
    write_fake_run(st, "other")
    st.register_sweep_run(
        "sweep-1",
        {
            "run_key": "k1",
            "point": 0,
            "seed": 7,
            "params": "{}",
            "status": "done",
            "run_id": first,
            "error": None,
            "seconds": 1.0,
        },
    )
    return st


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> sha256): the state a query must not change."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def counts(st: RunStore) -> tuple[int, int, int]:
    return (
        len(st.list_runs()),
        len(st.metrics()),
        len(st.sweep_runs("sweep-1")),
    )


def query(st: RunStore, sql: str, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["query", sql, "--out", str(st.root), *extra])


ATTACKS = [
    "commit; drop table metrics; begin",
    "commit; drop table sweep_runs; begin",
    "drop table metrics",
    "delete from runs",
    "insert into runs (run_id) values ('forged')",
    "create table forged as select 1",
    "copy (select 1) to '{tmp}/written.csv'",
    "copy (select 'x') to '{root}/catalogue.lock'",
    "copy (select 'x') to '{run}/daily.parquet' (format parquet)",
    "attach '{tmp}/other.duckdb' as other",
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/passwd')",
    "select * from '{run}/daily.parquet'",
    "select * from glob('/*')",
    "select * from query('drop table metrics')",
    "export database '{tmp}/exported'",
    "set enable_external_access = true",
    "pragma enable_profiling",
    "install httpfs",
    "load httpfs",
    "call pragma_version()",
    "checkpoint",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_is_refused_in_one_line_and_changes_no_file(
    store: RunStore, tmp_path: Path, attack: str
) -> None:
    run = store.list_runs()["path"].iloc[0]
    sql = attack.format(tmp=tmp_path, root=store.root, run=run)
    before, before_counts = tree(tmp_path), counts(store)

    result = query(store, sql)

    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.stderr.strip()
    assert message.startswith(("Refused", "The query")), message
    assert "\n" not in message
    assert tree(tmp_path) == before  # no file changed, none appeared
    assert counts(store) == before_counts


def test_commit_drop_table_leaves_every_metric_row(store: RunStore) -> None:
    metrics = len(store.metrics())
    query(store, "commit; drop table metrics; begin")
    query(store, "commit")
    assert len(store.metrics()) == metrics > 0
    assert query(store, "select count(*) as n from metrics").exit_code == 0


def test_two_reads_in_one_call_are_refused(store: RunStore) -> None:
    result = query(store, "select 1; select 2")
    assert result.exit_code == 2
    assert "2 statements" in result.stderr


@pytest.mark.parametrize("sql", ["", "   ", ";", " ; ; ", "/* only a comment */"])
def test_an_empty_query_is_a_usage_error(store: RunStore, sql: str) -> None:
    result = query(store, sql)
    assert result.exit_code == 2
    assert result.stderr.strip() == MSG_QUERY_EMPTY
    with pytest.raises(QueryError):
        run_query(store, sql)


def test_a_read_returns_rows_and_leaves_the_catalogue_file_untouched(store: RunStore) -> None:
    before = tree(store.root)
    result = query(store, "select scenario_name, count(*) as n from runs group by all order by 1")
    assert result.exit_code == 0, result.output
    assert "baseline" in result.stdout and "other" in result.stdout
    assert tree(store.root) == before


def test_the_query_connection_is_read_only_without_external_access_and_locked(
    store: RunStore,
) -> None:
    settings = run_query(
        store,
        "select current_setting('access_mode') as mode, "
        "current_setting('enable_external_access') as external, "
        "current_setting('lock_configuration') as locked, "
        "current_setting('autoload_known_extensions') as autoload",
    ).frame.iloc[0]
    assert settings["mode"] == "read_only"
    assert not settings["external"] and settings["locked"] and not settings["autoload"]
    database = run_query(store, "select path from duckdb_databases() where not internal")
    assert str(store.catalogue_path) not in set(database.frame["path"])


def test_a_users_io_error_is_reported_at_once_not_retried_as_busy(store: RunStore) -> None:
    started = time.monotonic()
    result = query(store, "select * from read_csv('/nonexistent/file.csv')")
    assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert "unavailable" not in result.stderr
    assert "/nonexistent/file.csv" in result.stderr


def test_query_on_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    st = RunStore(tmp_path / "nothing-here")
    result = query(st, "select count(*) as n from comparisons")
    assert result.exit_code == 0, result.output
    assert not st.root.exists()


def test_terminal_output_is_limited_and_says_how_many_rows_were_left_out(
    store: RunStore,
) -> None:
    result = query(store, "select range as i from range(12)", "--limit", "5")
    assert result.exit_code == 0, result.output
    printed = [line for line in result.stdout.splitlines() if line.strip("│ ").isdigit()]
    assert [line.strip("│ ") for line in printed] == ["0", "1", "2", "3", "4"]
    assert "7 more rows not shown (12 in all)" in result.stdout

    default = query(store, f"select range from range({DEFAULT_LIMIT + 500})")
    assert f"500 more rows not shown ({DEFAULT_LIMIT + 500:,} in all)" in default.stdout

    whole = run_query(store, "select range from range(5000)")
    assert len(whole.frame) == whole.total_rows == 5000
    assert query(store, "select 1", "--limit", "0").exit_code == 2


SLOW_QUERY = """
import sys
from socialscore.store.catalogue import RunStore
store = RunStore(sys.argv[1])
print("ready", flush=True)
store.query("select sum(hash(range)) from range(100000000000)")
"""


def test_a_slow_query_does_not_make_a_run_wait(store: RunStore) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_QUERY, str(store.root)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # the query has taken its copy and is running
        assert proc.poll() is None
        written: list[str] = []
        started = time.monotonic()
        writer = threading.Thread(target=lambda: written.append(write_fake_run(store, "during")))
        writer.start()
        writer.join(timeout=10)
        waited = time.monotonic() - started
        still_querying = proc.poll() is None
    finally:
        proc.kill()
        proc.wait(timeout=10)
    writer.join(timeout=30)
    assert written, "the run waited more than 10 s behind a query"
    assert still_querying, "the query ended before the run: make it slower"
    assert waited < 5
    assert written[0] in set(store.list_runs()["run_id"])
