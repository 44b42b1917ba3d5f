"""Choosing runs from the catalogue's list: by scenario, tag, date, sweep and age.

``socialscore runs`` and ``socialscore rm`` read :meth:`RunStore.list_runs`
(every complete run, newest first) and keep the rows asked for here. A run
made by a sweep carries the tag ``sweep`` (the sweep's id); there are often
thousands of them, so a listing leaves them out unless asked and counts
what it left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import pandas as pd

__all__ = [
    "SWEEP_TAG",
    "Listing",
    "ListingError",
    "RunFilter",
    "older_than",
    "parse_age",
    "parse_tag",
    "select",
    "tag_text",
    "tags_of",
]

SWEEP_TAG: Final = "sweep"
"""The tag a sweep puts on each of its runs (its value: the sweep's id)."""

#: Hours in each unit an age may be written in (``12h``, ``30d``, ``2w``).
AGE_UNITS: Final = {"h": 1, "d": 24, "w": 24 * 7}

_AGE_RE: Final = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)

ERR_TAG: Final = (
    "Bad tag filter {text!r}: write it as KEY=VALUE, e.g. --tag rerun_of=RUN or --tag audit=true."
)
ERR_AGE: Final = (
    "Bad age {text!r}: write a whole number and a unit, h (hours), d (days) or w (weeks), "
    "e.g. 12h, 30d or 2w."
)
ERR_LIMIT: Final = "The run limit must be 1 or more (got {limit})."


class ListingError(ValueError):
    """A filter written in a form that is not understood (the message shows the form)."""


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list.

    Attributes:
        scenario: Only runs of the scenario with this exact name.
        tags: Only runs with every one of these tags, as ``(key, value)`` text
            (a value compared as :func:`tag_text` writes the run's).
        since: Only runs created on this day (UTC) or later.
        sweep: Only the runs of this sweep.
        sweeps: Also list the runs of sweeps (left out otherwise, unless
            ``sweep`` names one).
    """

    scenario: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    since: date | None = None
    sweep: str | None = None
    sweeps: bool = False


@dataclass(frozen=True)
class Listing:
    """The runs chosen, the newest first, and what was left out.

    Attributes:
        frame: The runs kept (at most the limit), columns as in
            :meth:`RunStore.list_runs`.
        matched: Runs that match the filter (kept or beyond the limit).
        hidden_sweep_runs: Runs of sweeps that match every other condition
            but were left out because sweeps were not asked for.
    """

    frame: pd.DataFrame
    matched: int
    hidden_sweep_runs: int

    @property
    def omitted(self) -> int:
        """Matching runs beyond the limit."""
        return self.matched - len(self.frame)


def parse_tag(text: str) -> tuple[str, str]:
    """A tag filter ``KEY=VALUE`` as ``(key, value)``.

    Raises:
        ListingError: If there is no ``=`` or no key.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ListingError(ERR_TAG.format(text=text))
    return key.strip(), value


def parse_age(text: str) -> timedelta:
    """An age such as ``12h``, ``30d`` or ``2w`` as a time span.

    Raises:
        ListingError: If the text is not a whole number followed by h, d or w.
    """
    found = _AGE_RE.match(text)
    if found is None:
        raise ListingError(ERR_AGE.format(text=text))
    return timedelta(hours=int(found.group(1)) * AGE_UNITS[found.group(2).lower()])


def tag_text(value: Any) -> str:
    """A tag's value as text: a string as it is, anything else as JSON (``true``, ``3``)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def tags_of(cell: Any) -> dict[str, Any]:
    """The tags of a run from the catalogue's JSON text (none when it is not a JSON object)."""
    try:
        tags = json.loads(cell or "{}")
    except (TypeError, ValueError):
        return {}
    return tags if isinstance(tags, dict) else {}


def select(runs: pd.DataFrame, chosen: RunFilter, *, limit: int | None = None) -> Listing:
    """The runs a filter keeps, the newest first, at most ``limit`` of them.

    Args:
        runs: Rows of :meth:`RunStore.list_runs` (newest first).
        chosen: The conditions.
        limit: Keep at most this many runs (``None``: every one).

    Returns:
        The runs kept, with how many matched and how many sweep runs were left out.

    Raises:
        ListingError: If ``limit`` is below 1.
    """
    if limit is not None and limit < 1:
        raise ListingError(ERR_LIMIT.format(limit=limit))
    tags = [tags_of(cell) for cell in runs["tags"]]
    wanted = pd.Series(
        [_tags_match(t, chosen) for t in tags], index=runs.index, dtype=bool
    ) & _columns_match(runs, chosen)
    of_sweep = pd.Series([SWEEP_TAG in t for t in tags], index=runs.index, dtype=bool)
    hidden = 0
    if chosen.sweep is None and not chosen.sweeps:
        hidden = int((wanted & of_sweep).sum())
        wanted &= ~of_sweep
    kept = runs.loc[wanted]
    shown = kept if limit is None else kept.head(limit)
    return Listing(shown.reset_index(drop=True), len(kept), hidden)


def older_than(runs: pd.DataFrame, age: timedelta, *, now: datetime | None = None) -> pd.DataFrame:
    """The runs created more than ``age`` before ``now`` (default: this moment), newest first.

    Args:
        runs: Rows of :meth:`RunStore.list_runs` (``created_at`` in UTC, naive).
        age: How old a run must be.
        now: The moment to count from (an aware or UTC-naive datetime).

    Returns:
        The old runs' rows.
    """
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    cutoff = pd.Timestamp(moment - age)
    return runs.loc[pd.to_datetime(runs["created_at"]) < cutoff].reset_index(drop=True)


def _columns_match(runs: pd.DataFrame, chosen: RunFilter) -> pd.Series:
    """Rows whose scenario and creation day satisfy the filter."""
    keep = pd.Series(True, index=runs.index, dtype=bool)
    if chosen.scenario is not None:
        keep &= runs["scenario_name"] == chosen.scenario
    if chosen.since is not None:
        keep &= pd.to_datetime(runs["created_at"]) >= pd.Timestamp(chosen.since)
    return keep


def _tags_match(tags: dict[str, Any], chosen: RunFilter) -> bool:
    """Whether a run's tags hold every tag asked for, and its sweep if one is named."""
    if chosen.sweep is not None and tag_text(tags.get(SWEEP_TAG)) != chosen.sweep:
        return False
    return all(key in tags and tag_text(tags[key]) == value for key, value in chosen.tags)
