"""The measurement window: from full coverage plus burn-in to the last day."""

from __future__ import annotations

from conftest import minimal, small
from socialscore.scenario.window import measurement_window


def test_citizen_score_is_measured_from_coverage_plus_burn_in() -> None:
    w = measurement_window(small("citizen-score", days=365))
    assert (w.start, w.end) == (180, 364)
    assert w.covered_from == 90
    assert w.label() == "days 180–364"
    assert list(w.mask([179, 180, 364, 365])) == [False, True, True, False]


def test_a_short_run_keeps_its_second_half_and_says_why() -> None:
    w = measurement_window(small("citizen-score", days=120))
    assert (w.start, w.end) == (60, 119)
    assert "past the middle" in w.why


def test_a_regime_that_never_covers_everyone_is_measured_over_the_second_half() -> None:
    w = measurement_window(small("sesame-credit", days=200))
    assert (w.start, w.covered_from) == (100, None)
    assert "never rates everyone" in w.why


def test_the_scenario_can_set_the_first_day() -> None:
    w = measurement_window(minimal(recording={"measure_from_day": 3}))
    assert (w.start, w.end) == (3, 9)
    late = measurement_window(minimal(recording={"measure_from_day": 30}))
    assert (late.start, late.end) == (5, 9)
    assert "after the run's end" in late.why


def test_everyone_rated_from_day_0_starts_after_the_burn_in() -> None:
    w = measurement_window(
        minimal(run={"population": 1000, "days": 400, "seed": 1}, recording={"burn_in_days": 30})
    )
    assert (w.start, w.end, w.covered_from) == (30, 399, 0)


def test_the_first_day_can_be_set_for_one_run() -> None:
    sc = small("citizen-score", days=365).with_overrides(measure_from=250)
    assert measurement_window(sc).start == 250
    assert sc.recording.burn_in_days == 90  # the rest of the recording table is kept
