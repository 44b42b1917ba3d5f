"""What a run does to a blacklist, counted citizen by citizen: the figures calibrations quote.

The engine records the daily score histogram, so the listed share is in
every run; who joined and who left the list each day is not. A calibration
against published flows (people added and removed in a month or a year)
needs those counts and their exposures, so this study steps the engine day
by day and compares each day's list with the day before's.
"""

from __future__ import annotations

from typing import NamedTuple

from socialscore.scenario.schema import Scenario
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.recorder import Recorder


class ListFlows(NamedTuple):
    """What happened to the blacklist (below ``score.blacklist_below``) in one run."""

    population: int
    days: int
    first: float  # share listed at the end of day 0
    last: float  # share listed at the end of the last day
    added: int  # citizens listed on a day (1 ..) who were not the day before
    removed: int  # citizens not listed on a day (1 ..) who were the day before
    free_days: int  # citizen-days not listed the day before: the exposure of ``added``
    listed_days: int  # citizen-days listed the day before: the exposure of ``removed``

    @property
    def added_rate(self) -> float:
        """Listings per free citizen-day."""
        return self.added / self.free_days if self.free_days else float("nan")

    @property
    def removed_rate(self) -> float:
        """Removals per listed citizen-day."""
        return self.removed / self.listed_days if self.listed_days else float("nan")


def list_flows(scenario: Scenario) -> ListFlows:
    """Run ``scenario`` in memory and count the list's flows from day 1 to the last day."""
    n = scenario.run.population
    nat = nation.generate(scenario)
    engine, recorder = Engine(scenario, nat), Recorder(scenario, nat)
    line = scenario.score.blacklist_below
    engine.step(0, recorder)
    before = engine.state.score < line
    first = float(before.mean())
    added = removed = listed_days = 0
    for day in range(1, scenario.run.days):
        engine.step(day, recorder)
        now = engine.state.score < line
        added += int((now & ~before).sum())
        removed += int((before & ~now).sum())
        listed_days += int(before.sum())
        before = now
    free_days = n * (scenario.run.days - 1) - listed_days
    return ListFlows(
        n, scenario.run.days, first, float(before.mean()), added, removed, free_days, listed_days
    )


def predicted_share(start: float, r_in: float, r_out: float, days: int) -> float:
    """The listed share after ``days`` at constant flows, from ``start``.

    ``r_in`` is the daily listing rate of a citizen not listed and ``r_out``
    the daily removal rate of a listed one: ds/dt = r_in·(1 − s) − r_out·s,
    so s(t) = s* + (s0 − s*)·exp(−(r_in + r_out)·t), s* = r_in / (r_in + r_out).
    """
    import math

    steady = r_in / (r_in + r_out)
    return steady + (start - steady) * math.exp(-(r_in + r_out) * days)
