"""Scenario files: finding, reading and validating them.

A scenario is named by a path or by the name of a shipped scenario (package
data in ``shipped/``). A file may start from another with ``extends``. A file
that is not a scenario is refused in one line saying why, before any work.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from socialscore.scenario.errors import ScenarioError, format_errors, toml_error
from socialscore.scenario.schema import Scenario

ERR_NOT_FOUND = "{path}: no such scenario file. Shipped scenarios: {shipped}."
ERR_FOLDER = "{path}: this is a folder, not a scenario file; give a scenario .toml file."
ERR_NOT_REGULAR = "{path}: not a scenario file: not a regular file; give a scenario .toml file."
ERR_UNREADABLE = "{path}: cannot read this scenario file ({reason})."
ERR_TOO_BIG = (
    "{path}: not a scenario file: larger than {limit:,} bytes (a scenario is a few kilobytes)."
)
ERR_NOT_TEXT = "{path}: not a scenario file: not UTF-8 text ({detail}); give a TOML scenario file."
ERR_EMPTY = (
    "{path}: not a scenario file: it is empty; a scenario needs at least [scenario] name "
    "and [score] grades (see the shipped scenarios)."
)
ERR_NOT_SCENARIO = (
    "{path}: not a scenario file: it has {found} but none of a scenario's tables "
    "([scenario], [score], [run], [rules], ...).{hint}"
)
HINT_GRID = " It looks like a sweep grid: run it with `socialscore sweep`."
ERR_LIST_OVERRIDE = (
    "{path}: {key}: this file gives {given} and the scenario it extends, '{parent}', has "
    '{count} already. Say which you mean: replace them with `replace = ["{key}"]` at the '
    "top of the file, or add yours to them by writing each as [[add.{key}]]."
)
ERR_REPLACE = (
    "{path}: replace: give a list of the keys whose lists this file replaces, e.g. "
    'replace = ["rules"]; got {value!r}.'
)
ERR_REPLACE_UNUSED = (
    "{path}: replace: '{key}' is not a list this file gives and its parent has; "
    "remove it from replace."
)
ERR_ADD = (
    "{path}: add.{key}: only lists of tables can be added to, written [[add.{key}]]; got {value!r}."
)
ERR_ADD_WITHOUT_EXTENDS = (
    "{path}: add and replace only mean something in a file that extends another; "
    'remove them or add `extends = "NAME"`.'
)

#: Largest scenario file read (bytes): a scenario is a few kilobytes of text.
MAX_FILE_BYTES = 1_000_000

#: Folder of the scenarios shipped with socialscore: package data, a real folder next to
#: this module in an editable install and in an installed wheel alike. A path, not an
#: importlib.resources handle: a run records its scenario's path and ``extends`` reads
#: the file's siblings, and socialscore never runs from a zip (numba caches its kernels
#: beside the modules).
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


class LoadedScenario(BaseModel):
    """A validated scenario together with its source text and hash."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    text: str  # the file as written
    sha256: str  # hash of the resolved, validated scenario (after ``extends``)
    path: str
    #: What the file leaves to its parent that it may not mean to (``scenario.lint``):
    #: the scenario it extends, or None; whether it names itself.
    extends: str | None = None
    own_name: bool = True


def shipped_scenarios() -> dict[str, Path]:
    """Return the shipped scenario files by name."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def resolve(name_or_path: str | Path) -> Path:
    """Return the file for a path, or for the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    if path.stem in shipped and not path.parent.parts:
        return shipped[path.stem]
    if path.is_dir():
        raise ScenarioError(ERR_FOLDER.format(path=path))
    if path.exists():
        raise ScenarioError(ERR_NOT_REGULAR.format(path=path))
    raise ScenarioError(ERR_NOT_FOUND.format(path=path, shipped=", ".join(shipped)))


