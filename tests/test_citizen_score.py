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

import numpy as np

from conftest import simulate
from socialscore.scenario.files import load

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
