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

from socialscore import metrics as mt
from socialscore.metrics import FOUR_FIFTHS
from socialscore.vocabulary import GROUP_LABELS

#: Most citizens drawn in the rank-rank scatter.
SCATTER_SAMPLE = 3_000
#: Symbols that carry the four-fifths verdict without colour.
PASS_SYMBOL, FAIL_SYMBOL = "circle", "x"
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
        ok = m[(m.metric == "four_fifths_pass") & (m.subject == gate)].value
        passed = bool(len(ok) and ok.iloc[0] == 1.0)
        symbols.append(PASS_SYMBOL if passed else FAIL_SYMBOL)
        verdicts.append("passes" if passed else "FAILS")
    fig.add_trace(
        go.Scatter(
            x=gates,
            y=line,
            mode="markers+text",
            name="four-fifths line (○ passes, ✕ fails)",
            marker={"symbol": symbols, "size": 14, "color": "black", "line": {"width": 2}},
            text=verdicts,
            textposition="top center",
        )
    )
    fig.update_layout(barmode="group", yaxis_range=[0, 1.15], yaxis_tickformat=".0%")
    return Chart(
        "gates",
        "Who got through each gate",
        "Bars are the share of decisions that went the citizen's way, per group. The black "
        "marker is 80% of the better-treated group's rate: a bar below it fails the "
        "four-fifths rule (marker ✕ and the word FAILS), otherwise it passes (marker ○).",
        layout(fig, x="gate", y="selection rate"),
    )


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
        "penalises. A falling line is citizens doing less of something lawful because it "
        "costs them points.",
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
