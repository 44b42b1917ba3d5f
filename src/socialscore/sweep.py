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
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialscore.grid import Grid, apply, load_grid
from socialscore.intervals import MeanInterval, mean_interval
from socialscore.store import DEFAULT_ROOT, RunStore

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
    "--ray needs the optional Ray extra: pip install 'socialscore[ray]' "
    "(or run without --ray to use local processes)."
)


@dataclass(frozen=True)
class Task:
    """One run of a sweep: a point of the design on one seed."""

    sweep_id: str
    point: int
    seed: int
    params: dict[str, Any]
    scenario_json: str  # the base scenario with the point's values (not yet validated)
    out: str

    @property
    def run_key(self) -> str:
        """Identity of the run: same scenario data and seed → same key."""
        return hashlib.sha256(f"{self.scenario_json}|{self.seed}".encode()).hexdigest()[:16]


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

        from socialscore.api import parse_json, run
        from socialscore.scenario import Scenario, format_errors

        data = json.loads(task.scenario_json)
        data["run"]["seed"] = task.seed
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:  # a value the scenario rejects fails this run only
            raise ValueError(_short(format_errors(exc, "scenario"))) from None
        loaded = parse_json(scenario.model_dump_json(by_alias=True))
        tags = {"sweep": task.sweep_id, "point": task.point, "params": task.params}
        result = run(loaded, out=task.out, tags=tags)
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


def tasks(grid: Grid, out: str | Path) -> list[Task]:
    """Every (point, seed) run of a grid."""
    out_text = str(out)
    result = []
    for point in grid.points:
        data = apply(grid.base_data, point.params)
        text = json.dumps(data, sort_keys=True)
        for seed in grid.seeds:
            result.append(Task(grid.sweep_id, point.index, seed, point.params, text, out_text))
    return result


@dataclass(frozen=True)
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


def _local(todo: list[Task], workers: int) -> Iterator[Outcome]:
    previous = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by the workers at start
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures: list[Future[Outcome]] = [pool.submit(execute, t) for t in todo]
            for future in as_completed(futures):
                yield future.result()
    finally:
        if previous is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = previous


def _ray(todo: list[Task], address: str) -> Iterator[Outcome]:
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
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            yield ray.get(ref)


def sweep(
    grid_file: str | Path | Grid,
    *,
    out: str | Path = DEFAULT_ROOT,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> SweepResult:
    """Run every run of a grid that is not already done; write the sweep report.

    Args:
        grid_file: A grid file (or a loaded grid).
        out: The run store folder (runs and the catalogue go there).
        workers: Local worker processes (default: the machine's cores).
        ray_address: Run on Ray instead: an address, ``"auto"`` or ``"local"``.
        progress: Called as ``progress(done, failed, total)`` after each run.

    Returns:
        The sweep, with every run's outcome.
    """
    from socialscore.report.sweep import write_sweep_report

    grid = grid_file if isinstance(grid_file, Grid) else load_grid(grid_file)
    store = RunStore(out)
    every = tasks(grid, store.root)
    known = store.sweep_runs(grid.sweep_id)
    finished = set(known.loc[known.status == "done", "run_key"]) if len(known) else set()
    # Identical points (a Morris design repeats some) are run once.
    unique = list({t.run_key: t for t in every}.values())
    todo = [t for t in unique if t.run_key not in finished]
    skipped = len(unique) - len(todo)
    done, failed = skipped, 0
    if progress is not None:
        progress(done, failed, len(unique))
    if todo:
        runner = (
            _ray(todo, ray_address) if ray_address else _local(todo, workers or os.cpu_count() or 1)
        )
        for outcome in runner:
            store.register_sweep_run(grid.sweep_id, _row(outcome))
            if outcome.status == "done":
                done += 1
            else:
                failed += 1
            if progress is not None:
                progress(done, failed, len(unique))
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
    write_sweep_report(result, store)
    return result


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
    subjects = {m.split(":")[0]: m.split(":", 1)[1] for m in wanted if ":" in m}
    for name, subject in subjects.items():
        keep &= ~((metrics.metric == name) & (metrics.subject != subject))
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
    (:func:`socialscore.intervals.mean_interval`), nan with one seed.
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


@dataclass(frozen=True)
class EndpointChange:
    """A metric at the lowest and highest value of a parameter, and their paired difference."""

    low_value: float  # the parameter's lowest value
    high_value: float  # and its highest
    at_low: float  # the metric's mean over seeds there
    at_high: float
    difference: MeanInterval  # at_high - at_low, paired by seed, with its t interval


def endpoint_change(
    frame: pd.DataFrame, parameter: str, metric: str, subject: str
) -> EndpointChange | None:
    """How a metric moved from the lowest to the highest value of a parameter, seed by seed.

    Every point runs on the same seeds (common random numbers), so the change
    is taken per seed and its interval is the t interval of those per-seed
    changes. None when the parameter takes fewer than two values.
    """
    seeds = per_seed(frame, parameter)
    part = seeds[(seeds.metric == metric) & (seeds.subject == subject)]
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
