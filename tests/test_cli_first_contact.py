"""The first minutes at the command line (socialscore.cli, scenario.caveats, studies.warm).

Counts of citizens are taken as researchers write them; ``--version`` answers;
defaults are in ``--help``; a run too small or too short to show anything says
so before it runs and in its report; a cold kernel cache is announced.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from socialscore import cli
from socialscore.scenario.caveats import MIN_POPULATION, caveats
from socialscore.scenario.files import load
from socialscore.studies import warm
from socialscore.studies.run import package_version

runner = CliRunner()


@pytest.mark.parametrize(
    ("words", "count"),
    [
        ("100000", 100_000),
        ("100_000", 100_000),
        ("1e5", 100_000),
        ("100k", 100_000),
        ("100K", 100_000),
        ("1M", 1_000_000),
        ("2.5m", 2_500_000),
        ("1.5e2", 150),
        (" 20,000 ", 20_000),
    ],
)
def test_a_count_of_citizens_is_read_as_researchers_write_it(words: str, count: int) -> None:
    assert cli.parse_count(words) == count


@pytest.mark.parametrize("words", ["1.5", "ten", "1e5x", "", "k", "inf", "nan"])
def test_a_count_that_is_not_a_whole_number_is_refused_with_the_forms_allowed(words: str) -> None:
    with pytest.raises(typer.BadParameter, match="write it as 100000, 100_000, 1e5, 100k or 1M"):
        cli.parse_count(words)


def test_version_and_the_defaults_are_on_the_first_screen() -> None:
    done = runner.invoke(cli.app, ["--version"])
    assert done.exit_code == 0 and done.output.strip() == f"socialscore {package_version()}"
    helped = runner.invoke(cli.app, ["run", "--help"], env={"COLUMNS": "200"})
    said = " ".join(helped.output.replace("│", " ").split())
    assert "1e5, 100k or 1M" in said
    assert "1,000,000 for the shipped regimes" in said
    assert "365 for the shipped regimes" in said
    assert "--install-completion" in runner.invoke(cli.app, ["--help"]).output


def test_a_run_too_small_and_too_short_says_so_before_and_in_its_report(tmp_path: Path) -> None:
    done = runner.invoke(
        cli.app,
        ["run", "--population", "1e3", "--days", "30", "--out", str(tmp_path)],
        env={"COLUMNS": "400"},
    )
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())  # the terminal wraps long lines
    assert "1,000 synthetic citizens, 30 days" in said
    assert "1,000 citizens is a small nation" in said
    assert "rates everyone only from day 90" in said
    (report,) = tmp_path.glob("*/report.html")
    page = report.read_text("utf-8")
    assert 'id="caveats"' in page and "1,000 citizens is a small nation" in page


def test_a_run_of_the_right_size_carries_no_caveat() -> None:
    sc = load("citizen-score").scenario
    assert sc.run.population >= MIN_POPULATION and caveats(sc) == []
    short = sc.with_overrides(population=MIN_POPULATION, days=200)
    assert caveats(short) == []
    one_day = load("no-scoring").scenario.with_overrides(days=2)
    (line,) = caveats(one_day)
    assert line.startswith("The measurement window is day 1 (1 day)")


def test_a_cold_kernel_cache_is_told_apart_from_a_warm_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert warm.cold()
    index = tmp_path / "simulation_x" / "behaviour.step_citizens-40.py311.nbi"
    index.parent.mkdir()
    index.write_bytes(b"")
    assert not warm.cold()
