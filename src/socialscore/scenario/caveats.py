"""What a run of a scenario is too small or too short to show, said before it runs.

A run of 100 citizens for one day finishes and prints numbers (a rank-rank
correlation of 1.000 among them) that mean nothing; a 30-day run of a regime
that rates everyone from day 90 measures only its voluntary phase. The
command line prints these caveats before the run, and the report repeats
them above its findings.
"""

from __future__ import annotations

from typing import Final

from socialscore.scenario.schema import Scenario
from socialscore.scenario.window import measurement_window

__all__ = ["MIN_POPULATION", "MIN_WINDOW_DAYS", "caveats"]

#: Fewer citizens than this: subgroups fall below 30 decisions and intervals are wide.
MIN_POPULATION: Final = 10_000
#: A shorter measurement window: mobility and chilling have no time to show.
MIN_WINDOW_DAYS: Final = 30

WARN_SMALL: Final = (
    "{population:,} citizens is a small nation: most subgroups get fewer than 30 decisions "
    "and every interval is wide. Use --population 10k or more (100k takes seconds)."
)
WARN_SHORT: Final = (
    "The measurement window is {label} ({days} day{s}): over so few days the rank-rank "
    "correlation is close to 1 by construction and chilling cannot show. Run at least "
    "{want} days (--days {want})."
)
WARN_UNCOVERED: Final = (
    "The run ends on day {last} but the regime rates everyone only from day {mandatory} "
    "(participation.mandatory_from_day): it measures the voluntary phase alone. Run at "
    "least {want} days (--days {want}) to see the regime in full."
)


def caveats(scenario: Scenario) -> list[str]:
    """What a run of ``scenario`` (as resolved, overrides applied) cannot show, in words."""
    out = []
    population = scenario.run.population
    if population < MIN_POPULATION:
        out.append(WARN_SMALL.format(population=population))
    window = measurement_window(scenario)
    mandatory = scenario.participation.mandatory_from_day
    burn_in = scenario.recording.burn_in_days
    if window.covered_from is None and mandatory > 0:
        want = mandatory + burn_in + 2 * MIN_WINDOW_DAYS
        out.append(
            WARN_UNCOVERED.format(last=scenario.run.days - 1, mandatory=mandatory, want=want)
        )
    elif window.days < MIN_WINDOW_DAYS:
        want = max(2 * MIN_WINDOW_DAYS, (window.covered_from or 0) + burn_in + MIN_WINDOW_DAYS)
        out.append(
            WARN_SHORT.format(
                label=window.label(),
                days=window.days,
                s="" if window.days == 1 else "s",
                want=want,
            )
        )
    return out
