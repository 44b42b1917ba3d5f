"""The Python API: run a scenario and get its tables back."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from socialscore import report as report_page
from socialscore.analysis import accountability, groups, harms
from socialscore.analysis import audit as audit_checks
from socialscore.analysis import decomposition as split
from socialscore.analysis import trails as story
from socialscore.analysis.definitions import MetricName, check_name
from socialscore.report.headlines import headlines
from socialscore.scenario.files import LoadedScenario, digest, load, parse
from socialscore.scenario.schema import Scenario
from socialscore.scenario.to_toml import scenario_toml
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.layout import layout as layout_of
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.trace import Tracer
from socialscore.store.catalogue import DEFAULT_ROOT, RunMeta, RunStore
from socialscore.studies import decomposition as reruns
from socialscore.studies import environment, flips, resources
from socialscore.studies import rerun as rerun_check
from socialscore.system import display as notebook

#: ``LoadedScenario.path`` of a scenario given from Python as a model or JSON.
PYTHON_SOURCE = "<python>"
ERR_NO_DISPUTES = (
    "scenario '{scenario}' has no disputes (data_errors.dispute_rate is 0): nothing to break "
    "down. Fix: set data_errors.dispute_rate above 0, or pick a gate."
)


def package_version() -> str:
    """The installed socialscore version."""
    try:
        return version("socialscore")
    except PackageNotFoundError:
        return "0+unknown"


#: The charts ``Result.plot`` draws, as the run report names them.
CHART_KEYS = (
    "scores",
    "grades",
    "gates",
    "gate_months",
    "transitions",
    "rankrank",
    "chilling",
    "network",
    "privacy",
    "companies",
)
ERR_NO_CHART = "No chart {name!r}; charts: {known}."
ERR_NO_TABLE = "No table {name!r} in run {run_id}; tables: {known}."


@dataclass(frozen=True, repr=False)
class Result:
    """A finished run: where it is stored, its tables and its metrics.

    In a notebook it shows its headline findings and a link to its report;
    ``plot(chart)`` draws one of the report's charts; ``table(name)`` and
    ``to_pandas(name)`` give any of its tables.
    """

    run_id: str
    path: Path
    scenario: Scenario
    tables: dict[str, pa.Table]
    metrics: pa.Table
    wall_seconds: float
    population: int
    companies: int
    #: The split of each gate's selection gap (``decompose=True``, and every audit), else None.
    decomposition: split.Decomposition | None = None

    def table(self, name: str) -> pa.Table:
        """One of the run's tables as Arrow (``daily``, ``daily_gates``, ``citizens``, ...).

        The per-citizen snapshot ``citizens`` is read from the run folder.
        """
        if name == "metrics":
            return self.metrics
        if name in self.tables:
            return self.tables[name]
        path = self.path / f"{name}.parquet"
        if path.is_file():
            return pq.read_table(path)
        known = ", ".join(sorted([*self.tables, "citizens", "metrics"]))
        raise KeyError(ERR_NO_TABLE.format(name=name, run_id=self.run_id, known=known))

    def _facts(self) -> list[tuple[str, str]]:
        sc = self.scenario
        return [
            ("regime", sc.scenario.name),
            ("citizens", f"{self.population:,}"),
            ("days", f"{sc.run.days:,}"),
            ("seed", str(sc.run.seed)),
        ]

    def __repr__(self) -> str:
        return notebook.summary_text(f"Result {self.run_id}", self._facts())

    def _repr_html_(self) -> str:
        found = headlines(self.metrics.to_pandas())
        report = self.path / "report.html"
        return notebook.summary_html(
            f"socialscore run {self.run_id}",
            self._facts(),
            [(h.text, h.alarm) for h in found],
            link=report if report.is_file() else None,
            note=f"{len(self.tables) + 1} tables: result.table(name), result.to_pandas(name); "
            f"charts: result.plot(name), name one of {', '.join(CHART_KEYS)}.",
        )

    def plot(self, chart: str = "scores") -> Any:
        """One of the run report's charts as a plotly Figure (``fig.show()`` draws it).

        ``chart``: one of :data:`CHART_KEYS` — scores over time, grade shares,
        gate approval rates by group, the monthly disparity, grade transitions,
        start-against-end ranks, chilling, followers lost, the privacy ROC
        curve, company scores.

        Raises:
            KeyError: No such chart (the message lists them).
        """
        if chart not in CHART_KEYS:
            raise KeyError(ERR_NO_CHART.format(name=chart, known=", ".join(CHART_KEYS)))
        import plotly.graph_objects as go

        needed = ("daily", "daily_grades", "daily_events", "daily_groups", "companies")
        tables = {name: self.table(name) for name in needed}
        tables["citizens"] = self.table("citizens")
        if "gate_months" in self.tables or (self.path / "gate_months.parquet").is_file():
            tables["gate_months"] = self.table("gate_months")
        facts = report_page.RunFacts(
            self.run_id, self.population, self.companies, self.scenario.run.days,
            self.scenario.run.seed,
        )  # fmt: skip
        drawn = report_page.run_charts(self.scenario, tables, self.metrics, facts)
        return go.Figure(next(c.figure for c in drawn if c.key == chart))

    def to_pandas(self, name: str) -> pd.DataFrame:
        """One of the run's tables as a pandas DataFrame."""
        return self.table(name).to_pandas()

    def harms_by(
        self,
        gate: str,
        by: str | tuple[str, str],
        *,
        level: float = 0.95,
        min_decisions: int = groups.MIN_DECISIONS,
    ) -> groups.GroupFrame:
        """One gate's decisions by any citizen attribute, or by two (an intersection).

        ``by``: ``group``, ``income_decile``, ``age_band``, ``children``,
        ``participant``, ``aware`` or ``region``, or a pair of the first six,
        e.g. ``("group", "income_decile")``. The result, like Fairlearn's
        MetricFrame, has ``by_group()``, ``group_min()``, ``group_max()``,
        ``difference()`` and ``ratio()``, each with its interval, over the
        measurement window (docs/model.md, "Harms by any group").
        ``gate="disputes"``: the disputes of erroneous records instead, a
        dispute settled counting as a decision and one upheld as going the
        citizen's way (:func:`socialscore.analysis.groups.disputes_by`).

        Raises:
            ValueError: ``"disputes"`` for a run whose scenario has no disputes.
        """
        members = None if by == "region" else self.table("cell_members")
        if gate == groups.DISPUTES:
            if not self.scenario.data_errors.dispute_rate > 0:
                raise ValueError(ERR_NO_DISPUTES.format(scenario=self.scenario.scenario.name))
            disputes = self.table("dispute_regions" if by == "region" else "dispute_cells")
            return groups.disputes_by(
                disputes, by, members=members, level=level, min_decisions=min_decisions
            )
        table = self.table("gate_regions" if by == "region" else "gate_cells")
        return groups.harms_by(
            table, gate, by, members=members, level=level, min_decisions=min_decisions
        )

    def metric(self, metric: MetricName, *, subject: str = "", grp: str = "all") -> float:
        """One metric's value (nan when the run did not produce it for that subject and group).

        Raises:
            KeyError: If ``metric`` is not a metric socialscore computes (with a did-you-mean).
        """
        check_name(metric)
        return harms.metric_value(self.metrics.to_pandas(), metric, subject, grp)


