"""Harms at a gate by any citizen attribute, and by the intersection of two.

The gate kernel tallies every citizen gate decision of the measurement window
in the cell of the citizen's attributes (:mod:`socialscore.simulation.cells`,
table ``gate_cells``; region and group in ``gate_regions``), per replicate of
citizens. :func:`harms_by` sums the cells into the subgroups of one attribute
or of two and returns a :class:`GroupFrame`, shaped like Fairlearn's
``MetricFrame``: :meth:`GroupFrame.by_group` (a table, one row per
subgroup), :meth:`GroupFrame.group_min` / :meth:`GroupFrame.group_max`,
:meth:`GroupFrame.difference` and :meth:`GroupFrame.ratio`, each with its
interval. :func:`intersectional` says whether the worst-treated intersection
of two attributes is treated worse than either attribute alone shows.

Intervals. A subgroup's rate has Wilson's interval, widened when a
delete-one-replicate jackknife says it is too narrow (the same citizens are
decided about again and again; docs/model.md, "Gate measures"). The
difference and ratio between the best and the worst subgroup compare a pair
picked from many, so their intervals are simultaneous over every pair
(Bonferroni: each at level 1 − (1 − level) / pairs), and widened by the
jackknife at the same level. Subgroups with fewer than ``min_decisions``
decisions are listed but never picked as best or worst: a subgroup of three
refusals is not the worst-treated, it is small.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from socialscore.analysis.disparity import (
    ADVERSE_LINE,
    FOUR_FIFTHS,
    Estimate,
    katz_ratio_interval,
    newcombe_difference_interval,
    verdict,
    wilson_interval,
)
from socialscore.measures.intervals import t_quantile
from socialscore.simulation.cells import (
    ATTRIBUTES,
    CELL_TALLIES,
    CHILDREN_CAP,
    Attribute,
    attribute,
)

__all__ = [
    "COUNTS",
    "DISPUTES",
    "MIN_DECISIONS",
    "GroupFrame",
    "Intersection",
    "RestComparison",
    "dispute_tables",
    "disputes_by",
    "harms_by",
    "intersectional",
    "subgroup_tables",
]

#: The tallies of a ``gate_cells`` or ``gate_regions`` row.
COUNTS: Final = CELL_TALLIES
#: Fewest decisions for a subgroup to be picked as the best or worst treated.
MIN_DECISIONS: Final = 30
#: The name a frame of disputes carries where a gate's frame carries the gate's.
DISPUTES: Final = "disputes"

ERR_BY: Final = "harms_by needs one or two attributes, got {by}"
ERR_SAME: Final = "the two attributes must differ, got '{name}' twice"
ERR_GATE: Final = "no decisions of gate '{gate}' in the table; gates there: {known}"
ERR_LEVEL: Final = "level must lie strictly between 0 and 1, got {level}"


def _attribute(name: str, parsed: _Parsed) -> Attribute:
    """A registered attribute, or region (its categories read from the table)."""
    if name == "region":
        regions = parsed.columns["region"]
        top = int(regions.max()) if regions.size else -1
        return Attribute("region", "region", tuple(f"region {k}" for k in range(top + 1)))
    return attribute(name)


def _z(level: float, tests: int) -> float:
    """The two-sided normal quantile at ``level``, Bonferroni-adjusted for ``tests``."""
    return NormalDist().inv_cdf(1.0 - (1.0 - level) / (2.0 * max(tests, 1)))


def _t(level: float, tests: int, df: int) -> float:
    """The same for Student's t on ``df`` degrees of freedom."""
    return t_quantile(1.0 - (1.0 - level) / (2.0 * max(tests, 1)), df)


@dataclass(frozen=True)
class RestComparison:
    """A subgroup's selection rate against the rest of a larger subgroup that holds it.

    ``within``: the larger subgroup, in words ("minority"); ``rest_rate``: the
    selection rate of its other members; ``ratio``: the subgroup's rate over
    the rest's, with its interval.
    """

    within: str
    rest_rate: float
    ratio: Estimate

    @property
    def worse(self) -> bool:
        """Whether the interval of the ratio lies wholly below 1."""
        return self.ratio.ci_high < 1.0


