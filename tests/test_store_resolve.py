"""Finding and removing runs in the store (issue 17): a run is named by its id, a unique
start of its id or ``latest``; a removed run is gone whole, even when its removal is cut
short; listings filter by scenario, tag, day, sweep and age; ``SOCIALSCORE_RUNS`` moves
the default store.

Runs here are written straight into the store (no simulation), with the creation
times, ids and tags each test needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from socialscore.store import catalogue
from socialscore.store.catalogue import (
    MSG_NO_RUNS_YET,
    AmbiguousRunError,
    RunMeta,
    RunNotFoundError,
    RunStore,
)
from socialscore.store.listing import (
    ListingError,
    RunFilter,
    older_than,
    parse_age,
    parse_tag,
    select,
)

SRC = Path(__file__).resolve().parents[1] / "src"


def _write(
    store: RunStore,
    run_id: str,
    *,
    created: datetime,
    scenario: str = "alpha",
    tags: dict[str, Any] | None = None,
) -> str:
    """A complete run with one table and two metric rows, made at ``created``."""
    with store.writing(run_id) as writer:
        writer.write_table("daily", pa.table({"day": pa.array(range(5), type=pa.int32())}))
        meta = RunMeta(
            run_id=run_id,
            scenario_name=scenario,
            scenario_sha256="0" * 64,
            seed=1,
            population=1000,
            companies=10,
            days=5,
            created_at=created,
            wall_seconds=0.1,
            version="0.1.0",
            tags=tags or {},
        )
        metrics = pa.table(
            {
                "metric": ["mean_score", "gini"],
                "subject": ["", ""],
                "grp": ["all", "all"],
                "value": [600.0, 0.2],
            }
        )
        writer.finish(meta, metrics)
    return run_id


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    """Three runs; the newest has the alphabetically smallest id (ids are not times)."""
    st = RunStore(tmp_path / "runs")
    _write(st, "20261201T090000-alpha-aaaaaaaa", created=_at(1))
    _write(st, "20261202T090000-beta-bbbbbbbb", created=_at(2), scenario="beta")
    _write(st, "0-imported-by-hand", created=_at(3), tags={"batch": "b1"})
    return st


def _rows(store: RunStore, table: str, run_id: str) -> int:
    con = duckdb.connect(str(store.catalogue_path), read_only=True)
    try:
        row = con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run_id]).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


# -- naming a run ------------------------------------------------------------------------


def test_a_run_is_named_by_its_id_a_unique_start_of_it_or_latest(store: RunStore) -> None:
    assert store.resolve("20261201T090000-alpha-aaaaaaaa") == "20261201T090000-alpha-aaaaaaaa"
    assert store.resolve("20261202") == "20261202T090000-beta-bbbbbbbb"
    assert store.resolve("0-imp") == "0-imported-by-hand"
    # The newest by creation time, not the last id in sorted order.
    assert store.resolve("latest") == "0-imported-by-hand"
    assert store.run_path("latest") == store.root / "0-imported-by-hand"
    assert store.run_path("20261201T09") == store.root / "20261201T090000-alpha-aaaaaaaa"


def test_every_reading_of_a_run_takes_a_reference(store: RunStore) -> None:
    assert set(store.metrics("latest")["run_id"]) == {"0-imported-by-hand"}
    assert store.load_table("20261202", "daily").num_rows == 5


def test_latest_follows_the_newest_run_as_runs_are_added(store: RunStore) -> None:
    newer = _write(store, "zz-newest", created=_at(4))
    assert store.resolve("latest") == newer


def test_latest_passes_over_a_damaged_newest_run(store: RunStore) -> None:
    (store.root / "0-imported-by-hand" / "daily.parquet").unlink()
    assert store.resolve("latest") == "20261202T090000-beta-bbbbbbbb"


def test_an_ambiguous_start_is_refused_naming_five_candidates(tmp_path: Path) -> None:
    st = RunStore(tmp_path)
    ids = [_write(st, f"20261201T0926{k:02d}-x-{k:08d}", created=_at(1, k)) for k in range(7)]
    with pytest.raises(AmbiguousRunError) as info:
        st.resolve("20261201T0926")
    message = str(info.value)
    assert "starts 7 run ids" in message and "and 2 more" in message
    named = [rid for rid in ids if rid in message]
    assert len(named) == catalogue.CANDIDATES_SHOWN == 5
    assert named == ids[-5:]  # the newest ones
    assert f"socialscore runs --out {st.root}" in message
    assert isinstance(info.value, RunNotFoundError)  # callers catching "not found" catch it
    assert st.resolve("20261201T092606") == ids[6]  # one more character: unique


def test_a_missing_run_names_the_command_that_lists_runs(tmp_path: Path) -> None:
    st = RunStore(tmp_path / "my runs")
    _write(st, "20261201T090000-alpha-aaaaaaaa", created=_at(1))
    for ref in ("nope", "2025", "../etc", ""):
        with pytest.raises(RunNotFoundError) as info:
            st.run_path(ref)
        message = str(info.value)
        assert f"socialscore runs --out '{st.root}'" in message  # quoted: the path has a space
        assert "list_runs" not in message and "RunStore(" not in message


def test_latest_in_an_empty_store_says_how_to_make_a_run(tmp_path: Path) -> None:
    st = RunStore(tmp_path)
    with pytest.raises(RunNotFoundError) as info:
        st.resolve("latest")
    assert str(info.value) == MSG_NO_RUNS_YET.format(root=st.root, root_arg=str(st.root))
    assert not st.catalogue_path.exists()  # naming a run never creates a catalogue


# -- removing a run --------------------------------------------------------------------


def test_remove_deletes_the_folder_and_every_row_about_the_run(store: RunStore) -> None:
    gone = "20261202T090000-beta-bbbbbbbb"
    store.register_sweep_run(
        "s1",
        {
            "run_key": "k",
            "point": 0,
            "seed": 1,
            "params": "{}",
            "status": "done",
            "run_id": gone,
            "error": None,
            "seconds": 1.0,
        },
    )
    assert _rows(store, "sweep_runs", gone) == 1
    assert store.remove("20261202") == gone
    assert not (store.root / gone).exists()
    assert not any((store.root / catalogue.REMOVING_DIR).iterdir())
    for table in ("runs", "metrics", "sweep_runs"):
        assert _rows(store, table, gone) == 0, table
    assert _rows(store, "metrics", "0-imported-by-hand") == 2  # the others are untouched
    assert set(store.list_runs()["run_id"]) == {
        "20261201T090000-alpha-aaaaaaaa",
        "0-imported-by-hand",
    }
    with pytest.raises(RunNotFoundError):
        store.run_path(gone)


def test_reconcile_after_remove_does_not_bring_the_run_back(store: RunStore) -> None:
    store.remove("latest")
    store.reconcile()
    assert "0-imported-by-hand" not in set(store.list_runs()["run_id"])
    assert _rows(store, "runs", "0-imported-by-hand") == 0


def test_a_removal_cut_short_after_the_move_stays_a_removal(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between moving the folder aside and deleting the rows: hidden at once, and
    the next reconcile deletes the rows and the folder; nothing registers it again."""
    run_id = "20261201T090000-alpha-aaaaaaaa"

    def killed(self: RunStore, _run_id: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "_forget", killed)
    with pytest.raises(KeyboardInterrupt):
        store.remove(run_id)
    monkeypatch.undo()
    aside = store.root / catalogue.REMOVING_DIR / run_id
    assert aside.is_dir() and _rows(store, "runs", run_id) == 1
    assert run_id not in set(store.list_runs()["run_id"])
    with pytest.raises(RunNotFoundError):
        store.resolve(run_id)
    store.reconcile()
    assert not aside.exists()
    assert _rows(store, "runs", run_id) == 0 and _rows(store, "metrics", run_id) == 0
    store.reconcile()
    assert run_id not in set(store.list_runs()["run_id"])