def run(
    scenario: str | Path | LoadedScenario | Scenario | None = None,
    *,
    population: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    measure_from: int | None = None,
    out: str | Path = DEFAULT_ROOT,
    tags: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
    decompose: bool = False,
    trace: Sequence[int] | None = None,
    report: bool = True,
    chart_library: str | None = None,
) -> Result:
    """Run a scenario on its synthetic nation and store the run.

    Args:
        scenario: A shipped scenario's name, a scenario file, or a loaded
            scenario; ``None`` runs the default ``citizen-score`` regime.
        population: Number of citizens (overrides the file).
        days: Number of simulated days (overrides the file).
        seed: Random seed (overrides the file).
        measure_from: First day of the measurement window (overrides the
            file's ``recording.measure_from_day``; see :mod:`socialscore.scenario.window`).
        out: The run store folder; the run is written to ``out/<run_id>/``
            and registered in ``out/catalogue.duckdb``.
        tags: Extra labels stored with the run in the catalogue.
        progress: Called as ``progress(days_done, days_total)`` after each day.
        force: Run even when the estimated memory or disk exceeds what the
            machine has (:mod:`socialscore.studies.resources`).
        decompose: Also split each citizen gate's selection gap into the part the
            assumed group differences explain and the part the regime adds
            (:mod:`socialscore.analysis.decomposition`): reruns the scenario at the
            same size and seed without them, ``1 + k`` more runs for ``k``
            assumptions (one when ``k`` is 1); the parts join the metrics table
            and the report.
        trace: Citizens whose decision trails the run keeps (table ``trails``;
            ``socialscore explain`` then reads them without replaying the run).
        report: Write the run's report.html (a sweep's runs do not unless asked;
            :func:`rebuild_report` writes it later from the stored tables).
        chart_library: The report loads this shared copy of the chart library
            (a URL relative to the run folder) instead of inlining its own.

    Returns:
        The finished run.

    Raises:
        OutputLocationError: If ``out`` cannot hold runs (checked before simulating).
        DiskFullError: If the disk fills up while the run is written.
        socialscore.studies.resources.ResourceError: Before simulating, when the run
            would not fit (unless ``force``).
    """
    loaded = _load(scenario)
    sc = loaded.scenario.with_overrides(
        population=population, days=days, seed=seed, measure_from=measure_from
    )
    RunStore(out).check_writable()  # before minutes of simulation, not after
    guess = resources.estimate(sc)
    if decompose:
        guess = reruns.estimate(sc, guess)
    resources.check(guess, force=force, out=out, audience="api")
    sim = _simulate(sc, progress, trace)
    if decompose:
        _decompose(sc, sim)
    return _store(
        loaded,
        sc,
        sim,
        out=out,
        tags=tags,
        trace=trace,
        report=report,
        chart_library=chart_library,
    )


