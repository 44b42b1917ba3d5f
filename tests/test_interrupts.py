"""Interrupting a sweep: real signals on real processes (issue 13, item 1).

Ctrl-C and SIGTERM stop a sweep within seconds and record what finished;
workers die with their parent, even after ``kill -9``; a finished run is
never run twice; a second copy of a running sweep is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from socialscore.store.catalogue import RunStore
from socialscore.studies.grid import load_grid
from socialscore.studies.sweep import execute, sweep, tasks

SRC = Path(__file__).resolve().parents[1] / "src"

BASE = """
[scenario]
name = "interrupt-base"
[run]
population = 800
days = 8
seed = 3
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
"""


def grid_text(points: int) -> str:
    values = ", ".join(str(-k) for k in range(1, points + 1))
    return f"""
[sweep]
name = "interrupts"
base = "base.toml"
seeds = 1
metrics = ["mean_score"]
[grid]
"rules[0].points" = [{values}]
"""


@pytest.fixture
def grid_file(tmp_path: Path) -> Callable[[int], Path]:
    """Write the base scenario and a one-parameter grid of ``points`` points."""

    def write(points: int) -> Path:
        (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
        path = tmp_path / f"grid{points}.toml"
        path.write_text(grid_text(points), encoding="utf-8")
        return path

    return write


# -- processes, seen through /proc ------------------------------------------------


def children(pid: int) -> set[int]:
    """Pids of the live processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def workers_of(pid: int) -> set[int]:
    """The sweep's pool workers (not its resource tracker)."""
    out = set()
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            out.add(child)
    return out


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def run_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and p.name[0].isdigit()]


def start_sweep(grid: Path, root: Path, workers: int = 2) -> subprocess.Popen[str]:
    """``socialscore sweep`` in its own process group (as a shell starts a job)."""
    command = [sys.executable, "-m", "socialscore", "sweep", str(grid), "--out", str(root)]
    return subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"},
        start_new_session=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Started sweeps; at the end, whatever is left of each one's process group is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group is the sweep's own session
        proc.communicate(timeout=30)


def sweep_tagged(root: Path, sweep_id: str) -> set[str]:
    """Run ids of catalogued runs tagged with the sweep."""
    runs = RunStore(root).list_runs()
    return {r.run_id for r in runs.itertuples() if json.loads(r.tags).get("sweep") == sweep_id}


def recorded(root: Path, sweep_id: str) -> set[str]:
    rows = RunStore(root).sweep_runs(sweep_id)
    return set(rows.loc[rows.status == "done", "run_id"])


# -- tests ------------------------------------------------------------------------


