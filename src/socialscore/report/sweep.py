"""The sweep report: each headline harm against each varied parameter, and sensitivity.

A parameter whose values are all numbers is drawn as a line against its
values, and its endpoint change (lowest to highest value) may be claimed. A
parameter with any other value (a string such as an event name, a boolean) is
categorical: drawn as one point per category, in the grid file's order, with a
table of each measure by category; no change "across" it is claimed. A sweep
whose runs all failed still gets its report: the failures, and no charts.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.parquet as pq
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.measures.intervals import NO_INTERVAL, mean_interval
from socialscore.report import format as fmt
from socialscore.report.build import ENVIRONMENT, TERMS, safe_json
from socialscore.report.charts import Chart, layout
from socialscore.report.headlines import Headline

if TYPE_CHECKING:
    from pathlib import Path

    from socialscore.store.catalogue import RunStore
    from socialscore.studies.grid import Grid
    from socialscore.studies.sweep import EndpointChange, SweepResult

#: Words for the sensitivity indices.
INDEX_WORDS = {
    "S1": "first-order Sobol index: the share of the output's variance this parameter causes alone",
    "ST": "total Sobol index: the share it causes alone or together with other parameters",
    "mu_star": "Morris mu*: the mean absolute change of the output per step of the parameter",
    "sigma": "Morris sigma: how much that change varies (interactions, non-linearity)",
}


def _label(metric: str, subject: str) -> str:
    text = metric.replace("_", " ")
    return f"{text}: {subject}" if subject else text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def category_label(value: Any) -> str:
    """How a categorical parameter's value is shown and stored: a string as is, else JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def categories(grid: Grid) -> dict[str, list[str]]:
    """The categorical parameters of a grid and their categories, in the grid file's order.

    A parameter is categorical when any of its values is not a number (a
    string, a boolean); a sensitivity design has only numeric parameters.
    """
    out: dict[str, list[str]] = {}
    for parameter in grid.parameters:
        values = [point.params[parameter] for point in grid.points]
        if not all(_is_number(v) for v in values):
            out[parameter] = list(dict.fromkeys(category_label(v) for v in values))
    return out


def _with_labels(frame: pd.DataFrame, cats: dict[str, list[str]]) -> pd.DataFrame:
    """The frame with each categorical parameter's values replaced by their labels."""
    if frame.empty or not cats:
        return frame
    out = frame.copy()
    for parameter in cats:
        out[parameter] = out[parameter].map(category_label)
    return out


def _parameter_charts(
    frame: pd.DataFrame, parameters: list[str], cats: dict[str, list[str]] | None = None
) -> list[Chart]:
    from socialscore.studies.sweep import summarise

    cats = cats or {}
    charts: list[Chart] = []
    if frame.empty:  # no run completed: nothing to draw
        return charts
    for k, parameter in enumerate(parameters):
        summary = summarise(frame, parameter)
        if summary.empty:
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
                    line={"width": 0},
                    fillcolor="rgba(59,110,165,0.2)",
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=r,
                col=c,
            )
            fig.add_trace(
                go.Scatter(x=x, y=part["mean"], mode="lines+markers", showlegend=False),
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
        charts.append(Chart(f"param-{k}", f"Harms against {parameter}", what, figure))
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
            error_y=bar,
            showlegend=False,
        ),
        row=r,
        col=c,
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, row=r, col=c)


