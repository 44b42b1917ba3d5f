"""What a valid scenario probably does not mean (socialscore.scenario.lint).

``socialscore validate`` says "valid" and then warns, each warning with its fix:
a rule on an event nothing produces, a gate nobody can pass, a name inherited
from the scenario a file extends. Every shipped scenario is free of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialscore import cli
from socialscore.scenario import files
from socialscore.scenario.lint import lint

BASE = """
[scenario]
name = "{name}"
[score]
grades = [{{ name = "all", from = 350 }}]
[streams.bill_late]
rate = 0.01
[[rules]]
event = "bill_late"
points = -20
half_life_days = 90
[gates.mortgage]
threshold = {threshold}
"""


def _lint(tmp_path: Path, text: str, name: str = "x.toml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    return lint(files.load(path))


@pytest.mark.parametrize("name", sorted(files.shipped_scenarios()))
def test_every_shipped_scenario_is_free_of_warnings(name: str) -> None:
    assert lint(files.load(name)) == []


def test_a_rule_on_an_event_nothing_produces_is_named(tmp_path: Path) -> None:
    text = BASE.format(name="x", threshold=600) + (
        '[[rules]]\nevent = "court_judgment"\npoints = -50\n'
        '[[rules]]\nevent = "bill_late"\npoints = -1\ncleared_by = "loan_repaid"\n'
        "[streams.good_deed]\nrate = 0.0\n"
        '[[rules]]\nevent = "good_deed"\npoints = 5\n'
    )
    found = _lint(tmp_path, text)
    assert any(
        w.startswith("rules[1] ('court_judgment', -50 points) can never fire") for w in found
    )
    assert any("no [streams.court_judgment]" in w for w in found)
    assert any("rules[3] ('good_deed', +5 points)" in w for w in found)
    assert any("streams.good_deed.rate is 0" in w for w in found)
    assert any("cleared by 'loan_repaid'" in w for w in found)
    assert not any(w.startswith("rules[0]") for w in found)


def test_a_gate_above_every_reachable_score_is_named(tmp_path: Path) -> None:
    # Penalties only: nobody rises above the base of 600.
    (warning,) = _lint(tmp_path, BASE.format(name="x", threshold=601))
    assert warning.startswith("gates.mortgage: nobody can pass its threshold 601")
    assert "the base 600: no rule earns points" in warning
    assert _lint(tmp_path, BASE.format(name="x", threshold=600)) == []
    # A capped reward lifts the best score to base + cap; an uncapped one removes the bound.
    capped = BASE.format(name="x", threshold=650) + (
        '[streams.good_deed]\nrate = 0.01\n[[rules]]\nevent = "good_deed"\npoints = 5\ncap = 40\n'
    )
    (warning,) = _lint(tmp_path, capped)
    assert "highest score the rules allow is 640" in warning
    assert _lint(tmp_path, capped.replace("cap = 40\n", "")) == []


def test_a_name_inherited_by_accident_is_named_and_validate_prints_it(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(BASE.format(name="parent", threshold=600))
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n[gates.mortgage]\napply_rate = 0.01\n')
    (warning,) = lint(files.load(child))
    assert "extends 'base.toml' but has no [scenario] name" in warning
    assert "catalogued as 'parent'" in warning
    done = CliRunner().invoke(cli.app, ["validate", str(child)])
    assert done.exit_code == 0
    said = " ".join(done.output.split())  # the terminal wraps long paths and lines
    assert "valid scenario 'parent', with 1 warning:" in said
    assert "Warning: this file extends" in said
    child.write_text('extends = "base.toml"\n[scenario]\nname = "child"\n')
    assert lint(files.load(child)) == []
