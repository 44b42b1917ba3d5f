"""The report's charts: plotly figures built from a run's aggregated tables.

Every chart is built from aggregates; per-citizen points appear only in the
rank-rank scatter, as a bounded random sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from socialscore.analysis import disparity
from socialscore.measures import statistics as mt
from socialscore.measures.statistics import FOUR_FIFTHS
from socialscore.scenario.vocabulary import GROUP_LABELS

#: Most citizens drawn in the rank-rank scatter.
SCATTER_SAMPLE = 3_000
#: Symbols that carry the four-fifths verdict without colour.
PASS_SYMBOL, FAIL_SYMBOL = "circle-open", "x"
VERDICT_SYMBOLS = {
    "pass": PASS_SYMBOL,
    "fail": FAIL_SYMBOL,
    "inconclusive": "diamond-open",
    "not applicable": "square-open",
}
VERDICT_SHORT = {
    "pass": "passes",
    "fail": "FAILS",
    "inconclusive": "inconclusive",
    "not applicable": "not applicable",
}
#: Marker symbols and dashes that tell the gates apart without colour.
GATE_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
GATE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")
GATE_COLOURS = (
    "#3b6ea5", "#d9822b", "#2e8b57", "#8e44ad", "#b03a2e", "#5d6d7e", "#b7950b", "#1abc9c"
)  # fmt: skip
OUTCOME_TICKS = (0.1, 0.2, 0.5, 0.8, 1.25, 2.0, 5.0, 10.0)
#: Ranges drawn on the monthly disparity chart (approvals; adverse outcomes, log scale):
#: points and intervals beyond them are cut at the edge.
IMPACT_RANGE, OUTCOME_RANGE = (0.0, 1.6), (0.1, 10.0)
GROUP_COLOURS = {"majority": "#3b6ea5", "minority": "#d9822b"}


@dataclass(frozen=True)
class Chart:
    """One chart: where it goes, its title, how to read it, and the figure."""

    key: str
    title: str
    how_to_read: str
    figure: dict[str, Any]


def layout(fig: go.Figure, *, x: str, y: str) -> dict[str, Any]:
    """Apply the reports' common layout and axis titles; return the figure as JSON data."""
    fig.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis_title=x,
        yaxis_title=y,
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
        autosize=True,
        height=380,
    )
    return fig.to_plotly_json()  # type: ignore[no-any-return]


