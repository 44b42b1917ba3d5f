"""The ``socialscore`` command: a thin layer over the Python API.

Each command imports what it runs when it runs: ``socialscore --help`` loads
typer and rich and the defaults it shows, not numba, pandas, plotly or DuckDB.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import functools
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec

import typer
from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from socialscore.store.defaults import DEFAULT_LIMIT as DEFAULT_QUERY_LIMIT
from socialscore.store.defaults import (
    DEFAULT_ROOT,
    DEFAULT_RUNS_LIMIT,
    FALLBACK_ROOT,
    ROOT_VARIABLE,
)
from socialscore.studies.defaults import DEFAULT_SEEDS, MAX_RUNS
from socialscore.system.terminal import LINE_LIMIT, clean, shorten, text

if TYPE_CHECKING:
    import pandas as pd

    from socialscore.analysis.audit import Audit, Thresholds
    from socialscore.analysis.decomposition import Decomposition
    from socialscore.scenario.files import LoadedScenario
    from socialscore.scenario.schema import Scenario
    from socialscore.store.catalogue import RunStore
    from socialscore.studies.compare import Comparison
    from socialscore.studies.resources import Audience, Estimate
    from socialscore.studies.run import Result

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    help=(
        "socialscore: a laboratory for social scoring systems. Every citizen and company "
        "in it is synthetic; it never reads real personal data."
    ),
)
#: Everything printed from data (names, labels, paths, catalogue cells) goes through
#: :mod:`socialscore.system.terminal` as ``Text``: never markup, never a raw control character.
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)

EXIT_BAD_SCENARIO = 2
#: A sweep or comparison stopped by a signal exits 128 + the signal number (130 for Ctrl-C).
EXIT_SIGNAL = 128

#: A command-line option outside what the scenario schema or the audit allows.
ERR_BAD_OPTION = "Bad option {option}: {problem} (got {value})."

#: Longest echo of an option's value in an error (the rest is cut in the middle).
OPTION_ECHO_LIMIT = 80


class OutputFormat(enum.StrEnum):
    """How ``socialscore audit`` prints its result (``table`` is ``text``)."""

    text = "text"
    table = "table"
    json = "json"
    csv = "csv"


class TableFormat(enum.StrEnum):
    """How ``runs``, ``query`` and ``compare`` print their rows."""

    table = "table"
    csv = "csv"
    json = "json"


#: The ``--format`` option of runs, query and compare.
FormatOption = Annotated[
    TableFormat,
    typer.Option(
        "--format",
        help="table: for reading; csv or json: every row asked for and every column, "
        "machine-readable, on stdout alone (notes go to stderr).",
    ),
]

#: The ``--out`` option of every command that reads or writes runs.
Out = Annotated[
    Path,
    typer.Option(
        help=f"Run store folder (default: the {ROOT_VARIABLE} environment variable, "
        f"else ./{FALLBACK_ROOT}).",
    ),
]

#: A run named on the command line (report, explain, rerun, rm).
RUN_HELP = "A run: its id from `socialscore runs`, a unique start of it, or 'latest'."
RunRef = Annotated[str, typer.Argument(metavar="RUN", help=RUN_HELP)]


#: Suffixes a count of citizens may carry: ``100k``, ``1M``, ``2.5m``.
COUNT_SUFFIXES = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
ERR_COUNT = "'{value}' is not a number of citizens; write it as 100000, 100_000, 1e5, 100k or 1M"


def parse_count(value: str | int) -> int:
    """A whole number written as researchers write it.

    ``100000``, ``100_000``, ``1e5``, ``100k``, ``1M`` (``k`` thousand, ``M``
    million, ``G`` billion); ``1.5e2`` is 150, ``1.5`` is refused.

    Raises:
        typer.BadParameter: Not a whole number.
    """
    if isinstance(value, int):  # a default, already a number
        return value
    words = str(value).strip().replace("_", "").replace(",", "")
    scale = COUNT_SUFFIXES.get(words[-1:].lower(), 1) if words else 1
    number = words[:-1] if scale > 1 else words
    try:
        amount = float(number) * scale
    except ValueError:
        raise typer.BadParameter(ERR_COUNT.format(value=value)) from None
    if not math.isfinite(amount) or amount != int(amount):
        raise typer.BadParameter(ERR_COUNT.format(value=value))
    return int(amount)


#: The ``--population`` option of run and compare (the scenario's when not given).
Population = Annotated[
    int | None,
    typer.Option(
        parser=parse_count,
        metavar="COUNT",
        help="Number of citizens, e.g. 100000, 1e5, 100k or 1M (default: the scenario's "
        "run.population; 1,000,000 for the shipped regimes).",
    ),
]
#: The ``--days`` option of run and compare.
Days = Annotated[
    int | None,
    typer.Option(
        help="Number of simulated days (default: the scenario's run.days; 365 for the "
        "shipped regimes)."
    ),
]


def _version(value: bool) -> None:
    """``--version``: print the installed version and stop."""
    if value:
        from socialscore.studies.run import package_version

        console.print(f"socialscore {package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """Socialscore: a laboratory for social scoring systems.

    Every citizen and company in it is synthetic; it never reads real personal data.
    """


#: The ``--measure-from`` option of run, compare and audit.
MeasureFrom = Annotated[
    int | None,
    typer.Option(
        help="First day of the measurement window (default: the day the regime rates "
        "everyone plus the scenario's burn-in, at most the middle of the run)."
    ),
]

P = ParamSpec("P")


#: A full disk met outside the run store's own writes (a comparison's or sweep's report).
ERR_DISK_FULL = (
    "The disk is full ({error}); free some space and run the command again "
    "(finished runs are kept in the run store and reused where the command allows)."
)


def _output_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Report an unusable ``--out`` or a full disk in one line (exit 2), not a traceback."""

    @functools.wraps(command)
    def checked(*args: P.args, **kwargs: P.kwargs) -> None:
        from socialscore.store.catalogue import DiskFullError, OutputLocationError

        try:
            command(*args, **kwargs)
        except (OutputLocationError, DiskFullError) as exc:
            message = str(exc)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            message = ERR_DISK_FULL.format(error=exc)
        else:
            return
        _fail(message)

    return checked


#: The ``--force`` option of run, compare, audit and sweep.
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Run even when the estimated memory or disk exceeds what this machine has.",
    ),
]


