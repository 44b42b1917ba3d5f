"""The report's "Reasons" section: which rules and which data caused the adverse decisions.

Read from the run's ``reasons`` table (each adverse decision's up to four
reasons, by gate and group, over the measurement window) and ``daily_gates``
(the adverse decisions, and those with no reason from the person's own
record). A gate that gives no reasons says so: its refused citizens are not
told why.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from socialscore.report import format as fmt
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, GROUP_LABELS
from socialscore.scenario.window import Window
from socialscore.simulation.layout import ERRONEOUS_REASON, NETWORK_REASON

INTRODUCTION = (
    "A gate that gives reasons names, for each adverse decision, up to four things that "
    "cost the person the most points in the score it read: a rule of the rulebook, friends' "
    "scores (the network term) or an erroneous record. Each row is the share of a group's "
    "adverse decisions at that gate, over the measurement window, that cited the reason "
    "(a decision cites up to four, so shares add up to more than 100%). A decision whose "
    "reasons hold nothing from the person's own record could not have been avoided by "
    "their own conduct."
)


@dataclass(frozen=True)
class GateReasons:
    """One gate's reasons in words."""

    gate: str
    gives_reasons: bool
    sentence: str
    rows: list[tuple[str, str, str, str]]  # reason, what it is, majority share, minority share


def _kind(reason: str) -> str:
    """What a reason is: the person's own conduct, their friends' scores, or a data error."""
    if reason == NETWORK_REASON:
        return "friends' scores"
    if reason == ERRONEOUS_REASON:
        return "a data error"
    return "their own conduct"


def rows(scenario: Scenario, tables: dict[str, pa.Table], window: Window) -> list[GateReasons]:
    """One entry per citizen gate that decided anything in the window."""
    if "reasons" not in tables or "daily_gates" not in tables:
        return []
    daily = tables["daily_gates"].to_pandas()
    daily = daily[(daily["day"] >= window.start) & (daily["day"] <= window.end)]
    reasons = tables["reasons"].to_pandas()
    out = []
    for gate in CITIZEN_GATES:
        if gate == "dating":  # matched by rank and partner: no reasons to give
            continue
        part = daily[daily["gate"] == gate]
        if part.empty or part["applied"].sum() == 0:
            continue
        adverse = {
            g: int(
                (part[part["group"] == g]["applied"] - part[part["group"] == g]["selected"]).sum()
            )
            for g in GROUP_LABELS
        }
        unexplained = {
            g: int(part[part["group"] == g]["unexplained_denials"].sum()) for g in GROUP_LABELS
        }
        if sum(adverse.values()) == 0:
            continue
        gives = bool(getattr(scenario.gates, gate).reasons)
        if not gives:
            total = sum(adverse.values())
            out.append(
                GateReasons(
                    gate,
                    False,
                    f"{gate}: gives no reasons: {fmt.count(total)} adverse decisions in the "
                    "window, none of them explained to the person.",
                    [],
                )
            )
            continue
        mine = reasons[reasons["gate"] == gate]
        table = []
        for reason in dict.fromkeys(mine.sort_values("decisions", ascending=False)["reason"]):
            cells = []
            for g in GROUP_LABELS:
                hit = mine[(mine["reason"] == reason) & (mine["group"] == g)]["decisions"].sum()
                cells.append(fmt.share(hit / adverse[g]) if adverse[g] else "n/a")
            table.append((str(reason), _kind(str(reason)), cells[0], cells[1]))
        words = "; ".join(
            f"{fmt.share(unexplained[g] / adverse[g])} of the {g}'s {fmt.count(adverse[g])}"
            if adverse[g]
            else f"none of the {g}'s (no adverse decision)"
            for g in GROUP_LABELS
        )
        out.append(
            GateReasons(
                gate,
                True,
                f"{gate}: adverse decisions with no reason from the person's own record: {words}.",
                table,
            )
        )
    return out
