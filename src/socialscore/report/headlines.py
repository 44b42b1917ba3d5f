"""The headline harms of a run, as sentences with numbers computed from it.

Every sentence is derived from what happened in the run (decisions taken,
acts forgone, citizens ranked), names the days it covers, and states a
difference or a verdict only as far as its 95% interval supports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from socialscore.analysis.disparity import ADVERSE_LINE, Verdict, verdict_from_code, worst_of
from socialscore.analysis.harms import MetricRow, metric_row
from socialscore.measures.statistics import PERSISTENCE_CHANCE
from socialscore.report import format as fmt
from socialscore.scenario.vocabulary import GATES

#: What each gate grants, in words.
GATE_NAMES = {g.name: g.benefit for g in GATES}

#: What an adverse decision at each gate is, as a passive verb phrase.
ADVERSE_NAMES = {g.name: g.adverse for g in GATES}

#: Words for the daily series the steady-state test reads (socialscore.analysis.steady.SERIES).
SERIES_NAMES = {
    "mean_score": "the mean score",
    "sd_score": "the spread of scores",
    "gini": "the Gini of scores",
    "blacklisted_share": "the blacklisted share",
    "employed_share": "the employed share",
    "mortgage_share": "the share holding a mortgage",
    "chilled_share": "the chilled share",
    "mean_stress": "mean stress",
    "company_mean_score": "the mean company score",
}

_SEVERITY: dict[Verdict, int] = {"fail": 0, "inconclusive": 1, "pass": 2, "not applicable": 3}


@dataclass(frozen=True)
class Headline:
    """One headline: the sentence, and whether it reports a harm past a legal line."""

    text: str
    alarm: bool


def _row(m: pd.DataFrame, metric: str, subject: str = "", grp: str = "all") -> MetricRow | None:
    r = metric_row(m, metric, subject, grp)
    return None if r is None or math.isnan(r.value) else r


def _days(r: MetricRow) -> str:
    return f"day {r.last}" if r.first == r.last else f"days {r.first}–{r.last}"


def _interval(r: MetricRow, show: Callable[[float], str] = fmt.ratio) -> str:
    return f"95% interval {show(r.low)}–{show(r.high)}" if r.has_interval else ""


def _value(m: pd.DataFrame, metric: str, subject: str = "", grp: str = "all") -> float:
    r = _row(m, metric, subject, grp)
    return math.nan if r is None else r.value


def _verdict(m: pd.DataFrame, metric: str, gate: str) -> Verdict:
    hit = m[(m.metric == metric) & (m.subject == gate) & (m.grp == "all")]
    return verdict_from_code(float(hit.value.iloc[0])) if len(hit) else "not applicable"


def _worst_gate(m: pd.DataFrame, ratio: str, *verdicts: str) -> tuple[str, Verdict] | None:
    """The gate whose verdict is worst, then whose ratio lies farthest from parity.

    A gate judged by several measures takes the worst of their verdicts.
    """
    gates = m[(m.metric == ratio) & (m.grp == "all") & m.value.notna()]
    ranked = []
    for row in gates.itertuples():
        v = worst_of([_verdict(m, name, str(row.subject)) for name in verdicts])
        if v == "not applicable" or row.value <= 0:
            continue
        ranked.append((_SEVERITY[v], -abs(math.log(float(row.value))), str(row.subject), v))
    if not ranked:
        return None
    _, _, gate, v = min(ranked)
    return gate, v


def _approvals(m: pd.DataFrame) -> Headline | None:
    worst = _worst_gate(m, "adverse_impact_ratio", "four_fifths_verdict")
    if worst is None:
        return None
    gate, verdict = worst
    r = _row(m, "adverse_impact_ratio", gate)
    assert r is not None
    minority = _value(m, "selection_rate", gate, "minority")
    majority = _value(m, "selection_rate", gate, "majority")
    companies = gate == "public_contracts"
    noun = "-owned companies" if companies else " citizens"
    verb = (
        "won public contracts" if companies else f"were approved for {GATE_NAMES.get(gate, gate)}"
    )
    lower = minority <= majority
    who, other = ("Minority", "majority") if lower else ("Majority", "minority")
    figures = (
        f"{_interval(r)}; {fmt.share(minority if lower else majority)} against "
        f"{fmt.share(majority if lower else minority)} of decisions"
    )
    if verdict == "pass":
        text = (
            f"Over {_days(r)}, every gate that decided for both groups approved them at rates "
            f"within the four-fifths band; the widest gap: {who.lower()}{noun} {verb} at "
            f"{fmt.ratio(r.value)} times the rate of {other}{noun} ({figures})."
        )
    else:
        said = {
            "fail": "wholly below the four-fifths line (0.80)",
            "inconclusive": (
                "the interval straddles the four-fifths line (0.80), so this run cannot tell "
                "whether the gate passes"
            ),
        }[verdict]
        text = (
            f"Over {_days(r)}, {who.lower()}{noun} {verb} at {fmt.ratio(r.value)} times the "
            f"rate of {other}{noun} ({figures}): {said}."
        )
    return Headline(text[0].upper() + text[1:], verdict == "fail")


def _times(r: MetricRow) -> tuple[bool, float, str]:
    """Whether the minority is worse off, by how many times, and the interval in that sense."""
    higher = r.value >= 1.0
    times = r.value if higher else 1.0 / r.value
    low, high = (r.low, r.high) if higher else (1.0 / r.high, 1.0 / r.low)
    interval = f"95% interval {fmt.ratio(low)}–{fmt.ratio(high)}" if r.has_interval else ""
    return higher, times, interval


def _sanctions(m: pd.DataFrame) -> Headline | None:
    measures = ("adverse_outcome_verdict", "adverse_outcome_population_verdict")
    worst = _worst_gate(m, "adverse_outcome_ratio", *measures)
    if worst is None:
        return None
    gate, verdict = worst
    r = _row(m, "adverse_outcome_ratio", gate)
    assert r is not None
    if verdict == "pass":
        return Headline(
            f"Over {_days(r)}, at every gate that decided for both groups, denials and "
            f"sanctions fell on minority and majority applicants, and on the groups' "
            f"members, at rates within 0.80–{ADVERSE_LINE:.2f} of each other (widest: "
            f"{GATE_NAMES.get(gate, gate)}, {fmt.ratio(r.value)}, {_interval(r)}).",
            False,
        )
    said = {
        "fail": f"past the {ADVERSE_LINE:.2f} line",
        "inconclusive": (
            f"the interval straddles the {ADVERSE_LINE:.2f} line, so this run cannot tell "
            "whether the gate passes"
        ),
    }[verdict]
    what = ADVERSE_NAMES.get(gate, "denied")
    member = _row(m, "adverse_outcome_ratio_population", gate)
    by_member = member is not None and _verdict(m, measures[1], gate) == verdict
    if by_member and _verdict(m, measures[0], gate) != verdict:
        assert member is not None
        higher, times, interval = _times(member)
        who, other = ("the minority", "the majority")
        if not higher:
            who, other = other, who
        _, applicants, _ = _times(r)
        return Headline(
            f"Over {_days(r)}, counting every member of each group, applicants or not, "
            f"{who} were {what} {fmt.ratio(times)} times as often as {other} ({interval}): "
            f"{said}; among applicants alone the ratio was {fmt.ratio(applicants)}.",
            verdict == "fail",
        )
    minority = _value(m, "adverse_rate", gate, "minority")
    majority = _value(m, "adverse_rate", gate, "majority")
    higher, times, interval = _times(r)
    who, other = ("Minority", "majority") if higher else ("Majority", "minority")
    noun = "-owned companies" if gate == "public_contracts" else " applicants"
    interval = f"{interval}; " if interval else ""
    return Headline(
        f"Over {_days(r)}, {who.lower()}{noun} were {what} "
        f"{fmt.ratio(times)} times as often as {other}{noun} ({interval}"
        f"{fmt.share(minority if higher else majority)} against "
        f"{fmt.share(majority if higher else minority)} of decisions): {said}.",
        verdict == "fail",
    )


def _travel(m: pd.DataFrame) -> Headline | None:
    """What the blacklist did: travel attempts blocked, not a line on the score scale."""
    black = _row(m, "blacklisted_share")
    attempts = blocked = 0.0
    days = ""
    for grp in ("majority", "minority"):
        n = _row(m, "applications", "travel", grp)
        rate = _value(m, "adverse_rate", "travel", grp)
        if n is not None:
            attempts += n.value
            blocked += n.value * (0.0 if math.isnan(rate) else rate)
            days = _days(n)
    listed = (
        f"{fmt.share(black.value)} of citizens ended the run below the blacklist line"
        if (black is not None)
        else ""
    )
    if attempts == 0:
        if black is None or black.value == 0:
            return None
        return Headline(f"{listed}; no travel decision was taken in the run.", False)
    blocked = round(blocked)
    if blocked == 0:
        text = f"No travel attempt was blocked over {days} ({fmt.count(attempts)} attempts)"
        if black is not None and black.value > 0:
            text = (
                f"{listed}, but the travel gate blocked none of the {fmt.count(attempts)} "
                f"attempts over {days}"
            )
        return Headline(text + ".", False)
    text = (
        f"{fmt.count(blocked)} travel attempts ({fmt.share(blocked / attempts)} of "
        f"{fmt.count(attempts)}) were blocked over {days}"
    )
    if black is not None:
        text += f"; {listed}"
    return Headline(text + ".", True)


def _erroneous(m: pd.DataFrame) -> Headline | None:
    rows = m[(m.metric == "erroneous_denials") & m.value.notna()]
    total = float(rows.value.sum())
    if total <= 0:
        return None
    r = _row(m, "erroneous_denials", str(rows.subject.iloc[0]))
    days = f" over {_days(r)}" if r is not None else ""
    one = round(total) == 1
    return Headline(
        f"{fmt.count(total)} application{'' if one else 's'}{days} "
        f"{'was' if one else 'were'} denied only because of erroneous records: with correct "
        f"data {'it' if one else 'they'} would have been approved.",
        True,
    )


def _persistence(m: pd.DataFrame) -> Headline | None:
    r = _row(m, "bottom_decile_persistence")
    if r is None:
        return None
    said = (
        f"Of the citizens in the bottom tenth of the ranking on day {r.first}, "
        f"{fmt.share(r.value)} were still in the bottom tenth on day {r.last}"
    )
    if r.has_interval:
        said += f" ({_interval(r, fmt.share)})"
    at_chance = (
        r.low <= PERSISTENCE_CHANCE <= r.high
        if r.has_interval
        else abs(r.value - PERSISTENCE_CHANCE) < 1e-9
    )
    if at_chance:
        said += f": no measurable persistence beyond chance ({fmt.share(PERSISTENCE_CHANCE)})"
    elif r.has_interval and r.low > PERSISTENCE_CHANCE:
        said += f", against {fmt.share(PERSISTENCE_CHANCE)} by chance"
    return Headline(said + ".", False)


def _chilling(m: pd.DataFrame) -> Headline | None:
    rows = m[(m.metric == "chilling_forgone_share") & (m.grp == "all") & m.value.notna()]
    if not len(rows):
        return None
    top = rows.sort_values(["value", "subject"], ascending=[False, True]).iloc[0]
    event = str(top.subject)
    r = _row(m, "chilling_forgone_share", event)
    assert r is not None
    if r.value <= 0:
        return Headline(
            f"No lawful behaviour was deterred over {_days(r)}: the penalised behaviours "
            "happened as often as they would have without the regime's penalties.",
            False,
        )
    acts = _value(m, "chilling_forgone_acts", event)
    text = (
        f"Over {_days(r)}, citizens gave up {fmt.share(r.value)} of the lawful but penalised "
        f"behaviour '{event}'"
    )
    if not math.isnan(acts):
        text += f" ({fmt.count(acts)} acts)"
    text += ", against what the same citizens would have done without the penalty"
    real = _row(m, "chilling_realised_share", event)
    if real is not None and real.has_interval:
        text += (
            f"; counted from the acts themselves, {fmt.share(real.value)} "
            f"({_interval(real, fmt.share)})"
        )
    return Headline(text + ".", False)


def _friends(m: pd.DataFrame) -> Headline | None:
    r = _row(m, "friends_dropped")
    if r is None or r.value <= 0:
        return None
    return Headline(
        f"{fmt.count(r.value)} friendships were dropped because of a friend's low score "
        f"over {_days(r)}.",
        False,
    )


def _privacy(m: pd.DataFrame) -> Headline | None:
    r = _row(m, "privacy_auc")
    if r is None:
        return None
    interval = f", {_interval(r)}" if r.has_interval else ""
    if r.has_interval and r.low <= 0.5 <= r.high:
        text = (
            f"The score does not measurably single out minority citizens (AUC "
            f"{fmt.ratio(r.value)}{interval}; 0.5 reveals nothing)."
        )
    elif not r.has_interval:
        text = (
            f"The score singles out minority citizens with an AUC of {fmt.ratio(r.value)} "
            "(no interval; 0.5 would reveal nothing)."
        )
    elif r.value < 0.5:
        text = (
            f"Minority citizens score higher than majority citizens (AUC "
            f"{fmt.ratio(r.value)}{interval}; 0.5 would reveal nothing)."
        )
    else:
        within = f"{_interval(r)}; " if r.has_interval else ""
        text = (
            f"The score alone singles out minority citizens with an AUC of "
            f"{fmt.ratio(r.value)} ({within}0.5 would reveal nothing)."
        )
    return Headline(text, False)


def _unsettled(m: pd.DataFrame) -> Headline | None:
    rows = m[(m.metric == "settled") & (m.value == 0.0)]
    if not len(rows):
        return None
    parts = []
    first: int | None = None
    last: int | None = None
    for subject in sorted(rows.subject):
        d = _row(m, "drift_per_year", subject)
        name = SERIES_NAMES.get(subject, subject)
        if d is None:
            parts.append(name)
            continue
        first, last = d.first, d.last
        drift = _drift_words(subject, abs(d.value))
        way = "rising" if d.value > 0 else "falling"
        parts.append(f"{name} ({way} by {drift} a year)")
    when = f" over days {first}–{last}" if first is not None else ""
    return Headline(
        f"Still changing at the end of the run{when}: {', '.join(parts)}. The figures above "
        "describe a regime that had not settled; a longer run would show where it goes.",
        False,
    )


def _drift_words(series: str, per_year: float) -> str:
    if series.endswith("_share"):
        return f"{100 * per_year:.2g} percentage points"
    if series.endswith("score"):
        return f"{fmt.score(per_year)} points"
    return f"{per_year:.2g}"


def headlines(metrics: pd.DataFrame) -> list[Headline]:
    """The sentences on what the regime did, each with its figures, days and interval."""
    makers = (
        _approvals,
        _sanctions,
        _travel,
        _erroneous,
        _persistence,
        _chilling,
        _friends,
        _privacy,
        _unsettled,
    )
    return [h for h in (make(metrics) for make in makers) if h is not None]


__all__ = ["Headline", "headlines"]
