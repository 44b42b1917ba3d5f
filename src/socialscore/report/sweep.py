"""The sweep report: each headline harm against each varied parameter, and sensitivity.

It renders what :mod:`socialscore.studies.sweep` computed (:class:`SweepFacts`)
and writes nothing.

A parameter whose values are all numbers is drawn as a line against its
values, and its endpoint change (lowest to highest value) may be claimed. A
parameter with any other value (a string such as an event name, a boolean) is
categorical: drawn as one point per category, in the grid file's order, with a
table of each measure by category; no change "across" it is claimed. A sweep
whose runs all failed still gets its report: the failures, and no charts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.measures.intervals import NO_INTERVAL, MeanInterval
from socialscore.report import format as fmt
from socialscore.report.build import ENVIRONMENT, TERMS, safe_json
from socialscore.report.charts import Chart, layout
from socialscore.report.headlines import Headline

#: Words for the sensitivity indices.
INDEX_WORDS = {
    "S1": "first-order Sobol index: the share of the output's variance this parameter causes alone",
    "ST": "total Sobol index: the share it causes alone or together with other parameters",
    "mu_star": "Morris mu*: the mean absolute change of the output per step of the parameter",
    "sigma": "Morris sigma: how much that change varies (interactions, non-linearity)",
}

#: Measures whose move across a numeric parameter is a headline (of a factorial grid).
CHANGE_METRICS = ("blacklisted_share", "adverse_impact_ratio")
#: One colour for every panel's mean (its band is the same colour, lighter).
MEAN_COLOUR = "#3b6ea5"


@dataclass(frozen=True)
class EndpointChange:
    """A metric at the lowest and highest value of a parameter, and their paired difference."""

    low_value: float  # the parameter's lowest value
    high_value: float  # and its highest
    at_low: float  # the metric's mean over seeds there
    at_high: float
    difference: MeanInterval  # at_high - at_low, paired by seed, with its t interval


@dataclass(frozen=True)
class Failure:
    """A run of the sweep that failed: its point, seed, parameters and error."""

    point: int
    seed: int
    params: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class SweepFacts:
    """Everything the sweep report shows, computed by :mod:`socialscore.studies.sweep`.

    Attributes:
        values: Per-run values (point, seed, one column per parameter, metric,
            subject, grp, value), a categorical parameter's values as their labels.
        categories: The categorical parameters and their labels, in file order.
        summaries: A factorial design's summary per parameter: each measure's
            mean over seeds at each value, with its interval (columns metric,
            subject, value, mean, ci_low, ci_high, seeds); none for a sample design.
        changes: Each measure's change across each numeric parameter, by
            ``(parameter, metric, subject)``.
        indices: The sensitivity indices (empty for a factorial design).
        method: ``"sobol"``, ``"morris"``, or ``""`` for a factorial design.
    """

    sweep_id: str
    name: str
    base: str
    parameters: list[str]
    points: int
    seeds: list[int]
    done: int
    skipped: int
    failures: list[Failure]
    values: pd.DataFrame
    categories: dict[str, list[str]]
    summaries: dict[str, pd.DataFrame]
    changes: dict[tuple[str, str, str], EndpointChange]
    indices: pd.DataFrame
    method: str
    #: Each parameter in words with its key path (default: the key path alone).
    words: dict[str, str] = field(default_factory=dict)

    def named(self, parameter: str) -> str:
        """A parameter in words."""
        return self.words.get(parameter, parameter)


def _label(metric: str, subject: str) -> str:
    text = metric.replace("_", " ")
    return f"{text}: {subject}" if subject else text


def _parameter_charts(
    summaries: dict[str, pd.DataFrame],
    parameters: list[str],
    cats: dict[str, list[str]] | None = None,
    words: dict[str, str] | None = None,
) -> list[Chart]:
    """One chart per parameter with a summary: each measure against the parameter's values."""
    cats = cats or {}
    words = words or {}
    charts: list[Chart] = []
    for k, parameter in enumerate(parameters):
        summary = summaries.get(parameter)
        if summary is None or summary.empty:
            continue
        order = cats.get(parameter)
        measures = list(dict.fromkeys(zip(summary.metric, summary.subject, strict=True)))
        cols = 3
        rows = (len(measures) + cols - 1) // cols
        fig = make_subplots(
            rows=rows,
            cols=cols,
            subplot_titles=[_label(m, s) for m, s in measures],
            horizontal_spacing=0.09,
            vertical_spacing=0.5 / max(rows, 1),
        )
        for j, (metric, subject) in enumerate(measures):
            part = summary[(summary.metric == metric) & (summary.subject == subject)]
            r, c = j // cols + 1, j % cols + 1
            if order is not None:
                _category_traces(fig, part, order, r, c)
                continue
            part = part.sort_values("value")
            x = part.value.tolist()
            fig.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=part.ci_high.tolist() + part.ci_low.tolist()[::-1],
                    fill="toself",
                    mode="lines",  # an area: its edges are no data points
                    line={"width": 0},
                    fillcolor="rgba(59,110,165,0.2)",
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=r,
                col=c,
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=part["mean"],
                    mode="lines+markers",
                    showlegend=False,
                    line={"color": MEAN_COLOUR},
                    marker={"color": MEAN_COLOUR},
                ),
                row=r,
                col=c,
            )
        figure = layout(fig, x="", y="")
        figure["layout"]["height"] = 260 * rows + 60
        several = int(summary.seeds.max()) > 1
        if order is None:
            what = (
                f"One panel per measure. The line is the mean over seeds at each value of "
                f"{parameter} (averaged over the other parameters); "
            ) + (
                "the shaded band is the 95% Student t interval of that mean across seeds."
                if several
                else f"{NO_INTERVAL} (no band)."
            )
        else:
            what = (
                f"One panel per measure, one point per category of {parameter} (the categories "
                "are not ordered, so no line joins them): the mean over seeds (averaged over "
                "the other parameters); "
            ) + (
                "the bar is the 95% Student t interval of that mean across seeds."
                if several
                else f"{NO_INTERVAL} (no bar)."
            )
        title = f"Harms against {words.get(parameter, parameter)}"
        charts.append(Chart(f"param-{k}", title, what, figure))
    return charts


