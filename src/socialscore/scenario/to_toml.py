"""Write a resolved scenario back as TOML that ``socialscore run`` reads.

A run folder keeps the scenario exactly as it ran (every ``extends`` merged
in, every command-line override applied) as ``scenario.toml``. Python's
standard library reads TOML but does not write it, so this module holds a
small exact writer for the data a scenario is made of: tables, arrays of
tables, strings, booleans, integers, floats and arrays of those. Floats are
written with :func:`repr`, the shortest text that reads back to the same
float, so ``parse(dumps(s))`` gives back ``s`` exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from socialscore.scenario.schema import Scenario

ERR_UNWRITABLE = "cannot write {path} as TOML: {what} (a scenario holds no such value)"

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def scenario_toml(scenario: Scenario, *, header: Sequence[str] = ()) -> str:
    """The scenario as TOML text, with optional comment lines on top.

    Keys whose value is ``None`` are left out: every such key defaults to
    ``None`` in the schema, so reading the text back gives the same scenario.

    Args:
        scenario: A validated scenario.
        header: Comment lines (without ``#``); control characters are escaped.

    Returns:
        TOML text that :func:`socialscore.scenario.files.parse` reads back to ``scenario``.
    """
    data = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    lines = [f"# {_comment(line)}".rstrip() for line in header]
    body = dumps(data)
    return "\n".join(lines) + ("\n\n" if lines else "") + body


def dumps(data: Mapping[str, Any]) -> str:
    """A mapping as TOML text: nested mappings as ``[tables]``, lists of them as ``[[arrays]]``.

    Raises:
        ValueError: For a value TOML cannot hold (``None``, an integer beyond
            64 bits, an object of another type).
    """
    out: list[str] = []
    _table(data, (), out, header=None)
    return "\n".join(out).lstrip("\n") + "\n"


def _table(
    data: Mapping[str, Any], path: tuple[str, ...], out: list[str], header: str | None
) -> None:
    if header is not None:
        out.append("")
        out.append(header)
    nested: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, Mapping) or _is_table_array(value):
            nested.append((key, value))
        else:
            out.append(f"{_key(key)} = {_value(value, (*path, key))}")
    for key, value in nested:
        sub = (*path, key)
        name = ".".join(_key(k) for k in sub)
        if isinstance(value, Mapping):
            _table(value, sub, out, header=f"[{name}]")
        else:
            for item in value:
                _table(item, sub, out, header=f"[[{name}]]")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: Any, path: tuple[str, ...]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(_unwritable(path, f"the integer {value} does not fit in 64 bits"))
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v, path) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(k)} = {_value(v, (*path, k))}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise ValueError(_unwritable(path, f"a value of type {type(value).__name__}"))


def _string(text: str) -> str:
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\u{code:04X}"
    return ch


def _comment(text: str) -> str:
    return "".join(
        f"\\x{ord(ch):02x}" if (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F else ch
        for ch in text
    )


def _unwritable(path: tuple[str, ...], what: str) -> str:
    return ERR_UNWRITABLE.format(path=".".join(path) or "(top)", what=what)


__all__ = ["ERR_UNWRITABLE", "dumps", "scenario_toml"]
