"""The ``socialscore`` command: a thin layer over the Python API."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from socialscore import api, disparity, resources, scenario
from socialscore import audit as audit_checks
from socialscore.compare import DEFAULT_SEEDS, Comparison
from socialscore.compare import compare as run_compare
from socialscore.harms import DESCRIPTIONS, metric_row, metric_value
from socialscore.intervals import MeanInterval
from socialscore.report.build import VERDICT_WORDS
from socialscore.report.comparison import difference_cell
from socialscore.store import DEFAULT_ROOT, RunStore
from socialscore.vocabulary import GROUP_LABELS
from socialscore.window import measurement_window

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=(
        "socialscore: a laboratory for social scoring systems. Every citizen and company "
        "in it is synthetic; it never reads real personal data."
    ),
)
console = Console()
errors = Console(stderr=True)

EXIT_BAD_SCENARIO = 2


class OutputFormat(enum.StrEnum):
    """How ``socialscore audit`` prints its result."""

    text = "text"
    json = "json"


#: The ``--measure-from`` option of run, compare and audit.
MeasureFrom = Annotated[
    int | None,
    typer.Option(
        help="First day of the measurement window (default: the day the regime rates "
        "everyone plus the scenario's burn-in, at most the middle of the run)."
    ),
]

#: The ``--force`` option of run, compare, audit and sweep.
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Run even when the estimated memory or disk exceeds what this machine has.",
    ),
]


def _resources_or_exit(
    guess: resources.Estimate,
    *,
    force: bool,
    out: Path,
    what: str = "this run",
    audience: resources.Audience = "cli",
    quiet: bool = False,
) -> None:
    """Refuse (exit 2) a job the machine cannot hold; say the estimate before a long one."""
    try:
        resources.check(guess, force=force, out=out, audience=audience, what=what)
    except resources.ResourceError as exc:
        errors.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    if not quiet and guess.seconds >= resources.LONG_RUN_SECONDS:
        console.print(f"Estimate: {guess.line()}.", markup=False, highlight=False, soft_wrap=True)


@app.command()
def run(
    scenario_file: Annotated[
        str,
        typer.Argument(
            metavar="[SCENARIO]",
            help="A scenario file, or the name of a shipped scenario (default: citizen-score).",
        ),
    ] = "citizen-score",
    population: Annotated[int | None, typer.Option(help="Number of citizens.")] = None,
    days: Annotated[int | None, typer.Option(help="Number of simulated days.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    measure_from: MeasureFrom = None,
    out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT,
    force: Force = False,
) -> None:
    """Run a scoring regime on a synthetic nation and store the run."""
    loaded = _load_or_exit(scenario_file)
    try:
        effective = loaded.scenario.with_overrides(
            population=population, days=days, seed=seed, measure_from=measure_from
        )
    except ValidationError as exc:
        for err in exc.errors():
            option = "--" + str(err["loc"][-1]).replace("_", "-")
            errors.print(f"Bad option {option}: {err['msg']} (got {err['input']!r}).", markup=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    _resources_or_exit(resources.estimate(effective), force=force, out=out)
    console.print(
        f"[bold]{effective.scenario.name}[/bold]: {effective.run.population:,} synthetic "
        f"citizens, {effective.run.days:,} days, seed {effective.run.seed}"
    )
    with _progress() as bar:
        task = bar.add_task("simulating days", total=effective.run.days)
        result = api.run(
            loaded,
            population=population,
            days=days,
            seed=seed,
            measure_from=measure_from,
            out=out,
            progress=lambda done, total: bar.update(task, completed=done),
            force=True,  # checked above
        )
    console.print(summary_table(result))
    console.print(f"Run [bold]{result.run_id}[/bold] written to {result.path}")
    console.print(f"Report: {result.path / 'report.html'}")
    console.print(f"Simulated in {result.wall_seconds:,.1f} s.")


@app.command()
def compare(
    scenario_files: Annotated[
        list[str], typer.Argument(metavar="SCENARIO...", help="Two or more scenarios.")
    ],
    seeds: Annotated[
        int,
        typer.Option(
            min=1,
            help="Seeds per scenario (default 5). Intervals are Student t across seeds and "
            "need 2 or more; one seed gives no interval.",
        ),
    ] = DEFAULT_SEEDS,
    population: Annotated[int | None, typer.Option(help="Number of citizens.")] = None,
    days: Annotated[int | None, typer.Option(help="Number of simulated days.")] = None,
    seed: Annotated[int | None, typer.Option(help="First seed.")] = None,
    measure_from: MeasureFrom = None,
    out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT,
    force: Force = False,
) -> None:
    """Run scenarios on the same people and seeds; show differences against the first."""
    loaded = [_load_or_exit(name) for name in scenario_files]
    total = seeds * len(loaded)
    try:
        sizes = [ld.scenario.with_overrides(population=population, days=days) for ld in loaded]
    except ValidationError:
        sizes = []  # compare reports the bad option itself
    guess = resources.for_comparison(sizes, seeds=seeds)
    _resources_or_exit(guess, force=force, out=out, what="this comparison")
    try:
        with resources.forced(force), _progress() as bar:
            task = bar.add_task("runs", total=total)
            result = run_compare(
                loaded,
                population=population,
                days=days,
                seed=seed,
                seeds=seeds,
                measure_from=measure_from,
                out=out,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
    except ValueError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    console.print(comparison_table(result))
    console.print(
        f"Comparison {result.compare_id} stored in the catalogue (table comparisons); "
        f"seeds {result.seeds[0]}..{result.seeds[-1]}."
    )
    console.print(f"Report: {result.path / 'comparison.html'}")


EXIT_AUDIT_FAILED = 1
AUDIT_POPULATION = 100_000


@app.command()
def audit(
    scenario_file: Annotated[
        str,
        typer.Argument(metavar="SCENARIO", help="A scenario file or a shipped scenario's name."),
    ],
    population: Annotated[
        int, typer.Option(help="Citizens in the audit runs (harms are measured on them).")
    ] = AUDIT_POPULATION,
    days: Annotated[int | None, typer.Option(help="Number of simulated days.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    measure_from: MeasureFrom = None,
    out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text: a table; json: machine-readable.")
    ] = OutputFormat.text,
    max_sanction_ratio: Annotated[
        float, typer.Option(help="Bound on a gate's sanction ÷ a rule's severity.")
    ] = 3.0,
    min_impact_ratio: Annotated[
        float, typer.Option(help="Lowest acceptable adverse-impact ratio at a gate.")
    ] = 0.8,
    max_persistence: Annotated[
        float, typer.Option(help="Highest acceptable share of the bottom tenth staying there.")
    ] = 0.5,
    max_chilling: Annotated[
        float, typer.Option(help="Largest acceptable drop of a penalised legal behaviour.")
    ] = 0.05,
    force: Force = False,
) -> None:
    """Check a regime against the law and measure its harms; exit 1 when any check fails."""
    loaded = _load_or_exit(scenario_file)
    thresholds = audit_checks.Thresholds(
        max_sanction_ratio=max_sanction_ratio,
        min_impact_ratio=min_impact_ratio,
        max_persistence=max_persistence,
        max_chilling=max_chilling,
    )
    quiet = output_format is OutputFormat.json
    try:
        effective = loaded.scenario.with_overrides(
            population=population, days=days, seed=seed, measure_from=measure_from
        )
    except ValidationError as exc:
        for err in exc.errors():
            option = "--" + str(err["loc"][-1]).replace("_", "-")
            errors.print(f"Bad option {option}: {err['msg']} (got {err['input']!r}).", markup=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    guess = resources.estimate(effective, kind="audit")
    _resources_or_exit(guess, force=force, out=out, what="this audit", quiet=quiet)
    with _progress(disable=quiet) as bar:
        task = bar.add_task("auditing", total=4)

        def stage(name: str) -> None:
            bar.update(task, description=name, advance=0 if name == "running the regime" else 1)

        result, stored = api.audit_regime(
            loaded,
            population=population,
            days=days,
            seed=seed,
            measure_from=measure_from,
            thresholds=thresholds,
            out=out,
            progress=stage,
        )
        bar.update(task, completed=4)
    if quiet:
        print(result.to_json())
    else:
        console.print(audit_table(result))
        verdict = "passes every check" if result.passed else f"fails {len(result.failures)} checks"
        console.print(f"[bold]{result.scenario}[/bold] {verdict}.")
        console.print(f"Report with the audit section: {stored.path / 'report.html'}")
    if not result.passed:
        raise typer.Exit(EXIT_AUDIT_FAILED)


@app.command()
def sweep(
    grid_file: Annotated[Path, typer.Argument(metavar="GRID", help="A sweep grid file (TOML).")],
    out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: one per core).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Run on a Ray cluster: its address, 'auto', or 'local' to start one here.",
        ),
    ] = None,
    force: Force = False,
) -> None:
    """Run a grid of regimes and seeds in parallel; resumable; writes a sweep report."""
    from socialscore.grid import load_grid
    from socialscore.sweep import sweep as run_sweep

    try:
        grid = load_grid(grid_file)
    except scenario.ScenarioError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    total = len(grid.points) * len(grid.seeds)
    guess = resources.for_grid(grid, workers=workers, out=out)
    _resources_or_exit(guess, force=force, out=out, what="this sweep", audience="grid")
    console.print(
        f"[bold]{grid.spec.sweep.name}[/bold]: {len(grid.points):,} points x "
        f"{len(grid.seeds)} seeds = {total:,} runs of {grid.spec.sweep.base} "
        f"({'Ray ' + ray if ray else 'local processes'})"
    )
    with resources.forced(force), _progress() as bar:
        task = bar.add_task("runs done", total=total)

        def update(done: int, failed: int, runs: int) -> None:
            bar.update(
                task,
                total=runs,
                completed=done + failed,
                description=f"runs done, {failed} failed" if failed else "runs done",
            )

        try:
            result = run_sweep(grid, out=out, workers=workers, ray_address=ray, progress=update)
        except RuntimeError as exc:
            errors.print(str(exc), markup=False, highlight=False)
            raise typer.Exit(EXIT_BAD_SCENARIO) from None
    console.print(
        f"{len(result.done):,} runs done ({result.skipped:,} already done before), "
        f"{len(result.failed):,} failed."
    )
    for f in result.failed[:10]:
        params = ", ".join(f"{k} = {v}" for k, v in f.params.items())
        line = f"  failed: point {f.point}, seed {f.seed} ({params}): {f.error}"
        console.print(line, markup=False)
    console.print(f"Sweep {result.sweep_id}; report: {result.path / 'sweep.html'}")
    if result.failed:
        raise typer.Exit(EXIT_AUDIT_FAILED)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A SQL query on the catalogue (DuckDB dialect).")],
    out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT,
) -> None:
    """Query the catalogue: tables runs, metrics, comparisons, sweep_runs."""
    import duckdb

    try:
        frame = RunStore(out).query(sql)
    except duckdb.Error as exc:
        errors.print(f"The query failed: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    table = Table()
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    console.print(table)


def audit_table(result: audit_checks.Audit) -> Table:
    """One row per check: law or harm, subject, verdict in words, and why."""
    table = Table(title=f"Audit of {result.scenario}", show_lines=False)
    table.add_column("law or harm")
    table.add_column("about")
    table.add_column("verdict")
    table.add_column("why")
    style = {"pass": "green", "fail": "red", "inconclusive": "yellow", "not applicable": ""}
    for c in result.checks:
        table.add_row(c.law, c.subject, f"[{style[c.verdict]}]{VERDICT_WORDS[c.verdict]}", c.reason)
    return table


def comparison_table(result: Comparison) -> Table:
    """Headline measures side by side, with differences against the first scenario."""
    t = result.table
    first = result.scenarios[0]
    table = Table(
        title=f"Differences against {first} (mean over seeds; 95% t interval of the paired "
        "differences; one seed: no interval)"
    )
    table.add_column("measure")
    for name in result.scenarios:
        table.add_column(name, justify="right")
    keep = t[
        (
            t.metric.isin(
                [
                    "mean_score",
                    "gini",
                    "blacklisted_share",
                    "bottom_decile_persistence",
                    "score_assortativity",
                    "privacy_auc",
                    "friends_dropped",
                    "adverse_impact_ratio",
                    "behaviour_rate",
                ]
            )
        )
    ]
    for (metric, subject, _grp), part in keep.groupby(["metric", "subject", "grp"], sort=False):
        label = metric.replace("_", " ") + (f": {subject}" if subject else "")
        cells = []
        for name in result.scenarios:
            row = part[part.scenario == name]
            if not len(row):
                cells.append("")
                continue
            r = row.iloc[0]
            text = _fmt(float(r["mean"]))
            if name != first and not math.isnan(float(r.difference)):
                diff = MeanInterval(
                    float(r.difference), float(r.ci_low), float(r.ci_high), int(r.seeds)
                )
                text += f"  ({difference_cell(diff)})"
            cells.append(text)
        table.add_row(label, *cells)
    return table


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="A run id from `socialscore runs`.")],
    out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT,
) -> None:
    """Rebuild a run's report.html from its stored tables."""
    try:
        path = api.rebuild_report(run_id, out=out)
    except LookupError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    console.print(f"Report written to {path}")


