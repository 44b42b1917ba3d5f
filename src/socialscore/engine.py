"""State and the day loop; nothing else.

All per-citizen state is one dataclass of arrays (struct of arrays). The day
loop calls the kernels in a fixed order:

1. network term and unfriending (on the network schedule, from the scores at
   the start of the day);
2. expired record buckets are emptied; behaviour → rulebook → score for
   every citizen;
3. disputes of erroneous records are filed and settled;
4. the public ranking (on its schedule);
5. gates and feedback;
6. companies;
7. the recorder keeps the day's aggregates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from socialscore import rng
from socialscore.behaviour import CHUNK, chunk_count, step_citizens
from socialscore.chunks import over_chunks
from socialscore.companies import step_companies
from socialscore.disputes import step_disputes
from socialscore.gates import (
    REPLICATES,
    T_APPLIED,
    T_SELECTED,
    TALLIES,
    gate_table,
    step_gates,
)
from socialscore.nation import Nation
from socialscore.network import step_network
from socialscore.ranking import low_rank_weights, mark_low_ranked, percentile_table
from socialscore.recorder import Recorder
from socialscore.rulebook import (
    Rules,
    Streams,
    compile_company_streams,
    compile_rules,
    compile_streams,
    decay_factor,
    trait_multiplier_table,
)
from socialscore.scenario import Scenario
from socialscore.scoring import Layout, layout
from socialscore.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES, COMPANY_EVENTS, TRAITS

_DILIGENCE = TRAITS.index("diligence")


@dataclass
class State:
    """Everything that changes during a run, one row per citizen or company."""

    score: np.ndarray  # int16 [N]
    score_clean: np.ndarray  # int16 [N], the score without erroneous records
    published: np.ndarray  # int16 [N], score at the last publication (is `score` when daily)
    published_below: np.ndarray  # float32 [score range], published (mid-rank) percentile
    net: np.ndarray  # float32 [N], network term
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
    friend_codes: np.ndarray  # uint8 [K, N], the friend lists' draws (socialscore.friends)
    dispute_filed_on: np.ndarray  # int32 [N] (empty without disputes), -1 = none open
    company_acc: np.ndarray  # float32 [M, Rc]
    company_score: np.ndarray  # int16 [M]

    def nbytes(self) -> int:
        """Bytes held by the state's arrays (an array shared by two fields counts once)."""
        arrays = {id(v): v for v in vars(self).values() if isinstance(v, np.ndarray)}
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
        acc=np.zeros((compiled.layout.accumulators, n), dtype=np.float32),
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
    )