def _resources_or_exit(
    guess: Estimate,
    *,
    force: bool,
    out: Path,
    what: str = "this run",
    audience: Audience = "cli",
    quiet: bool = False,
) -> None:
    """Refuse (exit 2) a job the machine cannot hold; say the estimate before a long one."""
    from socialscore.studies import resources

    try:
        resources.check(guess, force=force, out=out, audience=audience, what=what)
    except resources.ResourceError as exc:
        _fail(exc)
    if not quiet and guess.seconds >= resources.LONG_RUN_SECONDS:
        console.print(f"Estimate: {guess.line()}.", markup=False, highlight=False, soft_wrap=True)


@app.command()
@_output_errors
def run(
    scenario_file: Annotated[
        str,
        typer.Argument(
            metavar="[SCENARIO]",
            help="A scenario file, or the name of a shipped scenario (default: citizen-score).",
        ),
    ] = "citizen-score",
    population: Population = None,
    days: Days = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the scenario's run.seed).")
    ] = None,
    measure_from: MeasureFrom = None,
    out: Out = DEFAULT_ROOT,
    force: Force = False,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose",
            help="Also split each gate's gap into the part the assumed group differences "
            "explain and the part the regime adds: reruns the scenario at the same size and "
            "seed without them (1 + one per assumption more runs; docs/model.md).",
        ),
    ] = False,
    trace: Annotated[
        str | None,
        typer.Option(
            "--trace",
            metavar="CITIZENS",
            help="Keep these citizens' decision trails as the run goes, e.g. 17,42 "
            "(`socialscore explain` then reads them without replaying).",
        ),
    ] = None,
) -> None:
    """Run a scoring regime on a synthetic nation and store the run."""
    from socialscore.studies import decomposition as reruns
    from socialscore.studies import resources
    from socialscore.studies import run as api

    loaded = _load_or_exit(scenario_file)
    effective = _overridden_or_exit(
        loaded, population=population, days=days, seed=seed, measure_from=measure_from
    )
    traced = _citizen_ids(trace, effective.run.population) if trace else None
    _say_caveats(effective, files=[loaded])
    guess = resources.estimate(effective)
    if decompose:
        guess = reruns.estimate(effective, guess)
    _resources_or_exit(guess, force=force, out=out)
    console.print(
        Text.assemble(
            text(effective.scenario.name, style="bold"),
            f": {effective.run.population:,} synthetic citizens, {effective.run.days:,} "
            f"day{'' if effective.run.days == 1 else 's'}, seed {effective.run.seed}",
        )
    )
    from socialscore.studies import warm

    with _progress() as bar:
        compiling = None
        if warm.cold():
            compiling = bar.add_task(
                f"compiling the kernels (first run only, about {warm.COMPILE_SECONDS} s)",
                total=None,
            )
        task = bar.add_task("simulating days", total=effective.run.days)

        def advance(done: int, total: int) -> None:
            if compiling is not None and compiling in bar.task_ids:
                bar.remove_task(compiling)
            bar.update(task, completed=done)
            if done == total:
                bar.add_task("measuring the harms and writing the report", total=None)

        result = api.run(
            loaded,
            population=population,
            days=days,
            seed=seed,
            measure_from=measure_from,
            out=out,
            progress=advance,
            force=True,  # checked above
            decompose=decompose,
            trace=traced,
        )
    console.print(summary_table(result))
    if result.decomposition is not None:
        console.print(decomposition_table(result.decomposition))
    console.print(
        Text.assemble("Run ", text(result.run_id, style="bold"), " written to ", _path(result.path))
    )
    console.print(Text.assemble("Report: ", _path(result.path / "report.html")))
    console.print(f"Simulated in {result.wall_seconds:,.1f} s.")


def _say_caveats(*scenarios: Scenario, files: Sequence[LoadedScenario] = ()) -> None:
    """Print, before the runs, what they cannot show and what their files may not mean.

    The caveats of :mod:`socialscore.scenario.caveats` and the warnings of
    ``socialscore validate`` (:mod:`socialscore.scenario.lint`), once each.
    """
    from socialscore.scenario.caveats import caveats
    from socialscore.scenario.lint import lint

    said = [line for sc in scenarios for line in caveats(sc)]
    said += [f"{f.path}: {line}" for f in files for line in lint(f)]
    for line in dict.fromkeys(said):
        errors.print(Text.assemble(("Note: ", "bold yellow"), text(line, limit=None)))


def _citizen_ids(words: str, population: int) -> list[int]:
    """Citizen ids from "17,42" (or exit 2 in one line naming the fix)."""
    try:
        ids = [int(w) for w in words.replace(" ", "").split(",") if w]
    except ValueError:
        _fail(f"Bad option --trace '{words}': give citizen ids separated by commas, e.g. 17,42.")
    bad = [i for i in ids if not 0 <= i < population]
    if not ids or bad:
        _fail(
            f"Bad option --trace '{words}': citizen ids run from 0 to {population - 1:,} "
            "in this run."
        )
    return ids


@app.command()
@_output_errors
def compare(
    scenario_files: Annotated[
        list[str], typer.Argument(metavar="SCENARIO...", help="Two or more scenarios.")
    ],
    seeds: Annotated[
        int,
        typer.Option(
            help="Seeds per scenario (default 5). Intervals are Student t across seeds and "
            "need 2 or more; one seed gives no interval.",
        ),
    ] = DEFAULT_SEEDS,
    population: Population = None,
    days: Days = None,
    seed: Annotated[int | None, typer.Option(help="First seed.")] = None,
    measure_from: MeasureFrom = None,
    out: Out = DEFAULT_ROOT,
    force: Force = False,
    output_format: Annotated[
        TableFormat,
        typer.Option(
            "--format",
            help="table: the headline measures; csv or json: every measure of every scenario "
            "(the catalogue's comparisons rows), on stdout alone.",
        ),
    ] = TableFormat.table,
) -> None:
    """Run scenarios on the same people and seeds; show differences against the first."""
    from socialscore.studies import resources
    from socialscore.studies.compare import CompareStoppedError
    from socialscore.studies.compare import compare as run_compare

    loaded = [_load_or_exit(name) for name in scenario_files]
    if seeds < 1:
        _fail(
            ERR_BAD_OPTION.format(
                option="--seeds", problem="give 1 or more seeds per scenario", value=seeds
            )
        )
    sizes = [
        _overridden_or_exit(
            one, population=population, days=days, seed=seed, measure_from=measure_from
        )
        for one in loaded
    ]
    _say_caveats(*sizes, files=loaded)
    total = seeds * len(loaded)
    guess = resources.for_comparison(sizes, seeds=seeds)
    quiet = output_format is not TableFormat.table
    _resources_or_exit(guess, force=force, out=out, what="this comparison", quiet=quiet)
    try:
        with resources.forced(force), _progress(disable=quiet) as bar:
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
    except CompareStoppedError as exc:
        _fail(exc, EXIT_SIGNAL + exc.signum)
    except ValueError as exc:
        _fail(exc)
    said = errors if quiet else console
    if quiet:
        _write_rows(result.table, output_format)
    else:
        console.print(comparison_table(result))
    said.print(
        Text.assemble(
            "Comparison ",
            text(result.compare_id),
            " stored in the catalogue (table comparisons); "
            f"seeds {result.seeds[0]}..{result.seeds[-1]}.",
        ),
        soft_wrap=quiet,
    )
    said.print(Text.assemble("Report: ", _path(result.path / "comparison.html")), soft_wrap=quiet)


