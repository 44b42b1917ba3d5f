"""Sweep grid files: a base scenario, the parameters to vary, seeds, a design.

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
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialscore.scenario import ScenarioError, format_errors, load, resolve

ERR_GRID_TOML = "{path}: this is not valid TOML ({detail})."
ERR_GRID = "{path}: {count} problem(s) in the grid file; nothing was run."
ERR_KEY = "{path}: {where} '{key}': {problem}"
ERR_DESIGN = "give exactly one of [grid] (a factorial design) or [sensitivity] (a sample design)"

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Model):
    """Evenly spaced values from ``start`` to ``stop`` inclusive."""

    start: float
    stop: float
    step: float = Field(gt=0)

    def values(self) -> list[float]:
        """The values of the range, ``stop`` included when it falls on a step."""
        count = int((self.stop - self.start) / self.step + 1e-9) + 1
        return [self.start + k * self.step for k in range(max(count, 0))]


class SweepSettings(_Model):
    """What to sweep over and how many seeds."""

    name: str = Field(min_length=1, max_length=80)
    base: str
    seeds: int = Field(1, ge=1, le=1000)
    seed: int | None = Field(None, ge=0)
    population: int | None = Field(None, ge=100)
    days: int | None = Field(None, ge=1)
    metrics: list[str] | None = None


class Sensitivity(_Model):
    """A sensitivity design over named parameters with bounds."""

    method: Literal["sobol", "morris"] = "sobol"
    samples: int = Field(16, ge=2, le=100_000)
    levels: int = Field(4, ge=2, le=20)  # Morris grid levels
    parameters: dict[str, tuple[float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _bounds(self) -> Sensitivity:
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(
                f"samples = {self.samples}: a Sobol design needs a power of two (e.g. 8, 16, 32)"
            )
        for key, (lo, hi) in self.parameters.items():
            if not lo < hi:
                raise ValueError(f"sensitivity.parameters.'{key}': need lower < upper bound")
        return self


class GridFile(_Model):
    """A whole grid file."""

    sweep: SweepSettings
    grid: dict[str, list[Any] | Range] | None = None
    sensitivity: Sensitivity | None = None

    @model_validator(mode="after")
    def _one_design(self) -> GridFile:
        if (self.grid is None) == (self.sensitivity is None):
            raise ValueError(ERR_DESIGN)
        return self


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
                    "spec": self.spec.model_dump(mode="json"),
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


def load_grid(path: str | Path) -> Grid:
    """Read and check a grid file; expand its design into points."""
    path = Path(path)
    raw = _read(path)
    try:
        spec = GridFile.model_validate(raw)
    except ValidationError as exc:
        text = format_errors(exc, str(path)).replace("problem(s) in the scenario", "problem(s)")
        raise ScenarioError(text) from None
    base_ref = spec.sweep.base
    candidate = path.parent / base_ref
    base_path = candidate if candidate.is_file() else resolve(base_ref)
    base = load(base_path).scenario
    base = base.with_overrides(
        population=spec.sweep.population, days=spec.sweep.days, seed=spec.sweep.seed
    )
    data = json.loads(base.model_dump_json(by_alias=True))
    keys = list(spec.grid or {}) or list(spec.sensitivity.parameters if spec.sensitivity else {})
    where = "grid key" if spec.grid is not None else "sensitivity parameter"
    problems = [
        ERR_KEY.format(path=path, where=where, key=key, problem=problem)
        for key in keys
        if (problem := _check_key(data, key)) is not None
    ]
    if problems:
        raise ScenarioError("\n".join([ERR_GRID.format(path=path, count=len(problems)), *problems]))
    design = None
    if spec.grid is not None:
        axes = [v.values() if isinstance(v, Range) else list(v) for v in spec.grid.values()]
        points = [
            Point(k, dict(zip(keys, combo, strict=True)))
            for k, combo in enumerate(itertools.product(*axes))
        ]
    else:
        from socialscore.sensitivity import sample

        assert spec.sensitivity is not None
        design = sample(spec.sensitivity, seed=base.run.seed)
        points = [
            Point(k, {key: float(x) for key, x in zip(keys, row, strict=True)})
            for k, row in enumerate(design)
        ]
    first = base.run.seed
    return Grid(
        path=str(path),
        spec=spec,
        base_data=data,
        points=points,
        seeds=[first + s for s in range(spec.sweep.seeds)],
        design=design,
    )
