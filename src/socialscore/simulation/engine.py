"""The day loop, and the kernel arguments it owns; nothing else.

All per-citizen state is one named tuple of arrays (struct of arrays,
:class:`socialscore.simulation.state.State`). The kernels take their arguments
in a few named bundles (named tuples of arrays and numbers, which numba
compiles as plainly as separate arguments): the scenario's compiled parts
(:mod:`socialscore.simulation.compiled`), the state, and the bundles made
here: the day's inputs (:class:`Day`), the nation's fixed arrays
(:class:`NationArrays`) and the per-chunk tallies each kernel fills. The day
loop calls the kernels in a fixed order:

1. network term and unfriending (on the network schedule, from the scores at
   the start of the day);
2. expired record buckets are emptied; the day's patrols are drawn (under
   ``[monitoring]``); behaviour (and the loan outcomes due; the monitored
   events no patrol observed are removed) → rulebook → score for every
   citizen; the monitoring units' weights are updated;
3. disputes of erroneous records are filed and settled;
4. the public ranking (on its schedule);
5. gates and feedback (the recorder tallies the day's decisions by the
   deciders' attributes);
6. companies;
7. the recorder keeps the day's aggregates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES, TRAITS
from socialscore.simulation import policies, tallies
from socialscore.simulation.chunks import over_chunks
from socialscore.simulation.compiled import (
    Views,
    compile_scenario,
)
from socialscore.simulation.kernels.behaviour import chunk_count, step_citizens
from socialscore.simulation.kernels.companies import step_companies
from socialscore.simulation.kernels.disputes import step_disputes
from socialscore.simulation.kernels.gates import (
    G_MORTGAGE,
    P_GROUP_THRESHOLD,
    P_MARGIN,
    REPLICATES,
    T_APPLIED,
    T_SELECTED,
    TALLIES,
    step_gates,
)
from socialscore.simulation.kernels.lending import view_histogram
from socialscore.simulation.kernels.monitoring import (
    M_DETECTIONS,
    M_INCIDENTS,
    M_PATROLS,
    M_WEIGHT,
    M_WEIGHT_END,
    MONITOR_TALLIES,
    draw_patrols,
    update_weights,
)
from socialscore.simulation.kernels.network import step_network
from socialscore.simulation.kernels.ranking import (
    low_rank_weights,
    mark_low_ranked,
    percentile_table,
)
from socialscore.simulation.nation import Nation
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.state import State, initial_state
from socialscore.simulation.trace import Tracer

_DILIGENCE = TRAITS.index("diligence")


@dataclass
class Probe:
    """A what-if at one day's gates (:meth:`Engine.step`'s ``probe``).

    ``edit`` changes the state's record just before the gates decide; the
    gates then decide on the edited record and ``words`` receives each
    citizen's decision word of that what-if day
    (:data:`socialscore.simulation.kernels.gates.DECISION_BITS` bits per
    gate). Then the state is put back and the day is taken as it was.
    """

    edit: Callable[[State], None]
    words: np.ndarray | None = None


class Day(NamedTuple):
    """The day's inputs every daily kernel reads (made by :meth:`Engine.step`)."""

    seed: int
    day: int
    all_rated: bool  # participation is mandatory from this day
    low_ranked: (
        np.ndarray
    )  # uint8 [(N + 7) // 8], bit i: citizen i low-ranked at the last publication


class NationArrays(NamedTuple):
    """The nation's fixed arrays the kernels read, under :class:`Nation`'s names."""

    group: np.ndarray  # uint8 [N], 0 majority, 1 minority
    traits: np.ndarray  # uint8 [len(TRAITS), N], trait-major
    children: np.ndarray  # uint8 [N], school-age children
    region_start: np.ndarray  # int64 [R + 1], first citizen of each region
    friends_local: int  # friend slots drawn within the region
    companies: int
    company_compliance: np.ndarray  # uint8 [M]
    company_group: np.ndarray  # uint8 [M], the owner's group


class CitizenTallies(NamedTuple):
    """What the behaviour kernel counts each day, per chunk (int64; zeroed by the kernel)."""

    hist: np.ndarray  # [chunk, score - lo]
    group_hist: np.ndarray  # [chunk, group, 2]: citizens, sum of their scores
    events: np.ndarray  # [chunk, event, group]
    errors: np.ndarray  # [chunk, group], erroneous records made
    # [chunk, event, group, 3]: Σ p, Σ p without chilling, Σ p², as integer chances
    # (socialscore.simulation.kernels.passes.probability_sums)
    expected: np.ndarray


class FixedSums(NamedTuple):
    """The fixed part of each stream's threshold sums, per chunk, made on its first day."""

    ready: np.ndarray  # uint8 [chunk], 1 = ``sums`` made
    sums: np.ndarray  # int64 [chunk, stream, group, 3], as ``CitizenTallies.expected``