@dataclass
class _Simulation:
    engine: Engine
    recorder: Recorder
    tables: dict[str, pa.Table]
    analysis: dict[str, pa.Table]
    metrics: pa.Table
    wall_seconds: float
    decomposition: split.Decomposition | None = None
    trails: list[story.Trail] = dataclasses.field(default_factory=list)  # the story pool


def _decompose(
    sc: Scenario, sim: _Simulation, progress: Callable[[str], None] | None = None
) -> split.Decomposition:
    """Split the run's gate gaps (reruns without the assumed group differences)."""
    result = reruns.decompose(sc, sim.tables["gate_replicates"], progress=progress)
    sim.decomposition = result
    sim.metrics = pa.concat_tables([sim.metrics, split.metrics_table(result)])
    return result


def _simulate(
    sc: Scenario,
    progress: Callable[[int, int], None] | None,
    trace: Sequence[int] | None = None,
) -> _Simulation:
    started = time.perf_counter()
    nat = nation.generate(sc)
    # A few citizens' days are kept to find the report's stories (studies.explain).
    pool_ids = story.story_pool(nat.population, sc.run.days)
    named = sorted(set(int(i) for i in trace)) if trace else []
    tracer = Tracer(
        sorted(set(pool_ids) | set(named)),
        population=nat.population,
        days=sc.run.days,
        rules=layout_of(sc).accumulators,
    )
    engine = Engine(sc, nat, tracer=tracer)
    tracer.start(engine.state, nat)
    recorder = Recorder(sc, nat)
    total = sc.run.days
    engine.run(recorder, None if progress is None else lambda d: progress(d + 1, total))
    tables = recorder.tables(engine.state)
    everyone = story.read_trails("", engine, tracer)
    in_pool = set(pool_ids)
    pool = [t for t in everyone if t.citizen in in_pool]
    tables["people"] = story.people_table(
        story.pick_cases(pool, window_start=recorder.window.start)
    )
    if named:
        chosen = set(named)
        tables["trails"] = story.trails_table([t for t in everyone if t.citizen in chosen])
    core = recorder.citizens_core(engine.state)
    analysis = {**tables, "citizens": core}
    metric_table = harms.compute(sc, analysis, nat.friend_blocks(engine.state.friend_codes))
    tables["gate_months"] = analysis["gate_months"] = harms.gate_months(analysis)
    window = recorder.window
    subgroups = groups.subgroup_tables(
        tables["gate_cells"],
        tables["cell_members"],
        regions=tables.get("gate_regions"),
        day_from=window.start,
        day_to=window.end,
    )
    if "dispute_cells" in tables:
        subgroups.update(
            groups.dispute_tables(
                tables["dispute_cells"],
                tables["cell_members"],
                regions=tables.get("dispute_regions"),
                day_from=window.start,
                day_to=window.end,
            )
        )
    tables.update(subgroups)
    analysis.update(subgroups)
    return _Simulation(
        engine=engine,
        recorder=recorder,
        tables=tables,
        analysis=analysis,
        metrics=metric_table,
        wall_seconds=time.perf_counter() - started,
        trails=pool,
    )


