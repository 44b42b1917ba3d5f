"""Run a grid: every point on every seed, in parallel, resumable, failures kept.

Each run is an ordinary stored run (same run folders, same catalogue) tagged
with the sweep id, its point and its parameters. The catalogue table
``sweep_runs`` records every run of every sweep: done (with its run id) or
failed (with its error). Rerunning the same grid skips runs already done.

Runs execute in local worker processes by default; with a Ray address (or
``"auto"``, or ``"local"`` to start a cluster on this machine) they run as
Ray tasks instead. Ray is an optional extra and is imported only then. Every
run uses one numba thread, so runs are parallel instead of threads, and the
results are the same on every backend (they do not depend on the thread
count).

Interrupts (:mod:`socialscore.system.interrupts`): Ctrl-C or SIGTERM cancels the
queued runs, stops the workers and records every finished run before
:class:`SweepStoppedError` is raised; workers die with their parent even after
``kill -9``; each run is tagged with its ``run_key``, so a run that finished
but was never recorded in ``sweep_runs`` (its parent was killed first) is
adopted by the next session instead of run again; and a second copy of a
running sweep on the same store is refused (:class:`~socialscore.system.interrupts.SweepBusyError`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from socialscore import report as report_page
from socialscore.measures.intervals import mean_interval
from socialscore.report.sweep import EndpointChange, Failure, SweepFacts, build_sweep
from socialscore.store.catalogue import DEFAULT_ROOT, RunStore
from socialscore.store.durable import atomic_folder, replace_file
from socialscore.studies import sensitivity
from socialscore.studies.grid import (
    Grid,
    Task,
    categories,
    category_label,
    load_grid,
    parameter_words,
    tasks,
)
from socialscore.studies.resources import PROCESS_BYTES, usable_cores
from socialscore.system import display as notebook
from socialscore.system.interrupts import (
    Terminated,
    exclusive,
    stop_on_signals,
    stop_processes,
    watch_parent,
)

#: Metrics a sweep reports by default (every subject of each).
DEFAULT_METRICS = (
    "mean_score",
    "blacklisted_share",
    "gini",
    "adverse_impact_ratio",
    "bottom_decile_persistence",
    "privacy_auc",
    "friends_dropped",
)

ERR_RAY_MISSING = (
    "--ray needs the optional Ray extra: pip install '.[ray]' in a clone of socialscore, or "
    "pip install ray (or run without --ray to use local processes)."
)
MSG_SWEEP_STOPPED = (
    "Sweep {sweep_id} stopped by {cause}: {done:,} of {total:,} runs finished and recorded "
    "({failed:,} failed); rerun the same command to resume."
)
#: Lock files of running sweeps, inside the run store: ``sweeps/<sweep_id>.lock``.
SWEEP_LOCK = "sweeps/{sweep_id}.lock"


class SweepStoppedError(Exception):
    """A sweep stopped early (Ctrl-C, SIGTERM, or a worker process that died).

    Every run that finished is recorded; rerunning the same grid resumes.
    ``signum`` is the signal that stopped it (None when a worker died).
    """

    def __init__(self, message: str, *, done: int, total: int, signum: int | None) -> None:
        """Keep the one-line message and the counts."""
        super().__init__(message)
        self.done = done
        self.total = total
        self.signum = signum


#: Most local worker processes a sweep may start: one per usable core. Every run
#: uses one numba thread, so a worker beyond the cores adds no speed, only its
#: memory (each worker is a separate process: Python, numpy, numba's compiled
#: kernels and a run's arrays).
MAX_WORKERS: Final = usable_cores()
#: Resident memory of one worker process before a run's own arrays (MB): the resource
#: estimate's process cost (measured 405 MB per worker for runs of 1,200 citizens).
WORKER_MB: Final = PROCESS_BYTES // 1_000_000
MSG_WORKERS_LOW = (
    "--workers {workers}: give at least 1 worker process "
    "(or leave the option out for one per core, {cores} here)."
)
MSG_WORKERS_HIGH = (
    "--workers {workers}: at most {cores} on this machine (one per core it may use); each worker "
    "is a process of about {mb} MB, so {workers} would take about {total:.1f} GB for no gain "
    "in speed (every run uses one core). Give --workers {cores} or fewer."
)


def check_workers(workers: int | None) -> int:
    """The number of local worker processes to start: ``workers``, or one per usable core.

    Raises:
        ValueError: If ``workers`` is below 1 or above :data:`MAX_WORKERS`.
    """
    if workers is None:
        return MAX_WORKERS
    if not 1 <= workers <= MAX_WORKERS:
        message = MSG_WORKERS_LOW if workers < 1 else MSG_WORKERS_HIGH
        raise ValueError(
            message.format(
                workers=workers, cores=MAX_WORKERS, mb=WORKER_MB, total=workers * WORKER_MB / 1024
            )
        )
    return workers


@dataclass(frozen=True)
class Outcome:
    """What became of a task."""

    run_key: str
    point: int
    seed: int
    params: dict[str, Any]
    status: str  # "done" or "failed"
    run_id: str | None
    error: str | None
    seconds: float


def execute(task: Task) -> Outcome:
    """Run one task (in whatever process or Ray worker it lands); never raises."""
    started = time.perf_counter()
    try:
        from pydantic import ValidationError

        from socialscore.scenario.errors import format_errors
        from socialscore.scenario.schema import Scenario
        from socialscore.studies.run import parse_json, run

        data = json.loads(task.scenario_json)
        data["run"]["seed"] = task.seed
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:  # a value the scenario rejects fails this run only
            raise ValueError(_short(format_errors(exc, "scenario"))) from None
        loaded = parse_json(scenario.model_dump_json(by_alias=True))
        tags = {
            "sweep": task.sweep_id,
            "point": task.point,
            "params": task.params,
            "run_key": task.run_key,  # lets a later session adopt the run (see _adopt)
        }
        result = run(
            loaded, out=task.out, tags=tags, report=task.report, chart_library=task.chart_library
        )
        return Outcome(
            task.run_key,
            task.point,
            task.seed,
            task.params,
            "done",
            result.run_id,
            None,
            time.perf_counter() - started,
        )
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        if not isinstance(exc, ValueError):
            detail = f"{type(exc).__name__}: {detail}\n{traceback.format_exc(limit=3)}"
        return Outcome(
            task.run_key,
            task.point,
            task.seed,
            task.params,
            "failed",
            None,
            detail,
            time.perf_counter() - started,
        )


def _short(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[1:] if len(lines) > 1 else lines)


@dataclass(frozen=True, repr=False)
class SweepResult:
    """A finished (or resumed) sweep."""

    sweep_id: str
    grid: Grid
    outcomes: list[Outcome]  # every run of the sweep, including earlier sessions
    skipped: int  # runs already done before this call
    path: Path  # the sweep folder, with sweep.html

    @property
    def failed(self) -> list[Outcome]:
        """Runs that failed, with their parameters and errors."""
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def done(self) -> list[Outcome]:
        """Runs that completed."""
        return [o for o in self.outcomes if o.status == "done"]

    def _facts(self) -> list[tuple[str, str]]:
        return [
            ("base", str(self.grid.spec.sweep.base)),
            ("points", f"{len(self.grid.points):,}"),
            ("seeds", str(len(self.grid.seeds))),
            ("done", f"{len(self.done):,}"),
            ("failed", f"{len(self.failed):,}"),
        ]

    def __repr__(self) -> str:
        return notebook.summary_text(f"SweepResult {self.sweep_id}", self._facts())

    def _repr_html_(self) -> str:
        page = self.path / "sweep.html"
        failed = [
            (f"failed: point {o.point}, seed {o.seed}: {o.error}", True) for o in self.failed[:5]
        ]
        return notebook.summary_html(
            f"socialscore sweep {self.sweep_id}",
            self._facts(),
            failed,
            link=page if page.is_file() else None,
            note="socialscore.studies.sweep.values(result, store): every run's measures.",
        )


#: Where a store keeps the shared copy of the chart library its sweep runs' reports load.
ASSETS_DIR = "assets"


def share_chart_library(store: RunStore) -> str:
    """Write the store's shared copy of the chart library once; its URL from a run folder.

    A sweep's run reports (``--reports``) load it instead of inlining 4.8 MB each:
    still offline, but such a report works only beside the store's ``assets/``
    folder (``socialscore report RUN`` rewrites one whole).
    """
    name = report_page.chart_library_name()
    path = store.root / ASSETS_DIR / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, report_page.chart_library_text().encode("utf-8"))
    return f"../{ASSETS_DIR}/{name}"


def _local(todo: list[Task], workers: int, record: Callable[[Outcome], None]) -> None:
    """Run tasks on local worker processes, recording each outcome as it arrives.

    On any exception (Ctrl-C, SIGTERM, a dead worker) the queued tasks are
    cancelled, the workers are stopped, and the outcomes that had already
    arrived are recorded before the exception goes on.
    """
    previous = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by the workers at start
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )
    futures: list[Future[Outcome]] = []
    recorded: set[int] = set()
    try:
        futures = [pool.submit(execute, t) for t in todo]
        for future in as_completed(futures):
            outcome = future.result()
            recorded.add(id(future))
            record(outcome)
    except BaseException:
        # The pool's worker processes (a private attribute, there since Python 3.2):
        # shutdown() drops it, and cancels only the queued tasks, not the running ones.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        stop_processes(processes)
        for future in futures:
            if id(future) in recorded or not future.done() or future.cancelled():
                continue
            if future.exception() is None:
                record(future.result())
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        if previous is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = previous


def _ray(todo: list[Task], address: str, record: Callable[[Outcome], None]) -> None:
    """Run tasks as Ray tasks; on any exception the pending ones are cancelled."""
    try:
        import ray
    except ImportError:
        raise RuntimeError(ERR_RAY_MISSING) from None
    env = {"env_vars": {"NUMBA_NUM_THREADS": "1"}}
    if not ray.is_initialized():
        if address == "local":
            ray.init(runtime_env=env, include_dashboard=False)
        else:
            ray.init(address=address, runtime_env=env)
    remote = ray.remote(num_cpus=1)(execute).options(runtime_env=env)
    pending = [remote.remote(t) for t in todo]
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                record(ray.get(ref))
    except BaseException:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        raise


def sweep(
    grid_file: str | Path | Grid,
    *,
    out: str | Path = DEFAULT_ROOT,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    reports: bool = False,
) -> SweepResult:
    """Run every run of a grid that is not already done; write the sweep report.

    Args:
        grid_file: A grid file (or a loaded grid).
        out: The run store folder (runs and the catalogue go there).
        workers: Local worker processes, 1 to :data:`MAX_WORKERS` (default: one per
            usable core).
        ray_address: Run on Ray instead: an address, ``"auto"`` or ``"local"``.
        progress: Called as ``progress(done, failed, total)`` after each run.
        reports: Each run also writes its own report.html (about 5 MB each; without,
            ``socialscore report RUN`` writes one when it is wanted).

    Returns:
        The sweep, with every run's outcome.

    Raises:
        SweepStoppedError: On Ctrl-C, SIGTERM or a dead worker, after recording
            every finished run (rerunning the same grid resumes).
        SweepBusyError: If the same sweep is running in another process on this store.
    """
    check_workers(workers)
    grid = grid_file if isinstance(grid_file, Grid) else load_grid(grid_file)
    store = RunStore(out)
    store.check_writable()  # before any worker starts
    lock = store.root / SWEEP_LOCK.format(sweep_id=grid.sweep_id)
    with exclusive(lock, grid.sweep_id), stop_on_signals():
        return _sweep(
            grid,
            store,
            workers=workers,
            ray_address=ray_address,
            progress=progress,
            reports=reports,
        )


def _sweep(
    grid: Grid,
    store: RunStore,
    *,
    workers: int | None,
    ray_address: str | None,
    progress: Callable[[int, int, int], None] | None,
    reports: bool,
) -> SweepResult:
    shared = share_chart_library(store) if reports else None
    every = tasks(grid, store.root, reports=reports, chart_library=shared)
    # Identical points (a Morris design repeats some) are run once.
    unique = list({t.run_key: t for t in every}.values())
    _adopt(store, grid.sweep_id, unique, reconcile=True)
    known = store.sweep_runs(grid.sweep_id)
    finished = set(known.loc[known.status == "done", "run_key"]) if len(known) else set()
    todo = [t for t in unique if t.run_key not in finished]
    skipped = len(unique) - len(todo)
    counts = {"done": skipped, "failed": 0}
    if progress is not None:
        progress(skipped, 0, len(unique))

    def record(outcome: Outcome) -> None:
        store.register_sweep_run(grid.sweep_id, _row(outcome))
        counts["done" if outcome.status == "done" else "failed"] += 1
        if progress is not None:
            progress(counts["done"], counts["failed"], len(unique))

    if todo:
        try:
            if ray_address:
                _ray(todo, ray_address, record)
            else:
                _local(todo, check_workers(workers), record)
        except (KeyboardInterrupt, Terminated, BrokenProcessPool) as exc:
            # Runs a worker finished and catalogued whose outcome never reached us.
            _adopt(store, grid.sweep_id, unique, reconcile=True)
            raise _stopped(store, grid.sweep_id, len(unique), exc) from None
    rows = store.sweep_runs(grid.sweep_id).set_index("run_key")
    outcomes = []
    for t in every:  # one outcome per point and seed, sharing the run of an identical point
        if t.run_key not in rows.index:
            continue
        r = rows.loc[t.run_key]
        outcomes.append(
            Outcome(
                t.run_key,
                t.point,
                t.seed,
                t.params,
                str(r.status),
                r.run_id if isinstance(r.run_id, str) else None,
                r.error if isinstance(r.error, str) else None,
                float(r.seconds),
            )
        )
    path = store.root / "sweeps" / grid.sweep_id
    result = SweepResult(grid.sweep_id, grid, outcomes, skipped, path)
    write_report(result, store)
    return result


def _adopt(store: RunStore, sweep_id: str, unique: list[Task], *, reconcile: bool) -> int:
    """Record as done the catalogued runs of this sweep that ``sweep_runs`` lacks.

    A worker can finish (and catalogue) a run after its parent was killed, or
    just before the parent stopped; such a run carries the sweep id and its
    ``run_key`` in its tags and is adopted here instead of being run again.
    With ``reconcile``, complete run folders that a killed worker left
    uncatalogued are catalogued first.

    Returns:
        How many runs were adopted.
    """
    if reconcile:
        store.reconcile()
    known = store.sweep_runs(sweep_id)
    done = set(known.loc[known.status == "done", "run_key"]) if len(known) else set()
    wanted = {t.run_key: t for t in unique if t.run_key not in done}
    if not wanted:
        return 0
    adopted = 0
    for run in store.list_runs().itertuples():  # newest first
        try:
            tags = json.loads(run.tags or "{}")
        except (TypeError, ValueError):
            continue
        if not isinstance(tags, dict) or tags.get("sweep") != sweep_id:
            continue
        task = wanted.pop(str(tags.get("run_key")), None)
        if task is None:
            continue
        outcome = Outcome(
            task.run_key,
            task.point,
            task.seed,
            task.params,
            "done",
            str(run.run_id),
            None,
            float(run.wall_seconds),
        )
        store.register_sweep_run(sweep_id, _row(outcome))
        adopted += 1
    return adopted


def _stopped(store: RunStore, sweep_id: str, total: int, cause: BaseException) -> SweepStoppedError:
    """The one-line report of a stopped sweep, counting what the catalogue holds now."""
    rows = store.sweep_runs(sweep_id)
    done = int((rows.status == "done").sum()) if len(rows) else 0
    failed = int((rows.status == "failed").sum()) if len(rows) else 0
    if isinstance(cause, Terminated):
        signum: int | None = cause.signum
        why = signal.Signals(cause.signum).name
    elif isinstance(cause, KeyboardInterrupt):
        signum, why = signal.SIGINT, "Ctrl-C (SIGINT)"
    else:
        signum, why = None, "a worker process that died (killed, or out of memory)"
    message = MSG_SWEEP_STOPPED.format(
        sweep_id=sweep_id, cause=why, done=done, total=total, failed=failed
    )
    return SweepStoppedError(message, done=done, total=total, signum=signum)


def _row(o: Outcome) -> dict[str, Any]:
    return {
        "run_key": o.run_key,
        "point": o.point,
        "seed": o.seed,
        "params": json.dumps(o.params, sort_keys=True),
        "status": o.status,
        "run_id": o.run_id,
        "error": o.error,
        "seconds": o.seconds,
    }


def values(result: SweepResult, store: RunStore) -> pd.DataFrame:
    """Per-run metric values of a sweep, with the run's point, seed and parameters.

    Columns: point, seed, one column per parameter, metric, subject, grp, value.
    """
    done = result.done
    if not done:
        return pd.DataFrame()
    wanted = result.grid.spec.sweep.metrics or list(DEFAULT_METRICS)
    names = {m.split(":")[0] for m in wanted}
    metrics = store.metrics()
    metrics = metrics[metrics.run_id.isin([o.run_id for o in done]) & metrics.metric.isin(names)]
    keep = pd.Series(True, index=metrics.index)
    # A metric named with subjects keeps those subjects (several may be named: the
    # adverse-impact ratio at mortgage and at school); named alone, every subject.
    subjects: dict[str, set[str]] = {}
    for m in wanted:
        if ":" in m:
            name, subject = m.split(":", 1)
            subjects.setdefault(name, set()).add(subject)
    for name, named in subjects.items():
        keep &= ~((metrics.metric == name) & ~metrics.subject.isin(named))
    metrics = metrics[keep & (metrics.grp == "all")]
    runs = pd.DataFrame(
        [{"run_id": o.run_id, "point": o.point, "seed": o.seed, **o.params} for o in done]
    )
    frame = runs.merge(metrics, on="run_id")
    return frame.drop(columns=["run_id"]).reset_index(drop=True)


def per_seed(frame: pd.DataFrame, parameter: str) -> pd.DataFrame:
    """Each metric's value per seed at each value of one parameter.

    Runs at the same parameter value and seed are averaged over the other
    parameters. Columns: metric, subject, value (of the parameter), seed, mean.
    """
    grouped = frame.groupby(["metric", "subject", parameter, "seed"])["value"].mean()
    out = grouped.rename("mean").reset_index().rename(columns={parameter: "value"})
    return out[np.isfinite(out["mean"].to_numpy(dtype=np.float64))]


def summarise(frame: pd.DataFrame, parameter: str) -> pd.DataFrame:
    """Mean of each metric at each value of one parameter, with a 95% band across seeds.

    Runs at the same parameter value are averaged per seed (over the other
    parameters); the band is the Student t interval of the mean over seeds
    (:func:`socialscore.measures.intervals.mean_interval`), nan with one seed.
    """
    rows = []
    seeds = per_seed(frame, parameter)
    for (metric, subject, value), part in seeds.groupby(["metric", "subject", "value"]):
        got = mean_interval(part["mean"].to_numpy(dtype=np.float64))
        if got.n == 0:
            continue
        rows.append(
            {
                "metric": metric,
                "subject": subject,
                "value": value,
                "mean": got.mean,
                "ci_low": got.low,
                "ci_high": got.high,
                "seeds": got.n,
            }
        )
    return pd.DataFrame(rows)


def endpoint_changes(frame: pd.DataFrame, parameter: str) -> dict[tuple[str, str], EndpointChange]:
    """How each metric moved from the lowest to the highest value of a parameter, seed by seed.

    Every point runs on the same seeds (common random numbers), so the change
    is taken per seed and its interval is the t interval of those per-seed
    changes. A metric is left out where the parameter takes fewer than two values.

    Returns:
        The change of each ``(metric, subject)``.
    """
    out: dict[tuple[str, str], EndpointChange] = {}
    seeds = per_seed(frame, parameter)
    for (metric, subject), part in seeds.groupby(["metric", "subject"], sort=True):
        change = _change(part)
        if change is not None:
            out[(str(metric), str(subject))] = change
    return out


def endpoint_change(
    frame: pd.DataFrame, parameter: str, metric: str, subject: str
) -> EndpointChange | None:
    """One metric's move across a parameter (:func:`endpoint_changes`); None for one value."""
    seeds = per_seed(frame, parameter)
    return _change(seeds[(seeds.metric == metric) & (seeds.subject == subject)])


