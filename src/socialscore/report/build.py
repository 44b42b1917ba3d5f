"""Assemble the run report: one self-contained HTML file."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import pyarrow as pa
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from socialscore.analysis import disparity
from socialscore.analysis.audit import by_law
from socialscore.analysis.decomposition import from_metrics
from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.analysis.harms import metric_value, penalised_legal_events
from socialscore.analysis.trails import story_pool
from socialscore.report import charts, people, reasons, subgroups
from socialscore.report import decomposition as split
from socialscore.report import format as fmt
from socialscore.report.headlines import headlines
from socialscore.scenario.caveats import caveats
from socialscore.scenario.schema import Scenario
from socialscore.scenario.window import measurement_window

_TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Words the report uses that are not metrics.
TERMS = {
    "score": "The one number the regime gives each citizen and company.",
    "grade": "A named band of scores, such as 'good' or 'poor'.",
    "percentile": (
        "The share of the whole population with a lower score, plus half the share with "
        "the same score (tied citizens share the middle of their ranks); the public "
        "ranking publishes it for every citizen."
    ),
    "blacklist": "Citizens below the blacklist line are 'untrustworthy' and cannot travel.",
    "gate": (
        "A decision the score takes part in: a mortgage, a job, a school place, a dating "
        "match, an official document, travel, a public contract."
    ),
    "four-fifths rule": (
        "A group's selection rate below 80% of the best-treated group's rate is evidence of "
        "adverse impact (29 CFR 1607.4(D)); judged here from the ratio's 95% interval."
    ),
    "adverse-outcome ratio": (
        "The minority's rate of denials or sanctions at a gate divided by the majority's, "
        "among applicants or per member of the group. The gate fails when the ratio's whole "
        "95% interval lies beyond 1.25 (or below 0.8): one group sanctioned more than 1.25 "
        "times as often as the other; inconclusive when the interval straddles the line."
    ),
    "95% interval": (
        "A range that, computed this way, holds the regime's true rate or ratio 95 times out "
        "of 100; the fewer decisions a figure rests on, the wider it is. A gate's ratios allow "
        "for repeated decisions about the same person (a listed citizen's travel attempts): "
        "their range is widened when the people, taken in 16 replicate groups, vary more than "
        "the decisions do. The spread from one synthetic nation to another is what "
        "socialscore compare shows across seeds. Shown in brackets."
    ),
    "verdict": (
        "Fails when a figure's whole 95% interval lies past its line, passes when the whole "
        "interval lies on the right side, inconclusive when the interval straddles the line, "
        "not applicable when a group had no decision."
    ),
    "measurement window": (
        "The days a harm measure covers: from the day the regime rates everyone plus a "
        "burn-in, to the end of the run (column 'days')."
    ),
    "majority, minority": (
        "The two synthetic groups of the nation; structural inequality enters through their "
        "different traits and incomes, set in the scenario."
    ),
}
ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RunFacts:
    """What the first screen says about the run itself."""

    run_id: str
    population: int
    companies: int
    days: int
    seed: int


def safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element (no '<' can end it early)."""
    text = json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_library_name() -> str:
    """The file name of a shared copy of the chart library (its version in the name)."""
    import plotly

    return f"plotly-{plotly.__version__}.min.js"


def chart_library_text() -> str:
    """The chart library a shared copy holds (the same text the reports inline)."""
    return str(get_plotlyjs())


def run_charts(
    scenario: Scenario, tables: dict[str, pa.Table], metrics: pa.Table, facts: RunFacts
) -> list[charts.Chart]:
    """The run report's charts, in the report's order (``Result.plot`` draws one of them)."""
    m = metrics.to_pandas()
    daily = tables["daily"].to_pandas()
    citizens = tables["citizens"].select(["score_start", "score", "group"]).to_pandas()
    grade_names = [g.name for g in scenario.score.grades]
    mobility_day = measurement_window(scenario, facts.days).start
    return [
        charts.score_over_time(daily),
        charts.grade_shares(tables["daily_grades"].to_pandas()),
        charts.gate_rates(m),
        charts.gate_months(
            tables["gate_months"].to_pandas() if "gate_months" in tables else None, mobility_day
        ),
        charts.transition_heatmap(m, grade_names),
        charts.rank_scatter(citizens, facts.seed),
        charts.chilling(
            tables["daily_events"].to_pandas(),
            tables["daily_groups"].to_pandas(),
            penalised_legal_events(scenario),
        ),
        charts.followers_lost(m),
        charts.roc(citizens, metric_value(m, "privacy_auc")),
        charts.company_scores(tables["companies"].select(["score", "owner_group"]).to_pandas()),
    ]