@dataclass(frozen=True)
class GroupFrame:
    """One gate's decisions over the subgroups of one attribute or of two.

    Arrays are per subgroup (``labels`` order); ``replicates`` hold the same
    decisions per replicate of citizens, ``[replicate, subgroup]``.
    """

    gate: str
    by: tuple[str, ...]
    labels: tuple[str, ...]
    codes: npt.NDArray[np.int64]  # [subgroup, attribute]: each attribute's category
    applied: npt.NDArray[np.int64]
    selected: npt.NDArray[np.int64]
    erroneous: npt.NDArray[np.int64]
    overturned: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64] | None
    rep_applied: npt.NDArray[np.int64]
    rep_selected: npt.NDArray[np.int64]
    level: float = 0.95
    min_decisions: int = MIN_DECISIONS
    #: Disputes filed per subgroup, for a frame of disputes (:func:`disputes_by`): then a
    #: decision is a settled dispute and it went the citizen's way when upheld.
    filed: npt.NDArray[np.int64] | None = None

    # -- one subgroup --------------------------------------------------------------------

    def _rate(
        self, x: int, n: int, rx: npt.NDArray[np.int64], rn: npt.NDArray[np.int64]
    ) -> Estimate:
        """A share with Wilson's interval, widened by the replicate jackknife."""
        if n == 0:
            return Estimate(math.nan, math.nan, math.nan)
        value = x / n
        low, high = wilson_interval(x, n, z=_z(self.level, 1))
        k = rn.shape[0]
        keep_n = n - rn
        if k > 1 and (keep_n > 0).all():
            loo = (x - rx) / keep_n
            se = math.sqrt((k - 1) / k * float(((loo - loo.mean()) ** 2).sum()))
            half = _t(self.level, 1, k - 1) * se
            low, high = min(low, max(0.0, value - half)), max(high, min(1.0, value + half))
        return Estimate(value, low, high)

    def selection_rate(self, k: int) -> Estimate:
        """Subgroup ``k``'s share of decisions that went its way."""
        return self._rate(
            int(self.selected[k]),
            int(self.applied[k]),
            self.rep_selected[:, k],
            self.rep_applied[:, k],
        )

    def adverse_rate(self, k: int) -> Estimate:
        """Subgroup ``k``'s share of decisions that went against it."""
        adverse = self.applied - self.selected
        rep_adverse = self.rep_applied - self.rep_selected
        return self._rate(
            int(adverse[k]), int(self.applied[k]), rep_adverse[:, k], self.rep_applied[:, k]
        )

    def by_group(self) -> pd.DataFrame:
        """One row per subgroup: decisions, rates with intervals, members, wrongful denials.

        ``wrongful_denials``: denials caused by erroneous records and not
        overturned; ``overturned``: denials overturned by human review.
        ``adverse_per_member``: adverse decisions per member (members counted
        at the end of the run). A subgroup with no decision has empty rates
        and says so in ``note``.
        """
        return pd.DataFrame(self.rows()).set_index("subgroup")

    def rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`by_group`, as dicts (``subgroup`` the label)."""
        if self.filed is not None:
            return self._dispute_rows(self.filed)
        rows = []
        for k, label in enumerate(self.labels):
            sel, adv = self.selection_rate(k), self.adverse_rate(k)
            members = int(self.members[k]) if self.members is not None else -1
            adverse = int(self.applied[k] - self.selected[k])
            note = ""
            if self.applied[k] == 0:
                note = "no decisions"
            elif self.applied[k] < self.min_decisions:
                note = f"fewer than {self.min_decisions} decisions: never picked as best or worst"
            rows.append(
                {
                    "subgroup": label,
                    "applications": int(self.applied[k]),
                    "selection_rate": sel.value,
                    "selection_ci_low": sel.ci_low,
                    "selection_ci_high": sel.ci_high,
                    "adverse_rate": adv.value,
                    "adverse_ci_low": adv.ci_low,
                    "adverse_ci_high": adv.ci_high,
                    "members": members if members >= 0 else None,
                    "adverse_per_member": adverse / members if members > 0 else math.nan,
                    "wrongful_denials": int(self.erroneous[k]),
                    "overturned": int(self.overturned[k]),
                    "note": note,
                }
            )
        return rows

    def _dispute_rows(self, filed: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
        """Rows of a frame of disputes: filed, settled, the upheld share with its interval."""
        rows = []
        for k, label in enumerate(self.labels):
            upheld = self.selection_rate(k)
            members = int(self.members[k]) if self.members is not None else -1
            note = ""
            if self.applied[k] == 0:
                note = "no dispute settled"
            elif self.applied[k] < self.min_decisions:
                note = f"fewer than {self.min_decisions} settled: never picked as best or worst"
            rows.append(
                {
                    "subgroup": label,
                    "disputes_filed": int(filed[k]),
                    "disputes_settled": int(self.applied[k]),
                    "upheld": int(self.selected[k]),
                    "upheld_rate": upheld.value,
                    "upheld_ci_low": upheld.ci_low,
                    "upheld_ci_high": upheld.ci_high,
                    "members": members if members >= 0 else None,
                    "filed_per_member": int(filed[k]) / members if members > 0 else math.nan,
                    "note": note,
                }
            )
        return rows

    # -- between subgroups ---------------------------------------------------------------

    def _candidates(self) -> npt.NDArray[np.int64]:
        """Subgroups with enough decisions to be picked as the best or worst treated."""
        return np.flatnonzero(self.applied >= max(self.min_decisions, 1))

    def _extremes(self) -> tuple[int, int] | None:
        """The subgroups with the lowest and the highest selection rate (ties: first)."""
        idx = self._candidates()
        if idx.size < 2:
            return None
        rates = self.selected[idx] / self.applied[idx]
        return int(idx[int(np.argmin(rates))]), int(idx[int(np.argmax(rates))])

    def _pairs(self) -> int:
        n = int(self._candidates().size)
        return n * (n - 1) // 2

    def group_min(self) -> tuple[str, Estimate]:
        """The subgroup with the lowest selection rate, and its rate (ties: the first)."""
        ends = self._extremes()
        if ends is None:
            return "", Estimate(math.nan, math.nan, math.nan)
        return self.labels[ends[0]], self.selection_rate(ends[0])

    def group_max(self) -> tuple[str, Estimate]:
        """The subgroup with the highest selection rate, and its rate (ties: the first)."""
        ends = self._extremes()
        if ends is None:
            return "", Estimate(math.nan, math.nan, math.nan)
        return self.labels[ends[1]], self.selection_rate(ends[1])

    def _pair(self, lo: int | npt.NDArray[np.bool_], hi: int | npt.NDArray[np.bool_]) -> _Pair:
        """Selections and decisions of two disjoint sets of subgroups, in all and per replicate."""

        def total(x: npt.NDArray[np.int64], who: int | npt.NDArray[np.bool_]) -> int:
            return int(np.sum(x[who]))

        def per_rep(
            x: npt.NDArray[np.int64], who: int | npt.NDArray[np.bool_]
        ) -> npt.NDArray[np.int64]:
            return x[:, who] if isinstance(who, int) else x[:, who].sum(axis=1)

        return _Pair(
            (
                total(self.selected, lo),
                total(self.applied, lo),
                total(self.selected, hi),
                total(self.applied, hi),
            ),
            (
                per_rep(self.rep_selected, lo),
                per_rep(self.rep_applied, lo),
                per_rep(self.rep_selected, hi),
                per_rep(self.rep_applied, hi),
            ),
        )

    def difference(self) -> Estimate:
        """Highest selection rate minus the lowest, with a simultaneous interval (no verdict)."""
        ends = self._extremes()
        if ends is None:
            return Estimate(math.nan, math.nan, math.nan)
        pair = self._pair(*ends)
        s_lo, a_lo, s_hi, a_hi = pair.counts
        value = s_hi / a_hi - s_lo / a_lo
        tests = self._pairs()
        low, high = newcombe_difference_interval(s_hi, a_hi, s_lo, a_lo, z=_z(self.level, tests))
        se = pair.jackknife(_difference)
        if math.isfinite(se) and se > 0:
            half = _t(self.level, tests, pair.replicates - 1) * se
            low, high = min(low, value - half), max(high, value + half)
        return Estimate(value, low, high)

    def ratio(self) -> Estimate:
        """Lowest selection rate over the highest, simultaneous interval, judged at 0.8.

        Not applicable when fewer than two subgroups have enough decisions or
        when the best subgroup was never selected (0 / 0).
        """
        ends = self._extremes()
        if ends is None:
            return Estimate(math.nan, math.nan, math.nan)
        return self._ratio(self._pair(*ends), self._pairs(), line=FOUR_FIFTHS)

    def adverse_ratio(self) -> Estimate:
        """The worst subgroup's adverse rate over the best's, judged at 1.25.

        The worst and best are those of :meth:`ratio` (lowest and highest
        selection rate). Infinite when the best subgroup had no adverse
        decision and the worst had some; not applicable when neither had.
        """
        ends = self._extremes()
        if ends is None:
            return Estimate(math.nan, math.nan, math.nan)
        return self._ratio(self._pair(*ends).adverse(), self._pairs(), line=1.0 / ADVERSE_LINE)

    def _ratio(self, pair: _Pair, tests: int, *, line: float) -> Estimate:
        """``(x1 / n1) / (x2 / n2)``: Katz at the adjusted level, widened by the jackknife."""
        x1, n1, x2, n2 = pair.counts
        if n1 == 0 or n2 == 0 or (x1 == 0 and x2 == 0):
            return Estimate(math.nan, math.nan, math.nan)
        value = (x1 / n1) / (x2 / n2) if x2 > 0 else math.inf
        low, high = katz_ratio_interval(x1, n1, x2, n2, z=_z(self.level, tests))
        se = pair.jackknife(_log_ratio) if 0 < value < math.inf else math.nan
        if math.isfinite(se) and se > 0:
            half = _t(self.level, tests, pair.replicates - 1) * se
            low = min(low, math.exp(math.log(value) - half))
            high = max(high, math.exp(math.log(value) + half))
        return Estimate(value, low, high, math.nan, verdict(value, low, high, line=line))

    def rest_comparison(self, k: int, attribute_index: int, *, tests: int) -> RestComparison:
        """Subgroup ``k`` against the other subgroups sharing its category of one attribute.

        E.g. (minority, decile 1) against the rest of the minority. ``tests``:
        how many subgroups ``k`` was picked from (the interval is
        Bonferroni-adjusted for them). The ratio has no verdict line: it
        says whether the subgroup fares worse than the rest (interval below 1).
        """
        rest = self.codes[:, attribute_index] == self.codes[k, attribute_index]
        rest[k] = False
        within = _category(self.by[attribute_index], int(self.codes[k, attribute_index]))
        pair = self._pair(k, rest)
        x2, n2 = pair.counts[2], pair.counts[3]
        rest_rate = x2 / n2 if n2 else math.nan
        if x2 == 0:
            return RestComparison(within, rest_rate, Estimate(math.nan, math.nan, math.nan))
        return RestComparison(within, rest_rate, self._ratio(pair, tests, line=0.0))


@dataclass(frozen=True)
class _Pair:
    """Two sets of decisions: (x1, n1, x2, n2) in total and per replicate of citizens."""

    counts: tuple[int, int, int, int]
    per_replicate: tuple[npt.NDArray[np.int64], ...]

    @property
    def replicates(self) -> int:
        """The number of replicates of citizens."""
        return int(self.per_replicate[0].shape[0])

    def adverse(self) -> _Pair:
        """The same pair counting adverse decisions instead of favourable ones."""
        x1, n1, x2, n2 = self.counts
        r1, m1, r2, m2 = self.per_replicate
        return _Pair((n1 - x1, n1, n2 - x2, n2), (m1 - r1, m1, m2 - r2, m2))

    def jackknife(self, stat: Callable[[int, int, int, int], float]) -> float:
        """Delete-one-replicate jackknife standard error of ``stat(x1, n1, x2, n2)``.

        nan when fewer than two replicates, or when leaving one out leaves
        ``stat`` undefined (a replicate holds every decision of a kind).
        """
        k = self.replicates
        if k < 2:
            return math.nan
        values = []
        for r in range(k):
            left = tuple(
                int(c - p[r]) for c, p in zip(self.counts, self.per_replicate, strict=True)
            )
            v = stat(*left)
            if not math.isfinite(v):
                return math.nan
            values.append(v)
        arr = np.asarray(values)
        return math.sqrt((k - 1) / k * float(((arr - arr.mean()) ** 2).sum()))


def _difference(x1: int, n1: int, x2: int, n2: int) -> float:
    """The second share minus the first (nan without decisions)."""
    return x2 / n2 - x1 / n1 if n1 > 0 and n2 > 0 else math.nan


def _log_ratio(x1: int, n1: int, x2: int, n2: int) -> float:
    """The log of the first share over the second (nan where undefined)."""
    if min(x1, n1, x2, n2) <= 0:
        return math.nan
    return math.log((x1 / n1) / (x2 / n2))


def _category(name: str, code: int) -> str:
    """The words of one category of an attribute."""
    if name == "region":
        return f"region {code}"
    return attribute(name).labels[code]


def _members(
    table: pa.Table, attrs: list[Attribute], shape: tuple[int, ...]
) -> npt.NDArray[np.int64]:
    """Citizens per combination of the attributes' categories.

    ``table``: one row per citizen (the ``citizens`` table), or per cell with
    its citizens in a ``members`` column (``cell_members``).
    """
    index = np.zeros(table.num_rows, dtype=np.int64)
    for a in attrs:
        codes = np.asarray(table.column(a.name).to_numpy(), dtype=np.int64)
        if a.name == "children":
            codes = np.minimum(codes, CHILDREN_CAP)
        index = index * a.size + codes
    weights = (
        np.asarray(table.column("members").to_numpy(), dtype=np.float64)
        if "members" in table.column_names
        else None
    )
    return np.bincount(index, weights=weights, minlength=int(np.prod(shape))).astype(np.int64)


@dataclass(frozen=True)
class _Parsed:
    """A tally table's columns as numpy arrays (int64; the gate as strings)."""

    gate: npt.NDArray[Any]
    columns: dict[str, npt.NDArray[np.int64]]