def test_removing_a_run_twice_says_it_is_not_there(store: RunStore) -> None:
    store.remove("20261201T090000-alpha-aaaaaaaa")
    with pytest.raises(RunNotFoundError, match="socialscore runs --out"):
        store.remove("20261201T090000-alpha-aaaaaaaa")


# -- choosing runs -----------------------------------------------------------------------


@pytest.fixture
def listed(tmp_path: Path) -> Any:
    """Five runs: two of sweep s1, one of sweep s2, one audited, one plain (newest first)."""
    st = RunStore(tmp_path)
    _write(st, "r1-plain", created=_at(1))
    _write(st, "r2-audit", created=_at(2), scenario="beta", tags={"audit": True, "seed": 3})
    _write(st, "r3-s1", created=_at(3), tags={"sweep": "s1", "point": 0})
    _write(st, "r4-s1", created=_at(4), scenario="beta", tags={"sweep": "s1", "point": 1})
    _write(st, "r5-s2", created=_at(5), tags={"sweep": "s2"})
    return st.list_runs()


def _ids(frame: Any) -> list[str]:
    return [str(r) for r in frame["run_id"]]


def test_runs_of_sweeps_are_left_out_and_counted_unless_asked(listed: Any) -> None:
    plain = select(listed, RunFilter())
    assert _ids(plain.frame) == ["r2-audit", "r1-plain"]
    assert plain.hidden_sweep_runs == 3 and plain.matched == 2
    every = select(listed, RunFilter(sweeps=True))
    assert _ids(every.frame) == ["r5-s2", "r4-s1", "r3-s1", "r2-audit", "r1-plain"]
    assert every.hidden_sweep_runs == 0
    one = select(listed, RunFilter(sweep="s1"))
    assert _ids(one.frame) == ["r4-s1", "r3-s1"] and one.hidden_sweep_runs == 0
    # The count is of the sweep runs the other conditions would have shown.
    assert select(listed, RunFilter(scenario="beta")).hidden_sweep_runs == 1


