"""The daily tallies: what the kernels count each day and the recorder keeps, declared once.

A tally is a small array of counts the kernels fill for one day (summed over
the chunks of citizens that worked in parallel); the recorder keeps one per
day and turns them into the run's tables at the end. Each entry says the
tally's axes, its dtype, the tables it feeds and what it counts. The
recorder allocates its arrays from this registry and refuses a day whose
tallies are not exactly these; the engine allocates the per-chunk buffers of
the tallies it sums directly from it too. Adding a tally is one entry here,
the kernel code that counts it, one line of the engine's hand-over, and the
table code that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import (
    CITIZEN_EVENTS,
    CITIZEN_GATES,
    COMPANY_EVENTS,
    GROUP_LABELS,
)
from socialscore.simulation.kernels.disputes import DISPUTE_TALLIES
from socialscore.simulation.kernels.gates import REPLICATES, STATES, TALLIES
from socialscore.simulation.kernels.monitoring import MONITOR_TALLIES

ERR_TALLIES = "record_day got tallies {got}; the registry (simulation.tallies) declares {want}."


@dataclass(frozen=True)
class Tally:
    """One daily tally.

    Attributes:
        name: The recorder's array and the engine's hand-over keyword.
        axes: Each axis: a dimension's name (:func:`dimensions`) or a fixed width.
        dtype: The numpy dtype of the counts.
        tables: The run tables built from it.
        counts: What it counts, in words.
    """

    name: str
    axes: tuple[str | int, ...]
    dtype: type[np.generic]
    tables: tuple[str, ...]
    counts: str

    def shape(self, dims: dict[str, int]) -> tuple[int, ...]:
        """The tally's shape for one day."""
        return tuple(dims[a] if isinstance(a, str) else a for a in self.axes)

    def zeros(self, dims: dict[str, int], leading: int) -> np.ndarray:
        """Zeros for ``leading`` days (the recorder) or chunks (the engine)."""
        return np.zeros((leading, *self.shape(dims)), dtype=self.dtype)


DAILY: Final[tuple[Tally, ...]] = (
    Tally(
        "hist",
        ("score",),
        np.int64,
        ("daily", "daily_grades", "score_histogram"),
        "citizens at each score",
    ),
    Tally(
        "group_hist",
        ("group", 2),
        np.int64,
        ("daily_groups", "daily_events"),
        "citizens of each group and the sum of their scores",
    ),
    Tally("events", ("event", "group"), np.int64, ("daily_events",), "citizen events by group"),
    Tally("errors", ("group",), np.int64, ("daily",), "erroneous records made"),
    Tally(
        "expected",
        ("event", "group", 3),
        np.int64,
        ("daily_events",),
        "Σ p, Σ p without chilling and Σ p² of each event by group, as integer chances "
        "(kernels.passes.probability_sums)",
    ),
    Tally(
        "gates",
        ("gate", "group", "gate_tally"),
        np.int64,
        ("daily_gates",),
        "decisions at each citizen gate by group: kernels.gates.T_* (applied, selected, ...)",
    ),
    Tally(
        "gate_replicates",
        ("gate", "replicate", "group", 2),
        np.int64,
        ("gate_replicates",),
        "applied and selected at each gate by replicate of citizens (id modulo "
        "kernels.gates.REPLICATES) and group",
    ),
    Tally(
        "reasons",
        ("gate", "group", "reason"),
        np.int64,
        ("reasons",),
        "adverse decisions at each gate by the group of the citizen and the reason given "
        "(simulation.layout labels)",
    ),
    Tally(
        "disputes",
        ("group", "dispute"),
        np.int64,
        ("daily",),
        "disputes filed, upheld and rejected (kernels.disputes.D_*)",
    ),
    Tally(
        "group_state",
        ("group", "state"),
        np.float64,
        ("daily", "daily_groups"),
        "employed, with a mortgage, blacklisted, chilled, stress and chilling by group "
        "(kernels.gates.S_*)",
    ),
    Tally("dropped", ("group",), np.int64, ("daily", "daily_groups"), "friendships dropped"),
    Tally(
        "policy",
        ("group", 2),
        np.float64,
        ("gate_policy",),
        "the mortgage gate's threshold and chance of approval at it, by group, as the day's "
        "decisions met them (a table only under a lending policy other than fixed)",
    ),
    Tally("company_hist", ("company_score",), np.int64, ("daily",), "companies at each score"),
    Tally(
        "company_events",
        ("company_event", "group"),
        np.int64,
        ("daily_events",),
        "company events by the owner's group",
    ),
    Tally(
        "company_gates",
        ("group", 2),
        np.int64,
        ("daily_gates",),
        "public-contract bids and contracts granted by the owner's group",
    ),
    Tally(
        "monitoring",
        ("unit", MONITOR_TALLIES),
        np.int64,
        ("monitoring",),
        "per monitoring unit: its weight at the start and at the end of the day, patrols, "
        "true incidents and detections of the monitored events (kernels.monitoring.M_*; "
        "no units, and no table, without [monitoring])",
    ),
)

#: Each tally by name.
BY_NAME: Final[dict[str, Tally]] = {t.name: t for t in DAILY}


def dimensions(scenario: Scenario, reasons: int) -> dict[str, int]:
    """The width of each named axis for a scenario (``reasons``: the layout's reason labels)."""
    s, cs = scenario.score, scenario.company_score
    return {
        "score": s.hi - s.lo + 1,
        "company_score": cs.hi - cs.lo + 1,
        "group": len(GROUP_LABELS),
        "event": len(CITIZEN_EVENTS),
        "company_event": len(COMPANY_EVENTS),
        "gate": len(CITIZEN_GATES),
        "gate_tally": TALLIES,
        "replicate": REPLICATES,
        "reason": reasons,
        "dispute": DISPUTE_TALLIES,
        "state": STATES,
        "unit": scenario.monitoring_units(),
    }


def check_names(names: set[str]) -> None:
    """Raise when a day's tallies are not exactly the registry's.

    Raises:
        KeyError: Naming the tallies that are missing or unknown.
    """
    if names != set(BY_NAME):
        raise KeyError(ERR_TALLIES.format(got=sorted(names), want=sorted(BY_NAME)))
