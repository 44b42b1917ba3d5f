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

import numpy as np

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES, COMPANY_EVENTS, TRAITS
from socialscore.simulation.chunks import over_chunks
from socialscore.simulation.compiled import (
    compile_scenario,
)
from socialscore.simulation.kernels.behaviour import chunk_count, step_citizens
from socialscore.simulation.kernels.companies import step_companies
from socialscore.simulation.kernels.disputes import step_disputes
from socialscore.simulation.kernels.gates import (
    REPLICATES,
    T_APPLIED,
    T_SELECTED,
    TALLIES,
    step_gates,
)
from socialscore.simulation.kernels.network import step_network
from socialscore.simulation.kernels.ranking import (
    low_rank_weights,
    mark_low_ranked,
    percentile_table,
)
from socialscore.simulation.kernels.score import decay_factor
from socialscore.simulation.nation import Nation
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.state import initial_state

_DILIGENCE = TRAITS.index("diligence")


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
        # integer chances (socialscore.simulation.kernels.passes.probability_sums).
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
