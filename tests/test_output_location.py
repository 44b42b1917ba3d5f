"""Output problems surface before the simulation, and a full disk loses nothing
that can be kept (issue 13, item 7).

The portable tests simulate the failures (a file or a /proc path as --out, an
ENOSPC raised by a write or a commit); where unprivileged user namespaces are
available, one test fills a real (tmpfs) disk and mounts a real read-only one."""

from __future__ import annotations

import errno
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import write_fake_run

SRC = Path(__file__).resolve().parents[1] / "src"
if importlib.util.find_spec("socialscore") is None:  # package not installed: use src/
    sys.path.insert(0, str(SRC))

from socialscore import cli  # noqa: E402
from socialscore.cli import app  # noqa: E402
from socialscore.store import catalogue as store_module  # noqa: E402
from socialscore.store.catalogue import (  # noqa: E402
    INCOMPLETE_DIR,
    DiskFullError,
    OutputLocationError,
    RunStore,
    RunWriter,
)
from socialscore.studies import run as api  # noqa: E402

runner = CliRunner()
SMALL = ["--population", "2000", "--days", "30"]


@pytest.fixture(autouse=True)
def _notes_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide stderr: each caveat note printed before a run (scenario/caveats.py) is one line."""
    monkeypatch.setattr(cli.errors, "width", 3000)


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr after the caveat notes a small run is given before it starts."""
    return [line for line in stderr.strip().splitlines() if not line.startswith("Note: ")]


@pytest.fixture
def simulations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every simulation started (and stops it: none should start)."""
    started: list[str] = []

    def refuse(sc: Any, _progress: Any) -> None:
        started.append(sc.scenario.name)
        raise RuntimeError("a simulation started although --out is unusable")

    monkeypatch.setattr(api, "_simulate", refuse)
    return started


def bad_outs(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return {
        "a file": a_file,
        "under a file": a_file / "runs",
        "under /proc": Path(f"/proc/socialscore-test-{os.getpid()}/runs"),
    }


COMMANDS = {
    "run": ["run", "citizen-score", *SMALL],
    "audit": ["audit", "citizen-score", *SMALL],
    "compare": ["compare", "no-scoring", "citizen-score", *SMALL, "--seeds", "2"],
    "sweep": ["sweep", "network-and-mortgage"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", ["a file", "under a file", "under /proc"])
def test_an_unusable_out_is_refused_before_any_simulation(
    tmp_path: Path, simulations: list[str], command: str, kind: str
) -> None:
    out = bad_outs(tmp_path)[kind]
    result = runner.invoke(app, [*COMMANDS[command], "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert simulations == []
    message = " ".join(result.stderr.split())
    assert f"Cannot write runs to {out}" in message, message
    assert "Traceback" not in result.output
    if command != "compare":  # compare prints ValueErrors with its own (wrapping) handler
        assert len(error_lines(result.stderr)) == 1


def test_the_api_checks_the_out_folder_before_simulating(
    tmp_path: Path, simulations: list[str]
) -> None:
    with pytest.raises(OutputLocationError, match="it is a file"):
        api.run("citizen-score", population=2000, days=30, out=bad_outs(tmp_path)["a file"])
    assert simulations == []


def test_a_read_only_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.access(out, os.W_OK):  # root ignores permissions; the tmpfs test covers it
            pytest.skip("permissions do not bind this user")
        with pytest.raises(OutputLocationError, match="Permission denied"):
            RunStore(out / "runs").check_writable()
    finally:
        out.chmod(0o755)


def fill_disk_while_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next table written by a run hit a full disk half way."""

    def full(self: RunWriter, name: str, batches: Any) -> None:
        (self.path / f"{name}.parquet").write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(RunWriter, "write_batches", full)


