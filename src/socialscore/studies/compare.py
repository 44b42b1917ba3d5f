"""Compare regimes on the same people: same nation, same seeds, paired differences.

Every scenario is run on each seed; because draws are keyed by (seed, day,
citizen, stream), scenarios that share nation settings run on the same
synthetic people and see the same random numbers wherever their policies do
not differ (common random numbers). Differences against the first scenario
are therefore paired by seed: the interval of a difference is the Student t
interval of the per-seed differences (:mod:`socialscore.measures.intervals`), and each
scenario's mean carries the t interval of its per-seed values. With one seed
there is no interval, and the report says so.

Every run is tagged with a ``compare_key``: a digest of its fully resolved
scenario (population, days, seed and measurement window included) and the
package version. A catalogued run with the same key is reused instead of run
again, so a comparison stopped part way (Ctrl-C, SIGTERM, ``kill -9``) loses
only the run in progress: rerunning the same command reuses the others.
"""

from __future__ import annotations

import hashlib
import json
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from socialscore.analysis.definitions import HEADLINES
from socialscore.measures.intervals import mean_interval
from socialscore.report.comparison import ComparisonFacts, build_comparison
from socialscore.scenario.files import LoadedScenario, load
from socialscore.scenario.schema import Scenario
from socialscore.scenario.window import Window, measurement_window
from socialscore.store.catalogue import DEFAULT_ROOT, RunNotFoundError, RunStore
from socialscore.store.durable import atomic_folder
from socialscore.studies.defaults import DEFAULT_SEEDS
from socialscore.studies.run import Result, package_version, run
from socialscore.system import display as notebook
from socialscore.system.interrupts import Terminated, stop_on_signals

#: Folder of comparisons inside the run store.
COMPARISONS_DIR = "comparisons"

ERR_TOO_FEW = "compare needs at least two scenarios (got {count})."
ERR_NATION_DIFFERS = (
    "scenarios {a!r} and {b!r} describe different nations ([nation] or [run] differ), so they "
    "would not run on the same people; give them the same [nation] and [run] tables."
)
ERR_SEED_RANGE = (
    "--seed {first} with --seeds {count} needs seeds {first}..{last}, outside the seeds a "
    "scenario accepts ({why}); give a smaller --seed or fewer --seeds."
)
MSG_COMPARE_STOPPED = (
    "Comparison stopped by {cause}: {done} of {total} runs finished and stored; "
    "rerun the same command to reuse them."
)


class CompareStoppedError(Exception):
    """A comparison stopped by Ctrl-C or SIGTERM; its finished runs are stored for reuse."""

    def __init__(self, message: str, *, done: int, total: int, signum: int) -> None:
        """Keep the one-line message, the counts and the signal."""
        super().__init__(message)
        self.done = done
        self.total = total
        self.signum = signum


#: Chilling measures: a scenario that does not deter a behaviour forgoes none of it (0).
CHILLING_METRICS: Final[tuple[str, ...]] = ("chilling_forgone_share", "chilling_forgone_acts")

#: The measures compared: the headline measures of the registry.
HEADLINE_METRICS: Final[tuple[str, ...]] = HEADLINES


