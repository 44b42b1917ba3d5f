"""Rerunning a stored run: read back what it ran, check it, compare the tables.

A run folder keeps the fully resolved scenario (``scenario.toml``), its hash
(``scenario.sha256``) and the environment it ran in (``environment.json``).
:func:`load_stored` reads them back and refuses a folder it cannot trust: one
stored before run folders kept these files, or whose scenario no longer
matches its hash. :func:`compare_tables` says, table by table, whether a
rerun's Parquet files came out byte-identical, with the same data in other
bytes, or different (and in which columns). :func:`socialscore.studies.run.rerun`
puts it together.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from socialscore.scenario.errors import ScenarioError
from socialscore.scenario.files import LoadedScenario, parse
from socialscore.store.durable import sha256
from socialscore.studies.environment import ENVIRONMENT_FILE

ERR_OLD_RUN = (
    "{run_id}: stored by an older socialscore (no environment.json), whose scenario.toml "
    "may be JSON or only the changes over a parent file, so it cannot be rerun exactly; "
    "`socialscore report {run_id}` still works, and `socialscore run` makes a new run."
)
ERR_UNREADABLE = "{path}: {detail}; the run folder was damaged or edited, so the run is not rerun."
ERR_EXTENDS = (
    "{path}: names a parent scenario with `extends`, so a rerun would depend on whatever "
    "parent is installed now; the stored scenario must be fully resolved. Not rerun."
)
ERR_TAMPERED = (
    "{path}: the scenario was changed after the run (its sha256 is {actual:.12}…, "
    "{sha_file} records {expected:.12}…), so it is not rerun; restore the file, or run it "
    "as a new scenario with `socialscore run {path}`."
)

#: How a table of the rerun compares with the original's.
TableVerdict = Literal["byte-identical", "same data", "differs", "missing in rerun", "new in rerun"]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class RerunError(ValueError):
    """A stored run cannot be rerun; the message says why, in one line."""


@dataclass(frozen=True)
class StoredRun:
    """What a run folder says about how the run was made."""

    run_id: str
    folder: Path
    loaded: LoadedScenario
    environment: dict[str, Any]
    audit_thresholds: dict[str, Any] | None
    decompose: bool = False
    trace: tuple[int, ...] = ()  # the citizens the run traced by name (``run(trace=...)``)


@dataclass(frozen=True)
class TableCheck:
    """One table of a rerun against the original's; ``columns`` lists differing columns."""

    name: str
    verdict: TableVerdict
    columns: tuple[str, ...] = ()

    @property
    def same(self) -> bool:
        """Whether the table holds the same data (whatever its bytes)."""
        return self.verdict in ("byte-identical", "same data")


def load_stored(folder: Path, run_id: str) -> StoredRun:
    """Read a run folder's resolved scenario, check it against its hash, and its environment.

    Args:
        folder: The complete run folder.
        run_id: Its run id (for messages).

    Returns:
        The stored run.

    Raises:
        RerunError: The folder is from an older socialscore, or a file is
            missing, unreadable, not fully resolved or changed since the run.
    """
    env_path = folder / ENVIRONMENT_FILE
    if not env_path.is_file():
        raise RerunError(ERR_OLD_RUN.format(run_id=run_id))
    environment = _read_json(env_path)
    toml_path = folder / "scenario.toml"
    text = _read_text(toml_path)
    try:
        if "extends" in tomllib.loads(text):
            raise RerunError(ERR_EXTENDS.format(path=toml_path))
        loaded = parse(text, source=str(toml_path))
    except tomllib.TOMLDecodeError as exc:
        raise RerunError(
            ERR_UNREADABLE.format(path=toml_path, detail=f"not TOML ({exc})")
        ) from None
    except ScenarioError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines[:2])  # the header and the first problem, on one line
        raise RerunError(ERR_UNREADABLE.format(path=toml_path, detail=detail)) from None
    sha_path = folder / "scenario.sha256"
    expected = _read_text(sha_path).strip()
    if not _SHA256_RE.match(expected):
        raise RerunError(ERR_UNREADABLE.format(path=sha_path, detail="not a sha256 hex digest"))
    if loaded.sha256 != expected:
        raise RerunError(
            ERR_TAMPERED.format(
                path=toml_path, actual=loaded.sha256, sha_file=sha_path.name, expected=expected
            )
        )
    run_json = _read_json(folder / "run.json")
    thresholds = run_json.get("audit_thresholds")
    return StoredRun(
        run_id=run_id,
        folder=folder,
        loaded=loaded,
        environment=environment,
        audit_thresholds=dict(thresholds) if isinstance(thresholds, dict) else None,
        decompose=run_json.get("decompose") is True,
        trace=tuple(int(i) for i in run_json.get("trace", [])),
    )