EXIT_AUDIT_FAILED = 1
AUDIT_POPULATION = 100_000


@app.command()
@_output_errors
def audit(
    scenario_file: Annotated[
        str,
        typer.Argument(metavar="SCENARIO", help="A scenario file or a shipped scenario's name."),
    ],
    population: Annotated[
        int,
        typer.Option(
            parser=parse_count,
            metavar="COUNT",
            help="Citizens in the audit runs (harms are measured on them), e.g. 1e5 or 100k.",
        ),
    ] = AUDIT_POPULATION,
    days: Annotated[int | None, typer.Option(help="Number of simulated days.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    measure_from: MeasureFrom = None,
    out: Out = DEFAULT_ROOT,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="text (or table): the verdict by law, then every check; json: the audit with "
            "its run, report, size, seed and bounds; csv: one row per check.",
        ),
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
    from socialscore.analysis import audit as audit_checks
    from socialscore.studies import decomposition as reruns
    from socialscore.studies import resources
    from socialscore.studies import run as api

    try:
        thresholds = audit_checks.Thresholds(
            max_sanction_ratio=max_sanction_ratio,
            min_impact_ratio=min_impact_ratio,
            max_persistence=max_persistence,
            max_chilling=max_chilling,
        )
    except audit_checks.ThresholdError as exc:
        option = "--" + exc.name.replace("_", "-")
        _fail(f"Bad option {option}: {exc}")
    loaded = _load_or_exit(scenario_file)
    quiet = output_format in (OutputFormat.json, OutputFormat.csv)
    effective = _overridden_or_exit(
        loaded, population=population, days=days, seed=seed, measure_from=measure_from
    )
    guess = reruns.estimate(effective, resources.estimate(effective, kind="audit"), audit=True)
    _resources_or_exit(guess, force=force, out=out, what="this audit", quiet=quiet)
    with _progress(disable=quiet) as bar:
        task = bar.add_task("auditing", total=5)

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
        bar.update(task, completed=5)
    if output_format is OutputFormat.csv:
        _write_rows(result.to_pandas(), TableFormat.csv)
    elif quiet:
        print(json.dumps(_audit_document(result, stored, thresholds), indent=2))
    else:
        verdict = _audit_verdict(result)
        console.print(verdict)
        console.print(verdict_table(result))
        console.print(Text.assemble("Report (verdict first): ", _path(stored.path / "report.html")))
        console.print(Text("\nThe checks one by one:", style="bold"))
        console.print(audit_table(result))
        if result.decomposition is not None:
            console.print(decomposition_table(result.decomposition))
        console.print(verdict)
    if not result.passed:
        raise typer.Exit(EXIT_AUDIT_FAILED)


def _audit_document(result: Audit, stored: Result, thresholds: Thresholds) -> dict[str, object]:
    """``audit --format json``: the stored run (id, report, size, seed), the bounds, the audit."""
    return {
        "run_id": stored.run_id,
        "report": str(stored.path / "report.html"),
        "population": stored.population,
        "days": stored.scenario.run.days,
        "seed": stored.scenario.run.seed,
        "thresholds": dataclasses.asdict(thresholds),
        **result.to_dict(),
    }


@app.command()
@_output_errors
def sweep(
    grid_file: Annotated[
        Path, typer.Argument(metavar="GRID", help="A sweep grid file, or a shipped one by name.")
    ],
    out: Out = DEFAULT_ROOT,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local worker processes, 1 to the number of cores this machine may use; "
            "default: one per core."
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Run on a Ray cluster: its address, 'auto', or 'local' to start one here.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Run anyway: a sweep of more runs (points x seeds) than the limit "
            f"({MAX_RUNS:,}, or the grid file's sweep.max_runs), or one whose estimated "
            "memory or disk exceeds what this machine has.",
        ),
    ] = False,
    reports: Annotated[
        bool,
        typer.Option(
            "--reports",
            help="Also write each run's own report.html (about 5 MB each); without, "
            "`socialscore report RUN` writes one when it is wanted.",
        ),
    ] = False,
) -> None:
    """Run a grid of regimes and seeds in parallel; resumable; writes a sweep report."""
    from socialscore.scenario.errors import ScenarioError
    from socialscore.studies import resources
    from socialscore.studies.grid import load_grid
    from socialscore.studies.sweep import SweepStoppedError, check_workers
    from socialscore.studies.sweep import sweep as run_sweep
    from socialscore.system.interrupts import SweepBusyError

    try:
        check_workers(workers)
    except ValueError as exc:
        _fail(exc)

    try:
        grid = load_grid(grid_file, force=force)
    except ScenarioError as exc:
        _fail(exc)
    total = len(grid.points) * len(grid.seeds)
    guess = resources.for_grid(grid, workers=workers, out=out, reports=reports)
    _resources_or_exit(guess, force=force, out=out, what="this sweep", audience="grid")
    console.print(
        Text.assemble(
            text(grid.spec.sweep.name, style="bold"),
            f": {len(grid.points):,} point{'s' if len(grid.points) != 1 else ''} x "
            f"{len(grid.seeds)} seed{'s' if len(grid.seeds) != 1 else ''} = {total:,} "
            f"run{'s' if total != 1 else ''} of ",
            text(grid.spec.sweep.base),
            " (",
            text("Ray " + ray) if ray else "local processes",
            ")",
        )
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
            result = run_sweep(
                grid,
                out=out,
                workers=workers,
                ray_address=ray,
                progress=update,
                reports=reports,
            )
        except SweepBusyError as exc:
            bar.stop()
            _fail(exc, EXIT_AUDIT_FAILED)
        except SweepStoppedError as exc:
            bar.stop()
            _fail(exc, EXIT_SIGNAL + exc.signum if exc.signum else EXIT_AUDIT_FAILED)
        except RuntimeError as exc:
            _fail(exc)
    console.print(
        f"{len(result.done):,} runs done ({result.skipped:,} already done before), "
        f"{len(result.failed):,} failed."
    )
    for f in result.failed[:10]:
        params = ", ".join(f"{k} = {v}" for k, v in f.params.items())
        line = f"  failed: point {f.point}, seed {f.seed} ({params}): {f.error}"
        console.print(Text(clean(line, limit=LINE_LIMIT)))
    console.print(
        Text.assemble(
            "Sweep ", text(result.sweep_id), "; report: ", _path(result.path / "sweep.html")
        )
    )
    if result.failed:
        raise typer.Exit(EXIT_AUDIT_FAILED)


EXIT_CATALOGUE = 1
"""``socialscore query``: the catalogue could not be read (locked too long, unreadable)."""

#: ``socialscore query``: more rows than --limit.
QUERY_MORE = "{omitted:,} more rows not shown ({total:,} in all); raise --limit to see them."


@app.command()
def query(
    sql: Annotated[
        str, typer.Argument(help="One read-only SQL statement on the catalogue (DuckDB dialect).")
    ],
    out: Out = DEFAULT_ROOT,
    limit: Annotated[
        int, typer.Option(min=1, help="Print at most this many rows (the rest are counted).")
    ] = DEFAULT_QUERY_LIMIT,
    output_format: FormatOption = TableFormat.table,
) -> None:
    """Query the catalogue (tables runs, metrics, comparisons, sweep_runs); reads only.

    One SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) per call, on a
    private read-only copy: no writes, no files, no other databases.
    """
    from socialscore.store.catalogue import CatalogueError, OutputLocationError, RunStore
    from socialscore.store.query import QueryError, run_query

    try:
        result = run_query(RunStore(out), sql, limit=limit)
    except QueryError as exc:
        _fail(exc)
    except (CatalogueError, OutputLocationError) as exc:
        _fail(exc, EXIT_CATALOGUE)
    note = (
        QUERY_MORE.format(omitted=result.omitted, total=result.total_rows) if result.omitted else ""
    )
    if output_format is not TableFormat.table:
        _write_rows(result.frame, output_format)
        if note:
            errors.print(note, markup=False, highlight=False)
        return
    table = Table()
    for column in result.frame.columns:
        table.add_column(text(column))
    for row in result.frame.itertuples(index=False):
        table.add_row(*(text(v) for v in row))
    console.print(table)
    if note:
        console.print(note, markup=False, highlight=False)


#: A verdict's colour in the terminal (beside its words and symbol, never alone).
VERDICT_STYLE = {"pass": "green", "fail": "red", "inconclusive": "yellow", "not applicable": ""}


def _audit_verdict(result: Audit) -> Text:
    """The audit's verdict in one line: the regime, and how many checks fail of how many."""
    total = len(result.checks)
    verdict = (
        f"passes every check ({total})"
        if result.passed
        else f"fails {len(result.failures)} of {total} checks"
    )
    return Text.assemble(
        text(result.scenario, style="bold"),
        f" {verdict}.",
        style="green" if result.passed else "red",
    )


def verdict_table(result: Audit) -> Table:
    """The verdict by law (and for the measured harms): what fails, before the details."""
    from socialscore.report.build import VERDICT_WORDS

    table = Table(box=box.SIMPLE_HEAD, expand=True)
    table.add_column("law or harm", ratio=3)
    table.add_column("verdict", no_wrap=True, width=16)
    table.add_column("checks", ratio=2)
    for law in result.by_law():
        table.add_row(
            text(law.law, limit=None),
            Text(VERDICT_WORDS[law.verdict], style=VERDICT_STYLE[law.verdict]),
            law.words(),
        )
    return table


def audit_table(result: Audit) -> Table:
    """One row per check: law or harm, subject, verdict in words, and why."""
    from socialscore.report.build import VERDICT_WORDS

    table = Table(title=Text.assemble("Audit of ", text(result.scenario)), show_lines=False)
    table.add_column("law or harm")
    table.add_column("about")
    table.add_column("verdict")
    table.add_column("why")
    for c in result.checks:
        table.add_row(
            text(c.law),
            text(c.subject),
            Text(VERDICT_WORDS[c.verdict], style=VERDICT_STYLE[c.verdict]),
            text(c.reason, limit=None),
        )
    return table


def decomposition_table(result: Decomposition) -> Table:
    """One row per gate and part of its selection gap, then a sentence per gate."""
    from socialscore.report import decomposition as words

    table = Table(
        title=Text.assemble(
            "How much of each gate's gap is assumption (selection gap, majority − minority, "
            f"percentage points; {result.population:,} citizens, days "
            f"{result.days[0]}–{result.days[1]}, {result.runs} runs on the same draws)"
        ),
        caption=(
            "A part is nonzero only when its 95% interval (paired jackknife over 16 replicates "
            "of citizens) excludes 0; one-at-a-time parts need not add up (interactions)."
        ),
    )
    table.add_column("gate")
    table.add_column("part")
    table.add_column("points (95% interval)", justify="right")
    table.add_column("nonzero")
    for g in result.gates:
        for k, row in enumerate(words.rows(g)):
            table.add_row(
                text(g.gate) if k == 0 else Text(""),
                text(row["part"], limit=None),
                text(row["gap"]),
                text(row["nonzero"]),
            )
        table.add_section()
    return table


def comparison_table(result: Comparison) -> Table:
    """Headline measures side by side, with differences against the first scenario."""
    from socialscore.report.comparison import shown_rows, table_rows

    t = result.table
    first = result.scenarios[0]
    table = Table(
        title=Text.assemble(
            "Differences against ",
            text(first),
            " (mean over seeds; 95% t interval of the paired differences; one seed: no interval)",
        )
    )
    table.add_column("measure")
    for name in result.scenarios:
        table.add_column(text(name), justify="right")
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
    for row in table_rows(shown_rows(keep, result.rated_events), result.scenarios):
        table.add_row(text(row["label"]), *(text(c) for c in row["cells"]))
    return table


@app.command()
@_output_errors
def report(
    run_id: RunRef,
    out: Out = DEFAULT_ROOT,
) -> None:
    """Rebuild a run's report.html from its stored tables."""
    from socialscore.studies import run as api

    try:
        path = api.rebuild_report(run_id, out=out)
    except LookupError as exc:
        _fail(exc)
    console.print(Text.assemble("Report written to ", _path(path)))


@app.command()
def validate(
    scenario_file: Annotated[str, typer.Argument(metavar="SCENARIO")],
) -> None:
    """Check a scenario file without running it; warn of what it probably does not mean."""
    from socialscore.scenario.lint import lint

    loaded = _load_or_exit(scenario_file)
    found = lint(loaded)
    console.print(
        Text.assemble(
            _path(loaded.path),
            ": valid scenario '",
            text(loaded.scenario.scenario.name),
            "'"
            + (f", with {len(found)} warning{'s' if len(found) > 1 else ''}:" if found else "."),
        )
    )
    for line in found:
        console.print(Text.assemble(("Warning: ", "bold yellow"), text(line, limit=None)))


@app.command()
def keys(
    path: Annotated[
        str,
        typer.Argument(
            metavar="[PATH]",
            help="A key or table, e.g. gates.mortgage or rules (default: every key).",
        ),
    ] = "",
    json_schema: Annotated[
        bool,
        typer.Option("--json-schema", help="Print the JSON Schema of a scenario file instead."),
    ] = False,
) -> None:
    """The scenario key reference: every key, its type, default, bounds and meaning."""
    from socialscore.scenario import reference

    if json_schema:
        sys.stdout.write(reference.json_schema())
        return
    try:
        found = reference.keys(path)
    except KeyError as exc:
        _fail(exc.args[0])
    for k in found:
        default = (
            ""
            if not k.default
            else f"; {k.default}"
            if k.default == "required"
            else (f"; default {k.default}")
        )
        console.print(
            Text.assemble(text(k.path, style="bold", limit=None), f"  ({k.type}{default})")
        )
        if k.meaning:
            console.print(Padding(text(k.meaning, limit=None), (0, 0, 0, 4)))
    console.print(
        "Events, gates and domains: docs/keys.md; JSON Schema for editors: "
        "socialscore keys --json-schema"
    )


#: ``socialscore runs``: more runs match than the limit shows.
RUNS_MORE = (
    "{omitted:,} more not shown (the newest {shown:,} of {matched:,} matching runs); "
    "raise --limit to see them."
)
#: ``socialscore runs``: runs of sweeps were left out.
RUNS_SWEEPS_HIDDEN = (
    "{hidden} of sweeps hidden; --sweeps lists them too, --sweep ID one sweep's runs."
)
#: ``socialscore runs``: nothing to list.
RUNS_NONE = "No runs to show."
#: ``socialscore runs``: columns a narrow terminal left out.
RUNS_COLUMNS_LEFT_OUT = "Left out for width: {columns} (--format csv shows every column)."
#: Narrowest a wrapping column of the runs table is made (when its text is wider).
WRAP_MIN_WIDTH = 12
#: Columns of the runs table whose text wraps when the terminal is narrow.
WRAPPING_COLUMNS = ("scenario", "tags")
#: A table column's border and padding, in characters.
COLUMN_CHROME = 3


@app.command()
def runs(
    out: Out = DEFAULT_ROOT,
    scenario: Annotated[
        str | None, typer.Option(metavar="NAME", help="Only the runs of this scenario.")
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            metavar="KEY=VALUE",
            help="Only the runs with this tag, e.g. audit=true (repeat: every one).",
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="Only the runs created on this day (UTC) or later.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Show the newest N runs (default: {DEFAULT_RUNS_LIMIT} in a table, "
            "every one in csv or json).",
        ),
    ] = None,
    sweeps: Annotated[
        bool, typer.Option("--sweeps", help="Also list the runs of sweeps (hidden by default).")
    ] = False,
    sweep: Annotated[
        str | None, typer.Option("--sweep", metavar="ID", help="Only the runs of this sweep.")
    ] = None,
    output_format: FormatOption = TableFormat.table,
) -> None:
    """List the runs in the catalogue, newest first (runs of sweeps hidden unless asked)."""
    from socialscore.store.catalogue import CatalogueError, OutputLocationError, RunStore
    from socialscore.store.listing import ListingError, RunFilter, parse_tag, select

    try:
        chosen = RunFilter(
            scenario=scenario,
            tags=tuple(parse_tag(t) for t in tag or ()),
            since=None if since is None else since.date(),
            sweep=sweep,
            sweeps=sweeps,
        )
        store = RunStore(out)
        store.reconcile()
        if limit is None and output_format is TableFormat.table:
            limit = DEFAULT_RUNS_LIMIT
        listing = select(store.list_runs(), chosen, limit=limit)
    except ListingError as exc:
        _fail(exc)
    except (CatalogueError, OutputLocationError) as exc:
        _fail(exc, EXIT_CATALOGUE)
    notes = []
    if listing.omitted:
        notes.append(
            RUNS_MORE.format(
                omitted=listing.omitted, shown=len(listing.frame), matched=listing.matched
            )
        )
    if listing.hidden_sweep_runs:
        notes.append(RUNS_SWEEPS_HIDDEN.format(hidden=_runs(listing.hidden_sweep_runs)))
    if output_format is not TableFormat.table:
        _write_rows(_runs_for_output(listing.frame, output_format), output_format)
        for note in notes:
            errors.print(note, markup=False, highlight=False, soft_wrap=True)
        return
    shown = runs_table(listing.frame, Text.assemble("Runs in ", _path(out)), console.width)
    console.print(shown, crop=False)  # a run id wider than the terminal wraps, never cut
    if not listing.matched:
        notes.insert(0, RUNS_NONE)
    for note in notes:
        console.print(note, markup=False, highlight=False, soft_wrap=True)


