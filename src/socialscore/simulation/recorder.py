"""What is kept: daily aggregates (appended day by day) and end-of-run snapshots.

The recorder never looks back over history: each day it stores the day's
tallies from the kernels into preallocated arrays, and at the end turns them
into Arrow tables. Per-citizen data is kept twice only: a copy of the score
on the mobility start day, and the final snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from numba import njit, prange

from socialscore.measures import statistics as metrics
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import (
    CITIZEN_EVENTS,
    CITIZEN_GATES,
    COMPANY_EVENTS,
    COMPANY_GATES,
    GROUP_LABELS,
)
from socialscore.scenario.window import measurement_window
from socialscore.simulation import tallies
from socialscore.simulation.cells import (
    ATTRIBUTES,
    CELL_TALLIES,
    CELLS,
    DISPUTE_CELL_TALLIES,
    MAX_REGIONS,
    cell_codes,
    static_cells,
)
from socialscore.simulation.kernels import friends
from socialscore.simulation.kernels.decisions import tally_cells
from socialscore.simulation.kernels.disputes import D_FILED, D_REJECTED, D_UPHELD
from socialscore.simulation.kernels.gates import (
    REPLICATES,
    S_BLACKLISTED,
    S_CHILLED,
    S_EMPLOYED,
    S_MORTGAGE,
    S_STRESS,
    T_APPLIED,
    T_ERRONEOUS,
    T_OVERTURNED,
    T_SELECTED,
    T_UNEXPLAINED,
    TALLIES,
)
from socialscore.simulation.kernels.monitoring import (
    M_DETECTIONS,
    M_INCIDENTS,
    M_PATROLS,
    M_WEIGHT,
    M_WEIGHT_END,
)
from socialscore.simulation.kernels.passes import (
    P2_UNIT,
    P_UNIT,
    SUM_P,
    SUM_P_SQUARED,
    SUM_P_UNCHILLED,
)
from socialscore.simulation.layout import NETWORK_REASON, layout
from socialscore.simulation.nation import Nation
from socialscore.simulation.policies import policy_chooses

if TYPE_CHECKING:
    from socialscore.simulation.state import State


#: Rows per slice of the per-citizen snapshot (and per Parquet row group).
SNAPSHOT_ROWS = 1 << 18


def grade_index(score: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Grade number (0 = lowest band) of each score (int8, no temporary copies)."""
    lo = int(score.min()) if score.size else 0
    hi = int(score.max()) if score.size else 0
    values = np.arange(lo, hi + 1, dtype=np.int64)
    table = (np.searchsorted(starts, values, side="right") - 1).astype(np.int8)
    out = np.empty(score.shape[0], dtype=np.int8)
    _lookup(score, lo, table, out)
    return out


@njit(cache=True, parallel=True)
def _lookup(score: np.ndarray, lo: int, table: np.ndarray, out: np.ndarray) -> None:
    for i in prange(score.shape[0]):
        out[i] = table[score[i] - lo]


