"""How much of a gate's disparity the assumed group differences explain; how much the regime adds.

Every disparity a shipped regime shows starts from illustrative assumptions
about how the groups differ: the minority's income shift, its trait shifts,
its regional clustering, homophily of friendships, per-behaviour rate
multipliers (:func:`assumptions`). The decomposition reruns the same scenario
and seed with those differences removed (:func:`without`); random draws are
counter-based, so every rerun sees the same draws wherever it does not differ
(common random numbers) and the differences between runs are the removed
assumptions' doing, not noise.

The disparity decomposed is the **selection gap** of a citizen gate: the
majority's selection rate minus the minority's over the measurement window
(positive when the minority's decisions go its way less often; equal to the
minority's adverse rate minus the majority's). A difference of rates, unlike a
ratio, splits additively:

* ``selection_gap``: the gap in the run as configured (the total);
* ``selection_gap_regime``: the gap with **every** assumed group difference
  removed: what the regime's own mechanics (ranking against everyone, the
  network term, thresholds, feedback) make of two groups that are identical
  in every assumption;
* ``selection_gap_assumed`` = total − regime: the part the assumed group
  differences explain;
* ``selection_gap_part`` (one per assumption): total − the gap with only that
  assumption removed (one at a time);
* ``selection_gap_interactions`` = assumed − the sum of the one-at-a-time
  parts: one-at-a-time parts need not add up, because assumptions act
  together (an income shift matters more when friendships sort by group).

**Intervals.** Each run tallies its gate decisions in 16 replicates of
citizens (a citizen's id modulo 16), and a citizen's id keys the same draws
in every rerun. Each replicate is left out of every run at once (a
delete-one-group jackknife, paired across the runs) and the 95% interval is
the estimate ± t(0.975, 15) × the jackknife standard error. It assumes the 16
replicates are exchangeable, roughly independent draws of citizens from the
same nation; it does not cover what is drawn once per region (the minority's
regional tilt, regional incomes), which another seed would redraw. A part is
called nonzero only when its interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from socialscore.measures.intervals import t_quantile
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, GROUP_LABELS
from socialscore.scenario.window import Window

__all__ = [
    "METRICS",
    "Assumption",
    "Decomposition",
    "GateParts",
    "Part",
    "assumptions",
    "decompose",
    "gap",
    "metrics_table",
    "replicate_counts",
    "without",
]

#: Index of the reference (majority) and focal (minority) group in the counts.
MAJORITY, MINORITY = GROUP_LABELS.index("majority"), GROUP_LABELS.index("minority")
#: Columns of a replicate count: decisions, decisions that went the citizen's way.
APPLIED, SELECTED = 0, 1
#: The decomposition's measures, in the order of :mod:`socialscore.analysis.definitions`.
METRICS: Final[tuple[str, ...]] = (
    "selection_gap",
    "selection_gap_regime",
    "selection_gap_assumed",
    "selection_gap_part",
    "selection_gap_interactions",
)
#: Separates the gate from the assumption's key in a ``selection_gap_part`` row's subject.
PART_SEPARATOR: Final[str] = ": "

ERR_KEY = "{key} is not a group difference the decomposition knows (see assumptions())"


@dataclass(frozen=True)
class Assumption:
    """One assumed difference between the groups, as a scenario key.

    Attributes:
        key: The key path in the scenario (``nation.minority_income_shift``).
        words: What it assumes, in words, with its value.
        value: The scenario's value.
        neutral: The value at which the groups do not differ in it.
    """

    key: str
    words: str
    value: float
    neutral: float


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def assumptions(scenario: Scenario, *, every: bool = False) -> list[Assumption]:
    """Every group difference the scenario assumes (its value is not the neutral one).

    In this order: the minority's income shift, each trait's minority shift
    (traits in file order), the minority's regional clustering (when the
    minority is drawn region by region), homophily of friendships, and each
    behaviour's minority rate multiplier. ``every``: also those at their
    neutral value (removing them changes nothing: a check of common random numbers).
    """
    n = scenario.nation
    out: list[Assumption] = []

    def add(key: str, words: str, value: float, neutral: float) -> None:
        if every or value != neutral:
            out.append(Assumption(key, words, value, neutral))

    v = n.minority_income_shift
    add("nation.minority_income_shift", f"the minority's income shift ({v:+g} s.d.)", v, 0.0)
    for trait, spec in n.traits.items():
        v = spec.minority_shift
        add(
            f"nation.traits.{trait}.minority_shift",
            f"the minority's {_pretty(trait)} shift ({v:+g} s.d.)",
            v,
            0.0,
        )
    if not n.exact_minority_count:  # an exact count is drawn nationwide: no clustering
        v = n.minority_concentration
        add(
            "nation.minority_concentration",
            f"the minority's clustering in some regions ({v:g})",
            v,
            0.0,
        )
    v = n.homophily
    add("nation.homophily", f"friendships sorted by group (homophily {v:g})", v, 0.0)
    for event, stream in scenario.streams.items():
        v = stream.minority_multiplier
        add(
            f"streams.{event}.minority_multiplier",
            f"the minority's {_pretty(event)} rate (×{v:g})",
            v,
            1.0,
        )
    return out


def without(scenario: Scenario, keys: Iterable[str]) -> Scenario:
    """The scenario with each named group difference set to its neutral value.

    Everything else (the seed included) is unchanged, so the run sees the same
    random draws wherever it does not differ.

    Raises:
        KeyError: A key is not one of :func:`assumptions`' of this scenario.
    """
    known = {a.key: a for a in assumptions(scenario, every=True)}
    data = scenario.model_dump(by_alias=True)
    for key in keys:
        if key not in known:
            raise KeyError(ERR_KEY.format(key=key))
        *path, last = key.split(".")
        node: Any = data
        for part in path:
            node = node[part]
        node[last] = known[key].neutral
    return Scenario.model_validate(data)


# -- counts --------------------------------------------------------------------------------

#: Per citizen gate: decisions and favourable decisions, ``[replicate, group, APPLIED|SELECTED]``.
Counts = dict[str, npt.NDArray[np.int64]]


def replicate_counts(table: pa.Table, window: Window, replicates: int) -> Counts:
    """Per citizen gate, its decisions over ``window`` by replicate of citizens and group.

    ``table`` is a run's ``gate_replicates`` table (day, gate, replicate, group,
    applied, selected). Every citizen gate is present (zeros when it decided nothing).
    """
    day = np.asarray(table.column("day").to_numpy())
    inside = window.mask(day)
    gates = np.asarray(table.column("gate").to_numpy(zero_copy_only=False))[inside]
    rep = np.asarray(table.column("replicate").to_numpy())[inside].astype(np.int64)
    names = np.asarray(table.column("group").to_numpy(zero_copy_only=False))[inside]
    grp = np.array([GROUP_LABELS.index(str(x)) for x in names], dtype=np.int64)
    tallies = np.stack(
        [
            np.asarray(table.column("applied").to_numpy())[inside],
            np.asarray(table.column("selected").to_numpy())[inside],
        ],
        axis=1,
    ).astype(np.int64)
    out: Counts = {}
    for gate in CITIZEN_GATES:
        sel = gates == gate
        acc = np.zeros((replicates, len(GROUP_LABELS), 2), dtype=np.int64)
        np.add.at(acc, (rep[sel], grp[sel]), tallies[sel])
        out[gate] = acc
    return out


def gap(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The selection gap with every replicate, then with each left out in turn.

    ``counts`` is ``[replicate, group, APPLIED|SELECTED]``; the result has
    ``replicates + 1`` entries: the whole run first, then without replicate 0,
    1, .... The gap is the majority's selection rate minus the minority's; nan
    where a group had no decision.
    """
    whole = counts.sum(axis=0)  # [group, 2]
    sums = np.concatenate([whole[None], whole[None] - counts], axis=0).astype(np.float64)
    applied, selected = sums[..., APPLIED], sums[..., SELECTED]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(applied > 0, selected / np.where(applied > 0, applied, 1.0), np.nan)
    return np.asarray(rate[:, MAJORITY] - rate[:, MINORITY], dtype=np.float64)


