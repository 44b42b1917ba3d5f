"""Hostile text through every command: names are never markup, never terminal codes.

A scenario, a grid, a catalogued run or a file path may carry Rich markup
(``[/]`` crashed every command, ``[link=...]`` hid a hyperlink, ``[v2]``
vanished), terminal escape codes (ESC and BEL set the window title) or ten
thousand characters. Every command must print them literally, escaped, and
short, and exit with the code that means what happened (issue 13, items 3
and 9).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from socialscore import cli
from socialscore.scenario import files as sc
from socialscore.system.terminal import CUT, clean

HOSTILE = {
    "close": "evil [/] name",
    "link": "[link=http://x]click[/link]",
    "title": "\x1b]0;title\x07",
    "style": "[bold red]x",
}
LONG = "n" * 10_000
#: Every pattern in one name, for the commands that cost most (sweep, 80 characters at most).
ALL_IN_ONE = "evil [/] [link=http://x]click[/link] \x1b]0;title\x07 [bold red]x \u202eok"
TINY = ["--population", "2000", "--days", "20"]
RAW_CODES = ("\x1b", "\x07", "\u202e")

runner = CliRunner()


def _quoted(text: str) -> str:
    """A TOML basic string holding ``text`` (control characters as ``\\uXXXX`` escapes)."""
    return '"' + "".join(f"\\u{ord(ch):04x}" if ord(ch) < 32 else ch for ch in text) + '"'


def _scenario_text(name: str) -> str:
    """The Citizen Score's file named ``name``, its late-bill rule labelled ``name + " rule"``."""
    text = sc.resolve("citizen-score").read_text("utf-8")
    text = re.sub(
        r'(?m)^name = "citizen-score"$', lambda _: "name = " + _quoted(name), text, count=1
    )
    return text.replace('"Late bill or utility fee"', _quoted(name + " rule"), 1)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _no_raw_codes(*texts: str) -> None:
    for text in texts:
        for code in RAW_CODES:
            assert code not in text, f"raw {code!r} reached the terminal"
        assert "Traceback" not in text


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide terminal, so tables show whole names instead of wrapping them."""
    monkeypatch.setattr(cli.console, "width", 3000)
    monkeypatch.setattr(cli.errors, "width", 3000)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose own name is markup: ``[v2]`` must survive in every printed path."""
    folder = tmp_path_factory.mktemp("hostile") / "store [v2]"
    folder.mkdir()
    for key, name in {**HOSTILE, "all": ALL_IN_ONE, "long": LONG}.items():
        (folder / f"{key}.toml").write_text(_scenario_text(name), "utf-8")
    return folder


@pytest.mark.parametrize("key", [*HOSTILE, "all"])
def test_validate_and_run_print_a_hostile_name_literally(place: Path, key: str) -> None:
    name = HOSTILE.get(key, ALL_IN_ONE)
    file, out = str(place / f"{key}.toml"), str(place / "runs")
    shown = clean(name)

    code, stdout, stderr = _invoke("validate", file)
    assert code == 0, stderr
    assert f"{file}: valid scenario '{shown}'." in stdout  # the [v2] of the folder included

    code, stdout, stderr = _invoke("run", file, *TINY, "--out", out)
    assert code == 0, stderr
    assert f"{shown}: 2,000 synthetic citizens" in stdout
    assert f"written to {out}/" in stdout
    _no_raw_codes(stdout, stderr)