def _counts(table: pa.Table) -> dict[str, npt.NDArray[np.int64]]:
    """Every column but the gate's as int64 arrays."""
    return {
        name: np.asarray(table.column(name).to_numpy(), dtype=np.int64)
        for name in table.column_names
        if name != "gate"
    }


def _parse(table: pa.Table) -> _Parsed:
    """The table's columns as arrays (converted once, then read by every frame)."""
    return _Parsed(np.asarray(table.column("gate").to_numpy(zero_copy_only=False)), _counts(table))


def _parse_disputes(table: pa.Table) -> _Parsed:
    """A ``dispute_cells`` or ``dispute_regions`` table read as decisions (:func:`disputes_by`)."""
    columns = _counts(table)
    upheld, rejected = columns["upheld"], columns["rejected"]
    none = np.zeros_like(upheld)
    columns.update(
        applied=upheld + rejected, selected=upheld, erroneous=none, overturned=none.copy()
    )
    return _Parsed(np.full(table.num_rows, DISPUTES, dtype=object), columns)


def disputes_by(
    table: pa.Table,
    by: str | tuple[str, ...],
    *,
    members: pa.Table | None = None,
    level: float = 0.95,
    min_decisions: int = MIN_DECISIONS,
) -> GroupFrame:
    """Disputes of erroneous records by the subgroups of one attribute, or of two.

    A :class:`GroupFrame` whose decisions are the disputes settled in the
    window and whose selections are those upheld (the erroneous record
    removed): ``ratio()`` is the lowest upheld share over the highest;
    ``by_group()`` also counts the disputes filed.

    Args:
        table: A run's ``dispute_cells`` table (or ``dispute_regions`` for ``region``).
        by: An attribute name, or two.
        members: The run's ``cell_members`` table, for each subgroup's members.
        level: The intervals' confidence level.
        min_decisions: Fewest settled disputes for a subgroup to be picked as best or worst.
    """
    names = _names(by, level)
    return _frame(_parse_disputes(table), DISPUTES, names, members, level, min_decisions)