#: The columns of ``socialscore runs`` after the run id, the most useful first (the run
#: id starts with the moment it was made, so the creation time comes last).
RUNS_COLUMNS = ("scenario", "citizens", "days", "seed", "tags", "created (UTC)")
#: The columns of ``socialscore rm``'s list: how old each run is comes first.
RM_COLUMNS = ("created (UTC)", "scenario", "citizens", "days", "seed", "tags")


def runs_table(
    frame: pd.DataFrame, title: Text, width: int, columns: tuple[str, ...] = RUNS_COLUMNS
) -> Table:
    """Runs as a table that fits ``width``: the whole run id always, then what else fits.

    The other ``columns`` come in the order given and are left out, said in the
    caption, when the terminal is too narrow for them.
    """
    from socialscore.store.listing import tag_text, tags_of

    ids = [text(rid) for rid in frame["run_id"]]
    cells: dict[str, list[Text]] = {
        "scenario": [text(name) for name in frame["scenario_name"]],
        "citizens": [Text(f"{int(p):,}") for p in frame["population"]],
        "days": [Text(str(int(d))) for d in frame["days"]],
        "seed": [Text(str(int(x))) for x in frame["seed"]],
        "tags": [
            text(", ".join(f"{k}={tag_text(v)}" for k, v in tags_of(cell).items()))
            for cell in frame["tags"]
        ],
        "created (UTC)": [Text(f"{moment:%Y-%m-%d %H:%M}") for moment in frame["created_at"]],
    }
    cells = {name: cells[name] for name in columns}
    id_width = max([len("run id"), *(cell.cell_len for cell in ids)])
    kept = _fitting(cells, room=width - 1 - id_width - COLUMN_CHROME)
    table = Table(title=title)
    table.add_column("run id", no_wrap=True, min_width=id_width)
    for name, least in kept.items():
        wraps = name in WRAPPING_COLUMNS
        table.add_column(
            name,
            justify="left" if wraps or name.startswith("created") else "right",
            no_wrap=not wraps,
            min_width=least,
        )
    for k, run_id in enumerate(ids):
        table.add_row(run_id, *(cells[name][k] for name in kept))
    left_out = [name for name in cells if name not in kept]
    if left_out and len(frame):
        table.caption = RUNS_COLUMNS_LEFT_OUT.format(columns=", ".join(left_out))
    return table


