"""A regime checked against the law as testable properties, and its measured harms.

Legal checks read the scenario (what each gate reads, each rule's severity,
expiry, disputes, reasons, human review); guilt by association is checked by
running: the records of a few citizens are made worse and the scores of their
contacts are compared with the unperturbed run on the same random numbers.
Harm flags read the regime's run and its no-scoring counterfactual.

Each check gives a verdict (``pass``, ``fail``, ``inconclusive`` or ``not applicable``) and the
reason in words. The laws checked are entries of docs/sources.md (eu-ai-act-art5,
fcra-disputes, fcra-expiry, ecoa-reasons, gdpr-art22, four-fifths).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from socialscore.analysis import chilling, disparity, harms
from socialscore.analysis.decomposition import Decomposition
from socialscore.measures import statistics as metrics
from socialscore.scenario.schema import Gates, NetworkSettings, Scenario
from socialscore.scenario.vocabulary import (
    CITIZEN_EVENTS,
    CITIZEN_GATES,
    COMPANY_GATES,
    GATE_BY_NAME,
    NETWORK_DOMAIN,
)
from socialscore.scenario.window import measurement_window
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.layout import layout
from socialscore.simulation.recorder import Recorder
from socialscore.system import display

Verdict = Literal["pass", "fail", "inconclusive", "not applicable"]

LAW_CONTEXT = "EU AI Act Art. 5(1)(c)(i)"
LAW_PROPORTION = "EU AI Act Art. 5(1)(c)(ii)"
LAW_ASSOCIATION = "EU AI Act Art. 5(1)(c): guilt by association"
LAW_REASONS = "ECOA / Reg. B: reasons for adverse decisions"
LAW_DISPUTES = "FCRA: disputes resolved within 30 days"
LAW_EXPIRY = "FCRA: negative items expire within 7 years"
LAW_REVIEW = "GDPR Art. 22: human review"
HARM_IMPACT = "Measured: adverse impact (four-fifths rule)"
HARM_ADVERSE = "Measured: disparity of adverse outcomes (denials, sanctions)"
HARM_PERSISTENCE = "Measured: bottom-decile persistence"
HARM_CHILLING = "Measured: chilling of legal behaviour"

#: Seven years, the credit-reporting limit for most negative items.
SEVEN_YEARS_DAYS = 2555

#: Gates whose decisions can be adverse on a threshold (dating weighs percentiles).
_THRESHOLD_GATES = tuple(g for g in CITIZEN_GATES if g != "dating")


#: A bound outside its range (NaN and infinities included): names the bound and the range.
ERR_BOUND = "{name} must be a finite number {allowed}, got {value!r}."

#: Each bound's allowed range as (lowest, lowest included, highest, highest included) and words.
_BOUND_RANGES: dict[str, tuple[float, bool, float, bool, str]] = {
    "max_sanction_ratio": (0.0, False, math.inf, False, "above 0"),
    "dispute_days": (0.0, True, math.inf, False, "of days, 0 or more"),
    "expiry_days": (0.0, True, math.inf, False, "of days, 0 or more"),
    "min_impact_ratio": (0.0, True, 1.0, True, "from 0 (no line) to 1"),
    "max_persistence": (0.0, True, 1.0, True, "from 0 to 1"),
    "max_chilling": (0.0, True, 1.0, True, "from 0 to 1"),
    "association_tolerance": (0.0, True, math.inf, False, "of score points, 0 or more"),
}


class ThresholdError(ValueError):
    """A bound the audit cannot judge against; ``name`` is the bound's field."""

    def __init__(self, name: str, message: str) -> None:
        """Keep the bound's field name beside the one-line message."""
        super().__init__(message)
        self.name = name