def _names(by: str | tuple[str, ...], level: float) -> tuple[str, ...]:
    """The attribute names of ``by``, checked (one or two, different), and the level."""
    names = (by,) if isinstance(by, str) else tuple(by)
    if not 1 <= len(names) <= 2:
        raise ValueError(ERR_BY.format(by=by))
    if len(names) == 2 and names[0] == names[1]:
        raise ValueError(ERR_SAME.format(name=names[0]))
    if not 0.0 < level < 1.0:
        raise ValueError(ERR_LEVEL.format(level=level))
    return names


def harms_by(
    table: pa.Table,
    gate: str,
    by: str | tuple[str, ...],
    *,
    members: pa.Table | None = None,
    level: float = 0.95,
    min_decisions: int = MIN_DECISIONS,
) -> GroupFrame:
    """One gate's decisions by the subgroups of one attribute, or of two.

    Args:
        table: A run's ``gate_cells`` table (or ``gate_regions`` for ``region``).
        gate: The gate's name, as in the table ("mortgage").
        by: An attribute name ("income_decile") or two (("group", "income_decile")).
        members: The run's ``cell_members`` table (or its ``citizens`` table), for the
            members of each subgroup at the end of the run (optional).
        level: The intervals' confidence level.
        min_decisions: Fewest decisions for a subgroup to be picked as best or worst.
    """
    names = _names(by, level)
    return _frame(_parse(table), gate, names, members, level, min_decisions)