def _store(
    loaded: LoadedScenario,
    sc: Scenario,
    sim: _Simulation,
    *,
    out: str | Path,
    tags: dict[str, Any] | None,
    audit_table: pa.Table | None = None,
    thresholds: audit_checks.Thresholds | None = None,
    trace: Sequence[int] | None = None,
    report: bool = True,
    chart_library: str | None = None,
) -> Result:
    nat = sim.engine.nation
    total = sc.run.days
    store = RunStore(out)
    run_id = store.new_run_id(sc.scenario.name)
    resolved = sc.model_dump_json(by_alias=True, indent=2)
    meta = RunMeta(
        run_id=run_id,
        scenario_name=sc.scenario.name,
        scenario_sha256=loaded.sha256,
        seed=sc.run.seed,
        population=nat.population,
        companies=nat.companies,
        days=total,
        created_at=datetime.now(UTC),
        wall_seconds=sim.wall_seconds,
        version=package_version(),
        tags=dict(tags or {}),
    )
    page = None
    if report:
        facts = report_page.RunFacts(run_id, nat.population, nat.companies, total, sc.run.seed)
        page = report_page.build(
            sc, sim.analysis, sim.metrics, facts, audit=audit_table, chart_library=chart_library
        )
    tables = dict(sim.tables)
    if audit_table is not None:
        tables["audit"] = audit_table
    run_doc: dict[str, Any] = {
        "population": nat.population,
        "days": total,
        "seed": sc.run.seed,
        "source": loaded.path,
    }
    if trace:
        run_doc["trace"] = sorted(set(int(i) for i in trace))  # rerun traces them again
    if thresholds is not None:
        run_doc["audit_thresholds"] = dataclasses.asdict(thresholds)
    elif sim.decomposition is not None:
        run_doc["decompose"] = True  # rerun makes it again
    with store.writing(run_id) as writer:
        if page is not None:
            writer.write_text("report.html", page)
        # The scenario as it ran (extends merged, options applied), as TOML that
        # `socialscore run` reads; the file as given is kept beside it.
        writer.write_text("scenario.toml", scenario_toml(sc, header=_header(run_id, loaded)))
        if loaded.path != PYTHON_SOURCE:
            writer.write_text("scenario.source.toml", loaded.text)
        writer.write_text("scenario.resolved.json", resolved)
        writer.write_text("scenario.sha256", digest(sc) + "\n")
        writer.write_text(environment.ENVIRONMENT_FILE, environment.to_json(environment.record()))
        writer.write_text("run.json", json.dumps(run_doc, indent=2))
        for name, table in tables.items():
            writer.write_table(name, table)
        core = sim.analysis["citizens"]
        writer.write_batches("citizens", sim.recorder.citizen_batches(sim.engine.state, core))
        path = writer.finish(meta, sim.metrics)
    return Result(
        run_id=run_id,
        path=path,
        scenario=sc,
        tables=tables,
        metrics=sim.metrics,
        wall_seconds=sim.wall_seconds,
        population=nat.population,
        companies=nat.companies,
        decomposition=sim.decomposition,
    )