def test_ctrl_c_stops_a_sweep_records_what_finished_and_the_resume_runs_nothing_twice(
    grid_file: Callable[[int], Path], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    grid = grid_file(5)
    sweep_id = load_grid(grid).sweep_id
    root = tmp_path / "runs"
    proc = start_sweep(grid, root)
    processes.append(proc)
    wait_until(lambda: run_folders(root), 120, "a first finished run")
    pool = children(proc.pid)
    assert workers_of(proc.pid), "the sweep should run on worker processes"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stopped = time.monotonic()
    _, err = proc.communicate(timeout=20)
    assert time.monotonic() - stopped < 10
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"Sweep {sweep_id} stopped by Ctrl-C" in lines[0]
    assert "of 5 runs finished and recorded" in lines[0]
    assert "rerun the same command to resume" in lines[0]
    wait_until(lambda: not any(alive(p) for p in pool), 5, "the workers to exit")
    # Queued runs were cancelled, and every finished run is recorded against its point.
    finished = sweep_tagged(root, sweep_id)
    assert 1 <= len(finished) < 5
    assert recorded(root, sweep_id) == finished
    assert f"{len(finished)} of 5 runs" in lines[0]
    assert not any((root / ".incomplete").iterdir())  # nothing half written is left
    # The resume runs only what is missing: one catalogued run per sweep point.
    again = sweep(grid, out=root, workers=1)
    assert again.skipped == len(finished)
    assert len(again.done) == 5 and not again.failed
    assert len(RunStore(root).list_runs()) == 5
    assert recorded(root, sweep_id) == sweep_tagged(root, sweep_id)


def test_workers_die_with_a_sweep_killed_with_sigkill(
    grid_file: Callable[[int], Path], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    grid = grid_file(6)
    root = tmp_path / "runs"
    proc = start_sweep(grid, root)
    processes.append(proc)
    incomplete = root / ".incomplete"
    wait_until(
        lambda: (
            len(workers_of(proc.pid)) == 2 and incomplete.is_dir() and any(incomplete.iterdir())
        ),
        120,
        "two workers, one writing a run",
    )
    pool = children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)  # not communicate: an orphaned worker would hold the pipes open
    wait_until(lambda: not any(alive(p) for p in pool), 5, f"orphaned workers {pool} to exit")


def test_a_second_copy_of_a_running_sweep_is_refused_and_sigterm_stops_the_first(
    grid_file: Callable[[int], Path], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    grid = grid_file(12)
    sweep_id = load_grid(grid).sweep_id
    root = tmp_path / "runs"
    first = start_sweep(grid, root, workers=1)
    processes.append(first)
    lock = root / "sweeps" / f"{sweep_id}.lock"
    wait_until(
        lambda: lock.is_file() and lock.read_text().strip() == str(first.pid), 60, "the lock"
    )
    second = start_sweep(grid, root, workers=1)
    processes.append(second)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"Sweep {sweep_id} is already running in process {first.pid}" in lines[0]
    assert first.poll() is None  # the first copy goes on undisturbed
    wait_until(lambda: workers_of(first.pid), 60, "the first copy's worker")
    pool = children(first.pid)
    os.kill(first.pid, signal.SIGTERM)  # the parent only, as `kill PID` does
    stopped = time.monotonic()
    _, err = first.communicate(timeout=20)
    assert time.monotonic() - stopped < 10
    assert first.returncode == 128 + signal.SIGTERM, err
    assert f"Sweep {sweep_id} stopped by SIGTERM" in err
    wait_until(lambda: not any(alive(p) for p in pool), 5, "the workers to exit")
    assert len(run_folders(root)) < 12  # stopped, not run to the end


def test_a_run_finished_after_its_sweep_died_is_adopted_not_run_again(
    grid_file: Callable[[int], Path], tmp_path: Path
) -> None:
    grid = load_grid(grid_file(1))
    root = tmp_path / "runs"
    # A worker whose parent was killed finishes its run: catalogued, not in sweep_runs.
    orphan = execute(tasks(grid, RunStore(root).root)[0])
    assert orphan.status == "done" and not recorded(root, grid.sweep_id)
    result = sweep(grid, out=root, workers=1)
    assert result.skipped == 1 and len(result.done) == 1
    assert recorded(root, grid.sweep_id) == {orphan.run_id}
    assert len(RunStore(root).list_runs()) == 1


def test_ctrl_c_inside_a_catalogue_transaction_waits_for_its_end(tmp_path: Path) -> None:
    """A signal that lands inside DuckDB work would surface as DuckDB's own error.

    (It did: a compare stopped during a run's catalogue insert ended in an
    InvalidInputException traceback.) The transaction completes, then the
    Ctrl-C is delivered as the KeyboardInterrupt the command handles.
    """
    import pyarrow as pa

    store = RunStore(tmp_path)

    def work(con) -> int:  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the signal has arrived; Python would act on it here
        con.register("_rows", pa.table({"x": [1, 2, 3]}))
        con.execute("CREATE TABLE held AS SELECT * FROM _rows")
        return 3

    with pytest.raises(KeyboardInterrupt):
        store._with_catalogue(work)
    got = store._with_catalogue(lambda con: con.execute("SELECT count(*) FROM held").fetchone())
    assert got == (3,)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