def _frame(
    parsed: _Parsed,
    gate: str,
    names: tuple[str, ...],
    members: pa.Table | None,
    level: float,
    min_decisions: int,
) -> GroupFrame:
    """:func:`harms_by` on a table already converted to arrays."""
    attrs = [_attribute(n, parsed) for n in names]
    rows = parsed.gate == gate
    if not rows.any():
        known = ", ".join(dict.fromkeys(str(g) for g in parsed.gate.tolist())) or "none"
        raise ValueError(ERR_GATE.format(gate=gate, known=known))
    shape = tuple(a.size for a in attrs)
    cells = int(np.prod(shape))
    index = np.zeros(int(rows.sum()), dtype=np.int64)
    for a in attrs:
        index = index * a.size + parsed.columns[a.name][rows]
    rep = parsed.columns["replicate"][rows]
    reps = int(rep.max()) + 1 if rep.size else 1
    sums = {
        name: np.bincount(index, weights=parsed.columns[name][rows], minlength=cells).astype(
            np.int64
        )
        for name in COUNTS
    }
    flat = rep * cells + index
    rep_applied, rep_selected = (
        np.bincount(flat, weights=parsed.columns[name][rows], minlength=reps * cells)
        .astype(np.int64)
        .reshape(reps, cells)
        for name in ("applied", "selected")
    )
    codes = np.stack(np.unravel_index(np.arange(cells), shape), axis=1).astype(np.int64)
    labels = tuple(
        " · ".join(a.labels[int(c)] for a, c in zip(attrs, combo, strict=True)) for combo in codes
    )
    heads = _members(members, attrs, shape) if members is not None else None
    filed = (
        np.bincount(index, weights=parsed.columns["filed"][rows], minlength=cells).astype(np.int64)
        if "filed" in parsed.columns
        else None
    )
    return GroupFrame(
        gate,
        names,
        labels,
        codes,
        sums["applied"],
        sums["selected"],
        sums["erroneous"],
        sums["overturned"],
        heads,
        rep_applied,
        rep_selected,
        level,
        min_decisions,
        filed,
    )