def audit_regime(
    scenario: str | Path | LoadedScenario | Scenario | None = None,
    *,
    population: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    measure_from: int | None = None,
    thresholds: audit_checks.Thresholds | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: Callable[[str], None] | None = None,
    tags: dict[str, Any] | None = None,
) -> tuple[audit_checks.Audit, Result]:
    """Audit a regime against the law and measure its harms; store the run with the audit.

    Runs the regime (stored, with an audit section in its report), its
    no-scoring counterfactual on the same random numbers (for chilling), the
    regime again with 1% of records made worse (for guilt by association), and
    the regime without its assumed group differences, all of them and each
    alone (the decomposition of every gate's selection gap; ``1 + k`` runs for
    ``k`` assumptions, one when ``k`` is 1).

    Args:
        scenario: A shipped scenario's name, a file, or a loaded scenario.
        population: Number of citizens (overrides the file).
        days: Number of simulated days (overrides the file).
        seed: Random seed (overrides the file).
        measure_from: First day of the measurement window (overrides the file).
        thresholds: The auditor's bounds.
        out: The run store folder.
        progress: Called with the name of each stage as it starts.
        tags: Extra labels stored with the run in the catalogue (besides ``audit``).

    Returns:
        The audit and the stored run of the regime.
    """
    t = thresholds or audit_checks.Thresholds()
    say = progress or (lambda _stage: None)
    loaded = _load(scenario)
    sc = loaded.scenario.with_overrides(
        population=population, days=days, seed=seed, measure_from=measure_from
    )
    RunStore(out).check_writable()  # before minutes of simulation, not after
    say("running the regime")
    sim = _simulate(sc, None)
    say("running the no-scoring counterfactual")
    _, baseline = audit_checks.simulate(audit_checks.counterfactual(sc))
    say("checking guilt by association")
    association = audit_checks.association_check(sc, sim.engine.state.score, t)
    say("splitting each gate's gap: the assumed group differences against the regime")
    decomposition = _decompose(sc, sim)
    result = audit_checks.Audit(sc.scenario.name, decomposition=decomposition)
    result.checks += audit_checks.legal_checks(sc, t, sim.tables["daily_gates"])
    window = sim.recorder.window
    say("replaying sampled refusals with their explanations acted on")
    replayed = flips.replay_flips(sc, flips.sample(sim.trails, window))
    result.checks += accountability.explanation_checks(sc, sim.trails, window, replayed.flipped)
    result.checks += accountability.scorer_checks(sc, sim.trails, window)
    result.checks.append(association)
    result.checks += audit_checks.harm_checks(
        sc, sim.metrics, sim.recorder.events, baseline.events, t
    )
    say("writing the run and its report")
    stored = _store(
        loaded,
        sc,
        sim,
        out=out,
        tags={**(tags or {}), "audit": True},
        audit_table=result.table(),
        thresholds=t,
    )
    return result, stored


REPORT_TABLES = (
    "daily",
    "daily_groups",
    "daily_grades",
    "daily_events",
    "daily_gates",
    "reasons",
    "companies",
)


def open_run(run_id: str, *, out: str | Path = DEFAULT_ROOT) -> Result:
    """A stored run as a :class:`Result`, e.g. to study in a notebook (``socialscore.open``).

    Its tables are read from the run folder (the per-citizen ``citizens`` when
    asked for); the decomposition, when the run made one, from its metrics.

    Raises:
        RunNotFoundError: No complete run ``run_id`` in the store at ``out``.
    """
    store = RunStore(out)
    path = store.run_path(run_id)
    meta = json.loads((path / "meta.json").read_text("utf-8"))
    sc = Scenario.model_validate_json((path / "scenario.resolved.json").read_text("utf-8"))
    skip = {"citizens", "metrics", "trails"}
    tables = {
        p.stem: pq.read_table(p) for p in sorted(path.glob("*.parquet")) if p.stem not in skip
    }
    metrics = pq.read_table(path / "metrics.parquet")
    population = int(meta["population"])
    return Result(
        run_id=str(meta["run_id"]),
        path=path,
        scenario=sc,
        tables=tables,
        metrics=metrics,
        wall_seconds=float(meta["wall_seconds"]),
        population=population,
        companies=int(meta["companies"]),
        decomposition=split.from_metrics(metrics.to_pandas(), sc, population),
    )


def rebuild_report(run_id: str, *, out: str | Path = DEFAULT_ROOT) -> Path:
    """Rebuild a stored run's ``report.html`` from its tables; return its path.

    Args:
        run_id: The run's id, a unique start of it, or ``latest``.
        out: The run store folder.

    Raises:
        socialscore.store.catalogue.RunNotFoundError: The reference names no run (or several).
    """
    store = RunStore(out)
    run_id = store.resolve(run_id)
    path = store.run_path(run_id)
    sc = Scenario.model_validate_json((path / "scenario.resolved.json").read_text("utf-8"))
    tables = {name: store.load_table(run_id, name) for name in REPORT_TABLES}
    tables["citizens"] = store.load_table(
        run_id, "citizens", columns=["score_start", "score", "group"]
    )
    # Runs stored before these tables existed have none; the report leaves their parts out.
    for name in (
        "gate_months",
        "gate_subgroups",
        "gate_subgroup_gaps",
        "gate_intersections",
        "dispute_subgroup_gaps",
        "people",
    ):
        if (path / f"{name}.parquet").is_file():
            tables[name] = store.load_table(run_id, name)
    meta = json.loads((path / "run.json").read_text("utf-8"))
    companies = tables["companies"].num_rows
    facts = report_page.RunFacts(
        run_id, int(meta["population"]), companies, int(meta["days"]), int(meta["seed"])
    )
    audit_table = None
    if (path / "audit.parquet").is_file():
        audit_table = store.load_table(run_id, "audit")
    page = report_page.build(
        sc, tables, store.load_table(run_id, "metrics"), facts, audit=audit_table
    )
    return store.replace_derived(run_id, "report.html", page)