def read_environment(folder: Path) -> dict[str, Any]:
    """A run folder's ``environment.json`` (empty for a run stored before it existed)."""
    path = folder / ENVIRONMENT_FILE
    return _read_json(path) if path.is_file() else {}


def compare_tables(original: Path, rerun: Path) -> list[TableCheck]:
    """Every Parquet table of two run folders, compared by bytes, then by data.

    Tables are compared column by column (floats with NaN equal to NaN), so a
    large table is never held whole in memory twice.

    Args:
        original: The original run's folder.
        rerun: The rerun's folder.

    Returns:
        One check per table name found in either folder, sorted by name.
    """
    names = sorted(
        {p.stem for p in original.glob("*.parquet")} | {p.stem for p in rerun.glob("*.parquet")}
    )
    checks: list[TableCheck] = []
    for name in names:
        a, b = original / f"{name}.parquet", rerun / f"{name}.parquet"
        if not b.is_file():
            checks.append(TableCheck(name, "missing in rerun"))
        elif not a.is_file():
            checks.append(TableCheck(name, "new in rerun"))
        elif sha256(a) == sha256(b):
            checks.append(TableCheck(name, "byte-identical"))
        else:
            differing = _differing_columns(a, b)
            checks.append(TableCheck(name, "differs" if differing else "same data", differing))
    return checks


def _differing_columns(a: Path, b: Path) -> tuple[str, ...]:
    schema_a, schema_b = pq.read_schema(a), pq.read_schema(b)
    names = list(dict.fromkeys([*schema_a.names, *schema_b.names]))
    differing: list[str] = []
    for name in names:
        if name not in schema_a.names or name not in schema_b.names:
            differing.append(name)
            continue
        col_a = pq.read_table(a, columns=[name]).column(0)
        col_b = pq.read_table(b, columns=[name]).column(0)
        if not _columns_equal(col_a, col_b):
            differing.append(name)
    return tuple(differing)


def _columns_equal(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    if a.type != b.type or len(a) != len(b):
        return False
    if a.equals(b):
        return True
    if not pa.types.is_floating(a.type):
        return False
    nulls_a = a.is_null().to_numpy(zero_copy_only=False)
    nulls_b = b.is_null().to_numpy(zero_copy_only=False)
    if not np.array_equal(nulls_a, nulls_b):
        return False
    values_a = a.to_numpy(zero_copy_only=False)[~nulls_a]
    values_b = b.to_numpy(zero_copy_only=False)[~nulls_b]
    return bool(np.array_equal(values_a, values_b, equal_nan=True))


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise RerunError(ERR_UNREADABLE.format(path=path, detail="the file is missing")) from None
    except (OSError, UnicodeDecodeError) as exc:
        detail = f"cannot be read ({type(exc).__name__})"
        raise RerunError(ERR_UNREADABLE.format(path=path, detail=detail)) from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(_read_text(path))
    except json.JSONDecodeError:
        raise RerunError(ERR_UNREADABLE.format(path=path, detail="not valid JSON")) from None
    if not isinstance(doc, dict):
        raise RerunError(ERR_UNREADABLE.format(path=path, detail="not a JSON object"))
    return doc


__all__ = [
    "ERR_EXTENDS",
    "ERR_OLD_RUN",
    "ERR_TAMPERED",
    "ERR_UNREADABLE",
    "RerunError",
    "StoredRun",
    "TableCheck",
    "compare_tables",
    "load_stored",
    "read_environment",
]