def _category_traces(fig: go.Figure, part: pd.DataFrame, order: list[str], r: int, c: int) -> None:
    """One marker per category with its interval as an error bar, categories in file order."""
    rank = {label: n for n, label in enumerate(order)}
    part = part.assign(_rank=part["value"].map(rank)).sort_values("_rank")
    mean = part["mean"].to_numpy(dtype=np.float64)
    bar = {
        "type": "data",
        "symmetric": False,
        "array": np.nan_to_num(part.ci_high.to_numpy(dtype=np.float64) - mean).tolist(),
        "arrayminus": np.nan_to_num(mean - part.ci_low.to_numpy(dtype=np.float64)).tolist(),
    }
    fig.add_trace(
        go.Scatter(
            x=part["value"].tolist(),
            y=mean.tolist(),
            mode="markers",
            error_y={**bar, "color": MEAN_COLOUR},
            marker={"color": MEAN_COLOUR},
            showlegend=False,
        ),
        row=r,
        col=c,
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, row=r, col=c)


def category_rows(
    summaries: dict[str, pd.DataFrame], cats: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Each measure's mean over seeds in each category of each categorical parameter.

    Returns:
        Rows with parameter, measure, category, mean, interval (words), seeds;
        measures in name order, categories in the grid file's order.
    """
    rows: list[dict[str, Any]] = []
    for parameter, order in cats.items():
        summary = summaries.get(parameter)
        if summary is None:
            continue
        rank = {label: n for n, label in enumerate(order)}
        keyed = sorted(
            summary.itertuples(index=False),
            key=lambda r: (r.metric, r.subject, rank.get(r.value, len(rank))),
        )
        for r in keyed:
            low, high = float(r.ci_low), float(r.ci_high)
            has_interval = not (math.isnan(low) or math.isnan(high))
            rows.append(
                {
                    "parameter": parameter,
                    "measure": _label(str(r.metric), str(r.subject)),
                    "category": r.value,
                    "mean": f"{float(r.mean):.4g}",
                    "interval": f"[{low:.4g}, {high:.4g}]" if has_interval else NO_INTERVAL,
                    "seeds": int(r.seeds),
                }
            )
    return rows


def _sensitivity_chart(indices: pd.DataFrame, method: str) -> Chart | None:
    if indices.empty:
        return None
    shown = ("S1", "ST") if method == "sobol" else ("mu_star",)
    measures = list(dict.fromkeys(zip(indices.metric, indices.subject, strict=True)))
    cols = 2
    rows = (len(measures) + cols - 1) // cols
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[_label(m, s) for m, s in measures],
        horizontal_spacing=0.25,
        vertical_spacing=0.5 / max(rows, 1),
    )
    for j, (metric, subject) in enumerate(measures):
        part = indices[(indices.metric == metric) & (indices.subject == subject)]
        for index in shown:
            sub = part[part["index"] == index]
            fig.add_trace(
                go.Bar(
                    y=sub.parameter,
                    x=sub.value,
                    name=index,
                    orientation="h",
                    error_x={"type": "data", "array": sub.conf.fillna(0).tolist()},
                    showlegend=j == 0,
                    legendgroup=index,
                ),
                row=j // cols + 1,
                col=j % cols + 1,
            )
    figure = layout(fig, x="", y="")
    figure["layout"]["height"] = 300 * rows + 80
    what = "first-order (S1) and total (ST) Sobol indices" if method == "sobol" else "Morris mu*"
    return Chart(
        "sensitivity",
        "Which parameters drive each harm",
        f"One panel per measure, one bar per parameter: its {what}, with the 95% interval. "
        "A long bar means the parameter drives the measure; S1 near ST means it acts alone.",
        figure,
    )


def _headlines(facts: SweepFacts) -> list[Headline]:
    frame, indices = facts.values, facts.indices
    out = [
        Headline(
            f"{facts.done:,} runs completed, {len(facts.failures):,} failed "
            f"({facts.skipped:,} were already done and were not run again).",
            bool(facts.failures),
        )
    ]
    if not facts.done:
        out.append(
            Headline(
                "No run completed, so there is nothing to draw: the failed runs below say why.",
                True,
            )
        )
    if not indices.empty:
        key = "ST" if "ST" in set(indices["index"]) else "mu_star"
        top = indices[indices["index"] == key]
        for (metric, subject), part in top.groupby(["metric", "subject"], sort=True):
            best = part.sort_values("value", ascending=False).iloc[0]
            if best.value > 0:
                out.append(
                    Headline(
                        f"{_label(str(metric), str(subject)).capitalize()} is driven most by "
                        f"{facts.named(str(best.parameter))} ({key} {best.value:.2f}).",
                        False,
                    )
                )
    elif not frame.empty:
        for parameter in facts.parameters:
            if parameter in facts.categories:  # no "from low to high" across categories
                continue
            pairs = (
                frame[["metric", "subject"]].drop_duplicates().sort_values(["metric", "subject"])
            )
            for metric, subject in pairs.itertuples(index=False):
                if metric not in CHANGE_METRICS:
                    continue
                change = facts.changes.get((parameter, str(metric), str(subject)))
                if change is None:
                    continue
                out.append(
                    Headline(
                        change_sentence(facts.named(parameter), _label(metric, subject), change),
                        False,
                    )
                )
    return out[:8]


def change_sentence(parameter: str, label: str, change: EndpointChange) -> str:
    """A metric's move across a parameter's range, in the words its interval supports."""
    span = f"Across {parameter} from {change.low_value:g} to {change.high_value:g}"
    d = change.difference
    if not d.has_interval:
        return (
            f"{span}, {label} was {change.at_low:.3g} and {change.at_high:.3g} on one seed "
            f"({NO_INTERVAL}, so no change can be claimed)."
        )
    bounds = f"95% interval of the change {d.low:+.3g} to {d.high:+.3g} over {d.n} seeds"
    if d.side(0.0) == "straddles":
        return (
            f"{span}, no measurable difference in {label} ({change.at_low:.3g} and "
            f"{change.at_high:.3g}; {bounds})."
        )
    return f"{span}, {label} went from {change.at_low:.3g} to {change.at_high:.3g} ({bounds})."


def build_sweep(facts: SweepFacts) -> str:
    """Return the sweep report as one self-contained HTML document."""
    frame, indices = facts.values, facts.indices
    charts = _parameter_charts(facts.summaries, facts.parameters, facts.categories, facts.words)
    sens = _sensitivity_chart(indices, facts.method)
    if sens is not None:
        charts.insert(0, sens)
    used = sorted(set(frame.metric)) if not frame.empty else []
    glossary = sorted(TERMS.items()) + [
        (m.replace("_", " "), DESCRIPTIONS[m]) for m in used if m in DESCRIPTIONS
    ]
    glossary += [(k, v) for k, v in INDEX_WORDS.items() if not indices.empty]
    return ENVIRONMENT.get_template("sweep.html.j2").render(
        facts=facts,
        fmt=fmt,
        headlines=_headlines(facts),
        by_category=category_rows(facts.summaries, facts.categories),
        charts=charts,
        chart_data=safe_json({c.key: c.figure for c in charts}),
        failures=facts.failures,
        indices=_index_rows(indices),
        glossary=glossary,
        plotly_js=get_plotlyjs(),
    )


def _index_rows(indices: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in indices.itertuples():
        rows.append(
            {
                "measure": _label(str(r.metric), str(r.subject)),
                "parameter": r.parameter,
                "index": r.index,
                "value": f"{r.value:.3f}",
                "conf": "" if pd.isna(r.conf) else f"± {r.conf:.3f}",
            }
        )
    return rows
