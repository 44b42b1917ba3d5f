"""Disparity at a gate between two groups: rates, ratios, intervals, tests and verdicts.

A gate's decisions over the measurement window are counted per group
(:func:`gate_counts`) and judged twice (:class:`GateDisparity`):

* **Approvals: the four-fifths rule.** The adverse-impact ratio is the lowest
  group's selection rate divided by the highest's (29 CFR 1607.4(D)); it fails
  below 0.8.
* **Adverse outcomes** (denials, dismissals, refused documents, travel bans):
  the *adverse-outcome ratio* is the minority's adverse rate divided by the
  majority's, among applicants (``adverse_outcome_ratio``) and per member of
  the whole group (``adverse_outcome_ratio_population``: adverse decisions per
  citizen of the group, since who applies depends on the regime). Its line
  mirrors the four-fifths rule: a group sanctioned more than 1.25 (= 1 / 0.8)
  times as often as the other fails, in either direction.

Every rate carries a 95% interval (Wilson score for a share of applicants, the
Poisson score interval for decisions per member), every ratio a 95% Katz log
interval, the parity difference a Newcombe hybrid score interval. Tests:
Fisher's exact test when an expected cell of the 2 x 2 table is below 5, the
pooled two-proportion z-test otherwise (the same table decides approvals and
denials); for per-member rates the conditional binomial test (given the total,
the minority's share of adverse decisions against its share of members).

Verdicts use the interval, not the point: **fail** when the interval lies
wholly past the line, **pass** when it lies wholly inside the band
[0.8, 1.25], **inconclusive** when it straddles a line, and **not applicable**
when a group had no decisions (no ratio, no verdict). Nothing here loops over
citizens: the inputs are a few counts per gate and group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from socialscore.measures.intervals import t_quantile
from socialscore.measures.statistics import FOUR_FIFTHS
from socialscore.scenario.window import Window

__all__ = [
    "ADVERSE_LINE",
    "FOUR_FIFTHS",
    "MONTH_DAYS",
    "Estimate",
    "GateDisparity",
    "Verdict",
    "binomial_test_p",
    "fisher_exact_p",
    "gate_counts",
    "gate_months",
    "katz_ratio_interval",
    "newcombe_difference_interval",
    "poisson_rate_interval",
    "rate_ratio_interval",
    "two_proportion_p",
    "verdict",
    "verdict_code",
    "verdict_from_code",
    "verdict_words",
    "wilson_interval",
    "worst_of",
]

Verdict = Literal["pass", "fail", "inconclusive", "not applicable"]

#: The line of the adverse-outcome ratio: one group sanctioned 1.25 (= 1 / 0.8) times as often.
ADVERSE_LINE: Final[float] = 1.0 / FOUR_FIFTHS
#: Two-sided 95% normal quantile.
Z95: Final[float] = 1.959963984540054
#: Length of a month in the monthly gate table.
MONTH_DAYS: Final[int] = 30
#: Verdicts as numbers in the metrics table (not applicable: nan).
VERDICT_CODES: Final[dict[str, float]] = {"pass": 1.0, "inconclusive": 0.5, "fail": 0.0}
#: Largest count for which the exact tests enumerate their distribution.
EXACT_LIMIT: Final[int] = 2_000_000
#: Smallest expected cell for the z-test; below it, Fisher's exact test.
MIN_EXPECTED: Final[float] = 5.0
#: Relative tolerance when comparing probabilities in a two-sided exact test (as R does).
_REL_ERR: Final[float] = 1.0 + 1e-7
#: Index of the focal (minority) and reference (majority) group.
MINORITY, MAJORITY = 1, 0

ERR_COUNTS: Final[str] = "need 0 <= {x} <= {n} for a count of {n} trials"
ERR_GROUPS: Final[str] = "a gate disparity needs counts for exactly two groups, got {shape}"
ERR_NEGATIVE: Final[str] = "{name} must be non-negative counts, got {values}"
ERR_LINE: Final[str] = "line must lie between 0 and 1, got {line}"
ERR_CODE: Final[str] = "unknown verdict code {code}"

#: Words and a symbol for each verdict, shared by the report, the CLI and the audit.
_WORDS: Final[dict[str, str]] = {
    "pass": "✓ passes",
    "fail": "✕ fails",
    "inconclusive": "? inconclusive: the interval straddles the line",
    "not applicable": "– not applicable",
}


# -- intervals ------------------------------------------------------------------------------


def wilson_interval(x: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the share ``x / n``; (nan, nan) when ``n == 0``."""
    if not 0 <= x <= n:
        raise ValueError(ERR_COUNTS.format(x=x, n=n))
    if n == 0:
        return float("nan"), float("nan")
    p = x / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_rate_interval(x: int, exposure: int, *, z: float = Z95) -> tuple[float, float]:
    """Score interval of a Poisson rate ``x / exposure`` (events per member).

    Solves ``(x - m)^2 / m = z^2`` for the expected count ``m``; unlike a share,
    the rate may exceed 1 (a citizen can be refused travel several times).
    """
    if x < 0 or exposure < 0:
        raise ValueError(ERR_COUNTS.format(x=x, n=exposure))
    if exposure == 0:
        return float("nan"), float("nan")
    z2 = z * z
    root = z * math.sqrt(x + z2 / 4)
    return max(0.0, x + z2 / 2 - root) / exposure, (x + z2 / 2 + root) / exposure