def _within(value: object, low: float, low_in: bool, high: float, high_in: bool) -> bool:
    """True only for a real, finite number inside the range (NaN, inf, bools, text: False)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    v = float(value)
    return (
        math.isfinite(v)
        and (v >= low if low_in else v > low)
        and (v <= high if high_in else v < high)
    )


@dataclass(frozen=True)
class Thresholds:
    """The auditor's bounds (command-line options of ``socialscore audit``).

    Every bound is a finite number in its range (``ERR_BOUND`` names it otherwise):
    a sanction ratio above 0, an impact ratio in [0, 1] (0: no four-fifths line, as
    :func:`socialscore.analysis.disparity.verdict` reads it), persistence and chilling shares in
    [0, 1], days and the association tolerance 0 or more. A NaN bound
    would turn every comparison against it into a pass or a silent skip.

    Raises:
        ThresholdError: A bound is not a finite number in its range.
    """

    max_sanction_ratio: float = 3.0
    dispute_days: int = 30
    expiry_days: int = SEVEN_YEARS_DAYS
    min_impact_ratio: float = 0.8
    max_persistence: float = 0.5
    max_chilling: float = 0.05
    association_tolerance: float = 0.1

    def __post_init__(self) -> None:
        """Refuse a bound that is not a finite number in its range."""
        for name, (low, low_in, high, high_in, allowed) in _BOUND_RANGES.items():
            value = getattr(self, name)
            if not _within(value, low, low_in, high, high_in):
                raise ThresholdError(
                    name, ERR_BOUND.format(name=name, allowed=allowed, value=value)
                )


@dataclass(frozen=True)
class Check:
    """One verdict: which law or harm, about what, and why."""

    law: str
    subject: str
    verdict: Verdict
    reason: str
    value: float | None = None


@dataclass(frozen=True)
class LawVerdict:
    """The checks of one law (or of the measured harms), counted by verdict."""

    law: str
    checks: int
    failed: int
    passed: int
    inconclusive: int

    @property
    def verdict(self) -> Verdict:
        """Fail when any check fails, else inconclusive when any is, else pass (or n/a)."""
        if self.failed:
            return "fail"
        if self.inconclusive:
            return "inconclusive"
        return "pass" if self.passed else "not applicable"

    def words(self) -> str:
        """The law's line of the verdict: "3 of 7 checks fail", "all 4 pass", ..."""
        if self.checks == 1:
            one = {"fail": "fails", "inconclusive": "is inconclusive", "pass": "passes"}
            return f"its one check {one.get(self.verdict, 'does not apply')}"
        if self.failed:
            return f"{self.failed} of {self.checks} checks fail"
        if self.inconclusive:
            return f"{self.inconclusive} of {self.checks} checks inconclusive, none fails"
        if self.passed == 1:
            return "the one applicable check passes"
        if self.passed:
            return f"all {self.passed} applicable checks pass"
        return "not applicable to this regime"


def by_law(checks: Iterable[tuple[str, str]]) -> list[LawVerdict]:
    """(law, verdict) pairs counted per law, laws in the order they first appear."""
    counts: dict[str, dict[str, int]] = {}
    for law, verdict in checks:
        tally = counts.setdefault(law, {})
        tally[verdict] = tally.get(verdict, 0) + 1
    return [
        LawVerdict(
            law,
            sum(t.values()),
            t.get("fail", 0),
            t.get("pass", 0),
            t.get("inconclusive", 0),
        )
        for law, t in counts.items()
    ]


