"""The headline harms of a run, as sentences with numbers computed from it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from socialscore.harms import metric_value
from socialscore.metrics import FOUR_FIFTHS, PERSISTENCE_CHANCE
from socialscore.report import format as fmt

GATE_NAMES = {
    "mortgage": "mortgages",
    "job_hiring": "jobs",
    "job_retention": "keeping their jobs",
    "school": "school places for their children",
    "dating": "dating matches",
    "documents": "official documents",
    "travel": "travel",
    "public_contracts": "public contracts",
}


@dataclass(frozen=True)
class Headline:
    """One headline: the sentence, and whether it reports a harm past a legal line."""

    text: str
    alarm: bool


def headlines(metrics: pd.DataFrame, *, days: int, mobility_day: int) -> list[Headline]:
    """Five to seven sentences on what the regime did, each with its figures."""
    m = metrics
    out: list[Headline] = []
    gates = m[(m.metric == "adverse_impact_ratio") & m.value.notna()]
    if len(gates):
        worst = gates.sort_values(["value", "subject"]).iloc[0]
        gate = str(worst.subject)
        ratio = float(worst.value)
        minority = metric_value(m, "selection_rate", gate, "minority")
        majority = metric_value(m, "selection_rate", gate, "majority")
        below = ratio < FOUR_FIFTHS
        lower = minority < majority
        line = "below" if below else "at or above"
        companies = gate == "public_contracts"
        noun = "-owned companies" if companies else " citizens"
        verb = (
            "won public contracts"
            if companies
            else f"were approved for {GATE_NAMES.get(gate, gate)}"
        )
        if minority == majority:
            text = (
                f"Minority and majority{noun} {verb} at the same rate "
                f"({fmt.share(minority)}): no gate treated the groups differently."
            )
        else:
            who, other = ("Minority", "majority") if lower else ("Majority", "minority")
            text = (
                f"{who}{noun} {verb} at {fmt.ratio(ratio)} times the rate of {other}{noun} "
                f"({fmt.share(minority if lower else majority)} against "
                f"{fmt.share(majority if lower else minority)}), {line} the four-fifths line."
            )
        out.append(Headline(text, below))
    black = metric_value(m, "blacklisted_share")
    if not math.isnan(black):
        out.append(
            Headline(
                f"{fmt.share(black)} of citizens ended the run below the blacklist line, "
                "barred from travel.",
                False,
            )
        )
    errors = m[m.metric == "erroneous_denials"].value.sum()
    if errors > 0:
        out.append(
            Headline(
                f"{fmt.count(errors)} applications were denied only because of erroneous "
                "records: with correct data they would have been approved.",
                True,
            )
        )
    persistence = metric_value(m, "bottom_decile_persistence")
    if not math.isnan(persistence):
        row = m[(m.metric == "bottom_decile_persistence") & (m.subject == "")].iloc[0]
        low, high = float(row.get("ci_low", math.nan)), float(row.get("ci_high", math.nan))
        said = (
            f"Of the citizens in the bottom tenth of the ranking on day {mobility_day}, "
            f"{fmt.share(persistence)} were still in the bottom tenth on day {days - 1}"
        )
        if not (math.isnan(low) or math.isnan(high)):
            said += f" (95% interval {fmt.share(low)}–{fmt.share(high)})"
        at_chance = (
            low <= PERSISTENCE_CHANCE <= high
            if not (math.isnan(low) or math.isnan(high))
            else abs(persistence - PERSISTENCE_CHANCE) < 1e-9
        )
        if at_chance:
            said += (
                f": chance level ({fmt.share(PERSISTENCE_CHANCE)}), the ranking did not keep "
                "anyone at the bottom"
            )
        out.append(Headline(said + ".", False))
    chill = m[m.metric == "penalised_behaviour_change"]
    if len(chill):
        low = chill.sort_values(["value", "subject"]).iloc[0]
        change = float(low.value) - 1.0
        verb = "fell" if change < 0 else "rose"
        out.append(
            Headline(
                f"The legal but penalised behaviour '{low.subject}' {verb} by "
                f"{fmt.share(abs(change))} between the first and the last 30 days.",
                False,
            )
        )
    dropped = metric_value(m, "friends_dropped")
    if not math.isnan(dropped) and dropped > 0:
        out.append(
            Headline(
                f"{fmt.count(dropped)} friendships were dropped because of a friend's low score.",
                False,
            )
        )
    auc = metric_value(m, "privacy_auc")
    if not math.isnan(auc):
        out.append(
            Headline(
                f"The score alone singles out minority citizens with an AUC of {fmt.ratio(auc)} "
                "(0.5 would reveal nothing).",
                False,
            )
        )
    return out