@dataclass(frozen=True)
class Intersection:
    """The worst-treated intersection of two attributes at a gate, against each attribute alone.

    ``worst``: the intersection with the lowest selection rate (among those
    with enough decisions) and its rate; ``versus``: its rate against the
    rest of each of its two single-attribute subgroups. The harm is
    intersectional (``beyond_either``) when both ratios' intervals lie wholly
    below 1: the intersection is treated worse than either attribute alone
    shows.
    """

    gate: str
    by: tuple[str, str]
    worst: str
    rate: Estimate
    versus: tuple[RestComparison, ...]

    @property
    def beyond_either(self) -> bool:
        """Whether the intersection is worse than each of its two subgroups' other members."""
        return bool(self.versus) and all(v.worse for v in self.versus)

    def words(self) -> str:
        """The finding in a sentence, with its numbers."""
        if not self.worst:
            words = " and ".join(attribute(n).words for n in self.by)
            return (
                f"{self.gate}: no intersection of {words} to compare (too few decisions, or "
                "everyone decided about shares one of the two attributes)."
            )
        parts = [
            f"{v.within}: rest {v.rest_rate:.1%}, ratio {v.ratio.value:.2f} "
            f"[{v.ratio.ci_low:.2f}, {v.ratio.ci_high:.2f}]"
            for v in self.versus
        ]
        verdict_words = (
            "worse than either attribute alone shows"
            if self.beyond_either
            else "not shown to be worse than both attributes alone show"
        )
        return (
            f"{self.gate}: the worst-treated intersection is {self.worst}, selected "
            f"{self.rate.value:.1%} [{self.rate.ci_low:.1%}, {self.rate.ci_high:.1%}]; "
            f"against the rest of {'; of '.join(parts)}: {verdict_words}."
        )