class Watch(NamedTuple):
    """Today's monitoring, as the behaviour kernel reads it (``[monitoring]``).

    Disabled (``enabled`` False, empty arrays) without the section; the
    kernel's types are the same either way.
    """

    enabled: bool
    events: np.ndarray  # int64 [k]: the monitored events' indices in the vocabulary
    by_group: bool  # the units are the groups (else the regions)
    detection: float  # chance an event in a patrolled unit is observed
    patrolled: np.ndarray  # uint8 [units], 1: a patrol in the unit today
    incidents: np.ndarray  # int64 [chunk, units]: true events of the monitored kinds
    detections: np.ndarray  # int64 [chunk, units]: those observed


class GateTallies(NamedTuple):
    """What the gate kernel counts each day, per chunk (zeroed by the kernel)."""

    # int64 [chunk, gate, group + groups * replicate, T_*] (kernels.gates.REPLICATES)
    gates: np.ndarray
    reasons: np.ndarray  # int64 [chunk, gate, group, reason]
    group_state: np.ndarray  # float64 [chunk, group, S_*]
    # uint32 [N]: each citizen's decisions of the day, kernels.gates.DECISION_BITS per gate
    decided: np.ndarray


class CompanyTallies(NamedTuple):
    """What the company kernel counts each day, per chunk (int64; zeroed by the kernel)."""

    hist: np.ndarray  # [chunk, company score - lo]
    events: np.ndarray  # [chunk, company event, owner's group]
    gates: np.ndarray  # [chunk, owner's group, 2]: public-contract bids, granted


