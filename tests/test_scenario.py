"""Scenario files: every class of bad input is refused with a clear message."""

from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
import tempfile
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from socialscore.scenario import errors, files, schema

GOOD = """
[scenario]
name = "ok"
[score]
grades = [{ name = "all", from = 350 }]
[streams.bill_late]
rate = 0.01
[[rules]]
event = "bill_late"
points = -20
half_life_days = 90
[gates.mortgage]
threshold = 600
"""


def error_for(text: str, tmp_path: Path) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(errors.ScenarioError) as info:
        files.load(path)
    message = str(info.value)
    assert str(path) in message, "the message names the file"
    return message


def test_good_file_loads(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    loaded = files.load(path)
    assert loaded.scenario.rules[0].points == -20
    assert len(loaded.sha256) == 64


def test_unknown_key_names_the_path_and_suggests(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD.replace("threshold = 600", "treshold = 600"), tmp_path)
    assert "gates.mortgage.treshold" in msg
    assert "did you mean 'threshold'" in msg
    assert "Allowed here:" in msg


def test_unknown_top_level_table(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD + "\n[gaets]\n", tmp_path)
    assert "did you mean 'gates'" in msg


def test_rule_naming_unknown_event(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD.replace('event = "bill_late"', 'event = "bill_lat"'), tmp_path)
    assert "rules[0].event" in msg
    assert "did you mean 'bill_late'" in msg


def test_stream_naming_unknown_event(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD.replace("[streams.bill_late]", "[streams.bill_lte]"), tmp_path)
    assert "unknown event 'bill_lte'" in msg


def test_threshold_outside_score_range(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD.replace("threshold = 600", "threshold = 2000"), tmp_path)
    assert "gates.mortgage.threshold = 2000 lies outside the score range [350, 950]" in msg


def test_negative_size(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD + "\n[run]\npopulation = -5\n", tmp_path)
    assert "run.population" in msg
    assert "greater than or equal to 100" in msg


def test_probability_outside_unit_interval(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD.replace("rate = 0.01", "rate = 1.5"), tmp_path)
    assert "streams.bill_late.rate" in msg
    assert "less than or equal to 1" in msg


def test_malformed_toml(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD + "\n[broken\n", tmp_path)
    assert "not valid TOML" in msg


def test_grades_must_start_at_lo_and_increase(tmp_path):  # type: ignore[no-untyped-def]
    bad = GOOD.replace(
        'grades = [{ name = "all", from = 350 }]',
        'grades = [{ name = "a", from = 350 }, { name = "b", from = 300 }]',
    )
    assert "strictly increasing" in error_for(bad, tmp_path)


def test_rules_are_data_not_code(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(GOOD.replace("points = -20", "points = \"__import__('os')\""), tmp_path)
    assert "rules[0].points" in msg


def test_missing_file_lists_shipped_scenarios():
    with pytest.raises(errors.ScenarioError) as info:
        files.load("no-such-regime")
    assert "citizen-score" in str(info.value)


def test_extends_merges_tables_and_replaces_lists(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "base.toml").write_text(GOOD)
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "base.toml"\nreplace = ["rules"]\nrules = []\n[scenario]\nname = "child"\n'
        "[gates.mortgage]\napply_rate = 0.5\n"
    )
    loaded = files.load(child).scenario
    assert loaded.scenario.name == "child"
    assert loaded.rules == []
    assert loaded.gates.mortgage.apply_rate == 0.5
    assert loaded.gates.mortgage.threshold == 600
    assert "bill_late" in loaded.streams


def test_extends_never_drops_the_parents_rules_silently(tmp_path):  # type: ignore[no-untyped-def]
    """One [[rules]] block in an extending file is refused until the file says whether it
    replaces the parent's rules or adds to them; [[add.rules]] adds, replace replaces."""
    (tmp_path / "base.toml").write_text(GOOD)
    rule = '[[{key}]]\nevent = "loan_repaid"\npoints = 5\n'
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n' + rule.format(key="rules"))
    with pytest.raises(errors.ScenarioError) as info:
        files.load(child)
    message = str(info.value)
    assert "rules: this file gives 1 [[rules]]" in message and "has 1 already" in message
    assert 'replace = ["rules"]' in message and "[[add.rules]]" in message
    child.write_text('extends = "base.toml"\n' + rule.format(key="add.rules"))
    added = files.load(child).scenario.rules
    assert [r.event for r in added] == ["bill_late", "loan_repaid"]
    child.write_text('extends = "base.toml"\nreplace = ["rules"]\n' + rule.format(key="rules"))
    assert [r.event for r in files.load(child).scenario.rules] == ["loan_repaid"]
    # Nested lists of tables too; a replace naming nothing the file replaces is refused.
    child.write_text('extends = "base.toml"\n[score]\ngrades = [{ name = "x", from = 350 }]\n')
    with pytest.raises(errors.ScenarioError, match=r"score\.grades: this file gives"):
        files.load(child)
    child.write_text('extends = "base.toml"\nreplace = ["history"]\n')
    with pytest.raises(errors.ScenarioError, match="'history' is not a list this file gives"):
        files.load(child)
    (tmp_path / "alone.toml").write_text('replace = ["rules"]\n' + GOOD)
    with pytest.raises(errors.ScenarioError, match="only mean something in a file that extends"):
        files.load(tmp_path / "alone.toml")


def test_extends_cycle_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n' + GOOD)
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n' + GOOD)
    with pytest.raises(errors.ScenarioError, match="cycle"):
        files.load(tmp_path / "a.toml")


def test_every_shipped_scenario_is_valid():
    shipped = files.shipped_scenarios()
    assert {"citizen-score", "no-scoring"} <= set(shipped)
    for path in shipped.values():
        files.load(path)


def test_cli_reports_bad_file_without_traceback_and_exits_nonzero(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("threshold = 600", "threshold = 2000"))
    proc = subprocess.run(
        [sys.executable, "-m", "socialscore", "run", str(path), "--out", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "gates.mortgage.threshold" in proc.stderr
    assert not (tmp_path / "runs").exists(), "nothing is written for a bad scenario"


# -- issue 13, item 10: files that are not scenarios, and absurd magnitudes -------------

#: A key of each dict of sub-tables, to reach the numbers inside (a new dict of
#: sub-tables in the schema needs an entry here, or the walk below fails).
DICT_KEYS = {
    "streams": "bill_late",
    "company_streams": "tax_late",
    "traits": "diligence",
    "operators": "state",
}

FULL = (
    GOOD
    + """
[nation.traits.diligence]
minority_shift = 0.1
[company_streams.tax_late]
rate = 0.003
[[company_rules]]
event = "tax_late"
points = -20
[gates.mortgage.outcome]
after_days = 30
scores = [400, 800]
success_probability = [0.5, 0.9]
minority_success_probability = [0.4, 0.9]
[gates.mortgage.policy]
kind = "selection_rate"
every_days = 7
utility_repaid = 1.0
utility_default = -4.0
selection_rate = 0.3
minority_selection_rate = 0.2
[[history]]
event = "bill_late"
share = 0.01
age_scale_days = 100
age_max_days = 300
[monitoring]
events = ["bill_late"]
by = "group"
units = 2
detection = 0.9
prior = [3, 2]
decay = 0.01
floor = 1
correction = "surprise"
"""
)


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """The models an annotation holds: ("", M), ("[]", M) for a list, (".{key}", M) for a dict."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    if origin is list:
        return [("[0]", m) for _, m in _models_in(args[0])]
    if origin is dict:
        return [("{dict}", m) for _, m in _models_in(args[1])]
    return [found for arg in args for found in _models_in(arg)]


def _is_number(annotation: Any) -> bool:
    kinds = set(typing.get_args(annotation)) or {annotation}
    return bool(kinds & {int, float}) and bool not in kinds


def numeric_keys(model: type[BaseModel] = schema.Scenario, prefix: str = "") -> list[str]:
    """Every number key of the schema, as a path into FULL (e.g. ``rules[0].cap``)."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        if _is_number(field.annotation):
            keys.append(key)
        for suffix, inner in _models_in(field.annotation):
            if suffix == "{dict}":
                suffix = "." + DICT_KEYS[field.alias or name]
            keys += numeric_keys(inner, f"{key}{suffix}.")
    return keys


def _set(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", key)]
    for part in parts[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[parts[-1]] = value
    return out


NUMERIC_KEYS = numeric_keys()
ABSURD = [1e300, -1e300, math.nan, math.inf, -math.inf]


def test_the_walk_finds_every_kind_of_number():
    for key in ("run.seed", "score.grades[0].from", "rules[0].cap", "streams.bill_late.rate"):
        assert key in NUMERIC_KEYS
    for key in ("nation.traits.diligence.minority_shift", "company_rules[0].points"):
        assert key in NUMERIC_KEYS
    assert "gates.mortgage.threshold" in NUMERIC_KEYS
    assert not any(k.endswith(".enabled") for k in NUMERIC_KEYS), "booleans are not numbers"
    assert len(NUMERIC_KEYS) > 80


@pytest.mark.parametrize("value", ABSURD, ids=["1e300", "-1e300", "nan", "inf", "-inf"])
@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_every_number_is_bounded_and_finite(key: str, value: float) -> None:
    base = tomllib.loads(FULL)
    schema.Scenario.model_validate(base)  # the base is valid: the refusal is the value's
    with pytest.raises(ValidationError) as info:
        schema.Scenario.model_validate(_set(base, key, value))
    message = errors.format_errors(info.value, "x.toml")
    assert f"x.toml: {key}: " in message, message


def _all_models(model: type[BaseModel] = schema.Scenario) -> set[type[BaseModel]]:
    found = {model}
    for field in model.model_fields.values():
        for _, inner in _models_in(field.annotation):
            found |= _all_models(inner)
    return found


def test_every_model_refuses_nan_and_infinities_even_without_bounds():
    models = _all_models()
    assert schema.Rule in models and schema.TraitSpec in models
    for model in models:
        assert model.model_config.get("allow_inf_nan") is False, model.__name__


@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_every_number_states_its_bounds_for_the_key_reference(key: str) -> None:
    model: Any = schema.Scenario
    field = None
    for part in re.findall(r"[^.\[\]]+", key):
        if part.isdigit() or part in DICT_KEYS.values():
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        field = fields[part]
        inner = _models_in(field.annotation)
        model = inner[0][1] if inner else None
    assert field is not None and field.description, key
    assert "Allowed: " in field.description, field.description


def test_absurd_magnitudes_of_the_issue_are_refused_in_a_file(tmp_path):  # type: ignore[no-untyped-def]
    msg = error_for(FULL.replace("half_life_days = 90", "half_life_days = 1e300"), tmp_path)
    assert "rules[0].half_life_days: Input should be less than or equal to 36500" in msg
    msg = error_for(
        FULL.replace("threshold = 600", "threshold = 600\ndenial_stress = inf"), tmp_path
    )
    assert "gates.mortgage.denial_stress" in msg
    msg = error_for(FULL.replace("points = -20\nhalf", "points = -20\ncap = 1e300\nhalf"), tmp_path)
    assert "rules[0].cap: Input should be less than or equal to 30000" in msg
    msg = error_for(FULL.replace("rate = 0.01", "rate = nan"), tmp_path)
    assert "streams.bill_late.rate" in msg


def test_seed_fits_the_catalogue():
    good = files.parse(GOOD).scenario
    assert good.with_overrides(seed=2**63 - 1).run.seed == 2**63 - 1
    with pytest.raises(ValidationError) as info:
        good.with_overrides(seed=2**63)
    assert info.value.errors()[0]["loc"] == ("seed",)
    msg = error_for(GOOD + f"\n[run]\nseed = {2**63}\n", Path(tempfile.mkdtemp()))
    assert "run.seed" in msg and "less than 9223372036854775808" in msg


WIDE = GOOD.replace(
    'grades = [{ name = "all", from = 350 }]',
    'lo = 0\nhi = 30000\nbase = 600\nblacklist_below = 0\ngrades = [{ name = "all", from = 0 }]',
)


def test_score_histogram_of_days_times_scale_is_bounded(tmp_path):  # type: ignore[no-untyped-def]
    # The issue's case: 36,500 days on a 0–30,000 scale would ask 8 GiB for the histogram.
    msg = error_for(WIDE + "\n[run]\npopulation = 100\ndays = 36500\n", tmp_path)
    assert "run.days x (score.hi - score.lo + 1) = 36,500 x 30,001" in msg
    assert "shorten run.days or narrow score.lo to score.hi" in msg
    assert f"more than the {schema.MAX_HISTOGRAM_CELLS:,} allowed" in msg
    # The company scale is recorded the same way.
    msg = error_for(
        GOOD + "\n[run]\ndays = 36500\n[company_score]\nlo = 0\nhi = 30000\nbase = 0\n", tmp_path
    )
    assert "company_score.hi - company_score.lo" in msg
    # Five years on the widest scale, and a century on a 0–1600 scale, are fine.
    assert files.parse(WIDE + "\n[run]\ndays = 1826\n").scenario.run.days == 1826
    century = (
        GOOD.replace("from = 350 }]", "from = 0 }]\nlo = 0\nhi = 1600") + "[run]\ndays = 36500\n"
    )
    assert files.parse(century).scenario.run.days == 36_500


def test_every_shipped_scenario_runs_the_longest_run_allowed():
    for name, path in files.shipped_scenarios().items():
        longest = files.load(path).scenario.with_overrides(days=schema.MAX_DAYS)
        assert longest.run.days == schema.MAX_DAYS, name


def test_days_option_cannot_bypass_the_histogram_bound():
    wide = files.parse(WIDE).scenario
    assert wide.with_overrides(days=1_000).run.days == 1_000
    with pytest.raises(ValidationError) as info:
        wide.with_overrides(days=36_500)
    err = info.value.errors()[0]
    assert err["loc"] == ("days",), "the CLI names the option from the key: --days"
    assert "score histogram" in err["msg"]


def test_cross_checks_get_one_line_each_without_a_top_prefix(tmp_path):  # type: ignore[no-untyped-def]
    bad = GOOD.replace("threshold = 600", "threshold = 2000") + (
        "\n[gates.documents]\nthreshold = 100\n"
    )
    msg = error_for(bad, tmp_path)
    lines = msg.splitlines()
    assert "2 problem(s)" in lines[0]
    assert "(top)" not in msg
    prefix = f"  {tmp_path / 'bad.toml'}: gates.mortgage.threshold = 2000 lies outside"
    assert sum(line.startswith(prefix) for line in lines) == 1
    assert any(line.endswith("choose a threshold within it") for line in lines[1:])
    assert sum("gates.documents.threshold = 100" in line for line in lines) == 1


def test_chilling_cut_must_lie_on_the_scale_when_chilling_is_on(tmp_path):  # type: ignore[no-untyped-def]
    on = GOOD + "\n[feedback.chilling]\nstrength = 0.001\nbelow = 5000\n"
    assert "feedback.chilling.below = 5000 lies outside the score range" in error_for(on, tmp_path)
    off = GOOD + "\n[feedback.chilling]\nstrength = 0.0\nbelow = 5000\n"
    assert files.parse(off).scenario.feedback.chilling.below == 5000


def test_toml_syntax_error_gives_the_line_and_column(tmp_path):  # type: ignore[no-untyped-def]
    text = GOOD + "\n[broken\n"
    line = text.splitlines().index("[broken") + 1
    msg = error_for(text, tmp_path)
    assert f"not valid TOML at line {line}, column 8" in msg
    assert "line ?" not in msg and "\n" not in msg
    msg = error_for(GOOD.replace("points = -20", "points = -20 20"), tmp_path)
    assert f"at line {GOOD.splitlines().index('points = -20') + 1}, column 14" in msg
    msg = error_for(GOOD + '\nlabel = "unterminated', tmp_path)
    assert f"at line {len(GOOD.splitlines()) + 2}" in msg


def _write(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "regime.toml"
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "latin-1":
        path.write_bytes(GOOD.replace('"ok"', '"Zürich"').encode("latin-1"))
    elif kind == "nul":
        path.write_bytes(GOOD.encode() + b"\x00\x00\x00")
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        return Path("/dev/null")
    elif kind == "empty":
        path.write_text("")
    elif kind == "comments only":
        path.write_text("# a scenario will go here\n\n")
    elif kind == "huge":
        path.write_text(GOOD + "#" * (files.MAX_FILE_BYTES + 10) + "\n")
    elif kind == "pyproject":
        path.write_text('[project]\nname = "x"\n[build-system]\nrequires = []\n[tool.ruff]\n')
    elif kind == "grid":
        path.write_text(
            '[sweep]\nname = "g"\nbase = "citizen-score"\n[grid]\n"network.weight" = [0.1]\n'
        )
    return path


NOT_SCENARIOS = {
    "binary": "not a scenario file: not UTF-8 text (byte 128 is 0x80)",
    "latin-1": "not a scenario file: not UTF-8 text",
    "nul": "not a scenario file: not UTF-8 text (a NUL byte",
    "folder": "this is a folder, not a scenario file",
    "device": "not a scenario file: not a regular file",
    "empty": "not a scenario file: it is empty",
    "comments only": "not a scenario file: it is empty",
    "huge": "not a scenario file: larger than 1,000,000 bytes",
    "pyproject": "not a scenario file: it has [project], [build-system], [tool] but none",
    "grid": "It looks like a sweep grid: run it with `socialscore sweep`.",
}


@pytest.mark.parametrize("kind", list(NOT_SCENARIOS))
def test_a_file_that_is_not_a_scenario_gets_one_line_naming_it(tmp_path, kind):  # type: ignore[no-untyped-def]
    path = _write(tmp_path, kind)
    with pytest.raises(errors.ScenarioError) as info:
        files.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    assert NOT_SCENARIOS[kind] in message


def test_a_parent_named_by_extends_is_read_with_the_same_care(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "base.toml").write_bytes(b"\xff\xfe binary")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n[scenario]\nname = "c"\n')
    with pytest.raises(errors.ScenarioError, match=r"base\.toml: not a scenario file: not UTF-8"):
        files.load(child)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert files.load(path).scenario.scenario.name == "ok"


@pytest.mark.parametrize("kind", ["binary", "folder", "pyproject"])
def test_cli_refuses_a_non_scenario_in_one_message_without_traceback(tmp_path, kind):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from socialscore.cli import app

    path = _write(tmp_path, kind)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    output = " ".join(result.output.split())
    assert "Traceback" not in output
    assert f"{path}: " in output and NOT_SCENARIOS[kind] in output


def test_every_shipped_grid_base_and_point_still_validates():
    from socialscore.studies.grid import apply, load_grid
    from socialscore.studies.shipped import shipped_sweeps

    grids = list(shipped_sweeps().values())
    assert grids
    for path in grids:
        grid = load_grid(path)
        for point in grid.points:
            schema.Scenario.model_validate(apply(grid.base_data, point.params))


def test_read_text_itself_refuses_folders_and_devices(tmp_path):  # type: ignore[no-untyped-def]
    with pytest.raises(errors.ScenarioError, match="this is a folder, not a scenario file"):
        files.read_text(tmp_path)
    with pytest.raises(errors.ScenarioError, match="not a regular file"):
        files.read_text(Path("/dev/null"))


@pytest.mark.parametrize(
    ("mortgage", "message"),
    [
        (
            {"outcome": {"scores": [500, 400], "success_probability": [0.5, 0.6]}},
            "scores must be strictly ascending",
        ),
        (
            {"outcome": {"scores": [400, 500], "success_probability": [0.5]}},
            "success_probability has 1 values for 2 scores",
        ),
        (
            {"outcome": {"scores": [200, 500], "success_probability": [0.5, 0.6]}},
            "outside the score range",
        ),
        (
            {"outcome": {"scores": [400], "success_probability": [0.5], "failure": "loan_repaid"}},
            "success and failure must be different events",
        ),
        ({"policy": {"kind": "max_profit"}}, "needs the chance of repayment"),
        ({"policy": {"kind": "selection_rate"}}, "needs selection_rate"),
        ({"policy": {"kind": "quota"}}, "kind"),
    ],
)
def test_a_lending_outcome_or_policy_that_cannot_work_is_refused(mortgage, message):
    data = tomllib.loads(GOOD)
    data.setdefault("gates", {})["mortgage"] = {"threshold": 600, **mortgage}
    with pytest.raises(ValidationError, match=message):
        schema.Scenario.model_validate(data)