def category_rows(frame: pd.DataFrame, cats: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each measure's mean over seeds in each category of each categorical parameter.

    Returns:
        Rows with parameter, measure, category, mean, interval (words), seeds.
    """
    from socialscore.studies.sweep import per_seed

    rows: list[dict[str, Any]] = []
    if frame.empty:
        return rows
    for parameter, order in cats.items():
        seeds = per_seed(frame, parameter)
        rank = {label: n for n, label in enumerate(order)}
        groups = seeds.groupby(["metric", "subject", "value"], sort=False)
        keyed = sorted(groups, key=lambda g: (g[0][0], g[0][1], rank.get(g[0][2], len(rank))))
        for (metric, subject, category), part in keyed:
            got = mean_interval(part["mean"].to_numpy(dtype=np.float64))
            if got.n == 0:
                continue
            rows.append(
                {
                    "parameter": parameter,
                    "measure": _label(str(metric), str(subject)),
                    "category": category,
                    "mean": f"{got.mean:.4g}",
                    "interval": (
                        f"[{got.low:.4g}, {got.high:.4g}]" if got.has_interval else NO_INTERVAL
                    ),
                    "seeds": got.n,
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


def _headlines(
    frame: pd.DataFrame, indices: pd.DataFrame, result: SweepResult, cats: dict[str, list[str]]
) -> list[Headline]:
    out = [
        Headline(
            f"{len(result.done):,} runs completed, {len(result.failed):,} failed "
            f"({result.skipped:,} were already done and were not run again).",
            bool(result.failed),
        )
    ]
    if not result.done:
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
                        f"{best.parameter} ({key} {best.value:.2f}).",
                        False,
                    )
                )
    elif not frame.empty:
        from socialscore.studies.sweep import endpoint_change

        for parameter in result.grid.parameters:
            if parameter in cats:  # no "from low to high" across categories
                continue
            pairs = (
                frame[["metric", "subject"]].drop_duplicates().sort_values(["metric", "subject"])
            )
            for metric, subject in pairs.itertuples(index=False):
                if metric not in ("blacklisted_share", "adverse_impact_ratio"):
                    continue
                change = endpoint_change(frame, parameter, str(metric), str(subject))
                if change is None:
                    continue
                out.append(
                    Headline(change_sentence(parameter, _label(metric, subject), change), False)
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


def sensitivity_indices(result: SweepResult, frame: pd.DataFrame) -> pd.DataFrame:
    """Indices per parameter and measure (empty for a factorial grid)."""
    from socialscore.studies.sensitivity import analyse

    spec = result.grid.spec.sensitivity
    if spec is None or frame.empty or result.grid.design is None:
        return pd.DataFrame()
    n_points = len(result.grid.points)
    parts = []
    for (metric, subject), part in frame.groupby(["metric", "subject"], sort=True):
        means = part.groupby("point")["value"].mean()
        if len(means) < n_points or not np.all(np.isfinite(means.to_numpy())):
            continue  # an index needs every point of the design
        y = means.reindex(range(n_points)).to_numpy(dtype=np.float64)
        table = analyse(spec, result.grid.design, y, seed=result.grid.seeds[0])
        parts.append(table.assign(metric=metric, subject=subject))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def write_sweep_report(result: SweepResult, store: RunStore) -> Path:
    """Write ``ROOT/sweeps/<id>/`` (sweep.html, values and indices) complete or not at all."""
    from socialscore.studies.sweep import values

    cats = categories(result.grid)
    frame = _with_labels(values(result, store), cats)
    indices = sensitivity_indices(result, frame)
    parameters = result.grid.parameters
    charts = _parameter_charts(frame, parameters, cats) if result.grid.spec.grid is not None else []
    method = result.grid.spec.sensitivity.method if result.grid.spec.sensitivity else ""
    sens = _sensitivity_chart(indices, method)
    if sens is not None:
        charts.insert(0, sens)
    used = sorted(set(frame.metric)) if not frame.empty else []
    glossary = sorted(TERMS.items()) + [
        (m.replace("_", " "), DESCRIPTIONS[m]) for m in used if m in DESCRIPTIONS
    ]
    glossary += [(k, v) for k, v in INDEX_WORDS.items() if not indices.empty]
    spec = result.grid.spec.sweep
    page = ENVIRONMENT.get_template("sweep.html.j2").render(
        result=result,
        spec=spec,
        parameters=parameters,
        fmt=fmt,
        headlines=_headlines(frame, indices, result, cats),
        by_category=category_rows(frame, cats),
        charts=charts,
        chart_data=safe_json({c.key: c.figure for c in charts}),
        failures=result.failed,
        indices=_index_rows(indices),
        glossary=glossary,
        plotly_js=get_plotlyjs(),
    )
    final = result.path
    tmp = final.parent / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        (tmp / "sweep.html").write_text(page, encoding="utf-8")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp / "values.parquet")
        if not indices.empty:
            pq.write_table(
                pa.Table.from_pandas(indices, preserve_index=False), tmp / "indices.parquet"
            )
        if final.exists():
            old = final.parent / f".{final.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


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
