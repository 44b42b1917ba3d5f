"""The chunk passes: listing rare events, the largest value, stochastic rounding."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from socialscore import passes

LOW31 = 0x7FFFFFFF


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(0, 300),
    density=st.floats(0.0, 1.0),
    shift=st.sampled_from([1, 33]),
    seed=st.integers(0, 2**32 - 1),
)
def test_list_draws_under_lists_exactly_the_citizens_under_the_bound_in_order(
    m: int, density: float, shift: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    pair_hash = rng.integers(0, 2**63, m, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    bound = density * 2**31
    listed = np.empty(m, dtype=np.uint64)
    bits = np.empty((m + 63) // 64, dtype=np.uint64)
    n = passes.list_draws_under(listed, bits, pair_hash, np.uint64(shift), bound)
    draws = (pair_hash >> np.uint64(shift)) & np.uint64(LOW31)
    expected = np.flatnonzero(draws.astype(np.float64) < bound)
    np.testing.assert_array_equal(listed[:n], expected)


@given(st.lists(st.floats(0.0, 1e6), max_size=200), st.floats(0.0, 10.0))
def test_largest_is_the_maximum_of_the_values_and_the_floor(
    values: list[float], floor: float
) -> None:
    array = np.array(values, dtype=np.float32)
    expected = max([floor, *array.astype(np.float64).tolist()])
    assert passes.largest(array, floor) == expected


def test_stochastic_rounding_keeps_the_mean_of_a_fraction_of_a_unit() -> None:
    """Storing 0.3 units rounds up 30% of the time: no bias, even below one unit."""
    n = 200_000
    rng = np.random.default_rng(5)
    rounding = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    row = np.zeros(n, dtype=np.int16)
    total = np.zeros(n, dtype=np.float64)
    scale = 0.04
    points = np.full(n, 0.3 * scale)
    passes.decay(row, points, total, 1.0, np.inf, 1.0, scale, rounding, np.uint64(16))
    assert set(np.unique(row)) <= {0, 1}
    sd = np.sqrt(0.3 * 0.7 / n)
    assert abs(row.mean() - 0.3) < 5 * sd
    np.testing.assert_allclose(total, row * scale)


def test_a_slowly_decaying_accumulator_still_decays_on_average() -> None:
    """One unit decaying by 1% a day is not stuck at one unit by rounding."""
    n = 100_000
    rng = np.random.default_rng(6)
    row = np.ones(n, dtype=np.int16)
    total = np.zeros(n, dtype=np.float64)
    for _ in range(50):
        rounding = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
        total[:] = 0.0
        passes.decay(row, np.zeros(n), total, 0.99, np.inf, 1.0, 1.0, rounding, np.uint64(0))
    expected = 0.99**50
    assert abs(row.mean() - expected) < 5 * np.sqrt(expected * (1 - expected) / n)


def test_an_emptied_accumulator_stores_zero() -> None:
    n = 1_000
    row = np.full(n, 500, dtype=np.int16)
    total = np.zeros(n, dtype=np.float64)
    mask = np.full(n, 1 << 3, dtype=np.uint32)
    rounding = np.full(n, np.uint64(2**64 - 1), dtype=np.uint64)
    passes.decay_or_clear(
        row, np.zeros(n), total, 0.9, np.inf, 1.0, 0.1, rounding, np.uint64(0), mask, 3
    )
    assert np.all(row == 0) and np.all(total == 0.0)