@dataclass(frozen=True, repr=False)
class Comparison:
    """Scenarios side by side: per-seed values, means, paired differences with intervals.

    ``table`` has one row per scenario and measure: ``mean`` over seeds with its
    t interval ``mean_low``, ``mean_high``; the paired ``difference`` against the
    first scenario with its t interval ``ci_low``, ``ci_high``; ``seeds``, the
    number of seeds that produced the measure. Bounds are nan with one seed.
    """

    compare_id: str
    path: Path  # the comparison folder, with comparison.html
    scenarios: list[str]
    seeds: list[int]
    runs: dict[tuple[str, int], str]  # (scenario, seed) -> run id
    values: pd.DataFrame  # scenario, seed, metric, subject, grp, value
    table: pd.DataFrame  # scenario, metric, subject, grp, mean(+low/high), difference, ci, seeds
    #: The events some compared regime's rules rate (the behaviours worth a row).
    rated_events: frozenset[str] | None = None

    def _facts(self) -> list[tuple[str, str]]:
        return [
            ("scenarios", ", ".join(self.scenarios)),
            ("seeds", str(len(self.seeds))),
            ("runs", str(len(self.runs))),
        ]

    def __repr__(self) -> str:
        return notebook.summary_text(f"Comparison {self.compare_id}", self._facts())

    def _repr_html_(self) -> str:
        page = self.path / "comparison.html"
        return notebook.summary_html(
            f"socialscore comparison {self.compare_id}",
            self._facts(),
            [(line, False) for line in self.findings()],
            link=page if page.is_file() else None,
            note="comparison.table: every measure's mean and paired difference with intervals.",
        )

    def findings(self) -> list[str]:
        """Headline measures whose paired difference's interval excludes 0, in words.

        The difference is against the first scenario; a measure whose interval
        holds 0 is not listed (no change is shown).
        """
        t = self.table
        base = self.scenarios[0]
        rows = t[
            (t.scenario != base)
            & t.metric.isin(HEADLINE_METRICS)
            & (t.grp == "all")
            & ((t.ci_low > 0) | (t.ci_high < 0))
        ]
        return [
            f"{r.scenario}: {r.metric.replace('_', ' ')}"
            + (f" ({r.subject})" if r.subject else "")
            + f" {'+' if r.difference > 0 else ''}{r.difference:.3g} against {base} "
            f"[{r.ci_low:.3g}, {r.ci_high:.3g}]"
            for r in rows.itertuples()
        ]

    def difference(self, scenario: str, metric: str, subject: str = "", grp: str = "all") -> float:
        """Mean paired difference of a metric, scenario minus the first scenario."""
        t = self.table
        hit = t[
            (t.scenario == scenario)
            & (t.metric == metric)
            & (t.subject == subject)
            & (t.grp == grp)
        ]
        return float(hit.difference.iloc[0]) if len(hit) else float("nan")


def _nation_key(sc: Scenario) -> str:
    return sc.nation.model_dump_json() + sc.run.model_dump_json(exclude={"days", "seed"})


def behaviour_rates(result: Result, window: Window | None = None) -> pd.DataFrame:
    """Events per citizen-day of each citizen event over ``window`` (default: the whole run).

    Compared across scenarios on the same draws, a lawful behaviour's rate
    against the no-scoring baseline's is the regime's chilling of it.
    """
    events = result.to_pandas("daily_events")
    events = events[events.entity == "citizen"]
    groups = result.to_pandas("daily_groups")
    if window is not None:
        events = events[window.mask(events.day)]
        groups = groups[window.mask(groups.day)]
    citizen_days = float(groups.citizens.sum())
    per = events.groupby("event", sort=True)["events"].sum() / max(citizen_days, 1.0)
    out = pd.DataFrame(
        {"metric": "behaviour_rate", "subject": per.index, "grp": "all", "value": per.values}
    )
    if window is not None:
        out["day_from"] = window.start
        out["day_to"] = window.end
    return out


def common_window(scenarios: Sequence[Scenario]) -> Window:
    """The days every scenario's measurement window covers: from the latest start."""
    windows = [measurement_window(sc) for sc in scenarios]
    latest = max(windows, key=lambda w: w.start)
    return Window(
        latest.start,
        min(w.end for w in windows),
        latest.covered_from,
        f"the latest of the compared scenarios' windows ({latest.why})",
    )