@app.command()
def validate(
    scenario_file: Annotated[str, typer.Argument(metavar="SCENARIO")],
) -> None:
    """Check a scenario file without running it."""
    loaded = _load_or_exit(scenario_file)
    console.print(f"{loaded.path}: valid scenario '{loaded.scenario.scenario.name}'.")


@app.command()
def runs(out: Annotated[Path, typer.Option(help="Run store folder.")] = DEFAULT_ROOT) -> None:
    """List the runs in the catalogue."""
    store = RunStore(out)
    store.reconcile()
    df = store.list_runs()
    table = Table(title=f"Runs in {out}")
    for col in ("run_id", "scenario_name", "population", "days", "seed", "created_at"):
        table.add_column(col)
    for row in df.itertuples():
        table.add_row(
            row.run_id,
            row.scenario_name,
            f"{row.population:,}",
            str(row.days),
            str(row.seed),
            str(row.created_at),
        )
    console.print(table)


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    for name, path in scenario.shipped_scenarios().items():
        loaded = scenario.load(path)
        console.print(f"[bold]{name}[/bold]: {loaded.scenario.scenario.description}")


def _progress(*, disable: bool = False) -> Progress:
    """The progress bar of long commands: what, how far, how long to go."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable,
    )


def _load_or_exit(name: str) -> scenario.LoadedScenario:
    try:
        return scenario.load(name)
    except scenario.ScenarioError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None


def _fmt(value: float, *, share: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1%}" if share else f"{value:,.3f}"


def summary_table(result: api.Result) -> Table:
    """The headline measures of a run, with their 95% intervals, days and words."""
    m = result.metrics.to_pandas()

    def get(metric: str, subject: str = "", grp: str = "all") -> float:
        return metric_value(m, metric, subject, grp)

    def cells(metric: str, subject: str = "", *, share: bool = False) -> tuple[str, str, str]:
        r = metric_row(m, metric, subject)
        if r is None:
            return "n/a", "", ""
        interval = (
            f"{_fmt(r.low, share=share)}–{_fmt(r.high, share=share)}" if r.has_interval else ""
        )
        days = (
            "" if r.first is None else (f"{r.first}–{r.last}" if r.first != r.last else f"{r.last}")
        )
        return _fmt(r.value, share=share), interval, days

    window = measurement_window(result.scenario, int(m.day_to.max()) + 1 if len(m) else None)
    t = Table(
        title="What the regime did",
        caption=f"Measured over {window.label()}: {window.why}.",
        show_lines=False,
    )
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("95% interval", justify="right")
    t.add_column("days", justify="right")
    t.add_column("meaning")
    t.add_row("mean score", *cells("mean_score"), DESCRIPTIONS["mean_score"])
    t.add_row("Gini of scores", *cells("gini"), DESCRIPTIONS["gini"])
    t.add_row(
        "blacklisted", *cells("blacklisted_share", share=True), DESCRIPTIONS["blacklisted_share"]
    )
    for gate in dict.fromkeys(m[m.metric == "adverse_impact_ratio"].subject):
        rates = [get("selection_rate", gate, g) for g in GROUP_LABELS]
        verdict = VERDICT_WORDS[disparity.verdict_from_code(get("four_fifths_verdict", gate))]
        sanction = VERDICT_WORDS[disparity.verdict_from_code(get("adverse_outcome_verdict", gate))]
        t.add_row(
            f"{gate}: adverse-impact ratio",
            *cells("adverse_impact_ratio", gate),
            f"approved {_fmt(rates[0], share=True)} of majority, {_fmt(rates[1], share=True)} "
            f"of minority decisions; four-fifths rule: {verdict}",
        )
        t.add_row(
            f"{gate}: adverse-outcome ratio",
            *cells("adverse_outcome_ratio", gate),
            f"minority's denial or sanction rate over the majority's: {sanction}",
        )
        erroneous = get("erroneous_denials", gate)
        if erroneous > 0:
            t.add_row(
                f"{gate}: erroneous denials",
                f"{int(erroneous):,}",
                "",
                cells("erroneous_denials", gate)[2],
                DESCRIPTIONS["erroneous_denials"],
            )
    for key in (
        "rank_rank_correlation",
        "bottom_decile_persistence",
        "score_assortativity",
        "privacy_auc",
    ):
        t.add_row(key.replace("_", " "), *cells(key), DESCRIPTIONS[key])
    dropped = cells("friends_dropped")
    t.add_row(
        "friends dropped",
        f"{int(get('friends_dropped')):,}",
        "",
        dropped[2],
        DESCRIPTIONS["friends_dropped"],
    )
    return t


def main() -> None:
    """Entry point."""
    app()


__all__ = ["app", "main", "pa"]