def score_over_time(daily: pd.DataFrame) -> Chart:
    """Median and 10th/90th percentiles of scores, day by day."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=daily.day, y=daily.p90, name="90th percentile", mode="lines"))
    fig.add_trace(go.Scatter(x=daily.day, y=daily["median"], name="median", mode="lines"))
    fig.add_trace(go.Scatter(x=daily.day, y=daily.p10, name="10th percentile", mode="lines"))
    fig.add_trace(
        go.Scatter(x=daily.day, y=daily.mean_score, name="mean", mode="lines", line={"dash": "dot"})
    )
    return Chart(
        "scores",
        "Scores over time",
        "Each line follows one point of the score distribution through the run; the gap "
        "between the 10th and 90th percentile lines is how far apart citizens were driven.",
        layout(fig, x="day", y="score"),
    )


def grade_shares(grades: pd.DataFrame) -> Chart:
    """Share of citizens in each grade, stacked, day by day."""
    fig = go.Figure()
    for grade, part in grades.groupby("grade", sort=False):
        fig.add_trace(
            go.Scatter(x=part.day, y=part.share, name=str(grade), mode="lines", stackgroup="g")
        )
    return Chart(
        "grades",
        "Grade shares over time",
        "The height of each band is the share of citizens in that grade on that day; bands "
        "sum to 100%.",
        layout(fig, x="day", y="share of citizens"),
    )


def gate_rates(m: pd.DataFrame) -> Chart:
    """Selection rate per gate and group, with the four-fifths line for each gate."""
    rates = m[m.metric == "selection_rate"]
    gates = list(dict.fromkeys(rates.subject))
    fig = go.Figure()
    for label in GROUP_LABELS:
        part = rates[rates.grp == label].set_index("subject").reindex(gates)
        fig.add_trace(
            go.Bar(
                x=gates,
                y=part.value,
                name=f"{label} selection rate",
                marker_color=GROUP_COLOURS[label],
                text=[f"{v:.0%}" if v == v else "" for v in part.value],
                textposition="outside",
            )
        )
    line = []
    symbols = []
    verdicts = []
    for gate in gates:
        top = rates[rates.subject == gate].value.max()
        line.append(FOUR_FIFTHS * top)
        code = m[(m.metric == "four_fifths_verdict") & (m.subject == gate)].value
        v = disparity.verdict_from_code(float(code.iloc[0]) if len(code) else float("nan"))
        symbols.append(VERDICT_SYMBOLS[v])
        verdicts.append(VERDICT_SHORT[v])
    fig.add_trace(
        go.Scatter(
            x=gates,
            y=line,
            mode="markers+text",
            name="four-fifths line",
            marker={"symbol": symbols, "size": 14, "color": "black", "line": {"width": 2}},
            text=verdicts,
            textposition="middle right",
            showlegend=False,
        )
    )
    # The legend draws each verdict's own symbol (one entry per verdict, open where open).
    for shown, symbol in VERDICT_SYMBOLS.items():
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"four-fifths line: {VERDICT_SHORT[shown]}",
                marker={"symbol": symbol, "size": 11, "color": "black", "line": {"width": 2}},
            )
        )
    fig.update_layout(barmode="group", yaxis_range=[0, 1.15], yaxis_tickformat=".0%")
    fig.update_xaxes(
        tickmode="array", tickvals=gates, ticktext=[g.replace("_", " ") for g in gates]
    )
    return Chart(
        "gates",
        "Who got through each gate",
        "Bars are the share of decisions over the measurement window that went the citizen's "
        "way, per group. The black marker is 80% of the better-treated group's rate; its word "
        "and symbol are the four-fifths verdict from the ratio's 95% interval: FAILS (✕) when "
        "the whole interval lies below 0.8, passes (○) when it lies within 0.8–1.25, "
        "inconclusive (◇) when it straddles the line, not applicable (□) when a group had no "
        "decision or nobody was approved.",
        layout(fig, x="gate", y="selection rate"),
    )


def gate_months(months: pd.DataFrame | None, window_start: int) -> Chart:
    """Each gate's adverse-impact and adverse-outcome ratios by 30-day month, with intervals."""
    key, title = "gate_months", "Gate disparities month by month"
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(
            "approvals: adverse-impact ratio<br>(lowest ÷ highest approval rate)",
            "denials and sanctions: adverse-outcome ratio<br>(minority ÷ majority), lines at 0.8 "
            "and 1.25",
        ),
    )
    fig.update_annotations(font_size=12)
    if months is None or not len(months):
        fig.add_annotation(text="not recorded for this run", showarrow=False, x=0.5, y=0.5)
        return Chart(key, title, "This run was stored without its monthly gate table.", _tall(fig))
    gates = list(dict.fromkeys(months.gate))
    owner: list[str] = []  # the gate of each trace, for the menu
    for k, gate in enumerate(gates):
        for row, measure, (low, high) in (
            (1, "adverse_impact_ratio", IMPACT_RANGE),
            (2, "adverse_outcome_ratio", OUTCOME_RANGE),
        ):
            part = months[(months.gate == gate) & (months.measure == measure)]
            part = part[part.value.notna()]
            if not len(part):
                continue
            mid = (part.day_from + part.day_to) / 2
            lo = part.ci_low.fillna(low).clip(lower=low, upper=high)
            hi = part.ci_high.fillna(high).clip(lower=low, upper=high)
            shown = k == 0
            colour = GATE_COLOURS[k % len(GATE_COLOURS)]
            fig.add_trace(
                go.Scatter(
                    x=[*mid, *mid[::-1]],
                    y=[*hi, *lo[::-1]],
                    fill="toself",
                    mode="lines",
                    fillcolor=colour,
                    opacity=0.2,
                    line={"width": 0},
                    hoverinfo="skip",
                    legendgroup=gate,
                    showlegend=False,
                    visible=shown,
                    name=f"{gate} 95% interval",
                ),
                row=row,
                col=1,
            )
            words = [
                f"{gate}, days {a}–{b}: {v:.2f} (95% interval {c:.2f}–{d:.2f}), {w}"
                for a, b, v, c, d, w in zip(
                    part.day_from,
                    part.day_to,
                    part.value,
                    part.ci_low,
                    part.ci_high,
                    part.verdict,
                    strict=True,
                )
            ]
            fig.add_trace(
                go.Scatter(
                    x=mid,
                    y=part.value.clip(lower=low, upper=high),
                    mode="lines+markers",
                    name=gate,
                    legendgroup=gate,
                    showlegend=row == 1,
                    visible=shown,
                    marker={
                        "symbol": GATE_SYMBOLS[k % len(GATE_SYMBOLS)],
                        "size": 8,
                        "color": colour,
                    },
                    line={"dash": GATE_DASHES[k % len(GATE_DASHES)], "color": colour},
                    hovertext=words,
                    hoverinfo="text",
                ),
                row=row,
                col=1,
            )
            owner += [gate, gate]
    buttons = [
        {"label": gate, "method": "update", "args": [{"visible": [o == gate for o in owner]}]}
        for gate in gates
    ]
    buttons.append({"label": "all gates", "method": "update", "args": [{"visible": True}]})
    fig.update_layout(
        updatemenus=[
            {
                "buttons": buttons,
                "x": 0.0,
                "y": 1.1,
                "xanchor": "left",
                "yanchor": "bottom",
                "type": "dropdown",
            }
        ]
    )
    fig.update_yaxes(range=list(IMPACT_RANGE), row=1, col=1)
    fig.update_yaxes(
        range=[np.log10(OUTCOME_RANGE[0]), np.log10(OUTCOME_RANGE[1])],
        tickvals=list(OUTCOME_TICKS),
        ticktext=[f"{t:g}" for t in OUTCOME_TICKS],
        row=2,
        col=1,
    )
    for row, lines in ((1, (FOUR_FIFTHS,)), (2, (FOUR_FIFTHS, disparity.ADVERSE_LINE))):
        for y in lines:
            # Annotations of lines misplace on a log axis: there the ticks name the lines.
            named = {"annotation_text": f"line {y:.2f}"} if row == 1 else {}
            fig.add_hline(y=y, line={"dash": "dot", "color": "black"}, row=row, col=1, **named)
    fig.add_vline(
        x=window_start,
        line={"dash": "dash", "color": "grey"},
        annotation_text="measurement window starts",
    )
    fig.update_yaxes(type="log", row=2, col=1, title_text="minority ÷ majority")
    fig.update_xaxes(row=2, col=1, title_text="day (middle of the month)")
    return Chart(
        key,
        title,
        'Choose a gate in the menu (top left; "all gates" overlays them, each with its own '
        "marker and dash). One point per 30-day month, with its 95% interval as a shaded band; "
        "figures beyond the axes are cut at the edge. Top: the four-fifths rule on approvals, "
        "failing below "
        "the dotted line at 0.80. Bottom (log scale): how much more often the minority is "
        "denied or sanctioned than the majority among applicants; outside the dotted lines at "
        "0.80 and 1.25 one group is sanctioned more than 1.25 times as often. A month passes "
        "or fails only when its whole band lies inside or past a line. Hover a point for its "
        "figures and verdict in words.",
        _tall(fig),
    )