def intersectional(
    table: pa.Table,
    gate: str,
    a: str,
    b: str,
    *,
    level: float = 0.95,
    min_decisions: int = MIN_DECISIONS,
) -> Intersection:
    """Is the worst-treated intersection of ``a`` and ``b`` worse than either alone shows?

    The worst intersection is picked among every intersection with at least
    ``min_decisions`` decisions, so each comparison's interval is adjusted
    for that many candidates (Bonferroni) and widened by the replicate
    jackknife.
    """
    return _intersection(harms_by(table, gate, (a, b), level=level, min_decisions=min_decisions))


def _intersection(frame: GroupFrame) -> Intersection:
    """The worst-treated intersection of a frame of two attributes, against each alone."""
    gate, (a, b) = frame.gate, frame.by
    candidates = frame._candidates()
    ends = frame._extremes()
    decided = frame.applied > 0
    # An attribute with one category among those decided about has nothing to cross.
    single = [len(set(frame.codes[decided, i].tolist())) < 2 for i in (0, 1)]
    if ends is None or any(single):
        return Intersection(gate, (a, b), "", Estimate(math.nan, math.nan, math.nan), ())
    worst = ends[0]
    tests = int(candidates.size)
    versus = tuple(frame.rest_comparison(worst, i, tests=tests) for i in (0, 1))
    return Intersection(gate, (a, b), frame.labels[worst], frame.selection_rate(worst), versus)


def _gap(frame: GroupFrame) -> dict[str, object]:
    """The lowest and highest selection rates of a frame, their difference and ratios."""
    low, low_rate = frame.group_min()
    high, high_rate = frame.group_max()
    diff, ratio, adverse = frame.difference(), frame.ratio(), frame.adverse_ratio()
    return {
        "subgroups_compared": int(frame._candidates().size),
        "lowest": low,
        "lowest_rate": low_rate.value,
        "highest": high,
        "highest_rate": high_rate.value,
        "difference": diff.value,
        "difference_ci_low": diff.ci_low,
        "difference_ci_high": diff.ci_high,
        "ratio": ratio.value,
        "ratio_ci_low": ratio.ci_low,
        "ratio_ci_high": ratio.ci_high,
        "ratio_verdict": ratio.verdict,
        "adverse_ratio": adverse.value,
        "adverse_ratio_ci_low": adverse.ci_low,
        "adverse_ratio_ci_high": adverse.ci_high,
        "adverse_ratio_verdict": adverse.verdict,
    }


