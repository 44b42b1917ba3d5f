"""A scenario compiled to arrays: event streams, rules, gates; made once before the day loop.

A scenario's streams, rules and gates become small parameter arrays once,
before the day loop; the kernels read nothing else (the score they make is
described in :mod:`socialscore.simulation.kernels.score`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, COMPANY_EVENTS, TRAITS
from socialscore.simulation.kernels.gates import gate_table
from socialscore.simulation.kernels.score import EV_INTERACTION_LOW, decay_factor
from socialscore.simulation.layout import Layout, layout

ERR_DERIVED_STREAM = (
    "streams.interaction_low_scorer: this event has no rate of its own; it happens when an "
    "'interaction' is with a friend below network.low_scorer_percentile of the public ranking. "
    "Give streams.interaction a rate instead."
)


@dataclass(frozen=True)
class Streams:
    """Parameters of the active event streams (one entry per stream with a rate)."""

    event: np.ndarray  # int64 [S], index into the event vocabulary
    rate: np.ndarray  # float64 [S]
    spread: np.ndarray  # float64 [S]
    trait: np.ndarray  # int64 [S], -1 = none
    trait_table: np.ndarray  # float64 [S, 256], rate multiplier by trait value
    group_mult: np.ndarray  # float64 [S, 2]
    stress_sens: np.ndarray  # float64 [S]
    chill_coef: np.ndarray  # float64 [S], rate falls as exp(-coef * chill exposure)
    gaming_coef: np.ndarray  # float64 [S], rate rises as exp(coef * gaming exposure)

    @staticmethod
    def _distinct(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = np.unique(coef[coef > 0])
        index = np.where(coef > 0, np.searchsorted(values, coef), -1).astype(np.int64)
        return index, values.astype(np.float64)

    def chill_slots(self) -> tuple[np.ndarray, np.ndarray]:
        """Per stream, the index of its chilling coefficient among the distinct ones (−1: none)."""
        return self._distinct(self.chill_coef)

    def gaming_slots(self) -> tuple[np.ndarray, np.ndarray]:
        """Per stream, the index of its gaming coefficient among the distinct ones (−1: none)."""
        return self._distinct(self.gaming_coef)


@dataclass(frozen=True)
class Rules:
    """Parameters of a rulebook: one entry per rule."""

    event: np.ndarray  # int64 [R]
    points: np.ndarray  # float64 [R]
    decay: np.ndarray  # float64 [R], daily factor
    cap: np.ndarray  # float64 [R], +inf = none


def trait_multiplier_table(strength: float) -> np.ndarray:
    """Rate multiplier for each trait value 0..255: 2**(strength·(2u−1)), median 1."""
    u = (np.arange(256, dtype=np.float64) + 0.5) / 256.0
    return np.asarray(2.0 ** (strength * (2.0 * u - 1.0)))


def compile_rules(rules: list, vocabulary: tuple[str, ...]) -> Rules:  # type: ignore[type-arg]
    """Turn a list of scenario rules into arrays."""
    return Rules(
        event=np.array([vocabulary.index(r.event) for r in rules], dtype=np.int64),
        points=np.array([r.points for r in rules], dtype=np.float64),
        decay=np.array([decay_factor(r.half_life_days) for r in rules], dtype=np.float64),
        cap=np.array([math.inf if r.cap is None else r.cap for r in rules], dtype=np.float64),
    )


def points_by_event(rules: Rules, n_events: int) -> np.ndarray:
    """Net points each event earns across the rulebook."""
    out = np.zeros(n_events, dtype=np.float64)
    np.add.at(out, rules.event, rules.points)
    return out


def compile_streams(scenario: Scenario, rule_points: np.ndarray | None = None) -> Streams:
    """Turn the scenario's citizen streams into arrays, in vocabulary order.

    ``rule_points``: each rule's effective points (0 for a rule its operator
    has no data for; :attr:`socialscore.simulation.layout.Layout.points`); chilling and
    gaming respond to these. By default, the rules' own points.
    """
    if "interaction_low_scorer" in scenario.streams:
        raise ValueError(ERR_DERIVED_STREAM)
    rules = compile_rules(scenario.rules, CITIZEN_EVENTS)
    if rule_points is not None:
        rules = Rules(rules.event, np.asarray(rule_points, np.float64), rules.decay, rules.cap)
    points = points_by_event(rules, len(CITIZEN_EVENTS))
    # The derived event's points count against the interaction that causes it.
    chill = scenario.feedback.chilling.strength
    gaming = scenario.feedback.gaming.strength
    names = [e for e in CITIZEN_EVENTS if e in scenario.streams and scenario.streams[e].rate > 0]
    specs = [scenario.streams[e] for e in names]
    penalty = []
    reward = []
    for e in names:
        p = points[CITIZEN_EVENTS.index(e)]
        if e == "interaction":
            p = min(p, p + points[EV_INTERACTION_LOW])
        penalty.append(max(-p, 0.0))
        reward.append(max(p, 0.0))
    return Streams(
        event=np.array([CITIZEN_EVENTS.index(e) for e in names], dtype=np.int64),
        rate=np.array([s.rate for s in specs], dtype=np.float64),
        spread=np.array([s.spread for s in specs], dtype=np.float64),
        trait=np.array([TRAITS.index(s.trait) if s.trait else -1 for s in specs], dtype=np.int64),
        trait_table=np.array(
            [trait_multiplier_table(s.trait_strength if s.trait else 0.0) for s in specs],
            dtype=np.float64,
        ).reshape(len(specs), 256),
        group_mult=np.array(
            [[1.0, s.minority_multiplier] for s in specs], dtype=np.float64
        ).reshape(len(specs), 2),
        stress_sens=np.array([s.stress_sensitivity for s in specs], dtype=np.float64),
        chill_coef=np.array(
            [
                chill * pen if s.legal and s.deterrable else 0.0
                for s, pen in zip(specs, penalty, strict=True)
            ],
            dtype=np.float64,
        ),
        gaming_coef=np.array([gaming * rew for rew in reward], dtype=np.float64),
    )


def compile_company_streams(scenario: Scenario) -> Streams:
    """Company streams; compliance plays the role of the trait (high = fewer bad events)."""
    names = [
        e
        for e in COMPANY_EVENTS
        if e in scenario.company_streams and scenario.company_streams[e].rate > 0
    ]
    specs = [scenario.company_streams[e] for e in names]
    zeros = np.zeros(len(specs), dtype=np.float64)
    return Streams(
        event=np.array([COMPANY_EVENTS.index(e) for e in names], dtype=np.int64),
        rate=np.array([s.rate for s in specs], dtype=np.float64),
        spread=np.array([s.spread for s in specs], dtype=np.float64),
        trait=np.zeros(len(specs), dtype=np.int64),
        trait_table=np.array(
            [trait_multiplier_table(s.compliance_strength) for s in specs], dtype=np.float64
        ).reshape(len(specs), 256),
        group_mult=np.ones((len(specs), 2), dtype=np.float64),
        stress_sens=zeros,
        chill_coef=zeros,
        gaming_coef=zeros,
    )


@dataclass(frozen=True)
class Compiled:
    """A scenario's parameters as arrays, made once before the day loop."""

    streams: Streams
    layout: Layout
    company_streams: Streams
    company_rules: Rules
    gates: np.ndarray
    error_decay: float
    chill_slots: tuple[np.ndarray, np.ndarray]
    gaming_slots: tuple[np.ndarray, np.ndarray]


def compile_scenario(scenario: Scenario) -> Compiled:
    """Compile a scenario's streams, rules and gates into arrays."""
    lay = layout(scenario)
    # Erroneous records decay like the first rule (of any operator) on their event.
    err_rules = [
        k
        for k, r in enumerate(scenario.rules)
        if r.event == scenario.data_errors.event and lay.points[k] != 0.0
    ]
    streams = compile_streams(scenario, lay.points)
    return Compiled(
        streams=streams,
        layout=lay,
        chill_slots=streams.chill_slots(),
        gaming_slots=streams.gaming_slots(),
        company_streams=compile_company_streams(scenario),
        company_rules=compile_rules(scenario.company_rules, COMPANY_EVENTS),
        gates=gate_table(scenario),
        error_decay=decay_factor(scenario.rules[err_rules[0]].half_life_days) if err_rules else 1.0,
    )
