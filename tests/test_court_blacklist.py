"""The shipped court-blacklist regimes hold the published list and flows: July 2019 and 2024."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import simulate
from socialscore.scenario.files import load
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.kernels.gates import G_TRAVEL, T_APPLIED, T_SELECTED
from socialscore.simulation.recorder import Recorder
from socialscore.studies.calibration import ListFlows, list_flows, predicted_share

# The published figures, as docs/sources.md gives them.
POPULATION_2019 = 1_400.05e6  # end of 2019 [china-population]
POPULATION_2024 = 1_408.28e6  # end of 2024 [china-population]
LISTED_JULY_2019 = 14.5e6  # [court-blacklist-scale]
ADDED_JULY_2019, REMOVED_JULY_2019, JULY = 639_200, 166_500, 31  # [court-blacklist-flows-2019]
ADDED_2024, RESTORED_2024, YEAR_2024 = 2.457e6, 2.821e6, 366  # [court-blacklist-2024]


def flows(name: str, population: int, seed: int) -> ListFlows:
    return list_flows(load(name).scenario.with_overrides(population=population, seed=seed))


def within(count: int, exposure: int, rate: float, sds: float = 4.0) -> bool:
    """``count`` events over ``exposure`` citizen-days agree with a daily ``rate`` (Poisson)."""
    expected = exposure * rate
    return abs(count - expected) <= sds * np.sqrt(expected)


def assert_the_flows_hold(counts: ListFlows, r_in: float, r_out: float) -> float:
    """Listings and removals agree with the daily rates, and the last day's share with where
    they lead (four s.d. of the flows); returns that s.d., as a share."""
    assert within(counts.added, counts.free_days, r_in), (counts, r_in)
    assert within(counts.removed, counts.listed_days, r_out), (counts, r_out)
    expected = predicted_share(counts.first, r_in, r_out, counts.days - 1)
    sd = float(np.sqrt(counts.added + counts.removed) / counts.population)
    assert abs(counts.last - expected) <= 4 * sd, (counts, expected)
    return sd


def test_the_run_starts_from_the_list_of_july_2019():
    """The file's day-0 share is the source's 14.5M of 1,400.05M, and a run lands on it within
    four binomial standard deviations (0.06 points at 500,000 citizens)."""
    share = LISTED_JULY_2019 / POPULATION_2019
    scenario = load("court-blacklist").scenario
    assert scenario.history[0].share == pytest.approx(share, abs=5e-6)
    n = 500_000
    nat = nation.generate(scenario.with_overrides(population=n, days=1, seed=3))
    engine = Engine(scenario.with_overrides(population=n, days=1, seed=3), nat)
    engine.step(0, Recorder(engine.scenario, nat))
    listed = float((engine.state.score < scenario.score.blacklist_below).mean())
    assert abs(listed - share) <= 4 * np.sqrt(share * (1 - share) / n), listed


def test_under_the_2019_flows_the_list_grows_as_the_flows_of_july_2019_say():
    """Listings per free citizen-day and removals per listed citizen-day match July 2019's
    (639,200 added per 1,400.05M people, 166,500 removed from 14.5M, in 31 days) within four
    Poisson standard deviations (about 8% and 14% of the counts here), and after a year the
    share is where those flows lead (±4 s.d. of the year's flows): up from 1.04% to about
    1.40%."""
    counts = flows("court-blacklist", 500_000, seed=4)
    r_in = ADDED_JULY_2019 / JULY / POPULATION_2019
    r_out = REMOVED_JULY_2019 / JULY / LISTED_JULY_2019
    sd = assert_the_flows_hold(counts, r_in, r_out)
    assert counts.last - counts.first > 8 * sd  # the list grows, unmistakably
    assert 0.0135 < counts.last < 0.0147


def test_under_the_2024_flows_the_list_shrinks():
    """2.457M newly listed per 1,408.28M people and 2.821M restored from the assumed stock
    (the July-2019 share, as the file says) in 366 days: the flows match within four Poisson
    standard deviations, the list shrinks, and by as much as the flows say (±4 s.d.; the
    expected fall, about 255 of a million citizens, is about four such s.d.)."""
    scenario = load("court-blacklist-2024").scenario
    counts = flows("court-blacklist-2024", 1_000_000, seed=5)
    assert counts.days == YEAR_2024
    stock = scenario.history[0].share * POPULATION_2024
    r_in = ADDED_2024 / YEAR_2024 / POPULATION_2024
    r_out = RESTORED_2024 / YEAR_2024 / stock
    assert_the_flows_hold(counts, r_in, r_out)
    assert counts.last < counts.first


def test_only_the_published_consequences_are_decided():
    sc = load("court-blacklist").scenario.with_overrides(population=50_000, days=60, seed=1)
    _, rec = simulate(sc)
    assert rec.events[:, CITIZEN_EVENTS.index("debt_paid"), :].sum() > 0
    decided = {CITIZEN_GATES[k] for k in np.nonzero(rec.gates[:, :, :, 0].sum(axis=(0, 2)))[0]}
    assert decided <= {"travel", "school"} and "travel" in decided


def test_travel_is_blocked_exactly_for_the_listed_day_by_day():
    """Travel attempts are drawn independently of the score, so on each day the blocked share
    of attempts is the listed share of that day: the blocked count must match the expectation
    summed day by day, within four binomial standard deviations (about 0.1 percentage points
    of the attempts here, against a listed share that grows from 1.04% to 1.4%)."""
    sc = load("court-blacklist").scenario.with_overrides(population=100_000, days=365, seed=2)
    _, rec = simulate(sc)
    line = sc.score.blacklist_below - sc.score.lo
    listed_share = rec.hist[:, :line].sum(axis=1) / rec.hist.sum(axis=1)
    attempts = rec.gates[:, G_TRAVEL, :, T_APPLIED].sum(axis=1)
    blocked = attempts - rec.gates[:, G_TRAVEL, :, T_SELECTED].sum(axis=1)
    expected = float((attempts * listed_share).sum())
    sd = float(np.sqrt((attempts * listed_share * (1 - listed_share)).sum()))
    assert expected > 1_000  # enough blocked attempts for the check to mean something
    assert abs(blocked.sum() - expected) <= 4 * sd, (int(blocked.sum()), expected, sd)
