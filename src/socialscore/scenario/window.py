"""The measurement window: the days every harm measure of a run covers.

A regime's effects are measured once it covers everyone and its scores have
had time to mean something: from the day participation becomes mandatory
plus a burn-in (``recording.burn_in_days``), to the last day of the run.
``recording.measure_from_day`` (or ``--measure-from`` on the command line)
sets the first day instead. The window always keeps at least the second half
of the run, so a short run still measures something, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialscore.scenario.schema import Scenario


@dataclass(frozen=True)
class Window:
    """Days ``start`` to ``end`` inclusive, and why the window starts where it does."""

    start: int
    end: int
    covered_from: int | None  # the day the regime rates everyone; None: never in this run
    why: str

    @property
    def days(self) -> int:
        """Number of days in the window."""
        return self.end - self.start + 1

    def label(self) -> str:
        """The window in words, for a table cell: "days 180–364"."""
        return f"days {self.start}–{self.end}" if self.end > self.start else f"day {self.end}"

    def mask(self, day: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True for the days inside the window."""
        d = np.asarray(day)
        return (d >= self.start) & (d <= self.end)


def measurement_window(scenario: Scenario, days: int | None = None) -> Window:
    """The window of a run of ``scenario`` lasting ``days`` days (default: the scenario's)."""
    days = scenario.run.days if days is None else days
    last = max(days - 1, 0)
    half = days // 2
    mandatory = scenario.participation.mandatory_from_day
    covered = mandatory if mandatory < days else None
    r = scenario.recording
    if r.measure_from_day is not None:
        if r.measure_from_day <= last:
            return Window(r.measure_from_day, last, covered, "set by the scenario")
        return Window(
            half,
            last,
            covered,
            f"the scenario asks for day {r.measure_from_day}, after the run's end, so the "
            "second half of the run is measured",
        )
    if covered is None:
        return Window(
            half,
            last,
            None,
            "the regime never rates everyone in this run, so the second half of the run is "
            "measured",
        )
    start = covered + r.burn_in_days
    if start <= half:
        why = (
            f"from day {covered}, when the regime rates everyone, plus {r.burn_in_days} days "
            "for scores to build up"
            if covered > 0
            else f"the regime rates everyone from day 0; the first {r.burn_in_days} days "
            "let scores build up"
        )
        return Window(start, last, covered, why)
    return Window(
        half,
        last,
        covered,
        f"day {covered} (everyone rated) plus {r.burn_in_days} days of burn-in is past the "
        "middle of the run, so the second half is measured and scores may not have settled",
    )