def _katz(x1: float, n1: float, x2: float, n2: float, var: float, z: float) -> tuple[float, float]:
    ratio = (x1 / n1) / (x2 / n2)
    half = z * math.sqrt(max(var, 0.0))
    return ratio * math.exp(-half), ratio * math.exp(half)


def katz_ratio_interval(
    x1: int, n1: int, x2: int, n2: int, *, z: float = Z95
) -> tuple[float, float]:
    """Katz log interval of the ratio of shares ``(x1 / n1) / (x2 / n2)``.

    When a cell of the 2 x 2 table is empty (a count of 0, or all ``n``), 0.5 is
    added to every cell (Haldane-Anscombe) for the variance, so that 5 of 5
    approved in each group is not taken as certainty. A zero count leaves its
    side of the interval open (0, or inf for a zero denominator). (nan, nan)
    when a group has no trials or both counts are zero.
    """
    for x, n in ((x1, n1), (x2, n2)):
        if not 0 <= x <= n:
            raise ValueError(ERR_COUNTS.format(x=x, n=n))
    if n1 == 0 or n2 == 0 or (x1 == 0 and x2 == 0):
        return float("nan"), float("nan")
    a, b, c, d = float(x1), float(n1), float(x2), float(n2)
    if 0 in (x1, n1 - x1, x2, n2 - x2):
        a, b, c, d = a + 0.5, b + 1.0, c + 0.5, d + 1.0
    var = 1 / a - 1 / b + 1 / c - 1 / d
    if x1 > 0 and x2 > 0:  # centred on the ratio itself
        a, b, c, d = float(x1), float(n1), float(x2), float(n2)
    return _open_at_zero(_katz(a, b, c, d, var, z), x1, x2)


def _open_at_zero(ci: tuple[float, float], x1: int, x2: int) -> tuple[float, float]:
    """A zero count leaves its side open: a zero numerator reaches 0, a zero denominator inf.

    The point ratio (0 or inf) then lies inside its interval; the other bound is
    the corrected one.
    """
    return (0.0 if x1 == 0 else ci[0]), (math.inf if x2 == 0 else ci[1])