def _pairs_of(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def _plan(cells: _Parsed, regions: _Parsed | None) -> list[tuple[_Parsed, tuple[str, ...]]]:
    """Every breakdown and the table it is read from.

    Each attribute alone (region, from the regions table, after them), then
    every pair of attributes.
    """
    single = tuple(a.name for a in ATTRIBUTES)
    plan: list[tuple[_Parsed, tuple[str, ...]]] = [(cells, (n,)) for n in single]
    if regions is not None:
        plan.append((regions, ("region",)))
    return plan + [(cells, pair) for pair in _pairs_of(single)]


def subgroup_tables(
    cells: pa.Table,
    members: pa.Table | None = None,
    *,
    regions: pa.Table | None = None,
    day_from: int = -1,
    day_to: int = -1,
    level: float = 0.95,
    min_decisions: int = MIN_DECISIONS,
) -> dict[str, pa.Table]:
    """Every gate's harms by every attribute and every pair, as three run tables.

    ``gate_subgroups``: one row per gate, breakdown and subgroup (the rows of
    :meth:`GroupFrame.by_group`); ``gate_subgroup_gaps``: one row per gate and
    breakdown, the lowest and highest selection rates, their difference and
    ratio, and the adverse ratio, with intervals and verdicts;
    ``gate_intersections``: one row per gate and pair of attributes, the
    worst-treated intersection against each attribute alone
    (:func:`intersectional`). Region is broken down alone (from ``regions``,
    the ``gate_regions`` table), never in pairs. ``day_from``/``day_to``: the
    window the tallies cover, written on every row.
    """
    single = tuple(a.name for a in ATTRIBUTES)
    gates = list(dict.fromkeys(str(g) for g in cells.column("gate").to_pylist()))
    parsed_regions = _parse(regions) if regions is not None and regions.num_rows else None
    plan = _plan(_parse(cells), parsed_regions)
    rows: list[dict[str, object]] = []
    gaps: list[dict[str, object]] = []
    crossings: list[dict[str, object]] = []
    for gate in gates:
        pairs: dict[tuple[str, ...], GroupFrame] = {}
        for table, by in plan:
            heads = members if by != ("region",) else None
            frame = _frame(table, gate, by, heads, level, min_decisions)
            if len(by) == 2:
                pairs[by] = frame
            words = " × ".join(_attribute(n, table).words for n in by)
            for row in frame.rows():
                if row["applications"] == 0 and not (row["members"] or 0):
                    continue  # no such citizen: not a subgroup of this nation
                rows.append({"gate": gate, "by": words, **row})
            gaps.append({"gate": gate, "by": words, **_gap(frame)})
        for a, b in _pairs_of(single):
            found = _intersection(pairs[(a, b)])
            record: dict[str, object] = {
                "gate": gate,
                "by": f"{attribute(a).words} × {attribute(b).words}",
                "worst": found.worst,
                "rate": found.rate.value,
                "rate_ci_low": found.rate.ci_low,
                "rate_ci_high": found.rate.ci_high,
            }
            for k, side in enumerate(("first", "second")):
                v = found.versus[k] if found.versus else None
                record[f"within_{side}"] = v.within if v else ""
                record[f"rest_rate_{side}"] = v.rest_rate if v else math.nan
                record[f"ratio_{side}"] = v.ratio.value if v else math.nan
                record[f"ratio_{side}_ci_low"] = v.ratio.ci_low if v else math.nan
                record[f"ratio_{side}_ci_high"] = v.ratio.ci_high if v else math.nan
            record["beyond_either"] = found.beyond_either
            record["words"] = found.words()
            crossings.append(record)

    return {
        "gate_subgroups": _arrow(rows, day_from, day_to, ("gate", "by")),
        "gate_subgroup_gaps": _arrow(gaps, day_from, day_to, ("gate", "by")),
        "gate_intersections": _arrow(crossings, day_from, day_to, ("gate", "by")),
    }


def _arrow(
    records: list[dict[str, object]], day_from: int, day_to: int, columns: tuple[str, ...]
) -> pa.Table:
    """Rows as a run table, with the window they cover (no rows: the named columns only)."""
    out = pd.DataFrame(records) if records else pd.DataFrame({c: [] for c in columns})
    out["day_from"], out["day_to"] = day_from, day_to
    return pa.Table.from_pandas(out, preserve_index=False)


def dispute_tables(
    cells: pa.Table,
    members: pa.Table | None = None,
    *,
    regions: pa.Table | None = None,
    day_from: int = -1,
    day_to: int = -1,
    level: float = 0.95,
    min_decisions: int = MIN_DECISIONS,
) -> dict[str, pa.Table]:
    """Disputes' outcomes by every attribute and every pair, as two run tables.

    ``dispute_subgroups``: one row per breakdown and subgroup (the rows of
    :func:`disputes_by`'s ``by_group``: filed, settled, upheld share with its
    interval, filed per member); ``dispute_subgroup_gaps``: one row per
    breakdown, the lowest and highest upheld shares, their difference and
    ratio (and the ratio of rejected shares), with simultaneous intervals and
    verdicts. ``cells``/``regions``: the run's ``dispute_cells`` and
    ``dispute_regions`` tables.
    """
    rows: list[dict[str, object]] = []
    gaps: list[dict[str, object]] = []
    if cells.num_rows:
        by_region = regions is not None and regions.num_rows
        plan = _plan(_parse_disputes(cells), _parse_disputes(regions) if by_region else None)
        for table, by in plan:
            heads = members if by != ("region",) else None
            frame = _frame(table, DISPUTES, by, heads, level, min_decisions)
            words = " × ".join(_attribute(n, table).words for n in by)
            for row in frame.rows():
                if not (row["disputes_filed"] or row["disputes_settled"] or row["members"]):
                    continue  # no such citizen: not a subgroup of this nation
                rows.append({"by": words, **row})
            gaps.append({"by": words, **_gap(frame)})
    return {
        "dispute_subgroups": _arrow(rows, day_from, day_to, ("by", "subgroup")),
        "dispute_subgroup_gaps": _arrow(gaps, day_from, day_to, ("by",)),
    }
