"""The state of a run: one named tuple of arrays, one row per citizen or company."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, TRAITS
from socialscore.simulation import rng
from socialscore.simulation.compiled import Compiled, trait_multiplier_table
from socialscore.simulation.kernels.behaviour import CHUNK, chunk_count
from socialscore.simulation.nation import Nation

_DILIGENCE = TRAITS.index("diligence")
#: No outcomes pending: the outcome fields of a run without outcomes (and their default).
_NO_OUTCOME_DAYS = np.zeros(0, dtype=np.int32)
_NO_OUTCOME_SCORES = np.zeros(0, dtype=np.int16)


class State(NamedTuple):
    """Everything that changes during a run, one row per citizen or company.

    The arrays change in place, never the tuple: the kernels take it as an
    argument as it is and read the fields they need.
    """

    score: np.ndarray  # int16 [N]
    score_clean: np.ndarray  # int16 [N], the score without erroneous records
    published: np.ndarray  # int16 [N], score at the last publication (is `score` when daily)
    published_below: np.ndarray  # float32 [score range], published (mid-rank) percentile
    net: np.ndarray  # float32 [N], network term
    offset: np.ndarray  # float32 [N] or empty: starting records (score.initial, saturating)
    acc: np.ndarray  # float32 [Q, N], shared rule accumulators (accumulator-major)
    err_acc: np.ndarray  # float32 [N], erroneous records held (decayed count; points per view)
    stress: np.ndarray  # float32 [N], economic stress
    chill: np.ndarray  # float32 [aware citizens], chilling exposure, in citizen order
    gaming: np.ndarray  # float32 [aware citizens], gaming exposure, in citizen order
    employer: np.ndarray  # int32 [N], -1 = unemployed
    has_mortgage: np.ndarray  # uint8 [N]
    participant: np.ndarray  # uint8 [N], opted in before the mandatory day ([0]: all rated)
    aware: np.ndarray  # int32 [aware citizens], who knows what the rulebook rewards and penalises
    aware_offset: np.ndarray  # int64 [chunks + 1], aware citizens before each chunk
    # uint8 [K, N], the friend lists' draws (socialscore.simulation.kernels.friends)
    friend_codes: np.ndarray
    dispute_filed_on: np.ndarray  # int32 [N] (empty without disputes), -1 = none open
    company_acc: np.ndarray  # float32 [M, Rc]
    company_score: np.ndarray  # int16 [M]
    # The pending outcome of an approved mortgage (socialscore.simulation.kernels.outcomes),
    # length N only when the scenario has one (else empty): the day of the approval
    # (−1 = none pending; the outcome falls ``after_days`` later) and the score the gate read.
    outcome_approved_on: np.ndarray = _NO_OUTCOME_DAYS  # int32 [N or 0]
    outcome_score: np.ndarray = _NO_OUTCOME_SCORES  # int16 [N or 0]

    def nbytes(self) -> int:
        """Bytes held by the state's arrays (an array shared by two fields counts once)."""
        arrays = {id(v): v for v in self}
        return sum(int(v.nbytes) for v in arrays.values())

    def exposure(self, values: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Citizens ``lo .. hi - 1``'s chilling or gaming exposure (0 for the unaware)."""
        out = np.zeros(hi - lo, dtype=np.float32)
        first, last = self._aware_between(lo, hi)
        out[self.aware[first:last] - lo] = values[first:last]
        return out

    def _aware_between(self, lo: int, hi: int) -> tuple[int, int]:
        """Positions in ``aware`` (and the exposures) of the aware citizens ``lo .. hi - 1``."""
        first, last = np.searchsorted(self.aware, [lo, hi])
        return int(first), int(last)

    def participant_mask(self, lo: int, hi: int) -> np.ndarray:
        """uint8 [hi − lo]: 1 for citizens ``lo .. hi - 1`` who opted in (all when mandatory)."""
        if self.participant.shape[0] == 0:
            return np.ones(hi - lo, dtype=np.uint8)
        return self.participant[lo:hi]

    def aware_mask(self, lo: int, hi: int) -> np.ndarray:
        """uint8 [hi − lo]: 1 for citizens ``lo .. hi - 1`` who are aware."""
        out = np.zeros(hi - lo, dtype=np.uint8)
        first, last = self._aware_between(lo, hi)
        out[self.aware[first:last] - lo] = 1
        return out


def initial_state(scenario: Scenario, nation: Nation, compiled: Compiled) -> State:
    """The state on the morning of day 0: everyone at the base score."""
    n = nation.population
    m = nation.companies
    seed = scenario.run.seed
    p = scenario.participation
    if p.mandatory_from_day <= 0:
        participant = np.zeros(0, dtype=np.uint8)  # everyone is rated from day 0
    else:
        diligence = nation.traits[_DILIGENCE]
        opt_in = p.opt_in_share * trait_multiplier_table(p.adverse_selection)[diligence]
        draw = rng.uniforms(seed, rng.STATIC_DAY, n, rng.stream(rng.OPT_IN))
        participant = (draw < opt_in).astype(np.uint8)
    aware = np.flatnonzero(
        rng.uniforms(seed, rng.STATIC_DAY, n, rng.stream(rng.AWARE)) < scenario.feedback.awareness
    ).astype(np.int32)
    aware_offset = np.searchsorted(aware, np.arange(0, n + CHUNK, CHUNK)[: chunk_count(n) + 1])
    acc = np.zeros((compiled.layout.accumulators, n), dtype=np.float32)
    rated = participant if participant.shape[0] else np.ones(n, dtype=np.uint8)
    add_history(acc, scenario, nation, compiled, rated.astype(bool))
    base = scenario.score.base
    score = np.full(n, base, dtype=np.int16)
    daily = scenario.score.publish_every_days == 1
    s = scenario.score
    return State(
        score=score,
        score_clean=np.full(n, base, dtype=np.int16),
        # Published right after the day's scores, so with daily publication the
        # published score is the score: no copy is kept.
        published=score if daily else np.full(n, base, dtype=np.int16),
        published_below=np.zeros(s.hi - s.lo + 1, dtype=np.float32),
        net=np.zeros(n, dtype=np.float32),
        offset=initial_offsets(scenario, nation),
        acc=acc,
        err_acc=np.zeros(n, dtype=np.float32),
        stress=np.zeros(n, dtype=np.float32),
        # Only aware citizens ever have exposures: store theirs alone.
        chill=np.zeros(int(aware_offset[-1]), dtype=np.float32),
        gaming=np.zeros(int(aware_offset[-1]), dtype=np.float32),
        employer=nation.employer,  # owned by the run from here on, like the friend lists
        has_mortgage=np.zeros(n, dtype=np.uint8),
        participant=participant,
        aware=aware,
        aware_offset=aware_offset,
        # Owned by the run from here on: unfriending marks dropped friendships in place.
        friend_codes=nation.friend_codes,
        dispute_filed_on=np.full(
            n if scenario.data_errors.dispute_rate > 0 else 0, -1, dtype=np.int32
        ),
        company_acc=np.zeros((m, len(compiled.company_rules.event)), dtype=np.float32),
        company_score=np.full(m, scenario.company_score.base, dtype=np.int16),
        outcome_approved_on=np.full(n if compiled.outcomes.enabled else 0, -1, dtype=np.int32),
        outcome_score=np.zeros(n if compiled.outcomes.enabled else 0, dtype=np.int16),
    )


def history_weights(scenario: Scenario, nation: Nation, event: str) -> np.ndarray:
    """Each citizen's chance weight (mean 1) to carry a record of ``event``: trait and group."""
    n = nation.population
    weight = np.ones(n, dtype=np.float64)
    spec = scenario.stream_of(event)
    if spec is not None:
        if spec.trait is not None:
            table = trait_multiplier_table(spec.trait_strength)
            weight *= table[nation.traits[TRAITS.index(spec.trait)]]
        weight *= np.where(nation.group == 1, spec.minority_multiplier, 1.0)
    mean = float(weight.mean()) if n else 1.0
    out: np.ndarray = weight / mean if mean > 0 else weight
    return out


def history_ages(u: np.ndarray, scale: float, oldest: int) -> np.ndarray:
    """Ages in days (1 .. ``oldest``) from uniforms: exponential of mean ``scale``, cut.

    The inverse of the truncated exponential's distribution function, rounded
    up to whole days (a record of age 1 was made the day before day 0).
    """
    if scale <= 0:
        return np.ones(u.shape[0], dtype=np.int64)
    tail = 1.0 - np.exp(-oldest / scale)
    ages: np.ndarray = np.clip(np.ceil(-scale * np.log1p(-u * tail)), 1, oldest)
    return ages.astype(np.int64)


def add_history(
    acc: np.ndarray, scenario: Scenario, nation: Nation, compiled: Compiled, rated: np.ndarray
) -> None:
    """Give the citizens their records from before day 0 (``scenario.history``), in place."""
    n = nation.population
    lay = compiled.layout
    seed = scenario.run.seed
    for k, h in enumerate(scenario.history):
        draw = rng.uniforms(seed, rng.STATIC_DAY, n, rng.stream(rng.HISTORY, k))
        chosen = np.flatnonzero(
            (draw < h.share * history_weights(scenario, nation, h.event)) & rated
        )
        u = rng.uniforms(seed, rng.STATIC_DAY, n, rng.stream(rng.HISTORY_AGE, k))[chosen]
        ages = history_ages(u, h.age_scale_days, h.age_max_days)
        event = CITIZEN_EVENTS.index(h.event)
        for r in np.flatnonzero(lay.event == event):
            q = int(lay.slot[r])
            points = lay.points[r] * lay.decay[q] ** (ages - 1)
            held = acc[q, chosen] + points
            acc[q, chosen] = np.clip(held, -lay.cap[q], lay.cap[q])


def initial_offsets(scenario: Scenario, nation: Nation) -> np.ndarray:
    """Each citizen's starting record (``score.initial``) as points above the base.

    Empty when the scenario has neither starting scores nor a saturating
    score. Within each group, citizens in the order of a static draw take the
    distribution's quantiles at (rank + ½) / size, so each score holds its
    share of the group up to rounding, and who holds it is random.
    """
    s = scenario.score
    n = nation.population
    if s.initial is None:
        return np.zeros(n if s.saturating else 0, dtype=np.float32)
    offset = np.zeros(n, dtype=np.float32)
    draw = rng.uniforms(scenario.run.seed, rng.STATIC_DAY, n, rng.stream(rng.INITIAL_SCORE))
    scores = np.asarray(s.initial.scores, dtype=np.float64)
    for g, weights in enumerate((s.initial.majority, s.initial.minority or s.initial.majority)):
        members = np.flatnonzero(nation.group == g)
        if members.size == 0:
            continue
        order = members[np.argsort(draw[members], kind="stable")]
        cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
        quantile = (np.arange(order.size) + 0.5) / order.size * cdf[-1]
        index = np.minimum(np.searchsorted(cdf, quantile, side="right"), scores.size - 1)
        offset[order] = scores[index] - s.base
    return offset