def _fitting(cells: dict[str, list[Text]], *, room: int) -> dict[str, int]:
    """The columns, in order, that fit in ``room`` characters, with the width each needs.

    A column needs its widest cell or heading; one of :data:`WRAPPING_COLUMNS` at most
    :data:`WRAP_MIN_WIDTH` (its text wraps). A column that does not fit is skipped and
    the next ones are tried.
    """
    kept = {}
    for name, column in cells.items():
        widest = max([len(name), *(cell.cell_len for cell in column)])
        need = min(widest, WRAP_MIN_WIDTH) if name in WRAPPING_COLUMNS else widest
        if need + COLUMN_CHROME <= room:
            kept[name] = need
            room -= need + COLUMN_CHROME
    return kept


def _runs(count: int) -> str:
    """``1 run``, ``2 runs``, ``1,000 runs``."""
    return f"{count:,} run{'' if count == 1 else 's'}"


def _runs_for_output(frame: pd.DataFrame, output_format: TableFormat) -> pd.DataFrame:
    """The runs' rows for csv (tags as the catalogue's JSON text) or json (tags as an object)."""
    if output_format is TableFormat.json:
        from socialscore.store.listing import tags_of

        return frame.assign(tags=[tags_of(cell) for cell in frame["tags"]])
    return frame


