"""The comparison report: regimes side by side on the same people.

Every sentence that states a change rests on its interval: a difference is
called higher or lower only when the 95% t interval of the per-seed
differences excludes 0, and "no measurable difference" otherwise; a verdict
against a line (the four-fifths rule) is stated only when the interval of the
mean lies on one side of it, and a straddling interval is said to straddle.
With one seed there is no interval, and the sentence says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from socialscore.analysis.definitions import BY_NAME, DESCRIPTIONS
from socialscore.measures.intervals import NO_INTERVAL, MeanInterval
from socialscore.measures.statistics import FOUR_FIFTHS
from socialscore.report import format as fmt
from socialscore.report.build import ENVIRONMENT, TERMS, safe_json
from socialscore.report.charts import FAIL_SYMBOL, PASS_SYMBOL, Chart, layout
from socialscore.report.headlines import Headline

#: Measures drawn in the differences chart, with the words on their axis.
DIFFERENCE_MEASURES = {
    m: BY_NAME[m].label
    for m in (
        "mean_score",
        "gini",
        "blacklisted_share",
        "bottom_decile_persistence",
        "privacy_auc",
        "rank_rank_correlation",
    )
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
    window: str = ""  # the days every measure covers: "days 180–364"
    window_why: str = ""
    #: The events some compared regime's rules rate (None: every behaviour is shown).
    rated_events: frozenset[str] | None = None


def _difference(r: pd.Series) -> MeanInterval:
    """A table row's paired difference against the first scenario and its interval."""
    return MeanInterval(
        float(r.difference), float(r.ci_low), float(r.ci_high), int(r.get("seeds", 0))
    )


def _level(r: pd.Series) -> MeanInterval:
    """A table row's mean over seeds and its interval."""
    return MeanInterval(
        float(r["mean"]),
        float(r.get("mean_low", math.nan)),
        float(r.get("mean_high", math.nan)),
        int(r.get("seeds", 0)),
    )


def difference_cell(diff: MeanInterval, scale: float = 1.0) -> str:
    """The bracket beside a mean in the table: the difference in words its interval supports.

    ``scale`` multiplies every figure (behaviour rates are shown per 1,000 citizen-days).
    """

    def signed(x: float) -> str:
        return fmt.significant(scale * x, sign=True)

    if not diff.has_interval:
        return f"{signed(diff.mean)}; {NO_INTERVAL}"
    if diff.low == diff.high == 0.0:
        return "no difference in any seed"
    bounds = f"[{signed(diff.low)}, {signed(diff.high)}]"
    if diff.side(0.0) == "straddles":
        return f"no measurable difference: {signed(diff.mean)} {bounds}"
    return f"{signed(diff.mean)} {bounds}"


#: Behaviour rates are shown per this many citizen-days.
PER_CITIZEN_DAYS = 1_000


def shown_rows(table: pd.DataFrame, rated: frozenset[str] | None) -> pd.DataFrame:
    """The rows the table shows: behaviours only for events some compared regime rates."""
    if rated is None:
        return table
    behaviour = table.metric == "behaviour_rate"
    return table[~behaviour | table.subject.isin(rated)]


