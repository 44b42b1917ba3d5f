"""The rulebook: accumulators converge to their known steady state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import minimal, simulate
from socialscore.simulation.kernels.score import clip_round, decay_factor


@pytest.mark.parametrize(("p", "w", "half_life"), [(0.05, 4.0, 20.0), (0.01, -20.0, 30.0)])
def test_mean_accumulator_converges_to_p_w_over_one_minus_d(p, w, half_life):  # type: ignore[no-untyped-def]
    n, days = 20_000, 600
    sc = minimal(
        run={"population": n, "days": days, "seed": 7},
        streams={"bill_on_time": {"rate": p, "spread": 0.0}},
        rules=[{"event": "bill_on_time", "points": w, "half_life_days": half_life}],
    )
    engine, _ = simulate(sc)
    d = decay_factor(half_life)
    expected = p * w / (1 - d)
    # Stationary variance of one accumulator: p(1-p)w²/(1-d²); citizens are independent.
    sd_of_mean = math.sqrt(p * (1 - p) * w * w / (1 - d * d) / n)
    transient = abs(expected) * d**days
    acc = engine.state.acc[0].astype(np.float64)
    assert abs(acc.mean() - expected) < 5 * sd_of_mean + transient


def test_score_is_base_plus_accumulators_clipped_and_rounded():
    sc = minimal(
        streams={"bill_late": {"rate": 0.3, "spread": 0.0}, "good_deed": {"rate": 0.2}},
        rules=[
            {"event": "bill_late", "points": -7.5, "half_life_days": 10},
            {"event": "good_deed", "points": 3.25},
        ],
    )
    engine, _ = simulate(sc)
    st = engine.state
    raw = 600 + st.acc.astype(np.float64).sum(axis=0)
    expected = np.clip(np.floor(raw + 0.5), 0, 2000)
    # float32 accumulators summed in float64 inside the kernel: allow one point at .5 boundaries.
    assert np.max(np.abs(st.score - expected)) <= 1
    assert np.mean(st.score == expected) > 0.999


def test_cap_bounds_an_accumulator():
    sc = minimal(
        run={"population": 500, "days": 100, "seed": 3},
        streams={"book_read": {"rate": 1.0, "spread": 0.0}},
        rules=[{"event": "book_read", "points": 5, "cap": 12}],
    )
    engine, _ = simulate(sc)
    assert np.all(engine.state.acc[0] == 12)


def test_clip_round_rounds_half_up_and_clips():
    assert clip_round(600.5, 350, 950) == 601
    assert clip_round(600.49, 350, 950) == 600
    assert clip_round(-1e9, 350, 950) == 350
    assert clip_round(1e9, 350, 950) == 950


def test_decay_factor_halves_after_half_life():
    assert decay_factor(90) ** 90 == pytest.approx(0.5)
    assert decay_factor(0) == 1.0


def test_splitting_a_rule_in_two_changes_no_score():
    streams = {"bill_late": {"rate": 0.2}, "good_deed": {"rate": 0.1}}
    one = minimal(
        streams=streams,
        rules=[
            {"event": "bill_late", "points": -15, "half_life_days": 20},
            {"event": "good_deed", "points": 6, "half_life_days": 20},
        ],
    )
    split = minimal(
        streams=streams,
        rules=[
            {"event": "bill_late", "points": -10, "half_life_days": 20},
            {"event": "good_deed", "points": 6, "half_life_days": 20},
            {"event": "bill_late", "points": -5, "half_life_days": 20},
        ],
    )
    a, _ = simulate(one)
    b, _ = simulate(split)
    np.testing.assert_array_equal(a.state.score, b.state.score)
