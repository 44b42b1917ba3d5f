"""The public ranking: a histogram percentile equal to the sort-based one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from socialscore.ranking import percentile_of, share_below


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
    reference = np.searchsorted(ordered, score, side="left") / score.size
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-6)


def test_share_below_starts_at_zero_and_is_monotone():
    hist = np.array([3, 0, 5, 2])
    below = share_below(hist)
    assert below[0] == 0
    assert np.all(np.diff(below) >= 0)
    np.testing.assert_allclose(below, [0, 0.3, 0.3, 0.8])


def test_low_rank_share_marks_the_bottom_and_never_a_whole_tie():
    from socialscore.ranking import low_rank_share

    tied = np.array([0, 100, 0])
    assert low_rank_share(tied, share_below(tied), 0.1) == 0.0  # nobody is strictly below
    spread = np.ones(100, dtype=np.int64)  # one citizen per score
    cut = low_rank_share(spread, share_below(spread), 0.1)
    percentile = share_below(spread)
    assert np.sum(percentile < cut) == 10


def test_low_ranked_bits_match_the_published_percentiles():
    from socialscore.ranking import mark_low_ranked

    rng = np.random.default_rng(3)
    lo, hi = 350, 950
    for n in (1, 7, 8, 9, 1_000):
        score = rng.integers(lo, hi + 1, n).astype(np.int16)
        below = percentile_of(score, lo, hi)
        table = share_below(np.bincount(score.astype(np.int64) - lo, minlength=hi - lo + 1))
        bits = np.zeros((n + 7) // 8, dtype=np.uint8)
        mark_low_ranked(score, table, lo, 0.3, bits)
        unpacked = np.unpackbits(bits, bitorder="little")[:n].astype(bool)
        np.testing.assert_array_equal(unpacked, below < 0.3)