def table_rows(table: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """The comparison table's rows: a label and one cell per scenario, in words.

    A mean with the paired difference its interval supports; behaviour rates
    per 1,000 citizen-days; an undefined measure says why.
    """
    rows = []
    for (metric, subject, grp), part in table.groupby(["metric", "subject", "grp"], sort=True):
        label = str(metric).replace("_", " ")
        rate = metric == "behaviour_rate"
        scale = float(PER_CITIZEN_DAYS) if rate else 1.0
        if subject:
            label += f": {subject}"
        if rate:
            label += f" (per {PER_CITIZEN_DAYS:,} citizen-days)"
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
            mean = float(r["mean"])
            if rate:
                text = fmt.significant(scale * mean)
            else:
                text = fmt.ratio(mean) if abs(mean) < 10 else fmt.score(mean)
            if name != names[0] and math.isnan(float(r.difference)):
                text += f" (no difference: under {names[0]} it is {_undefined(str(metric))})"
            elif name != names[0]:
                text += f" ({difference_cell(_difference(r), scale)})"
            cells.append(text)
        rows.append({"label": label, "cells": cells})
    return rows


def change_words(
    diff: MeanInterval, what: str, base: str, *, unit: str = "", digits: int = 3
) -> str:
    """A difference against ``base`` in the words its interval supports.

    ``"12.3 points higher than under base (95% interval +8.1 to +16.4)"`` when
    the interval excludes 0; ``"no measurable difference in <what> against
    base (+0.4 points, 95% interval -1.2 to +2.0)"`` when it straddles 0; and,
    with one seed, the point difference followed by :data:`NO_INTERVAL` and
    that no change can be claimed.
    """
    value = f"{diff.mean:+.{digits}g}{unit}"
    if not diff.has_interval:
        return f"{value} against {base} ({NO_INTERVAL}, so no change in {what} can be claimed)"
    bounds = f"95% interval {diff.low:+.{digits}g} to {diff.high:+.{digits}g}{unit}"
    side = diff.side(0.0)
    if side == "straddles":
        return f"no measurable difference in {what} against {base} ({value}, {bounds})"
    direction = "higher" if side == "above" else "lower"
    return f"{abs(diff.mean):.{digits}g}{unit} {direction} than under {base} ({bounds})"


def line_words(level: MeanInterval, line: float, what: str) -> tuple[str, bool]:
    """Where a mean over seeds lies against a line, as its interval supports; and the alarm.

    Below or above the line only when the whole interval is; a straddling
    interval is said to straddle (the seeds cannot tell); one seed gives the
    point's side with :data:`NO_INTERVAL`. The alarm is raised only when the
    whole interval is below the line.
    """
    below = level.mean < line
    side = level.side(line)
    if side == "none":
        where = "below" if below else "at or above"
        return f"{where} {what} on one seed ({NO_INTERVAL}, so no verdict)", False
    bounds = f"95% interval {level.low:.2f} to {level.high:.2f}"
    if side == "straddles":
        return f"and its {bounds} straddles {what}: these seeds cannot tell", False
    return f"{'below' if side == 'below' else 'at or above'} {what} ({bounds})", side == "below"


def _headlines(table: pd.DataFrame, names: list[str]) -> list[Headline]:
    out = []
    for name in names[1:]:
        t = table[table.scenario == name]

        def get(metric: str, subject: str = "", frame: pd.DataFrame = t) -> pd.Series:
            hit = frame[(frame.metric == metric) & (frame.subject == subject)]
            return hit.iloc[0] if len(hit) else None

        mean = get("mean_score")
        if mean is not None:
            words = change_words(
                _difference(mean), "mean score", names[0], unit=" points", digits=2
            )
            out.append(
                Headline(
                    f"Under {name} the mean score was {fmt.score(float(mean['mean']))}, {words}.",
                    False,
                )
            )
        air = t[t.metric == "adverse_impact_ratio"].dropna(subset=["mean"])
        if len(air):
            worst = air.sort_values(["mean", "subject"]).iloc[0]
            where, alarm = line_words(_level(worst), FOUR_FIFTHS, "the four-fifths line")
            versus = change_words(_difference(worst), "this ratio", names[0], digits=2)
            out.append(
                Headline(
                    f"Under {name} the lowest adverse-impact ratio was "
                    f"{fmt.ratio(float(worst['mean']))} at the {worst.subject} gate, {where}; "
                    f"{versus}.",
                    alarm,
                )
            )
        # Meeting a low-ranked friend depends on who is ranked low, which the regimes decide
        # differently (a random tenth of a tied ranking without a score): not a behaviour
        # whose rate compares across regimes.
        rates = t[(t.metric == "behaviour_rate") & (t.subject != "interaction_low_scorer")]
        base = table[(table.scenario == names[0]) & (table.metric == "behaviour_rate")]
        if len(rates) and len(base):
            merged = rates.merge(base[["subject", "mean"]], on="subject", suffixes=("", "_base"))
            merged = merged[merged.mean_base > 0]
            if len(merged):
                merged = merged.assign(change=merged["mean"] / merged.mean_base - 1.0)
                top = merged.sort_values(["change", "subject"]).iloc[0]
                if top.change < -0.005:
                    diff = _difference(top)
                    side = diff.side(0.0)
                    if side == "below":
                        text = (
                            f"Under {name}, '{top.subject}' happened {fmt.share(-top.change)} "
                            f"less often than under {names[0]} (95% interval of the difference "
                            f"{diff.low / top.mean_base:+.1%} to {diff.high / top.mean_base:+.1%})."
                        )
                    elif side == "none":
                        text = (
                            f"Under {name}, '{top.subject}' happened {fmt.share(-top.change)} "
                            f"less often than under {names[0]} on one seed ({NO_INTERVAL}, so "
                            "no change can be claimed)."
                        )
                    else:
                        text = (
                            f"Under {name}, no measurable difference in how often "
                            f"'{top.subject}' happened against {names[0]} "
                            f"({top.change:+.1%}, 95% interval "
                            f"{diff.low / top.mean_base:+.1%} to {diff.high / top.mean_base:+.1%})."
                        )
                    out.append(Headline(text, False))
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
        f"from {names[0]} over the seeds, the whisker the 95% Student t interval of the "
        "per-seed differences (none with one seed); a whisker crossing zero means no "
        "measurable difference.",
        figure,
    )


