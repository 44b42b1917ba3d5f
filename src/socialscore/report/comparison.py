"""The comparison report: regimes side by side on the same people."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from socialscore.harms import DESCRIPTIONS
from socialscore.metrics import FOUR_FIFTHS
from socialscore.report import format as fmt
from socialscore.report.build import ENVIRONMENT, TERMS, safe_json
from socialscore.report.charts import FAIL_SYMBOL, PASS_SYMBOL, Chart, layout
from socialscore.report.headlines import Headline

#: Measures drawn in the differences chart, with the words on their axis.
DIFFERENCE_MEASURES = {
    "mean_score": "mean score",
    "gini": "Gini of scores",
    "blacklisted_share": "blacklisted share",
    "bottom_decile_persistence": "bottom-decile persistence",
    "privacy_auc": "privacy AUC",
    "rank_rank_correlation": "rank-rank correlation",
}

#: Why a measure can be undefined (nan) for a regime, in words.
UNDEFINED_WHY = {
    "rank_rank_correlation": "undefined: every citizen has the same score",
    "rank_rank_slope": "undefined: every citizen has the same score",
}


def _undefined(metric: str) -> str:
    return UNDEFINED_WHY.get(metric, "undefined")


@dataclass(frozen=True)
class ComparisonFacts:
    """What the first screen says about the comparison."""

    compare_id: str
    population: int
    days: int


def _rows(table: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for (metric, subject, grp), part in table.groupby(["metric", "subject", "grp"], sort=True):
        label = str(metric).replace("_", " ")
        if subject:
            label += f": {subject}"
        if grp != "all":
            label += f" ({grp})"
        cells = []
        for name in names:
            hit = part[part.scenario == name]
            if not len(hit):
                cells.append("")
                continue
            r = hit.iloc[0]
            if math.isnan(float(r["mean"])):
                cells.append(_undefined(str(metric)))
                continue
            text = (
                fmt.ratio(float(r["mean"]))
                if abs(float(r["mean"])) < 10
                else fmt.score(float(r["mean"]))
            )
            if name != names[0] and math.isnan(float(r.difference)):
                text += f" (no difference: under {names[0]} it is {_undefined(str(metric))})"
            elif name != names[0]:
                text += f" ({float(r.difference):+.3g}"
                if not math.isnan(float(r.ci_low)):
                    text += f" [{float(r.ci_low):+.3g}, {float(r.ci_high):+.3g}]"
                text += ")"
            cells.append(text)
        rows.append({"label": label, "cells": cells})
    return rows


def _headlines(table: pd.DataFrame, names: list[str]) -> list[Headline]:
    out = []
    for name in names[1:]:
        t = table[table.scenario == name]

        def get(metric: str, subject: str = "", frame: pd.DataFrame = t) -> pd.Series:
            hit = frame[(frame.metric == metric) & (frame.subject == subject)]
            return hit.iloc[0] if len(hit) else None

        mean = get("mean_score")
        if mean is not None:
            out.append(
                Headline(
                    f"Under {name} the mean score was {fmt.score(float(mean['mean']))}, "
                    f"{float(mean.difference):+.1f} points against {names[0]}.",
                    False,
                )
            )
        air = t[t.metric == "adverse_impact_ratio"].dropna(subset=["mean"])
        if len(air):
            worst = air.sort_values(["mean", "subject"]).iloc[0]
            below = float(worst["mean"]) < FOUR_FIFTHS
            out.append(
                Headline(
                    f"Under {name} the lowest adverse-impact ratio was "
                    f"{fmt.ratio(float(worst['mean']))} "
                    f"at the {worst.subject} gate ({float(worst.difference):+.2f} against "
                    f"{names[0]}), {'below' if below else 'at or above'} the four-fifths line.",
                    below,
                )
            )
        rates = t[t.metric == "behaviour_rate"]
        base = table[(table.scenario == names[0]) & (table.metric == "behaviour_rate")]
        if len(rates) and len(base):
            merged = rates.merge(base[["subject", "mean"]], on="subject", suffixes=("", "_base"))
            merged = merged[merged.mean_base > 0]
            if len(merged):
                merged = merged.assign(change=merged["mean"] / merged.mean_base - 1.0)
                top = merged.sort_values(["change", "subject"]).iloc[0]
                if top.change < -0.005:
                    out.append(
                        Headline(
                            f"Under {name}, '{top.subject}' happened {fmt.share(-top.change)} "
                            f"less often than under {names[0]}.",
                            False,
                        )
                    )
    return out


def _difference_chart(table: pd.DataFrame, names: list[str]) -> Chart:
    measures = list(DIFFERENCE_MEASURES)
    fig = make_subplots(
        rows=2,
        cols=3,
        subplot_titles=[DIFFERENCE_MEASURES[m] for m in measures],
        horizontal_spacing=0.08,
        vertical_spacing=0.18,
    )
    for k, metric in enumerate(measures):
        part = table[(table.metric == metric) & (table.subject == "")]
        part = part[part.scenario.isin(names[1:])]
        err_hi = (part.ci_high - part.difference).fillna(0).tolist()
        err_lo = (part.difference - part.ci_low).fillna(0).tolist()
        fig.add_trace(
            go.Bar(
                x=part.scenario,
                y=part.difference,
                showlegend=False,
                error_y={"type": "data", "array": err_hi, "arrayminus": err_lo, "visible": True},
            ),
            row=k // 3 + 1,
            col=k % 3 + 1,
        )
        means = table[(table.metric == metric) & (table.subject == "")]
        missing = [n for n in names if means[means.scenario == n]["mean"].isna().all()]
        if missing:
            fig.add_annotation(
                text=f"{_undefined(metric)}<br>under {', '.join(missing)}",
                xref=f"x{k + 1 if k else ''} domain",
                yref=f"y{k + 1 if k else ''} domain",
                x=0.5,
                y=0.5,
                showarrow=False,
            )
    figure = layout(fig, x="", y="")
    figure["layout"]["height"] = 520
    return Chart(
        "differences",
        f"Headline measures: difference against {names[0]}",
        "One panel per measure, each on its own scale: the bar is a regime's mean difference "
        f"from {names[0]} over the seeds, the whisker its 95% bootstrap interval; zero means "
        "no difference.",
        figure,
    )


def _air_chart(table: pd.DataFrame, names: list[str]) -> Chart:
    fig = go.Figure()
    air = table[table.metric == "adverse_impact_ratio"]
    for name in names:
        part = air[air.scenario == name]
        symbols = [
            PASS_SYMBOL if (v == v and v >= FOUR_FIFTHS) else FAIL_SYMBOL for v in part["mean"]
        ]
        fig.add_trace(
            go.Scatter(
                x=part.subject,
                y=part["mean"],
                mode="markers",
                name=name,
                marker={"symbol": symbols, "size": 12, "line": {"width": 2}},
            )
        )
    gates = list(dict.fromkeys(air.subject))
    fig.add_trace(
        go.Scatter(
            x=gates,
            y=[FOUR_FIFTHS] * len(gates),
            mode="lines",
            name="four-fifths line",
            line={"dash": "dash", "color": "black"},
        )
    )
    fig.update_layout(yaxis_range=[0, 1.05])
    return Chart(
        "air",
        "Adverse-impact ratio at every gate, by regime",
        "Lowest group's selection rate over the highest group's. Below the dashed line (0.8) "
        "a gate fails the four-fifths rule: marker ✕; at or above it: marker ○.",
        layout(fig, x="gate", y="adverse-impact ratio"),
    )


def _behaviour_chart(table: pd.DataFrame, names: list[str]) -> Chart:
    fig = go.Figure()
    rates = table[table.metric == "behaviour_rate"]
    for name in names:
        part = rates[rates.scenario == name]
        fig.add_trace(go.Bar(x=part.subject, y=1000.0 * part["mean"], name=name))
    fig.update_layout(barmode="group")
    return Chart(
        "behaviour",
        "How often each behaviour happened, by regime",
        "Events per 1,000 citizens per day over the run. Where a regime's bar is lower than "
        "the baseline's for a lawful behaviour, the regime chilled it.",
        layout(fig, x="behaviour", y="per 1,000 citizens per day"),
    )


def build_comparison(
    table: pd.DataFrame, names: list[str], seeds: list[int], facts: ComparisonFacts
) -> str:
    """Return the comparison report as one self-contained HTML document."""
    chart_list = [
        _difference_chart(table, names),
        _air_chart(table, names),
        _behaviour_chart(table, names),
    ]
    used = sorted(set(table.metric))
    glossary = sorted(TERMS.items()) + [
        (m.replace("_", " "), DESCRIPTIONS[m]) for m in used if m in DESCRIPTIONS
    ]
    glossary.append(
        ("behaviour rate", "Events of one kind per citizen per day over the whole run.")
    )
    return ENVIRONMENT.get_template("compare.html.j2").render(
        names=names,
        seeds=seeds,
        compare_id=facts.compare_id,
        facts=facts,
        fmt=fmt,
        headlines=_headlines(table, names),
        charts={c.key: c for c in chart_list},
        chart_data=safe_json({c.key: c.figure for c in chart_list}),
        rows=_rows(table, names),
        glossary=glossary,
        plotly_js=get_plotlyjs(),
    )
