"""Decision trails: one citizen's story read out of a trace of the run.

A :class:`~socialscore.simulation.trace.Tracer` keeps a few citizens' days
while a run goes (every run keeps its story pool; ``socialscore explain``
replays a stored run to keep any citizen's). :func:`read_trails` reads each
one's story from it: attributes; score, published percentile and grade each
day; every change of the record that decay does not explain (points a rule
earned or cost, a record cleared by paying, points expiring, an erroneous
record, a dispute); friends and those the citizen dropped; every gate
decision with the score the gate read, the threshold and the reasons; and for
each adverse decision the **counterfactual**: the fewest of the citizen's own
penalties whose absence would have flipped it, or the plain statement that
nothing in their own conduct could have (docs/model.md, "Decision trails").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import pyarrow as pa

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, GROUP_LABELS
from socialscore.simulation.cells import CHILDREN_CAP, attribute
from socialscore.simulation.engine import Engine
from socialscore.simulation.kernels.gates import (
    DECISION_BITS,
    G_DATING,
    T_APPLIED,
    T_ERRONEOUS,
    T_OVERTURNED,
    T_SELECTED,
)
from socialscore.simulation.kernels.score import clip_round
from socialscore.simulation.layout import ERRONEOUS_REASON, NETWORK_REASON, Layout
from socialscore.simulation.trace import Tracer

__all__ = [
    "Case",
    "Change",
    "Decision",
    "Friend",
    "Trail",
    "people_table",
    "pick_cases",
    "read_trails",
    "story_pool",
    "trails_table",
]

#: Smallest change of an accumulator, in points, that a trail reports (below: float noise).
MIN_POINTS: Final = 0.01
#: Words of the gates' favourable and adverse outcomes.
OUTCOME_WORDS: Final = {
    "mortgage": ("approved", "refused"),
    "job_hiring": ("hired", "not hired"),
    "job_retention": ("kept", "dismissed"),
    "school": ("admitted", "refused a school place"),
    "dating": ("matched", "not matched"),
    "documents": ("issued", "refused"),
    "travel": ("allowed to travel", "barred from travel"),
}


@dataclass(frozen=True)
class Change:
    """A change of the citizen's record on one day that decay does not explain."""

    day: int
    what: str  # the rules' words (the accumulator's reason), or "erroneous record"
    points: float  # the change in points of the public score (negative: a cost)
    kind: str  # "earned", "cost", "cleared", "expired", "erroneous record", "removed"


@dataclass(frozen=True)
class Decision:
    """One gate decision about the citizen, with its reasons and its counterfactual."""

    day: int
    gate: str
    favourable: bool
    outcome: str  # in words: "approved", "barred from travel", ...
    score_read: int  # the score in the gate's view (dating: the published percentile, in %)
    threshold: float  # what the gate required (dating: the minimum percentile, in %)
    view: str  # the score the gate reads, in words
    erroneous: bool  # denied because of an erroneous record, not overturned
    overturned: bool  # denied on the record, approved by human review
    reasons: list[tuple[str, float]] = field(default_factory=list)  # (what, points), worst first
    counterfactual: str = ""
    #: Whether acting on the counterfactual flips the decision: the gate's score rebuilt
    #: without the penalties it names meets the threshold (None: no act of the citizen's
    #: own names one: nothing in their conduct, or a decision by rank).
    flips: bool | None = None
    #: Whether the citizen's score decided it: changing only the score would change it
    #: (not when human review overturned a denial, or a partner's rank refused a match).
    score_decided: bool = True
    #: What the counterfactual asks the citizen to act on: the penalty headings to be
    #: without (``[]``: the erroneous record, disputed away; None: nothing of their own).
    act: list[str] | None = None


@dataclass(frozen=True)
class Friend:
    """One friend of the citizen (as the lists were generated) and what became of them."""

    citizen: int
    score_start: int  # the friend's published score after day 0
    score_end: int  # after the last day
    dropped_on: int  # the day the citizen dropped them (−1: never)
    why: str  # why, in words ("" when never dropped)


