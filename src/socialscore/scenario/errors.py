"""Scenario problems in words: the error a caller catches, and its lines.

Every problem names the file, the key path, what is wrong and what is allowed,
before any work starts: :func:`format_errors` turns a pydantic validation
error into such lines, :func:`toml_error` a TOML syntax error.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from pydantic import BaseModel, ValidationError

from socialscore.scenario.schema import Scenario, did_you_mean

ERR_TOML = (
    "{path}: this is not valid TOML at line {line}, column {column}: {reason}. "
    "Fix the syntax at line {line}."
)
ERR_HEADER = "{path}: {count} problem(s) in the scenario; nothing was run."
ERR_UNKNOWN_KEY = "unknown key '{key}'{hint}. Allowed here: {allowed}."


class ScenarioError(Exception):
    """A scenario file could not be read; the message says where and how to fix it."""


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def toml_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> str:
    """One line for a TOML syntax error: the file, line and column, and what is wrong."""
    detail = str(exc)
    line: Any = getattr(exc, "lineno", None)
    column: Any = getattr(exc, "colno", None)
    found = _TOML_POSITION.search(detail)
    if found is not None:
        line, column = line or int(found[1]), column or int(found[2])
    elif _TOML_END.search(detail) is not None:
        line, column = line or max(text.count("\n") + 1, 1), column or "end"
    reason = _TOML_END.sub("", _TOML_POSITION.sub("", detail)).rstrip(".") or "syntax error"
    return ERR_TOML.format(path=source, line=line or "?", column=column or "?", reason=reason)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Return the pydantic model class that holds the key at ``loc``."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if model is None or not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def format_errors(exc: ValidationError, source: str) -> str:
    """Turn a pydantic error into lines: file, key path, what is wrong, what is allowed.

    Problems found across keys (the scenario's cross-checks) name their keys
    in their own words and get one line each, with no key prefix.
    """
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc)
        key = key.replace(".[", "[")
        if err["type"] == "extra_forbidden":
            model = _model_at(loc)
            allowed = _field_names(model) if model else []
            leaf = str(loc[-1])
            msg = ERR_UNKNOWN_KEY.format(
                key=leaf, hint=did_you_mean(leaf, allowed), allowed=", ".join(allowed) or "none"
            )
        elif err["type"] == "missing":
            msg = "this key is required but missing."
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            if "input" in err and err["type"] not in ("value_error",):
                msg += f" (got {err['input']!r})"
        if not key:
            lines += [f"  {source}: {part}" for part in msg.splitlines()]
            continue
        lines.append(f"  {source}: {key}: {msg}")
    return "\n".join([ERR_HEADER.format(path=source, count=len(lines)), *lines])
