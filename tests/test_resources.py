"""The resource guard: estimates of memory, disk and time, and refusals before simulating.

Issue 13, item 6: ``--population 500000000`` on a 24 GiB machine started with
no estimate and died late. The refusal tests set what the machine has
(``resources.available_memory`` and ``resources.free_disk``) so that they
hold on any machine, and stub the simulation so that a huge run is never
actually started.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialscore import cli, scenario
from socialscore.studies import resources
from socialscore.studies import run as api

GIB = 1 << 30
SRC = Path(__file__).resolve().parents[1] / "src"


class ReachedError(Exception):
    """Raised by a stub where the real code would start simulating."""


def machine_with(
    monkeypatch: pytest.MonkeyPatch, *, memory: int = 24 * GIB, disk: int = 1 << 40
) -> None:
    """Pretend the machine has ``memory`` available and ``disk`` free at any folder."""
    monkeypatch.setattr(resources, "available_memory", lambda: memory)
    monkeypatch.setattr(resources, "free_disk", lambda out: (disk, Path(out)))
    monkeypatch.delenv(resources.FORCE_ENV, raising=False)


def never_simulate(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stub every entry to a simulation; each call is recorded, then raises ``ReachedError``."""
    calls: list[dict[str, Any]] = []

    def stub(name: str):  # type: ignore[no-untyped-def]
        def call(*args: Any, **kwargs: Any) -> None:
            calls.append({"entry": name, "force_env": os.environ.get(resources.FORCE_ENV)})
            calls[-1].update(kwargs)
            raise ReachedError(name)

        return call

    monkeypatch.setattr(api, "_simulate", stub("_simulate"))
    monkeypatch.setattr(api, "audit_regime", stub("audit_regime"))
    # The command line imports each command's module when the command runs.
    import socialscore.studies.compare
    import socialscore.studies.sweep

    monkeypatch.setattr(socialscore.studies.compare, "compare", stub("compare"))
    monkeypatch.setattr(socialscore.studies.sweep, "sweep", stub("sweep"))
    return calls


def sized(name: str = "citizen-score", *, population: int, days: int) -> scenario.Scenario:
    return scenario.load(name).scenario.with_overrides(population=population, days=days)


# -- the estimate against measurement ------------------------------------------------------