class Recorder:
    """Collects a run's daily aggregates and final snapshots."""

    def __init__(self, scenario: Scenario, nation: Nation) -> None:
        self.scenario = scenario
        self.nation = nation
        d = scenario.run.days
        s = scenario.score
        cs = scenario.company_score
        self.values = np.arange(s.lo, s.hi + 1, dtype=np.int64)
        self.company_values = np.arange(cs.lo, cs.hi + 1, dtype=np.int64)
        self.grade_starts = np.array([gr.from_ for gr in s.grades], dtype=np.int64)
        lay = layout(scenario)
        self.reason_labels = lay.labels
        self.error_weight = float(lay.view_err[0])  # points of one erroneous record
        # One array per daily tally (simulation.tallies), one row per day.
        dims = tallies.dimensions(scenario, len(self.reason_labels))

        def per_day(name: str) -> np.ndarray:
            return tallies.BY_NAME[name].zeros(dims, d)

        self.hist = per_day("hist")
        self.group_hist = per_day("group_hist")
        self.events = per_day("events")
        self.errors = per_day("errors")
        self.expected = per_day("expected")
        self.gates = per_day("gates")
        self.gate_replicates = per_day("gate_replicates")
        self.reasons = per_day("reasons")
        self.disputes = per_day("disputes")
        self.group_state = per_day("group_state")
        self.dropped = per_day("dropped")
        self.policy = per_day("policy")
        self.company_hist = per_day("company_hist")
        self.company_events = per_day("company_events")
        self.company_gates = per_day("company_gates")
        self.monitoring = per_day("monitoring")
        self.window = measurement_window(scenario, d)
        self.score_start: np.ndarray | None = None
        self.days_done = 0
        # The window's gate decisions by the deciders' attributes (simulation.cells).
        gates, counted = len(CITIZEN_GATES), len(CELL_TALLIES)
        self.cell_counts = np.zeros((gates, CELLS, REPLICATES, counted), dtype=np.int64)
        regions = len(nation.region_start) - 1
        regions = regions if regions <= MAX_REGIONS else 0
        self.region_counts = np.zeros(
            (gates, regions, len(GROUP_LABELS), REPLICATES, counted), dtype=np.int64
        )
        # The window's disputes by the disputers' attributes, when the scenario has disputes.
        self.disputes_on = scenario.data_errors.dispute_rate > 0
        per = len(DISPUTE_CELL_TALLIES)
        self.dispute_cell_counts = np.zeros(
            (CELLS if self.disputes_on else 0, REPLICATES, per), dtype=np.int64
        )
        self.dispute_region_counts = np.zeros(
            (regions if self.disputes_on else 0, len(GROUP_LABELS), REPLICATES, per),
            dtype=np.int64,
        )
        self._cell_base: np.ndarray | None = None

    def record_day(self, day: int, **counts: np.ndarray) -> None:
        """Store one day's tallies: exactly those of :data:`socialscore.simulation.tallies.DAILY`.

        Raises:
            KeyError: If a tally is missing or unknown.
        """
        tallies.check_names(set(counts))
        for name, value in counts.items():
            getattr(self, name)[day] = value
        self.days_done = day + 1

    def tally_decisions(
        self,
        day: int,
        decided: np.ndarray,
        disputed: np.ndarray,
        state: State,
        all_rated: bool,
    ) -> None:
        """Add the day's gate decisions and disputes (per citizen) to the attribute tallies.

        ``decided``: a word per citizen (``kernels.gates.DECISION_BITS`` bits per
        gate); ``disputed``: a byte per citizen (``kernels.disputes.D_*`` bits), or
        empty without disputes. Only days of the measurement window count, like
        every gate measure.
        """
        if not self.window.start <= day <= self.window.end:
            return
        nat = self.nation
        tally_cells(
            decided,
            disputed,
            self._cells_unrated(state),
            state.participant,
            all_rated,
            nat.group,
            nat.region_start,
            self.cell_counts,
            self.region_counts,
            self.dispute_cell_counts,
            self.dispute_region_counts,
        )

    def _cells_unrated(self, state: State) -> np.ndarray:
        """Each citizen's attribute cell when not rated (made once; awareness never changes)."""
        if self._cell_base is None:
            nat = self.nation
            static = static_cells(nat.group, nat.income_decile, nat.age_band, nat.children)
            aware = state.aware_mask(0, nat.population)
            self._cell_base = (static.astype(np.uint16) * 4 + aware).astype(np.uint16)
        return self._cell_base

    def observe_state(self, day: int, state: State) -> None:
        """Keep the per-citizen values needed later (the scores at the window's start)."""
        if day == self.window.start:
            self.score_start = state.score.copy()

    # -- tables -------------------------------------------------------------

    def daily_table(self) -> pa.Table:
        """One row per day: the population's headline aggregates."""
        days = np.arange(self.days_done)
        hist = self.hist[: self.days_done]
        n = hist.sum(axis=1).astype(np.float64)
        mean = (hist * self.values).sum(axis=1) / n
        var = (hist * (self.values[None, :] - mean[:, None]) ** 2).sum(axis=1) / n
        cdf = np.cumsum(hist, axis=1) / n[:, None]
        gs = self.group_state[: self.days_done].sum(axis=1)
        ch = self.company_hist[: self.days_done]
        cn = ch.sum(axis=1).astype(np.float64)
        return pa.table(
            {
                "day": pa.array(days, pa.int32()),
                "mean_score": mean,
                "sd_score": np.sqrt(var),
                "p10": self.values[np.argmax(cdf >= 0.1, axis=1)],
                "median": self.values[np.argmax(cdf >= 0.5, axis=1)],
                "p90": self.values[np.argmax(cdf >= 0.9, axis=1)],
                "gini": [metrics.gini_above_floor(self.values, h, self.values[0]) for h in hist],
                "blacklisted_share": gs[:, S_BLACKLISTED] / n,
                "employed_share": gs[:, S_EMPLOYED] / n,
                "mortgage_share": gs[:, S_MORTGAGE] / n,
                "chilled_share": gs[:, S_CHILLED] / n,
                "mean_stress": gs[:, S_STRESS] / n,
                "friends_dropped": self.dropped[: self.days_done].sum(axis=1),
                "erroneous_records": self.errors[: self.days_done].sum(axis=1),
                "disputes_filed": self.disputes[: self.days_done, :, D_FILED].sum(axis=1),
                "disputes_upheld": self.disputes[: self.days_done, :, D_UPHELD].sum(axis=1),
                "disputes_rejected": self.disputes[: self.days_done, :, D_REJECTED].sum(axis=1),
                "company_mean_score": (ch * self.company_values).sum(axis=1) / np.maximum(cn, 1),
            }
        )

    def daily_groups_table(self) -> pa.Table:
        """One row per day and group."""
        d, g = self.days_done, len(GROUP_LABELS)
        gh = self.group_hist[:d].reshape(d * g, 2).astype(np.float64)
        gs = self.group_state[:d].reshape(d * g, 6)
        citizens = np.maximum(gh[:, 0], 1)
        return pa.table(
            {
                "day": pa.array(np.repeat(np.arange(d), g), pa.int32()),
                "group": np.tile(np.array(GROUP_LABELS), d),
                "citizens": gh[:, 0].astype(np.int64),
                "mean_score": gh[:, 1] / citizens,
                "blacklisted_share": gs[:, S_BLACKLISTED] / citizens,
                "employed_share": gs[:, S_EMPLOYED] / citizens,
                "mortgage_share": gs[:, S_MORTGAGE] / citizens,
                "chilled_share": gs[:, S_CHILLED] / citizens,
                "mean_stress": gs[:, S_STRESS] / citizens,
                "friends_dropped": self.dropped[:d].reshape(d * g),
            }
        )

    def gate_replicates_table(self) -> pa.Table:
        """Citizen gates' decisions per day, gate, replicate of citizens and group (non-zero rows).

        A citizen's replicate is its id modulo :data:`.kernels.gates.REPLICATES`, so all
        decisions about one person fall in one replicate; the replicates summed are the
        ``daily_gates`` counts.
        """
        d = self.days_done
        tallies = self.gate_replicates[:d]
        day, gate, rep, grp = np.nonzero(tallies[..., 0])
        return pa.table(
            {
                "day": pa.array(day.astype(np.int32)),
                "gate": pa.array([CITIZEN_GATES[k] for k in gate], pa.string()),
                "replicate": pa.array(rep.astype(np.int16)),
                "group": pa.array([GROUP_LABELS[k] for k in grp], pa.string()),
                "applied": pa.array(tallies[day, gate, rep, grp, 0]),
                "selected": pa.array(tallies[day, gate, rep, grp, 1]),
            }
        )

    def daily_gates_table(self) -> pa.Table:
        """One row per day, gate and group: applications, selections, erroneous denials."""
        d, g = self.days_done, len(GROUP_LABELS)
        citizen = self.gates[:d]  # [d, gate, g, TALLIES]
        company = np.zeros((d, 1, g, TALLIES), dtype=np.int64)
        company[:, 0, :, :2] = self.company_gates[:d]
        allg = np.concatenate([citizen, company], axis=1)
        names = (*CITIZEN_GATES, *COMPANY_GATES)
        k = len(names)
        flat = allg.reshape(d * k * g, TALLIES)
        return pa.table(
            {
                "day": pa.array(np.repeat(np.arange(d), k * g), pa.int32()),
                "gate": np.tile(np.repeat(np.array(names), g), d),
                "group": np.tile(np.array(GROUP_LABELS), d * k),
                "applied": flat[:, T_APPLIED],
                "selected": flat[:, T_SELECTED],
                "erroneous_denials": flat[:, T_ERRONEOUS],
                "overturned_by_review": flat[:, T_OVERTURNED],
                "unexplained_denials": flat[:, T_UNEXPLAINED],
            }
        )

    def gate_policy_table(self) -> pa.Table:
        """One row per day and group: the mortgage gate's threshold and marginal chance.

        The thresholds a lending policy (``gates.mortgage.policy``) chose, as the
        day's decisions met them: a score above ``threshold`` passes, one at it
        with ``marginal_chance``. ``chosen``: the day they were chosen.
        """
        d, g = self.days_done, len(GROUP_LABELS)
        kept = self.policy[:d]  # [d, g, 2]
        every = self.scenario.gates.mortgage.policy.every_days
        days = np.repeat(np.arange(d), g)
        return pa.table(
            {
                "day": pa.array(days, pa.int32()),
                "group": np.tile(np.array(GROUP_LABELS), d),
                "threshold": pa.array(kept[:, :, 0].reshape(d * g).astype(np.int32)),
                "marginal_chance": pa.array(kept[:, :, 1].reshape(d * g)),
                "chosen": pa.array(days % every == 0),
            }
        )

    def monitoring_table(self) -> pa.Table:
        """One row per day and monitoring unit (``[monitoring]``; docs/model.md, "One day").

        ``unit``: the region's number, or the group's (0 majority, 1 minority);
        ``weight`` and ``share``: the unit's weight at the start of the day (which
        drew the day's patrols) and its share of all units' weights;
        ``patrols``: patrols sent to it; ``incidents``: events of the monitored
        kinds by its citizens; ``detections``: those observed (rated);
        ``weight_end``: its weight after the day's update and decay.
        """
        d = self.days_done
        kept = self.monitoring[:d]  # [d, unit, M_*]
        units = kept.shape[1]
        weight = kept[:, :, M_WEIGHT]
        total = np.maximum(weight.sum(axis=1, keepdims=True), 1).astype(np.float64)
        return pa.table(
            {
                "day": pa.array(np.repeat(np.arange(d), units), pa.int32()),
                "unit": pa.array(np.tile(np.arange(units), d), pa.int32()),
                "weight": weight.reshape(d * units),
                "share": (weight / total).reshape(d * units),
                "patrols": kept[:, :, M_PATROLS].reshape(d * units),
                "incidents": kept[:, :, M_INCIDENTS].reshape(d * units),
                "detections": kept[:, :, M_DETECTIONS].reshape(d * units),
                "weight_end": kept[:, :, M_WEIGHT_END].reshape(d * units),
            }
        )

    def reasons_table(self) -> pa.Table:
        """One row per gate, group and reason given for its adverse decisions, over the window.

        A decision carries up to four reasons, so a reason's ``decisions`` is
        the number of adverse decisions that cited it.
        """
        w = self.window
        days = slice(w.start, min(w.end, self.days_done - 1) + 1)
        total = self.reasons[days].sum(axis=0)  # [gate, group, reason]
        gate_idx, group_idx, reason_idx = np.nonzero(total)
        return pa.table(
            {
                "gate": pa.array([CITIZEN_GATES[k] for k in gate_idx], pa.string()),
                "group": pa.array([GROUP_LABELS[k] for k in group_idx], pa.string()),
                "reason": pa.array([self.reason_labels[k] for k in reason_idx], pa.string()),
                "own_record": pa.array(
                    [self.reason_labels[k] != NETWORK_REASON for k in reason_idx], pa.bool_()
                ),
                "decisions": pa.array(total[gate_idx, group_idx, reason_idx], pa.int64()),
                "day_from": pa.array(np.full(gate_idx.size, w.start), pa.int32()),
                "day_to": pa.array(np.full(gate_idx.size, w.end), pa.int32()),
            }
        )

    def daily_events_table(self) -> pa.Table:
        """One row per day, entity kind, event and group: how many happened, and the rate.

        Citizen rows also hold the day's sums of probabilities: ``expected``
        (Σ p, the expected number of events given the day's states),
        ``expected_unchilled`` (the same without the chilling factor) and
        ``variance`` (Σ p(1 − p), the variance of the count); null for companies.
        """
        d, g = self.days_done, len(GROUP_LABELS)
        citizens = self.group_hist[:d, :, 0].astype(np.float64)  # [d, g]
        sums = self.expected[:d]  # [d, e, g, 3]
        parts = []
        for kind, names, counts, pop in (
            ("citizen", CITIZEN_EVENTS, self.events[:d], citizens),
            ("company", COMPANY_EVENTS, self.company_events[:d], self._company_pop(d)),
        ):
            e = len(names)
            flat = counts.reshape(d * e * g)
            denom = np.repeat(pop[:, None, :], e, axis=1).reshape(d * e * g)
            columns = {
                "day": pa.array(np.repeat(np.arange(d), e * g), pa.int32()),
                "entity": np.full(d * e * g, kind),
                "event": np.tile(np.repeat(np.array(names), g), d),
                "group": np.tile(np.array(GROUP_LABELS), d * e),
                "events": flat,
                "rate": flat / np.maximum(denom, 1.0),
            }
            if kind == "citizen":
                p = sums[..., SUM_P].reshape(d * e * g) * P_UNIT
                p2 = sums[..., SUM_P_SQUARED].reshape(d * e * g) * P2_UNIT
                columns["expected"] = pa.array(p, pa.float64())
                columns["expected_unchilled"] = pa.array(
                    sums[..., SUM_P_UNCHILLED].reshape(d * e * g) * P_UNIT, pa.float64()
                )
                columns["variance"] = pa.array(p - p2, pa.float64())
            else:
                for name in ("expected", "expected_unchilled", "variance"):
                    columns[name] = pa.nulls(d * e * g, pa.float64())
            parts.append(pa.table(columns))
        return pa.concat_tables(parts)

    def _company_pop(self, d: int) -> np.ndarray:
        counts = np.bincount(self.nation.company_group, minlength=len(GROUP_LABELS))
        return np.repeat(counts[None, :].astype(np.float64), d, axis=0)

    def daily_grades_table(self) -> pa.Table:
        """One row per day and grade: citizens in the grade and their share."""
        d = self.days_done
        names = [gr.name for gr in self.scenario.score.grades]
        bins = grade_index(self.values, self.grade_starts)
        per = np.zeros((d, len(names)), dtype=np.int64)
        for k in range(len(names)):
            per[:, k] = self.hist[:d, bins == k].sum(axis=1)
        n = np.maximum(per.sum(axis=1, keepdims=True), 1)
        return pa.table(
            {
                "day": pa.array(np.repeat(np.arange(d), len(names)), pa.int32()),
                "grade": np.tile(np.array(names), d),
                "citizens": per.ravel(),
                "share": (per / n).ravel(),
            }
        )

    def histogram_table(self) -> pa.Table:
        """Non-empty score bins per day (the score distribution over time)."""
        d = self.days_done
        day_idx, bin_idx = np.nonzero(self.hist[:d])
        return pa.table(
            {
                "day": pa.array(day_idx, pa.int32()),
                "score": pa.array(self.values[bin_idx], pa.int16()),
                "citizens": self.hist[:d][day_idx, bin_idx],
            }
        )

    def citizens_core(self, state: State) -> pa.Table:
        """The per-citizen columns the metrics and the report need (no copies of the state)."""
        start = self.score_start if self.score_start is not None else state.score
        nat = self.nation
        # Dropped friendships keep their draw, so the start is read back.
        now, lost = friends.followers(
            state.friend_codes, nat.seed, nat.region_start, nat.friends_local
        )
        return pa.table(
            {
                "group": self.nation.group,
                "score_start": start,
                "score": state.score,
                "grade_start": grade_index(start, self.grade_starts),
                "grade": grade_index(state.score, self.grade_starts),
                "followers": now,
                "followers_lost": lost,
            }
        )

    def citizen_batches(
        self, state: State, core: pa.Table, rows: int = SNAPSHOT_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """The final per-citizen snapshot, in slices (never built whole in memory)."""
        nat = self.nation
        n = nat.population
        for lo in range(0, n, rows):
            hi = min(lo + rows, n)
            part = slice(lo, hi)
            cut = core.slice(lo, hi - lo)
            score = state.score[part]
            yield pa.record_batch(
                {
                    "citizen": pa.array(np.arange(lo, hi, dtype=np.int64)),
                    "region": nat.regions_of(lo, hi),
                    "group": nat.group[part],
                    "age_band": nat.age_band[part],
                    "income_decile": nat.income_decile[part],
                    "children": nat.children[part],
                    "participant": state.participant_mask(lo, hi),
                    "aware": state.aware_mask(lo, hi),
                    "score_start": cut.column("score_start").combine_chunks(),
                    "score": score,
                    "score_without_errors": state.score_clean[part],
                    "percentile": state.published_below[
                        state.published[part].astype(np.int64) - self.scenario.score.lo
                    ],
                    "grade_start": cut.column("grade_start").combine_chunks(),
                    "grade": cut.column("grade").combine_chunks(),
                    "blacklisted": (score < self.scenario.score.blacklist_below).astype(np.uint8),
                    "employed": (state.employer[part] >= 0).astype(np.uint8),
                    "has_mortgage": state.has_mortgage[part],
                    "stress": state.stress[part],
                    "chill": state.exposure(state.chill, lo, hi),
                    "gaming": state.exposure(state.gaming, lo, hi),
                    "friends_start": friends.out_degree(state.friend_codes[:, part], True),
                    "friends": friends.out_degree(state.friend_codes[:, part]),
                    "followers_start": np.add(
                        cut.column("followers").to_numpy(),
                        cut.column("followers_lost").to_numpy(),
                        dtype=np.int32,
                    ),
                    "followers": cut.column("followers").combine_chunks().cast(pa.int32()),
                    "erroneous_points": (state.err_acc[part] * self.error_weight).astype(
                        np.float32
                    ),
                }
            )

    def gate_cells_table(self) -> pa.Table:
        """The window's decisions per gate, cell of attributes and replicate (non-zero rows)."""
        gate, cell, rep = np.nonzero(self.cell_counts[:, :, :, 0])
        codes = cell_codes(cell)
        return pa.table(
            {
                "gate": pa.array(np.asarray(CITIZEN_GATES, dtype=object)[gate], pa.string()),
                "replicate": rep.astype(np.uint8),
                **{a.name: codes[a.name] for a in ATTRIBUTES},
                **{
                    name: self.cell_counts[gate, cell, rep, t]
                    for t, name in enumerate(CELL_TALLIES)
                },
            }
        )

    def cell_members_table(self, state: State) -> pa.Table:
        """Citizens in each cell of attributes at the end of the run (non-empty cells)."""
        nat = self.nation
        base = self._cells_unrated(state)
        rated = state.participant_mask(0, nat.population).astype(np.int64)
        if self.days_done and self.scenario.participation.mandatory_from_day < self.days_done:
            rated = np.ones_like(rated)
        members = np.bincount(base.astype(np.int64) + 2 * rated, minlength=CELLS)
        cell = np.flatnonzero(members)
        codes = cell_codes(cell)
        return pa.table({**{a.name: codes[a.name] for a in ATTRIBUTES}, "members": members[cell]})

    def gate_regions_table(self) -> pa.Table:
        """The window's decisions per gate, region, group and replicate (non-zero rows)."""
        gate, region, grp, rep = np.nonzero(self.region_counts[..., 0])
        return pa.table(
            {
                "gate": pa.array(np.asarray(CITIZEN_GATES, dtype=object)[gate], pa.string()),
                "replicate": rep.astype(np.uint8),
                "region": region.astype(np.int32),
                "group": grp.astype(np.uint8),
                **{
                    name: self.region_counts[gate, region, grp, rep, t]
                    for t, name in enumerate(CELL_TALLIES)
                },
            }
        )

    def dispute_cells_table(self) -> pa.Table:
        """The window's disputes per cell of attributes and replicate (non-zero rows)."""
        counts = self.dispute_cell_counts
        cell, rep = np.nonzero(counts.sum(axis=2))
        codes = cell_codes(cell)
        return pa.table(
            {
                "replicate": rep.astype(np.uint8),
                **{a.name: codes[a.name] for a in ATTRIBUTES},
                **{name: counts[cell, rep, t] for t, name in enumerate(DISPUTE_CELL_TALLIES)},
            }
        )

    def dispute_regions_table(self) -> pa.Table:
        """The window's disputes per region, group and replicate (non-zero rows)."""
        counts = self.dispute_region_counts
        region, grp, rep = np.nonzero(counts.sum(axis=3))
        return pa.table(
            {
                "replicate": rep.astype(np.uint8),
                "region": region.astype(np.int32),
                "group": grp.astype(np.uint8),
                **{
                    name: counts[region, grp, rep, t] for t, name in enumerate(DISPUTE_CELL_TALLIES)
                },
            }
        )

    def companies_table(self, state: State) -> pa.Table:
        """The final per-company snapshot."""
        nat = self.nation
        return pa.table(
            {
                "company": pa.array(np.arange(nat.companies, dtype=np.int64)),
                "region": nat.company_region,
                "sector": nat.company_sector,
                "size": nat.company_size,
                "owner": nat.company_owner,
                "owner_group": nat.company_group,
                "compliance": nat.company_compliance,
                "score": state.company_score,
            }
        )

    def tables(self, state: State) -> dict[str, pa.Table]:
        """Every aggregate table of the run, by name.

        ``gate_policy`` is built only when the mortgage gate follows a lending
        policy other than ``fixed`` (:func:`.policies.policy_chooses`),
        ``monitoring`` only when the scenario has ``[monitoring]``.

        The per-citizen snapshot is :meth:`citizen_batches`; :meth:`citizens_core`
        holds the per-citizen columns the metrics need.
        """
        return {
            "daily": self.daily_table(),
            "daily_groups": self.daily_groups_table(),
            "daily_gates": self.daily_gates_table(),
            "gate_replicates": self.gate_replicates_table(),
            "reasons": self.reasons_table(),
            "daily_events": self.daily_events_table(),
            "daily_grades": self.daily_grades_table(),
            "score_histogram": self.histogram_table(),
            "companies": self.companies_table(state),
            "gate_cells": self.gate_cells_table(),
            "cell_members": self.cell_members_table(state),
            **(
                {"gate_regions": self.gate_regions_table()}
                if self.region_counts.shape[1] > 0
                else {}
            ),
            **({"dispute_cells": self.dispute_cells_table()} if self.disputes_on else {}),
            **(
                {"dispute_regions": self.dispute_regions_table()}
                if self.disputes_on and self.region_counts.shape[1] > 0
                else {}
            ),
            **({"gate_policy": self.gate_policy_table()} if policy_chooses(self.scenario) else {}),
            **({"monitoring": self.monitoring_table()} if self.scenario.monitoring else {}),
        }
