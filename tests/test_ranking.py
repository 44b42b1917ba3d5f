"""The public ranking: mid-rank percentiles and the low-ranked bit, under the one tie convention."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from socialscore.simulation.kernels.ranking import (
    low_rank_weights,
    mark_low_ranked,
    percentile_of,
    percentile_table,
)


@settings(max_examples=60, deadline=None)
@given(
    lo=st.integers(-500, 500),
    width=st.integers(0, 700),
    data=st.data(),
)
def test_percentile_matches_sort_reference(lo, width, data):  # type: ignore[no-untyped-def]
    hi = lo + width
    score = data.draw(arrays(np.int16, st.integers(1, 400), elements=st.integers(lo, hi)))
    got = percentile_of(score, lo, hi)
    ordered = np.sort(score)
    below = np.searchsorted(ordered, score, side="left")
    tied = np.searchsorted(ordered, score, side="right") - below
    np.testing.assert_allclose(got, (below + 0.5 * tied) / score.size, rtol=0, atol=1e-6)


def test_percentile_table_is_share_below_plus_half_the_tie():
    hist = np.array([3, 0, 5, 2])
    np.testing.assert_allclose(percentile_table(hist), [0.15, 0.3, 0.55, 0.9], rtol=1e-6)


def test_low_rank_weights_split_only_the_block_across_the_cut():
    hist = np.array([5, 10, 85])  # the cut at 10 of 100 falls inside the second block
    np.testing.assert_allclose(low_rank_weights(hist, 0.1), [1.0, 0.5, 0.0])
    assert float(np.dot(hist, low_rank_weights(hist, 0.1))) == 10.0
    np.testing.assert_allclose(low_rank_weights(np.array([0, 100, 0]), 0.1), [0, 0.1, 0])


def _bits(score: np.ndarray, lo: int, hi: int, share: float, seed: int, day: int) -> np.ndarray:
    hist = np.bincount(score.astype(np.int64) - lo, minlength=hi - lo + 1)
    bits = np.zeros((score.size + 7) // 8, dtype=np.uint8)
    mark_low_ranked(score, low_rank_weights(hist, share), lo, seed, day, bits)
    return np.unpackbits(bits, bitorder="little")[: score.size].astype(bool)


def test_distinct_scores_mark_exactly_the_bottom_share():
    rng = np.random.default_rng(3)
    for n in (1, 7, 8, 9, 1_000):
        score = rng.permutation(n).astype(np.int16)
        low = _bits(score, 0, n - 1, 0.3, seed=1, day=0)
        np.testing.assert_array_equal(low[score < int(0.3 * n)], True)
        np.testing.assert_array_equal(low[score > int(0.3 * n)], False)


def test_everyone_tied_marks_the_low_share_at_random_not_everyone_nor_no_one():
    n = 40_000
    score = np.full(n, 600, np.int16)
    low = _bits(score, 350, 950, 0.1, seed=7, day=3)
    sd = np.sqrt(0.1 * 0.9 / n)
    assert abs(low.mean() - 0.1) < 4 * sd
    again = _bits(score, 350, 950, 0.1, seed=7, day=3)
    np.testing.assert_array_equal(low, again)  # keyed draws: the same publication, the same bits
    other_day = _bits(score, 350, 950, 0.1, seed=7, day=4)
    assert 0.05 < np.mean(low != other_day) < 0.3  # a new draw at each publication


def test_the_block_across_the_cut_is_split_in_proportion():
    n = 50_000
    rng = np.random.default_rng(8)
    score = np.where(rng.random(n) < 0.04, 400, np.where(rng.random(n) < 0.25, 500, 700))
    score = score.astype(np.int16)
    low = _bits(score, 350, 950, 0.1, seed=2, day=9)
    assert low[score == 400].all() and not low[score == 700].any()
    block = score == 500
    fraction = (0.1 * n - np.sum(score == 400)) / block.sum()
    sd = np.sqrt(fraction * (1 - fraction) / block.sum())
    assert abs(low[block].mean() - fraction) < 4 * sd
    assert abs(low.sum() - 0.1 * n) < 4 * np.sqrt(block.sum() * fraction * (1 - fraction))