def rate_ratio_interval(
    x1: int, e1: int, x2: int, e2: int, *, z: float = Z95
) -> tuple[float, float]:
    """Log interval of the ratio of Poisson rates ``(x1 / e1) / (x2 / e2)``.

    The variance of the log ratio is ``1 / x1 + 1 / x2`` (0.5 added to both counts
    when one is zero); (nan, nan) when an exposure is zero or both counts are zero.
    """
    if min(x1, e1, x2, e2) < 0:
        raise ValueError(ERR_COUNTS.format(x=min(x1, x2), n=min(e1, e2)))
    if e1 == 0 or e2 == 0 or (x1 == 0 and x2 == 0):
        return float("nan"), float("nan")
    a, c = float(x1), float(x2)
    if x1 == 0 or x2 == 0:
        a, c = a + 0.5, c + 0.5
    return _open_at_zero(_katz(a, float(e1), c, float(e2), 1 / a + 1 / c, z), x1, x2)


def newcombe_difference_interval(
    x1: int, n1: int, x2: int, n2: int, *, z: float = Z95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``x1 / n1 - x2 / n2`` (from two Wilson intervals)."""
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z=z)
    l2, u2 = wilson_interval(x2, n2, z=z)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


# -- tests ----------------------------------------------------------------------------------


def _log_comb(n: int, kmax: int) -> npt.NDArray[np.float64]:
    """``log C(n, k)`` for ``k = 0 .. kmax`` (``kmax <= n``), by a running sum."""
    k = np.arange(1, kmax + 1, dtype=np.float64)
    out = np.zeros(kmax + 1)
    out[1:] = np.cumsum(np.log(n - k + 1) - np.log(k))
    return out


def _two_sided(logpmf: npt.NDArray[np.float64], observed: int) -> float:
    """Sum of the probabilities no larger than the observed one's."""
    top = logpmf.max()
    pmf = np.exp(logpmf - top)
    pmf /= pmf.sum()
    return float(min(1.0, pmf[pmf <= pmf[observed] * _REL_ERR].sum()))


def _normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def binomial_test_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test of ``k`` successes in ``n`` trials against ``p``.

    Enumerates the distribution up to :data:`EXACT_LIMIT` trials, beyond which
    the score test's normal approximation is exact to many digits.
    """
    if not 0 <= k <= n:
        raise ValueError(ERR_COUNTS.format(x=k, n=n))
    if n == 0 or p <= 0.0 or p >= 1.0:
        return 1.0 if n == 0 or (p <= 0.0 and k == 0) or (p >= 1.0 and k == n) else 0.0
    if n > EXACT_LIMIT:
        return _normal_p((k - n * p) / math.sqrt(n * p * (1 - p)))
    j = np.arange(n + 1, dtype=np.float64)
    logpmf = _log_comb(n, n) + j * math.log(p) + (n - j) * math.log1p(-p)
    return _two_sided(logpmf, k)


def fisher_exact_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact test of the 2 x 2 table (x1 of n1 against x2 of n2)."""
    for x, n in ((x1, n1), (x2, n2)):
        if not 0 <= x <= n:
            raise ValueError(ERR_COUNTS.format(x=x, n=n))
    total = x1 + x2
    lo, hi = max(0, total - n2), min(total, n1)
    if hi - lo > EXACT_LIMIT:
        return _pooled_z_p(x1, n1, x2, n2)
    k = np.arange(lo, hi + 1)
    logpmf = _log_comb(n1, hi)[k] + _log_comb(n2, total - lo)[total - k]
    return _two_sided(logpmf, x1 - lo)


def _pooled_z_p(x1: int, n1: int, x2: int, n2: int) -> float:
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0.0:
        return 1.0
    return _normal_p((x1 / n1 - x2 / n2) / se)


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided test of equal shares: Fisher exact when an expected cell is below 5, else z.

    nan when a group has no trials.
    """
    if n1 == 0 or n2 == 0:
        return float("nan")
    total, n = x1 + x2, n1 + n2
    expected = min(n1, n2) * min(total, n - total) / n
    if expected < MIN_EXPECTED:
        return fisher_exact_p(x1, n1, x2, n2)
    return _pooled_z_p(x1, n1, x2, n2)


# -- verdicts -------------------------------------------------------------------------------


def verdict(value: float, ci_low: float, ci_high: float, *, line: float = FOUR_FIFTHS) -> Verdict:
    """The three-way verdict of a ratio whose acceptable band is ``[line, 1 / line]``.

    Fails when the whole interval lies past a line (below ``line`` or above
    ``1 / line``), passes when it lies wholly inside the band, and is
    inconclusive when it straddles a line. Not applicable when the ratio is
    undefined (nan). A line of 0 passes everything, a line of 1 admits only
    equal rates.
    """
    if not 0.0 <= line <= 1.0:
        raise ValueError(ERR_LINE.format(line=line))
    if any(math.isnan(v) for v in (value, ci_low, ci_high)):
        return "not applicable"
    upper = math.inf if line == 0.0 else 1.0 / line
    if ci_high < line or ci_low > upper:
        return "fail"
    if ci_low >= line and ci_high <= upper:
        return "pass"
    return "inconclusive"


def verdict_code(v: Verdict) -> float:
    """The verdict as a number for the metrics table (nan: not applicable)."""
    return VERDICT_CODES.get(v, float("nan"))


def verdict_from_code(code: float) -> Verdict:
    """The verdict a metrics-table code stands for."""
    if math.isnan(code):
        return "not applicable"
    for name, value in VERDICT_CODES.items():
        if value == code:
            return name  # type: ignore[return-value]
    raise ValueError(ERR_CODE.format(code=code))


def worst_of(verdicts: list[Verdict]) -> Verdict:
    """One verdict from several measures of the same gate: any fail fails, all passes pass.

    Measures that are not applicable are left out; when all are, not applicable.
    """
    kept = [v for v in verdicts if v != "not applicable"]
    if not kept:
        return "not applicable"
    if "fail" in kept:
        return "fail"
    return "pass" if all(v == "pass" for v in kept) else "inconclusive"


def verdict_words(v: Verdict) -> str:
    """The verdict with its symbol, for tables: "✕ fails", "? inconclusive: ..."."""
    return _WORDS[v]


# -- one gate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A measured value with its 95% interval, its test and its verdict."""

    value: float
    ci_low: float
    ci_high: float
    p_value: float = float("nan")
    verdict: Verdict = "not applicable"

    @property
    def ci(self) -> tuple[float, float]:
        """The interval as a pair."""
        return self.ci_low, self.ci_high


def _counts(x: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    arr = np.asarray(x, dtype=np.int64).copy()
    if arr.shape != (2,):
        raise ValueError(ERR_GROUPS.format(shape=arr.shape))
    if (arr < 0).any():
        raise ValueError(ERR_NEGATIVE.format(name=name, values=arr.tolist()))
    arr.setflags(write=False)
    return arr


#: Per replicate of citizens and group: decisions, favourable decisions, members.
Replicates = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


@dataclass(frozen=True)
class GateDisparity:
    """Decisions at one gate for two groups (entry 0 majority, 1 minority) and their members.

    Attributes:
        applied: Decisions taken for each group.
        selected: Decisions that went the citizen's way (approval, retention, ...).
        members: Citizens (or companies) in each group: the per-member denominator.
    """

    applied: npt.NDArray[np.int64]
    selected: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64]
    #: The same counts per replicate of citizens, ``[replicate, group]`` each (applied,
    #: selected, members), whose sums are the counts above; None: decisions independent.
    replicates: Replicates | None = None

    def __post_init__(self) -> None:
        """Validate and freeze the counts."""
        applied = _counts(self.applied, "applied")
        selected = _counts(self.selected, "selected")
        if (selected > applied).any():
            raise ValueError(ERR_COUNTS.format(x=selected.tolist(), n=applied.tolist()))
        object.__setattr__(self, "applied", applied)
        object.__setattr__(self, "selected", selected)
        object.__setattr__(self, "members", _counts(self.members, "members"))

    @property
    def adverse(self) -> npt.NDArray[np.int64]:
        """Adverse decisions (denials, dismissals, refusals) per group."""
        return self.applied - self.selected

    @property
    def decided_in_both(self) -> bool:
        """True when both groups had at least one decision."""
        return bool((self.applied > 0).all())

    def selection_rate(self, g: int) -> Estimate:
        """Share of group ``g``'s decisions that went its way, with its Wilson interval."""
        x, n = int(self.selected[g]), int(self.applied[g])
        return Estimate(x / n if n else float("nan"), *wilson_interval(x, n))

    def adverse_rate(self, g: int) -> Estimate:
        """Share of group ``g``'s decisions that went against it, with its Wilson interval."""
        x, n = int(self.adverse[g]), int(self.applied[g])
        return Estimate(x / n if n else float("nan"), *wilson_interval(x, n))

    def adverse_rate_per_member(self, g: int) -> Estimate:
        """Adverse decisions per member of group ``g``, with its Poisson score interval."""
        x, n = int(self.adverse[g]), int(self.members[g])
        return Estimate(x / n if n else float("nan"), *poisson_rate_interval(x, n))

    def _extremes(self) -> tuple[int, int]:
        """Groups with the lowest and highest selection rate (ties: majority lowest)."""
        rates = self.selected / self.applied
        return (MINORITY, MAJORITY) if rates[MINORITY] < rates[MAJORITY] else (MAJORITY, MINORITY)

    def _extreme_counts(self) -> tuple[int, int, int, int]:
        """Selections and decisions of the lowest-rate group, then of the highest."""
        lo, hi = self._extremes()
        return (
            int(self.selected[lo]),
            int(self.applied[lo]),
            int(self.selected[hi]),
            int(self.applied[hi]),
        )

    def test_p(self) -> float:
        """p-value of equal shares among applicants (approvals and denials alike)."""
        if not self.decided_in_both:
            return float("nan")
        return two_proportion_p(
            int(self.adverse[MINORITY]),
            int(self.applied[MINORITY]),
            int(self.adverse[MAJORITY]),
            int(self.applied[MAJORITY]),
        )

    def impact_ratio(self) -> Estimate:
        """Adverse-impact ratio: lowest selection rate over the highest, judged at 0.8."""
        if not self.decided_in_both:
            return Estimate(float("nan"), float("nan"), float("nan"))
        s_lo, a_lo, s_hi, a_hi = self._extreme_counts()
        if s_hi == 0:  # nobody selected in either group: 0 / 0
            return Estimate(float("nan"), float("nan"), float("nan"), self.test_p())
        value = (s_lo / a_lo) / (s_hi / a_hi)
        lo_ci, hi_ci = katz_ratio_interval(s_lo, a_lo, s_hi, a_hi)
        return Estimate(value, lo_ci, hi_ci, self.test_p(), verdict(value, lo_ci, hi_ci))

    def passes_four_fifths(self) -> float:
        """The point four-fifths rule in exact integers: 1 passes, 0 fails, nan not applicable."""
        ratio = self.impact_ratio()
        if math.isnan(ratio.value):
            return float("nan")
        s_lo, a_lo, s_hi, a_hi = self._extreme_counts()
        return 1.0 if 5 * s_lo * a_hi >= 4 * s_hi * a_lo else 0.0

    def parity_difference(self) -> Estimate:
        """Highest selection rate minus the lowest, with Newcombe's interval."""
        if not self.decided_in_both:
            return Estimate(float("nan"), float("nan"), float("nan"))
        s_lo, a_lo, s_hi, a_hi = self._extreme_counts()
        return Estimate(
            s_hi / a_hi - s_lo / a_lo,
            *newcombe_difference_interval(s_hi, a_hi, s_lo, a_lo),
            self.test_p(),
        )

    def adverse_outcome_ratio(self) -> Estimate:
        """Minority's adverse rate over the majority's, among applicants, judged at 1.25."""
        if not self.decided_in_both:
            return Estimate(float("nan"), float("nan"), float("nan"))
        x1, n1 = int(self.adverse[MINORITY]), int(self.applied[MINORITY])
        x2, n2 = int(self.adverse[MAJORITY]), int(self.applied[MAJORITY])
        return self._ratio(x1 / n1, x2 / n2, katz_ratio_interval(x1, n1, x2, n2), self.test_p())

    def adverse_outcome_ratio_population(self) -> Estimate:
        """Minority's adverse decisions per member over the majority's, judged at 1.25."""
        if not self.decided_in_both or not (self.members > 0).all():
            return Estimate(float("nan"), float("nan"), float("nan"))
        x1, e1 = int(self.adverse[MINORITY]), int(self.members[MINORITY])
        x2, e2 = int(self.adverse[MAJORITY]), int(self.members[MAJORITY])
        p = binomial_test_p(x1, x1 + x2, e1 / (e1 + e2)) if x1 + x2 else float("nan")
        return self._ratio(x1 / e1, x2 / e2, rate_ratio_interval(x1, e1, x2, e2), p)

    def _clustered(self, estimate: Estimate, measure: str) -> Estimate:
        """Widen a ratio's interval for repeated decisions about the same people.

        Each replicate of citizens is left out in turn (a delete-one-group
        jackknife over replicates, which keeps every person's decisions
        together); when the jackknife's 95% half-width of the log ratio
        (Student t on replicates − 1 degrees of freedom) is wider than the
        interval's, the interval becomes log ratio ± that half-width and the
        verdict is taken again from it.
        """
        if self.replicates is None or not math.isfinite(estimate.value) or estimate.value <= 0:
            return estimate
        applied, selected, members = self.replicates
        k = applied.shape[0]
        logs = []
        for r in range(k):
            keep = np.arange(k) != r
            part = GateDisparity(
                applied[keep].sum(axis=0), selected[keep].sum(axis=0), members[keep].sum(axis=0)
            )
            value = getattr(part, measure)().value
            if not math.isfinite(value) or value <= 0:
                return estimate  # a replicate holds every decision of a kind: no jackknife
            logs.append(math.log(value))
        spread = np.asarray(logs)
        se = math.sqrt((k - 1) / k * float(((spread - spread.mean()) ** 2).sum()))
        half = t_quantile(0.975, k - 1) * se
        centre = math.log(estimate.value)
        low, high = estimate.ci_low, estimate.ci_high
        own = (
            max(centre - math.log(low), math.log(high) - centre)
            if low > 0 and math.isfinite(high)
            else math.inf
        )
        if half <= own:
            return estimate
        low, high = math.exp(centre - half), math.exp(centre + half)
        judged = verdict(estimate.value, low, high)
        return Estimate(estimate.value, low, high, estimate.p_value, judged)

    @staticmethod
    def _ratio(r1: float, r2: float, ci: tuple[float, float], p: float) -> Estimate:
        if r1 == 0.0 and r2 == 0.0:  # no adverse decision in either group: 0 / 0
            return Estimate(float("nan"), float("nan"), float("nan"), p)
        value = r1 / r2 if r2 > 0 else float("inf")
        return Estimate(value, *ci, p, verdict(value, *ci))

    def metric_rows(
        self, labels: tuple[str, ...]
    ) -> list[tuple[str, float, tuple[float, float] | None, str]]:
        """Every gate measure as (metric, value, 95% interval or None, group label) rows."""
        rows: list[tuple[str, float, tuple[float, float] | None, str]] = []
        for g, label in enumerate(labels):
            rows.append(("applications", float(self.applied[g]), None, label))
            rows.append(("selection_rate", *_vci(self.selection_rate(g)), label))
            rows.append(("adverse_rate", *_vci(self.adverse_rate(g)), label))
            rows.append(("adverse_rate_per_member", *_vci(self.adverse_rate_per_member(g)), label))
        impact = self._clustered(self.impact_ratio(), "impact_ratio")
        outcome = self._clustered(self.adverse_outcome_ratio(), "adverse_outcome_ratio")
        population = self._clustered(
            self.adverse_outcome_ratio_population(), "adverse_outcome_ratio_population"
        )
        rows += [
            ("adverse_impact_ratio", *_vci(impact), "all"),
            ("four_fifths_pass", self.passes_four_fifths(), None, "all"),
            ("four_fifths_verdict", verdict_code(impact.verdict), None, "all"),
            ("demographic_parity_difference", *_vci(self.parity_difference()), "all"),
            ("applicants_p_value", self.test_p(), None, "all"),
            ("adverse_outcome_ratio", *_vci(outcome), "all"),
            ("adverse_outcome_verdict", verdict_code(outcome.verdict), None, "all"),
            ("adverse_outcome_ratio_population", *_vci(population), "all"),
            ("adverse_outcome_population_p_value", population.p_value, None, "all"),
            ("adverse_outcome_population_verdict", verdict_code(population.verdict), None, "all"),
        ]
        return rows


def _vci(e: Estimate) -> tuple[float, tuple[float, float] | None]:
    has = not (math.isnan(e.ci_low) or math.isnan(e.ci_high))
    return e.value, (e.ci if has else None)


# -- from the run's tables -------------------------------------------------------------------


_COLUMNS: Final[tuple[str, ...]] = ("applied", "selected", "erroneous_denials")


def _tallies(
    daily_gates: pa.Table, labels: tuple[str, ...]
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Gate names (in table order), and per row: its day, its (gate, group) cell, its tallies.

    Summing the tallies of the rows of chosen days into their cells gives the
    counts of those days.
    """
    gate_col = daily_gates.column("gate")
    names = [str(n) for n in dict.fromkeys(gate_col.to_pylist())]
    gi = pc.index_in(gate_col, value_set=pa.array(names, pa.string())).to_numpy()
    li = pc.index_in(daily_gates.column("group"), value_set=pa.array(labels, pa.string()))
    li = li.to_numpy(zero_copy_only=False)
    day = np.asarray(daily_gates.column("day").to_numpy(), dtype=np.int64)
    values = np.stack([np.asarray(daily_gates.column(c).to_numpy()) for c in _COLUMNS], axis=1)
    return names, day, np.stack([gi, li.astype(np.int64)], axis=1), values.astype(np.int64)


def _sum(
    names: list[str],
    n_groups: int,
    cells: npt.NDArray[np.int64],
    values: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
) -> dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]]:
    acc = np.zeros((len(names), n_groups, len(_COLUMNS)), np.int64)
    np.add.at(acc, (cells[keep, 0], cells[keep, 1]), values[keep])
    return {
        name: (acc[k, :, 0].copy(), acc[k, :, 1].copy(), int(acc[k, :, 2].sum()))
        for k, name in enumerate(names)
    }


def gate_counts(
    daily_gates: pa.Table, labels: tuple[str, ...], window: Window
) -> dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]]:
    """Per gate (in table order): decisions, selections per group and erroneous denials.

    Each is summed over the days of ``window`` (``daily_gates`` has a ``day`` column).
    """
    names, day, cells, values = _tallies(daily_gates, labels)
    return _sum(names, len(labels), cells, values, window.mask(day))


def gate_replicates(
    table: pa.Table,
    labels: tuple[str, ...],
    window: Window,
    group: npt.NDArray[np.integer],
    replicates: int,
) -> dict[str, Replicates]:
    """Per citizen gate: decisions, selections and members per replicate and group.

    ``table`` is a run's ``gate_replicates`` table (day, gate, replicate,
    group, applied, selected), summed over the days of ``window``; ``group``
    is each citizen's group, whose replicate is its id modulo ``replicates``.
    """
    g = len(labels)
    members = np.zeros((replicates, g), dtype=np.int64)
    for r in range(replicates):
        members[r] = np.bincount(group[r::replicates], minlength=g)[:g]
    day = np.asarray(table.column("day").to_numpy())
    inside = window.mask(day)
    gates = np.asarray(table.column("gate").to_numpy(zero_copy_only=False))[inside]
    rep = np.asarray(table.column("replicate").to_numpy())[inside].astype(np.int64)
    grp_names = np.asarray(table.column("group").to_numpy(zero_copy_only=False))[inside]
    grp = np.array([labels.index(x) for x in grp_names], dtype=np.int64)
    applied = np.asarray(table.column("applied").to_numpy())[inside]
    selected = np.asarray(table.column("selected").to_numpy())[inside]
    out: dict[str, Replicates] = {}
    for gate in dict.fromkeys(gates.tolist()):
        sel = gates == gate
        a = np.zeros((replicates, g), dtype=np.int64)
        s = np.zeros((replicates, g), dtype=np.int64)
        np.add.at(a, (rep[sel], grp[sel]), applied[sel])
        np.add.at(s, (rep[sel], grp[sel]), selected[sel])
        out[str(gate)] = (a, s, members)
    return out


def gate_months(daily_gates: pa.Table, labels: tuple[str, ...], *, days: int) -> pa.Table:
    """Each gate's adverse-impact and adverse-outcome ratios by 30-day month, with intervals.

    One row per gate, month and measure: ``gate``, ``month``, ``day_from``,
    ``day_to``, ``measure`` (``adverse_impact_ratio`` or ``adverse_outcome_ratio``),
    ``value``, ``ci_low``, ``ci_high``, ``verdict`` (words) and ``decisions``.
    Both ratios are among applicants: a month's members are not needed.
    """
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "gate",
            "month",
            "day_from",
            "day_to",
            "measure",
            "value",
            "ci_low",
            "ci_high",
            "verdict",
            "decisions",
        )
    }
    names, day, cells, values = _tallies(daily_gates, labels)
    for month, first in enumerate(range(0, days, MONTH_DAYS)):
        last = min(first + MONTH_DAYS, days) - 1
        counts = _sum(names, len(labels), cells, values, (day >= first) & (day <= last))
        for gate, (applied, selected, _) in counts.items():
            if applied.sum() == 0:
                continue
            d = GateDisparity(applied, selected, np.ones(2, np.int64))  # members unused
            for measure, e in (
                ("adverse_impact_ratio", d.impact_ratio()),
                ("adverse_outcome_ratio", d.adverse_outcome_ratio()),
            ):
                cols["gate"].append(gate)
                cols["month"].append(month)
                cols["day_from"].append(first)
                cols["day_to"].append(last)
                cols["measure"].append(measure)
                cols["value"].append(e.value)
                cols["ci_low"].append(e.ci_low)
                cols["ci_high"].append(e.ci_high)
                cols["verdict"].append(e.verdict)
                cols["decisions"].append(int(applied.sum()))
    return pa.table(
        {
            "gate": pa.array(cols["gate"], pa.string()),
            "month": pa.array(cols["month"], pa.int32()),
            "day_from": pa.array(cols["day_from"], pa.int32()),
            "day_to": pa.array(cols["day_to"], pa.int32()),
            "measure": pa.array(cols["measure"], pa.string()),
            "value": pa.array(cols["value"], pa.float64()),
            "ci_low": pa.array(cols["ci_low"], pa.float64()),
            "ci_high": pa.array(cols["ci_high"], pa.float64()),
            "verdict": pa.array(cols["verdict"], pa.string()),
            "decisions": pa.array(cols["decisions"], pa.int64()),
        }
    )