class Engine:
    """Runs a scenario on a nation, day by day, feeding a recorder.

    The engine takes over the nation's friend lists and employers
    (``nation.friend_codes`` is ``state.friend_codes``, ``nation.employer`` is
    ``state.employer``): the run edits them in place, so they are not held
    twice; a dropped friendship keeps its draw, marked dropped, so the lists
    as generated can be read back.
    """

    def __init__(self, scenario: Scenario, nation: Nation) -> None:
        self.scenario = scenario
        self.nation = nation
        self.compiled = compile_scenario(scenario)
        self.state = initial_state(scenario, nation, self.compiled)
        n = nation.population
        m = nation.companies
        s = scenario.score
        chunks = chunk_count(n)
        company_chunks = chunk_count(m)
        groups = 2
        self._hist = np.zeros((chunks, s.hi - s.lo + 1), dtype=np.int64)
        self._group_hist = np.zeros((chunks, groups, 2), dtype=np.int64)
        self._events = np.zeros((chunks, len(CITIZEN_EVENTS), groups), dtype=np.int64)
        self._errors = np.zeros((chunks, groups), dtype=np.int64)
        # Expected events (Σ p, Σ p without chilling, Σ p²) per event and group, as
        # integer chances (socialscore.passes.probability_sums).
        self._expected = np.zeros((chunks, len(CITIZEN_EVENTS), groups, 3), dtype=np.int64)
        self._static_ready = np.zeros(chunks, dtype=np.uint8)
        self._static_sums = np.zeros(
            (chunks, len(self.compiled.streams.event), groups, 3), dtype=np.int64
        )
        self._gates = np.zeros(
            (chunks, len(CITIZEN_GATES), groups * REPLICATES, TALLIES), dtype=np.int64
        )
        self._reasons = np.zeros(
            (chunks, len(CITIZEN_GATES), len(self.compiled.layout.labels)), dtype=np.int64
        )
        self._disputes = np.zeros((chunks, groups, 3), dtype=np.int64)
        self._group_state = np.zeros((chunks, groups, 6), dtype=np.float64)
        self._dropped = np.zeros((chunks, groups), dtype=np.int64)
        cs = scenario.company_score
        self._c_hist = np.zeros((company_chunks, cs.hi - cs.lo + 1), dtype=np.int64)
        self._c_events = np.zeros((company_chunks, len(COMPANY_EVENTS), groups), dtype=np.int64)
        self._c_gates = np.zeros((company_chunks, groups, 2), dtype=np.int64)
        # One bit per citizen: low-ranked in the last published ranking (none before day 0).
        self._low_bits = np.zeros((n + 7) // 8, dtype=np.uint8)

    def run(self, recorder: Recorder, progress: Callable[[int], None] | None = None) -> None:
        """Run every day of the scenario; ``progress(day)`` is called after each day."""
        sc = self.scenario
        for day in range(sc.run.days):
            self.step(day, recorder)
            if progress is not None:
                progress(day)

    def step(self, day: int, recorder: Recorder) -> None:
        """Advance one day and record it."""
        sc, nat, st, cp = self.scenario, self.nation, self.state, self.compiled
        seed = sc.run.seed
        s = sc.score
        net = sc.network
        self._dropped[:] = 0
        if net.enabled and day % net.every_days == 0:
            over_chunks(
                step_network,
                self._dropped.shape[0],
                seed,
                day,
                st.friend_codes,
                nat.region_start,
                nat.friends_local,
                nat.group,
                st.score,
                st.net,
                net.weight,
                float(net.center),
                s.lo - 1 if net.unfriend_below is None else net.unfriend_below,
                net.unfriend_probability,
                self._dropped,
            )
        streams, lay = cp.streams, cp.layout
        for q in lay.rows_to_empty(day):
            st.acc[q].fill(0.0)
        over_chunks(
            step_citizens,
            self._hist.shape[0],
            seed,
            day,
            len(CITIZEN_EVENTS),
            nat.group,
            nat.traits,
            st.friend_codes,
            nat.region_start,
            nat.friends_local,
            st.acc,
            st.score,
            st.score_clean,
            st.err_acc,
            st.net,
            st.participant,
            st.stress,
            st.aware,
            st.aware_offset,
            st.chill,
            st.gaming,
            streams.event,
            streams.rate,
            streams.spread,
            streams.trait,
            streams.trait_table,
            streams.group_mult,
            streams.stress_sens,
            *cp.chill_slots,
            *cp.gaming_slots,
            lay.event,
            lay.points,
            lay.slots_on(day),
            lay.decay,
            lay.cap,
            lay.view_weight[0],
            lay.clear,
            s.base,
            s.lo,
            s.hi,
            day >= sc.participation.mandatory_from_day,
            self._low_bits,
            sc.data_errors.rate,
            cp.error_decay,
            float(lay.view_err[0]),
            self._hist,
            self._group_hist,
            self._events,
            self._errors,
            self._expected,
            self._static_ready,
            self._static_sums,
        )
        de = sc.data_errors
        if de.dispute_rate > 0:
            over_chunks(
                step_disputes,
                self._disputes.shape[0],
                seed,
                day,
                nat.group,
                st.err_acc,
                st.dispute_filed_on,
                de.dispute_rate,
                de.dispute_days,
                de.dispute_success,
                self._disputes,
            )
        hist = self._hist.sum(axis=0)
        if day % s.publish_every_days == 0:
            st.published_below[:] = percentile_table(hist)  # mid-rank percentile
            if st.published is not st.score:
                st.published[:] = st.score
            low = low_rank_weights(hist, sc.network.low_scorer_percentile)
            mark_low_ranked(st.published, low, s.lo, seed, day, self._low_bits)
        fb = sc.feedback
        over_chunks(
            step_gates,
            self._gates.shape[0],
            seed,
            day,
            nat.companies,
            nat.group,
            nat.traits,
            nat.children,
            st.score,
            st.score_clean,
            st.published,
            st.published_below,
            st.employer,
            st.has_mortgage,
            st.aware,
            st.aware_offset,
            st.stress,
            st.chill,
            st.gaming,
            st.acc,
            st.net,
            st.err_acc,
            st.participant,
            day >= sc.participation.mandatory_from_day,
            lay.view_weight,
            lay.view_net,
            lay.view_err,
            lay.gate_view,
            lay.reason,
            s.base,
            s.lo,
            s.hi,
            cp.gates,
            s.blacklist_below,
            decay_factor(fb.stress_half_life_days),
            fb.chilling.below,
            fb.chilling.risk_aversion_weight,
            fb.gaming.daily_increment,
            fb.gaming.cap,
            self._gates,
            self._reasons,
            self._group_state,
        )
        cs, pc = sc.company_score, sc.gates.public_contracts
        c_streams, c_rules = cp.company_streams, cp.company_rules
        over_chunks(
            step_companies,
            self._c_hist.shape[0],
            seed,
            day,
            len(COMPANY_EVENTS),
            nat.company_compliance,
            nat.company_group,
            st.company_acc,
            st.company_score,
            c_streams.event,
            c_streams.rate,
            c_streams.spread,
            c_streams.trait_table,
            c_rules.event,
            c_rules.points,
            c_rules.decay,
            c_rules.cap,
            cs.base,
            cs.lo,
            cs.hi,
            pc.enabled,
            pc.apply_rate,
            pc.threshold,
            self._c_hist,
            self._c_events,
            self._c_gates,
        )
        # [gate, replicate, group, tally]: the replicates summed give the groups' tallies.
        by_replicate = self._gates.sum(axis=0).reshape(len(CITIZEN_GATES), REPLICATES, -1, TALLIES)
        recorder.record_day(
            day,
            hist=hist,
            group_hist=self._group_hist.sum(axis=0),
            events=self._events.sum(axis=0),
            errors=self._errors.sum(axis=0),
            expected=self._expected.sum(axis=0),
            gates=by_replicate.sum(axis=1),
            gate_replicates=by_replicate[:, :, :, [T_APPLIED, T_SELECTED]],
            reasons=self._reasons.sum(axis=0),
            disputes=self._disputes.sum(axis=0),
            group_state=self._group_state.sum(axis=0),
            dropped=self._dropped.sum(axis=0),
            company_hist=self._c_hist.sum(axis=0),
            company_events=self._c_events.sum(axis=0),
            company_gates=self._c_gates.sum(axis=0),
        )
        recorder.observe_state(day, st)