def load(name_or_path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file (or a shipped scenario by name)."""
    path = resolve(name_or_path)
    return parse(read_text(path), source=str(path))


def read_text(path: Path) -> str:
    """The text of a scenario file, or a one-line ScenarioError saying why it is not one.

    Refused: a folder or other non-regular file, a file that cannot be read,
    one larger than :data:`MAX_FILE_BYTES`, one that is not UTF-8 text (or
    holds NUL bytes, as binary files do). A UTF-8 byte-order mark is dropped.
    An empty file, or one with only comments, is refused once parsed (:func:`parse`).
    """
    if path.is_dir():
        raise ScenarioError(ERR_FOLDER.format(path=path))
    if path.exists() and not path.is_file():
        raise ScenarioError(ERR_NOT_REGULAR.format(path=path))
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(ERR_UNREADABLE.format(path=path, reason=exc.strerror or exc)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(ERR_TOO_BIG.format(path=path, limit=MAX_FILE_BYTES))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        detail = f"byte {exc.start} is 0x{raw[exc.start]:02x}"
        raise ScenarioError(ERR_NOT_TEXT.format(path=path, detail=detail)) from None
    if "\x00" in text:
        detail = f"a NUL byte at character {text.index(chr(0))}"
        raise ScenarioError(ERR_NOT_TEXT.format(path=path, detail=detail))
    return text


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(toml_error(exc, text, source)) from None


def _check_is_scenario(data: dict[str, Any], source: str) -> None:
    """Refuse TOML that is not a scenario at all (empty, or none of a scenario's tables)."""
    if not data:
        raise ScenarioError(ERR_EMPTY.format(path=source))
    known = set(Scenario.model_fields) | {"extends", "replace", "add"}
    if known.isdisjoint(data):
        names = [f"[{_short(str(key), 30)}]" for key in list(data)[:4]]
        found = ", ".join(names) + (", ..." if len(data) > 4 else "")
        hint = HINT_GRID if "sweep" in data else ""
        raise ScenarioError(ERR_NOT_SCENARIO.format(path=source, found=found, hint=hint))


def _short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis and the length say it was cut)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _is_table_list(value: object) -> bool:
    """A non-empty TOML array of tables (``[[rules]]``)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _merge(
    base: dict[str, Any],
    override: dict[str, Any],
    *,
    replace: set[str],
    used: set[str],
    where: tuple[str, str],
    problems: list[str],
    path: str = "",
) -> dict[str, Any]:
    """Tables merge key by key; any other value replaces the parent's.

    A list of tables the parent has (``rules``, ``history``, ``score.grades``,
    ...) is replaced only when the file says so (its key in ``replace``;
    ``used`` collects those met): a file that adds one ``[[rules]]`` block and
    silently drops the parent's thirteen is refused (each such list is added
    to ``problems``). ``where``: (file, parent).
    """
    out = dict(base)
    for key, value in override.items():
        dotted = f"{path}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(
                out[key],
                value,
                replace=replace,
                used=used,
                where=where,
                problems=problems,
                path=f"{dotted}.",
            )
            continue
        if isinstance(value, list) and _is_table_list(out.get(key)):
            if dotted not in replace:
                given = f"{len(value)} [[{dotted}]]" if value else f"{dotted} = []"
                problems.append(
                    ERR_LIST_OVERRIDE.format(
                        path=where[0],
                        key=dotted,
                        given=given,
                        parent=where[1],
                        count=len(out[key]),
                    )
                )
            used.add(dotted)
        out[key] = value
    return out


def _add(merged: dict[str, Any], add: object, source: str, path: str = "") -> None:
    """Append each ``[[add.KEY]]`` list to the merged scenario's list at KEY."""
    if not isinstance(add, dict):
        raise ScenarioError(ERR_ADD.format(path=source, key=path.rstrip(".") or "", value=add))
    for key, value in add.items():
        dotted = f"{path}{key}"
        if isinstance(value, dict):
            inner = merged.setdefault(key, {})
            if not isinstance(inner, dict):
                raise ScenarioError(ERR_ADD.format(path=source, key=dotted, value=value))
            _add(inner, value, source, f"{dotted}.")
        elif _is_table_list(value) and isinstance(merged.get(key, []), list):
            merged[key] = [*merged.get(key, []), *value]
        else:
            raise ScenarioError(ERR_ADD.format(path=source, key=dotted, value=value))


def _resolve_extends(data: dict[str, Any], source: str, seen: tuple[str, ...]) -> dict[str, Any]:
    parent = data.pop("extends", None)
    replace = data.pop("replace", None)
    add = data.pop("add", None)
    if parent is None:
        if replace is not None or add is not None:
            raise ScenarioError(ERR_ADD_WITHOUT_EXTENDS.format(path=source))
        return data
    if not isinstance(parent, str):
        raise ScenarioError(
            f"{source}: extends: must be a scenario name or a path, got {parent!r}."
        )
    if replace is not None and not (
        isinstance(replace, list) and all(isinstance(k, str) for k in replace)
    ):
        raise ScenarioError(ERR_REPLACE.format(path=source, value=replace))
    here = Path(source).parent
    candidate = here / parent
    try:
        path = candidate if candidate.is_file() else resolve(parent)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: extends: {exc}") from None
    key = str(path.resolve())
    if key in seen:
        raise ScenarioError(
            f"{source}: extends: '{parent}' leads back to itself; remove the cycle."
        )
    base = _read_toml(read_text(path), str(path))
    base = _resolve_extends(base, str(path), (*seen, key))
    wanted, used, problems = set(replace or []), set[str](), list[str]()
    merged = _merge(
        base, data, replace=wanted, used=used, where=(source, parent), problems=problems
    )
    problems += [ERR_REPLACE_UNUSED.format(path=source, key=k) for k in sorted(wanted - used)]
    if problems:
        raise ScenarioError("\n".join(problems))
    if add is not None:
        _add(merged, add, source)
    return merged


def parse(text: str, *, source: str = "<string>") -> LoadedScenario:
    """Validate scenario TOML text; ``source`` names it in error messages.

    A file may start from another with ``extends = "NAME-OR-PATH"``: its tables
    are merged key by key over the other's. A list of tables the other has
    (``rules``, ``history``, ``score.grades``, ...) is replaced only with
    ``replace = ["rules"]``; ``[[add.rules]]`` blocks are added to it instead.
    """
    data = _read_toml(text, source)
    _check_is_scenario(data, source)
    parent = data.get("extends")
    about = data.get("scenario")
    own_name = isinstance(about, dict) and "name" in about
    data = _resolve_extends(data, source, (str(Path(source).resolve()),))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, source)) from None
    return LoadedScenario(
        scenario=scenario,
        text=text,
        sha256=digest(scenario),
        path=source,
        extends=parent if isinstance(parent, str) else None,
        own_name=own_name,
    )


def digest(scenario: Scenario) -> str:
    """The sha256 of a validated scenario's canonical JSON (the same after ``extends``)."""
    return hashlib.sha256(scenario.model_dump_json(by_alias=True).encode("utf-8")).hexdigest()
