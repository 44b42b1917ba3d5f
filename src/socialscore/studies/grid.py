"""Sweep grid files: a base scenario, the parameters to vary, seeds, a design, its runs.

A grid file is TOML, data like a scenario::

    [sweep]
    name = "network-and-mortgage"
    base = "citizen-score"      # a shipped scenario or a path relative to this file
    seeds = 3
    population = 20000          # optional: override the base's run size
    days = 120

    [grid]                      # a full factorial design: every combination
    "network.weight" = [0.0, 0.1, 0.2]
    "gates.mortgage.threshold" = { start = 500, stop = 700, step = 100 }

or, instead of ``[grid]``, a sensitivity design over named parameters::

    [sensitivity]
    method = "sobol"            # or "morris"
    samples = 16                # Sobol: samples x (parameters + 2) points
    [sensitivity.parameters]
    "rules[1].points" = [-40, -5]

Parameters are key paths into the scenario (tables by name, lists by index).
A key that does not exist is refused before any run, with the file, the key
and a did-you-mean; a value the scenario rejects fails only its own runs.

Everything that can be checked without running is checked at load, before
the design is built: ranges are finite, non-empty and not reversed; bounds
are finite; ``population``, ``days`` and every seed of the sweep lie within
what the scenario schema (and so the catalogue) accepts; metric names are
metrics the tool computes; and the number of runs (points x seeds, counted
from the file, not by expanding the design) is at most :data:`MAX_RUNS`
unless the file raises it with ``max_runs`` or the caller passes ``force``.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.scenario.errors import ScenarioError, format_errors
from socialscore.scenario.files import load, resolve
from socialscore.scenario.schema import RunSettings
from socialscore.studies import sensitivity
from socialscore.studies.defaults import MAX_RUNS
from socialscore.studies.sensitivity import Sensitivity
from socialscore.studies.shipped import resolve_grid

ERR_GRID_TOML = "{path}: this is not valid TOML ({detail})."
ERR_GRID = "{path}: {count} problem(s) in the grid file; nothing was run."
ERR_ONE = "{problem}; nothing was run."
ERR_KEY = "{path}: {where} '{key}': {problem}"
ERR_DESIGN = "give exactly one of [grid] (a factorial design) or [sensitivity] (a sample design)"
ERR_RANGE_REVERSED = (
    "start = {start:g} is above stop = {stop:g}: the range is empty; "
    "write start <= stop (a decreasing sweep is the same points)"
)
ERR_EMPTY_LIST = "the list of values is empty; give at least one value"
ERR_TOO_MANY_RUNS = (
    "{path}: sweep has {runs:,} runs ({detail}), above the limit of {limit:,}; "
    "make the design smaller, or set [sweep] max_runs = {runs} (or pass --force) "
    "if you mean it."
)
ERR_SEEDS = (
    "{path}: sweep.seeds: the sweep's seeds run from {first} to {last}, but a seed must be "
    "below 2**63 = {bound} (what the catalogue stores); lower sweep.seed (or the base's "
    "run.seed) or sweep.seeds"
)
ERR_METRIC = (
    "{path}: sweep.metrics: '{name}' is not a metric socialscore computes{hint}; "
    "known metrics: {known}"
)

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _run_bound(field: str, kind: Literal["ge", "le", "lt"]) -> int:
    """A bound of ``run.<field>`` in the scenario schema, so a grid accepts the same values."""
    for constraint in RunSettings.model_fields[field].metadata:
        if hasattr(constraint, kind):
            return int(getattr(constraint, kind))
    raise LookupError(f"run.{field} has no '{kind}' bound")  # pragma: no cover


#: Seeds must be below this (the scenario schema's bound; the catalogue stores int64).
SEED_BOUND: Final = _run_bound("seed", "lt")


class Range(_Model):
    """Evenly spaced values from ``start`` to ``stop`` inclusive."""

    start: float = Field(allow_inf_nan=False)
    stop: float = Field(allow_inf_nan=False)
    step: float = Field(gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _not_reversed(self) -> Range:
        if self.stop < self.start:
            raise ValueError(ERR_RANGE_REVERSED.format(start=self.start, stop=self.stop))
        return self

    def count(self) -> int:
        """How many values the range has, without building them."""
        return int((self.stop - self.start) / self.step + 1e-9) + 1

    def values(self) -> list[float]:
        """The values of the range, ``stop`` included when it falls on a step."""
        return [self.start + k * self.step for k in range(self.count())]


def _axis_kind(value: Any) -> str:
    return "range" if isinstance(value, dict | Range) else "list"


#: One axis of a factorial grid: a non-empty list of values or a range. The
#: discriminator picks the form, so an error names only the form that was meant.
Axis = Annotated[
    Annotated[list[Any], Field(min_length=1), Tag("list")] | Annotated[Range, Tag("range")],
    Discriminator(_axis_kind),
]


class SweepSettings(_Model):
    """What to sweep over and how many seeds."""

    name: str = Field(min_length=1, max_length=80)
    base: str
    seeds: int = Field(1, ge=1, le=1000)
    seed: int | None = Field(None, ge=0, lt=SEED_BOUND)
    population: int | None = Field(
        None, ge=_run_bound("population", "ge"), le=_run_bound("population", "le")
    )
    days: int | None = Field(None, ge=_run_bound("days", "ge"), le=_run_bound("days", "le"))
    metrics: list[str] | None = None
    max_runs: int | None = Field(None, ge=1)  # raises MAX_RUNS for this grid


class GridFile(_Model):
    """A whole grid file."""

    sweep: SweepSettings
    grid: dict[str, Axis] | None = None
    sensitivity: Sensitivity | None = None

    @model_validator(mode="after")
    def _one_design(self) -> GridFile:
        if (self.grid is None) == (self.sensitivity is None):
            raise ValueError(ERR_DESIGN)
        return self

    def points(self) -> int:
        """Points of the design, counted from the file without building it."""
        if self.sensitivity is not None:
            return self.sensitivity.points()
        return math.prod(
            v.count() if isinstance(v, Range) else len(v) for v in (self.grid or {}).values()
        )

    def runs(self) -> int:
        """Runs of the sweep: points x seeds (a Morris design may repeat a few points)."""
        return self.points() * self.sweep.seeds


@dataclass(frozen=True)
class Point:
    """One combination of parameter values (a row of the design)."""

    index: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Grid:
    """A loaded grid: the base scenario's data, the design points and seeds."""

    path: str
    spec: GridFile
    base_data: dict[str, Any]  # the resolved base scenario, as JSON-ready data
    points: list[Point]
    seeds: list[int]
    design: Any = None  # the sample matrix of a sensitivity design (numpy array)

    @property
    def sweep_id(self) -> str:
        """Stable id: the name plus a hash of the grid and the base scenario."""
        digest = hashlib.sha256(
            json.dumps(
                {
                    # max_runs is consent to a size, not part of what is run.
                    "spec": self.spec.model_dump(mode="json", exclude={"sweep": {"max_runs"}}),
                    "base": self.base_data,
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()[:10]
        slug = re.sub(r"[^a-z0-9]+", "-", self.spec.sweep.name.lower()).strip("-")[:40]
        return f"{slug}-{digest}"

    @property
    def parameters(self) -> list[str]:
        """The varied key paths, in file order."""
        if self.spec.sensitivity is not None:
            return list(self.spec.sensitivity.parameters)
        return list(self.spec.grid or {})


def split_key(key: str) -> list[str | int]:
    """``"rules[1].points"`` → ``["rules", 1, "points"]``."""
    parts: list[str | int] = [int(index) if index else name for name, index in _PART.findall(key)]
    rebuilt = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    if not parts or rebuilt != key:
        raise ValueError(
            "is not a key path; write tables.by.name and lists[0], e.g. rules[1].points"
        )
    return parts


def _check_key(data: dict[str, Any], key: str) -> str | None:
    """None when ``key`` names an existing value in ``data``, else the problem in words."""
    node: Any = data
    try:
        parts = split_key(key)
    except ValueError as exc:
        return str(exc)
    for part in parts:
        if isinstance(part, int):
            if not isinstance(node, list):
                return "is not a list here; use a table key instead of [index]"
            if part >= len(node):
                return f"index [{part}] is out of range (the list has {len(node)} entries)"
            node = node[part]
        else:
            if not isinstance(node, dict):
                return f"'{part}' is inside a value that is not a table"
            if part not in node:
                close = difflib.get_close_matches(part, list(node), n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                return f"no key '{part}'{hint}; keys here: {', '.join(sorted(node))}"
            node = node[part]
    if isinstance(node, dict | list):
        return "names a table or list, not a single value"
    return None


def apply(data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of scenario ``data`` with each key path set to its value.

    A value for an integer setting (e.g. a threshold) is rounded to an integer.
    """
    out: dict[str, Any] = json.loads(json.dumps(data))
    for key, value in params.items():
        parts = split_key(key)
        node: Any = out
        for part in parts[:-1]:
            node = node[part]
        last = parts[-1]
        old = node[last]
        if isinstance(old, bool):
            node[last] = bool(value)
        elif isinstance(old, int) and not isinstance(old, bool):
            node[last] = round(float(value))
        else:
            node[last] = value
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such grid file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(ERR_GRID_TOML.format(path=path, detail=exc)) from None


def _refuse(path: Path, problems: list[str]) -> ScenarioError:
    """One line for one problem; a header and one line each for several."""
    if len(problems) == 1:
        return ScenarioError(ERR_ONE.format(problem=problems[0].rstrip(".")))
    return ScenarioError("\n".join([ERR_GRID.format(path=path, count=len(problems)), *problems]))


def _metric_problems(path: Path, metrics: list[str] | None) -> list[str]:
    known = sorted(DESCRIPTIONS)
    problems = []
    for entry in metrics or []:
        name = entry.split(":")[0]
        if name in DESCRIPTIONS:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(ERR_METRIC.format(path=path, name=name, hint=hint, known=", ".join(known)))
    return problems


def _size_detail(spec: GridFile) -> str:
    seeds = f"{spec.sweep.seeds} seed" + ("s" if spec.sweep.seeds != 1 else "")
    if spec.sensitivity is not None:
        s = spec.sensitivity
        k = len(s.parameters)
        shape = f"{s.samples} x ({k} + 2)" if s.method == "sobol" else f"{s.samples} x ({k} + 1)"
        return f"{s.method} design of {shape} = {spec.points():,} points x {seeds}"
    sizes = [v.count() if isinstance(v, Range) else len(v) for v in (spec.grid or {}).values()]
    return f"{' x '.join(f'{n:,}' for n in sizes)} points x {seeds}"


def load_grid(path: str | Path, *, force: bool = False) -> Grid:
    """Read and check a grid file; expand its design into points.

    Args:
        path: The grid file, or the name of a shipped grid (:mod:`.shipped`).
        force: Accept more runs than :data:`MAX_RUNS` (or the file's ``max_runs``).

    Raises:
        ScenarioError: A one-line refusal (or a list of them) naming the file and
            key, before the design is built and before any run.
    """
    path = resolve_grid(path)
    raw = _read(path)
    try:
        spec = GridFile.model_validate(raw)
    except ValidationError as exc:
        lines = format_errors(exc, str(path)).splitlines()[1:]
        raise _refuse(path, [line.strip() for line in lines]) from None
    problems = _metric_problems(path, spec.sweep.metrics)
    runs, limit = spec.runs(), spec.sweep.max_runs or MAX_RUNS
    if runs > limit and not force:
        problems.append(
            ERR_TOO_MANY_RUNS.format(path=path, runs=runs, detail=_size_detail(spec), limit=limit)
        )
    if problems:
        raise _refuse(path, problems)
    base_ref = spec.sweep.base
    candidate = path.parent / base_ref
    base_path = candidate if candidate.is_file() else resolve(base_ref)
    base = load(base_path).scenario
    try:
        base = base.with_overrides(
            population=spec.sweep.population, days=spec.sweep.days, seed=spec.sweep.seed
        )
    except ValidationError as exc:  # pragma: no cover - the sweep's own bounds catch these
        raise ScenarioError(format_errors(exc, f"{path} [sweep]")) from None
    first = base.run.seed
    last = first + spec.sweep.seeds - 1
    if last >= SEED_BOUND:
        problem = ERR_SEEDS.format(path=path, first=first, last=last, bound=SEED_BOUND)
        raise _refuse(path, [problem])
    data = json.loads(base.model_dump_json(by_alias=True))
    keys = list(spec.grid or {}) or list(spec.sensitivity.parameters if spec.sensitivity else {})
    where = "grid key" if spec.grid is not None else "sensitivity parameter"
    problems = [
        ERR_KEY.format(path=path, where=where, key=key, problem=wrong)
        for key in keys
        if (wrong := _check_key(data, key)) is not None
    ]
    if problems:
        raise _refuse(path, problems)
    design = None
    if spec.grid is not None:
        axes = [v.values() if isinstance(v, Range) else list(v) for v in spec.grid.values()]
        points = [
            Point(k, dict(zip(keys, combo, strict=True)))
            for k, combo in enumerate(itertools.product(*axes))
        ]
    else:
        assert spec.sensitivity is not None
        design = sensitivity.sample(spec.sensitivity, seed=base.run.seed)
        points = [
            Point(k, {key: float(x) for key, x in zip(keys, row, strict=True)})
            for k, row in enumerate(design)
        ]
    return Grid(
        path=str(path),
        spec=spec,
        base_data=data,
        points=points,
        seeds=[first + s for s in range(spec.sweep.seeds)],
        design=design,
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
    report: bool = False  # the run writes its report.html (``sweep --reports``)
    #: The shared chart library the report loads, relative to the run folder (None: inline).
    chart_library: str | None = None

    @property
    def run_key(self) -> str:
        """Identity of the run: same scenario data and seed → same key."""
        return hashlib.sha256(f"{self.scenario_json}|{self.seed}".encode()).hexdigest()[:16]


def parameter_words(key: str, base: dict[str, Any]) -> str:
    """A varied key path in words, the path kept.

    "points of rule 9 ('Late bill') (rules[9].points)": rules are named by
    their label (else their event), gates and streams by name.
    """
    field = key.rsplit(".", 1)[-1].replace("_", " ")
    parts = key.split(".")
    head = parts[0]
    if head.startswith("rules[") and len(parts) == 2:
        k = int(head[len("rules[") : -1])
        rules = base.get("rules") or []
        rule = rules[k] if 0 <= k < len(rules) else {}
        name = rule.get("label") or rule.get("event") or f"rule {k}"
        return f"{field} of rule {k} ('{name}') ({key})"
    if head in ("gates", "streams") and len(parts) == 3:
        return f"{parts[1].replace('_', ' ')} {field} ({key})"
    return key


def tasks(
    grid: Grid, out: str | Path, *, reports: bool = False, chart_library: str | None = None
) -> list[Task]:
    """Every (point, seed) run of a grid.

    ``reports``: each writes its report.html, loading ``chart_library`` (a shared
    copy, relative to the run folder) when given.
    """
    out_text = str(out)
    result = []
    for point in grid.points:
        data = apply(grid.base_data, point.params)
        text = json.dumps(data, sort_keys=True)
        for seed in grid.seeds:
            result.append(
                Task(
                    grid.sweep_id,
                    point.index,
                    seed,
                    point.params,
                    text,
                    out_text,
                    reports,
                    chart_library,
                )
            )
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def category_label(value: Any) -> str:
    """How a categorical parameter's value is shown and stored: a string as is, else JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def categories(grid: Grid) -> dict[str, list[str]]:
    """The categorical parameters of a grid and their categories, in the grid file's order.

    A parameter is categorical when any of its values is not a number (a
    string, a boolean); a sensitivity design has only numeric parameters.
    """
    out: dict[str, list[str]] = {}
    for parameter in grid.parameters:
        values = [point.params[parameter] for point in grid.points]
        if not all(_is_number(v) for v in values):
            out[parameter] = list(dict.fromkeys(category_label(v) for v in values))
    return out