def test_filters_by_scenario_tag_and_day(listed: Any) -> None:
    assert _ids(select(listed, RunFilter(scenario="beta", sweeps=True)).frame) == [
        "r4-s1",
        "r2-audit",
    ]
    # Tag values that are not text are written as JSON: true, 3.
    assert _ids(select(listed, RunFilter(tags=(("audit", "true"),))).frame) == ["r2-audit"]
    assert _ids(select(listed, RunFilter(tags=(("seed", "3"), ("audit", "true")))).frame) == [
        "r2-audit"
    ]
    assert select(listed, RunFilter(tags=(("seed", "3"), ("audit", "false")))).matched == 0
    assert _ids(select(listed, RunFilter(tags=(("point", "1"),), sweeps=True)).frame) == ["r4-s1"]
    since = select(listed, RunFilter(since=date(2026, 12, 2), sweeps=True))
    assert _ids(since.frame) == ["r5-s2", "r4-s1", "r3-s1", "r2-audit"]  # the day itself counts


def test_a_limit_keeps_the_newest_and_counts_the_rest(listed: Any) -> None:
    shown = select(listed, RunFilter(sweeps=True), limit=2)
    assert _ids(shown.frame) == ["r5-s2", "r4-s1"]
    assert shown.matched == 5 and shown.omitted == 3
    with pytest.raises(ListingError, match="1 or more"):
        select(listed, RunFilter(), limit=0)


@pytest.mark.parametrize(
    ("words", "span"),
    [("12h", timedelta(hours=12)), ("30d", timedelta(days=30)), ("2w", timedelta(days=14))],
)
def test_an_age_is_hours_days_or_weeks(words: str, span: timedelta) -> None:
    assert parse_age(words) == span


@pytest.mark.parametrize("words", ["30", "d", "1.5d", "-2d", "3m", "30 days", ""])
def test_an_age_in_another_form_is_refused_showing_the_forms(words: str) -> None:
    with pytest.raises(ListingError, match="12h, 30d or 2w"):
        parse_age(words)


def test_a_tag_filter_needs_a_key_and_an_equals_sign() -> None:
    assert parse_tag("rerun_of=2026=x") == ("rerun_of", "2026=x")
    assert parse_tag("note=") == ("note", "")
    for words in ("audit", "=true", ""):
        with pytest.raises(ListingError, match="KEY=VALUE"):
            parse_tag(words)


def test_older_than_keeps_only_runs_made_before_the_cutoff(listed: Any) -> None:
    now = _at(5, 12)
    assert _ids(older_than(listed, timedelta(days=2), now=now)) == ["r2-audit", "r1-plain"]
    assert _ids(older_than(listed, timedelta(hours=1), now=now)) == [
        "r4-s1",
        "r3-s1",
        "r2-audit",
        "r1-plain",
    ]  # r5-s2 was made exactly at noon: not older than an hour
    assert older_than(listed, timedelta(weeks=2), now=now).empty


# -- where the store is --------------------------------------------------------------------


def _python(code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), **env},
        cwd=cwd,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_socialscore_runs_moves_the_default_store_for_python(tmp_path: Path) -> None:
    code = (
        "import json, socialscore; from socialscore.studies import run;"
        "print(json.dumps([str(socialscore.RunStore().root),"
        " str(run.rebuild_report.__kwdefaults__['out'])]))"
    )
    elsewhere = tmp_path / "elsewhere"
    moved = json.loads(_python(code, {"SOCIALSCORE_RUNS": str(elsewhere)}, tmp_path))
    assert moved == [str(elsewhere), str(elsewhere)]
    unset = json.loads(_python(code, {"SOCIALSCORE_RUNS": ""}, tmp_path))
    assert unset[0] == str(tmp_path / "socialscore-runs")


def test_socialscore_runs_moves_the_default_store_for_commands(tmp_path: Path) -> None:
    st = RunStore(tmp_path / "kept")
    _write(st, "20261201T090000-alpha-aaaaaaaa", created=_at(1))
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "SOCIALSCORE_RUNS": str(st.root),
        "COLUMNS": "300",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "socialscore", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    listed = cli("runs")
    assert listed.returncode == 0, listed.stderr
    assert "20261201T090000-alpha-aaaaaaaa" in listed.stdout
    other = cli("runs", "--out", str(tmp_path / "other"))
    assert other.returncode == 0 and "alpha" not in other.stdout  # --out still wins
    helped = cli("runs", "--help")
    assert f"[default: {st.root}]" in helped.stdout
    assert not (tmp_path / "socialscore-runs").exists()
