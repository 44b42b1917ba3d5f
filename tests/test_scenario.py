"""Scenario files: every class of bad input is refused with a clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from socialscore import scenario as sc

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
    with pytest.raises(sc.ScenarioError) as info:
        sc.load(path)
    message = str(info.value)
    assert str(path) in message, "the message names the file"
    return message


def test_good_file_loads(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    loaded = sc.load(path)
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
    with pytest.raises(sc.ScenarioError) as info:
        sc.load("no-such-regime")
    assert "citizen-score" in str(info.value)


def test_extends_merges_tables_and_replaces_lists(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "base.toml").write_text(GOOD)
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "base.toml"\nrules = []\n[scenario]\nname = "child"\n'
        "[gates.mortgage]\napply_rate = 0.5\n"
    )
    loaded = sc.load(child).scenario
    assert loaded.scenario.name == "child"
    assert loaded.rules == []
    assert loaded.gates.mortgage.apply_rate == 0.5
    assert loaded.gates.mortgage.threshold == 600
    assert "bill_late" in loaded.streams


def test_extends_cycle_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n' + GOOD)
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n' + GOOD)
    with pytest.raises(sc.ScenarioError, match="cycle"):
        sc.load(tmp_path / "a.toml")


def test_every_shipped_scenario_is_valid():
    shipped = sc.shipped_scenarios()
    assert {"citizen-score", "no-scoring"} <= set(shipped)
    for path in shipped.values():
        sc.load(path)


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
