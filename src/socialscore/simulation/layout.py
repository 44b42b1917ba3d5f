"""Which accumulators make which score.

A rulebook becomes a set of per-citizen accumulators (rows of ``state.acc``).
Rules share an accumulator when nothing can tell them apart: same half-life,
no cap, no expiry, no clearing event, same operator and, when a gate is
purpose-limited, same data domain. A rule with a hard expiry gets a ring of
``score.expiry_buckets`` (B) accumulators, each covering ``width = ceil(E /
B)`` days for ``E = expires_after_days`` (``E // width`` of them, so never
more than B); a bucket is emptied when its oldest points reach the age
``(E // width) · width <= E``, so points never count longer than E days, and
always for more than ``E − 2 · width`` days.

A *view* is a score made from a subset of the accumulators: the public score
(view 0, the public operator's rules and the network term), another
operator's score, or a purpose-limited score that only reads data from some
domains. Each citizen gate reads one view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES, NETWORK_DOMAIN
from socialscore.simulation.kernels.score import decay_factor

#: The reason label of the network term (not the person's own record).
NETWORK_REASON = "friends' scores (network term)"
#: The reason label of erroneous records (on the person's record, but false).
ERRONEOUS_REASON = "an erroneous record"


@dataclass(frozen=True)
class Layout:
    """Rules mapped to accumulators, and the score views gates read."""

    event: np.ndarray  # int64 [R]
    points: np.ndarray  # float64 [R], 0 for a rule its operator has no data for
    slot: np.ndarray  # int64 [R], first accumulator of each rule
    buckets: np.ndarray  # int64 [R], 1 = no hard expiry
    bucket_days: np.ndarray  # int64 [R], width of each bucket in days (0 = no expiry)
    decay: np.ndarray  # float64 [Q]
    cap: np.ndarray  # float64 [Q], +inf = none
    clear: np.ndarray  # int64 [Q], event that empties the accumulator, -1 = none
    reason: np.ndarray  # int64 [Q], the reason each accumulator gives (buckets share one)
    labels: tuple[str, ...]  # per reason: the rules it holds in words, then the network term
    #                          and erroneous records
    view_weight: np.ndarray  # float64 [V, Q], 1 = the view counts the accumulator
    view_net: np.ndarray  # float64 [V], 1 = the view counts the network term
    view_err: np.ndarray  # float64 [V], points one erroneous record costs in the view
    view_names: tuple[str, ...]  # [V]
    gate_view: np.ndarray  # int64 [gates], the view each citizen gate reads

    @property
    def accumulators(self) -> int:
        """Number of accumulators (rows of ``state.acc``)."""
        return int(self.decay.shape[0])

    def slots_on(self, day: int) -> np.ndarray:
        """The accumulator each rule adds to on ``day`` (expiring rules rotate; −1: none)."""
        width = np.maximum(self.bucket_days, 1)
        out: np.ndarray = self.slot + (day // width) % self.buckets
        return out

    def rows_to_empty(self, day: int) -> list[int]:
        """Buckets to empty at the start of ``day``: their oldest points reach the expiry age."""
        rows: set[int] = set()
        for r in range(self.slot.shape[0]):
            b, w = int(self.buckets[r]), int(self.bucket_days[r])
            if w > 0 and day % w == 0 and day // w >= b:
                rows.add(int(self.slot[r]) + (day // w) % b)
        return sorted(rows)


def _gate_views(scenario: Scenario) -> list[tuple[str | None, frozenset[str] | None]]:
    out: list[tuple[str | None, frozenset[str] | None]] = []
    for gate in CITIZEN_GATES:
        spec = getattr(scenario.gates, gate)
        purpose = frozenset(spec.purpose) if spec.purpose is not None else None
        out.append((spec.reads, purpose))
    return out


def layout(scenario: Scenario, *, separate: bool | None = None) -> Layout:
    """Lay out the citizen rulebook's accumulators and the views gates read.

    ``separate``: give every rule its own accumulator (needed for reasons; by
    default, when any enabled gate gives reasons).
    """
    rules = scenario.rules
    gate_views = _gate_views(scenario)
    enabled = [getattr(scenario.gates, g).enabled for g in CITIZEN_GATES]
    if separate is None:
        separate = any(
            getattr(scenario.gates, g).reasons and on
            for g, on in zip(CITIZEN_GATES, enabled, strict=True)
        )
    purpose_used = any(p is not None for (_, p), on in zip(gate_views, enabled, strict=True) if on)
    n_buckets = scenario.score.expiry_buckets

    points = np.zeros(len(rules), dtype=np.float64)
    slot = np.zeros(len(rules), dtype=np.int64)
    buckets = np.ones(len(rules), dtype=np.int64)
    bucket_days = np.zeros(len(rules), dtype=np.int64)
    decays: list[float] = []
    caps: list[float] = []
    clears: list[int] = []
    holders: list[list[int]] = []
    reason: list[int] = []
    groups: list[list[int]] = []
    shared: dict[tuple[object, ...], int] = {}
    for k, rule in enumerate(rules):
        op = rule.operator
        visible = scenario.operator_sees(op)
        domain = scenario.event_domain(rule.event)
        points[k] = rule.points if visible is None or domain in visible else 0.0
        if points[k] == 0.0:
            slot[k] = -1  # a rule that adds nothing holds no accumulator
            continue
        d = decay_factor(rule.half_life_days)
        cap = math.inf if rule.cap is None else float(rule.cap)
        expiry = rule.expires_after_days
        # Buckets of ceil(E / B) days: points stop counting no later than E days after
        # the event (nb · width <= E) and no earlier than nb · width - width + 1.
        width = 0 if expiry is None else -(-expiry // n_buckets)
        nb = 1 if expiry is None else max(1, expiry // width)
        key = (
            d,
            op,
            domain if purpose_used else None,
            rule.cleared_by,
            expiry,
            k if separate else None,
        )
        if math.isinf(cap) and key in shared:
            slot[k] = shared[key]
        else:
            slot[k] = len(decays)
            groups.append([])
            for _ in range(nb):
                reason.append(len(groups) - 1)
                decays.append(d)
                caps.append(cap)
                clears.append(
                    CITIZEN_EVENTS.index(rule.cleared_by) if rule.cleared_by is not None else -1
                )
                holders.append([])
            if math.isinf(cap):
                shared[key] = int(slot[k])
        if expiry is not None:
            buckets[k] = nb
            bucket_days[k] = width
        for b in range(int(buckets[k])):
            holders[int(slot[k]) + b].append(k)
        groups[reason[int(slot[k])]].append(k)

    q = len(decays)
    labels = (
        *("; ".join(dict.fromkeys(rules[k].label or rules[k].event for k in g)) for g in groups),
        NETWORK_REASON,
        ERRONEOUS_REASON,
    )

    def counts(k: int, operator: str | None, purpose: frozenset[str] | None) -> bool:
        if not scenario.rule_counts(k, operator):
            return False
        return purpose is None or scenario.event_domain(rules[k].event) in purpose

    public = scenario.public_operator()
    err_rules = [k for k, r in enumerate(rules) if r.event == scenario.data_errors.event]
    distinct: list[tuple[str | None, frozenset[str] | None]] = [(None, None)]
    for operator, purpose in gate_views:
        wanted = (None if operator == public else operator, purpose)
        if wanted not in distinct:
            distinct.append(wanted)
    weight = np.zeros((len(distinct), q), dtype=np.float64)
    net = np.zeros(len(distinct), dtype=np.float64)
    err = np.zeros(len(distinct), dtype=np.float64)
    names: list[str] = []
    for v, (operator, purpose) in enumerate(distinct):
        for a, held in enumerate(holders):
            weight[v, a] = 1.0 if held and counts(held[0], operator, purpose) else 0.0
        is_public = operator is None
        net[v] = 1.0 if is_public and (purpose is None or NETWORK_DOMAIN in purpose) else 0.0
        err[v] = float(sum(points[k] for k in err_rules if counts(k, operator, purpose)))
        name = "public score" if is_public else f"{operator}'s score"
        if purpose is not None:
            name += " limited to " + ", ".join(sorted(purpose))
        names.append(name)
    gate_view = np.array(
        [distinct.index((None if o == public else o, p)) for o, p in gate_views], dtype=np.int64
    )
    return Layout(
        event=np.array([CITIZEN_EVENTS.index(r.event) for r in rules], dtype=np.int64),
        points=points,
        slot=slot,
        buckets=buckets,
        bucket_days=bucket_days,
        decay=np.array(decays, dtype=np.float64),
        cap=np.array(caps, dtype=np.float64),
        clear=np.array(clears, dtype=np.int64),
        reason=np.array(reason, dtype=np.int64),
        labels=labels,
        view_weight=weight,
        view_net=net,
        view_err=err,
        view_names=tuple(names),
        gate_view=gate_view,
    )