def _tall(fig: go.Figure) -> dict[str, Any]:
    data = layout(fig, x="", y="lowest ÷ highest")
    data["layout"]["height"] = 640
    data["layout"]["margin"]["t"] = 110  # the menu above the two-line panel titles
    return data


def transition_heatmap(m: pd.DataFrame, grade_names: list[str]) -> Chart:
    """Grade transition matrix from the mobility start day to the end."""
    t = m[m.metric == "grade_transition"]
    z = np.full((len(grade_names), len(grade_names)), np.nan)
    for row in t.itertuples():
        a, b = str(row.subject).split(" -> ")
        z[grade_names.index(a), grade_names.index(b)] = row.value
    text = [[("" if v != v else f"{v:.0%}") for v in r] for r in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=grade_names,
            y=grade_names,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=text,
            texttemplate="%{text}",
            colorbar={"tickformat": ".0%"},
        )
    )
    return Chart(
        "transitions",
        "Grade transitions",
        "Each row is a starting grade; each cell the share of its citizens who ended in the "
        "column's grade. A heavy diagonal means people stayed where they started.",
        layout(fig, x="grade at the end", y="grade at the start"),
    )


def rank_scatter(citizens: pd.DataFrame, seed: int) -> Chart:
    """Start and end percentile of a bounded random sample of citizens."""
    n = len(citizens)
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(n, size=min(SCATTER_SAMPLE, n), replace=False))
    start = mt.percentile(citizens.score_start.to_numpy(), -32768, 32767)[take]
    end = mt.percentile(citizens.score.to_numpy(), -32768, 32767)[take]
    group = citizens.group.to_numpy()[take]
    fig = go.Figure()
    for g, label in enumerate(GROUP_LABELS):
        sel = group == g
        fig.add_trace(
            go.Scattergl(
                x=start[sel],
                y=end[sel],
                mode="markers",
                name=label,
                marker={
                    "size": 4,
                    "opacity": 0.5,
                    "color": GROUP_COLOURS[label],
                    "symbol": "circle" if g == 0 else "diamond",
                },
            )
        )
    fig.update_layout(xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    return Chart(
        "rankrank",
        f"Rank at the start and at the end ({len(take):,} sampled citizens)",
        "Each point is one citizen: share of the population below them at the mobility start "
        "day (across) and at the end (up). Points on the diagonal kept their rank.",
        layout(fig, x="percentile at start", y="percentile at end"),
    )


def chilling(events: pd.DataFrame, groups: pd.DataFrame, penalised: list[str]) -> Chart:
    """Daily rate of each penalised legal behaviour."""
    fig = go.Figure()
    ev = events[(events.entity == "citizen") & events.event.isin(penalised)]
    per_day = ev.groupby(["event", "day"], sort=True)["events"].sum().reset_index()
    citizens = groups.groupby("day")["citizens"].sum()
    for name, part in per_day.groupby("event"):
        pop = citizens.reindex(part.day).to_numpy()
        rate = (
            1000.0
            * part.events.rolling(7, min_periods=1).sum().to_numpy()
            / pd.Series(pop).rolling(7, min_periods=1).sum().to_numpy()
        )
        fig.add_trace(go.Scatter(x=part.day, y=rate, name=str(name), mode="lines"))
    return Chart(
        "chilling",
        "Penalised legal behaviour over time",
        "Daily rate per 1,000 citizens (7-day average) of each lawful behaviour the rulebook "
        "penalises. The line moves for many reasons (who is rated, stress, the season of the "
        "run); how much of it the penalty deterred is measured against the unchilled rate "
        "(the chilling headline and the metrics chilling_forgone_share).",
        layout(fig, x="day", y="per 1,000 citizens per day"),
    )


def followers_lost(m: pd.DataFrame) -> Chart:
    """Average number of people who dropped a citizen, by final score decile."""
    part = m[m.metric == "followers_lost_by_decile"].copy()
    part["decile"] = part.subject.astype(int) + 1
    fig = go.Figure(go.Bar(x=part.decile, y=part.value, name="followers lost"))
    return Chart(
        "network",
        "Friends lost, by final score decile",
        "Bars are how many citizens, on average, dropped a citizen as a friend, for each tenth "
        "of the final ranking (1 = lowest scores).",
        layout(fig, x="score decile (1 = lowest)", y="friends lost per citizen"),
    )


def roc(citizens: pd.DataFrame, auc: float) -> Chart:
    """ROC curve of flagging minority citizens by a low score."""
    fpr, tpr = mt.roc_curve_from_score(citizens.score.to_numpy(), citizens.group.to_numpy())
    if fpr.size > 400:
        keep = np.unique(np.linspace(0, fpr.size - 1, 400).astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"score (AUC {auc:.2f})"))
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="no information",
            line={"dash": "dash", "color": "grey"},
        )
    )
    return Chart(
        "privacy",
        "How well the score reveals the minority",
        "Flag everyone below a score threshold as 'minority': across, the share of majority "
        "citizens wrongly flagged; up, the share of minority citizens caught. The further the "
        "curve bows above the dashed line, the more the score gives away.",
        layout(fig, x="majority citizens flagged", y="minority citizens flagged"),
    )


def company_scores(companies: pd.DataFrame) -> Chart:
    """Histogram of final company scores by owner group."""
    fig = go.Figure()
    for g, label in enumerate(GROUP_LABELS):
        part = companies[companies.owner_group == g]
        counts = part.score.value_counts().sort_index()
        fig.add_trace(
            go.Bar(
                x=counts.index,
                y=counts.values,
                name=f"{label}-owned",
                marker_color=GROUP_COLOURS[label],
            )
        )
    fig.update_layout(barmode="stack")
    return Chart(
        "companies",
        "Company scores at the end",
        "How many companies ended at each score, by the owner's group.",
        layout(fig, x="company score", y="companies"),
    )