@dataclass(frozen=True)
class Trail:
    """One citizen's story in a stored run."""

    run_id: str
    citizen: int
    attributes: dict[str, str]
    days: int
    score: list[int]  # each day's score, after the day
    percentile: list[float]  # each day's published percentile (0-1)
    grade: list[str]  # each day's grade
    changes: list[Change]
    decisions: list[Decision]
    final: dict[str, Any]  # the last day's state, as the run's ``citizens`` table holds it
    friends: list[Friend] = field(default_factory=list)
    #: Those who counted the citizen as a friend and dropped them: (who, day, why).
    dropped_by: list[tuple[int, int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The trail as plain data (``--format json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trail:
        """A trail back from :meth:`to_dict`'s data (as JSON gives it back)."""
        fields = dict(data)
        fields["changes"] = [Change(**c) for c in data["changes"]]
        fields["decisions"] = [
            Decision(**{**d, "reasons": [tuple(r) for r in d["reasons"]]})
            for d in data["decisions"]
        ]
        fields["friends"] = [Friend(**f) for f in data.get("friends", [])]
        fields["dropped_by"] = [tuple(d) for d in data.get("dropped_by", [])]
        return cls(**fields)

    @property
    def adverse(self) -> list[Decision]:
        """The decisions that went against the citizen."""
        return [d for d in self.decisions if not d.favourable]


def _points_needed(raw: float, threshold: float) -> float:
    """Points to add to an unrounded view score so that it rounds to at least ``threshold``."""
    return (threshold - 0.5) - raw


def _counterfactual(
    outcome: tuple[str, str],
    threshold: float,
    raw: float,
    own: list[tuple[str, float]],
    erroneous: float,
    network: float,
    start: float,
    lo: int,
    hi: int,
) -> tuple[str, list[str] | None]:
    """The fewest own records whose absence flips a denial, or why none can.

    Returns the words and what the citizen could act on: the penalty headings
    to remove, ``[]`` when the erroneous record alone decided it (a dispute),
    None when nothing of their own could have flipped it.
    """
    needed = _points_needed(raw + erroneous, threshold)
    if threshold > hi:
        words = f"Nobody could be {outcome[0]}: the threshold {threshold:g} is above the top, {hi}."
        return words, None
    if needed <= 0:
        return (
            "The score met the threshold exactly and the gate's chance at the margin went "
            "against the citizen: the lender's random draw, not the record, decided it.",
            None,
        )
    penalties = sorted((p, w) for w, p in own if p < 0)
    removed: list[tuple[str, float]] = []
    gained = 0.0
    for p, w in penalties:
        if gained >= needed:
            break
        removed.append((w, p))
        gained += -p
    parts = []
    act: list[str] | None = None
    if erroneous < 0 and -erroneous >= needed:
        act = []
        parts.append(
            f"The erroneous record alone ({erroneous:+.0f} points) decided it: had it been "
            f"removed (a successful dispute), the citizen would have been {outcome[0]}."
        )
    if gained >= needed:
        if act is None:
            act = [w for w, _ in removed]
        listed = " and ".join(f"'{w}' ({p:+.0f} points)" for w, p in removed)
        parts.append(
            f"Without their penalties for {listed}, the score in this gate's view would "
            f"have reached {threshold:g} ({needed:.0f} points were missing): {outcome[0]}."
        )
    else:
        others = []
        if network < 0:
            others.append(f"friends' scores cost {-network:.0f} points")
        if start < 0:
            others.append(f"the record from before the run cost {-start:.0f}")
        if erroneous < 0:
            others.append(f"an erroneous record cost {-erroneous:.0f}")
        held = "; ".join(others) if others else f"the threshold {threshold:g} is above the base"
        parts.append(
            f"Nothing in the citizen's own conduct could have flipped it: without any of "
            f"their penalties the score would still have been {needed - gained:.0f} points "
            f"short ({held})."
        )
    return " ".join(parts), act


def _friends(scenario: Scenario, tracer: Tracer, k: int) -> list[Friend]:
    """The citizen's friends as generated, their scores, and when and why each was dropped."""
    days = tracer.days
    if not days or tracer.friends.shape[0] == 0:
        return []
    below = scenario.network.unfriend_below
    out = []
    for slot in np.flatnonzero(tracer.friends[:, k] >= 0).tolist():
        scores = tracer.friend_scores[:days, slot, k]
        gone = np.flatnonzero(tracer.dropped[:days, slot, k])
        day = int(gone[0]) if gone.size else -1
        why = ""
        if day >= 0:
            seen = int(scores[day - 1] if day > 0 else scores[0])
            why = (
                f"their published score, {seen}, was below {below}: the regime's unfriending"
                if below is not None
                else "dropped by the network rule"
            )
        out.append(Friend(int(tracer.friends[slot, k]), int(scores[0]), int(scores[-1]), day, why))
    return out


def _dropped_by(scenario: Scenario, tracer: Tracer, k: int) -> list[tuple[int, int, str]]:
    """Who dropped the ``k``-th traced citizen from their friends, on which day, and why."""
    days = tracer.days
    mine = np.flatnonzero(tracer.followed == k)
    below = scenario.network.unfriend_below
    out = []
    for p in mine.tolist():
        gone = np.flatnonzero(tracer.unfollowed[:days, p])
        if not gone.size:
            continue
        day = int(gone[0])
        seen = int(tracer.published[day - 1 if day > 0 else 0, k])
        why = (
            f"the citizen's published score, {seen}, was below {below}: the regime's unfriending"
            if below is not None
            else "dropped by the network rule"
        )
        out.append((int(tracer.follower[p]), day, why))
    return sorted(out, key=lambda d: (d[1], d[0]))


def _emptied(layout: Layout, days: int) -> np.ndarray:
    """Whether each accumulator is emptied at the start of each day: bool [day, accumulator]."""
    out = np.zeros((days, layout.accumulators), dtype=bool)
    for d in range(days):
        out[d, layout.rows_to_empty(d)] = True
    return out


def _changes(
    scenario: Scenario,
    layout: Layout,
    tracer: Tracer,
    k: int,
    error_weight: float,
    error_decay: float,
    emptied: np.ndarray,
) -> list[Change]:
    """Every change of the ``k``-th traced citizen's record that decay does not explain."""
    days = tracer.days
    acc = tracer.acc[:days, :, k].astype(np.float64)
    previous = np.vstack([tracer.acc_start[None, :, k].astype(np.float64), acc[:-1]])
    expired = emptied[:days] & (np.abs(previous) >= MIN_POINTS)
    start = np.where(emptied[:days], 0.0, previous)
    jump = acc - layout.decay[None, :] * start
    found: list[tuple[int, int, Change]] = []
    for d, q in zip(*np.nonzero(expired), strict=True):
        what = layout.labels[int(layout.reason[q])]
        found.append((int(d), 0, Change(int(d), what, -round(float(previous[d, q]), 2), "expired")))
    for d, q in zip(*np.nonzero(np.abs(jump) >= MIN_POINTS), strict=True):
        d, q = int(d), int(q)
        what = _which_rule(scenario, layout, layout.slots_on(d), q, float(jump[d, q]))
        cleared = layout.clear[q] >= 0 and abs(acc[d, q]) < MIN_POINTS and start[d, q] < 0
        kind = "cleared" if cleared else ("earned" if jump[d, q] > 0 else "cost")
        found.append((d, 1, Change(d, what, round(float(jump[d, q]), 2), kind)))
    err = tracer.err[:days, k].astype(np.float64)
    err_prev = np.concatenate([[float(tracer.err_start[k])], err[:-1]])
    err_jump = err - err_prev * error_decay
    for d in np.flatnonzero(np.abs(err_jump) * abs(error_weight) >= MIN_POINTS).tolist():
        kind = "erroneous record" if err_jump[d] > 0 else "removed"
        points = round(float(err_jump[d]) * error_weight, 2)
        found.append((d, 2, Change(d, "erroneous record", points, kind)))
    return [c for _, _, c in sorted(found, key=lambda f: (f[0], f[1]))]


def _which_rule(scenario: Scenario, layout: Layout, slots: np.ndarray, q: int, jump: float) -> str:
    """The rule whose points a change of accumulator ``q`` matches, else the shared words.

    Rules with the same half-life and no cap share an accumulator; a change
    equal to exactly one of their points is that rule's event.
    """
    held = [r for r in np.flatnonzero(slots == q).tolist() if layout.points[r] != 0.0]
    matching = [r for r in held if abs(float(layout.points[r]) - jump) < MIN_POINTS]
    if len(matching) == 1:
        rule = scenario.rules[matching[0]]
        return rule.label or rule.event
    return str(layout.labels[int(layout.reason[q])])


def _decision_bits(word: int, gate: int) -> int:
    return (word >> (gate * DECISION_BITS)) & ((1 << DECISION_BITS) - 1)


def _read(
    run_id: str,
    scenario: Scenario,
    layout: Layout,
    tracer: Tracer,
    k: int,
    attributes: dict[str, str],
    error_weight: float,
    error_decay: float,
    emptied: np.ndarray,
) -> Trail:
    """The story of the ``k``-th traced citizen (``emptied``: :func:`_emptied`)."""
    s = scenario.score
    citizen = int(tracer.citizens[k])
    days = tracer.days
    starts = np.array([g.from_ for g in s.grades])
    names = [g.name for g in s.grades]
    score = tracer.score[:days, k].astype(int)
    grade = [names[i] for i in (np.searchsorted(starts, score, side="right") - 1).tolist()]
    changes = _changes(scenario, layout, tracer, k, error_weight, error_decay, emptied)
    decisions = _decisions(scenario, layout, tracer, k, error_weight)
    final = {
        "score": int(score[-1]) if days else int(s.base),
        "score_without_errors": int(tracer.score_clean[days - 1, k]) if days else int(s.base),
        "has_mortgage": int(tracer.mortgage[days - 1, k]) if days else 0,
        "employed": int(tracer.employer[days - 1, k] >= 0) if days else 0,
    }
    return Trail(
        dropped_by=_dropped_by(scenario, tracer, k),
        friends=_friends(scenario, tracer, k),
        run_id=run_id,
        citizen=citizen,
        attributes=attributes,
        days=days,
        score=score.tolist(),
        percentile=[round(float(p), 6) for p in tracer.percentile[:days, k]],
        grade=grade,
        changes=changes,
        decisions=decisions,
        final=final,
    )


def _decisions(
    scenario: Scenario, layout: Layout, tracer: Tracer, k: int, error_weight: float
) -> list[Decision]:
    s = scenario.score
    group = int(tracer.group[k])
    out: list[Decision] = []
    for d in np.flatnonzero(tracer.decided[: tracer.days, k]):
        word = int(tracer.decided[d, k])
        for gate, name in enumerate(CITIZEN_GATES):
            bits = _decision_bits(word, gate)
            if not bits & (1 << T_APPLIED):
                continue
            favourable = bool(bits & (1 << T_SELECTED))
            words = OUTCOME_WORDS.get(name, ("approved", "refused"))
            outcome = words[0] if favourable else words[1]
            if gate == G_DATING:
                gp = scenario.gates.dating
                pct = float(tracer.percentile[d, k])
                need = float(gp.min_partner_percentile)
                cf = ""
                if not favourable:
                    cf = (
                        f"Decided by rank against everyone and by the partner drawn: the "
                        f"citizen's published percentile was {pct:.1%}"
                        + (
                            f", below the minimum {need:.1%}: a higher rank, not any one record, "
                            "was needed."
                            if pct < need
                            else "; the partner's rank or the gap between them decided it, "
                            "nothing in the citizen's own record."
                        )
                    )
                out.append(
                    Decision(
                        int(d), name, favourable, outcome, round(100 * pct), 100 * need,
                        "published percentile", False, False, [], cf,
                        None, favourable or pct < need,
                    )
                )  # fmt: skip
                continue
            v = int(layout.gate_view[gate])
            acc = tracer.acc[d, :, k].astype(np.float64)
            rated = float(tracer.rated[d, k])
            own: dict[str, float] = {}
            for q in range(acc.shape[0]):
                w = layout.view_weight[v, q]
                if w:
                    label = layout.labels[layout.reason[q]]
                    own[label] = own.get(label, 0.0) + float(acc[q] * w)
            network = float(tracer.net[d, k]) * rated * float(layout.view_net[v])
            erroneous = float(tracer.err[d, k]) * float(layout.view_err[v])
            start = float(tracer.offset[d, k])
            raw = s.base + sum(own.values()) + network + start
            read = min(max(math.floor(raw + erroneous + 0.5), s.lo), s.hi)
            threshold = float(tracer.thresholds[d][gate, group])
            # The kernel's rule (kernels.gates.give_reasons): the four biggest costs of at
            # least half a point, worst first, ties in reason order.
            reasons = sorted(
                [(w, p) for w, p in own.items() if p < -0.5]
                + ([(NETWORK_REASON, network)] if network < -0.5 else [])
                + ([(ERRONEOUS_REASON, erroneous)] if erroneous < -0.5 else []),
                key=lambda r: r[1],
            )[:4]
            cf = ""
            flips: bool | None = None
            act: list[str] | None = None
            if not favourable:
                cf, act = _counterfactual(
                    words, threshold, raw, list(own.items()), erroneous, network, start, s.lo, s.hi
                )
                if act:  # the penalties named gone, the erroneous record kept
                    lifted = raw + erroneous - sum(own[w] for w in act)
                    flips = clip_round(lifted, s.lo, s.hi) >= threshold
                elif act == []:  # the erroneous record disputed away
                    flips = clip_round(raw, s.lo, s.hi) >= threshold
            out.append(
                Decision(
                    int(d),
                    name,
                    favourable,
                    outcome,
                    int(read),
                    threshold,
                    layout.view_names[v],
                    bool(bits & (1 << T_ERRONEOUS)),
                    bool(bits & (1 << T_OVERTURNED)),
                    [] if favourable else [(w, round(p, 2)) for w, p in reasons],
                    cf,
                    flips,
                    not bits & (1 << T_OVERTURNED),
                    None if favourable else act,
                )
            )
    return out


def read_trails(run_id: str, engine: Engine, tracer: Tracer) -> list[Trail]:
    """The trails of every citizen a finished (or replayed) run traced, in the tracer's order."""
    sc, nat = engine.scenario, engine.nation
    rules = engine.compiled.layout
    aware = engine.state.aware_mask(0, nat.population)
    error_weight = float(rules.view_err[0])
    error_decay = float(engine.compiled.errors.decay)
    emptied = _emptied(rules, tracer.days)
    result = []
    for k, i in enumerate(tracer.citizens.tolist()):
        first = int(nat.region_start.searchsorted(i, side="right")) - 1
        attributes = {
            "group": GROUP_LABELS[int(nat.group[i])],
            "income decile": attribute("income_decile").labels[int(nat.income_decile[i])],
            "age": attribute("age_band").labels[int(nat.age_band[i])],
            "school-age children": attribute("children").labels[
                min(int(nat.children[i]), CHILDREN_CAP)
            ],
            "region": f"region {first}",
            "aware of the score": "aware" if aware[i] else "unaware",
        }
        result.append(
            _read(run_id, sc, rules, tracer, k, attributes, error_weight, error_decay, emptied)
        )
    return result


#: Most citizens a run traces for its stories, and the bytes their trace may take.
POOL_SIZE: Final = 500
POOL_BYTES: Final = 64 * 2**20
#: Bytes one traced citizen-day takes, about (the accumulators are most of it).
_BYTES_PER_DAY: Final = 120


def story_pool(population: int, days: int) -> list[int]:
    """The citizens a run traces to find its stories: evenly spread over the numbering.

    Citizens are numbered region by region, so an even spread covers every
    region. At most :data:`POOL_SIZE`, and fewer when a long run would make
    their trace exceed :data:`POOL_BYTES`.
    """
    size = min(population, POOL_SIZE, max(1, POOL_BYTES // (_BYTES_PER_DAY * max(days, 1))))
    return sorted(set(np.linspace(0, population - 1, size).round().astype(int).tolist()))


@dataclass(frozen=True)
class Case:
    """A telling trail: what it shows, in words, and the trail."""

    title: str
    trail: Trail
    decision: Decision | None  # the decision the story turns on, if any


def pick_cases(found: Sequence[Trail], *, window_start: int = 0) -> list[Case]:
    """Telling cases among traced trails, at most one of each kind (first found by id).

    A minority citizen refused a mortgage; a citizen denied where nothing in
    their own conduct could have changed it; a citizen wrongly held back by
    an erroneous record that a dispute removed; one trapped in the bottom
    tenth from the window's start to the end.
    """
    ordered = sorted(found, key=lambda t: t.citizen)
    cases: list[Case] = []

    def first(title: str, test: Callable[[Trail], Decision | bool | None]) -> None:
        for t in ordered:
            hit = test(t)
            if hit:
                cases.append(Case(title, t, hit if isinstance(hit, Decision) else None))
                return

    def refused(group: str) -> Callable[[Trail], Decision | None]:
        def test(t: Trail) -> Decision | None:
            if t.attributes["group"] != group:
                return None
            return next((d for d in t.adverse if d.gate == "mortgage" and d.counterfactual), None)

        return test

    first("A minority citizen refused a mortgage", refused("minority"))
    if not cases:
        first("A citizen refused a mortgage", refused("majority"))
    first(
        "Denied where nothing in their own conduct could have changed it",
        lambda t: next((d for d in t.adverse if d.counterfactual.startswith("Nothing in")), None),
    )
    first(
        "Wrongly held back by an erroneous record that a dispute removed",
        lambda t: any(c.kind == "removed" for c in t.changes),
    )
    first(
        "Trapped in the bottom tenth",
        lambda t: (
            t.days > window_start and t.percentile[window_start] < 0.1 and t.percentile[-1] < 0.1
        ),
    )
    return cases


def people_table(cases: Sequence[Case]) -> pa.Table:
    """The run table ``people``: each telling case, its key decision and the score's course."""
    rows = []
    for c in cases:
        t, d = c.trail, c.decision
        rows.append(
            {
                "case": c.title,
                "citizen": t.citizen,
                "attributes": ", ".join(f"{k}: {v}" for k, v in t.attributes.items()),
                "day": d.day if d else -1,
                "gate": d.gate if d else "",
                "outcome": d.outcome if d else "",
                "score_read": d.score_read if d else -1,
                "threshold": d.threshold if d else math.nan,
                "view": d.view if d else "",
                "reasons": "; ".join(f"{w} ({p:+.0f})" for w, p in d.reasons) if d else "",
                "counterfactual": d.counterfactual if d else "",
                "score": t.score,
                "percentile_end": t.percentile[-1] if t.percentile else math.nan,
            }
        )
    schema = pa.schema(
        [
            ("case", pa.string()),
            ("citizen", pa.int64()),
            ("attributes", pa.string()),
            ("day", pa.int32()),
            ("gate", pa.string()),
            ("outcome", pa.string()),
            ("score_read", pa.int32()),
            ("threshold", pa.float64()),
            ("view", pa.string()),
            ("reasons", pa.string()),
            ("counterfactual", pa.string()),
            ("score", pa.list_(pa.int16())),
            ("percentile_end", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def trails_table(found: Sequence[Trail]) -> pa.Table:
    """The run table ``trails``: each named citizen's whole trail as JSON."""
    import json

    return pa.table(
        {
            "citizen": pa.array([t.citizen for t in found], pa.int64()),
            "trail": pa.array([json.dumps(t.to_dict()) for t in found], pa.string()),
        }
    )
