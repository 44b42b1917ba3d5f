"""The chunk passes: listing rare events, the largest value."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from socialscore.simulation.kernels import passes

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
