"""Why was this person denied? A citizen's decision trail, replayed from a stored run.

:func:`trails` runs a stored run again (same resolved scenario, same seed:
the same days, exactly) with a :class:`~socialscore.simulation.trace.Tracer`
on the chosen citizens and reads their stories
(:mod:`socialscore.analysis.trails`); :func:`sample` finds telling cases in
the run's story pool; :func:`write_page` writes a trail's offline page.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from socialscore.analysis.trails import Case, Trail, pick_cases, read_trails, story_pool
from socialscore.report import trail as trail_page
from socialscore.scenario.window import measurement_window
from socialscore.simulation import nation as nation_module
from socialscore.simulation.engine import Engine
from socialscore.simulation.layout import layout as layout_of
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.trace import Tracer
from socialscore.store.catalogue import DEFAULT_ROOT, RunStore
from socialscore.studies.rerun import load_stored

__all__ = [
    "replay",
    "sample",
    "trails",
    "write_page",
]


def replay(
    run_id: str,
    citizens: Sequence[int] | None,
    *,
    out: str | Path = DEFAULT_ROOT,
    progress: Callable[[int, int], None] | None = None,
) -> list[Trail]:
    """Replay a stored run tracing ``citizens`` (None: the story pool, :func:`story_pool`).

    ``run_id`` is the run's id, a unique start of it, or ``latest``.
    """
    store = RunStore(out)
    run_id = store.resolve(run_id)
    folder = store.run_path(run_id)
    stored = load_stored(folder, run_id)
    sc = stored.loaded.scenario
    nat = nation_module.generate(sc)
    ids = story_pool(nat.population, sc.run.days) if citizens is None else citizens
    tracer = Tracer(
        ids, population=nat.population, days=sc.run.days, rules=layout_of(sc).accumulators
    )
    engine = Engine(sc, nat, tracer=tracer)
    tracer.start(engine.state, nat)
    recorder = Recorder(sc, nat)
    total = sc.run.days
    engine.run(recorder, None if progress is None else lambda d: progress(d + 1, total))
    return read_trails(run_id, engine, tracer)


def sample(
    run_id: str,
    *,
    out: str | Path = DEFAULT_ROOT,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Case], int]:
    """Telling cases of a stored run, found by replaying its story pool; and the pool's size.

    ``run_id`` is the run's id, a unique start of it, or ``latest``.
    """
    store = RunStore(out)
    run_id = store.resolve(run_id)
    scenario = load_stored(store.run_path(run_id), run_id).loaded.scenario
    found = replay(run_id, None, out=out, progress=progress)
    start = measurement_window(scenario).start
    return pick_cases(found, window_start=start), len(found)


def trails(
    run_id: str,
    citizens: Sequence[int],
    *,
    out: str | Path = DEFAULT_ROOT,
    progress: Callable[[int, int], None] | None = None,
) -> list[Trail]:
    """Replay a stored run with tracing on ``citizens``; their trails, in the order given.

    ``run_id`` is the run's id, a unique start of it, or ``latest``.

    Raises:
        socialscore.store.catalogue.RunNotFoundError: No run ``run_id`` in the store at
            ``out`` (a LookupError).
        ValueError: A citizen id outside the run's population.
        RerunError: The run folder cannot be replayed (older version, changed files).
    """
    run_id = RunStore(out).resolve(run_id)
    kept = _kept(run_id, citizens, out)
    if kept is not None:
        return kept
    return replay(run_id, citizens, out=out, progress=progress)


def _kept(run_id: str, citizens: Sequence[int], out: str | Path) -> list[Trail] | None:
    """The trails a run kept by name (``run(trace=...)``), if it kept every one asked for."""
    path = RunStore(out).run_path(run_id) / "trails.parquet"
    if not path.is_file():
        return None
    table = pq.read_table(path).to_pylist()
    by_id = {int(r["citizen"]): r["trail"] for r in table}
    if not all(int(c) in by_id for c in citizens):
        return None
    return [
        dataclasses.replace(Trail.from_dict(json.loads(by_id[int(c)])), run_id=run_id)
        for c in citizens
    ]


def write_page(trail: Trail, folder: Path) -> Path:
    """Write the trail's offline page into ``folder`` (made if missing), whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{trail.run_id}-citizen-{trail.citizen}.html"
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(trail_page.page(trail), encoding="utf-8")
    os.replace(partial, path)
    return path
