"""Numbers for people: thousands separators, percentages, ratios."""

from __future__ import annotations

import math
from collections.abc import Callable


def count(value: float) -> str:
    """A whole number with thousands separators: 1,234,567."""
    if math.isnan(value):
        return "n/a"
    return f"{round(value):,}"


def share(value: float) -> str:
    """A share as a percentage with sensible precision: 12%, 3.4%, 0.12%."""
    if math.isnan(value):
        return "n/a"
    pct = 100.0 * value
    if 0 < abs(pct) < 0.01:
        return "<0.01%" if pct > 0 else "-<0.01%"
    if pct == 0 or abs(pct) >= 10:
        return f"{pct:.0f}%"
    if abs(pct) >= 1:
        return f"{pct:.1f}%"
    return f"{pct:.2f}%"


def points(value: float) -> str:
    """A difference of two shares in percentage points: 12 points, 3.4 points."""
    if math.isnan(value):
        return "n/a"
    text = share(value)
    return text[:-1] + (" point" if text[:-1] in ("1", "-1") else " points")


def ratio(value: float) -> str:
    """A ratio or a correlation with two decimals."""
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f}"


def unbounded_ratio(value: float) -> str:
    """A ratio that may be infinite (a zero denominator): "∞", else :func:`ratio`."""
    return "∞" if math.isinf(value) else ratio(value)


def with_ci(value: float, low: float, high: float, show: Callable[[float], str]) -> str:
    """A figure and its 95% interval in words: "0.94 (0.87–1.01)"; "n/a" without a figure."""
    if math.isnan(value):
        return "n/a"
    if math.isnan(low) or math.isnan(high):
        return show(value)
    return f"{show(value)} ({show(low)}–{show(high)})"


def score(value: float) -> str:
    """A score with one decimal."""
    if math.isnan(value):
        return "n/a"
    return f"{value:,.1f}"


def significant(value: float, digits: int = 3, *, sign: bool = False) -> str:
    """A number to ``digits`` significant digits, never in scientific notation.

    0.0000123 → "0.0000123", 1234.5 → "1,235", with ``sign`` "+0.0000123".
    """
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return ("+" if sign and value > 0 else "") + ("∞" if value > 0 else "-∞")
    plus = "+" if sign and value >= 0 else ""
    if value == 0:
        return f"{plus}0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{plus}{value:,.{min(decimals, 12)}f}"