# -- parts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A part of a gap (a share: 0.05 is 5 percentage points) with its 95% interval."""

    value: float
    ci_low: float
    ci_high: float

    @property
    def nonzero(self) -> bool:
        """True when the interval excludes 0 (an undefined interval never does)."""
        return self.ci_low > 0.0 or self.ci_high < 0.0

    def to_dict(self) -> dict[str, float | None]:
        """The part for JSON: undefined numbers as None."""
        return {
            "value": _json(self.value),
            "ci_low": _json(self.ci_low),
            "ci_high": _json(self.ci_high),
        }


def _json(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _jackknife(series: npt.NDArray[np.float64]) -> Part:
    """The estimate (entry 0) and its delete-one-replicate 95% interval (entries 1..R)."""
    value = float(series[0])
    leave = series[1:]
    k = leave.shape[0]
    if not math.isfinite(value) or k < 2 or not np.isfinite(leave).all():
        return Part(value, math.nan, math.nan)
    se = math.sqrt((k - 1) / k * float(((leave - leave.mean()) ** 2).sum()))
    half = t_quantile(0.975, k - 1) * se
    return Part(value, value - half, value + half)


@dataclass(frozen=True)
class GateParts:
    """One gate's selection gap, split.

    Attributes:
        gate: The citizen gate.
        total: The gap in the run as configured.
        regime: The gap with every assumed group difference removed.
        assumed: total − regime: what the assumed differences explain.
        parts: Each assumption's one-at-a-time part: total − the gap without it.
        interactions: assumed − the sum of the one-at-a-time parts.
        without: The gap with each assumption removed alone (same order as ``parts``).
    """

    gate: str
    total: Part
    regime: Part
    assumed: Part
    parts: tuple[tuple[Assumption, Part], ...]
    interactions: Part
    without: tuple[Part, ...]


@dataclass(frozen=True)
class Decomposition:
    """Every citizen gate's selection gap split into assumed and regime parts.

    Attributes:
        assumptions: The group differences the scenario assumes (each removed once).
        gates: One split per citizen gate that decided about both groups.
        days: The measurement window's first and last day.
        runs: Simulations it rests on (the run as configured included).
        population: Citizens in each of them.
    """

    assumptions: tuple[Assumption, ...]
    gates: tuple[GateParts, ...]
    days: tuple[int, int]
    runs: int
    population: int

    def gate(self, name: str) -> GateParts:
        """The split of one gate (KeyError when it was not decomposed)."""
        for g in self.gates:
            if g.gate == name:
                return g
        raise KeyError(name)

    def metric_rows(self) -> list[tuple[str, str, Part]]:
        """Rows for the metrics table: (metric, subject, part)."""
        rows: list[tuple[str, str, Part]] = []
        for g in self.gates:
            rows.append(("selection_gap", g.gate, g.total))
            rows.append(("selection_gap_regime", g.gate, g.regime))
            rows.append(("selection_gap_assumed", g.gate, g.assumed))
            for a, p in g.parts:
                rows.append(("selection_gap_part", f"{g.gate}{PART_SEPARATOR}{a.key}", p))
            rows.append(("selection_gap_interactions", g.gate, g.interactions))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The decomposition for JSON (the audit's ``--format json``)."""
        return {
            "measure": "selection_gap",
            "in_words": (
                "majority's selection rate minus the minority's over the measurement window "
                "(a share: 0.05 is 5 percentage points); positive: the minority fares worse"
            ),
            "days": list(self.days),
            "population": self.population,
            "runs": self.runs,
            "assumptions": [
                {"key": a.key, "words": a.words, "value": a.value, "neutral": a.neutral}
                for a in self.assumptions
            ],
            "gates": [
                {
                    "gate": g.gate,
                    "total": g.total.to_dict(),
                    "regime": g.regime.to_dict(),
                    "assumed": g.assumed.to_dict(),
                    "parts": [{"key": a.key, **p.to_dict()} for a, p in g.parts],
                    "interactions": g.interactions.to_dict(),
                }
                for g in self.gates
            ],
        }


def decompose(
    found: Sequence[Assumption],
    configured: Counts,
    regime: Counts,
    each: Sequence[Counts],
    *,
    days: tuple[int, int],
    population: int,
) -> Decomposition:
    """Split each citizen gate's selection gap (see the module's words).

    Args:
        found: The assumptions removed, in order.
        configured: Counts of the run as configured.
        regime: Counts of the run with every assumption removed.
        each: Counts of the run with each assumption removed alone (order of ``found``).
        days: The measurement window's first and last day.
        population: Citizens in each run.

    Returns:
        The decomposition of every gate that decided about both groups in the run
        as configured.
    """
    if len(each) != len(found):
        raise ValueError(f"need one run per assumption: {len(found)} assumptions, {len(each)}")
    gates = []
    for gate in CITIZEN_GATES:
        if gate not in configured or not (configured[gate][..., APPLIED].sum(axis=0) > 0).all():
            continue
        total = gap(configured[gate])
        alone = gap(regime[gate])
        one = [gap(c[gate]) for c in each]
        parts = [total - w for w in one]
        assumed = total - alone
        rest = assumed - (np.sum(parts, axis=0) if parts else 0.0)
        gates.append(
            GateParts(
                gate=gate,
                total=_jackknife(total),
                regime=_jackknife(alone),
                assumed=_jackknife(assumed),
                parts=tuple((a, _jackknife(p)) for a, p in zip(found, parts, strict=True)),
                interactions=_jackknife(np.asarray(rest, dtype=np.float64)),
                without=tuple(_jackknife(w) for w in one),
            )
        )
    runs = 1 + (len(found) > 0) + (len(found) if len(found) > 1 else 0)
    return Decomposition(tuple(found), tuple(gates), days, runs, population)


def metrics_table(decomposition: Decomposition) -> pa.Table:
    """The decomposition's rows in the schema of the ``metrics`` table (grp ``all``)."""
    rows = decomposition.metric_rows()
    first, last = decomposition.days

    def bound(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return pa.table(
        {
            "metric": pa.array([r[0] for r in rows], pa.string()),
            "subject": pa.array([r[1] for r in rows], pa.string()),
            "grp": pa.array(["all"] * len(rows), pa.string()),
            "value": pa.array([r[2].value for r in rows], pa.float64()),
            "ci_low": pa.array([bound(r[2].ci_low) for r in rows], pa.float64()),
            "ci_high": pa.array([bound(r[2].ci_high) for r in rows], pa.float64()),
            "day_from": pa.array([first] * len(rows), pa.int32()),
            "day_to": pa.array([last] * len(rows), pa.int32()),
        }
    )


def from_metrics(metrics: Any, scenario: Scenario, population: int) -> Decomposition | None:
    """The decomposition stored in a metrics table (pandas), or None when it was not computed.

    The assumptions' words and values are read from ``scenario`` (those with a
    stored part); ``without`` (the gap with each assumption removed alone) is
    total − part.
    """
    m = metrics[metrics.metric.isin(METRICS)]
    if not len(m):
        return None

    def part(metric: str, subject: str) -> Part:
        hit = m[(m.metric == metric) & (m.subject == subject)]
        if not len(hit):
            return Part(math.nan, math.nan, math.nan)
        r = hit.iloc[0]
        low, high = (
            math.nan if r[c] is None or r[c] != r[c] else float(r[c]) for c in ("ci_low", "ci_high")
        )
        return Part(float(r.value), low, high)

    stored = {
        str(x).split(PART_SEPARATOR, 1)[-1] for x in m[m.metric == "selection_gap_part"].subject
    }
    found = tuple(a for a in assumptions(scenario, every=True) if a.key in stored)
    gates = []
    for gate in dict.fromkeys(m[m.metric == "selection_gap"].subject):
        total = part("selection_gap", gate)
        parts = tuple(
            (a, part("selection_gap_part", f"{gate}{PART_SEPARATOR}{a.key}")) for a in found
        )
        gates.append(
            GateParts(
                gate=str(gate),
                total=total,
                regime=part("selection_gap_regime", gate),
                assumed=part("selection_gap_assumed", gate),
                parts=parts,
                interactions=part("selection_gap_interactions", gate),
                without=tuple(Part(total.value - p.value, math.nan, math.nan) for _, p in parts),
            )
        )
    first = m.iloc[0]
    k = len(found)
    runs = 1 + (k > 0) + (k if k > 1 else 0)
    return Decomposition(
        found, tuple(gates), (int(first.day_from), int(first.day_to)), runs, population
    )