def _write_rows(frame: pd.DataFrame, output_format: TableFormat) -> None:
    """Rows on stdout as CSV or a JSON list of objects, and nothing else.

    CSV text cells show control characters escaped, as every printed cell does
    (:func:`~socialscore.system.terminal.clean`); JSON escapes them itself.
    """
    if output_format is TableFormat.csv:
        shown = frame.map(lambda v: clean(v, limit=None) if isinstance(v, str) else v)
        sys.stdout.write(shown.to_csv(index=False))
        return
    records = json.loads(  # pandas turns NaN into null, timestamps into ISO text
        frame.to_json(orient="records", date_format="iso", double_precision=15, default_handler=str)
    )
    sys.stdout.write(json.dumps(records, indent=2) + "\n")


#: ``socialscore rm``: neither runs nor an age given, or both.
ERR_RM_WHAT = (
    "Name the runs to delete (ids, unique starts of ids, or latest) or give --older-than "
    "AGE (e.g. 30d), not both."
)
#: ``socialscore rm``: nothing matched.
RM_NOTHING = "No run in {root} is older than {age}; nothing deleted."
#: ``socialscore rm``: the user said no.
RM_DECLINED = "Nothing deleted."
#: ``socialscore rm``: a run named but not in the catalogue (a damaged folder).
RM_UNLISTED = "  and {run_id} (not in the catalogue: damaged or left by a crash)"
#: ``socialscore rm``: a run gone before its turn (another process removed it).
RM_GONE = "Run {run_id} was already gone."
#: Exit code of ``socialscore rm`` when the user does not confirm.
EXIT_DECLINED = 1


@app.command("rm")
@_output_errors
def remove(
    run_refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="RUN",
            help="Runs to delete: ids from `socialscore runs`, unique starts of ids, or 'latest'.",
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Instead, every run created more than AGE ago: 12h, 30d or 2w "
            "(runs of sweeps included).",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    out: Out = DEFAULT_ROOT,
) -> None:
    """Delete runs: their folders and their catalogue rows; lists them and asks first."""
    from socialscore.store.catalogue import RunNotFoundError, RunStore

    if bool(run_refs) == (older_than is not None):
        _fail(ERR_RM_WHAT)
    store = RunStore(out)
    store.reconcile()  # complete folders a crash left uncatalogued are listed too
    listed = store.list_runs()
    ids = _runs_to_remove(store, listed, run_refs or [], older_than)
    if not ids:
        console.print(Text(RM_NOTHING.format(root=clean(store.root), age=clean(older_than))))
        return
    chosen = listed[listed["run_id"].isin(ids)].reset_index(drop=True)
    title = Text.assemble(f"{_runs(len(ids))} to delete from ", _path(out))
    console.print(runs_table(chosen, title, console.width, RM_COLUMNS), crop=False)
    for run_id in (i for i in ids if i not in set(chosen["run_id"])):
        console.print(text(RM_UNLISTED.format(run_id=run_id)))
    if not yes and not _confirmed(
        f"Delete {_runs(len(ids))} and {'its' if len(ids) == 1 else 'their'} catalogue rows?"
    ):
        errors.print(RM_DECLINED)
        raise typer.Exit(EXIT_DECLINED)
    removed = 0
    for run_id in ids:
        try:
            store.remove(run_id)
            removed += 1
        except RunNotFoundError:
            console.print(text(RM_GONE.format(run_id=run_id)))
    console.print(f"Deleted {_runs(removed)}.")


def _runs_to_remove(
    store: RunStore, listed: pd.DataFrame, refs: list[str], older_than: str | None
) -> list[str]:
    """The ids ``rm`` deletes: the runs named, or those older than the age (or exit 2)."""
    from socialscore.store.listing import ListingError, parse_age
    from socialscore.store.listing import older_than as old_runs

    try:
        if older_than is not None:
            return [str(r) for r in old_runs(listed, parse_age(older_than))["run_id"]]
        return list(dict.fromkeys(store.resolve(ref) for ref in refs))
    except (ListingError, LookupError) as exc:
        _fail(exc)