#: Marker of a gate whose ratio's interval straddles the four-fifths line.
STRADDLE_SYMBOL = "diamond-open"


def air_symbol(level: MeanInterval) -> str:
    """Marker of a gate's ratio: pass, fail, or straddling the four-fifths line."""
    if math.isnan(level.mean):
        return FAIL_SYMBOL
    side = level.side(FOUR_FIFTHS)
    if side == "straddles":
        return STRADDLE_SYMBOL
    if side == "none":
        return PASS_SYMBOL if level.mean >= FOUR_FIFTHS else FAIL_SYMBOL
    return PASS_SYMBOL if side == "above" else FAIL_SYMBOL


def _air_chart(table: pd.DataFrame, names: list[str]) -> Chart:
    fig = go.Figure()
    air = table[table.metric == "adverse_impact_ratio"]
    for name in names:
        part = air[air.scenario == name]
        symbols = [air_symbol(_level(r)) for _, r in part.iterrows()]
        high = part.get("mean_high", part["mean"]) - part["mean"]
        low = part["mean"] - part.get("mean_low", part["mean"])
        fig.add_trace(
            go.Scatter(
                x=part.subject,
                y=part["mean"],
                mode="markers",
                name=name,
                marker={"symbol": symbols, "size": 12, "line": {"width": 2}},
                error_y={
                    "type": "data",
                    "array": high.fillna(0).tolist(),
                    "arrayminus": low.fillna(0).tolist(),
                    "visible": True,
                },
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
        "Lowest group's selection rate over the highest group's, mean over seeds with its 95% "
        "t interval. Below the dashed line (0.8) a gate fails the four-fifths rule: marker ✕ "
        "when the whole interval is below it; ○ when the whole interval is at or above it; ◇ "
        "when the interval straddles the line (these seeds cannot tell). With one seed there "
        "is no interval and the marker follows the value.",
        layout(fig, x="gate", y="adverse-impact ratio"),
    )


def _behaviour_chart(table: pd.DataFrame, names: list[str]) -> Chart:
    """Each behaviour's rate against the first regime's, in % of it, with its interval.

    Relative, so a rare behaviour's chilling is not drowned by a frequent one's rate.
    """
    fig = go.Figure()
    rates = table[table.metric == "behaviour_rate"]
    base = rates[rates.scenario == names[0]].set_index("subject")["mean"]
    for name in names[1:]:
        part = rates[rates.scenario == name].set_index("subject")
        part = part[part.index.isin(base.index[base > 0])]
        scale = 100.0 / base.reindex(part.index)
        change = part.difference * scale
        fig.add_trace(
            go.Bar(
                y=[s.replace("_", " ") for s in part.index],
                x=change,
                name=name,
                orientation="h",
                error_x={
                    "type": "data",
                    "array": (part.ci_high * scale - change).fillna(0.0),
                    "arrayminus": (change - part.ci_low * scale).fillna(0.0),
                    "visible": True,
                },
            )
        )
    fig.add_vline(x=0.0, line={"color": "black", "width": 1})
    fig.update_layout(barmode="group")
    return Chart(
        "behaviour",
        f"How much more or less often each behaviour happened than under {names[0]}",
        f"The change in each rated behaviour's rate against {names[0]}, in % of its rate "
        f"there, over the measurement window, with the 95% interval of the paired difference "
        f"across seeds. A lawful behaviour below 0 is one the regime chilled; an interval "
        f"across 0 shows no measurable change.",
        _behaviour_height(
            layout(fig, x=f"change against {names[0]} (%)", y=""), len(base), len(names) - 1
        ),
    )


def _behaviour_height(figure: dict[str, Any], behaviours: int, regimes: int) -> dict[str, Any]:
    """A horizontal bar chart tall enough for one row per behaviour (bars side by side)."""
    figure["layout"]["height"] = max(380, 120 + behaviours * (14 + 10 * regimes))
    return figure


def build_comparison(
    table: pd.DataFrame, names: list[str], seeds: list[int], facts: ComparisonFacts
) -> str:
    """Return the comparison report as one self-contained HTML document."""
    table = shown_rows(table, facts.rated_events)
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
        (
            "behaviour rate",
            f"Events of one kind per {PER_CITIZEN_DAYS:,} citizen-days over the measurement "
            "window; only behaviours some compared regime rates are listed.",
        )
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
        rows=table_rows(table, names),
        glossary=glossary,
        plotly_js=get_plotlyjs(),
    )
