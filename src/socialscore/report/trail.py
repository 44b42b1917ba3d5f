"""A decision trail as an offline HTML page (``socialscore explain --format html``).

The page tells one synthetic citizen's story to the run report's standard:
no script, no request, every verdict in words and a symbol, the score's
course drawn as a line with the adverse decisions marked and the same in
words for a screen reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialscore.report.build import ENVIRONMENT

if TYPE_CHECKING:
    from socialscore.analysis.trails import Trail

#: The chart's size in pixels and its left margin.
WIDTH, HEIGHT, LEFT = 720, 260, 44
#: Most record changes listed (the largest; the rest are counted).
MAX_CHANGES = 300


@dataclass(frozen=True)
class Chart:
    """The score chart: polyline points, axis ticks, marks and words."""

    width: int
    height: int
    left: int
    points: str
    ticks: list[tuple[float, str]]
    marks: list[tuple[float, float, str]]
    words: str


def _chart(t: Trail) -> Chart:
    score = t.score
    if not score:
        return Chart(WIDTH, HEIGHT, LEFT, "", [], [], "No day was run.")
    lo, hi = min(score), max(score)
    pad = max((hi - lo) * 0.1, 5)
    bottom, top = lo - pad, hi + pad
    inner_w, inner_h = WIDTH - LEFT, HEIGHT - 20

    def px(day: int) -> float:
        return LEFT + day / max(len(score) - 1, 1) * inner_w

    def py(value: float) -> float:
        return 4 + (top - value) / (top - bottom) * (inner_h - 8)

    points = " ".join(f"{px(d):.1f},{py(x):.1f}" for d, x in enumerate(score))
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if s * 5 >= top - bottom)
    first = int(bottom // step + 1) * step
    ticks = [(py(v), str(v)) for v in range(first, int(top) + 1, step)]
    marks = [
        (px(d.day), py(score[d.day]), f"day {d.day}: {d.gate}, {d.outcome}")
        for d in t.adverse
        if d.day < len(score)
    ]
    words = (
        f"The score was {score[0]} after day 0 and {score[-1]} after day {len(score) - 1}; "
        f"lowest {lo}, highest {hi}."
    )
    return Chart(WIDTH, HEIGHT, LEFT, points, ticks, marks, words)


def page(t: Trail) -> str:
    """The trail's HTML page."""
    who = ", ".join(f"{k}: {v}" for k, v in t.attributes.items())
    adverse = t.adverse
    decided = len(t.decisions)
    summary = (
        f"{decided} gate decisions, {decided - len(adverse)} in the citizen's favour and "
        f"{len(adverse)} against; {len(t.changes)} changes of the record. On the last day: "
        f"score {t.final['score']}, published percentile {t.percentile[-1]:.1%}, "
        f"{'with' if t.final['has_mortgage'] else 'without'} a mortgage, "
        f"{'employed' if t.final['employed'] else 'without a job'}."
        if t.percentile
        else "No day was run."
    )
    changes = sorted(t.changes, key=lambda c: -abs(c.points))[:MAX_CHANGES]
    changes.sort(key=lambda c: c.day)
    left_out = len(t.changes) - len(changes)
    record_words = (
        "Every change of the record that decay does not explain: points earned or cost by a "
        "rule, records cleared by paying, points expiring, erroneous records added or removed."
        + (
            f" The {len(changes)} largest are listed; {left_out} smaller ones are left out."
            if left_out
            else ""
        )
    )
    decisions_words = (
        "Each decision with the score the gate read, what it required, the reasons it gives "
        "(the biggest costs in that score) and, for each decision against the citizen, the "
        "fewest of their own penalties whose absence would have changed it, or why nothing in "
        "their own conduct could have."
    )
    gone = sum(f.dropped_on >= 0 for f in t.friends)
    friends_words = (
        f"The citizen's {len(t.friends)} friends as the lists were drawn, their published "
        f"scores, and the {gone} the citizen dropped, when and why. (A low-scoring friend "
        "lowers the network term of the score where the regime counts it.)"
        if t.friends
        else "The citizen had no friends in the lists this nation drew."
    )
    if t.dropped_by:
        friends_words += f" Dropped by {len(t.dropped_by)} who counted them as a friend: " + (
            "; ".join(f"citizen {who} on day {day} ({why})" for who, day, why in t.dropped_by) + "."
        )
    return ENVIRONMENT.get_template("trail.html.j2").render(
        friends_words=friends_words,
        t=t,
        who=who,
        summary=summary,
        chart=_chart(t),
        changes=changes,
        record_words=record_words,
        decisions_words=decisions_words,
    )
