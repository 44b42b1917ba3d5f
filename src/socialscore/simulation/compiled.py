"""A scenario compiled to arrays: event streams, rules, gates; made once before the day loop.

A scenario's streams, rules and gates become small parameter arrays once,
before the day loop; the kernels read nothing else (the score they make is
described in :mod:`socialscore.simulation.kernels.score`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

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


def distinct_coefficients(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per stream, its coefficient's index among the distinct positive ones (−1: none); those."""
    values = np.unique(coef[coef > 0])
    index = np.where(coef > 0, np.searchsorted(values, coef), -1).astype(np.int64)
    return index, values.astype(np.float64)


class Streams(NamedTuple):
    """Parameters of the active event streams (one entry per stream with a rate).

    A kernel argument as it is: the citizen and company kernels read it.
    """

    event: np.ndarray  # int64 [S], index into the event vocabulary
    rate: np.ndarray  # float64 [S]
    spread: np.ndarray  # float64 [S]
    trait: np.ndarray  # int64 [S], -1 = none
    trait_table: np.ndarray  # float64 [S, 256], rate multiplier by trait value
    group_mult: np.ndarray  # float64 [S, 2]
    stress_sens: np.ndarray  # float64 [S]
    chill_coef: np.ndarray  # float64 [S], rate falls as exp(-coef * chill exposure)
    gaming_coef: np.ndarray  # float64 [S], rate rises as exp(coef * gaming exposure)
    # The same coefficients as the kernel reads them: one exp per distinct value and citizen.
    chill_index: np.ndarray  # int64 [S], index of chill_coef in chill_values, -1 = none
    chill_values: np.ndarray  # float64 [distinct chill coefficients]
    gaming_index: np.ndarray  # int64 [S], index of gaming_coef in gaming_values, -1 = none
    gaming_values: np.ndarray  # float64 [distinct gaming coefficients]


def make_streams(
    event: np.ndarray,
    rate: np.ndarray,
    spread: np.ndarray,
    trait: np.ndarray,
    trait_table: np.ndarray,
    group_mult: np.ndarray,
    stress_sens: np.ndarray,
    chill_coef: np.ndarray,
    gaming_coef: np.ndarray,
) -> Streams:
    """The one place :class:`Streams` are made: the distinct coefficients follow the rest."""
    chill_index, chill_values = distinct_coefficients(chill_coef)
    gaming_index, gaming_values = distinct_coefficients(gaming_coef)
    return Streams(
        event,
        rate,
        spread,
        trait,
        trait_table,
        group_mult,
        stress_sens,
        chill_coef,
        gaming_coef,
        chill_index,
        chill_values,
        gaming_index,
        gaming_values,
    )


class Rules(NamedTuple):
    """Parameters of a rulebook: one entry per rule (the company kernel's argument)."""

    event: np.ndarray  # int64 [R]
    points: np.ndarray  # float64 [R]
    decay: np.ndarray  # float64 [R], daily factor
    cap: np.ndarray  # float64 [R], +inf = none


class CitizenRules(NamedTuple):
    """The citizen rulebook as the behaviour kernel applies it on one day.

    Rules (``[R]``) add to shared accumulators (``[Q]``, rows of ``state.acc``;
    :mod:`socialscore.simulation.layout`); the accumulator a rule with a hard
    expiry adds to rotates, so this is made for each day
    (:meth:`Compiled.citizen_rules`).
    """

    event: np.ndarray  # int64 [R]
    points: np.ndarray  # float64 [R], 0 for a rule its operator has no data for
    slot: np.ndarray  # int64 [R], the accumulator the rule adds to today, -1 = none
    decay: np.ndarray  # float64 [Q], daily factor
    cap: np.ndarray  # float64 [Q], +inf = none
    weight: np.ndarray  # float64 [Q], 1 = counts in the public score
    clear: np.ndarray  # int64 [Q], event that empties the accumulator, -1 = none


class Views(NamedTuple):
    """The score views the gates read (:mod:`socialscore.simulation.layout`): the gate kernel's."""

    weight: np.ndarray  # float64 [V, Q], 1 = the view counts the accumulator
    net: np.ndarray  # float64 [V], 1 = the view counts the network term
    err: np.ndarray  # float64 [V], points one erroneous record costs in the view
    gate_view: np.ndarray  # int64 [gates], the view each citizen gate reads
    reason: np.ndarray  # int64 [Q], the reason each accumulator gives


class ScoreScale(NamedTuple):
    """A score's base and range, and the blacklist cut (citizens; companies have none)."""

    base: int
    lo: int
    hi: int
    blacklist_below: int
    saturating: bool  # points beyond the range are lost (``score.saturating``)


class DataErrors(NamedTuple):
    """Erroneous records, for the behaviour kernel."""

    rate: float  # daily chance that a rated citizen gets one
    decay: float  # daily factor of the erroneous records held
    weight: float  # points one erroneous record costs in the public score


class Feedback(NamedTuple):
    """How the day's decisions change the citizens (the gate kernel's last passes)."""

    stress_decay: float  # daily factor of economic stress
    chill_below: int  # aware citizens below this score are chilled
    chill_weight: float  # weight of the risk-aversion trait in chilling
    gaming_increment: float  # daily rise of an aware citizen's gaming exposure
    gaming_cap: float  # largest gaming exposure


