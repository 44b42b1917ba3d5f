"""Headlines say what happened, over which days, and only what their intervals support."""

from __future__ import annotations

import math

import pandas as pd

import socialscore
from socialscore.report.headlines import headlines

DAYS = (180, 364)


def frame(*rows: tuple[str, str, str, float, float, float]) -> pd.DataFrame:
    """Metric rows (metric, subject, grp, value, ci_low, ci_high) over days 180-364."""
    return pd.DataFrame(
        [
            {
                "metric": m,
                "subject": s,
                "grp": g,
                "value": v,
                "ci_low": lo,
                "ci_high": hi,
                "day_from": DAYS[0],
                "day_to": DAYS[1],
            }
            for m, s, g, v, lo, hi in rows
        ]
    )


NAN = math.nan


def approvals(ratio: float, low: float, high: float, verdict: float) -> pd.DataFrame:
    return frame(
        ("adverse_impact_ratio", "mortgage", "all", ratio, low, high),
        ("four_fifths_verdict", "mortgage", "all", verdict, NAN, NAN),
        ("selection_rate", "mortgage", "minority", 0.60 * ratio / 0.75, NAN, NAN),
        ("selection_rate", "mortgage", "majority", 0.80, NAN, NAN),
    )


def test_a_failing_gate_is_stated_with_its_interval_and_days() -> None:
    (h,) = headlines(approvals(0.70, 0.64, 0.76, 0.0))
    assert h.alarm
    assert h.text.startswith("Over days 180–364, minority citizens were approved for mortgages")
    assert "0.70 times" in h.text and "95% interval 0.64–0.76" in h.text
    assert "wholly below the four-fifths line" in h.text


def test_an_interval_straddling_the_line_is_said_to_be_inconclusive() -> None:
    (h,) = headlines(approvals(0.78, 0.72, 0.85, 0.5))
    assert not h.alarm
    assert "straddles the four-fifths line" in h.text and "cannot tell" in h.text
    assert "below the four-fifths line" not in h.text


def test_a_sanction_twice_as_likely_for_one_group_fails_in_words() -> None:
    m = frame(
        ("adverse_outcome_ratio", "travel", "all", 2.4, 2.1, 2.8),
        ("adverse_outcome_verdict", "travel", "all", 0.0, NAN, NAN),
        ("adverse_rate", "travel", "minority", 0.024, NAN, NAN),
        ("adverse_rate", "travel", "majority", 0.010, NAN, NAN),
    )
    (h,) = headlines(m)
    assert h.alarm
    assert "minority applicants were barred from travel 2.40 times as often" in h.text
    assert "95% interval 2.10–2.80" in h.text and "past the 1.25 line" in h.text


def test_travel_is_described_by_blocked_attempts_not_by_the_blacklist_line() -> None:
    # Citizens below the line, but a travel gate that blocked nobody (purpose limitation).
    m = frame(
        ("blacklisted_share", "", "all", 0.0063, NAN, NAN),
        ("applications", "travel", "majority", 9_000, NAN, NAN),
        ("applications", "travel", "minority", 1_000, NAN, NAN),
        ("adverse_rate", "travel", "majority", 0.0, NAN, NAN),
        ("adverse_rate", "travel", "minority", 0.0, NAN, NAN),
    )
    (h,) = headlines(m)
    assert "barred" not in h.text and "blocked none of the 10,000 attempts" in h.text
    blocked = frame(
        ("applications", "travel", "majority", 9_000, NAN, NAN),
        ("applications", "travel", "minority", 1_000, NAN, NAN),
        ("adverse_rate", "travel", "majority", 0.01, NAN, NAN),
        ("adverse_rate", "travel", "minority", 0.03, NAN, NAN),
    )
    (h,) = headlines(blocked)
    assert h.text.startswith("120 travel attempts (1.2% of 10,000) were blocked over days 180–364")


def test_chilling_is_stated_against_the_unchilled_rate() -> None:
    m = frame(
        ("chilling_forgone_share", "flagged_book", "all", 0.0071, NAN, NAN),
        ("chilling_forgone_share", "interaction", "all", 0.0013, NAN, NAN),
        ("chilling_forgone_acts", "flagged_book", "all", 1234.0, NAN, NAN),
        ("chilling_realised_share", "flagged_book", "all", 0.008, 0.004, 0.012),
    )
    (h,) = headlines(m)
    assert "gave up 0.71% of the lawful but penalised behaviour 'flagged_book'" in h.text
    assert "(1,234 acts)" in h.text and "without the penalty" in h.text
    assert "95% interval 0.40%–1.2%" in h.text


def test_privacy_says_no_measurable_signal_when_the_interval_holds_one_half() -> None:
    (h,) = headlines(frame(("privacy_auc", "", "all", 0.51, 0.49, 0.53)))
    assert h.text.startswith("The score does not measurably single out minority citizens")
    (h,) = headlines(frame(("privacy_auc", "", "all", 0.61, 0.60, 0.62)))
    assert "singles out minority citizens with an AUC of 0.61 (95% interval 0.60–0.62" in h.text


def test_a_series_still_moving_at_the_end_is_named() -> None:
    m = frame(
        ("settled", "blacklisted_share", "all", 0.0, NAN, NAN),
        ("drift_per_year", "blacklisted_share", "all", 0.019, 0.012, 0.026),
        ("settled", "mean_score", "all", 1.0, NAN, NAN),
    )
    (h,) = headlines(m)
    assert "Still changing" in h.text
    assert "the blacklisted share (rising by 1.9 percentage points a year)" in h.text
    assert "mean score" not in h.text


def test_a_safeguarded_regime_is_not_said_to_bar_anyone_from_travel(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = socialscore.run(
        "safeguarded-citizen-score", population=20_000, days=200, seed=3, out=tmp_path
    )
    from socialscore.scenario.window import measurement_window

    window = measurement_window(result.scenario, 200)
    gates = result.to_pandas("daily_gates")
    travel = gates[(gates.gate == "travel") & window.mask(gates.day)]
    blocked = int((travel.applied - travel.selected).sum())
    assert blocked == 0  # purpose limitation: the travel gate reads no score here
    texts = [h.text for h in headlines(result.metrics.to_pandas())]
    travel_lines = [t for t in texts if "travel" in t and "attempt" in t]
    assert travel_lines, texts
    assert all("barred" not in t and "were blocked" not in t for t in texts)
    assert any("blocked none of the" in t for t in travel_lines)


def test_sanctions_weigh_the_per_member_verdict_and_say_which_group_is_worse_off() -> None:
    # Applicants within the band, but per member the majority is sanctioned far more.
    m = frame(
        ("adverse_outcome_ratio", "job_retention", "all", 0.95, 0.85, 1.06),
        ("adverse_outcome_verdict", "job_retention", "all", 1.0, NAN, NAN),
        ("adverse_outcome_ratio_population", "job_retention", "all", 0.40, 0.30, 0.52),
        ("adverse_outcome_population_verdict", "job_retention", "all", 0.0, NAN, NAN),
        ("adverse_rate", "job_retention", "minority", 0.019, NAN, NAN),
        ("adverse_rate", "job_retention", "majority", 0.020, NAN, NAN),
    )
    (h,) = headlines(m)
    assert h.alarm and "past the 1.25 line" in h.text
    assert "counting every member of each group, applicants or not, the majority were " in h.text
    assert "dismissed from their jobs 2.50 times as often as the minority" in h.text
    assert "95% interval 1.92–3.33" in h.text  # the per-member interval, inverted
    assert "among applicants alone the ratio was 1.05" in h.text
