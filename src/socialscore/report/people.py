"""The report's "People" section: a few telling stories from the run.

Read from the run's ``people`` table (:func:`socialscore.analysis.trails.people_table`):
each case's citizen, the decision the story turns on, its reasons, what would
have changed it, and the score's course as a small line. The whole trail of
any citizen is ``socialscore explain RUN CITIZEN``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from socialscore.report import format as fmt

INTRODUCTION = (
    "The regime is felt one person at a time. These are synthetic citizens of this run, "
    "picked from {pool} citizens whose days were kept (spread evenly over the nation): the "
    "first of each kind of case found. Their scores are drawn day by day; the decision is "
    "the one each story turns on, with the reasons the gate's score gives and what in the "
    "citizen's own record would have changed it. Any citizen's full trail is printed by "
    "the command: socialscore explain {run_id} CITIZEN."
)

#: Size of the score line, in pixels.
WIDTH, HEIGHT = 240, 48


@dataclass(frozen=True)
class Story:
    """One case, every part in words (and the score line as SVG points)."""

    case: str
    citizen: int
    attributes: str
    decision: str
    reasons: str
    counterfactual: str
    points: str  # the score line's polyline points
    course: str  # the score's course in words (the line's text equivalent)
    command: str


def _line(score: list[int], lo: int, hi: int) -> str:
    """The score's course, scaled to its own range padded by a tenth of the scale's."""
    if not score:
        return ""
    pad = (hi - lo) / 10
    bottom, top = max(lo, min(score) - pad), min(hi, max(score) + pad)
    span = max(top - bottom, 1.0)
    step = WIDTH / max(len(score) - 1, 1)
    return " ".join(
        f"{k * step:.1f},{HEIGHT - (x - bottom) / span * HEIGHT:.1f}" for k, x in enumerate(score)
    )


def rows(tables: dict[str, pa.Table], *, run_id: str, lo: int, hi: int) -> list[Story]:
    """The stories of a run (empty when it has no ``people`` table)."""
    if "people" not in tables:
        return []
    out = []
    for r in tables["people"].to_pylist():
        score: list[int] = list(r["score"] or [])
        decision = ""
        if r["gate"]:
            threshold = r["threshold"]
            against = (
                "" if threshold is None or math.isnan(threshold) else f" against {threshold:g}"
            )
            decision = (
                f"Day {r['day']}, {r['gate']}: {r['outcome']}. The gate read the "
                f"{r['view']}: {r['score_read']}{against}."
            )
        course = (
            f"Score {score[0]} after day 0, {score[-1]} at the end (lowest {min(score)}, "
            f"highest {max(score)}); published percentile at the end "
            f"{fmt.share(r['percentile_end'])}."
            if score
            else ""
        )
        out.append(
            Story(
                case=r["case"],
                citizen=int(r["citizen"]),
                attributes=r["attributes"],
                decision=decision,
                reasons=r["reasons"],
                counterfactual=r["counterfactual"],
                points=_line(score, lo, hi),
                course=course,
                command=f"socialscore explain {run_id} {r['citizen']}",
            )
        )
    return out


def introduction(run_id: str, pool: int) -> str:
    """The section's opening words."""
    return INTRODUCTION.format(run_id=run_id, pool=f"{pool:,}")


def section(tables: dict[str, pa.Table], facts: Any, lo: int, hi: int, pool: int) -> dict[str, Any]:
    """Everything the template needs for the section."""
    return {
        "stories": rows(tables, run_id=facts.run_id, lo=lo, hi=hi),
        "introduction": introduction(facts.run_id, pool),
        "width": WIDTH,
        "height": HEIGHT,
    }
