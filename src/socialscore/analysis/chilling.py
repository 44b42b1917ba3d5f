"""Chilling: lawful acts the regime deters, against what the same citizens would have done.

Two measures of the same effect:

- **Within the run, exactly.** The behaviour kernel knows each citizen's
  probability of each act on each day, with the chilling factor
  ``exp(−κ · exposure)`` and without it, and records their sums per day,
  event and group (``daily_events``: ``expected``, ``expected_unchilled``,
  ``variance``). Over the measurement window the share of the behaviour the
  regime deterred is ``1 − expected / expected_unchilled``: an exact
  expectation given the run's states (the scores, exposures and friendships
  as they were on each day), with no sampling error. The acts that did
  happen give the same share with the draws' randomness
  (``chilling_realised_share``, with its 95% interval).
- **Against the counterfactual.** :func:`counterfactual_change` compares a
  behaviour's count in a run with its count in the no-scoring
  counterfactual on the same random numbers over the window, with a 95%
  interval from the days' paired counts. This also includes what chilling
  does through the scores it changes (a citizen deterred today keeps a
  better score tomorrow), and other feedback (stress).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from socialscore.measures import intervals
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, GROUP_LABELS
from socialscore.scenario.window import Window
from socialscore.simulation.layout import layout

#: The derived event of meeting a low-ranked friend, and the interaction it is part of.
INTERACTION = "interaction"
INTERACTION_LOW = "interaction_low_scorer"

#: Two-sided 95% normal quantile.
Z95: Final[float] = 1.959963984540054


@dataclass(frozen=True)
class Measure:
    """One metrics row: a value, its 95% interval (None: exact), the days it covers."""

    metric: str
    value: float
    subject: str
    grp: str
    ci: tuple[float, float] | None
    days: tuple[int, int]


@dataclass(frozen=True)
class Change:
    """A behaviour's count in a run against a baseline on the same draws, over a window."""

    change: float  # count / baseline count − 1
    ci: tuple[float, float]  # 95% interval
    count: float
    baseline: float
    days: int


def deterred_events(scenario: Scenario) -> list[str]:
    """Behaviours the regime can chill: lawful, deterrable, with a rate, penalised.

    An event is penalised when its rules' net points (as its operator sees
    them) are negative. An ``interaction`` counts the points of meeting a
    low-ranked friend too (guilt by association: the engine chills every
    interaction by them), and ``interaction_low_scorer`` is listed after it
    when it is penalised itself.
    """
    effective = layout(scenario).points  # 0 for a rule its operator has no data for
    points: dict[str, float] = {}
    for rule, value in zip(scenario.rules, effective, strict=True):
        points[rule.event] = points.get(rule.event, 0.0) + float(value)
    out: list[str] = []
    for event in CITIZEN_EVENTS:
        if event == INTERACTION_LOW:
            if INTERACTION in out and points.get(event, 0.0) < 0:
                out.append(event)
            continue
        spec = scenario.streams.get(event)
        if spec is None or spec.rate <= 0 or not (spec.legal and spec.deterrable):
            continue
        net = points.get(event, 0.0)
        if event == INTERACTION:
            net = min(net, net + points.get(INTERACTION_LOW, 0.0))
        if net < 0:
            out.append(event)
    return out


def _window_sums(events: pa.Table, event: str, window: Window) -> dict[str, np.ndarray]:
    """Per group (GROUP_LABELS order), the window's sums of one citizen event's columns."""
    sub = events.filter(
        pc.and_(
            pc.equal(events.column("entity"), "citizen"),
            pc.equal(events.column("event"), event),
        )
    )
    inside = window.mask(sub.column("day").to_numpy())
    group = np.asarray(sub.column("group").to_numpy(zero_copy_only=False))
    out = {}
    for name in ("events", "expected", "expected_unchilled", "variance"):
        values = np.asarray(sub.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
        out[name] = np.array(
            [values[inside & (group == label)].sum() for label in GROUP_LABELS], dtype=np.float64
        )
    return out


def measures(scenario: Scenario, events: pa.Table, window: Window) -> list[Measure]:
    """The chilling rows of the metrics table, from a run's ``daily_events``.

    For each deterred event (:func:`deterred_events`) and each group and all:
    ``chilling_forgone_share`` and ``chilling_forgone_acts`` (exact
    expectations given the run: no interval) and ``chilling_realised_share``
    (from the acts that happened; 95% interval from the Poisson-binomial
    variance Σ p(1 − p) of their count).
    """
    days = (window.start, window.end)
    out: list[Measure] = []
    for event in deterred_events(scenario):
        sums = _window_sums(events, event, window)
        for g, label in [*enumerate(GROUP_LABELS), (None, "all")]:
            part = {k: float(v.sum() if g is None else v[g]) for k, v in sums.items()}
            unchilled = part["expected_unchilled"]
            if unchilled <= 0:
                continue
            forgone = unchilled - part["expected"]
            out.append(
                Measure("chilling_forgone_share", forgone / unchilled, event, label, None, days)
            )
            out.append(Measure("chilling_forgone_acts", forgone, event, label, None, days))
            realised = 1.0 - part["events"] / unchilled
            half = Z95 * math.sqrt(max(part["variance"], 0.0)) / unchilled
            out.append(
                Measure(
                    "chilling_realised_share",
                    realised,
                    event,
                    label,
                    (realised - half, realised + half),
                    days,
                )
            )
    return out


def counterfactual_change(
    counts: np.ndarray, baseline: np.ndarray, window: Window, *, level: float = 0.95
) -> Change | None:
    """A behaviour's count in a run against a baseline on the same draws, over ``window``.

    ``counts`` and ``baseline`` hold the behaviour's events per day (summed
    over groups). The change is ``Σ counts / Σ baseline − 1`` over the
    window's days. Its interval is the ratio estimator's: the standard error
    is √(T / (T − 1) · Σ r_t²) / Σ b_t with r_t = c_t − R b_t, widened for
    the residuals' day-to-day correlation (lag-1 autocorrelation φ ≥ 0: the
    variance times (1 + φ) / (1 − φ), and T(1 − φ) / (1 + φ) effective days
    for the Student t quantile). A trend over the window widens it. None
    when the baseline has no events.
    """
    c = np.asarray(counts, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    inside = window.mask(np.arange(c.shape[0]))
    c, b = c[inside], b[inside]
    total_b = float(b.sum())
    if total_b <= 0:
        return None
    ratio = float(c.sum()) / total_b
    t = c.shape[0]
    if t >= 3:
        resid = c - ratio * b
        ss = float((resid * resid).sum())
        phi = float((resid[1:] * resid[:-1]).sum()) / ss if ss > 0 else 0.0
        phi = min(max(phi, 0.0), 0.99)
        inflation = (1.0 + phi) / (1.0 - phi)
        se = math.sqrt(t / (t - 1) * ss * inflation) / total_b
        effective = max(t / inflation, 2.0)
        half = intervals.t_quantile(0.5 + level / 2, effective - 1.0) * se
    else:
        half = math.inf
    return Change(ratio - 1.0, (ratio - 1.0 - half, ratio - 1.0 + half), c.sum(), total_b, t)