@dataclass(repr=False)
class Audit:
    """Every check of a regime; ``passed`` when none fails.

    ``decomposition`` splits each gate's selection gap into the part the assumed
    group differences explain and the part the regime adds
    (:mod:`socialscore.analysis.decomposition`); it is a measurement, not a check.
    """

    scenario: str
    checks: list[Check] = field(default_factory=list)
    decomposition: Decomposition | None = None

    @property
    def passed(self) -> bool:
        """True when no check fails."""
        return all(c.verdict != "fail" for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The failing checks."""
        return [c for c in self.checks if c.verdict == "fail"]

    def by_law(self) -> list[LawVerdict]:
        """The checks counted per law, in the order the audit makes them."""
        return by_law((c.law, c.verdict) for c in self.checks)

    def to_pandas(self) -> pd.DataFrame:
        """The checks as a DataFrame: law, subject, verdict, reason, value."""
        return self.table().to_pandas()

    def _facts(self) -> list[tuple[str, str]]:
        verdict = "passes" if self.passed else f"fails {len(self.failures)} of {len(self.checks)}"
        return [("checks", str(len(self.checks))), ("verdict", verdict)]

    def __repr__(self) -> str:
        return display.summary_text(f"Audit of {self.scenario}", self._facts())

    def _repr_html_(self) -> str:
        return display.summary_html(
            f"socialscore audit of {self.scenario}",
            self._facts(),
            [(f"{law.law}: {law.words()}", law.verdict == "fail") for law in self.by_law()],
            note="audit.to_pandas(): every check with its reason.",
        )

    def table(self) -> pa.Table:
        """The checks as an Arrow table (stored as ``audit.parquet``)."""
        return pa.table(
            {
                "law": pa.array([c.law for c in self.checks], pa.string()),
                "subject": pa.array([c.subject for c in self.checks], pa.string()),
                "verdict": pa.array([c.verdict for c in self.checks], pa.string()),
                "reason": pa.array([c.reason for c in self.checks], pa.string()),
                "value": pa.array([c.value for c in self.checks], pa.float64()),
            }
        )

    def to_dict(self) -> dict[str, object]:
        """The audit as data for JSON: scenario, verdict, every check, the decomposition."""
        doc: dict[str, object] = {
            "scenario": self.scenario,
            "passed": self.passed,
            "failures": len(self.failures),
            "checks": [asdict(c) for c in self.checks],
        }
        if self.decomposition is not None:
            doc["decomposition"] = self.decomposition.to_dict()
        return doc

    def to_json(self) -> str:
        """The audit as JSON (:meth:`to_dict`), indented."""
        return json.dumps(self.to_dict(), indent=2)


# -- what a gate reads ------------------------------------------------------


def _occurs(scenario: Scenario, event: str) -> bool:
    spec = scenario.stream_of(event)
    return spec is not None and spec.rate > 0


def _network_counts(scenario: Scenario) -> bool:
    return scenario.network.enabled and scenario.network.weight != 0.0


def gate_inputs(scenario: Scenario, gate: str) -> tuple[list[int], bool]:
    """The rules (indices) whose points can move the score ``gate`` reads, and the network term."""
    lay = layout(scenario)
    v = int(lay.gate_view[CITIZEN_GATES.index(gate)])
    rules = [
        k
        for k, rule in enumerate(scenario.rules)
        if lay.points[k] != 0.0
        and _occurs(scenario, rule.event)
        and lay.view_weight[v, lay.slot[k]] > 0
    ]
    return rules, bool(lay.view_net[v] > 0) and _network_counts(scenario)


#: The field holding each gate's daily decision rate (school decides once a year).
_RATE_FIELD = {g: rate for g in CITIZEN_GATES if (rate := GATE_BY_NAME[g].rate) is not None}


def enabled_gates(scenario: Scenario) -> list[str]:
    """Gates that take decisions on a score (enabled, with a decision rate above zero)."""
    out = []
    for g in CITIZEN_GATES:
        spec = getattr(scenario.gates, g)
        if spec.enabled and (g not in _RATE_FIELD or getattr(spec, _RATE_FIELD[g]) > 0):
            out.append(g)
    return out


NOTHING_READ = (
    "the gate reads no data about the person: its score is the base for everyone, "
    "so no decision turns on a record."
)


def reads_nothing(scenario: Scenario, gate: str) -> bool:
    """Whether the gate's score reads no rule and no network term: the base for everyone."""
    rules, network = gate_inputs(scenario, gate)
    return not rules and not network


def _rule_name(scenario: Scenario, k: int) -> str:
    rule = scenario.rules[k]
    return f"rule '{rule.label or rule.event}'"


# -- legal checks from the scenario ----------------------------------------


def context_checks(scenario: Scenario) -> list[Check]:
    """Art. 5(1)(c)(i): every gate decides only in the domains its data came from."""
    out = []
    for gate in enabled_gates(scenario):
        own = scenario.gate_domain(gate)
        rules, network = gate_inputs(scenario, gate)
        domains = {scenario.event_domain(scenario.rules[k].event) for k in rules}
        if network:
            domains.add(NETWORK_DOMAIN)
        foreign = sorted(domains - {own})
        if not domains:
            out.append(Check(LAW_CONTEXT, f"gate {gate}", "not applicable", NOTHING_READ))
        elif foreign:
            out.append(
                Check(
                    LAW_CONTEXT,
                    f"gate {gate}",
                    "fail",
                    f"decides in '{own}' but reads data from {', '.join(foreign)}: detriment "
                    "in a context unrelated to where the data came from. Fix: limit the gate "
                    f"to '{own}' data (gates.{gate}.purpose = [\"{own}\"]).",
                    float(len(foreign)),
                )
            )
        else:
            out.append(
                Check(
                    LAW_CONTEXT,
                    f"gate {gate}",
                    "pass",
                    f"reads only '{own}' data, the context it decides in.",
                    0.0,
                )
            )
    return out


def proportion_checks(scenario: Scenario, thresholds: Thresholds) -> list[Check]:
    """Art. 5(1)(c)(ii): no penalty feeds a sanction out of proportion to its gravity."""
    feeds: dict[int, list[str]] = {}
    for gate in enabled_gates(scenario):
        for k in gate_inputs(scenario, gate)[0]:
            feeds.setdefault(k, []).append(gate)
    out = []
    bound = thresholds.max_sanction_ratio
    for k, gates in sorted(feeds.items()):
        rule = scenario.rules[k]
        if rule.points >= 0:
            continue
        name = _rule_name(scenario, k)
        heaviest = max(gates, key=scenario.gate_sanction)
        sanction = scenario.gate_sanction(heaviest)
        if rule.severity is None:
            out.append(
                Check(
                    LAW_PROPORTION,
                    name,
                    "fail",
                    f"feeds the {heaviest} gate (sanction {sanction}) but declares no severity, "
                    f"so proportionality cannot be shown. Fix: set rules[{k}].severity (0–5).",
                )
            )
            continue
        ratio = sanction / rule.severity if rule.severity > 0 else float("inf")
        # Written so that NaN (a ratio or a bound) can never pass: pass only when <= holds.
        verdict: Verdict = "pass" if ratio <= bound else "fail"
        what = "lawful, harmless behaviour" if rule.severity == 0 else f"severity {rule.severity:g}"
        out.append(
            Check(
                LAW_PROPORTION,
                name,
                verdict,
                f"{what} feeds the {heaviest} gate (sanction {sanction}): ratio "
                + ("unbounded" if np.isinf(ratio) else f"{ratio:.2g}")
                + f", {'above' if verdict == 'fail' else 'within'} the bound {bound:g}.",
                None if np.isinf(ratio) else ratio,
            )
        )
    return out


def reasons_checks(scenario: Scenario, run_gates: pa.Table | None = None) -> list[Check]:
    """Reg. B: adverse decisions carry reasons drawn from the person's own record."""
    out = []
    for gate in enabled_gates(scenario):
        if reads_nothing(scenario, gate):
            out.append(Check(LAW_REASONS, f"gate {gate}", "not applicable", NOTHING_READ))
            continue
        if gate not in _THRESHOLD_GATES:
            out.append(
                Check(
                    LAW_REASONS,
                    f"gate {gate}",
                    "fail",
                    "matches are refused on public percentiles with no reasons given.",
                )
            )
            continue
        if not getattr(scenario.gates, gate).reasons:
            out.append(
                Check(
                    LAW_REASONS,
                    f"gate {gate}",
                    "fail",
                    f"adverse decisions carry no reasons. Fix: gates.{gate}.reasons = true.",
                )
            )
            continue
        unexplained = _gate_sum(run_gates, gate, "unexplained_denials")
        if unexplained:
            out.append(
                Check(
                    LAW_REASONS,
                    f"gate {gate}",
                    "fail",
                    f"{unexplained:,} adverse decisions had no reason from the person's own "
                    "record (they were caused by friends' scores).",
                    float(unexplained),
                )
            )
        else:
            out.append(
                Check(
                    LAW_REASONS,
                    f"gate {gate}",
                    "pass",
                    "every adverse decision carries up to four reasons from the person's "
                    "own record.",
                    0.0,
                )
            )
    return out


def _gate_sum(table: pa.Table | None, gate: str, column: str) -> int:
    if table is None or table.num_rows == 0:
        return 0
    frame = table.to_pandas()
    return int(frame.loc[frame["gate"] == gate, column].sum())


def dispute_checks(scenario: Scenario, thresholds: Thresholds) -> list[Check]:
    """FCRA: a dispute process that settles within 30 days."""
    de = scenario.data_errors
    if not any(r.points != 0 for r in scenario.rules):
        return [
            Check(LAW_DISPUTES, "regime", "not applicable", "no rule rates anything: no record.")
        ]
    if de.dispute_rate <= 0:
        return [
            Check(
                LAW_DISPUTES,
                "regime",
                "fail",
                "there is no dispute process: erroneous records stay until they decay. Fix: "
                "set data_errors.dispute_rate and data_errors.dispute_days.",
            )
        ]
    ok = de.dispute_days <= thresholds.dispute_days
    return [
        Check(
            LAW_DISPUTES,
            "regime",
            "pass" if ok else "fail",
            f"disputes are settled after {de.dispute_days} days "
            f"({'within' if ok else 'beyond'} {thresholds.dispute_days}).",
            float(de.dispute_days),
        )
    ]


def expiry_checks(scenario: Scenario, thresholds: Thresholds) -> list[Check]:
    """FCRA: every negative item that feeds a gate stops counting within 7 years."""
    used = sorted({k for g in enabled_gates(scenario) for k in gate_inputs(scenario, g)[0]})
    out = []
    limit = thresholds.expiry_days
    for k in used:
        rule = scenario.rules[k]
        if rule.points >= 0:
            continue
        name = _rule_name(scenario, k)
        if rule.expires_after_days is None:
            out.append(
                Check(
                    LAW_EXPIRY,
                    name,
                    "fail",
                    (
                        "never expires (its half-life only shrinks it)"
                        if rule.half_life_days
                        else "never expires"
                    )
                    + f". Fix: set rules[{k}].expires_after_days to at most {limit}.",
                )
            )
        else:
            ok = rule.expires_after_days <= limit
            out.append(
                Check(
                    LAW_EXPIRY,
                    name,
                    "pass" if ok else "fail",
                    f"stops counting after {rule.expires_after_days} days "
                    f"({'within' if ok else 'beyond'} {limit}).",
                    float(rule.expires_after_days),
                )
            )
    return out


def review_checks(scenario: Scenario) -> list[Check]:
    """GDPR Art. 22: a person reviews significant automated decisions."""
    out = []
    for gate in enabled_gates(scenario):
        if reads_nothing(scenario, gate):
            out.append(Check(LAW_REVIEW, f"gate {gate}", "not applicable", NOTHING_READ))
            continue
        reviewed = gate in _THRESHOLD_GATES and getattr(scenario.gates, gate).human_review
        reason = (
            "a person reviews every denial and can overturn it."
            if reviewed
            else "decisions are fully automated with no human review. Fix: "
            f"gates.{gate}.human_review = true."
        )
        if gate == "dating":
            reason = "matches are filtered on public percentiles with no human review."
        out.append(Check(LAW_REVIEW, f"gate {gate}", "pass" if reviewed else "fail", reason))
    return out


def legal_checks(
    scenario: Scenario, thresholds: Thresholds | None = None, run_gates: pa.Table | None = None
) -> list[Check]:
    """Every legal check read from the scenario (and from the run's gate tallies, if given)."""
    t = thresholds or Thresholds()
    return [
        *context_checks(scenario),
        *proportion_checks(scenario, t),
        *reasons_checks(scenario, run_gates),
        *dispute_checks(scenario, t),
        *expiry_checks(scenario, t),
        *review_checks(scenario),
    ]


# -- checks by running -------------------------------------------------------


def simulate(scenario: Scenario) -> tuple[Engine, Recorder]:
    """Run a scenario in memory; return the engine and its recorder."""
    nat = nation.generate(scenario)
    engine = Engine(scenario, nat)
    recorder = Recorder(scenario, nat)
    engine.run(recorder)
    return engine, recorder


def perturbed_run(
    scenario: Scenario, chosen: np.ndarray, points: float
) -> tuple[np.ndarray, np.ndarray]:
    """Final scores after lowering the chosen citizens' records by ``points`` after day 0.

    Also returns the friend lists as generated (before any unfriending).
    """
    nat = nation.generate(scenario)
    engine = Engine(scenario, nat)
    recorder = Recorder(scenario, nat)
    lay = engine.compiled.layout
    public = np.nonzero(lay.view_weight[0] > 0)[0]
    slowest = int(public[np.argmax(lay.decay[public])])
    engine.step(0, recorder)
    engine.state.acc[slowest, chosen] -= points
    for day in range(1, scenario.run.days):
        engine.step(day, recorder)
    return engine.state.score.copy(), nat.friends


def association_check(
    scenario: Scenario,
    scores: np.ndarray,
    thresholds: Thresholds | None = None,
    *,
    share: float = 0.01,
) -> Check:
    """Lower 1% of citizens' records; do their contacts' scores move more than strangers'?"""
    t = thresholds or Thresholds()
    if not (layout(scenario).view_weight[0] > 0).any():
        return Check(
            LAW_ASSOCIATION,
            "regime",
            "pass",
            "no rule counts in the public score, so no record can move anyone's score.",
            0.0,
        )
    n = scores.shape[0]
    rng = np.random.default_rng(scenario.run.seed ^ 0x5EED)
    chosen = np.sort(rng.choice(n, size=max(1, int(share * n)), replace=False))
    s = scenario.score
    points = (s.hi - s.lo) / 4.0
    perturbed, friends_start = perturbed_run(scenario, chosen, points)
    moved = np.abs(perturbed.astype(np.float64) - scores)
    is_chosen = np.zeros(n, dtype=bool)
    is_chosen[chosen] = True
    valid = friends_start >= 0
    contact = (valid & is_chosen[np.where(valid, friends_start, 0)]).any(axis=1) & ~is_chosen
    stranger = ~contact & ~is_chosen
    contacts_moved = float(moved[contact].mean()) if contact.any() else 0.0
    strangers_moved = float(moved[stranger].mean()) if stranger.any() else 0.0
    excess = contacts_moved - strangers_moved
    fail = not excess <= t.association_tolerance  # NaN fails
    words = (
        f"lowering {len(chosen):,} citizens' records by {points:g} points moved their "
        f"{int(contact.sum()):,} contacts' scores by {contacts_moved:.2f} points on average, "
        f"strangers' by {strangers_moved:.2f}"
    )
    if fail:
        words += ": a contact's record changes a citizen's score."
    else:
        words += ": a contact's record does not change a citizen's score."
    return Check(LAW_ASSOCIATION, "regime", "fail" if fail else "pass", words, excess)


def counterfactual(scenario: Scenario) -> Scenario:
    """The same nation and behaviour with no regime (as ``no-scoring.toml`` does)."""
    s = scenario.score
    gates = Gates.model_validate(
        {
            name: {
                **getattr(scenario.gates, name).model_dump(by_alias=True),
                **(
                    {"threshold": s.lo}
                    if name not in ("dating", "travel", "public_contracts")
                    else {}
                ),
                **(
                    {"min_partner_percentile": 0.0, "max_percentile_gap": 1.0}
                    if name == "dating"
                    else {}
                ),
                **({"threshold": scenario.company_score.lo} if name == "public_contracts" else {}),
            }
            for name in type(scenario.gates).model_fields
        }
    )
    fb = scenario.feedback
    return scenario.model_copy(
        update={
            "rules": [],
            "company_rules": [],
            "score": s.model_copy(update={"blacklist_below": s.lo}),
            "participation": scenario.participation.model_copy(update={"mandatory_from_day": 0}),
            "network": NetworkSettings(),
            "gates": gates,
            "feedback": fb.model_copy(
                update={
                    "chilling": fb.chilling.model_copy(update={"strength": 0.0}),
                    "gaming": fb.gaming.model_copy(
                        update={"strength": 0.0, "daily_increment": 0.0}
                    ),
                }
            ),
            "data_errors": scenario.data_errors.model_copy(update={"rate": 0.0}),
            "operators": {},
        }
    )


ERR_IMPACT_LINE = "min_impact_ratio must lie between 0 and 1, got {line}"


def _measured(frame: pd.DataFrame, metric: str, gate: str) -> tuple[float, float, float, str]:
    """A gate measure's value, its 95% interval and its days in words."""
    hit = frame[(frame.metric == metric) & (frame.subject == gate) & (frame.grp == "all")]
    if not len(hit):
        return float("nan"), float("nan"), float("nan"), ""
    row = hit.iloc[0]
    lo, hi = (float("nan") if pd.isna(v) else float(v) for v in (row.ci_low, row.ci_high))
    days = f"days {int(row.day_from)}–{int(row.day_to)}"
    return float(row.value), lo, hi, days


def _finite(value: float) -> float | None:
    """A check's value, or None where it is undefined or infinite (JSON has neither)."""
    return value if np.isfinite(value) else None


def _interval(lo: float, hi: float) -> str:
    return f"95% interval {lo:.2f}–{hi:.2f}"


def _verdict_clause(v: disparity.Verdict, line: str) -> str:
    return {
        "fail": f"the whole interval lies outside {line}: fails",
        "pass": f"the whole interval lies within {line}: passes",
        "inconclusive": f"the interval straddles {line}: inconclusive",
        "not applicable": "not applicable",
    }[v]


def _gate_disparity_checks(frame: pd.DataFrame, gate: str, line: float) -> list[Check]:
    """The four-fifths rule on approvals and its mirror on adverse outcomes, from intervals."""
    out = []
    band = f"{line:.2f}–{1 / line:.2f}" if line > 0 else "0–∞"
    ratio, lo, hi, days = _measured(frame, "adverse_impact_ratio", gate)
    v = disparity.verdict(ratio, lo, hi, line=line)
    if v == "not applicable":
        reason = (
            f"over {days} a group had no decision or nobody was approved: the four-fifths rule "
            "cannot be applied."
        )
    else:
        reason = (
            f"over {days} the worse-treated group's approval rate is {ratio:.2f} times the other's "
            f"({_interval(lo, hi)}); {_verdict_clause(v, f'the band {band}')}."
        )
    out.append(Check(HARM_IMPACT, f"gate {gate}", v, reason, _finite(ratio)))
    among, a_lo, a_hi, days = _measured(frame, "adverse_outcome_ratio", gate)
    every, e_lo, e_hi, _ = _measured(frame, "adverse_outcome_ratio_population", gate)
    va = disparity.verdict(among, a_lo, a_hi, line=line)
    ve = disparity.verdict(every, e_lo, e_hi, line=line)
    verdict: Verdict = disparity.worst_of([va, ve])
    if verdict == "not applicable":
        reason = f"over {days} no adverse decision in either group, or a group had no decision."
    else:
        parts = []
        for what, value, a, b, vv in (
            ("among applicants", among, a_lo, a_hi, va),
            ("per member of the group", every, e_lo, e_hi, ve),
        ):
            if vv != "not applicable":
                parts.append(
                    f"{what} the minority's adverse rate is {value:.2f} times the majority's "
                    f"({_interval(a, b)}; {_verdict_clause(vv, f'the band {band}')})"
                )
        reason = f"over {days} " + "; ".join(parts) + "."
    out.append(Check(HARM_ADVERSE, f"gate {gate}", verdict, reason, _finite(among)))
    return out


def _persistence_check(frame: pd.DataFrame, bound: float) -> Check | None:
    """Bottom-decile persistence against chance and against the auditor's bound, with its interval.

    Persistence whose 95% interval holds the chance level (0.10) is not a trap: the start
    of the window says nothing about who is at the bottom at the end. Above chance, the
    verdict is the estimate against the bound, and the words say when the interval
    straddles it.
    """
    hit = frame[(frame.metric == "bottom_decile_persistence") & (frame.subject == "")]
    if not len(hit) or np.isnan(float(hit.value.iloc[0])):
        return None
    value = float(hit.value.iloc[0])
    low, high = float(hit.ci_low.iloc[0]), float(hit.ci_high.iloc[0])
    if np.isnan(low) or np.isnan(high):
        low = high = value
    chance = metrics.PERSISTENCE_CHANCE
    measured = f"{value:.1%} of the bottom tenth stayed there (95% interval {low:.1%}–{high:.1%})"
    if low <= chance <= high:
        return Check(
            HARM_PERSISTENCE,
            "regime",
            "pass",
            f"{measured}: at chance level ({chance:.0%}), as if the ranking at the start "
            "said nothing about who is at the bottom at the end.",
            value,
        )
    high_verdict = value > bound
    if low > bound:
        where = f"above {bound:.0%} throughout its interval"
    elif high <= bound:
        where = f"within {bound:.0%} throughout its interval"
    else:
        where = (
            f"{'above' if high_verdict else 'within'} {bound:.0%} at its estimate, but the "
            f"interval straddles {bound:.0%}: this run cannot tell"
        )
    # Pass only when the whole interval is provably within the bound: NaN never passes.
    verdict: Verdict = "pass" if high <= bound else "fail" if low > bound else "inconclusive"
    return Check(
        HARM_PERSISTENCE,
        "regime",
        verdict,
        f"{measured}, {'above' if low > chance else 'below'} chance ({chance:.0%}); {where}.",
        value,
    )


def harm_checks(
    scenario: Scenario,
    metrics: pa.Table,
    events: np.ndarray,
    baseline_events: np.ndarray,
    thresholds: Thresholds | None = None,
) -> list[Check]:
    """Flags from the run: adverse impact, persistence at the bottom, chilling.

    At every gate two checks over the measurement window: the four-fifths rule on
    approval rates and its mirror on adverse outcomes (the minority's denial or
    sanction rate against the majority's, among applicants and per member), each
    judged from its 95% interval: fails when the interval lies wholly past the
    line, passes when wholly within it, inconclusive when it straddles it.
    """
    t = thresholds or Thresholds()
    frame = metrics.to_pandas()
    out = []
    if not 0.0 <= t.min_impact_ratio <= 1.0:
        raise ValueError(ERR_IMPACT_LINE.format(line=t.min_impact_ratio))
    for gate in (*CITIZEN_GATES, *COMPANY_GATES):
        if not (frame.metric.eq("adverse_impact_ratio") & frame.subject.eq(gate)).any():
            continue  # the gate took no decision in the window
        out += _gate_disparity_checks(frame, gate, t.min_impact_ratio)
    persistence = _persistence_check(frame, t.max_persistence)
    if persistence is not None:
        out.append(persistence)
    out += chilling_checks(scenario, frame, events, baseline_events, t)
    return out


def chilling_checks(
    scenario: Scenario,
    frame: pd.DataFrame,
    events: np.ndarray,
    baseline_events: np.ndarray,
    t: Thresholds,
) -> list[Check]:
    """Each deterred behaviour's count against the no-scoring counterfactual, over the window.

    ``events`` and ``baseline_events`` are the runs' daily event counts
    ``[day, event, group]`` on the same random numbers. The check fails when
    the behaviour fell by more than ``t.max_chilling``; the reason gives the
    95% interval (paired by day) and the run's own tally of acts deterred.
    """
    window = measurement_window(scenario, events.shape[0])
    out = []
    for event in chilling.deterred_events(scenario):
        e = CITIZEN_EVENTS.index(event)
        own = harms.metric_value(frame, "chilling_forgone_share", event)
        tally = (
            f" The run's own tally: {own:.2%} of it deterred in {window.label()}."
            if not np.isnan(own)
            else ""
        )
        if event == "interaction_low_scorer":
            out.append(
                Check(
                    HARM_CHILLING,
                    f"behaviour {event}",
                    "not applicable",
                    "meetings with low-ranked friends cannot be counted against no scoring: "
                    "without a score the bottom of the ranking is a random tenth of one tied "
                    "block, with it the regime's lowest scorers, so the two counts are about "
                    "different people." + tally,
                )
            )
            continue
        change = chilling.counterfactual_change(
            events[:, e, :].sum(axis=1), baseline_events[:, e, :].sum(axis=1), window
        )
        if change is None:
            out.append(
                Check(
                    HARM_CHILLING,
                    f"behaviour {event}",
                    "not applicable",
                    f"the no-scoring counterfactual has no '{event}' in {window.label()}." + tally,
                )
            )
            continue
        lo, hi = change.ci
        line = -t.max_chilling
        # Pass only when the change and both ends are provably within the line: NaN never passes.
        verdict: Verdict
        if lo >= line and hi >= line and change.change >= line:
            verdict, where = "pass", f"within −{t.max_chilling:.0%} throughout its interval"
        elif hi < line:
            verdict, where = "fail", f"beyond −{t.max_chilling:.0%} throughout its interval"
        else:
            verdict, where = "inconclusive", f"the interval straddles −{t.max_chilling:.0%}"
        words = (
            f"legal behaviour the rulebook penalises changed by {change.change:+.1%} "
            f"[{lo:+.1%}, {hi:+.1%}] against no scoring on the same random numbers in "
            f"{window.label()}: {where}."
        )
        subject = f"behaviour {event}"
        out.append(Check(HARM_CHILLING, subject, verdict, words + tally, change.change))
    return out
