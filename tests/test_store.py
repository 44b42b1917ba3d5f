"""Specification of the run store: complete-or-absent run folders, a catalogue
that never lists missing files (even after kill -9), and safe concurrent use."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
if importlib.util.find_spec("socialscore") is None:  # package not installed: use src/
    sys.path.insert(0, str(SRC))

from socialscore.store.catalogue import (  # noqa: E402
    DEFAULT_ROOT,
    INCOMPLETE_DIR,
    MSG_NOT_FINISHED,
    WRITER_FILE,
    RunMeta,
    RunNotFoundError,
    RunStore,
    RunWriter,
)

HELPER = Path(__file__).resolve().parent / "helpers" / "store_writer.py"
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}-[a-z0-9-]+-[0-9a-f]{8}$")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def make_meta(run_id: str, **changes: object) -> RunMeta:
    values: dict[str, object] = {
        "run_id": run_id,
        "scenario_name": "baseline",
        "scenario_sha256": "0" * 64,
        "seed": 7,
        "population": 1000,
        "companies": 20,
        "days": 30,
        "created_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "wall_seconds": 1.5,
        "version": "0.1.0",
        "tags": {"sweep": "a", "x": 1},
    }
    values.update(changes)
    return RunMeta(**values)  # type: ignore[arg-type]


def make_metrics(value: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "metric": ["mean_score", "mean_score", "gini"],
            "subject": ["citizen", "citizen", "citizen"],
            "grp": ["all", "minority", "all"],
            "value": [value, value / 2, 0.25],
        }
    )


def sample_table(n: int = 100) -> pa.Table:
    return pa.table(
        {
            "day": pa.array(range(n), type=pa.int32()),
            "score": pa.array([i * 0.5 for i in range(n)], type=pa.float32()),
            "label": [f"c{i % 7}" for i in range(n)],
        }
    )


def write_run(store: RunStore, name: str = "baseline", **meta_changes: object) -> str:
    run_id = store.new_run_id(name)
    with store.writing(run_id) as writer:
        writer.write_text("scenario.toml", 'name = "baseline"\n')
        writer.write_text("scenario.sha256", "0" * 64 + "\n")
        writer.write_table("daily", sample_table())
        writer.finish(make_meta(run_id, scenario_name=name, **meta_changes), make_metrics())
    return run_id


def catalogue_rows(store: RunStore) -> dict[str, str]:
    """run_id -> path straight from the catalogue file (no filtering)."""
    if not store.catalogue_path.exists():
        return {}
    con = duckdb.connect(str(store.catalogue_path))
    try:
        return dict(con.execute("SELECT run_id, path FROM runs").fetchall())
    finally:
        con.close()


def assert_folder_matches_manifest(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    names = {entry["name"] for entry in manifest["files"]}
    on_disk = {p.name for p in folder.iterdir()} - {"manifest.json"}
    assert names == on_disk
    for entry in manifest["files"]:
        data = (folder / entry["name"]).read_bytes()
        assert len(data) == entry["size"], entry["name"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]


def helper_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def start_helper(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HELPER), str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=helper_env(),
    )


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def fake_incomplete(store: RunStore, run_id: str, pid: int | None) -> Path:
    folder = store.root / INCOMPLETE_DIR / run_id
    folder.mkdir(parents=True)
    (folder / "daily.parquet").write_bytes(b"partial")
    if pid is not None:
        info = {"pid": pid, "host": socket.gethostname()}
        (folder / WRITER_FILE).write_text(json.dumps(info))
    return folder


# ---------------------------------------------------------------------------
# basic behaviour
# ---------------------------------------------------------------------------


def test_default_root_is_socialscore_runs() -> None:
    assert Path("socialscore-runs") == DEFAULT_ROOT
    assert RunStore().root == (Path.cwd() / "socialscore-runs").resolve()


def test_finished_run_is_listed_and_tables_load_back_equal(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    run_id = write_run(store)

    runs = store.list_runs()
    assert list(runs["run_id"]) == [run_id]
    row = runs.iloc[0]
    assert row["scenario_name"] == "baseline"
    assert row["seed"] == 7 and row["population"] == 1000 and row["days"] == 30
    assert row["path"] == str(store.root / run_id)
    assert json.loads(row["tags"]) == {"sweep": "a", "x": 1}

    assert store.run_path(run_id) == store.root / run_id
    assert store.load_table(run_id, "daily").equals(sample_table())
    assert (store.run_path(run_id) / "scenario.toml").read_text() == 'name = "baseline"\n'
    metrics = store.metrics(run_id)
    assert sorted(metrics["metric"]) == ["gini", "mean_score", "mean_score"]
    assert set(metrics["run_id"]) == {run_id}
    assert not (store.root / INCOMPLETE_DIR / run_id).exists()


def test_run_folder_has_manifest_whose_hashes_match(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    folder = store.run_path(write_run(store))
    manifest = json.loads((folder / "manifest.json").read_text())
    names = {entry["name"] for entry in manifest["files"]}
    assert names == {
        "scenario.toml",
        "scenario.sha256",
        "daily.parquet",
        "metrics.parquet",
        "meta.json",
    }
    assert_folder_matches_manifest(folder)
    assert RunMeta.from_json((folder / "meta.json").read_text()).run_id == folder.name


def test_parquet_files_are_byte_deterministic(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    first, second = write_run(store), write_run(store)

    def digest(run_id: str, name: str) -> str:
        return hashlib.sha256((store.run_path(run_id) / name).read_bytes()).hexdigest()

    for name in ("daily.parquet", "metrics.parquet", "scenario.toml"):
        assert digest(first, name) == digest(second, name)


def test_runs_are_listed_newest_first(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    old = write_run(store, created_at=datetime(2020, 1, 1, tzinfo=UTC))
    new = write_run(store, created_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert list(store.list_runs()["run_id"]) == [new, old]
    assert set(store.metrics()["run_id"]) == {old, new}


def test_empty_store_lists_nothing_and_creates_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "absent")
    runs = store.list_runs()
    assert runs.empty and "scenario_sha256" in runs.columns
    assert store.metrics().empty
    assert not store.root.exists()


def test_new_run_id_format_and_uniqueness(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    ids = [store.new_run_id("Baseline: Ünïcode & spaces!") for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(RUN_ID_RE.match(run_id) for run_id in ids)
    assert "-baseline-unicode-spaces-" in ids[0]
    assert RUN_ID_RE.match(store.new_run_id("???"))


def test_unknown_run_error_names_the_run_and_the_root(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with pytest.raises(RunNotFoundError, match="nope") as info:
        store.run_path("nope")
    assert str(store.root) in str(info.value)
    assert isinstance(info.value, LookupError)
    with pytest.raises(RunNotFoundError):
        store.load_table("../etc", "daily")
    with pytest.raises(RunNotFoundError):
        store.metrics("nope")


def test_missing_table_error_lists_the_tables(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = write_run(store)
    with pytest.raises(FileNotFoundError, match="daily"):
        store.load_table(run_id, "final")


def test_writer_rejects_reserved_and_unsafe_names(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.new_run_id("x")
    with pytest.raises(ValueError), store.writing(run_id) as writer:
        assert isinstance(writer, RunWriter)
        for bad in ("meta.json", "manifest.json", "../escape.txt", "sub/dir.txt"):
            with pytest.raises(ValueError):
                writer.write_text(bad, "x")
        with pytest.raises(ValueError):
            writer.write_table("metrics", sample_table())
        writer.finish(make_meta("another-run"), make_metrics())
    assert not (store.root / run_id).exists()


def test_metrics_with_wrong_columns_are_rejected(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.new_run_id("x")
    with pytest.raises(ValueError, match="metric"), store.writing(run_id) as writer:
        writer.finish(make_meta(run_id), pa.table({"name": ["a"], "value": [1.0]}))
    assert store.list_runs().empty


# ---------------------------------------------------------------------------
# nothing half-written
# ---------------------------------------------------------------------------


def test_exception_inside_writing_leaves_no_folder_and_no_row(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.new_run_id("boom")
    with pytest.raises(ZeroDivisionError), store.writing(run_id) as writer:
        writer.write_table("daily", sample_table())
        writer.write_text("scenario.toml", "x")
        _ = 1 / 0
    assert not (store.root / run_id).exists()
    assert not (store.root / INCOMPLETE_DIR / run_id).exists()
    assert store.list_runs().empty
    assert run_id not in catalogue_rows(store)


def test_writing_block_without_finish_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.new_run_id("lazy")
    expected = re.escape(MSG_NOT_FINISHED.format(run_id=run_id))
    with pytest.raises(RuntimeError, match=expected), store.writing(run_id) as writer:
        writer.write_table("daily", sample_table())
    assert not (store.root / run_id).exists()
    assert not (store.root / INCOMPLETE_DIR / run_id).exists()


def test_an_existing_run_id_cannot_be_written_twice(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = write_run(store)
    with pytest.raises(FileExistsError), store.writing(run_id):
        pass
    assert_folder_matches_manifest(store.run_path(run_id))


def test_damaged_folder_is_hidden_even_before_reconcile(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    damaged, intact = write_run(store), write_run(store)
    (store.root / damaged / "daily.parquet").unlink()
    assert list(store.list_runs()["run_id"]) == [intact]
    assert set(store.metrics()["run_id"]) == {intact}
    with pytest.raises(RunNotFoundError, match="damaged"):
        store.run_path(damaged)


# ---------------------------------------------------------------------------
# reconcile
# ---------------------------------------------------------------------------


def test_reconcile_removes_rows_whose_folder_was_deleted(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    deleted, kept = write_run(store), write_run(store)
    for path in (store.root / deleted).iterdir():
        path.unlink()
    (store.root / deleted).rmdir()
    store.reconcile()
    assert set(catalogue_rows(store)) == {kept}
    assert set(store.metrics()["run_id"]) == {kept}


def test_reconcile_registers_complete_folders_missing_from_catalogue(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_ids = {write_run(store) for _ in range(3)}
    store.catalogue_path.unlink()  # as if killed between rename and insert
    assert store.list_runs().empty
    store.reconcile()
    assert set(store.list_runs()["run_id"]) == run_ids
    assert set(store.metrics()["run_id"]) == run_ids
    assert len(store.metrics()) == 3 * make_metrics().num_rows


def test_reconcile_cleans_dead_writers_but_not_live_ones(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    dead = fake_incomplete(store, "dead-writer", dead_pid())
    live = fake_incomplete(store, "live-writer", os.getpid())
    other_host = fake_incomplete(store, "other-host", dead_pid())
    info = json.loads((other_host / WRITER_FILE).read_text())
    (other_host / WRITER_FILE).write_text(json.dumps({**info, "host": "elsewhere.invalid"}))
    fresh_unmarked = fake_incomplete(store, "just-created", None)

    store.reconcile()

    assert not dead.exists()
    assert live.exists()
    assert other_host.exists()
    assert fresh_unmarked.exists()
    assert store.list_runs().empty


def test_reconcile_keeps_the_folder_of_a_run_being_written(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.new_run_id("live")
    with store.writing(run_id) as writer:
        writer.write_table("daily", sample_table())
        RunStore(tmp_path).reconcile()
        assert writer.path.exists()
        writer.finish(make_meta(run_id), make_metrics())
    assert list(store.list_runs()["run_id"]) == [run_id]


# ---------------------------------------------------------------------------
# crashes and concurrency (separate processes)
# ---------------------------------------------------------------------------


def test_catalogue_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    rng = random.Random(20240501)
    delays = sorted(rng.uniform(0.05, 1.0) for _ in range(5))
    for delay in delays:
        proc = start_helper(store.root, "--slow")
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL

    # Every catalogued run has its folder and all its files, hashing correctly.
    catalogued = catalogue_rows(store)
    for run_id, path in catalogued.items():
        assert path == run_id
        assert_folder_matches_manifest(store.root / path)

    store.reconcile()
    complete = {
        p.name for p in store.root.iterdir() if p.is_dir() and (p / "manifest.json").exists()
    }
    assert complete, "the writer never finished a run; raise the kill delays"
    assert set(catalogue_rows(store)) == complete
    assert set(store.list_runs()["run_id"]) == complete
    for run_id in complete:
        assert_folder_matches_manifest(store.root / run_id)
    # Temp folders of the killed writers are gone (only writer-less ones may wait).
    leftovers = list((store.root / INCOMPLETE_DIR).iterdir())
    assert all(not (p / WRITER_FILE).exists() for p in leftovers)

    new = write_run(store)
    assert new in set(store.list_runs()["run_id"])


def test_simultaneous_processes_all_complete_and_are_catalogued(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    go = tmp_path / "go"
    procs = [start_helper(store.root, "--runs", "5", "--go", str(go)) for _ in range(4)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    go.touch()  # all four start writing at the same moment

    written: set[str] = set()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "lock" not in err.lower(), err
        written.update(out.split())
    assert len(written) == 20

    runs = store.list_runs()
    assert set(runs["run_id"]) == written
    assert len(runs) == 20
    assert set(store.metrics()["run_id"]) == written
    for run_id in written:
        assert_folder_matches_manifest(store.run_path(run_id))


# ---------------------------------------------------------------------------
# issue 13: the schema from the start, orphans cleaned by writers, a new
# catalogue created whole
# ---------------------------------------------------------------------------


def test_comparisons_table_exists_from_the_first_run_with_the_comparison_columns(
    tmp_path: Path,
) -> None:
    store = RunStore(tmp_path)
    write_run(store)
    con = duckdb.connect(str(store.catalogue_path), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        columns = [row[0] for row in con.execute("DESCRIBE comparisons").fetchall()]
    finally:
        con.close()
    assert {"runs", "metrics", "sweep_runs", "comparisons"} <= tables
    assert columns == [
        "compare_id",
        "scenario",
        "metric",
        "subject",
        "grp",
        "mean",
        "difference",
        "ci_low",
        "ci_high",
    ]
    assert store.comparisons().empty


def test_writing_a_run_cleans_orphans_of_dead_writers_but_not_live_ones(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    dead = fake_incomplete(store, "dead-writer", dead_pid())
    live = fake_incomplete(store, "live-writer", os.getpid())
    other_host = fake_incomplete(store, "other-host", dead_pid())
    info = json.loads((other_host / WRITER_FILE).read_text())
    (other_host / WRITER_FILE).write_text(json.dumps({**info, "host": "elsewhere.invalid"}))

    write_run(store)  # no reconcile, no `socialscore runs`

    assert not dead.exists()
    assert live.exists()
    assert other_host.exists()


def test_a_new_catalogue_cut_short_by_a_full_disk_is_not_left_half_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialscore.store import catalogue as store_module
    from socialscore.store.catalogue import DiskFullError

    store = RunStore(tmp_path)
    real_connect = duckdb.connect

    class FullAtCheckpoint:
        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self._con = con

        def __getattr__(self, name: str) -> object:
            return getattr(self._con, name)

        def execute(self, sql: str, *args: object) -> object:
            if sql.strip().upper() == "CHECKPOINT":
                raise duckdb.FatalException(
                    "FATAL Error: Failed to create checkpoint because of error: "
                    "Could not write file: No space left on device"
                )
            return self._con.execute(sql, *args)

    def connect(database: str = ":memory:", *args: object, **kwargs: object) -> object:
        con = real_connect(database, *args, **kwargs)
        return con if database == ":memory:" else FullAtCheckpoint(con)

    monkeypatch.setattr(store_module.duckdb, "connect", connect)
    with pytest.raises(DiskFullError, match="reconcile"):
        write_run(store)
    monkeypatch.undo()

    assert sorted(p.name for p in store.root.iterdir() if p.is_file()) == ["catalogue.lock"]
    store.reconcile()
    assert len(store.list_runs()) == 1


def test_a_damaged_catalogue_is_reported_at_once_not_retried_as_busy(tmp_path: Path) -> None:
    from socialscore.store.catalogue import CatalogueError

    store = RunStore(tmp_path)
    write_run(store)
    store.catalogue_path.write_text("not a database\n" * 100)
    started = time.monotonic()
    with pytest.raises(CatalogueError, match="not a valid DuckDB database") as caught:
        store.list_runs()
    assert time.monotonic() - started < 5
    assert "unavailable" not in str(caught.value)