class Network(NamedTuple):
    """The network term and unfriending (the network kernel's rule)."""

    weight: float  # points per point of the friends' mean score above ``center``
    center: float
    unfriend_below: int  # friends below this score may be dropped
    unfriend_probability: float  # chance of dropping such a friend on an update day


class Outcomes(NamedTuple):
    """What follows an approved mortgage (``gates.mortgage.outcome``): the behaviour kernel's.

    Disabled (``enabled`` False, empty tables) when the scenario has no
    outcome or the mortgage gate is off; the kernels' types are the same either way.
    """

    enabled: bool
    after_days: int  # days from the approval to its outcome
    success: int  # index of the repayment event in the event vocabulary, -1 = none
    failure: int  # index of the default event, -1 = none
    scores: np.ndarray  # float64 [K], ascending
    chance: np.ndarray  # float64 [2, K], chance of repayment at each score, per group


def compile_outcomes(scenario: Scenario) -> Outcomes:
    """The mortgage gate's outcome table, or a disabled one."""
    gate = scenario.gates.mortgage
    spec = gate.outcome
    if spec is None or not gate.enabled:
        return Outcomes(False, 0, -1, -1, np.zeros(0), np.zeros((2, 0)))
    majority = spec.success_probability
    minority = spec.minority_success_probability
    return Outcomes(
        enabled=True,
        after_days=spec.after_days,
        success=CITIZEN_EVENTS.index(spec.success),
        failure=CITIZEN_EVENTS.index(spec.failure),
        scores=np.array(spec.scores, dtype=np.float64),
        chance=np.array([majority, majority if minority is None else minority], np.float64),
    )


class PublicContracts(NamedTuple):
    """The company gate: bids for public contracts, granted at a company-score threshold."""

    enabled: bool
    rate: float  # daily chance that a company bids
    threshold: int


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
        rules = rules._replace(points=np.asarray(rule_points, np.float64))
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
    return make_streams(
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
    return make_streams(
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
    """A scenario's parameters as arrays, made once before the day loop.

    Each field but ``layout`` is a kernel argument as it is (the gate table:
    float64 [gate, column], columns ``P_*`` of
    :mod:`socialscore.simulation.kernels.gates`).
    """

    streams: Streams
    layout: Layout
    views: Views
    score: ScoreScale
    errors: DataErrors
    network: Network
    gates: np.ndarray
    feedback: Feedback
    company_streams: Streams
    company_rules: Rules
    company_score: ScoreScale
    contracts: PublicContracts
    outcomes: Outcomes

    def citizen_rules(self, day: int) -> CitizenRules:
        """The citizen rulebook as the behaviour kernel applies it on ``day``."""
        lay = self.layout
        return CitizenRules(
            event=lay.event,
            points=lay.points,
            slot=lay.slots_on(day),
            decay=lay.decay,
            cap=lay.cap,
            weight=lay.view_weight[0],
            clear=lay.clear,
        )


def compile_scenario(scenario: Scenario) -> Compiled:
    """Compile a scenario's streams, rules, gates and feedback into arrays."""
    lay = layout(scenario)
    # Erroneous records decay like the first rule (of any operator) on their event.
    err_rules = [
        k
        for k, r in enumerate(scenario.rules)
        if r.event == scenario.data_errors.event and lay.points[k] != 0.0
    ]
    s, cs, net, fb = scenario.score, scenario.company_score, scenario.network, scenario.feedback
    pc = scenario.gates.public_contracts
    return Compiled(
        streams=compile_streams(scenario, lay.points),
        layout=lay,
        views=Views(lay.view_weight, lay.view_net, lay.view_err, lay.gate_view, lay.reason),
        score=ScoreScale(s.base, s.lo, s.hi, s.blacklist_below, s.saturating),
        errors=DataErrors(
            rate=scenario.data_errors.rate,
            decay=(decay_factor(scenario.rules[err_rules[0]].half_life_days) if err_rules else 1.0),
            weight=float(lay.view_err[0]),
        ),
        network=Network(
            weight=net.weight,
            center=float(net.center),
            unfriend_below=s.lo - 1 if net.unfriend_below is None else net.unfriend_below,
            unfriend_probability=net.unfriend_probability,
        ),
        gates=gate_table(scenario),
        feedback=Feedback(
            stress_decay=decay_factor(fb.stress_half_life_days),
            chill_below=fb.chilling.below,
            chill_weight=fb.chilling.risk_aversion_weight,
            gaming_increment=fb.gaming.daily_increment,
            gaming_cap=fb.gaming.cap,
        ),
        company_streams=compile_company_streams(scenario),
        company_rules=compile_rules(scenario.company_rules, COMPANY_EVENTS),
        # Companies have no blacklist: no score is below their lowest.
        company_score=ScoreScale(cs.base, cs.lo, cs.hi, cs.lo, False),
        contracts=PublicContracts(pc.enabled, pc.apply_rate, pc.threshold),
        outcomes=compile_outcomes(scenario),
    )
