"""The scenario key reference, generated from the schema.

Every key, its type, default, bounds and meaning, and the vocabulary of
events, gates and domains.

``socialscore keys [PATH]`` prints it; docs/keys.md is :func:`markdown` and
docs/scenario.schema.json is :func:`json_schema` (a test fails when either
falls behind the schema). Editors that read JSON Schema (e.g. Taplo, or
VS Code's "Even Better TOML") complete and check scenario files with it.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import EVENTS, GATES, TRAITS

__all__ = ["Key", "json_schema", "keys", "markdown"]

ERR_NO_KEY: Final = "No scenario key '{path}'{hint}. Top-level tables: {tables}."


@dataclass(frozen=True)
class Key:
    """One key of a scenario file."""

    path: str  # e.g. "gates.mortgage.threshold", "rules[].points", "streams.<event>.rate"
    type: str  # in words: "integer", "number", "true/false", "text", "table", "list of tables"
    default: str  # as TOML would write it, "" for a table, "required" when there is none
    meaning: str  # the schema's description (bounds included for numbers)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (directly, in a list, a dict or an optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _type_words(annotation: Any) -> str:
    """An annotation in the words of a scenario file."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # a bounded element type: its bounds are in the words
        return _type_words(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        inner = " or ".join(_type_words(a) for a in args)
        return f"{inner} (optional)" if type(None) in typing.get_args(annotation) else inner
    if origin is list:
        inner = _type_words(args[0]) if args else "value"
        return "list of tables" if inner == "table" else f"list of {inner}s"
    if origin is dict:
        return "table of tables" if args and _model_of(args[-1]) else "table"
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return {int: "integer", float: "number", bool: "true/false", str: "text"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _default_words(info: FieldInfo) -> str:
    """A field's default as TOML would write it ("required" when it has none)."""
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = (
        info.default
        if info.default_factory is None
        else info.get_default(call_default_factory=True)
    )
    if isinstance(value, BaseModel):
        return ""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:_}" if isinstance(value, int) and abs(value) >= 10_000 else repr(value)
    return json.dumps(value, ensure_ascii=False)


def _meaning(info: FieldInfo, model: type[BaseModel] | None) -> str:
    """The field's description, else the first line of its table's docstring."""
    if info.description:
        return info.description
    if model is not None and model.__doc__:
        return model.__doc__.strip().splitlines()[0]
    return ""


def _walk(model: type[BaseModel], prefix: str) -> list[Key]:
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = f"{prefix}{key}"
        inner = _model_of(info.annotation)
        out.append(
            Key(path, _type_words(info.annotation), _default_words(info), _meaning(info, inner))
        )
        if inner is None:
            continue
        origin = typing.get_origin(info.annotation)
        if origin is list:
            out += _walk(inner, f"{path}[].")
        elif origin is dict:
            out += _walk(inner, f"{path}.<{_dict_key(path)}>.")
        else:
            out += _walk(inner, f"{path}.")
    return out


def _dict_key(path: str) -> str:
    """What the keys of a table of tables name ("event", "operator", ...)."""
    leaf = path.rsplit(".", 1)[-1]
    return {"streams": "event", "company_streams": "event", "operators": "operator"}.get(
        leaf, "name"
    )


def keys(path: str = "") -> list[Key]:
    """Every key of a scenario file (under ``path``, e.g. "gates.mortgage", when given).

    Raises:
        KeyError: No key at or under ``path`` (with a did-you-mean).
    """
    every = _walk(Scenario, "")
    if not path:
        return every
    want = path.strip().rstrip(".")
    found = [k for k in every if k.path == want or k.path.startswith((f"{want}.", f"{want}["))]
    if not found:
        from socialscore.scenario.schema import did_you_mean

        tables = ", ".join(n for n in Scenario.model_fields)
        hint = did_you_mean(want, [k.path for k in every])
        raise KeyError(ERR_NO_KEY.format(path=want, hint=hint, tables=tables))
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The key reference as a Markdown page (docs/keys.md)."""
    lines = [
        "# Scenario keys",
        "",
        "Generated from the schema by `socialscore.scenario.reference` (a test fails when",
        "this page falls behind it); `socialscore keys [PATH]` prints the same, and",
        "[scenario.schema.json](scenario.schema.json) is the JSON Schema for editors.",
        "A scenario file is TOML: `[run]` is the table `run`, `[[rules]]` one entry of the",
        "list of tables `rules`, `[streams.bill_late]` the entry `bill_late` of the table",
        "of tables `streams`. In a file that `extends` another, `[[add.rules]]` adds to",
        'the other\'s rules and `replace = ["rules"]` replaces them (README, "Scenarios").',
        "",
    ]
    every = keys()
    for table in Scenario.model_fields:
        under = (f"{table}.", f"{table}[")
        rows = [k for k in every if k.path == table or k.path.startswith(under)]
        lines += [f"## `{table}`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        lines += [
            f"| `{k.path}` | {_cell(k.type)} | {_cell(k.default)} | {_cell(k.meaning)} |"
            for k in rows
        ]
        lines.append("")
    lines += [
        "## Vocabulary",
        "",
        "### Events",
        "",
        "A rule's `event`, a stream's name, `cleared_by`, the loan outcomes and",
        "`data_errors.event` name one of these. The source is the monitored stream the",
        "event comes from; the domain, the context its data belongs to (purpose",
        "limitation, `gates.<gate>.purpose`).",
        "",
        "| event | source | domain |",
        "|---|---|---|",
    ]
    lines += [f"| `{e.name}` | {e.source} | {e.domain} |" for e in EVENTS]
    lines += [
        "",
        "### Gates",
        "",
        "The decisions the score takes part in (`[gates.<gate>]`), in the order they",
        "are decided each day. An approval grants a benefit; a sanction takes away",
        "what the person had or could do freely.",
        "",
        "| gate | who applies | kind | domain | threshold key |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{g.name}` | {g.decides_on} | {g.kind} | {g.domain} | "
        f"{'`' + g.threshold + '`' if g.threshold else 'none'} |"
        for g in GATES
    ]
    domains = sorted({e.domain for e in EVENTS} | {g.domain for g in GATES})
    lines += [
        "",
        "### Domains",
        "",
        ", ".join(f"`{d}`" for d in domains),
        "",
        "### Traits",
        "",
        "A stream's `trait` names one of: " + ", ".join(f"`{t}`" for t in TRAITS) + ".",
        "",
    ]
    return "\n".join(lines)


def json_schema() -> str:
    """The JSON Schema of a scenario file (docs/scenario.schema.json), for editors."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "socialscore scenario"
    props = schema.setdefault("properties", {})
    props["extends"] = {
        "type": "string",
        "description": "The scenario this file starts from: a shipped name or a path.",
    }
    props["replace"] = {
        "type": "array",
        "items": {"type": "string"},
        "description": "Lists of tables of the parent this file replaces whole.",
    }
    props["add"] = {
        "type": "object",
        "description": "Lists of tables added to the parent's ([[add.rules]]).",
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