def build(
    scenario: Scenario,
    tables: dict[str, pa.Table],
    metrics: pa.Table,
    facts: RunFacts,
    *,
    audit: pa.Table | None = None,
    chart_library: str | None = None,
) -> str:
    """Return the report of a run as one HTML document (scripts and data inlined).

    ``audit``: the checks of ``socialscore audit`` (adds the audit section).
    ``chart_library``: a relative URL of a shared copy of the chart library
    (:func:`socialscore.studies.sweep.share_chart_library`) that the report
    loads instead of inlining its own 4.8 MB (still offline; a sweep's run
    reports share one).
    """
    m = metrics.to_pandas()
    window = measurement_window(scenario, facts.days)
    chart_list = run_charts(scenario, tables, metrics, facts)
    gate_rows = _gate_rows(m)
    used = sorted(set(m.metric))
    glossary = sorted(TERMS.items()) + [
        (name.replace("_", " "), DESCRIPTIONS[name]) for name in used if name in DESCRIPTIONS
    ]
    template = ENVIRONMENT.get_template("run.html.j2")
    return template.render(
        scenario=scenario,
        facts=facts,
        fmt=fmt,
        headlines=headlines(m),
        window=window,
        charts={c.key: c for c in chart_list},
        chart_data=safe_json({c.key: c.figure for c in chart_list}),
        gate_rows=gate_rows,
        rules=scenario.rules,
        company_rules=scenario.company_rules,
        gates=_gate_settings(scenario),
        audit=_audit_rows(audit),
        subgroups=subgroups.rows(tables),
        caveats=caveats(scenario),
        dispute_words=subgroups.disputes(tables),
        reasons=reasons.rows(scenario, tables, window),
        reasons_introduction=reasons.INTRODUCTION,
        people=people.section(
            tables,
            facts,
            scenario.score.lo,
            scenario.score.hi,
            len(story_pool(facts.population, facts.days)),
        ),
        subgroups_introduction=subgroups.INTRODUCTION,
        decomposition=split.section(
            from_metrics(m, scenario, facts.population), run_population=facts.population
        ),
        numbers=_numbers(m),
        glossary=glossary,
        plotly_js="" if chart_library else get_plotlyjs(),
        chart_library=chart_library,
    )


#: Said instead of a mobility figure that is undefined.
UNDEFINED_RANKS = "undefined (every citizen has the same score)"


def _with_interval(m: pd.DataFrame, metric: str, form: Callable[[float], str]) -> str:
    """A measure with its 95% interval from the run, in words; undefined said as such."""
    hit = m[(m.metric == metric) & (m.subject == "")]
    if not len(hit) or math.isnan(float(hit.value.iloc[0])):
        if metric == "rank_rank_correlation":
            return UNDEFINED_RANKS
        return "undefined" if metric == "rank_rank_slope" else "n/a"
    text = form(float(hit.value.iloc[0]))
    low, high = (float(hit[c].iloc[0]) if c in hit else math.nan for c in ("ci_low", "ci_high"))
    if not (math.isnan(low) or math.isnan(high)):
        text += f" (95% interval {form(low)}–{form(high)})"
    return text


def _numbers(m: pd.DataFrame) -> dict[str, str]:
    return {
        "mean_score": fmt.score(metric_value(m, "mean_score")),
        "gini": _with_interval(m, "gini", fmt.ratio),
        "rank_rank": _with_interval(m, "rank_rank_correlation", fmt.ratio),
        "slope": _with_interval(m, "rank_rank_slope", fmt.ratio),
        "persistence": _with_interval(m, "bottom_decile_persistence", fmt.share),
        "assortativity": _with_interval(m, "score_assortativity", fmt.ratio),
        "dropped": fmt.count(metric_value(m, "friends_dropped")),
        "auc": _with_interval(m, "privacy_auc", fmt.ratio),
        "company_mean": fmt.score(metric_value(m, "company_mean_score")),
    }