def test_audit_and_compare_print_hostile_names_and_labels_literally(place: Path) -> None:
    """Every pattern at once (one name and one rule label), for the two costliest commands."""
    file, out = str(place / "all.toml"), str(place / "runs")
    shown = clean(ALL_IN_ONE)
    # The Citizen Score fails its audit: exit 1 must mean that, not a crash after the run.
    code, stdout, stderr = _invoke("audit", file, *TINY, "--out", out)
    assert code == cli.EXIT_AUDIT_FAILED, stderr
    assert f"Audit of {shown}" in stdout
    assert re.search(re.escape(shown) + r" fails \d+ of \d+ checks\.", stdout)
    assert f"rule '{shown} rule'" in stdout  # the hostile rule label, in a table cell
    _no_raw_codes(stdout, stderr)

    code, stdout, stderr = _invoke(
        "compare", "citizen-score", file, "--seeds", "1", *TINY, "--out", out
    )
    assert code == 0, stderr
    assert shown in stdout and "Differences against citizen-score" in stdout
    _no_raw_codes(stdout, stderr)


def test_a_ten_kilobyte_name_is_refused_in_one_short_message(place: Path) -> None:
    file = str(place / "long.toml")
    for args in (
        ("validate", file),
        ("run", file, *TINY, "--out", str(place / "runs")),
        ("audit", file, *TINY, "--out", str(place / "runs")),
        ("compare", "citizen-score", file, "--seeds", "1", *TINY, "--out", str(place / "runs")),
    ):
        code, stdout, stderr = _invoke(*args)
        assert code == cli.EXIT_BAD_SCENARIO, stdout
        assert "scenario.name" in stderr and file in stderr
        assert "characters left out" in stderr and len(stderr) < 2_000


def test_sweep_prints_a_hostile_grid_and_base_literally(place: Path) -> None:
    grid = place / "grid [v2].toml"
    grid.write_text(
        "[sweep]\n"
        f"name = {_quoted(ALL_IN_ONE)}\n"
        'base = "all.toml"\nseeds = 1\npopulation = 2000\ndays = 10\n'
        'metrics = ["mean_score"]\n[grid]\n"network.weight" = [0.0]\n',
        "utf-8",
    )
    code, stdout, stderr = _invoke(
        "sweep", str(grid), "--workers", "1", "--out", str(place / "sweeps")
    )
    assert code == 0, stderr
    assert f"{clean(ALL_IN_ONE)}: 1 point x 1 seed = 1 run of all.toml" in stdout
    assert f"report: {place / 'sweeps'}/" in stdout
    _no_raw_codes(stdout, stderr)


def test_catalogued_hostile_names_print_literally_in_runs_query_and_report(place: Path) -> None:
    out = place / "catalogue"
    for key in ("close", "link"):
        code, _, stderr = _invoke("run", str(place / f"{key}.toml"), *TINY, "--out", str(out))
        assert code == 0, stderr
    # A legacy or hand-edited catalogue: names no scenario file would be allowed to carry.
    con = duckdb.connect(str(out / "catalogue.duckdb"))
    ids = [r[0] for r in con.execute("select run_id from runs order by run_id").fetchall()]
    con.execute("update runs set scenario_name = ? where run_id = ?", [LONG + "\x1b[2J", ids[0]])
    con.execute("update runs set run_id = ? where run_id = ?", ["evil [/] \x07id", ids[1]])
    con.close()
    shown_long = clean(LONG + "\x1b[2J")
    assert CUT.format(count=len(LONG) + 7 - 200) in shown_long

    code, stdout, stderr = _invoke("runs", "--out", str(out))
    assert code == 0, stderr
    assert f"Runs in {out}" in stdout
    assert shown_long in stdout and "evil [/] \\x07id" in stdout
    assert HOSTILE["link"] in stdout  # the second run's name, not a hidden hyperlink
    _no_raw_codes(stdout, stderr)

    code, stdout, stderr = _invoke(
        "query", 'select run_id, scenario_name as "[/] col" from runs', "--out", str(out)
    )
    assert code == 0, stderr
    assert shown_long in stdout and "evil [/] \\x07id" in stdout and "[/] col" in stdout
    _no_raw_codes(stdout, stderr)

    code, stdout, stderr = _invoke("report", ids[0], "--out", str(out))
    assert code == 0, stderr
    assert f"Report written to {out / ids[0]}" in stdout
    code, stdout, stderr = _invoke("report", "no [/] run \x1b]0;t\x07", "--out", str(out))
    assert code == cli.EXIT_BAD_SCENARIO
    assert "no [/] run \\x1b]0;t\\x07" in stderr
    _no_raw_codes(stdout, stderr)


