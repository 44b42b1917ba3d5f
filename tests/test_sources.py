"""Every citation resolves inside the repository: scenario tags name entries of docs/sources.md."""

from __future__ import annotations

import re
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
