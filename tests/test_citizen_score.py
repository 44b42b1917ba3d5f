"""The shipped citizen-score regime lists about 1% one year after launch, not for good.

``blacklist_below = 450`` is calibrated to the court blacklist's share (about 1% of the
population listed by July 2019, docs/sources.md: court-blacklist-scale) at one date: day
364. The share below the line keeps rising after that and settles at about 3.2%. The
calibration comment in citizen-score.toml states the figures; this test holds the file to
them.

Bands: mean ± 4 seed-to-seed standard deviations at the test's size (50,000 citizens,
9 seeds). Measured (share of all citizens below 450, per cent):

=================  ==============================  ==============================
                   50,000 citizens, 9 seeds        100,000 citizens, 8 seeds
=================  ==============================  ==============================
day 364            1.028 ± 0.051                   1.026 ± 0.028
day 729            2.587 ± 0.087                   2.610 ± 0.054
days 1095-1459     3.123 ± 0.068 (mean)            3.134 ± 0.046
rise in year 4 /   0.091 ± 0.039                   0.080 ± 0.022
rise in year 2
=================  ==============================  ==============================

The rise in a year is the mean of its last 30 days minus the mean of the previous year's
last 30 days.

Mutations of citizen-score.toml the test catches (seed 1, the assertion that fails):
blacklist_below 460 (day 364: 1.50%) or 440 (0.78%); the half-life of late bills doubled
(day 364: 1.63%), of flagged books (1.70%), of gaming over 3 hours (3.70%), of unpaid debts
(year 4: 3.76%); gaming over 3 hours at -9 points instead of -10 (day 729: 2.03%);
participation mandatory from day 0 (day 364: 1.38%); opt-in share 0.8 (day 364: 1.232%, by a
hair). Not caught: no dismissal stress (2.87% in year 4, inside the band).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from conftest import simulate
from socialscore.scenario.files import load, shipped_scenarios

#: Share below the line (per cent) on day 364: 1.03 ± 4 × 0.05.
DAY_364 = (0.83, 1.23)
#: On day 729, still rising: 2.60 ± 4 × 0.087.
DAY_729 = (2.25, 2.95)
#: Averaged over the fourth year (days 1095-1459), about the steady state: 3.13 ± 4 × 0.068.
YEAR_4 = (2.86, 3.40)
#: The fourth year adds at most this share of what the second added (0.09 ± 4 × 0.039).
SETTLING = 0.25


def yearly_rise(share: np.ndarray, year: int) -> float:
    """Mean of the last 30 days of ``year`` (1-based) minus that of the year before."""
    end, before = 365 * year, 365 * (year - 1)
    return float(share[end - 30 : end].mean() - share[before - 30 : before].mean())


def test_one_percent_is_listed_on_day_364_then_the_share_triples_and_settles() -> None:
    sc = load("citizen-score").scenario.with_overrides(population=50_000, days=1460, seed=1)
    _, rec = simulate(sc)
    line = sc.score.blacklist_below - sc.score.lo
    hist = rec.hist.astype(np.float64)
    share = 100.0 * hist[:, :line].sum(axis=1) / hist.sum(axis=1)
    # Nobody is listed while participation is voluntary (only 40% are rated, from 650).
    assert share[89] < 0.05
    # The calibration date: about 1% on day 364.
    assert DAY_364[0] <= share[364] <= DAY_364[1], share[364]
    # Not a lasting share: it goes on rising through the second year ...
    assert DAY_729[0] <= share[729] <= DAY_729[1], share[729]
    # ... and settles at about 3%, three times the calibration target.
    year4 = float(share[1095:1460].mean())
    assert YEAR_4[0] <= year4 <= YEAR_4[1], year4
    rises = yearly_rise(share, 2), yearly_rise(share, 4)
    assert rises[1] < SETTLING * rises[0], rises


#: ``[doc: name]``, ``[dir: name]`` (also inside longer brackets) or ``[ill]``.
TAG = re.compile(r"\[ill\b|\b(doc|dir): [a-z]")
KEY = re.compile(r"^\s*[\w.\"-]+\s*=\s*(.*)$")


def untagged_numbers(text: str) -> list[int]:
    """Lines of a scenario file holding a number on a ``key = value`` line with no tag.

    Numbers inside a multi-line list count as tagged when the list's key line or a
    comment line inside the list carries a tag; strings are not numbers.
    """
    lines = text.splitlines()
    out: list[int] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        m = KEY.match(line)
        if not m:
            continue
        value, _, comment = m.group(1).partition("#")
        if value.startswith('"""'):  # a multi-line string: skip to its end
            rest = value[3:]
            while '"""' not in rest and k < len(lines):
                rest = lines[k]
                k += 1
            continue
        if value.strip() == "[":  # a multi-line list
            tagged = bool(TAG.search(comment))
            first = k
            while k < len(lines) and lines[k].strip() != "]":
                tagged |= lines[k].strip().startswith("#") and bool(TAG.search(lines[k]))
                k += 1
            if not tagged and any(re.search(r"\d", x.split("#")[0]) for x in lines[first:k]):
                out.append(first)
            continue
        bare = re.sub(r'"[^"]*"', "", value)
        if re.search(r"\d", bare) and not TAG.search(comment):
            out.append(k)
    return out


def test_every_number_in_citizen_score_is_tagged() -> None:
    path = Path(shipped_scenarios()["citizen-score"])
    assert untagged_numbers(path.read_text()) == []
    # The check itself: an untagged number, in a list or not, is found; strings are not.
    assert untagged_numbers('a = 3\nb = 4  # [ill]\nc = "3 hours"') == [1]
    assert untagged_numbers("g = [\n  { from = 350 },\n]\n") == [1]
    assert untagged_numbers("g = [  # [doc: sesame-bands]\n  { from = 350 },\n]\n") == []
    assert untagged_numbers('d = """day 90\nday 91"""\ne = 2 # [dir: wei-2016]') == []