def compare(
    scenarios: Sequence[str | Path | LoadedScenario],
    *,
    population: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    seeds: int = DEFAULT_SEEDS,
    measure_from: int | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run every scenario on the same nation and seeds, and compare them.

    Args:
        scenarios: Two or more scenarios (names, files or loaded scenarios);
            differences are taken against the first.
        population: Number of citizens (overrides the files).
        days: Number of simulated days (overrides the files).
        seed: First seed (default: the first scenario's seed).
        seeds: How many seeds (``seed``, ``seed + 1``, ...); intervals need at
            least two, and five (the default) give a usable one.
        measure_from: First day of the measurement window of every scenario
            (default: the latest start of their own windows).
        out: The run store folder; every run is stored and catalogued.
        progress: Called as ``progress(runs_done, runs_total)``.

    Returns:
        The comparison.
    """
    if len(scenarios) < 2:
        raise ValueError(ERR_TOO_FEW.format(count=len(scenarios)))
    loaded = [s if isinstance(s, LoadedScenario) else load(s) for s in scenarios]
    names = [item.scenario.scenario.name for item in loaded]
    first = loaded[0].scenario.with_overrides(population=population, days=days)
    for other in loaded[1:]:
        sc = other.scenario.with_overrides(population=population, days=days)
        if _nation_key(sc) != _nation_key(first):
            raise ValueError(ERR_NATION_DIFFERS.format(a=names[0], b=sc.scenario.name))
    window = common_window(
        [
            item.scenario.with_overrides(
                population=population, days=days, measure_from=measure_from
            )
            for item in loaded
        ]
    )
    base_seed = first.run.seed if seed is None else seed
    seed_list = [base_seed + k for k in range(seeds)]
    _check_seeds(first, seed_list)
    store = RunStore(out)
    store.reconcile()  # catalogue runs a killed comparison stored but did not catalogue
    stored = _stored_runs(store)
    plan = []  # (scenario name, loaded, seed, resolved scenario, compare_key) of every run
    for s in seed_list:
        for name, item in zip(names, loaded, strict=True):
            effective = item.scenario.with_overrides(
                population=population, days=days, seed=s, measure_from=window.start
            )
            plan.append((name, item, s, effective, run_key(effective)))
    rows: list[pd.DataFrame] = []
    runs: dict[tuple[str, int], str] = {}
    total = len(plan)
    done = 0
    try:
        with stop_on_signals():
            for name, item, s, effective, key in plan:
                result = _reuse(store, stored.get(key), effective)
                if result is None:
                    result = run(
                        item,
                        population=population,
                        days=days,
                        seed=s,
                        measure_from=window.start,  # every scenario over the same days
                        out=out,
                        tags={"compare": names, "seed": s, "compare_key": key},
                    )
                runs[(name, s)] = result.run_id
                m = result.metrics.to_pandas()
                m = m[m.metric.isin(HEADLINE_METRICS)]
                part = pd.concat([m, behaviour_rates(result, window)], ignore_index=True)
                part.insert(0, "seed", s)
                part.insert(0, "scenario", name)
                rows.append(part)
                done += 1
                if progress is not None:
                    progress(done, total)
    except (KeyboardInterrupt, Terminated) as exc:
        store.reconcile()  # a run stopped between its folder and its catalogue rows
        now = _stored_runs(store)
        done = len({key for *_, key in plan if key in now})
        signum = exc.signum if isinstance(exc, Terminated) else int(signal.SIGINT)
        cause = "Ctrl-C (SIGINT)" if signum == signal.SIGINT else signal.Signals(signum).name
        message = MSG_COMPARE_STOPPED.format(cause=cause, done=done, total=total)
        raise CompareStoppedError(message, done=done, total=total, signum=signum) from None
    values = _nothing_deterred(pd.concat(rows, ignore_index=True))
    table = _summarise(values, names)
    compare_id = store.new_run_id("compare-" + "-".join(names))
    rated = frozenset(
        e for item in loaded for r in item.scenario.rules for e in (r.event, r.cleared_by) if e
    )
    facts = ComparisonFacts(
        compare_id, first.run.population, first.run.days, window.label(), window.why, rated
    )
    path = write_comparison(store.root, facts, names, seed_list, values, table)
    store.register_comparison(compare_id, table)
    return Comparison(compare_id, path, names, seed_list, runs, values, table, rated)


def run_key(scenario: Scenario) -> str:
    """Identity of a compared run: its fully resolved scenario and the package version.

    The resolved scenario holds the population, days, seed and measurement
    window, so two runs with the same key are the same computation.
    """
    text = f"{package_version()}|{scenario.model_dump_json(by_alias=True)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_seeds(first: Scenario, seeds: list[int]) -> None:
    """Refuse, before any run, a seed range that leaves the seeds a scenario accepts."""
    for s in (seeds[0], seeds[-1]) if seeds else ():
        try:
            first.with_overrides(seed=s)
        except ValidationError as exc:
            why = "; ".join(f"seed {s}: {err['msg']}" for err in exc.errors())
            raise ValueError(
                ERR_SEED_RANGE.format(first=seeds[0], count=len(seeds), last=seeds[-1], why=why)
            ) from None


def _stored_runs(store: RunStore) -> dict[str, pd.Series]:
    """Catalogued runs made by a comparison, by their ``compare_key`` (the newest of each)."""
    found: dict[str, pd.Series] = {}
    runs = store.list_runs()  # newest first
    for _, row in runs.iterrows():
        try:
            tags = json.loads(row["tags"] or "{}")
        except (TypeError, ValueError):
            continue
        key = tags.get("compare_key") if isinstance(tags, dict) else None
        if isinstance(key, str):
            found.setdefault(key, row)
    return found


def _reuse(store: RunStore, row: pd.Series | None, scenario: Scenario) -> Result | None:
    """A stored run as a result (its tables are read from its folder); None to run afresh."""
    if row is None:
        return None
    run_id = str(row["run_id"])
    try:
        path = store.run_path(run_id)
        metrics = store.load_table(run_id, "metrics")
    except (RunNotFoundError, OSError):
        return None
    return Result(
        run_id=run_id,
        path=path,
        scenario=scenario,
        tables={},
        metrics=metrics,
        wall_seconds=float(row["wall_seconds"]),
        population=int(row["population"]),
        companies=int(row["companies"]),
    )


def write_comparison(
    root: Path,
    facts: ComparisonFacts,
    names: list[str],
    seeds: list[int],
    values: pd.DataFrame,
    table: pd.DataFrame,
) -> Path:
    """Write ``ROOT/comparisons/<id>/`` (report and tables) complete or not at all."""
    final = root / COMPARISONS_DIR / facts.compare_id
    page = build_comparison(table, names, seeds, facts)
    with atomic_folder(final) as tmp:
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
        pq.write_table(
            pa.Table.from_pandas(table, preserve_index=False), tmp / "comparison.parquet"
        )
        pq.write_table(pa.Table.from_pandas(values, preserve_index=False), tmp / "values.parquet")
    return final


def _nothing_deterred(values: pd.DataFrame) -> pd.DataFrame:
    """Add the chilling rows a run lacks because it deters nothing of that behaviour: 0.

    A behaviour a regime does not penalise is not chilled (its forgone share
    and acts are exactly 0), so its paired difference is defined.
    """
    key = ["metric", "subject", "grp"]
    chill = values[values.metric.isin(CHILLING_METRICS)]
    if chill.empty:
        return values
    runs = values[["scenario", "seed"]].drop_duplicates()
    every = runs.merge(chill[key].drop_duplicates(), how="cross")
    have = chill[["scenario", "seed", *key]]
    missing = every.merge(have, how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
    if missing.empty:
        return values
    missing["value"] = 0.0
    return pd.concat([values, missing], ignore_index=True)


def _summarise(values: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Per scenario and measure: the mean over seeds and the paired difference, with t intervals."""
    key = ["metric", "subject", "grp"]
    wide = values.pivot_table(index=[*key, "seed"], columns="scenario", values="value")
    out: list[dict[str, Any]] = []
    for idx, part in wide.groupby(level=[0, 1, 2], sort=True):
        metric, subject, grp = idx
        base = part[names[0]].to_numpy(dtype=np.float64) if names[0] in part else None
        for name in names:
            if name not in part:
                continue
            vals = part[name].to_numpy(dtype=np.float64)
            level = mean_interval(vals)
            # Paired by seed: a seed where either scenario lacks the measure drops out.
            diff = mean_interval(vals - base) if base is not None else mean_interval([])
            out.append(
                {
                    "scenario": name,
                    "metric": metric,
                    "subject": subject,
                    "grp": grp,
                    "mean": level.mean,
                    "mean_low": level.low,
                    "mean_high": level.high,
                    "difference": diff.mean,
                    "ci_low": diff.low,
                    "ci_high": diff.high,
                    "seeds": diff.n if name != names[0] else level.n,
                }
            )
    return pd.DataFrame(out)
