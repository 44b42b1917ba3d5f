"""Every measure socialscore publishes, declared once: name, words, window, headline.

The ``metrics`` table of a run holds rows of these measures only. Everything
that names a measure reads this registry: the words in the CLI, the reports
and docs/model.md's glossary (:data:`DESCRIPTIONS`), the headline measures a
comparison and a sweep follow (:data:`HEADLINES`), the check of a metric name
given from Python or in a sweep grid (:func:`check_name`), and the type of a
metric name (:data:`MetricName`). Adding a measure is one entry here plus the
code in :mod:`socialscore.analysis.harms` that computes it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Final, Literal, get_args

#: Days a measure covers: the run's last day; the measurement window
#: (:mod:`socialscore.scenario.window`); the whole run; the last quarter of the
#: run read by the steady-state test (:mod:`socialscore.analysis.steady`).
Span = Literal["last day", "window", "run", "last quarter"]

#: The name of a measure, as in the ``metric`` column of the ``metrics`` table.
MetricName = Literal[
    "mean_score",
    "sd_score",
    "gini",
    "grade_share",
    "blacklisted_share",
    "selection_rate",
    "adverse_rate",
    "adverse_rate_per_member",
    "applications",
    "adverse_impact_ratio",
    "four_fifths_pass",
    "four_fifths_verdict",
    "demographic_parity_difference",
    "applicants_p_value",
    "adverse_outcome_ratio",
    "adverse_outcome_verdict",
    "adverse_outcome_ratio_population",
    "adverse_outcome_population_p_value",
    "adverse_outcome_population_verdict",
    "erroneous_denials",
    "rank_rank_correlation",
    "rank_rank_slope",
    "bottom_decile_persistence",
    "grade_transition",
    "score_assortativity",
    "friends_dropped",
    "followers_lost_by_decile",
    "privacy_auc",
    "chilling_forgone_share",
    "chilling_forgone_acts",
    "chilling_realised_share",
    "mean_score_by_group",
    "company_mean_score",
    "drift_per_year",
    "settled",
    "selection_gap",
    "selection_gap_regime",
    "selection_gap_assumed",
    "selection_gap_part",
    "selection_gap_interactions",
]

ERR_UNKNOWN_METRIC = "No metric {metric!r}.{hint} Metrics (docs/model.md): {known}."


@dataclass(frozen=True)
class Measure:
    """One published measure.

    Attributes:
        name: The ``metric`` column's value.
        label: Short words for a table row or a chart axis.
        span: The days the measure covers.
        description: What it means, in words a reader of the report understands,
            with its interval.
        headline: Followed by comparisons and sweeps and shown first.
        on_request: Written only when asked for (the decomposition: ``run
            --decompose``, ``audit``), not by every run.
    """

    name: str
    label: str
    span: Span
    description: str
    headline: bool = False
    on_request: bool = False


MEASURES: Final[tuple[Measure, ...]] = (
    Measure(
        "mean_score",
        "mean score",
        "last day",
        (
            "Average score on the last day (95% interval: ±1.96 standard deviations of the scores "
            "over the square root of the number of citizens)."
        ),
        headline=True,
    ),
    Measure(
        "sd_score",
        "spread of scores",
        "last day",
        "Spread of scores on the last day (standard deviation).",
        headline=False,
    ),
    Measure(
        "gini",
        "Gini of scores",
        "last day",
        (
            "Inequality of scores on the last day, measured on each score's height above the "
            "bottom of its scale (score minus the lowest possible score), so it reads the same on "
            "any scale: 0 when all are equal, near 1 when one citizen holds all the height and "
            "everyone else sits at the bottom."
        ),
        headline=True,
    ),
    Measure(
        "grade_share",
        "grade share",
        "last day",
        "Share of citizens in each grade on the last day (95% Wilson interval).",
        headline=False,
    ),
    Measure(
        "blacklisted_share",
        "blacklisted share",
        "last day",
        "Share of citizens below the blacklist line on the last day (95% Wilson interval).",
        headline=True,
    ),
    Measure(
        "selection_rate",
        "selection rate",
        "window",
        (
            "Share of a group's decisions at a gate that went the citizen's way, over the "
            "measurement window (95% Wilson interval)."
        ),
        headline=True,
    ),
    Measure(
        "adverse_rate",
        "adverse rate",
        "window",
        (
            "Share of a group's decisions at a gate that went against the citizen (denied, "
            "dismissed, refused, barred), over the measurement window (95% Wilson interval)."
        ),
        headline=False,
    ),
    Measure(
        "adverse_rate_per_member",
        "adverse decisions per member",
        "window",
        (
            "Adverse decisions at a gate per member of the group over the measurement window, "
            "counting those who never applied (95% Poisson score interval)."
        ),
        headline=False,
    ),
    Measure(
        "applications",
        "decisions",
        "window",
        "Number of decisions taken at a gate over the measurement window, per group.",
        headline=False,
    ),
    Measure(
        "adverse_impact_ratio",
        "adverse-impact ratio",
        "window",
        (
            "Lowest group's selection rate divided by the highest group's (95% Katz interval); "
            "below 0.8 fails the four-fifths rule (evidence of adverse impact)."
        ),
        headline=True,
    ),
    Measure(
        "four_fifths_pass",
        "four-fifths rule (point)",
        "window",
        (
            "1 when the point adverse-impact ratio is at least 0.8, 0 when it is lower; empty "
            "when a group had no decisions or nobody was approved (not applicable)."
        ),
        headline=False,
    ),
    Measure(
        "four_fifths_verdict",
        "four-fifths verdict",
        "window",
        (
            "Four-fifths verdict from the interval of the adverse-impact ratio: 1 passes "
            "(interval wholly within 0.8–1.25), 0 fails (wholly below 0.8), 0.5 inconclusive (the "
            "interval straddles the line), empty when not applicable."
        ),
        headline=False,
    ),
    Measure(
        "demographic_parity_difference",
        "demographic parity difference",
        "window",
        "Highest group's selection rate minus the lowest's (95% Newcombe interval).",
        headline=True,
    ),
    Measure(
        "applicants_p_value",
        "p-value among applicants",
        "window",
        (
            "p-value of the test that both groups' applicants are approved (and denied) at the "
            "same rate: Fisher's exact test for small counts, the two-proportion z-test "
            "otherwise."
        ),
        headline=False,
    ),
    Measure(
        "adverse_outcome_ratio",
        "adverse-outcome ratio",
        "window",
        (
            "Minority applicants' adverse rate divided by majority applicants' (95% Katz "
            "interval): above 1 the minority is denied or sanctioned more often. The gate fails "
            "when the whole interval lies beyond 1.25 (or below 0.8), is inconclusive when it "
            "straddles the line."
        ),
        headline=False,
    ),
    Measure(
        "adverse_outcome_verdict",
        "adverse-outcome verdict",
        "window",
        (
            "Verdict on the adverse-outcome ratio from its interval against the band 0.8–1.25: 1 "
            "passes, 0 fails, 0.5 inconclusive, empty when not applicable."
        ),
        headline=False,
    ),
    Measure(
        "adverse_outcome_ratio_population",
        "adverse-outcome ratio per member",
        "window",
        (
            "Minority's adverse decisions per member divided by the majority's, whether or not "
            "they applied (95% interval on the log ratio of two Poisson rates)."
        ),
        headline=False,
    ),
    Measure(
        "adverse_outcome_population_p_value",
        "p-value per member",
        "window",
        (
            "p-value of the test that adverse decisions fall on the groups in proportion to their "
            "size (exact conditional binomial test)."
        ),
        headline=False,
    ),
    Measure(
        "adverse_outcome_population_verdict",
        "adverse-outcome verdict per member",
        "window",
        (
            "Verdict on the per-member adverse-outcome ratio from its interval against the band "
            "0.8–1.25: 1 passes, 0 fails, 0.5 inconclusive, empty when not applicable."
        ),
        headline=False,
    ),
    Measure(
        "erroneous_denials",
        "erroneous denials",
        "window",
        (
            "Denials over the measurement window that would have been approvals without erroneous "
            "records."
        ),
        headline=True,
    ),
    Measure(
        "rank_rank_correlation",
        "rank-rank correlation",
        "window",
        (
            "Correlation of citizens' ranks at the start of the measurement window and at the end "
            "(Spearman; tied citizens share the middle of their ranks): 1 means everyone kept "
            "their place, 0 that the start says nothing about the end. Undefined when every "
            "citizen has the same score at the start or at the end."
        ),
        headline=True,
    ),
    Measure(
        "rank_rank_slope",
        "rank-rank slope",
        "window",
        (
            "Slope of end rank on start rank over the measurement window (US parent-child income: "
            "about 0.34). Undefined when every citizen has the same score at the start."
        ),
        headline=False,
    ),
    Measure(
        "bottom_decile_persistence",
        "bottom-decile persistence",
        "window",
        (
            "Share of the bottom tenth of the ranking at the start of the measurement window "
            "still in the bottom tenth at the end. Citizens tied at the edge of the bottom tenth "
            "count in it in part, so it always holds a tenth of the citizens. 0.10 is chance: "
            "what it is when the start says nothing about the end, or nobody has a distinct "
            "score."
        ),
        headline=True,
    ),
    Measure(
        "grade_transition",
        "grade transition",
        "window",
        (
            "Share of citizens in a grade at the start of the measurement window who ended it in "
            "each grade (95% Wilson interval)."
        ),
        headline=False,
    ),
    Measure(
        "score_assortativity",
        "score assortativity",
        "last day",
        "Correlation of scores between friends: high values mean friendships sort by score.",
        headline=True,
    ),
    Measure(
        "friends_dropped",
        "friends dropped",
        "run",
        "Friendships dropped because of a friend's low score, over the run.",
        headline=True,
    ),
    Measure(
        "followers_lost_by_decile",
        "followers lost by decile",
        "run",
        (
            "Average number of citizens who dropped a citizen as a friend, by the citizen's final "
            "score decile (0 = lowest tenth; citizens tied across a decile's edge count in each "
            "decile in part)."
        ),
        headline=False,
    ),
    Measure(
        "privacy_auc",
        "privacy AUC",
        "last day",
        (
            "How well a low score alone singles out minority citizens (ROC AUC): 0.5 reveals "
            "nothing, 1 identifies them perfectly, below 0.5 they score higher."
        ),
        headline=True,
    ),
    Measure(
        "chilling_forgone_share",
        "behaviour forgone (share)",
        "window",
        (
            "Share of a lawful, penalised behaviour the regime deterred over the measurement "
            "window: 1 − acts expected / acts the same citizens were expected to do on the same "
            "days without the chilling factor. Exact given the run (no sampling interval); 0 = "
            "nothing deterred."
        ),
        headline=True,
    ),
    Measure(
        "chilling_forgone_acts",
        "behaviour forgone (acts)",
        "window",
        (
            "Acts of a lawful, penalised behaviour the regime deterred over the measurement "
            "window: acts expected without the chilling factor minus acts expected with it (exact "
            "given the run)."
        ),
        headline=True,
    ),
    Measure(
        "chilling_realised_share",
        "behaviour forgone, as realised",
        "window",
        (
            "1 − acts that happened / acts expected without the chilling factor, over the "
            "measurement window: the forgone share read from the events themselves; its 95% "
            "interval is the randomness of the draws."
        ),
        headline=False,
    ),
    Measure(
        "mean_score_by_group",
        "mean score by group",
        "last day",
        "Average score of each group on the last day.",
        headline=False,
    ),
    Measure(
        "company_mean_score",
        "mean company score",
        "last day",
        "Average company score on the last day.",
        headline=False,
    ),
    Measure(
        "drift_per_year",
        "drift per year",
        "last quarter",
        (
            "How much a daily series (the subject) was still moving at the end of the run: the "
            "straight-line trend over the run's last quarter (days as stated), projected over a "
            "year, with a 95% interval that allows for day-to-day autocorrelation."
        ),
        headline=False,
    ),
    Measure(
        "settled",
        "settled",
        "last quarter",
        (
            "0 when a daily series (the subject) was still changing at the end of the run: its "
            "drift per year is significant (the interval excludes 0) and material (more than 5% "
            "of the series' level a year; for scores, 5% of the score scale's width). 1 when no "
            "such drift was found (a persistent series may hide a slow drift; a longer run "
            "tells)."
        ),
        headline=False,
    ),
    Measure(
        "selection_gap",
        "selection gap",
        "window",
        (
            "Majority's selection rate at a citizen gate minus the minority's, over the "
            "measurement window (a share; positive: the minority's decisions go its way less "
            "often), in the run as configured; 95% interval from a delete-one-replicate "
            "jackknife over 16 replicates of citizens. Written with the decomposition only "
            "(run --decompose, audit)."
        ),
        on_request=True,
    ),
    Measure(
        "selection_gap_regime",
        "selection gap, regime alone",
        "window",
        (
            "The selection gap when the same scenario and seed run with every assumed group "
            "difference removed (income shift, trait shifts, clustering, homophily, rate "
            "multipliers): what the regime's own mechanics make of two groups identical in every "
            "assumption (95% jackknife interval, paired across the runs)."
        ),
        on_request=True,
    ),
    Measure(
        "selection_gap_assumed",
        "selection gap explained by the assumptions",
        "window",
        (
            "Selection gap minus the gap of the regime alone: the part of a gate's gap the "
            "assumed group differences explain (95% jackknife interval, paired across the runs; "
            "nonzero only when it excludes 0)."
        ),
        on_request=True,
    ),
    Measure(
        "selection_gap_part",
        "selection gap, one assumption's part",
        "window",
        (
            "For one assumed group difference (subject: gate: key): the selection gap minus the "
            "gap with that difference alone removed, on the same draws (95% jackknife interval). "
            "One-at-a-time parts need not add up to the explained part."
        ),
        on_request=True,
    ),
    Measure(
        "selection_gap_interactions",
        "selection gap, interactions",
        "window",
        (
            "The explained part minus the sum of the one-at-a-time parts: what the assumptions "
            "do only together (95% jackknife interval)."
        ),
        on_request=True,
    ),
)

#: Each measure by name.
BY_NAME: Final[dict[str, Measure]] = {m.name: m for m in MEASURES}

#: Each measure's meaning in words, by name.
DESCRIPTIONS: Final[dict[str, str]] = {m.name: m.description for m in MEASURES}

#: Measures written only when asked for (the decomposition), in the registry's order.
ON_REQUEST: Final[tuple[str, ...]] = tuple(m.name for m in MEASURES if m.on_request)

#: The headline measures, in the registry's order.
HEADLINES: Final[tuple[str, ...]] = tuple(m.name for m in MEASURES if m.headline)


def check_name(metric: str) -> str:
    """Return ``metric`` when socialscore computes it.

    Raises:
        KeyError: When it does not, with the closest name (did you mean) and every name.
    """
    if metric in BY_NAME:
        return metric
    known = sorted(BY_NAME)
    close = difflib.get_close_matches(metric, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise KeyError(ERR_UNKNOWN_METRIC.format(metric=metric, hint=hint, known=", ".join(known)))


#: Markers around the glossary of measures in docs/model.md (generated by :func:`glossary`).
GLOSSARY_BEGIN = "<!-- measures: generated from socialscore.analysis.definitions -->"
GLOSSARY_END = "<!-- end of measures -->"


def glossary() -> str:
    """The glossary of measures as a Markdown table, as docs/model.md holds it."""
    rows = [
        "| measure | in words | days covered | headline | meaning |",
        "|---|---|---|---|---|",
    ]
    for m in MEASURES:
        headline = "yes" if m.headline else ""
        rows.append(f"| `{m.name}` | {m.label} | {m.span} | {headline} | {m.description} |")
    return "\n".join([GLOSSARY_BEGIN, *rows, GLOSSARY_END])


if tuple(get_args(MetricName)) != tuple(BY_NAME):  # the type and the registry must agree
    raise RuntimeError("MetricName must list the names of MEASURES, in their order")
