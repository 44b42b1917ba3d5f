"""Shipped scenarios and sweep grids are package data, found by name from any folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialscore.cli import app
from socialscore.scenario.errors import ScenarioError
from socialscore.scenario.files import SHIPPED_DIR, load, shipped_scenarios
from socialscore.studies import shipped
from socialscore.studies.grid import load_grid
from socialscore.studies.shipped import resolve_grid, shipped_sweeps

PACKAGE = Path(shipped.__file__).resolve().parents[1]


def test_shipped_files_live_inside_the_package() -> None:
    assert SHIPPED_DIR.parent == PACKAGE / "scenario"
    assert "citizen-score" in shipped_scenarios()
    assert "benchmark" in shipped_scenarios()
    assert sorted(shipped_sweeps()) == [
        "group-assumptions",
        "network-and-mortgage",
        "rulebook-sobol",
    ]
    for path in [*shipped_scenarios().values(), *shipped_sweeps().values()]:
        assert path.is_relative_to(PACKAGE)


def test_shipped_grids_and_scenarios_load_by_name_from_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load("court-blacklist").scenario.scenario.name
    for name in shipped_sweeps():
        grid = load_grid(name)
        assert grid.points
        assert grid.spec.sweep.name == name
    assert load_grid("rulebook-sobol.toml").spec.sweep.name == "rulebook-sobol"


def test_a_grid_file_in_the_folder_wins_over_a_shipped_grid_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "network-and-mortgage.toml"
    mine.write_text("[sweep]\n", "utf-8")
    assert resolve_grid("network-and-mortgage.toml") == Path("network-and-mortgage.toml")
    assert resolve_grid("network-and-mortgage") == shipped_sweeps()["network-and-mortgage"]


@pytest.mark.parametrize(
    "name", ["no-such-sweep", "sub/network-and-mortgage", "x/rulebook-sobol.toml"]
)
def test_an_unknown_grid_is_refused_with_the_shipped_names(name: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_grid(name)
    message = str(info.value)
    assert message.startswith(f"{name}: no such grid file.")
    assert "Shipped sweeps: group-assumptions, network-and-mortgage, rulebook-sobol." in message


def test_the_sweep_command_refuses_an_unknown_grid_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sweep", "netwrk", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "netwrk: no such grid file. Shipped sweeps: group-assumptions, network" in output
    assert not (tmp_path / "runs").exists()
