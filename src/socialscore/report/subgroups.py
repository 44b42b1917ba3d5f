"""The report's "Harms by any group" section: each gate's worst-treated subgroups.

Read from the run's ``gate_subgroup_gaps`` and ``gate_intersections`` tables
(:func:`socialscore.analysis.groups.subgroup_tables`): for every gate, the
subgroup of any one attribute with the lowest approval rate, against the
best-treated subgroup of the same attribute, and the worst-treated
intersection of two attributes, with whether it is treated worse than either
attribute alone shows. Verdicts are words and a symbol, never a colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pandas as pd
import pyarrow as pa

from socialscore.analysis import disparity
from socialscore.report import format as fmt

INTRODUCTION = (
    "The gate table above compares the majority with the minority. Here every citizen "
    "gate is broken down by every attribute a citizen has (income decile, age, "
    "school-age children, rated or not, aware of the score or not, region, group) and "
    "by every pair of them, over the same window. For each gate: of every attribute's "
    "worst-treated subgroup, the one whose disadvantage the evidence supports most "
    "strongly (the lowest upper bound of its ratio to the best-treated subgroup of the "
    "same attribute), with that ratio judged by the four-fifths rule; then, of every "
    "pair of attributes' worst-treated intersection, the one most clearly worse than the "
    "other members of both its subgroups, and whether it is (intersectional harm). "
    "Only subgroups with at least 30 decisions are compared. Because the "
    "worst and best are picked from many subgroups, each interval covers every pair at "
    "once (95% simultaneous, Bonferroni) and is widened when the same people's repeated "
    "decisions make it too narrow. The full tables are gate_subgroups, "
    "gate_subgroup_gaps and gate_intersections in the run folder."
)


@dataclass(frozen=True)
class GateSubgroups:
    """One gate's line of the section, every figure already in words."""

    gate: str
    by: str
    worst: str
    worst_rate: str
    best: str
    best_rate: str
    ratio: str
    verdict: str
    verdict_class: str
    crossing: str
    crossing_rate: str
    crossing_words: str
    intersectional: str


def rows(tables: dict[str, pa.Table]) -> list[GateSubgroups]:
    """One line per gate with decisions (empty when the run has no subgroup tables)."""
    if "gate_subgroup_gaps" not in tables or "gate_intersections" not in tables:
        return []
    if tables["gate_subgroup_gaps"].num_rows == 0:
        return []
    gaps = tables["gate_subgroup_gaps"].to_pandas()
    crossings = tables["gate_intersections"].to_pandas()
    subgroups = tables["gate_subgroups"].to_pandas() if "gate_subgroups" in tables else None
    out = []
    for gate in dict.fromkeys(gaps["gate"]):
        single = gaps[
            (gaps["gate"] == gate) & ~gaps["by"].str.contains("×") & (gaps["lowest"] != "")
        ]
        if single.empty:
            continue
        # The disadvantage the evidence supports most strongly: the lowest upper bound.
        worst = single.sort_values(
            ["ratio_ci_high", "lowest_rate"], kind="stable", na_position="last"
        ).iloc[0]
        v = cast(disparity.Verdict, str(worst["ratio_verdict"]))
        rate = _rate_of(subgroups, gate, worst["by"], worst["lowest"])
        best = _rate_of(subgroups, gate, worst["by"], worst["highest"])
        pair = crossings[(crossings["gate"] == gate) & (crossings["worst"] != "")]
        if pair.empty:
            crossing = crossing_rate = "n/a"
            crossing_words = "no intersection has enough decisions to compare"
            intersectional = "– not applicable"
        else:
            # Most strongly supported as worse than both its attributes' other members.
            strength = pair[["ratio_first_ci_high", "ratio_second_ci_high"]].max(axis=1)
            c = (
                pair.assign(strength=strength)
                .sort_values(["strength", "rate"], kind="stable", na_position="last")
                .iloc[0]
            )
            crossing = f"{c['worst']} ({c['by']})"
            crossing_rate = fmt.with_ci(c["rate"], c["rate_ci_low"], c["rate_ci_high"], fmt.share)
            crossing_words = str(c["words"])
            intersectional = (
                "✕ yes: worse than either attribute alone shows"
                if c["beyond_either"]
                else "– not shown: no worse than one of its attributes alone shows"
            )
        out.append(
            GateSubgroups(
                gate=gate,
                by=str(worst["by"]),
                worst=str(worst["lowest"]),
                worst_rate=rate,
                best=str(worst["highest"]),
                best_rate=best,
                ratio=fmt.with_ci(
                    worst["ratio"],
                    worst["ratio_ci_low"],
                    worst["ratio_ci_high"],
                    fmt.unbounded_ratio,
                ),
                verdict=disparity.verdict_words(v),
                verdict_class=v.replace(" ", "-"),
                crossing=crossing,
                crossing_rate=crossing_rate,
                crossing_words=crossing_words,
                intersectional=intersectional,
            )
        )
    return out


def disputes(tables: dict[str, pa.Table]) -> str:
    """The dispute outcomes' sentence: the subgroup whose lower upheld share is best supported.

    Empty when the run has no disputes or no attribute has two subgroups with
    enough settled disputes to compare.
    """
    if "dispute_subgroup_gaps" not in tables or tables["dispute_subgroup_gaps"].num_rows == 0:
        return ""
    gaps = tables["dispute_subgroup_gaps"].to_pandas()
    single = gaps[~gaps["by"].str.contains("×") & (gaps["lowest"] != "")]
    if single.empty:
        return ""
    worst = single.sort_values(
        ["ratio_ci_high", "lowest_rate"], kind="stable", na_position="last"
    ).iloc[0]
    v = cast(disparity.Verdict, str(worst["ratio_verdict"]))
    ratio = fmt.with_ci(
        worst["ratio"], worst["ratio_ci_low"], worst["ratio_ci_high"], fmt.unbounded_ratio
    )
    return (
        f"Disputes of erroneous records: of every attribute, the subgroup whose lower share "
        f"of disputes upheld the evidence supports most strongly is {worst['lowest']} "
        f"({worst['by']}), {fmt.share(worst['lowest_rate'])} upheld against "
        f"{fmt.share(worst['highest_rate'])} for {worst['highest']}; ratio {ratio} "
        f"(95% simultaneous); four-fifths rule: {disparity.verdict_words(v)}. Full tables: "
        "dispute_subgroups "
        "and dispute_subgroup_gaps."
    )


def _rate_of(subgroups: pd.DataFrame | None, gate: str, by: str, label: str) -> str:
    """A subgroup's approval rate with its interval, from ``gate_subgroups``."""
    if subgroups is None:
        return "n/a"
    hit = subgroups[
        (subgroups["gate"] == gate) & (subgroups["by"] == by) & (subgroups["subgroup"] == label)
    ]
    if hit.empty:
        return "n/a"
    r = hit.iloc[0]
    return fmt.with_ci(
        r["selection_rate"], r["selection_ci_low"], r["selection_ci_high"], fmt.share
    )