def _confirmed(question: str) -> bool:
    """The user's answer (no when there is nobody to answer: stdin closed)."""
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:
        console.print()  # end the question's line
        return False


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    from socialscore import scenario

    for name, path in scenario.shipped_scenarios().items():
        loaded = scenario.load(path)
        console.print(
            Text.assemble(
                text(name, style="bold"),
                ": ",
                text(loaded.scenario.scenario.description, limit=None),
            )
        )


@app.command()
def explain(
    run_id: RunRef,
    citizens: Annotated[
        list[int] | None,
        typer.Argument(metavar="[CITIZEN...]", help="Citizen ids (the citizens table)."),
    ] = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample", help="Find telling cases among 500 citizens instead of naming them."
        ),
    ] = False,
    format: Annotated[
        str,
        typer.Option(
            "--format", help="text (the terminal), json, or html (an offline page per citizen)."
        ),
    ] = "text",
    out: Out = DEFAULT_ROOT,
) -> None:
    """Why was this person denied? Replay a stored run and tell a citizen's story.

    The run is replayed exactly (same scenario, same seed) with tracing on the
    chosen citizens: their scores over time, every change of their record,
    every gate decision with its reasons, and for each adverse decision what
    in their own record would have changed it, or that nothing could have.
    """
    if format not in ("text", "json", "html"):
        _fail(f"--format must be text, json or html, got '{format}'.")
    if not citizens and not sample:
        _fail("Name at least one CITIZEN id, or ask for telling cases with --sample.")
    from socialscore.studies import explain as story
    from socialscore.studies.rerun import RerunError

    bar = _progress(disable=format == "json")
    task = bar.add_task("replaying the run", total=None)

    def progress(done: int, total: int) -> None:
        bar.start()
        bar.update(task, completed=done, total=total)

    try:
        if sample:
            cases, pool = story.sample(run_id, out=out, progress=progress)
            found = [c.trail for c in cases]
        else:
            found = story.trails(run_id, citizens or [], out=out, progress=progress)
    except (LookupError, RerunError, ValueError) as exc:
        bar.stop()
        _fail(exc)
    bar.stop()
    if sample:
        if format == "text":
            console.print(
                text(
                    f"{len(cases)} telling cases among {pool:,} "
                    "citizens spread over the nation: "
                    + "; ".join(f"{c.title} (citizen {c.trail.citizen})" for c in cases)
                    + ".",
                    limit=None,
                )
            )
    if format == "json":
        sys.stdout.write(json.dumps([t.to_dict() for t in found], indent=2) + "\n")
        return
    if format == "html":
        for t in found:
            console.print(
                Text.assemble("Trail written to ", _path(story.write_page(t, out / "trails")))
            )
        return
    for trail in found:
        _print_trail(trail)


def _print_trail(trail: Any) -> None:
    """A citizen's trail in the terminal: who, the score's course, the record, the decisions."""
    who = ", ".join(f"{k}: {v}" for k, v in trail.attributes.items())
    console.print(text(f"Citizen {trail.citizen} of run {trail.run_id}"), style="bold")
    console.print(text(who, limit=None))
    score = trail.score
    if score:
        low, high = min(score), max(score)
        month = ", ".join(f"day {d}: {score[d]}" for d in range(0, len(score), 30))
        console.print(
            text(
                f"Score: {score[0]} after day 0, {score[-1]} after day {len(score) - 1} "
                f"(lowest {low}, highest {high}; grade {trail.grade[-1]}; published "
                f"percentile {trail.percentile[-1]:.1%}). Every 30 days: {month}.",
                limit=None,
            )
        )
    kinds: dict[str, int] = {}
    for c in trail.changes:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    console.print(
        text(
            "Record: "
            + (", ".join(f"{n} {k}" for k, n in kinds.items()) if kinds else "no change")
            + " (points earned or cost by rules, cleared, expired, erroneous records).",
            limit=None,
        )
    )
    biggest = sorted(trail.changes, key=lambda c: -abs(c.points))[:8]
    if biggest:
        table = Table(title="The largest changes of the record", box=box.SIMPLE_HEAD)
        for column in ("day", "what", "points", "kind"):
            table.add_column(column, justify="right" if column in ("day", "points") else "left")
        for c in sorted(biggest, key=lambda c: c.day):
            table.add_row(str(c.day), text(c.what, limit=60), f"{c.points:+.1f}", c.kind)
        console.print(table)
    if trail.friends:
        gone = [f for f in trail.friends if f.dropped_on >= 0]
        mean = sum(f.score_end for f in trail.friends) / len(trail.friends)
        console.print(
            text(
                f"Friends: {len(trail.friends)} (mean published score at the end {mean:.0f}); "
                f"dropped by the citizen: {len(gone)}"
                + "".join(f"; citizen {f.citizen} on day {f.dropped_on} ({f.why})" for f in gone),
                limit=None,
            )
        )
    if trail.dropped_by:
        console.print(
            text(
                f"Dropped by {len(trail.dropped_by)} who counted them as a friend: "
                + "; ".join(
                    f"citizen {who} on day {day} ({why})" for who, day, why in trail.dropped_by
                ),
                limit=None,
            )
        )
    decided = trail.decisions
    favourable = sum(d.favourable for d in decided)
    console.print(
        text(
            f"Decisions: {len(decided)}, {favourable} in the citizen's favour, "
            f"{len(decided) - favourable} against."
        )
    )
    for d in trail.adverse:
        console.print(
            text(
                f"Day {d.day}, {d.gate}: {d.outcome}. The gate read the {d.view}: "
                f"{d.score_read} against {d.threshold:g}."
                + (" The denial came from an erroneous record." if d.erroneous else ""),
                limit=None,
            ),
            style="bold",
        )
        if d.reasons:
            reasons = "; ".join(f"{w} ({p:+.0f})" for w, p in d.reasons)
            console.print(text(f"  Reasons: {reasons}.", limit=None))
        if d.counterfactual:
            console.print(text(f"  What would have changed it: {d.counterfactual}", limit=None))
    console.print()


#: The published models ``validate-model`` reproduces (docs/validation.md).
MODELS = ("liu2018", "damour2020", "ensign2018")