class Engine:
    """Runs a scenario on a nation, day by day, feeding a recorder.

    The engine takes over the nation's friend lists and employers
    (``nation.friend_codes`` is ``state.friend_codes``, ``nation.employer`` is
    ``state.employer``): the run edits them in place, so they are not held
    twice; a dropped friendship keeps its draw, marked dropped, so the lists
    as generated can be read back.
    """

    def __init__(self, scenario: Scenario, nation: Nation, *, tracer: Tracer | None = None) -> None:
        self.scenario = scenario
        #: Keeps a few citizens' days (a replay for decision trails); None: nothing kept.
        self.tracer = tracer
        self.nation = nation
        self.compiled = compile_scenario(scenario)
        self.state = initial_state(scenario, nation, self.compiled)
        n = nation.population
        m = nation.companies
        chunks = chunk_count(n)
        company_chunks = chunk_count(m)
        self.nation_arrays = NationArrays(
            group=nation.group,
            traits=nation.traits,
            children=nation.children,
            region_start=nation.region_start,
            friends_local=nation.friends_local,
            companies=m,
            company_compliance=nation.company_compliance,
            company_group=nation.company_group,
        )
        # Per-chunk buffers of the daily tallies (simulation.tallies), summed each day.
        dims = tallies.dimensions(scenario, len(self.compiled.layout.labels))
        groups = dims["group"]

        def per_chunk(name: str, count: int = chunks) -> np.ndarray:
            return tallies.BY_NAME[name].zeros(dims, count)

        self.citizen_tallies = CitizenTallies(
            hist=per_chunk("hist"),
            group_hist=per_chunk("group_hist"),
            events=per_chunk("events"),
            errors=per_chunk("errors"),
            expected=per_chunk("expected"),
        )
        self.fixed_sums = FixedSums(
            ready=np.zeros(chunks, dtype=np.uint8),
            sums=np.zeros((chunks, len(self.compiled.streams.event), groups, 3), dtype=np.int64),
        )
        self.gate_tallies = GateTallies(
            gates=np.zeros(
                (chunks, len(CITIZEN_GATES), groups * REPLICATES, TALLIES), dtype=np.int64
            ),
            reasons=per_chunk("reasons"),
            group_state=per_chunk("group_state"),
            decided=np.zeros(n, dtype=np.uint32),
        )
        self.company_tallies = CompanyTallies(
            hist=per_chunk("company_hist", company_chunks),
            events=per_chunk("company_events", company_chunks),
            gates=per_chunk("company_gates", company_chunks),
        )
        self._disputes = per_chunk("disputes")
        # A byte per citizen: the day's disputes (kernels.disputes D_* bits); none without.
        self._disputed = np.zeros(n if scenario.data_errors.dispute_rate > 0 else 0, dtype=np.uint8)
        self._dropped = per_chunk("dropped")
        # One bit per citizen: low-ranked in the last published ranking (none before day 0).
        self._low_bits = np.zeros((n + 7) // 8, dtype=np.uint8)
        # The gate table the gate kernel reads: the compiled one, or a copy whose mortgage
        # thresholds a lending policy (simulation.policies) rewrites each period.
        mortgage = scenario.gates.mortgage
        self._policy = policies.policy_chooses(scenario)
        self._gate_params = self.compiled.gates.copy() if self._policy else self.compiled.gates
        self._groups = groups
        # The mortgage gate's thresholds, then its marginal chances, per group (recorded daily).
        self._policy_columns = np.r_[
            P_GROUP_THRESHOLD : P_GROUP_THRESHOLD + groups, P_MARGIN : P_MARGIN + groups
        ]
        scale = scenario.score
        self._chance = (
            policies.repayment_chance(mortgage.outcome, scale.lo, scale.hi, groups)
            if self._policy and mortgage.outcome is not None
            else None
        )
        #: The thresholds a lending policy chose: (day, group, threshold score, chance of
        #: approval at it), one row per group on each day thresholds are chosen.
        self.policy_log: list[tuple[int, int, int, float]] = []
        # Monitoring: the units' weights (whole numbers), and the kernel's view of the day.
        units = scenario.monitoring_units()
        watch = scenario.monitoring
        self._monitor_day = np.zeros((units, MONITOR_TALLIES), dtype=np.int64)
        if watch is None:
            self.weights = np.zeros(0, dtype=np.int64)
            self._watch = Watch(
                False,
                np.zeros(0, dtype=np.int64),
                True,
                1.0,
                np.zeros(0, dtype=np.uint8),
                np.zeros((chunks, 0), dtype=np.int64),
                np.zeros((chunks, 0), dtype=np.int64),
            )
        else:
            #: Each monitoring unit's weight now (at the start of the next day).
            self.weights = np.array(
                watch.prior if watch.prior is not None else [1] * units, dtype=np.int64
            )
            self._watch = Watch(
                True,
                np.array([CITIZEN_EVENTS.index(e) for e in watch.events], dtype=np.int64),
                watch.by == "group",
                watch.detection,
                np.zeros(units, dtype=np.uint8),
                np.zeros((chunks, units), dtype=np.int64),
                np.zeros((chunks, units), dtype=np.int64),
            )

    def run(self, recorder: Recorder, progress: Callable[[int], None] | None = None) -> None:
        """Run every day of the scenario; ``progress(day)`` is called after each day."""
        sc = self.scenario
        for day in range(sc.run.days):
            self.step(day, recorder)
            if progress is not None:
                progress(day)

    def step(self, day: int, recorder: Recorder, *, probe: Probe | None = None) -> None:
        """Advance one day and record it; with ``probe``, ask its what-if first (:class:`Probe`)."""
        sc, nat, st, cp = self.scenario, self.nation_arrays, self.state, self.compiled
        today = Day(sc.run.seed, day, day >= sc.participation.mandatory_from_day, self._low_bits)
        net = sc.network
        self._dropped[:] = 0
        if net.enabled and day % net.every_days == 0:
            over_chunks(
                step_network, self._dropped.shape[0], today, nat, st, cp.network, self._dropped
            )
        for q in cp.layout.rows_to_empty(day):
            st.acc[q].fill(0.0)
        watch = self._watch
        if watch.enabled:
            self._draw_patrols(day)
        ct = self.citizen_tallies
        over_chunks(
            step_citizens,
            ct.hist.shape[0],
            today,
            nat,
            st,
            cp.streams,
            cp.citizen_rules(day),
            cp.score,
            cp.errors,
            cp.outcomes,
            watch,
            ct,
            self.fixed_sums,
        )
        if watch.enabled:
            self._update_weights(day)
        de = sc.data_errors
        if de.dispute_rate > 0:
            over_chunks(
                step_disputes,
                self._disputes.shape[0],
                today.seed,
                day,
                nat.group,
                st.err_acc,
                st.dispute_filed_on,
                de.dispute_rate,
                de.dispute_days,
                de.dispute_success,
                self._disputes,
                self._disputed,
            )
        s = sc.score
        hist = ct.hist.sum(axis=0)
        if day % s.publish_every_days == 0:
            st.published_below[:] = percentile_table(hist)  # mid-rank percentile
            if st.published is not st.score:
                st.published[:] = st.score
            low = low_rank_weights(hist, sc.network.low_scorer_percentile)
            mark_low_ranked(st.published, low, s.lo, today.seed, day, self._low_bits)
        if self._policy and day % sc.gates.mortgage.policy.every_days == 0:
            self._choose_thresholds(today)
        gt = self.gate_tallies
        if probe is not None:
            probe.words = self._probe(today, probe.edit)
        over_chunks(
            step_gates,
            gt.gates.shape[0],
            today,
            nat,
            st,
            cp.views,
            cp.score,
            self._gate_params,
            cp.feedback,
            gt,
        )
        recorder.tally_decisions(day, gt.decided, self._disputed, st, today.all_rated)
        co = self.company_tallies
        over_chunks(
            step_companies,
            co.hist.shape[0],
            today,
            nat,
            st,
            cp.company_streams,
            cp.company_rules,
            cp.company_score,
            cp.contracts,
            co,
        )
        # [gate, replicate, group, tally]: the replicates summed give the groups' tallies.
        by_replicate = gt.gates.sum(axis=0).reshape(len(CITIZEN_GATES), REPLICATES, -1, TALLIES)
        recorder.record_day(
            day,
            hist=hist,
            group_hist=ct.group_hist.sum(axis=0),
            events=ct.events.sum(axis=0),
            errors=ct.errors.sum(axis=0),
            expected=ct.expected.sum(axis=0),
            gates=by_replicate.sum(axis=1),
            gate_replicates=by_replicate[:, :, :, [T_APPLIED, T_SELECTED]],
            reasons=gt.reasons.sum(axis=0),
            disputes=self._disputes.sum(axis=0),
            group_state=gt.group_state.sum(axis=0),
            dropped=self._dropped.sum(axis=0),
            policy=self._gate_params[G_MORTGAGE, self._policy_columns].reshape(2, self._groups).T,
            company_hist=co.hist.sum(axis=0),
            company_events=co.events.sum(axis=0),
            company_gates=co.gates.sum(axis=0),
            monitoring=self._monitor_day,
        )
        recorder.observe_state(day, st)
        if self.tracer is not None:
            self.tracer.observe(
                day,
                st,
                gt.decided,
                lo=sc.score.lo,
                all_rated=today.all_rated,
                thresholds=self._gate_params[
                    :, P_GROUP_THRESHOLD : P_GROUP_THRESHOLD + self._groups
                ],
            )

    def _probe(self, today: Day, edit: Callable[[State], None]) -> np.ndarray:
        """The gates' decision words on the record ``edit`` leaves; the state put back after.

        Every gate reads its score through the kernel's view rule here (the
        public score too, as a copy of view 0), so an edit of the record
        reaches the score the gate reads.
        """
        st, cp, gt = self.state, self.compiled, self.gate_tallies
        saved = [np.copy(a) for a in st]
        edit(st)
        v = cp.views
        public = v.weight.shape[0]  # a view that counts what the public score counts
        views = Views(
            np.vstack([v.weight, v.weight[:1]]),
            np.r_[v.net, v.net[:1]],
            np.r_[v.err, v.err[:1]],
            np.where(v.gate_view == 0, public, v.gate_view),
            v.reason,
        )
        over_chunks(
            step_gates,
            gt.gates.shape[0],
            today,
            self.nation_arrays,
            st,
            views,
            cp.score,
            self._gate_params,
            cp.feedback,
            gt,
        )
        words = gt.decided.copy()
        for a, b in zip(st, saved, strict=True):
            np.copyto(a, b)
        return words

    def _draw_patrols(self, day: int) -> None:
        """Today's patrols, from the weights at the start of the day (``[monitoring]``)."""
        watch = self.scenario.monitoring
        assert watch is not None
        record = self._monitor_day
        record[:] = 0
        record[:, M_WEIGHT] = self.weights
        patrols = draw_patrols(self.weights, self.scenario.run.seed, day, watch.units)
        record[:, M_PATROLS] = patrols
        self._watch.patrolled[:] = patrols > 0

    def _update_weights(self, day: int) -> None:
        """The day's detections added to the weights (with the correction), then decay."""
        watch = self.scenario.monitoring
        assert watch is not None
        record = self._monitor_day
        record[:, M_INCIDENTS] = self._watch.incidents.sum(axis=0)
        detections = self._watch.detections.sum(axis=0)
        record[:, M_DETECTIONS] = detections
        self.weights = update_weights(
            self.weights,
            detections,
            watch.correction == "surprise",
            watch.decay,
            watch.floor,
            self.scenario.run.seed,
            day,
        )
        record[:, M_WEIGHT_END] = self.weights

    def _choose_thresholds(self, today: Day) -> None:
        """The mortgage gate's per-group thresholds, chosen by its policy from today's scores.

        Made after the day's scores and ranking, before the decisions; from the
        histogram of the scores the gate reads, over the citizens who may apply.
        """
        mortgage = self.scenario.gates.mortgage
        hist = view_histogram(
            G_MORTGAGE,
            self._groups,
            mortgage.reapply,
            self.nation_arrays.group,
            self.state,
            self.compiled.views,
            self.compiled.score,
            today.all_rated,
        )
        chosen = policies.choose(mortgage.policy, hist, self._chance)
        lo = self.scenario.score.lo
        for g in range(hist.shape[0]):
            threshold = lo + int(chosen.threshold[g])
            margin = float(chosen.margin[g])
            self._gate_params[G_MORTGAGE, P_GROUP_THRESHOLD + g] = threshold
            self._gate_params[G_MORTGAGE, P_MARGIN + g] = margin
            self.policy_log.append((today.day, g, threshold, margin))