def _load(scenario: str | Path | LoadedScenario | Scenario | None) -> LoadedScenario:
    if scenario is None:
        return load("citizen-score")
    if isinstance(scenario, LoadedScenario):
        return scenario
    if isinstance(scenario, Scenario):
        text = scenario.model_dump_json(by_alias=True)
        loaded = parse_json(text)
        return loaded
    return load(scenario)


def parse_json(text: str) -> LoadedScenario:
    """Load a scenario given as its JSON form (as written to ``scenario.resolved.json``)."""
    sc = Scenario.model_validate_json(text)
    return LoadedScenario(scenario=sc, text=text, sha256=digest(sc), path=PYTHON_SOURCE)


def _header(run_id: str, loaded: LoadedScenario) -> list[str]:
    source = "a scenario given from Python" if loaded.path == PYTHON_SOURCE else loaded.path
    return [
        f"socialscore run {run_id}",
        "The scenario exactly as it ran: every `extends` merged in, every command-line",
        "option applied. Given as: " + source,
        "`socialscore run` reads this file as it is; `socialscore rerun RUN` runs it again",
        "and compares the tables. scenario.sha256 holds its hash: rerun refuses an edited copy.",
    ]


@dataclass(frozen=True)
class Rerun:
    """A stored run made again, compared table by table with the original.

    Attributes:
        original: The original run's id.
        result: The new run (stored in the same run store).
        tables: One check per Parquet table.
        environment: What differs between the original's environment and
            this one, as ``(what, then, now)``.
    """

    original: str
    result: Result
    tables: list[rerun_check.TableCheck]
    environment: list[tuple[str, str, str]]

    @property
    def identical(self) -> bool:
        """Whether every table holds the same data as the original's."""
        return all(check.same for check in self.tables)

    @property
    def byte_identical(self) -> bool:
        """Whether every table's Parquet file has the original's bytes."""
        return all(check.verdict == "byte-identical" for check in self.tables)


def rerun(
    run_id: str,
    *,
    out: str | Path = DEFAULT_ROOT,
    progress: Callable[[int, int], None] | None = None,
) -> Rerun:
    """Run a stored run again from its resolved scenario and compare the tables.

    The stored ``scenario.toml`` is checked against ``scenario.sha256`` first;
    an audit run is audited again with the bounds it was audited with. The
    new run is stored in the same run store, tagged ``rerun_of``.

    Args:
        run_id: The stored run: its id, a unique start of it, or ``latest``.
        out: The run store folder.
        progress: Called as ``progress(days_done, days_total)`` after each day
            (not for an audit run).

    Returns:
        The new run and how its tables compare with the original's.

    Raises:
        socialscore.store.catalogue.RunNotFoundError: No complete run ``run_id`` in ``out``.
        socialscore.studies.rerun.RerunError: The run cannot be rerun (stored by an
            older socialscore, or its scenario was changed since); one line.
    """
    store = RunStore(out)
    run_id = store.resolve(run_id)  # once: a new run is about to become "latest"
    folder = store.run_path(run_id)
    stored = rerun_check.load_stored(folder, run_id)
    tags = {"rerun_of": run_id}
    if stored.audit_thresholds is not None:
        thresholds = audit_checks.Thresholds(**stored.audit_thresholds)
        _, result = audit_regime(stored.loaded, thresholds=thresholds, out=out, tags=tags)
    else:
        result = run(
            stored.loaded,
            out=out,
            tags=tags,
            progress=progress,
            decompose=stored.decompose,
            trace=stored.trace or None,
        )
    return Rerun(
        original=run_id,
        result=result,
        tables=rerun_check.compare_tables(folder, result.path),
        environment=environment.differences(
            stored.environment, rerun_check.read_environment(result.path)
        ),
    )


__all__ = [
    "Rerun",
    "Result",
    "audit_regime",
    "open_run",
    "package_version",
    "parse",
    "rebuild_report",
    "rerun",
    "run",
]
