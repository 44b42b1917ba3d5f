"""The decomposition of each gate's gap in words: a table per gate and a sentence.

Shared by the run report (its section "How much is assumption") and the
audit's terminal output. The arithmetic and what each part means are in
:mod:`socialscore.analysis.decomposition`.
"""

from __future__ import annotations

import math
from typing import Any

from socialscore.analysis.decomposition import Decomposition, GateParts, Part

#: What the section says before the tables.
INTRODUCTION = (
    "Every disparity below starts from assumptions about how the two synthetic groups "
    "differ (set in the scenario: the minority's income shift, its trait shifts, its "
    "clustering in some regions, homophily of friendships, rate multipliers); none is "
    "measured from a real population. To see how much of a gate's disparity those "
    "assumptions explain and how much the regime's own mechanics add (ranking against "
    "everyone, the network term, thresholds, feedback), the same scenario was run again on "
    "the same seed and the same random draws with every group difference removed, and with "
    "each removed alone. The disparity split is the selection gap: the majority's selection "
    "rate minus the minority's over the measurement window, in percentage points (positive: "
    "the minority's decisions go its way less often). Each part carries a 95% interval from "
    "16 replicates of citizens left out one at a time in every run at once (a paired "
    "jackknife); it covers which citizens the nation happened to draw, not what is drawn "
    "once per region, which another seed redraws. A part is called nonzero only when its "
    "interval excludes 0; with many parts, about one in twenty that are truly 0 will be "
    "called nonzero by chance. One-at-a-time parts need not add up to the explained part: "
    "assumptions act together, and the row 'interactions' holds the difference."
)

#: Each column of a gate's table, in words.
COLUMNS = (
    ("part", "what part of the gap"),
    ("gap", "percentage points, 95% interval in brackets"),
    ("nonzero", "whether the interval excludes 0"),
)


def points(value: float) -> str:
    """A share as signed percentage points with one decimal: "+4.8"."""
    if not math.isfinite(value):
        return "n/a"
    shown = f"{100 * value:+.1f}"
    return "0.0" if shown in ("+0.0", "-0.0") else shown


def with_interval(p: Part) -> str:
    """The part and its interval: +4.8 (+2.2 to +7.4); no interval said as such."""
    if not math.isfinite(p.value):
        return "n/a"
    if not (math.isfinite(p.ci_low) and math.isfinite(p.ci_high)):
        return f"{points(p.value)} (no interval)"
    return f"{points(p.value)} ({points(p.ci_low)} to {points(p.ci_high)})"


def _nonzero(p: Part) -> str:
    if not (math.isfinite(p.ci_low) and math.isfinite(p.ci_high)):
        return "no interval"
    return "yes" if p.nonzero else "no: the interval holds 0"


def rows(g: GateParts) -> list[dict[str, str]]:
    """One gate's table: the total, the regime alone, the explained part, each assumption."""
    parts: list[tuple[str, str, Part]] = [
        ("total", "total: the gap in the run as configured", g.total),
        ("regime", "the regime alone: every assumed group difference removed", g.regime),
        (
            "assumed",
            "explained by the assumed group differences (total − regime alone)",
            g.assumed,
        ),
        *(("part", f"of which, one at a time: {a.words}", p) for a, p in g.parts),
        (
            "interactions",
            "interactions: explained part − the sum of the one-at-a-time parts",
            g.interactions,
        ),
    ]
    return [
        {"part_class": kind, "part": words, "gap": with_interval(p), "nonzero": _nonzero(p)}
        for kind, words, p in parts
    ]


def _range(p: Part) -> str:
    """The interval alone: "+2.2 to +7.4" (or "no interval")."""
    if not (math.isfinite(p.ci_low) and math.isfinite(p.ci_high)):
        return "no interval"
    return f"{points(p.ci_low)} to {points(p.ci_high)}"


def _measured(p: Part) -> str:
    if not math.isfinite(p.value):
        return "nothing (a group had no decision in a run)"
    if not (math.isfinite(p.ci_low) and math.isfinite(p.ci_high)):
        return f"{points(p.value)} points (no interval: a group had no decision in a replicate)"
    if p.nonzero:
        return f"{points(p.value)} points ({_range(p)})"
    return f"no measurable part ({points(p.value)} points, {_range(p)}: the interval holds 0)"


def sentence(g: GateParts) -> str:
    """One gate's decomposition in words."""
    t = g.total
    if not math.isfinite(t.value):
        return f"{g.gate}: a group had no decision in a run; no split."
    if t.nonzero:
        side = "below" if t.value > 0 else "above"
        head = (
            f"{g.gate}: the minority's selection rate is {abs(100 * t.value):.1f} points {side} "
            f"the majority's (gap {points(t.value)} points, 95% interval {_range(t)})."
        )
    else:
        head = (
            f"{g.gate}: no measurable gap between the groups' selection rates "
            f"({points(t.value)} points, 95% interval {_range(t)})."
        )
    words = [
        head,
        f"The assumed group differences explain {_measured(g.assumed)}; the regime alone, with "
        f"groups identical in every assumption, makes {_measured(g.regime)}.",
    ]
    named = [f"{a.words}, {_measured(p)}" for a, p in g.parts]
    if named:
        words.append("One at a time: " + "; ".join(named) + ".")
        if g.interactions.nonzero:
            words.append(f"The parts do not add up: interactions {_measured(g.interactions)}.")
    return " ".join(words)


def section(d: Decomposition | None, *, run_population: int) -> dict[str, Any] | None:
    """The report section's data (None: the decomposition was not computed)."""
    if d is None:
        return None
    size = f"{d.population:,} citizens"
    if d.population != run_population:
        size += f" (the run above has {run_population:,}: its gate table is a different run)"
    assumed = "; ".join(a.words for a in d.assumptions) or "none (the groups differ only in size)"
    return {
        "introduction": INTRODUCTION,
        "facts": (
            f"Days {d.days[0]}–{d.days[1]}, {d.runs} runs of {size} on the same seed. "
            f"Assumed group differences: {assumed}."
        ),
        "columns": COLUMNS,
        "gates": [{"gate": g.gate, "rows": rows(g), "sentence": sentence(g)} for g in d.gates],
    }