@app.command("validate-model")
def validate_model(
    model: Annotated[str, typer.Argument(help=f"The published model: {', '.join(MODELS)}.")],
    population: Annotated[
        int, typer.Option(help="Citizens in each run (liu2018 only).", min=1_000, max=10_000_000)
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the runs.", min=0)] = 2018,
) -> None:
    """Reproduce a published model with the engine; exit 1 if a figure misses its tolerance."""
    if model not in MODELS:
        _fail(f"No published model '{model}'. Known: {', '.join(MODELS)}.")
    from socialscore.studies import validation

    if model == "liu2018":
        checks = validation.liu2018_checks(population=population, seed=seed)
        title = (
            f"Liu et al. (2018), {population:,} citizens, seed {seed}; White the majority, "
            "Black the minority; score change: the group's mean, in points"
        )
        note = (
            "'model': the same model computed exactly from the scenario's data, each loan's "
            "score clipped to 300-850; the paper clips the expected score instead, which puts "
            "its figures up to 0.4 points higher where scores reach 850 (docs/validation.md)."
        )
    elif model == "ensign2018":
        checks = validation.ensign2018_checks()
        title = (
            "Ensign et al. (2018), the runaway feedback loop: region A's share of the patrols "
            "(its weight over both), mean over 40 seeds"
        )
        note = (
            "'published': the mean over 1,000 runs of the authors' code; A's true share of "
            "incidents is 0.5668 (Top2) or 0.6100 (Random) (docs/validation.md)."
        )
    else:
        checks = validation.damour2020_checks()
        title = (
            "D'Amour et al. (2020), two groups of 100 applicants; repayment chance: "
            "the group's mean chance of repaying a loan"
        )
        note = (
            "'published': the authors' run (seed 200), or the stationary shares of App. A.1 "
            "(lend to all); 'model': the paper's model over 20 seeds (maximum profit), or as "
            "published (docs/validation.md)."
        )
    console.print(title, style="bold")
    for setting in dict.fromkeys(c.setting for c in checks):
        table = Table(title=text(setting), title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("group", "figure"):
            table.add_column(column, no_wrap=True)
        for column in ("published", "model", "ours", "±", "holds"):
            table.add_column(column, justify="right", no_wrap=True)
        for c in (c for c in checks if c.setting == setting):
            table.add_row(
                text(c.group),
                text(c.figure),
                f"{c.published:.4f}",
                f"{c.expected:.4f}",
                f"{c.ours:.4f}",
                f"{c.tolerance:.4f}",
                "yes" if c.holds else "NO",
            )
        console.print(table)
    missed = [c for c in checks if not c.holds]
    console.print(
        f"{len(checks) - len(missed)} of {len(checks)} figures within tolerance of the "
        f"model's expectation. {note}"
    )
    if missed:
        raise typer.Exit(1)


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


def _load_or_exit(name: str) -> LoadedScenario:
    """The scenario, or its errors on stderr (as plain, shortened text) and exit 2."""
    from socialscore import scenario

    try:
        return scenario.load(name)
    except scenario.ScenarioError as exc:
        _fail(exc)


def _fail(message: object, code: int = EXIT_BAD_SCENARIO) -> NoReturn:
    """Print an error to stderr as plain text (long lines cut, control codes shown); exit.

    The message may quote a file path, a scenario's value or a database's words: it is
    never read as markup, and a 10 KB value is shortened to its start and end. The exit
    code is 2 (a usage or input error) unless told otherwise.
    """
    errors.print(Text(clean(message, limit=LINE_LIMIT, multiline=True)), soft_wrap=True)
    raise typer.Exit(code) from None


def _path(path: Path | str) -> Text:
    """A file path as printed: whole (however long), brackets as written, controls escaped."""
    return text(path, limit=None)


def _overridden_or_exit(
    loaded: LoadedScenario,
    *,
    population: int | None,
    days: int | None,
    seed: int | None,
    measure_from: int | None,
) -> Scenario:
    """The scenario with the command line's run settings, or one "Bad option" line each and exit 2.

    Checked before anything runs or is stored, the same way for run, compare and audit.
    """
    from pydantic import ValidationError

    try:
        return loaded.scenario.with_overrides(
            population=population, days=days, seed=seed, measure_from=measure_from
        )
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            option = "--" + str(err["loc"][-1]).replace("_", "-")
            value = shorten(repr(err.get("input")), OPTION_ECHO_LIMIT)
            problem = str(err["msg"]).removeprefix("Value error, ")  # pydantic's wording
            lines.append(ERR_BAD_OPTION.format(option=option, problem=problem, value=value))
        _fail("\n".join(lines))


def _fmt(value: float, *, share: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1%}" if share else f"{value:,.3f}"


def summary_table(result: Result) -> Table:
    """The headline measures of a run, with their 95% intervals, days and words."""
    from socialscore.analysis import disparity
    from socialscore.analysis.definitions import DESCRIPTIONS
    from socialscore.analysis.harms import metric_row, metric_value
    from socialscore.report.build import VERDICT_WORDS
    from socialscore.scenario.vocabulary import GROUP_LABELS
    from socialscore.scenario.window import measurement_window

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


EXIT_RERUN_DIFFERS = 1


@app.command()
@_output_errors
def rerun(
    run_id: RunRef,
    out: Out = DEFAULT_ROOT,
) -> None:
    """Run a stored run again from its resolved scenario; say whether the tables match.

    Exits 1 when a table differs from the original's, 2 when the run cannot be rerun.
    """
    from socialscore.studies import run as api
    from socialscore.studies.rerun import RerunError

    bar = _progress()
    task = bar.add_task("simulating days", total=None)

    def progress(done: int, total: int) -> None:
        bar.start()  # only once the checks passed and the simulation runs
        bar.update(task, completed=done, total=total)

    try:
        done = api.rerun(run_id, out=out, progress=progress)
    except (LookupError, RerunError) as exc:
        bar.stop()
        _fail(exc)
    bar.stop()

    def say(line: str) -> None:
        console.print(text(line, limit=LINE_LIMIT))

    say(f"Rerun of {done.original} written as {done.result.run_id} to {done.result.path}")
    for check in done.tables:
        if check.verdict != "byte-identical":
            columns = f" (columns: {', '.join(check.columns)})" if check.columns else ""
            say(f"  {check.name}: {check.verdict}{columns}")
    for what, then, now in done.environment:
        say(f"  environment {clean(what)}: {clean(then)} then, {clean(now)} now")
    if done.byte_identical:
        say(f"All {len(done.tables)} tables are byte-identical to the original's.")
    elif done.identical:
        say(f"All {len(done.tables)} tables hold the same data (some in other bytes).")
    else:
        differing = ", ".join(c.name for c in done.tables if not c.same)
        say(f"The rerun differs from the original in: {differing}.")
        raise typer.Exit(EXIT_RERUN_DIFFERS)


def main() -> None:
    """Entry point."""
    app()


__all__ = ["app", "main"]
