"""Steady state: a run says whether its key daily series had settled by its end."""

from __future__ import annotations

import numpy as np
import pytest

import socialscore
from conftest import simulate, small
from socialscore.analysis import steady
from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.measures.intervals import t_quantile


def ar1(rng: np.random.Generator, phi: float, size: tuple[int, int]) -> np.ndarray:
    """Stationary AR(1) noise with unit innovations, one series per row."""
    reps, n = size
    e = rng.standard_normal((reps, n + 300))
    y = np.zeros_like(e)
    y[:, 0] = e[:, 0] / np.sqrt(1 - phi * phi)
    for k in range(1, n + 300):
        y[:, k] = phi * y[:, k - 1] + e[:, k]
    return y[:, 300:]


class TestTrend:
    def test_slope_and_interval_match_a_brute_force_computation(self) -> None:
        rng = np.random.default_rng(3)
        y = 2.0 + 0.01 * np.arange(60) + ar1(rng, 0.6, (1, 60))[0]
        got = steady.trend(y)
        # Brute force: polyfit slope; AR(1) variance with the full correlation matrix.
        t = np.arange(60.0)
        slope, intercept = np.polyfit(t, y, 1)
        u = y - (intercept + slope * t)
        phi_ls = (u[1:] @ u[:-1]) / (u[:-1] @ u[:-1])
        eps = u[1:] - phi_ls * u[:-1]
        phi = min(max(phi_ls + (2 + 4 * phi_ls) / 60, 0.0), 0.99)
        gamma0 = (eps @ eps) / 57 / (1 - phi**2)
        x = t - t.mean()
        corr = phi ** np.abs(np.subtract.outer(t, t))
        se = np.sqrt(gamma0 * (x @ corr @ x)) / (x @ x)
        df = max(60 * (1 - phi) / (1 + phi) - 2, 1)
        half = t_quantile(0.975, df) * se
        assert got.slope == pytest.approx(slope, rel=1e-10)
        assert got.phi == pytest.approx(phi, rel=1e-12)
        assert (got.low, got.high) == pytest.approx((slope - half, slope + half), rel=1e-9)

    def test_a_known_trend_is_flagged_and_its_interval_holds_it(self) -> None:
        rng = np.random.default_rng(4)
        days = np.arange(91)
        # A share of 1% growing 0.5 points a year (0.125 points over the 91 days tested),
        # with autocorrelated day-to-day noise of sd 0.006 points.
        noise = 5e-5 * ar1(rng, 0.5, (300, 91))
        found = [
            steady.drift("share", 0.01 + 0.005 / 365 * days + e, (0, 90), "level", 0.0)
            for e in noise
        ]
        assert np.mean([not d.settled for d in found]) >= 0.95
        assert np.mean([d.low <= 0.005 <= d.high for d in found]) >= 0.93

    @pytest.mark.parametrize("phi", [0.5, 0.9])
    def test_stationary_autocorrelated_noise_is_rarely_flagged(self, phi: float) -> None:
        # No trend: the 95% test should alarm about 5% of the time, even with strong
        # autocorrelation (phi 0.9: a day-to-day memory of about 19 days over 91 days).
        rng = np.random.default_rng(int(phi * 100))
        series = ar1(rng, phi, (3_000, 91))
        alarms = np.mean([steady.trend(y).significant for y in series])
        assert alarms <= 0.07

    def test_plain_least_squares_would_alarm_far_too_often(self) -> None:
        # The same check against the naive interval (independent days): it fails, which is
        # why the autocorrelation matters.
        rng = np.random.default_rng(9)
        series = ar1(rng, 0.9, (1_000, 91))
        x = np.arange(91.0) - 45.0
        alarms = 0
        for y in series:
            b = x @ (y - y.mean()) / (x @ x)
            u = y - y.mean() - b * x
            se = np.sqrt(u @ u / 89 / (x @ x))
            alarms += abs(b / se) > t_quantile(0.975, 89)
        assert alarms / len(series) > 0.3

    def test_a_flat_series_is_settled_with_a_zero_interval(self) -> None:
        d = steady.drift("mean_score", np.full(91, 650.0), (274, 364), "score", 600.0)
        assert (d.per_year, d.low, d.high) == (0.0, 0.0, 0.0)
        assert d.settled and not d.significant

    def test_a_significant_but_tiny_drift_is_settled(self) -> None:
        # +1 point a year on a 600-point scale: real but immaterial (under 5% = 30 points).
        y = 600.0 + 1.0 / 365 * np.arange(91)
        d = steady.drift("mean_score", y, (274, 364), "score", 600.0)
        assert d.significant and not d.material and d.settled


def test_the_tested_days_are_the_last_quarter_inside_the_window() -> None:
    assert steady.tested_days(small("citizen-score", days=365), 365) == (274, 364)
    assert steady.tested_days(small("citizen-score", days=60), 60) == (30, 59)  # at least 30
    assert steady.tested_days(small("citizen-score", days=40), 40) is None  # window: 20 days


def _drifts(name: str, days: int, population: int = 5_000) -> dict[str, steady.Drift]:
    sc = small(name, population=population, days=days)
    _, recorder = simulate(sc)
    return {d.series: d for d in steady.drifts(sc, recorder.daily_table())}


def test_citizen_score_at_a_year_is_still_changing_and_no_scoring_is_settled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 20,000 citizens: at 5,000 the blacklist is a few dozen people and its drift interval
    # straddles 0 or not depending on which random streams the engine draws.
    result = socialscore.run("citizen-score", population=20_000, days=365, out=tmp_path)
    m = result.metrics.to_pandas()
    rows = m[(m.metric == "settled") & (m.subject == "blacklisted_share")]
    assert rows.value.tolist() == [0.0]  # the blacklist is still filling up at day 364
    drift = m[(m.metric == "drift_per_year") & (m.subject == "blacklisted_share")].iloc[0]
    assert drift.ci_low > 0 and (drift.day_from, drift.day_to) == (274, 364)
    assert {"drift_per_year", "settled"} <= set(DESCRIPTIONS)
    baseline = _drifts("no-scoring", 365)
    # Without a score nothing moves but the mortgage stock (checked below), employment
    # wanders within its noise.
    assert set(baseline) == set(steady.SERIES)
    assert all(d.settled for name, d in baseline.items() if name != "mortgage_share")


def test_a_long_run_settles_where_the_regime_does() -> None:
    # Four years: the blacklist stops growing (3.07% on day 1095, 3.12% on day 1459) and is
    # settled; mortgages are 20-year loans whose stock keeps filling up in every regime,
    # and the test says so.
    regime = _drifts("citizen-score", 1460, population=10_000)
    assert regime["blacklisted_share"].settled
    assert regime["mean_score"].settled
    # Scores are judged against the score scale (350-950), shares against their own level.
    assert regime["sd_score"].scale == 600.0
    assert 0.03 < regime["blacklisted_share"].scale < 0.033
    baseline = _drifts("no-scoring", 1460, population=10_000)
    assert not baseline["mortgage_share"].settled
    assert baseline["mortgage_share"].low > 0
