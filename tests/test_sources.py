"""Every citation resolves inside the repository: scenario tags name entries of docs/sources.md."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from socialscore.scenario.files import shipped_scenarios

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"

#: ``[doc: a, b]`` or ``[dir: a]``, also inside longer brackets ("[ill] (... doc: a)").
TAG = re.compile(r"\b(doc|dir): ([a-z][a-z0-9-]*(?:, [a-z][a-z0-9-]*)*)")
#: A tag that names nothing: ``[doc]``, ``[dir]``, ``[doc (secondary)]``.
BARE = re.compile(r"\[(doc|dir)\b(?!: )")
#: The legend's placeholder.
PLACEHOLDER = "name"
#: Citations that point outside the repository.
OUTSIDE = re.compile(r"FACTS\.md|DESIGN\.md|\.\./shared")


def entries() -> set[str]:
    return set(re.findall(r"^### ([a-z][a-z0-9-]*)$", SOURCES.read_text(), re.MULTILINE))


def citations(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for _, names in TAG.findall(line):
            found += [(number, n) for n in names.split(", ") if n != PLACEHOLDER]
    return found


def test_the_sources_page_has_entries_with_unique_names() -> None:
    names = re.findall(r"^### (.+)$", SOURCES.read_text(), re.MULTILINE)
    assert len(names) == len(set(names)) > 20
    assert set(names) == entries(), "entry names are lowercase words joined by hyphens"


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_tag_in_a_shipped_scenario_names_an_entry(name: str) -> None:
    text = shipped_scenarios()[name].read_text()
    known = entries()
    unknown = [(n, c) for n, c in citations(text) if c not in known]
    assert not unknown, f"{name}: tags naming no entry of docs/sources.md: {unknown}"
    bare = [n for n, line in enumerate(text.splitlines(), 1) if BARE.search(line)]
    assert not bare, f"{name}: [doc] or [dir] without an entry name on lines {bare}"


def test_the_regimes_cite_the_sources_they_use() -> None:
    cited = {c for p in shipped_scenarios().values() for _, c in citations(p.read_text())}
    assert {"sesame-scale", "rongcheng-deductions", "court-blacklist-flows-2019"} <= cited


def test_no_citation_points_outside_the_repository() -> None:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")]
    files += [*(ROOT / "src").rglob("*.py"), *(ROOT / "src").rglob("*.toml")]
    files += [*(ROOT / "src").rglob("*.j2")]
    outside = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not outside, f"citations outside the repository: {outside}"


def test_a_misnamed_tag_is_caught() -> None:
    assert citations("threshold = 600   # [doc: sesame-benefit]") == [(1, "sesame-benefit")]
    assert "sesame-benefit" not in entries()
    assert BARE.search("# removed on payment [doc]")
    assert not BARE.search("# [doc: court-blacklist-sanctions]")


# Every number in a shipped scenario carries a tag.
#
# The convention: a line assigning a value that contains a number (``key = 12``,
# ``key = -0.3``, ``key = 1_000``, ``key = { rate = 0.1 }``, ``key = [350, 450]``) has
# ``[doc: …]``, ``[dir: …]`` or ``[ill]`` (also ``[ill: …]``, ``[ill; …]``) in its
# end-of-line comment. That comment may go on over the lines directly below it that hold
# only a comment whose ``#`` stands in the same column. A value spread over several
# lines (an array or inline table) may instead be tagged once in the comment block
# directly above its key (comment lines starting in column 0, no blank line between);
# comments on its item lines do not count. Numbers inside strings and comments, and
# booleans, are not numbers here.

#: A tag that marks a number: ``[doc: name]``, ``[dir: name]``, ``[ill]``, ``[ill: …]``.
NUMBER_TAG = re.compile(r"\[(?:(?:doc|dir): [a-z]|ill[\]:;])")
_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf"(?:{_BARE_KEY}|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
#: ``key =``, ``a.b =``, ``"quoted key" =`` at the start of a line.
ASSIGNMENT = re.compile(rf"^\s*(?P<key>{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")


@dataclass(frozen=True)
class Assignment:
    """One ``key = value`` of a TOML file, as written."""

    line: int  # 1-based number of the key's line
    key: str
    value: str  # the value's text without comments (possibly over several lines)
    comment: str  # the end-of-line comment with its continuation lines
    above: str  # the comment block directly above the key line
    lines: int  # how many lines the value spans


def _string_end(lines: list[str], row: int, i: int) -> tuple[int, int]:
    """Where the string opening at ``lines[row][i]`` ends: the row and the column after it."""
    text = lines[row]
    char = text[i]
    quote = char * 3 if text.startswith(char * 3, i) else char
    i += len(quote)
    while True:
        if i >= len(text):
            row, i = row + 1, 0
            if len(quote) == 1 or row == len(lines):
                raise ValueError(f"line {row}: unterminated string")
            text = lines[row]
        elif char == '"' and text[i] == "\\":
            i += 2  # an escape; at the end of a line, a line-ending backslash
        elif text.startswith(quote, i):
            i += len(quote)
            while len(quote) == 3 and i < len(text) and text[i] == char:
                i += 1  # """a"""" ends with a quote inside the string
            return row, i
        else:
            i += 1


def _read_value(lines: list[str], row: int, col: int) -> tuple[int, str, str]:
    """Read the TOML value that starts at ``lines[row][col]``.

    Returns the row it ends on, its text without comments and the comment on its first
    line ("" if none). Strings (basic, literal, multi-line) are read whole, brackets and
    braces counted, comments dropped.
    """
    first_row, text, i = row, lines[row], col
    value: list[str] = []
    comment = ""
    depth, started = 0, False
    while True:
        if i >= len(text) or text[i] == "#":
            if row == first_row:
                comment = text[i:]
            if depth == 0 and started:
                return row, "".join(value), comment
            row, i = row + 1, 0
            if row == len(lines):
                raise ValueError(f"line {first_row + 1}: unterminated value")
            text = lines[row]
            value.append("\n")
        elif text[i] in "\"'":
            end_row, end = _string_end(lines, row, i)
            if end_row == row:
                value.append(text[i:end])
            else:
                value.append("\n".join([text[i:], *lines[row + 1 : end_row], lines[end_row][:end]]))
            started, row, i, text = True, end_row, end, lines[end_row]
        else:
            depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(text[i], 0)
            started = started or not text[i].isspace()
            value.append(text[i])
            i += 1


def assignments(text: str) -> list[Assignment]:
    """Every ``key = value`` of a TOML text, with its comments as the convention reads them."""
    lines = text.splitlines()
    found: list[Assignment] = []
    row = 0
    while row < len(lines):
        match = ASSIGNMENT.match(lines[row])
        if not match:
            row += 1
            continue
        end_row, value, comment = _read_value(lines, row, match.end())
        if end_row == row and comment:
            column = len(lines[row]) - len(comment)
            below = row + 1
            while below < len(lines) and lines[below].lstrip().startswith("#"):
                if len(lines[below]) - len(lines[below].lstrip()) != column:
                    break
                comment += "\n" + lines[below].strip()
                below += 1
        above: list[str] = []
        up = row - 1
        while up >= 0 and lines[up].startswith("#"):
            above.insert(0, lines[up])
            up -= 1
        key = re.sub(r"\s*\.\s*", ".", match["key"])
        found.append(
            Assignment(row + 1, key, value.strip(), comment, "\n".join(above), end_row - row + 1)
        )
        row = end_row + 1
    return found


def numbers_in(value: object) -> int:
    """How many numbers (not booleans) a parsed TOML value holds."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return 1
    if isinstance(value, dict):
        return sum(numbers_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(numbers_in(v) for v in value)
    return 0


def untagged(text: str) -> list[tuple[int, str]]:
    """The (line, key) of every number-holding assignment without a tag."""
    missing = []
    for a in assignments(text):
        if not numbers_in(tomllib.loads(f"v = {a.value}")["v"]):
            continue
        tagged = NUMBER_TAG.search(a.comment) or (a.lines > 1 and NUMBER_TAG.search(a.above))
        if not tagged:
            missing.append((a.line, a.key))
    return missing


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_the_scanner_sees_every_number_of_a_shipped_scenario(name: str) -> None:
    text = shipped_scenarios()[name].read_text()
    seen = sum(numbers_in(tomllib.loads(f"v = {a.value}")["v"]) for a in assignments(text))
    assert seen == numbers_in(tomllib.loads(text))


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_number_in_a_shipped_scenario_carries_a_tag(name: str) -> None:
    path = shipped_scenarios()[name]
    missing = [f"{path.name}:{line}: {key}" for line, key in untagged(path.read_text())]
    assert not missing, (
        f"{name}: numbers without [doc: entry], [dir: entry] or [ill] in their end-of-line "
        "comment (a value over several lines: or in the comment block above its key):\n"
        + "\n".join(missing)
    )


def test_the_number_tag_convention() -> None:
    text = """\
# [ill] a comment above a one-line value does not tag it
base = 600
[score]
lo = 350                # [doc: sesame-scale]
hi = 950                # the top of the range,
                        # [doc: sesame-scale] on the comment's next line
cap = 60                # the next line starts elsewhere, so is no continuation
# [ill]
name = "350-950"
description = \"\"\"A 7-year expiry, 30 days. \\
Still 4 reasons; price #1 is "7", it's 'so'.\"\"\"
enabled = true
x = { rate = 0.1 }
y = { rate = 0.1 }      # [ill]
# Cut points [dir: huantai]
grades = [
  { name = "D", from = 0 },
]
bands = [
  { name = "D", from = 0 },  # [ill] an item's comment does not tag the value
]
mixed = ["a#b", 3]      # '#' inside a string [ill]
label = "x"             # [ill] 3
[[rules]]
points = -15            # [dir: sesame-idle]
strength = 6.67e-05     # [ill]
population = 1_000_000
nested.'odd key' = { a = { b = [1] } }
"""
    assert untagged(text) == [
        (2, "base"),
        (7, "cap"),
        (13, "x"),
        (19, "bands"),
        (27, "population"),
        (28, "nested.'odd key'"),
    ]