def _change(part: pd.DataFrame) -> EndpointChange | None:
    """The endpoint change of one metric's per-seed means (:func:`per_seed` rows)."""
    values = sorted(set(part["value"]))
    if len(values) < 2:
        return None
    low = part[part["value"] == values[0]].set_index("seed")["mean"]
    high = part[part["value"] == values[-1]].set_index("seed")["mean"]
    paired = (high - low).dropna().to_numpy(dtype=np.float64)
    return EndpointChange(
        float(values[0]),
        float(values[-1]),
        float(low.mean()),
        float(high.mean()),
        mean_interval(paired),
    )


def with_labels(frame: pd.DataFrame, cats: dict[str, list[str]]) -> pd.DataFrame:
    """The frame with each categorical parameter's values replaced by their labels."""
    if frame.empty or not cats:
        return frame
    out = frame.copy()
    for parameter in cats:
        out[parameter] = out[parameter].map(category_label)
    return out


def findings(result: SweepResult, store: RunStore) -> SweepFacts:
    """What the sweep found: its values, summaries, changes and sensitivity indices."""
    grid = result.grid
    cats = categories(grid)
    frame = with_labels(values(result, store), cats)
    design = grid.spec.sensitivity
    indices = pd.DataFrame()
    if design is not None and grid.design is not None:
        indices = sensitivity.indices(design, grid.design, frame, seed=grid.seeds[0])
    summaries: dict[str, pd.DataFrame] = {}
    changes: dict[tuple[str, str, str], EndpointChange] = {}
    if not frame.empty:
        if grid.spec.grid is not None:  # a sample design is read through its indices
            summaries = {p: summarise(frame, p) for p in grid.parameters}
        for parameter in grid.parameters:
            if parameter in cats:  # no "from low to high" across categories
                continue
            for (metric, subject), change in endpoint_changes(frame, parameter).items():
                changes[(parameter, metric, subject)] = change
    return SweepFacts(
        sweep_id=result.sweep_id,
        name=grid.spec.sweep.name,
        base=grid.spec.sweep.base,
        parameters=grid.parameters,
        points=len(grid.points),
        seeds=grid.seeds,
        done=len(result.done),
        skipped=result.skipped,
        failures=[Failure(o.point, o.seed, o.params, o.error) for o in result.failed],
        values=frame,
        categories=cats,
        summaries=summaries,
        changes=changes,
        indices=indices,
        method=design.method if design is not None else "",
        words={p: parameter_words(p, grid.base_data) for p in grid.parameters},
    )


def write_report(result: SweepResult, store: RunStore) -> Path:
    """Write ``ROOT/sweeps/<id>/`` (sweep.html, values and indices) complete or not at all."""
    facts = findings(result, store)
    page = build_sweep(facts)
    final = result.path
    with atomic_folder(final, replace=True) as tmp:
        (tmp / "sweep.html").write_text(page, encoding="utf-8")
        pq.write_table(
            pa.Table.from_pandas(facts.values, preserve_index=False), tmp / "values.parquet"
        )
        if not facts.indices.empty:
            pq.write_table(
                pa.Table.from_pandas(facts.indices, preserve_index=False), tmp / "indices.parquet"
            )
    return final
