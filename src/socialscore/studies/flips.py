"""Does acting on an explanation flip the decision? The run replayed to find out.

A trail's counterfactual (:mod:`socialscore.analysis.trails`) names what the
citizen could act on: penalty headings to be without, or an erroneous record
to dispute. :func:`replay_flips` takes a sample of those adverse decisions,
runs the scenario again (same seed: the same days, exactly) and, on each
sampled decision's day, asks the engine a what-if
(:class:`socialscore.simulation.engine.Probe`): the citizen's record without
what the explanation names, just before the gates decide; the gate kernel
itself then decides again. The day is then taken as it was, so every later
day is the run's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from socialscore.analysis.trails import Decision, Trail
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES
from socialscore.scenario.window import Window
from socialscore.simulation import nation as nation_module
from socialscore.simulation.engine import Engine, Probe
from socialscore.simulation.kernels.gates import DECISION_BITS, T_APPLIED, T_SELECTED
from socialscore.simulation.layout import Layout
from socialscore.simulation.layout import layout as layout_of
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.state import State

__all__ = ["MOST_DAYS", "MOST_DECISIONS", "Replayed", "replay_flips", "sample"]

#: At most this many days are asked a what-if (each copies the state twice).
MOST_DAYS: Final = 30
#: At most this many decisions are replayed.
MOST_DECISIONS: Final = 200

#: A decision's key: (citizen, day, gate).
Key = tuple[int, int, str]


@dataclass(frozen=True)
class Replayed:
    """The sampled decisions replayed, and whether acting on each explanation flipped it."""

    flipped: dict[Key, bool]

    def __len__(self) -> int:
        return len(self.flipped)


def sample(
    trails: Sequence[Trail],
    window: Window,
    *,
    most_days: int = MOST_DAYS,
    most_decisions: int = MOST_DECISIONS,
) -> list[tuple[int, Decision]]:
    """Adverse decisions in the window with something to act on, as (citizen, decision).

    The days are spread evenly over the days that have such decisions; on
    each day picked every such decision is taken, in citizen order (the
    first gate's when a citizen has two that day), until ``most_decisions``.
    """
    found = [
        (t.citizen, d)
        for t in trails
        for d in t.decisions
        if not d.favourable and d.act is not None and window.start <= d.day <= window.end
    ]
    days = sorted({d.day for _, d in found})
    if len(days) > most_days:
        picks = np.linspace(0, len(days) - 1, most_days).round().astype(int)
        days = sorted({days[int(k)] for k in picks})
    chosen = set(days)
    out: dict[tuple[int, int], tuple[int, Decision]] = {}
    for c, d in sorted(found, key=lambda cd: (cd[1].day, cd[0])):
        # One decision per citizen and day: edits of two would be made together.
        if d.day in chosen:
            out.setdefault((c, d.day), (c, d))
    return list(out.values())[:most_decisions]


def _slots(layout: Layout, gate: str, headings: Sequence[str]) -> np.ndarray:
    """The accumulators the gate's view counts that hold the named headings."""
    v = int(layout.gate_view[CITIZEN_GATES.index(gate)])
    named = set(headings)
    return np.array(
        [
            q
            for q in range(layout.accumulators)
            if layout.view_weight[v, q] != 0 and layout.labels[int(layout.reason[q])] in named
        ],
        dtype=np.int64,
    )


def _edit(layout: Layout, chosen: Sequence[tuple[int, Decision]]) -> Callable[[State], None]:
    """The record of the day's chosen citizens without what their explanations name."""

    def edit(state: State) -> None:
        for citizen, d in chosen:
            if d.act:
                state.acc[_slots(layout, d.gate, d.act), citizen] = 0.0
            else:  # a successful dispute
                state.err_acc[citizen] = 0.0

    return edit


def replay_flips(
    scenario: Scenario,
    chosen: Sequence[tuple[int, Decision]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Replayed:
    """Replay the run and ask, on each chosen decision's day, whether acting on it flips it.

    A decision flips when the gate, deciding on the edited record, applies
    the citizen's application and selects it. Citizens decided about on the
    same day are edited together: a gate reads only the citizen's own record
    and the scores published before the day, so one citizen's edit does not
    reach another's decision.
    """
    if not chosen:
        return Replayed({})
    layout = layout_of(scenario)
    by_day: dict[int, list[tuple[int, Decision]]] = defaultdict(list)
    for citizen, d in chosen:
        by_day[d.day].append((citizen, d))
    nat = nation_module.generate(scenario)
    engine = Engine(scenario, nat)
    recorder = Recorder(scenario, nat)
    last = max(by_day)
    flipped: dict[Key, bool] = {}
    for day in range(last + 1):
        today = by_day.get(day)
        probe = Probe(_edit(layout, today)) if today else None
        engine.step(day, recorder, probe=probe)
        if probe is not None and today is not None:
            assert probe.words is not None
            for citizen, d in today:
                gate = CITIZEN_GATES.index(d.gate)
                bits = int(probe.words[citizen]) >> (gate * DECISION_BITS)
                flipped[(citizen, d.day, d.gate)] = bool(
                    bits & (1 << T_APPLIED) and bits & (1 << T_SELECTED)
                )
        if progress is not None:
            progress(day + 1, last + 1)
    return Replayed(flipped)
