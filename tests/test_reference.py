"""The scenario key reference (socialscore.scenario.reference, ``socialscore keys``).

Every key of the schema is listed with a type, a default and words; numbers
state their bounds; docs/keys.md and docs/scenario.schema.json are exactly
what the schema generates (regenerate them with the commands in the failure).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialscore import cli
from socialscore.scenario import reference
from socialscore.scenario.files import load
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, GATES

DOCS = Path(__file__).resolve().parent.parent / "docs"
REGENERATE = (
    'regenerate with: .venv/bin/python -c "from socialscore.scenario import reference as r; '
    "open('docs/keys.md','w').write(r.markdown()); "
    "open('docs/scenario.schema.json','w').write(r.json_schema())\""
)


def test_every_key_has_a_type_a_default_and_words() -> None:
    found = reference.keys()
    assert len({k.path for k in found}) == len(found)
    assert [k.path for k in found if not k.meaning] == []
    for k in found:
        if k.type in ("integer", "number"):
            assert "Allowed:" in k.meaning, k
    paths = {k.path for k in found}
    assert {"run.population", "rules[].points", "streams.<event>.rate"} <= paths
    assert "gates.mortgage.policy.kind" in paths and "score.grades[].from" in paths


def test_the_docs_page_and_the_json_schema_are_what_the_schema_generates() -> None:
    assert (DOCS / "keys.md").read_text("utf-8") == reference.markdown(), REGENERATE
    assert (DOCS / "scenario.schema.json").read_text("utf-8") == reference.json_schema(), REGENERATE
    page = reference.markdown()
    assert all(f"| `{e}` |" in page for e in CITIZEN_EVENTS)
    assert all(f"| `{g.name}` |" in page for g in GATES)


def test_the_json_schema_accepts_every_shipped_scenario_and_names_the_extends_keys() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(reference.json_schema())
    assert {"extends", "replace", "add"} <= set(schema["properties"])
    for name in ("citizen-score", "financial-only", "damour2020-lending"):
        data = json.loads(load(name).scenario.model_dump_json(by_alias=True))
        jsonschema.validate(data, schema)


def test_keys_prints_a_table_of_keys_and_refuses_a_wrong_path_with_a_did_you_mean() -> None:
    runner = CliRunner()
    done = runner.invoke(cli.app, ["keys", "gates.mortgage"], env={"COLUMNS": "200"})
    assert done.exit_code == 0
    assert "gates.mortgage.threshold (integer; default 600)" in " ".join(done.output.split())
    assert "gates.job_hiring" not in done.output
    wrong = runner.invoke(cli.app, ["keys", "gates.morgage"])
    assert wrong.exit_code == 2 and "did you mean 'gates.mortgage'?" in wrong.output
    schema = runner.invoke(cli.app, ["keys", "--json-schema"])
    assert json.loads(schema.output)["title"] == "socialscore scenario"