MEASURE = """
import resource, subprocess, sys
population, days, out = sys.argv[1:4]
code = (
    "from socialscore.studies import run as api; "
    f"api.run('citizen-score', population={population}, days={days}, out={out!r}, force=True)"
)
subprocess.run([sys.executable, "-c", code], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def peak_rss(population: int, days: int, out: Path) -> int:
    """Peak resident bytes of one ``api.run`` in a fresh process (its parent's RUSAGE_CHILDREN).

    The parent is fresh too: the test process's own RUSAGE_CHILDREN would be
    the largest of every child it ever had.
    """
    env = {**os.environ, "PYTHONPATH": str(SRC), "NUMBA_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(population), str(days), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(done.stdout.split()[-1])


def test_estimate_is_within_a_factor_of_1_5_of_the_measured_peak(tmp_path: Path) -> None:
    """Two sizes: the process alone (2,000 citizens) and one where citizens add a third."""
    peak_rss(200, 2, tmp_path / "warm")  # load (or compile) numba's cache first
    small, large = (2_000, 30), (1_000_000, 30)
    measured = {size: peak_rss(*size, tmp_path / f"runs{size[0]}") for size in (small, large)}
    guessed = {
        size: resources.estimate(sized(population=size[0], days=size[1]), threads=1).memory_bytes
        for size in (small, large)
    }
    for size in (small, large):
        assert 1 / 1.5 <= guessed[size] / measured[size] <= 1.5, (size, guessed, measured)
    # What citizens add, apart from the process: also within a factor of 1.5.
    added = measured[large] - measured[small]
    assert 1 / 1.5 <= (guessed[large] - guessed[small]) / added <= 1.5, (guessed, measured)


def test_estimate_grows_with_population_days_score_range_and_runs() -> None:
    for name in ("citizen-score", "municipal-points", "safeguarded-citizen-score"):
        previous = None
        for population in (100, 2_000, 100_000, 299_999, 300_000, 10**6, 10**8, 2 * 10**9):
            e = resources.estimate(sized(name, population=population, days=365))
            if previous is not None:
                assert e.memory_bytes > previous.memory_bytes, (name, population)
                assert e.disk_bytes > previous.disk_bytes, (name, population)
                assert e.seconds > previous.seconds, (name, population)
            previous = e
        previous = None
        for days in (1, 30, 364, 365, 366, 3_650, 36_500):
            e = resources.estimate(sized(name, population=10_000, days=days))
            if previous is not None:
                assert e.memory_bytes > previous.memory_bytes, (name, days)
                assert e.disk_bytes > previous.disk_bytes, (name, days)
                assert e.seconds > previous.seconds, (name, days)
            previous = e
    base = sized(population=100, days=36_500)
    wide = base.model_copy(
        update={"score": base.score.model_copy(update={"lo": 0, "hi": 30_000, "base": 600})}
    )
    # The case of the issue: 100 citizens, 36,500 days, scores 0-30,000 need gigabytes.
    assert resources.estimate(wide).memory_bytes > 8 * GIB
    one = resources.estimate(base)
    five = resources.estimate(base, runs=5)
    assert five.memory_bytes == one.memory_bytes  # one after another in this process
    assert five.disk_bytes > 4 * one.disk_bytes
    assert resources.estimate(base, runs=5, workers=4).memory_bytes > 4 * one.memory_bytes
    assert resources.estimate(base, kind="audit").memory_bytes > one.memory_bytes


# -- refusals ------------------------------------------------------------------------------

REFUSED = {
    "run": ["run", "--population", "500000000"],
    "compare": ["compare", "citizen-score", "no-scoring", "--population", "500000000"],
    "audit": ["audit", "citizen-score", "--population", "500000000"],
}


@pytest.mark.parametrize("command", sorted(REFUSED))
def test_half_a_billion_citizens_on_24_gib_are_refused_at_once(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine_with(monkeypatch, memory=24 * GIB)
    calls = never_simulate(monkeypatch)
    started = time.perf_counter()
    result = CliRunner().invoke(cli.app, [*REFUSED[command], "--out", str(tmp_path / "runs")])
    assert time.perf_counter() - started < 10
    assert result.exit_code == cli.EXIT_BAD_SCENARIO, result.output
    assert not calls, "simulated although refused"
    message = result.stderr.strip()
    assert "\n" not in message, message  # one line
    assert re.search(r"needs about \d+ GB memory, [\d.]+ GB disk, ~", message), message
    assert "26 GB memory available" in message, message  # 24 GiB
    found = re.search(r"use --population ([\d,]+) or fewer, or --force", message)
    assert found, message
    # The way out is true: that many citizens fit in the memory the machine has.
    fewer = int(found.group(1).replace(",", ""))
    kind = "audit" if command == "audit" else "run"
    fits = resources.estimate(sized(population=fewer, days=365), kind=kind).memory_bytes
    assert 0.5 * 24 * GIB < fits <= 24 * GIB
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("command", sorted(REFUSED))
def test_force_runs_anyway(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine_with(monkeypatch, memory=24 * GIB)
    calls = never_simulate(monkeypatch)
    args = [*REFUSED[command], "--out", str(tmp_path / "runs"), "--force"]
    result = CliRunner().invoke(cli.app, args)
    assert isinstance(result.exception, ReachedError), result.output
    assert len(calls) == 1
    if command == "compare":  # its runs go through api.run: they must not refuse either
        assert calls[0]["force_env"] == "1"
    assert os.environ.get(resources.FORCE_ENV) is None  # restored afterwards


def test_the_estimate_is_printed_before_a_long_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine_with(monkeypatch, memory=64 * GIB)
    calls = never_simulate(monkeypatch)
    result = CliRunner().invoke(
        cli.app, ["run", "--population", "100000000", "--out", str(tmp_path / "runs")]
    )
    assert isinstance(result.exception, ReachedError), result.output
    assert calls[0]["entry"] == "_simulate"
    assert re.search(r"Estimate: about [\d.]+ GB memory, [\d.]+ GB disk, ~\d+ min\.", result.stdout)


def test_the_python_api_refuses_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine_with(monkeypatch, memory=24 * GIB)
    calls = never_simulate(monkeypatch)
    with pytest.raises(resources.ResourceError, match=r"use population=\d+ or fewer, or force=Tr"):
        api.run(population=500_000_000, out=tmp_path / "runs")
    assert not calls
    # On a small machine the process's own 400 MB matter: the way out allows for them.
    machine_with(monkeypatch, memory=2 * GIB)
    with pytest.raises(resources.ResourceError) as refused:
        api.run(population=500_000_000, out=tmp_path / "runs")
    found = re.search(r"use population=(\d+) or fewer", str(refused.value))
    assert found, refused.value
    fits = resources.estimate(sized(population=int(found.group(1)), days=365)).memory_bytes
    assert 0.8 * 2 * GIB < fits <= 2 * GIB
    with pytest.raises(ReachedError):
        api.run(population=500_000_000, out=tmp_path / "runs", force=True)
    with pytest.raises(ReachedError), resources.forced():
        api.run(population=500_000_000, out=tmp_path / "runs")


def test_a_run_larger_than_the_free_disk_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine_with(monkeypatch, memory=64 * GIB, disk=100_000_000)
    calls = never_simulate(monkeypatch)
    result = CliRunner().invoke(
        cli.app, ["run", "--population", "20000000", "--out", str(tmp_path / "runs")]
    )
    assert result.exit_code == cli.EXIT_BAD_SCENARIO, result.output
    assert "100 MB free disk at" in result.stderr and not calls


GRID = """
[sweep]
name = "disk-hungry"
base = "citizen-score"
seeds = 2
population = 2000
days = 30

[grid]
"network.weight" = [0.0, 0.1, 0.2]
"""


def test_a_sweep_whose_runs_exceed_the_free_disk_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    # Six runs of about 0.8 MB each with their reports, plus the shared chart library
    # (4.8 MB), do not fit in 7 MB; without their reports, they do.
    machine_with(monkeypatch, memory=64 * GIB, disk=7_000_000)
    calls = never_simulate(monkeypatch)
    bare = ["sweep", str(grid), "--out", str(tmp_path / "runs"), "--workers", "2"]
    result = CliRunner().invoke(cli.app, bare)
    assert isinstance(result.exception, ReachedError), result.output
    calls.clear()
    args = [*bare, "--reports"]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == cli.EXIT_BAD_SCENARIO, result.output
    assert not calls
    message = result.stderr.strip()
    assert message.startswith("This sweep needs about") and "\n" not in message, message
    assert "7.0 MB free disk" in message and "--force" in message, message
    result = CliRunner().invoke(cli.app, [*args, "--force"])
    assert isinstance(result.exception, ReachedError) and calls[0]["force_env"] == "1"


def test_a_sweep_counts_its_workers_memory_at_once(tmp_path: Path) -> None:
    from socialscore.studies.grid import load_grid

    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(GRID.replace("2000", "10000000"), encoding="utf-8")
    grid = load_grid(grid_file)
    one = resources.estimate(sized(population=10_000_000, days=30), threads=1)
    two = resources.for_grid(grid, workers=2, out=tmp_path / "runs")
    six = resources.for_grid(grid, workers=8, out=tmp_path / "runs")  # only 6 runs
    assert two.memory_bytes == resources.PROCESS_BYTES + 2 * one.memory_bytes
    assert six.memory_bytes == resources.PROCESS_BYTES + 6 * one.memory_bytes
    run_folder = one.disk_bytes - resources.CATALOGUE_BYTES  # one run's estimate has it too
    # A sweep's runs write no report unless asked (--reports).
    bare = run_folder - resources.REPORT_BYTES
    assert two.disk_bytes == 6 * bare + resources.CATALOGUE_BYTES
    # With --reports each run's report loads the store's one copy of the chart library.
    with_reports = resources.for_grid(grid, workers=2, out=tmp_path / "runs", reports=True)
    each = bare + resources.SHARED_REPORT_BYTES
    shared = resources.REPORT_BYTES
    assert with_reports.disk_bytes == 6 * each + resources.CATALOGUE_BYTES + shared
    has = resources.Machine(
        memory_bytes=resources.PROCESS_BYTES + 3 * one.memory_bytes,
        disk_bytes=None,
        disk_path=tmp_path,
    )
    assert "--workers 3" in resources.way_out(six, has, audience="grid")


def test_available_memory_and_free_disk_are_read_from_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = resources.available_memory()
    assert memory is not None and 0 < memory <= os.sysconf("SC_PAGE_SIZE") * os.sysconf(
        "SC_PHYS_PAGES"
    )
    free, where = resources.free_disk(tmp_path / "not" / "yet" / "made")
    assert where == tmp_path and free is not None and free > 0
    assert resources.free_disk("/proc/no-such-folder") == (None, Path("/proc"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as on a read-only mount
    assert resources.free_disk(tmp_path) == (None, tmp_path)