def test_scenarios_prints_hostile_shipped_names_literally(
    place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = place / "shipped"
    shipped.mkdir()
    (shipped / "[bold]x \x1b[2J.toml").write_text(
        '[scenario]\nname = "plain"\ndescription = "[link=http://x]click[/link] \\u0007"\n'
        '[score]\nbase = 600\nlo = 0\nhi = 2000\ngrades = [{ name = "all", from = 0 }]\n',
        "utf-8",
    )
    monkeypatch.setattr(sc, "SHIPPED_DIR", shipped)
    code, stdout, stderr = _invoke("scenarios")
    assert code == 0, stderr
    assert "[bold]x \\x1b[2J: [link=http://x]click[/link] \\x07" in stdout
    _no_raw_codes(stdout, stderr)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--seeds", "0"], "--seeds"),
        (["--population", "-1"], "--population"),
        (["--days", "0"], "--days"),
    ],
)
def test_compare_refuses_a_bad_option_in_one_line_like_run(
    tmp_path: Path, args: list[str], option: str
) -> None:
    code, _, stderr = _invoke(
        "compare", "citizen-score", "no-scoring", *args, "--out", str(tmp_path)
    )
    assert code == cli.EXIT_BAD_SCENARIO
    assert stderr.startswith(f"Bad option {option}: ") and stderr.count("\n") == 1
    assert f"(got {args[1]})." in stderr and "pydantic" not in stderr
    assert not (tmp_path / "catalogue.duckdb").exists()  # refused before anything ran


def test_a_long_bad_option_value_is_shortened_in_its_echo(tmp_path: Path) -> None:
    huge = "9" * 4_000
    code, _, stderr = _invoke("run", "--seed", huge, "--out", str(tmp_path))
    assert code == cli.EXIT_BAD_SCENARIO
    assert stderr.startswith("Bad option --seed: ") and "characters left out" in stderr
    assert len(stderr) < 400


def test_a_missing_file_in_a_bracketed_folder_is_named_intact(tmp_path: Path) -> None:
    missing = tmp_path / "[v2]" / "nope [/].toml"
    code, _, stderr = _invoke("validate", str(missing))
    assert code == cli.EXIT_BAD_SCENARIO
    assert stderr.startswith(f"{missing}: no such scenario file.")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # OSC: sets the window title
        ("a\x9b2Jb", "a\\x9b2Jb"),  # the one-byte C1 CSI: clears the screen on some terminals
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override: text shown reversed
        ("x\u2066y\u2069", "x\\u2066y\\u2069"),  # bidi isolates
        ("a\u2028b\nc\rd\te", "a\\u2028b\\nc\\rd\\te"),  # line breaks can forge lines
        ("\x00\x7f", "\\x00\\x7f"),
        ("évil [/] 中文 🙂", "évil [/] 中文 🙂"),  # printable text and brackets as they are
    ],
)
def test_clean_shows_every_control_character_escaped(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_keeps_line_breaks_of_a_message_and_cuts_each_long_line() -> None:
    message = "file.toml: 1 problem\n  name: too long (got '" + "y" * 5_000 + "')\n"
    lines = clean(message, limit=300, multiline=True).split("\n")
    assert lines[0] == "file.toml: 1 problem" and lines[2] == ""
    assert lines[1].startswith("  name: too long (got 'yyy") and lines[1].endswith("yyy')")
    assert CUT.format(count=len("  name: too long (got '')") + 5_000 - 300) in lines[1]
    assert clean("x" * 200) == "x" * 200  # a name the schema allows is shown whole