def test_a_full_disk_while_writing_is_one_line_and_a_rerun_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "runs"
    write_fake_run(RunStore(out))  # a catalogue with a run already in it
    fill_disk_while_writing(monkeypatch)

    result = runner.invoke(app, ["run", *SMALL, "--out", str(out)])

    assert result.exit_code == 2, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "is full" in lines[0] and str(out) in lines[0] and "not kept" in lines[0]
    st = RunStore(out)
    assert list((out / INCOMPLETE_DIR).iterdir()) == []  # the half run's space is freed
    assert len(st.list_runs()) == 1

    monkeypatch.undo()  # space freed: the same command works
    again = runner.invoke(app, ["run", *SMALL, "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert len(st.list_runs()) == 2


def test_a_full_disk_while_writing_a_comparison_report_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialscore.studies import compare

    def full(root: Path, *_args: Any) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root / "comparisons"))

    monkeypatch.setattr(compare, "write_comparison", full)
    out = tmp_path / "runs"
    args = ["compare", "no-scoring", "citizen-score", *SMALL, "--seeds", "1", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "The disk is full" in lines[0], result.stderr
    assert str(out / "comparisons") in lines[0]
    assert len(RunStore(out).list_runs()) == 2  # the finished runs are kept


class FullDiskAtCommit:
    """A catalogue connection whose commit fails as DuckDB's does on a full disk.

    DuckDB ends the transaction when a commit fails, so a rollback after it
    raises "cannot rollback - no transaction is active".
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def commit(self) -> None:
        self._con.rollback()
        raise duckdb.TransactionException(
            'TransactionContext Error: Failed to commit: Could not write file "catalogue.duckdb'
            '.wal": No space left on device'
        )


def test_a_full_disk_at_the_catalogue_insert_keeps_the_run_and_reconcile_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = RunStore(tmp_path / "runs")
    first = write_fake_run(st)
    real_connect = duckdb.connect

    def connect(database: str = ":memory:", *args: Any, **kwargs: Any) -> Any:
        con = real_connect(database, *args, **kwargs)
        return FullDiskAtCommit(con) if database == str(st.catalogue_path) else con

    monkeypatch.setattr(store_module.duckdb, "connect", connect)
    started = time.monotonic()
    with pytest.raises(DiskFullError) as caught:
        write_fake_run(st, "second")
    assert time.monotonic() - started < 5  # reported at once, not retried as "busy"
    message = str(caught.value)
    assert "cannot rollback" not in message
    assert "No space left on device" in message and "reconcile" in message
    second = message.split("'")[1]
    assert (st.root / second / "manifest.json").is_file()  # the run folder is whole

    monkeypatch.undo()
    assert set(st.list_runs()["run_id"]) == {first}
    st.reconcile()
    assert set(st.list_runs()["run_id"]) == {first, second}
    assert set(st.metrics()["run_id"]) == {first, second}


def test_compare_out_with_a_tilde_goes_to_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)

    result = runner.invoke(app, [*COMMANDS["compare"], "--out", "~/x"])

    assert result.exit_code == 0, result.output
    assert list(cwd.iterdir()) == []  # no literal ./~/x
    reports = list((home / "x" / "comparisons").glob("*/comparison.html"))
    assert len(reports) == 1
    assert len(RunStore("~/x").list_runs()) == 4
    assert RunStore("~/x").root == home / "x"


REAL_DISK = """
set -u
D=$1; OUT=$2
mount -t tmpfs -o size=2m tmpfs "$D" || exit 99
# --force: past the up-front disk estimate, so that the disk fills while writing.
python -m socialscore run --population 2000 --days 30 --out "$D/runs" --force \
    >/dev/null 2>"$OUT/full.err"
echo $? > "$OUT/full.rc"
ls -A "$D/runs" "$D/runs/.incomplete" > "$OUT/full.ls"
mount -o remount,size=40m "$D"
python -m socialscore run --population 2000 --days 30 --out "$D/runs" >/dev/null 2>"$OUT/again.err"
echo $? > "$OUT/again.rc"
python -m socialscore query "select count(*) as n from runs" --out "$D/runs" > "$OUT/again.out"
mount -o remount,ro "$D"
python -m socialscore query "select count(*) as n from runs" --out "$D/runs" \\
    >"$OUT/ro-query.out" 2>"$OUT/ro-query.err"
mount -o remount,rw "$D"
mkdir "$D/ro"
mount -t tmpfs -o ro,size=1m tmpfs "$D/ro"
python -m socialscore run --population 2000 --days 30 --out "$D/ro/runs" \\
    >"$OUT/ro.out" 2>"$OUT/ro.err"
echo $? > "$OUT/ro.rc"
"""


def test_a_real_full_disk_and_a_real_read_only_disk(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"]).returncode != 0:
        pytest.skip("no unprivileged mount namespaces here")
    mount_point, out = tmp_path / "mnt", tmp_path / "out"
    mount_point.mkdir()
    out.mkdir()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [unshare, "-rm", "sh", "-c", REAL_DISK, "sh", str(mount_point), str(out)],
        env=env,
        timeout=240,
        capture_output=True,
        text=True,
    )
    if proc.returncode == 99:
        pytest.skip("tmpfs cannot be mounted here")

    def read(name: str) -> str:
        return (out / name).read_text().strip()

    # 2 MB disk, a 5 MB run: one line, nothing half-written left behind.
    assert read("full.rc") == "2", read("full.err")
    lines = read("full.err").splitlines()
    assert "is full" in lines[-1] and "No space left on device" in lines[-1], lines
    assert "Traceback" not in read("full.err")
    assert read("full.ls").split() == [
        f"{mount_point}/runs:",
        ".incomplete",
        f"{mount_point}/runs/.incomplete:",
    ]
    # Space freed: the same command works and the catalogue was never damaged.
    assert read("again.rc") == "0", read("again.err")
    assert "│ 1 │" in read("again.out")
    # A store on read-only media can still be queried.
    assert "│ 1 │" in read("ro-query.out"), read("ro-query.err")
    # A read-only file system: one line naming the folder, before any simulation.
    assert read("ro.rc") == "2", read("ro.err")
    assert read("ro.err").splitlines()[-1].startswith(f"Cannot write runs to {mount_point}/ro/runs")
    assert "Read-only file system" in read("ro.err")
    assert "Simulated" not in read("ro.out")
