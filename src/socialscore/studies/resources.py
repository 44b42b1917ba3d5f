"""Up-front estimates of memory, disk and time, and a refusal when the machine lacks them.

A run's peak memory is the loaded process, plus bytes per citizen (the state
arrays the scenario needs, counted from its settings as in the memory budget
of ``docs/performance.md``, plus the temporaries after the day loop), plus
bytes per simulated day (the recorder's daily tallies, of which the score
histogram grows with the score range). Its disk is the report and the small
tables, plus the per-citizen snapshot, plus the daily tables. Its time is a
start-up, plus costs per citizen, per citizen-day and per day.

Calibration (2026-11-30; 2 cores AMD EPYC virtualised, 24 GiB, Linux, Python
3.11.7, numba 0.68.1; ``/usr/bin/time -v socialscore run``, numba cache warm):

=========================  ==========  ==========  ======================
run (citizen-score)        peak RSS    estimate    run folder (estimate)
=========================  ==========  ==========  ======================
2,000 x 30                 383 MB      402 MB      5.1 MB (5.2 MB)
2,000 x 36,500             1.74 GB     1.85 GB     45 MB (49 MB)
200,000 x 365              492 MB      493 MB      8.1 MB (7.9 MB)
1,000,000 x 30             581 MB      584 MB      12.7 MB (12.5 MB)
3,000,000 x 30             700 MB      771 MB      28 MB (27 MB)
10,000,000 x 10            1.26 GB     1.42 GB     79 MB (77 MB)
100,000,000 x 365          9.2 GB      9.8 GB      1.1 GB (1.2 GB)
=========================  ==========  ==========  ======================

Other regimes at 10,000,000 x 10: ``safeguarded-citizen-score`` (13
accumulators, 60% aware, disputes) 1.63 GB, estimate 1.76 GB;
``municipal-points`` (1 accumulator) 0.96 GB, estimate 1.17 GB. A score range
of 0-30,000 at 2,000 x 3,650: 2.90 GB, estimate 3.12 GB. ``audit`` at
10,000,000 x 10: 2.66 GB, estimate 2.84 GB. Estimates are meant to be a little
above the truth (within about 25%), never far below it.

Time uses the figures of ``docs/performance.md`` (about 32 M citizen-days/s
with two numba threads at 10^6-10^8 citizens; 17 min 57 s for 10^8 x 365,
estimate 21 min) and is a rough guide only: it is printed, never refused.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from socialscore.scenario.schema import Scenario
from socialscore.studies.grid import Grid, tasks

#: Bytes of the loaded Python process before any citizen (numba, pyarrow, duckdb, the report).
PROCESS_BYTES: Final = 400_000_000
#: Fixed-size blocks of work after the day loop (the intervals' 100,000-citizen
#: subsamples, the snapshot's 262,144-row slices) cost this much per citizen
#: up to :data:`BLOCK_CITIZENS` citizens, and nothing more beyond.
BLOCK_BYTES_PER_CITIZEN: Final = 300
BLOCK_CITIZENS: Final = 300_000
#: Nation arrays kept through the run: traits (7), group, age band, income decile,
#: children (4); and the recorder's score at the mobility start day (2).
NATION_BYTES_PER_CITIZEN: Final = 13
#: Peak bytes per citizen beyond the state arrays (temporaries of tables and metrics).
TEMPORARY_BYTES_PER_CITIZEN: Final = 18
#: Citizens per chunk of the day loop, each with its own score histogram (int64).
CHUNK_CITIZENS: Final = 16_384
#: Bytes per day and per value of the score range (the daily histogram and the
#: daily table's temporaries over it), and per value of the company score range.
BYTES_PER_DAY_PER_SCORE_VALUE: Final = 24
BYTES_PER_DAY_PER_COMPANY_SCORE_VALUE: Final = 8
#: The other daily tallies and tables.
BYTES_PER_DAY: Final = 20_480

#: The run folder: report.html (4.8 MB of inlined plotly.js) and the small tables.
RUN_FOLDER_BYTES: Final = 5_100_000
#: The report's part of it (a sweep's runs write none unless asked).
REPORT_BYTES: Final = 4_800_000
#: A sweep run's report when asked for: its data, loading the store's one shared copy
#: of the chart library (about REPORT_BYTES, written once) instead of inlining it.
SHARED_REPORT_BYTES: Final = 500_000
#: The per-citizen snapshot: 7 bytes a citizen after a month, 12 after a year or more.
SNAPSHOT_BYTES_SHORT: Final = 7.0
SNAPSHOT_BYTES_YEAR: Final = 12.0
#: The daily tables, per day.
DISK_BYTES_PER_DAY: Final = 1_200
#: A new catalogue (``catalogue.duckdb``) with its first rows.
CATALOGUE_BYTES: Final = 1_100_000

#: Time with one core: start-up, per citizen (nation, tables, metrics, report,
#: writing), per citizen-day (the day loop), per day (Python between kernels).
STARTUP_SECONDS: Final = 2.5
SECONDS_PER_CITIZEN_ONE_CORE: Final = 2.2e-6
CITIZEN_DAYS_PER_SECOND_ONE_CORE: Final = 17.8e6
SECONDS_PER_DAY: Final = 5e-4
#: Speed-up of n cores over one is n ** this (1.8 with two cores, as measured).
CORE_SCALING: Final = 0.85
#: The audit runs the regime, its counterfactual and a perturbed copy.
AUDIT_SIMULATIONS: Final = 3

#: Setting this environment variable to "1" has the effect of ``--force`` everywhere
#: (it is how :func:`forced` reaches a sweep's worker processes).
FORCE_ENV: Final = "SOCIALSCORE_FORCE"

#: Print the estimate before a run expected to take at least this long.
LONG_RUN_SECONDS: Final = 30.0

ERR_TOO_BIG: Final = (
    "{what} needs {needs}, more than this machine has ({has}); {way_out} "
    "(the estimate is explained in docs/performance.md)."
)
WAY_OUT: Final = {
    "cli": "use --population {population:,} or fewer, or --force to run anyway",
    "api": "use population={population} or fewer, or force=True to run anyway",
    "grid": "set population = {population} or fewer in the grid's [sweep] table, "
    "or use --force to run anyway",
}
WAY_OUT_NONE: Final = {
    "cli": "free some memory or disk, or use --force to run anyway",
    "api": "free some memory or disk, or use force=True to run anyway",
    "grid": "free some memory or disk, or use --force to run anyway",
}
WAY_OUT_WORKERS: Final = ", use --workers {workers}"

Kind = Literal["run", "audit"]
Audience = Literal["cli", "api", "grid"]


class ResourceError(ValueError):
    """The estimated memory or disk of a job exceeds what the machine has."""


@dataclass(frozen=True)
class Estimate:
    """What a job is expected to need.

    ``memory_bytes`` is the peak resident memory of all its processes at once,
    ``disk_bytes`` what it writes, ``seconds`` its wall time. The other fields
    say how the need scales, for the way out of a refusal: ``population`` is the
    largest run's citizens, ``memory_per_citizen`` and ``disk_per_citizen`` what
    one more citizen in every run adds, ``workers`` the processes running at
    once (0 when the job runs inside this process) and ``worker_bytes`` the
    largest run's memory.
    """

    memory_bytes: int
    disk_bytes: int
    seconds: float
    population: int = 0
    memory_per_citizen: float = 0.0
    disk_per_citizen: float = 0.0
    workers: int = 0
    worker_bytes: int = 0

    def line(self) -> str:
        """``about 9.7 GB memory, 1.2 GB disk, ~19 min``."""
        return (
            f"about {format_bytes(self.memory_bytes)} memory, "
            f"{format_bytes(self.disk_bytes)} disk, ~{format_seconds(self.seconds)}"
        )


@dataclass(frozen=True)
class Machine:
    """What the machine has now: available memory, free disk at the output folder."""

    memory_bytes: int | None  # None: unknown (then memory is not checked)
    disk_bytes: int | None
    disk_path: Path

    def line(self) -> str:
        """``23 GB memory available, 74 GB free disk at /data``."""
        memory = (
            "unknown memory"
            if self.memory_bytes is None
            else (f"{format_bytes(self.memory_bytes)} memory available")
        )
        disk = (
            "unknown free disk"
            if self.disk_bytes is None
            else (f"{format_bytes(self.disk_bytes)} free disk at {self.disk_path}")
        )
        return f"{memory}, {disk}"


def state_bytes_per_citizen(scenario: Scenario) -> float:
    """Bytes per citizen of the arrays a run keeps through the day loop.

    Counted from the scenario as in the memory budget of docs/performance.md:
    74.3 bytes for ``citizen-score``.
    """
    from socialscore.simulation.layout import layout

    s = scenario.score
    awareness = scenario.feedback.awareness
    per = 2.0 + 2.0  # score, score without errors
    per += 2.0 if s.publish_every_days != 1 else 0.0  # the published copy
    per += 4.0 * (3 + layout(scenario).accumulators)  # network term, errors, stress; rules
    per += 12.0 * awareness  # chilling and gaming exposures, the aware citizens' ids
    per += 4.0 + 1.0  # employer, has mortgage
    per += 1.0 if scenario.participation.mandatory_from_day > 0 else 0.0
    per += float(scenario.nation.friends_local + scenario.nation.friends_distant)
    per += 4.0 if scenario.data_errors.dispute_rate > 0 else 0.0
    per += 8.0 * (s.hi - s.lo + 1) / CHUNK_CITIZENS  # each chunk's score histogram
    cpc = scenario.run.citizens_per_company
    if cpc > 0:
        per += (16.0 + 4.0 * len(scenario.company_rules)) / cpc
    return per + NATION_BYTES_PER_CITIZEN


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _cores(threads: int | None) -> int:
    cpus = os.cpu_count() or 1
    if threads is None:
        env = os.environ.get("NUMBA_NUM_THREADS", "")
        threads = int(env) if env.isdigit() and int(env) > 0 else cpus
    return max(1, min(threads, cpus))


def _one(
    scenario: Scenario,
    *,
    kind: Kind,
    threads: int | None,
    report: Literal["inline", "shared", "none"] = "inline",
) -> Estimate:
    """One run (or one audit) in one process.

    ``report``: it writes its report.html whole, loading a shared copy of the
    chart library, or not at all.
    """
    n = scenario.run.population
    days = scenario.run.days
    per_citizen = state_bytes_per_citizen(scenario) + TEMPORARY_BYTES_PER_CITIZEN
    if kind == "audit":
        # The regime's state stays alive while the counterfactual runs; the
        # association check then holds the friend ids (int32) and the moves (float64).
        friends = scenario.nation.friends_local + scenario.nation.friends_distant
        per_citizen = 2 * per_citizen + 4.0 * friends + 8.0
    values = scenario.score.hi - scenario.score.lo + 1
    company_values = scenario.company_score.hi - scenario.company_score.lo + 1
    per_day = (
        BYTES_PER_DAY_PER_SCORE_VALUE * values
        + BYTES_PER_DAY_PER_COMPANY_SCORE_VALUE * company_values
        + BYTES_PER_DAY
    )
    memory = (
        PROCESS_BYTES
        + BLOCK_BYTES_PER_CITIZEN * min(n, BLOCK_CITIZENS)
        + per_citizen * n
        + per_day * days
    )
    snapshot = (
        SNAPSHOT_BYTES_SHORT + (SNAPSHOT_BYTES_YEAR - SNAPSHOT_BYTES_SHORT) * min(days, 365) / 365
    )
    folder = RUN_FOLDER_BYTES if report == "inline" else RUN_FOLDER_BYTES - REPORT_BYTES
    if report == "shared":
        folder += SHARED_REPORT_BYTES
    disk = folder + snapshot * n + DISK_BYTES_PER_DAY * days
    speed = _cores(threads) ** CORE_SCALING
    simulations = AUDIT_SIMULATIONS if kind == "audit" else 1
    compute = (
        SECONDS_PER_CITIZEN_ONE_CORE * n
        + n * days / CITIZEN_DAYS_PER_SECOND_ONE_CORE
        + SECONDS_PER_DAY * days * speed  # Python between kernels: not parallel
    ) / speed
    return Estimate(
        memory_bytes=math.ceil(memory),
        disk_bytes=math.ceil(disk),
        seconds=STARTUP_SECONDS + simulations * compute,
        population=n,
        memory_per_citizen=per_citizen + (BLOCK_BYTES_PER_CITIZEN if n < BLOCK_CITIZENS else 0),
        disk_per_citizen=snapshot,
        worker_bytes=math.ceil(memory),
    )


def estimate(
    scenario: Scenario,
    *,
    runs: int = 1,
    workers: int = 1,
    kind: Kind = "run",
    threads: int | None = None,
) -> Estimate:
    """Estimate the memory, disk and time of ``runs`` runs of a scenario.

    Args:
        scenario: The scenario as it will run (overrides applied).
        runs: How many runs of it (seeds of a comparison, runs of a sweep).
        workers: 1: the runs follow one another in this process (``run``,
            ``compare``, the Python API); more: in that many worker processes
            at once, one numba thread each (``sweep``).
        kind: ``"audit"`` for ``socialscore audit`` (three simulations, two
            states held at once).
        threads: numba threads of a run in this process (default: the
            ``NUMBA_NUM_THREADS`` setting, else every core).

    Returns:
        The estimate of the whole job.
    """
    if workers <= 1:
        return combine([(_one(scenario, kind=kind, threads=threads), runs)], workers=0)
    return combine([(_one(scenario, kind=kind, threads=1), runs)], workers=workers)


def for_comparison(scenarios: Sequence[Scenario], *, seeds: int) -> Estimate:
    """Estimate ``socialscore compare``: every scenario on ``seeds`` seeds, one run at a time."""
    return combine([(_one(sc, kind="run", threads=None), seeds) for sc in scenarios], workers=0)


def combine(per_run: Sequence[tuple[Estimate, int]], *, workers: int) -> Estimate:
    """The estimate of several runs, one after another or in worker processes at once.

    With ``workers = 0`` the runs follow one another in this process; else up
    to ``workers`` of them run at once in worker processes beside this one.

    Args:
        per_run: Each run's estimate on its own, with how many runs share it.
        workers: 0 for this process; else worker processes at once.

    Returns:
        The estimate of the whole job (a new catalogue's bytes included).
    """
    per_run = [(e, count) for e, count in per_run if count > 0]
    if not per_run:
        return Estimate(0, 0, 0.0)
    disk = sum(e.disk_bytes * c for e, c in per_run) + CATALOGUE_BYTES
    disk_slope = sum(e.disk_per_citizen * c for e, c in per_run)
    seconds = sum(e.seconds * c for e, c in per_run)
    population = max(e.population for e, _ in per_run)
    largest = max(e.memory_bytes for e, _ in per_run)
    if workers <= 0:
        return Estimate(
            memory_bytes=largest,
            disk_bytes=disk,
            seconds=seconds,
            population=population,
            memory_per_citizen=max(e.memory_per_citizen for e, _ in per_run),
            disk_per_citizen=disk_slope,
            workers=0,
            worker_bytes=largest,
        )
    at_once = min(workers, sum(c for _, c in per_run))
    memory, slope, left = PROCESS_BYTES, 0.0, at_once
    for e, c in sorted(per_run, key=lambda pair: -pair[0].memory_bytes):
        take = min(c, left)
        memory += e.memory_bytes * take
        slope += e.memory_per_citizen * take
        left -= take
        if not left:
            break
    return Estimate(
        memory_bytes=memory,
        disk_bytes=disk,
        seconds=STARTUP_SECONDS + seconds / min(at_once, usable_cores()),
        population=population,
        memory_per_citizen=slope,
        disk_per_citizen=disk_slope,
        workers=at_once,
        worker_bytes=largest,
    )


def for_grid(
    grid: Grid, *, workers: int | None, out: str | Path, reports: bool = False
) -> Estimate:
    """Estimate a sweep: every run of the grid not already done in ``out``'s catalogue.

    A point whose values the scenario rejects is left out (its runs fail at once).

    Args:
        grid: The loaded grid.
        workers: The sweep's worker processes (default: one per core).
        out: The run store folder.
        reports: Each run writes its report (``sweep --reports``).

    Returns:
        The estimate of the runs still to do, ``workers`` of them at once.
    """
    import json

    from pydantic import ValidationError

    from socialscore.store.catalogue import RunStore

    store = RunStore(out)
    done: set[str] = set()
    if store.catalogue_path.is_file():
        try:
            known = store.sweep_runs(grid.sweep_id)
            done = set(known.loc[known.status == "done", "run_key"]) if len(known) else set()
        except Exception:  # an unreadable catalogue: estimate every run (the sweep will say why)
            done = set()
    todo = {t.run_key: t for t in tasks(grid, store.root) if t.run_key not in done}
    runs: dict[str, int] = {}
    for task in todo.values():
        runs[task.scenario_json] = runs.get(task.scenario_json, 0) + 1
    per_run: list[tuple[Estimate, int]] = []
    for text, count in runs.items():
        try:
            sc = Scenario.model_validate(json.loads(text))
        except ValidationError:
            continue
        shown: Literal["shared", "none"] = "shared" if reports else "none"
        per_run.append((_one(sc, kind="run", threads=1, report=shown), count))
    found = combine(per_run, workers=max(1, workers or usable_cores()))
    if reports and per_run:  # the one shared copy of the chart library
        found = dataclasses.replace(found, disk_bytes=found.disk_bytes + REPORT_BYTES)
    return found


def available_memory() -> int | None:
    """Memory available to new processes now: ``MemAvailable`` (Linux), else free pages.

    A cgroup v2 memory limit below it (a container) counts instead.
    """
    found: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            found = None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text("ascii").strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text("ascii").strip()
        if limit.isdigit() and used.isdigit():
            room = int(limit) - int(used)
            found = room if found is None else min(found, room)
    except OSError:
        pass
    return found


def free_disk(out: str | Path) -> tuple[int | None, Path]:
    """Free bytes on the file system that holds ``out`` (or its nearest existing parent).

    None when unknown: unreadable, not writable (a read-only mount), or a
    virtual file system such as ``/proc``.
    """
    path = Path(out).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None, path
    # Free space where nothing can be written (/proc, a read-only mount) is unknown:
    # the output-location check then names the real problem.
    writable = usage.total > 0 and os.access(path, os.W_OK)
    return (usage.free if writable else None), path


def machine(out: str | Path) -> Machine:
    """What the machine has now for a job writing to ``out``."""
    disk, where = free_disk(out)
    return Machine(memory_bytes=available_memory(), disk_bytes=disk, disk_path=where)


def check(
    guess: Estimate,
    *,
    force: bool,
    out: str | Path,
    audience: Audience = "cli",
    what: str = "this run",
) -> Machine:
    """Refuse a job whose estimate exceeds the memory or free disk the machine has.

    Args:
        guess: The job's estimate.
        force: Run anyway (also when the environment sets ``SOCIALSCORE_FORCE=1``).
        out: The run store folder the job writes to.
        audience: Whose options the way out names: the CLI's, the Python API's,
            or a grid file's.
        what: The job, for the message (``"this run"``, ``"this sweep"``).

    Returns:
        What the machine has.

    Raises:
        ResourceError: One line: the estimate, what the machine has, and the way out.
    """
    has = machine(out)
    if force or os.environ.get(FORCE_ENV) == "1":
        return has
    short_memory = has.memory_bytes is not None and guess.memory_bytes > has.memory_bytes
    short_disk = has.disk_bytes is not None and guess.disk_bytes > has.disk_bytes
    if not (short_memory or short_disk):
        return has
    raise ResourceError(
        ERR_TOO_BIG.format(
            what=what[:1].upper() + what[1:],
            needs=guess.line(),
            has=has.line(),
            way_out=way_out(guess, has, audience=audience),
        )
    )


def way_out(guess: Estimate, has: Machine, *, audience: Audience) -> str:
    """The largest population (for a sweep also worker count) that fits, in the audience's words."""
    fits = [guess.population]
    if has.memory_bytes is not None and guess.memory_bytes > has.memory_bytes:
        fits.append(_largest(guess.memory_bytes, guess.memory_per_citizen, has.memory_bytes, guess))
    if has.disk_bytes is not None and guess.disk_bytes > has.disk_bytes:
        fits.append(_largest(guess.disk_bytes, guess.disk_per_citizen, has.disk_bytes, guess))
    population = _round_down(min(fits))
    text = (
        WAY_OUT[audience].format(population=population)
        if population >= 100
        else WAY_OUT_NONE[audience]
    )
    if (
        audience == "grid"
        and guess.workers > 1
        and has.memory_bytes is not None
        and guess.memory_bytes > has.memory_bytes
        and (has.disk_bytes is None or guess.disk_bytes <= has.disk_bytes)
    ):
        workers = (has.memory_bytes - PROCESS_BYTES) // max(guess.worker_bytes, 1)
        if 1 <= workers < guess.workers:
            head, _, tail = text.rpartition(", or ")
            text = head + WAY_OUT_WORKERS.format(workers=workers) + ", or " + tail
    return text


def _largest(total: int, per_citizen: float, room: int, guess: Estimate) -> int:
    """Citizens per run at which ``total`` (linear in citizens) falls to ``room``."""
    if per_citizen <= 0:
        return 0
    fixed = total - per_citizen * guess.population
    return max(0, int((room - fixed) / per_citizen))


def _round_down(n: int) -> int:
    """Down to two significant digits: 238,456,123 → 230,000,000."""
    if n < 100:
        return n
    unit: int = 10 ** (len(str(n)) - 2)
    return n // unit * unit


@contextmanager
def forced(force: bool = True) -> Iterator[None]:
    """Within the block, every check passes (worker processes started in it inherit this)."""
    if not force:
        yield
        return
    previous = os.environ.get(FORCE_ENV)
    os.environ[FORCE_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(FORCE_ENV, None)
        else:
            os.environ[FORCE_ENV] = previous


def format_bytes(n: float) -> str:
    """Decimal units, two significant digits: ``9.7 GB``, ``580 MB``, ``12 kB``."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{int(n)} B"


def format_seconds(s: float) -> str:
    """``40 s``, ``18 min``, ``2 h 5 min``, ``3 days``."""
    if s < 60:
        return f"{max(1, round(s))} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    if s < 48 * 3600:
        hours, minutes = divmod(round(s / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(s / 86400):,} days"


__all__ = [
    "Estimate",
    "Machine",
    "ResourceError",
    "available_memory",
    "check",
    "combine",
    "estimate",
    "for_comparison",
    "for_grid",
    "forced",
    "free_disk",
    "machine",
]