def _ci(m: pd.DataFrame, metric: str, gate: str, grp: str = "all") -> tuple[float, float, float]:
    """A gate measure's value and 95% interval (nan where there is none)."""
    hit = m[(m.metric == metric) & (m.subject == gate) & (m.grp == grp)]
    if not len(hit):
        return float("nan"), float("nan"), float("nan")
    row = hit.iloc[0]
    lo, hi = (float("nan") if pd.isna(v) else float(v) for v in (row.ci_low, row.ci_high))
    return float(row.value), lo, hi


def _p(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _gate_rows(m: pd.DataFrame) -> list[dict[str, str]]:
    """The gate table: over the measurement window, every figure with its 95% interval."""
    rows = []
    for gate in dict.fromkeys(m[m.metric == "adverse_impact_ratio"].subject):
        part = m[(m.metric == "adverse_impact_ratio") & (m.subject == gate)].iloc[0]
        four_fifths = disparity.verdict_from_code(metric_value(m, "four_fifths_verdict", gate))
        adverse = disparity.worst_of(
            [
                disparity.verdict_from_code(metric_value(m, "adverse_outcome_verdict", gate)),
                disparity.verdict_from_code(
                    metric_value(m, "adverse_outcome_population_verdict", gate)
                ),
            ]
        )
        rows.append(
            {
                "gate": gate,
                "days": f"{int(part.day_from)}–{int(part.day_to)}",
                "applications": fmt.count(
                    metric_value(m, "applications", gate, "majority")
                    + metric_value(m, "applications", gate, "minority")
                ),
                "majority": fmt.with_ci(*_ci(m, "selection_rate", gate, "majority"), fmt.share),
                "minority": fmt.with_ci(*_ci(m, "selection_rate", gate, "minority"), fmt.share),
                "ratio": fmt.with_ci(*_ci(m, "adverse_impact_ratio", gate), fmt.unbounded_ratio),
                "verdict": disparity.verdict_words(four_fifths),
                "verdict_class": four_fifths.replace(" ", "-"),
                "difference": fmt.with_ci(
                    *_ci(m, "demographic_parity_difference", gate), fmt.points
                ),
                "majority_adverse": fmt.with_ci(
                    *_ci(m, "adverse_rate", gate, "majority"), fmt.share
                ),
                "minority_adverse": fmt.with_ci(
                    *_ci(m, "adverse_rate", gate, "minority"), fmt.share
                ),
                "outcome": fmt.with_ci(*_ci(m, "adverse_outcome_ratio", gate), fmt.unbounded_ratio),
                "outcome_p": _p(metric_value(m, "applicants_p_value", gate)),
                "population": fmt.with_ci(
                    *_ci(m, "adverse_outcome_ratio_population", gate), fmt.unbounded_ratio
                ),
                "population_p": _p(metric_value(m, "adverse_outcome_population_p_value", gate)),
                "adverse_verdict": disparity.verdict_words(adverse),
                "adverse_class": adverse.replace(" ", "-"),
                "erroneous": fmt.count(metric_value(m, "erroneous_denials", gate)),
            }
        )
    return rows


#: Verdicts in words with a symbol (the audit table and the command line).
VERDICT_WORDS = {
    v: disparity.verdict_words(v) for v in ("pass", "fail", "inconclusive", "not applicable")
}


def _audit_rows(audit: pa.Table | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    rows = [
        {
            "law": r["law"],
            "subject": r["subject"],
            "verdict": VERDICT_WORDS[r["verdict"]],
            "verdict_class": r["verdict"].replace(" ", "-"),
            "reason": r["reason"],
        }
        for r in audit.to_pylist()
    ]
    failed = sum(1 for r in audit.to_pylist() if r["verdict"] == "fail")
    laws = [
        {
            "law": law.law,
            "verdict": VERDICT_WORDS[law.verdict],
            "verdict_class": law.verdict.replace(" ", "-"),
            "words": law.words(),
        }
        for law in by_law((r["law"], r["verdict"]) for r in audit.to_pylist())
    ]
    return {"rows": rows, "failed": failed, "total": len(rows), "laws": laws}


def _gate_settings(scenario: Scenario) -> list[dict[str, str]]:
    rows = []
    for name in type(scenario.gates).model_fields:
        gate = getattr(scenario.gates, name)
        if not gate.enabled:
            continue
        settings = gate.model_dump(exclude={"enabled", "domain"}, exclude_none=True)
        domain = gate.domain if name == "public_contracts" else scenario.gate_domain(name)
        rows.append(
            {
                "gate": name,
                "domain": str(domain or "procurement"),
                "settings": ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in settings.items()),
            }
        )
    return rows
