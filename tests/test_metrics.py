"""Specification of measures.statistics: hand-computed cases, references, invariances."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

if importlib.util.find_spec("socialscore") is None:  # not installed: use the src layout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from socialscore.measures.bootstrap import (
    MOBILITY_MEASURES,
    FriendMoments,
    auc_interval,
    mobility_from_cells,
    mobility_intervals,
)
from socialscore.measures.statistics import (
    FOUR_FIFTHS,
    PERSISTENCE_CHANCE,
    GroupRates,
    auc_group_from_score,
    bootstrap_ci,
    bottom_decile_persistence,
    degree,
    gini,
    gini_above_floor,
    gini_from_histogram,
    group_rates,
    group_rates_from_decisions,
    mean_by_decile,
    pair_cells,
    percentile,
    rank_rank_correlation,
    rank_rank_slope,
    roc_curve_from_score,
    score_assortativity,
    score_assortativity_blocks,
    score_assortativity_lists,
    score_histogram,
    transition_matrix,
)

PROPERTY = settings(max_examples=60, deadline=None)

# --------------------------------------------------------------------------
# Strategies and reference implementations (slow, obviously correct)
# --------------------------------------------------------------------------

LO, HI = 350, 950


def int16_scores(
    min_size: int = 0, max_size: int = 60, lo: int = LO, hi: int = HI
) -> st.SearchStrategy:
    """Scores in a narrow band, so ties are frequent."""
    return st.integers(lo, hi).flatmap(
        lambda top: hnp.arrays(
            np.int16,
            st.integers(min_size, max_size),
            elements=st.integers(lo, min(hi, max(lo, top))),
        )
    )


@st.composite
def paired_scores(draw: st.DrawFn, dtype: str = "int") -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 50))
    if dtype == "int":
        width = draw(st.integers(0, 20))
        elems = st.integers(LO, LO + width)
        a = draw(hnp.arrays(np.int16, n, elements=elems))
        b = draw(hnp.arrays(np.int16, n, elements=elems))
    else:
        elems = st.floats(-1e3, 1e3, allow_nan=False).map(lambda x: round(x, 1))
        a = draw(hnp.arrays(np.float64, n, elements=elems))
        b = draw(hnp.arrays(np.float64, n, elements=elems))
    return a, b


def ref_gini(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """O(n^2) population Gini: sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)."""
    x = np.asarray(x, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    total_w = w.sum()
    mean = (w * x).sum() / total_w
    pair = np.abs(x[:, None] - x[None, :]) * w[:, None] * w[None, :]
    return float(pair.sum() / (2 * total_w**2 * mean))


def ref_midrank_percentile(x: np.ndarray) -> np.ndarray:
    """Sort-based share strictly below each entry plus half the share tied with it."""
    ordered = np.sort(x)
    below = np.searchsorted(ordered, x, side="left")
    tied = np.searchsorted(ordered, x, side="right") - below
    return (below + 0.5 * tied) / x.size


def ref_average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks from a plain argsort, each tied run given the mean of its ranks."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(1, x.size + 1)
    sorted_x = x[order]
    start = 0
    for end in range(1, x.size + 1):
        if end == x.size or sorted_x[end] != sorted_x[start]:
            ranks[order[start:end]] = ranks[order[start:end]].mean()
            start = end
    return ranks


def ref_spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = ref_average_ranks(a)
    rb = ref_average_ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def ref_class_membership(x: np.ndarray, k: int) -> np.ndarray:
    """Average over random tie-breaks of each citizen's membership of each of k classes.

    Broken ties put a citizen of a tied run at each of the run's positions r (0-based)
    with equal chance; position r covers [r, r + 1) of the population [0, N), and class j
    covers [j N / k, (j + 1) N / k). Plain loops over citizens, positions and classes.
    """
    n = x.size
    ordered = np.sort(x)
    out = np.zeros((n, k))
    for i in range(n):
        first = int(np.searchsorted(ordered, x[i], side="left"))
        last = int(np.searchsorted(ordered, x[i], side="right"))
        for r in range(first, last):
            for j in range(k):
                overlap = min(r + 1, (j + 1) * n / k) - max(r, j * n / k)
                out[i, j] += max(overlap, 0.0) / (last - first)
    return out


def random_break_positions(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Position (0-based) of each citizen once ties are broken by a fresh random draw."""
    order = np.lexsort((rng.random(x.size), x))
    position = np.empty(x.size, np.int64)
    position[order] = np.arange(x.size)
    return position


def ref_auc(score: np.ndarray, group: np.ndarray, positive: int) -> float:
    """Brute force over all (positive, other) pairs."""
    pos = score[group == positive].astype(float)
    oth = score[group != positive].astype(float)
    if pos.size == 0 or oth.size == 0:
        return math.nan
    less = (pos[:, None] < oth[None, :]).sum()
    ties = (pos[:, None] == oth[None, :]).sum()
    return float((less + 0.5 * ties) / (pos.size * oth.size))


def build_csr(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Undirected CSR with each edge stored in both directions."""
    src = [u for u, v in edges] + [v for u, v in edges]
    dst = [v for u, v in edges] + [u for u, v in edges]
    order = np.argsort(np.asarray(src, dtype=np.int64), kind="stable")
    counts = np.bincount(np.asarray(src, dtype=np.int64), minlength=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    neighbours = np.asarray(dst, dtype=np.int32)[order] if edges else np.zeros(0, np.int32)
    return offsets, neighbours


def ref_assortativity(
    offsets: np.ndarray, neighbours: np.ndarray, score: np.ndarray, active: np.ndarray | None
) -> float:
    """Pearson correlation of (score[source], score[target]) over listed slots."""
    xs: list[float] = []
    ys: list[float] = []
    for u in range(offsets.size - 1):
        for k in range(offsets[u], offsets[u + 1]):
            if active is None or active[k]:
                xs.append(float(score[u]))
                ys.append(float(score[neighbours[k]]))
    if not xs or np.std(xs) == 0 or np.std(ys) == 0:
        return math.nan
    return float(np.corrcoef(xs, ys)[0, 1])


@st.composite
def graphs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 25))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node).filter(lambda e: e[0] != e[1]), max_size=60))
    offsets, neighbours = build_csr(n, edges)
    score = draw(hnp.arrays(np.int16, n, elements=st.integers(LO, LO + 30)))
    active = draw(hnp.arrays(np.bool_, neighbours.size))
    return offsets, neighbours, score, active


# --------------------------------------------------------------------------
# Gates: group rates, four-fifths rule, demographic parity
# --------------------------------------------------------------------------


class TestGroupRates:
    def test_selection_rates_per_group_are_selected_over_applied(self) -> None:
        rates = group_rates([200, 50], [100, 10])
        np.testing.assert_allclose(rates.by_group, [0.5, 0.2])

    def test_group_without_applications_has_nan_rate_and_is_ignored(self) -> None:
        rates = group_rates([10, 0, 10], [5, 0, 4])
        assert math.isnan(rates.by_group[1])
        assert rates.difference() == pytest.approx(0.1)
        assert rates.ratio() == pytest.approx(0.8)

    def test_demographic_parity_difference_is_max_minus_min_rate(self) -> None:
        assert group_rates([100, 100, 100], [90, 30, 60]).difference() == pytest.approx(0.6)

    def test_adverse_impact_ratio_is_min_over_max_rate(self) -> None:
        assert group_rates([100, 100], [50, 30]).ratio() == pytest.approx(0.6)

    def test_equal_rates_give_ratio_one_and_difference_zero(self) -> None:
        rates = group_rates([100, 300], [40, 120])
        assert rates.ratio() == 1.0
        assert rates.difference() == 0.0
        assert rates.passes_four_fifths()

    @pytest.mark.parametrize(
        ("minority_selected", "verdict"), [(79, False), (80, True), (81, True)]
    )
    def test_four_fifths_verdict_around_the_threshold(
        self, minority_selected: int, verdict: bool
    ) -> None:
        rates = group_rates([100, 100], [100, minority_selected])
        assert rates.ratio() == pytest.approx(minority_selected / 100)
        assert rates.passes_four_fifths() is verdict
        assert FOUR_FIFTHS == 0.8

    def test_exact_four_fifths_passes_even_when_float_rounding_would_not(self) -> None:
        # 0.28 / 0.35 is exactly 4/5 in rationals; the verdict must not hinge on rounding.
        rates = group_rates([100, 100], [35, 28])
        assert rates.passes_four_fifths()
        rates = group_rates([100, 100], [35, 27])
        assert not rates.passes_four_fifths()

    def test_no_selection_at_all_leaves_the_ratio_undefined_and_the_verdict_negative(
        self,
    ) -> None:
        rates = group_rates([10, 10], [0, 0])
        assert math.isnan(rates.ratio())
        assert rates.difference() == 0.0
        assert not rates.passes_four_fifths()

    def test_no_applications_at_all_is_undefined(self) -> None:
        rates = group_rates([0, 0], [0, 0])
        assert math.isnan(rates.difference())
        assert math.isnan(rates.ratio())
        assert not rates.passes_four_fifths()

    def test_single_group_with_applications_has_ratio_one(self) -> None:
        assert group_rates([10, 0], [3, 0]).ratio() == 1.0

    def test_counts_are_frozen_int64(self) -> None:
        rates = group_rates(np.array([3.0, 4.0]), [1, 2])
        assert rates.applied.dtype == np.int64
        with pytest.raises(ValueError):
            rates.applied[0] = 5

    @pytest.mark.parametrize(
        ("applied", "selected", "error"),
        [
            ([10, 10], [11, 0], ValueError),  # more selected than applied
            ([-1, 10], [0, 0], ValueError),  # negative count
            ([10, 10], [1, 2, 3], ValueError),  # length mismatch
            ([10.5, 10], [1, 2], TypeError),  # not a count
            ([[10, 10]], [[1, 2]], ValueError),  # not 1-D
        ],
    )
    def test_malformed_counts_are_rejected(
        self, applied: list, selected: list, error: type
    ) -> None:
        with pytest.raises(error):
            group_rates(applied, selected)

    @PROPERTY
    @given(
        st.integers(1, 200).flatmap(
            lambda n: st.tuples(
                hnp.arrays(np.uint8, n, elements=st.integers(0, 3)),
                hnp.arrays(np.bool_, n),
                hnp.arrays(np.bool_, n),
            )
        )
    )
    def test_counts_from_decisions_match_bincount(self, data: tuple) -> None:
        group, selected, applied = data
        rates = group_rates_from_decisions(group, selected, applied=applied, n_groups=4)
        np.testing.assert_array_equal(rates.applied, np.bincount(group[applied], minlength=4))
        np.testing.assert_array_equal(
            rates.selected, np.bincount(group[applied & selected], minlength=4)
        )

    @PROPERTY
    @given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=6))
    def test_ratio_and_verdict_agree_with_the_rates(self, pairs: list) -> None:
        applied = [a + s for a, s in pairs]
        selected = [s for _, s in pairs]
        rates = GroupRates(np.array(applied), np.array(selected))
        r = rates.by_group[~np.isnan(rates.by_group)]
        if r.size == 0 or r.max() == 0:
            assert math.isnan(rates.ratio())
            assert not rates.passes_four_fifths()
            return
        assert rates.ratio() == pytest.approx(r.min() / r.max())
        assert rates.difference() == pytest.approx(r.max() - r.min())
        if abs(rates.ratio() - FOUR_FIFTHS) > 1e-9:
            assert rates.passes_four_fifths() == (rates.ratio() >= FOUR_FIFTHS)


# --------------------------------------------------------------------------
# Score distribution: Gini, histogram, percentile
# --------------------------------------------------------------------------


class TestGini:
    def test_one_of_four_holding_everything_is_three_quarters(self) -> None:
        assert gini(np.array([0, 0, 0, 1])) == pytest.approx(0.75)
        assert gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)

    def test_one_of_n_holding_everything_is_one_minus_one_over_n(self) -> None:
        x = np.zeros(50, np.int16)
        x[7] = 900
        assert gini(x) == pytest.approx(1 - 1 / 50)

    def test_perfect_equality_is_zero(self) -> None:
        assert gini(np.full(1000, 600, np.int16)) == 0.0

    def test_hand_computed_uneven_case(self) -> None:
        # pairs |1-2|,|1-3|,|2-3| = 1,2,1 -> sum over ordered pairs 8; 2 n^2 mean = 36
        assert gini(np.array([1, 2, 3])) == pytest.approx(8 / 36)

    def test_weights_act_as_repetition(self) -> None:
        assert gini(np.array([0, 1]), weights=np.array([3, 1])) == pytest.approx(0.75)
        assert gini(np.array([0.0, 1.0]), weights=np.array([3.0, 1.0])) == pytest.approx(0.75)

    def test_undefined_for_empty_or_all_zero(self) -> None:
        assert math.isnan(gini(np.array([], np.int16)))
        assert math.isnan(gini(np.zeros(5)))

    @pytest.mark.parametrize("values", [np.array([1, -1]), np.array([0.5, -0.1])])
    def test_negative_values_are_rejected_not_shifted(self, values: np.ndarray) -> None:
        with pytest.raises(ValueError, match="non-negative"):
            gini(values)

    def test_nan_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            gini(np.array([1.0, np.nan]))

    @PROPERTY
    @given(int16_scores(min_size=1, lo=0, hi=1000).filter(lambda x: x.sum() > 0))
    def test_integer_path_matches_pairwise_formula(self, x: np.ndarray) -> None:
        assert gini(x) == pytest.approx(ref_gini(x), abs=1e-12)

    @PROPERTY
    @given(
        st.integers(1, 40)
        .flatmap(
            lambda n: st.tuples(
                hnp.arrays(np.float64, n, elements=st.floats(0, 1e6, allow_subnormal=False)),
                hnp.arrays(np.float64, n, elements=st.floats(0.01, 10)),
            )
        )
        .filter(lambda t: t[0].sum() > 1e-6)
    )
    def test_weighted_float_path_matches_pairwise_formula(self, data: tuple) -> None:
        x, w = data
        assert gini(x, weights=w) == pytest.approx(ref_gini(x, w), rel=1e-9, abs=1e-12)
        assert gini(x) == pytest.approx(ref_gini(x), rel=1e-9, abs=1e-12)

    @PROPERTY
    @given(
        st.integers(1, 30)
        .flatmap(
            lambda n: st.tuples(
                hnp.arrays(np.int64, n, elements=st.integers(0, 100), unique=True),
                hnp.arrays(np.int64, n, elements=st.integers(0, 20)),
            )
        )
        .filter(lambda t: (t[0] * t[1]).sum() > 0)
    )
    def test_histogram_form_equals_the_expanded_population(self, data: tuple) -> None:
        values, counts = data
        expanded = np.repeat(values, counts)
        assert gini_from_histogram(values, counts) == pytest.approx(gini(expanded), abs=1e-12)

    @PROPERTY
    @given(int16_scores(min_size=1, lo=1, hi=500), st.integers(2, 7))
    def test_scale_invariant(self, x: np.ndarray, k: int) -> None:
        assert gini(x * k) == pytest.approx(gini(x), abs=1e-12)


class TestGiniAboveFloor:
    @PROPERTY
    @given(
        hnp.arrays(np.int64, 601, elements=st.integers(0, 50)),
        st.integers(-1000, 1000),
        st.integers(1, 3),
    )
    def test_the_same_ranks_on_any_scale_give_the_same_gini(
        self, counts: np.ndarray, shift: int, stretch: int
    ) -> None:
        values = np.arange(350, 951)
        expected = gini_above_floor(values, counts, 350)
        relabelled = gini_above_floor(shift + stretch * values, counts, shift + stretch * 350)
        if math.isnan(expected):
            assert math.isnan(relabelled)
        else:
            assert relabelled == pytest.approx(expected, rel=1e-9, abs=1e-12)

    def test_it_is_the_gini_of_the_height_above_the_floor(self) -> None:
        score = np.array([350, 350, 350, 950])
        counts = np.bincount(score - 350, minlength=601)
        assert gini_above_floor(np.arange(350, 951), counts, 350) == pytest.approx(0.75)
        assert gini(score) < 0.3  # raw scores: a different number


class TestHistogramAndPercentile:
    def test_histogram_counts_each_score_in_range(self) -> None:
        counts = score_histogram(np.array([350, 351, 351, 950], np.int16), 350, 950)
        assert counts.shape == (601,)
        assert counts[0] == 1 and counts[1] == 2 and counts[-1] == 1 and counts.sum() == 4

    def test_scores_out_of_range_are_an_error(self) -> None:
        with pytest.raises(ValueError, match="outside"):
            score_histogram(np.array([349, 400], np.int16), 350, 950)
        with pytest.raises(ValueError):
            score_histogram(np.array([400], np.int16), 950, 350)

    def test_float_scores_are_not_scores(self) -> None:
        with pytest.raises(TypeError):
            score_histogram(np.array([400.0]), 350, 950)

    def test_percentile_is_share_below_plus_half_the_tie(self) -> None:
        pct = percentile(np.array([500, 400, 500, 900], np.int16), 350, 950)
        assert pct.dtype == np.float32
        np.testing.assert_allclose(pct, [0.5, 0.125, 0.5, 0.875])

    def test_everyone_tied_is_at_the_middle(self) -> None:
        np.testing.assert_allclose(percentile(np.full(7, 600, np.int16), 350, 950), 0.5)

    @PROPERTY
    @given(int16_scores())
    def test_percentile_matches_sort_based_reference(self, x: np.ndarray) -> None:
        np.testing.assert_allclose(percentile(x, LO, HI), ref_midrank_percentile(x), rtol=1e-6)
        np.testing.assert_array_equal(
            score_histogram(x, LO, HI), np.bincount(x.astype(int) - LO, minlength=HI - LO + 1)
        )


# --------------------------------------------------------------------------
# Mobility
# --------------------------------------------------------------------------


class TestMobility:
    def test_perfectly_preserved_order_has_rank_correlation_one(self) -> None:
        start = np.arange(350, 950, dtype=np.int16)
        assert rank_rank_correlation(start, start * 2 + 1) == pytest.approx(1.0)
        assert rank_rank_correlation(start, -start) == pytest.approx(-1.0)

    def test_constant_snapshot_has_undefined_correlation(self) -> None:
        assert math.isnan(rank_rank_correlation(np.array([1, 2, 3]), np.array([5, 5, 5])))

    @PROPERTY
    @given(paired_scores("int"))
    def test_spearman_with_ties_matches_pandas_average_ranks(self, ab: tuple) -> None:
        a, b = ab
        expected = ref_spearman(a, b)
        got = rank_rank_correlation(a, b)
        if math.isnan(expected):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-9)

    @PROPERTY
    @given(paired_scores("float"))
    def test_spearman_on_float_scores_matches_reference(self, ab: tuple) -> None:
        a, b = ab
        expected = ref_spearman(a, b)
        got = rank_rank_correlation(a, b)
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)

    @PROPERTY
    @given(paired_scores("int"))
    def test_rank_rank_slope_is_ols_slope_of_average_ranks(self, ab: tuple) -> None:
        a, b = ab
        ra = pd.Series(a).rank().to_numpy()
        rb = pd.Series(b).rank().to_numpy()
        if ra.std() == 0:
            assert math.isnan(rank_rank_slope(a, b))
        else:
            assert rank_rank_slope(a, b) == pytest.approx(np.polyfit(ra, rb, 1)[0], abs=1e-9)

    def test_transition_matrix_hand_case(self) -> None:
        start = np.array([0, 0, 0, 0, 1, 1, 2], np.uint8)
        end = np.array([0, 0, 1, 2, 1, 1, 2], np.uint8)
        m = transition_matrix(start, end, 4)
        np.testing.assert_allclose(m[0], [0.5, 0.25, 0.25, 0])
        np.testing.assert_allclose(m[1], [0, 1, 0, 0])
        np.testing.assert_allclose(m[2], [0, 0, 1, 0])
        assert np.isnan(m[3]).all()  # nobody started in class 3

    @PROPERTY
    @given(
        st.integers(0, 80).flatmap(
            lambda n: st.tuples(
                hnp.arrays(np.uint8, n, elements=st.integers(0, 4)),
                hnp.arrays(np.uint8, n, elements=st.integers(0, 4)),
            )
        )
    )
    def test_transition_matrix_rows_are_conditional_shares(self, ab: tuple) -> None:
        a, b = ab
        m = transition_matrix(a, b, 5)
        for i in range(5):
            members = b[a == i]
            if members.size == 0:
                assert np.isnan(m[i]).all()
            else:
                np.testing.assert_allclose(m[i], np.bincount(members, minlength=5) / members.size)

    def test_classes_out_of_range_are_an_error(self) -> None:
        with pytest.raises(ValueError, match="outside"):
            transition_matrix(np.array([0, 5]), np.array([0, 1]), 5)

    def test_bottom_decile_of_distinct_scores_is_the_lowest_tenth(self) -> None:
        start = np.arange(20)  # bottom decile: citizens 0 and 1
        end = start.copy()
        end[0] = 100  # citizen 0 escapes, citizen 1 stays
        assert bottom_decile_persistence(start, end) == 0.5
        assert bottom_decile_persistence(start, start) == 1.0
        assert bottom_decile_persistence(start, -start) == 0.0

    def test_a_tie_block_is_in_the_bottom_tenth_in_proportion(self) -> None:
        # 4 of 20 share the lowest score: the bottom tenth (2 citizens) takes half of each.
        start = np.array([1, 1, 1, 1, *range(10, 26)])
        end = np.array([1, 50, 50, 50, 2, *range(11, 26)])  # end: citizens 0 and 4 at the bottom
        assert bottom_decile_persistence(start, end) == pytest.approx(0.5 * 1 / 2)

    def test_nobody_is_trapped_when_nobody_has_a_score(self) -> None:
        tied = np.full(1000, 500, np.int16)
        moving = np.arange(1000, dtype=np.int16)
        assert bottom_decile_persistence(tied, tied) == pytest.approx(PERSISTENCE_CHANCE)
        assert bottom_decile_persistence(tied, moving) == pytest.approx(PERSISTENCE_CHANCE)
        assert bottom_decile_persistence(moving, tied) == pytest.approx(PERSISTENCE_CHANCE)
        assert math.isnan(rank_rank_correlation(tied, tied))
        assert math.isnan(rank_rank_correlation(moving, tied))
        assert math.isnan(rank_rank_slope(tied, moving))

    def test_a_few_scores_among_many_ties_give_a_defined_correlation(self) -> None:
        # The court-blacklist shape: 99 % at the base score, a few below it at both ends.
        start = np.full(1000, 600, np.int16)
        start[:10] = 300
        end = np.full(1000, 600, np.int16)
        end[5:15] = 300  # five stayed blacklisted, five left, five joined
        r = rank_rank_correlation(start, end)
        assert r == pytest.approx(ref_spearman(start, end))
        assert 0.4 < r < 0.6

    @PROPERTY
    @given(paired_scores("int"))
    def test_bottom_decile_persistence_is_the_average_over_random_tie_breaks(
        self, ab: tuple
    ) -> None:
        a, b = ab
        in_a = ref_class_membership(a, 10)[:, 0]
        in_b = ref_class_membership(b, 10)[:, 0]
        assert in_a.sum() == pytest.approx(a.size / 10)  # always a tenth of the citizens
        expected = (in_a * in_b).sum() / in_a.sum()
        assert bottom_decile_persistence(a, b) == pytest.approx(expected, abs=1e-12)

    def test_bottom_decile_persistence_against_ties_broken_at_random(self) -> None:
        # A plain loop: break the ties at random, take the lowest tenth at both ends, repeat.
        rng = np.random.default_rng(11)
        a = rng.integers(0, 4, 60)
        b = np.where(rng.random(60) < 0.7, a, rng.integers(0, 4, 60))
        draws = []
        for _ in range(4000):
            bottom_a = random_break_positions(a, rng) < 6
            bottom_b = random_break_positions(b, rng) < 6
            draws.append((bottom_a & bottom_b).sum() / 6)
        se = np.std(draws) / np.sqrt(len(draws))
        assert bottom_decile_persistence(a, b) == pytest.approx(np.mean(draws), abs=4 * se)

    @PROPERTY
    @given(paired_scores("int"))
    def test_mean_by_decile_is_the_average_over_random_tie_breaks(self, ab: tuple) -> None:
        key, value = ab
        member = ref_class_membership(key, 10)
        np.testing.assert_allclose(member.sum(axis=0), key.size / 10)
        expected = (value.astype(float) @ member) / member.sum(axis=0)
        np.testing.assert_allclose(mean_by_decile(key, value), expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            mean_by_decile(key.astype(float), value), expected, rtol=1e-9, atol=1e-12
        )

    def test_mean_by_decile_against_ties_broken_at_random(self) -> None:
        rng = np.random.default_rng(5)
        key = rng.integers(0, 3, 50)
        value = rng.poisson(2.0 + key, 50)
        draws = []
        for _ in range(4000):
            decile = random_break_positions(key, rng) // 5
            draws.append(np.bincount(decile, weights=value, minlength=10) / 5)
        mean = np.mean(draws, axis=0)
        se = np.std(draws, axis=0) / np.sqrt(len(draws))
        np.testing.assert_allclose(mean_by_decile(key, value), mean, atol=float(4 * se.max()))

    def test_mean_by_decile_friends_lost_example(self) -> None:
        score = np.arange(100, dtype=np.int16)
        friends_lost = (score < 10).astype(np.int8) * 3  # bottom decile loses 3 friends each
        np.testing.assert_allclose(mean_by_decile(score, friends_lost), [3] + [0] * 9)

    def test_everyone_tied_spreads_the_mean_evenly_over_deciles(self) -> None:
        value = np.arange(30, dtype=np.float64)
        np.testing.assert_allclose(mean_by_decile(np.zeros(30, np.int16), value), value.mean())

    @PROPERTY
    @given(paired_scores("int"))
    def test_pair_cells_count_every_citizen_once(self, ab: tuple) -> None:
        a, b = ab
        ia, ib, count, n_a, n_b = pair_cells(a, b)
        values_a = np.arange(a.min(), a.min() + n_a)
        values_b = np.arange(b.min(), b.min() + n_b)
        expected: dict[tuple[int, int], int] = {}
        for pair in zip(a.tolist(), b.tolist(), strict=True):
            expected[pair] = expected.get(pair, 0) + 1
        cells = zip(values_a[ia].tolist(), values_b[ib].tolist(), strict=True)
        got = dict(zip(cells, count.tolist(), strict=True))
        assert got == expected


# --------------------------------------------------------------------------
# Privacy: AUC of the protected group from the score
# --------------------------------------------------------------------------


class TestAUC:
    def test_group_entirely_below_everyone_else_gives_one(self) -> None:
        score = np.array([400, 410, 420, 800, 900], np.int16)
        group = np.array([1, 1, 1, 0, 0], np.uint8)
        assert auc_group_from_score(score, group) == 1.0
        assert auc_group_from_score(score, group, positive=0) == 0.0

    def test_all_ties_give_one_half(self) -> None:
        assert auc_group_from_score(np.full(6, 600, np.int16), np.array([0, 1] * 3)) == 0.5

    def test_hand_case_with_a_tie(self) -> None:
        # pairs (pos, other): (1,2) <, (1,3) <, (3,2) >, (3,3) tie -> (2 + 0.5) / 4
        assert auc_group_from_score(np.array([1, 3, 2, 3]), np.array([1, 1, 0, 0])) == 0.625

    def test_empty_side_is_undefined(self) -> None:
        assert math.isnan(auc_group_from_score(np.array([1, 2]), np.array([0, 0])))

    def test_identical_distributions_give_one_half_within_sampling_error(self) -> None:
        rng = np.random.default_rng(7)
        n = 200_000
        score = rng.integers(LO, HI + 1, n).astype(np.int16)
        group = (rng.random(n) < 0.15).astype(np.uint8)
        n1 = int(group.sum())
        n0 = n - n1
        # Mann-Whitney null standard deviation of U / (n0 n1); ties only shrink it.
        sd = math.sqrt((n0 + n1 + 1) / (12 * n0 * n1))
        assert abs(auc_group_from_score(score, group) - 0.5) < 5 * sd

    @PROPERTY
    @given(
        st.integers(1, 60).flatmap(
            lambda n: st.tuples(
                hnp.arrays(np.int16, n, elements=st.integers(LO, LO + 15)),
                hnp.arrays(np.uint8, n, elements=st.integers(0, 2)),
            )
        ),
        st.integers(0, 2),
    )
    def test_auc_matches_brute_force_pairs(self, data: tuple, positive: int) -> None:
        score, group = data
        expected = ref_auc(score, group, positive)
        got = auc_group_from_score(score, group, positive=positive)
        got_float = auc_group_from_score(score.astype(float) / 7, group, positive=positive)
        if math.isnan(expected):
            assert math.isnan(got) and math.isnan(got_float)
        else:
            assert got == pytest.approx(expected) and got_float == pytest.approx(expected)
            fpr, tpr = roc_curve_from_score(score, group, positive=positive)
            assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
            assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
            area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
            assert area == pytest.approx(expected)


# --------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------


class TestNetwork:
    def test_friends_with_equal_scores_are_perfectly_assortative(self) -> None:
        # two triangles, one of low scorers and one of high scorers
        offsets, neighbours = build_csr(6, [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)])
        score = np.array([400, 400, 400, 800, 800, 800], np.int16)
        assert score_assortativity(offsets, neighbours, score) == pytest.approx(1.0)

    def test_friendships_only_across_bands_are_disassortative(self) -> None:
        offsets, neighbours = build_csr(4, [(0, 2), (0, 3), (1, 2), (1, 3)])
        score = np.array([400, 400, 800, 800], np.int16)
        assert score_assortativity(offsets, neighbours, score) == pytest.approx(-1.0)

    def test_no_active_edges_is_undefined(self) -> None:
        offsets, neighbours = build_csr(3, [(0, 1)])
        score = np.array([1, 2, 3])
        active = np.zeros(2, np.uint8)
        assert math.isnan(score_assortativity(offsets, neighbours, score, active=active))

    @PROPERTY
    @given(graphs())
    def test_assortativity_matches_edge_list_reference(self, g: tuple) -> None:
        offsets, neighbours, score, active = g
        for mask in (None, active):
            expected = ref_assortativity(offsets, neighbours, score, mask)
            got = score_assortativity(offsets, neighbours, score, active=mask)
            if math.isnan(expected):
                assert math.isnan(got)
            else:
                assert got == pytest.approx(expected, abs=1e-9)

    @PROPERTY
    @given(
        st.integers(1, 30).flatmap(
            lambda n: st.tuples(
                st.just(n),
                st.integers(0, 5),
                st.integers(0, 2**32 - 1),
            )
        )
    )
    def test_fixed_width_lists_equal_the_masked_csr_graph(self, case: tuple) -> None:
        n, k, seed = case
        rng = np.random.default_rng(seed)
        friends = rng.integers(-1, n, size=(n, k)).astype(np.int32)
        score = rng.integers(350, 951, n).astype(np.int16)
        offsets = np.arange(0, n * k + 1, max(k, 1) if k else 1, dtype=np.int64)[: n + 1]
        if k == 0:
            offsets = np.zeros(n + 1, np.int64)
        flat = friends.reshape(-1)
        expected = score_assortativity(
            offsets, np.where(flat >= 0, flat, 0), score, active=flat >= 0
        )
        got = score_assortativity_lists(friends, score)
        assert (math.isnan(expected) and math.isnan(got)) or got == expected

    @PROPERTY
    @given(st.integers(1, 40), st.integers(1, 5), st.integers(1, 41), st.integers(0, 2**32 - 1))
    def test_lists_given_block_by_block_equal_the_whole_lists(
        self, n: int, k: int, rows: int, seed: int
    ) -> None:
        rng = np.random.default_rng(seed)
        friends = rng.integers(-1, n, size=(n, k)).astype(np.int32)
        score = rng.integers(350, 951, n).astype(np.int16)
        whole = score_assortativity_lists(friends, score)
        blocks = [(first, friends[first : first + rows]) for first in range(0, n, rows)]
        got = score_assortativity_blocks(blocks, score)
        if math.isnan(whole):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(whole, abs=1e-12)
        assert score_assortativity_blocks([(0, friends)], score) == whole or math.isnan(whole)

    @PROPERTY
    @given(graphs())
    def test_degree_counts_active_slots(self, g: tuple) -> None:
        offsets, _, _, active = g
        np.testing.assert_array_equal(degree(offsets), np.diff(offsets))
        owner = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
        np.testing.assert_array_equal(
            degree(offsets, active=active),
            np.bincount(owner[active], minlength=offsets.size - 1),
        )

    def test_neighbour_out_of_range_is_an_error(self) -> None:
        offsets = np.array([0, 1, 2], np.int64)
        with pytest.raises(ValueError, match="neighbour"):
            score_assortativity(offsets, np.array([1, 2], np.int32), np.array([1, 2]))

    @pytest.mark.parametrize(
        "offsets",
        [np.array([1, 1, 2]), np.array([0, 2, 1]), np.array([0, 1, 3])],
        ids=["not-from-zero", "decreasing", "wrong-end"],
    )
    def test_malformed_offsets_are_an_error(self, offsets: np.ndarray) -> None:
        with pytest.raises(ValueError, match="offsets"):
            score_assortativity(offsets, np.array([1, 0], np.int32), np.array([1, 2]))

    def test_mask_must_cover_every_slot(self) -> None:
        offsets, _ = build_csr(2, [(0, 1)])
        with pytest.raises(ValueError, match="slot"):
            degree(offsets, active=np.ones(3, bool))
        with pytest.raises(TypeError):
            degree(offsets, active=np.ones(2, np.float32))


# --------------------------------------------------------------------------
# Uncertainty across seeds
# --------------------------------------------------------------------------


class TestBootstrap:
    def test_interval_brackets_the_mean_and_is_reproducible(self) -> None:
        samples = np.random.default_rng(3).normal(10.0, 1.0, 30)
        lo, hi = bootstrap_ci(np.mean, samples, seed=5)
        assert lo < samples.mean() < hi
        assert (lo, hi) == bootstrap_ci(np.mean, samples, seed=5)
        # the standard error of the mean is ~0.18: a 95 % interval is about +-0.36 wide
        assert 0.2 < hi - lo < 1.2

    def test_constant_samples_give_a_point_interval(self) -> None:
        assert bootstrap_ci(np.mean, np.full(8, 0.7)) == pytest.approx((0.7, 0.7))

    def test_higher_level_gives_a_wider_interval(self) -> None:
        samples = np.random.default_rng(4).exponential(1.0, 25)
        lo90, hi90 = bootstrap_ci(np.mean, samples, level=0.9)
        lo99, hi99 = bootstrap_ci(np.mean, samples, level=0.99)
        assert lo99 < lo90 < samples.mean() < hi90 < hi99

    def test_resamples_rows_of_a_2d_array(self) -> None:
        rows = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        lo, hi = bootstrap_ci(lambda r: float(r[:, 1].mean() - r[:, 0].mean()), rows)
        assert (lo, hi) == pytest.approx((1.0, 1.0))

    def test_basic_method_reflects_percentiles_around_the_estimate(self) -> None:
        samples = np.random.default_rng(1).exponential(1.0, 20)
        p_lo, p_hi = bootstrap_ci(np.mean, samples, seed=2)
        b_lo, b_hi = bootstrap_ci(np.mean, samples, seed=2, method="basic")
        t = samples.mean()
        assert (b_lo, b_hi) == pytest.approx((2 * t - p_hi, 2 * t - p_lo))

    @pytest.mark.parametrize(
        "kwargs",
        [{"level": 1.0}, {"level": 0.0}, {"n_resamples": 0}, {"method": "bca"}],
    )
    def test_bad_options_are_rejected(self, kwargs: dict) -> None:
        with pytest.raises(ValueError):
            bootstrap_ci(np.mean, np.ones(3), **kwargs)

    def test_empty_samples_are_rejected(self) -> None:
        with pytest.raises(ValueError):
            bootstrap_ci(np.mean, np.array([]))


# --------------------------------------------------------------------------
# Intervals from one run: Poisson bootstrap over citizens
# --------------------------------------------------------------------------


def _panel(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Correlated integer scores on a coarse scale (many ties)."""
    x = rng.normal(size=n)
    a = np.clip(np.round(5 + 2 * x), 0, 10).astype(np.int16)
    b = np.clip(np.round(5 + 2 * (0.6 * x + 0.8 * rng.normal(size=n))), 0, 10).astype(np.int16)
    return a, b


class TestCitizenBootstrap:
    @PROPERTY
    @given(paired_scores("int"))
    def test_cells_with_their_counts_give_the_panel_measures(self, ab: tuple) -> None:
        a, b = ab
        got = mobility_from_cells(*pair_cells(a, b))
        expected = [
            rank_rank_correlation(a, b),
            rank_rank_slope(a, b),
            bottom_decile_persistence(a, b),
        ]
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)

    @pytest.mark.parametrize("subsample", [None, 1_000])
    def test_mobility_intervals_cover_the_population_value(self, subsample: int | None) -> None:
        # The population value from a very large panel; 95 % intervals from 120 small panels.
        rng = np.random.default_rng(4)
        truth = mobility_from_cells(*pair_cells(*_panel(2_000_000, rng)))
        n = 4_000
        hits = np.zeros(3)
        reps = 120
        for k in range(reps):
            a, b = _panel(n, rng)
            options = {} if subsample is None else {"max_citizens": subsample}
            ci = mobility_intervals(a, b, seed=k, n_resamples=100, **options)
            for j, measure in enumerate(MOBILITY_MEASURES):
                hits[j] += ci[measure][0] <= truth[j] <= ci[measure][1]
        coverage = hits / reps
        # Binomial sd of a 95 % coverage over 120 panels is 0.02.
        assert np.all(coverage > 0.88), coverage
        assert np.all(coverage < 0.995), coverage

    def test_no_score_at_all_gives_chance_persistence_with_no_spread(self) -> None:
        tied = np.full(5_000, 500, np.int16)
        ci = mobility_intervals(tied, tied, seed=3)
        assert ci["bottom_decile_persistence"] == pytest.approx((0.1, 0.1))
        assert all(math.isnan(x) for x in ci["rank_rank_correlation"])

    def test_intervals_are_reproducible_from_the_seed(self) -> None:
        a, b = _panel(3_000, np.random.default_rng(1))
        assert mobility_intervals(a, b, seed=5) == mobility_intervals(a, b, seed=5)
        assert mobility_intervals(a, b, seed=5) != mobility_intervals(a, b, seed=6)

    def test_auc_interval_covers_the_population_value(self) -> None:
        rng = np.random.default_rng(9)

        def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
            group = (rng.random(n) < 0.2).astype(np.int8)
            score = np.clip(np.round(50 + 10 * rng.normal(size=n) - 3 * group), 0, 100)
            return score.astype(np.int16), group

        truth = auc_group_from_score(*draw(2_000_000))
        reps = 120
        hits = 0
        for k in range(reps):
            score, group = draw(2_000)
            low, high = auc_interval(score, group, 0, 100, seed=k, n_resamples=200)
            assert low <= auc_group_from_score(score, group) <= high
            hits += low <= truth <= high
        assert 0.88 < hits / reps < 0.995

    def test_auc_interval_width_matches_the_delong_standard_error(self) -> None:
        # DeLong's variance by plain loops over (minority, majority) pairs: an independent
        # large-sample standard error; the bootstrap's 95% width should be 2 × 1.96 of it.
        rng = np.random.default_rng(12)
        n = 1_200
        group = (rng.random(n) < 0.5).astype(np.int8)
        score = np.clip(np.round(50 + 10 * rng.normal(size=n) - 4 * group), 0, 100)
        score = score.astype(np.int16)
        pos = score[group == 1].astype(float)
        oth = score[group == 0].astype(float)
        psi = (pos[:, None] < oth[None, :]) + 0.5 * (pos[:, None] == oth[None, :])
        se = np.sqrt(
            psi.mean(axis=1).var(ddof=1) / pos.size + psi.mean(axis=0).var(ddof=1) / oth.size
        )
        low, high = auc_interval(score, group, 0, 100, seed=1)
        assert (high - low) / (2 * 1.959964 * se) == pytest.approx(1.0, abs=0.12)

    def test_assortativity_interval_covers_the_population_value(self) -> None:
        rng = np.random.default_rng(0)

        def graph(n: int, k: int = 6) -> tuple[np.ndarray, np.ndarray]:
            # Friends near in a latent trait half the time, anyone otherwise; 10% empty slots.
            latent = rng.normal(size=n)
            score = np.clip(np.round(50 + 10 * latent + 5 * rng.normal(size=n)), 0, 100)
            order = np.argsort(latent)
            place = np.empty(n, np.int64)
            place[order] = np.arange(n)
            near = order[np.clip(place[:, None] + rng.integers(-20, 21, (n, k)), 0, n - 1)]
            friends = np.where(rng.random((n, k)) < 0.5, near, rng.integers(0, n, (n, k)))
            friends[rng.random((n, k)) < 0.1] = -1
            return score.astype(np.int16), friends.astype(np.int32)

        truth = score_assortativity_lists(*graph(1_000_000)[::-1])
        reps = 100
        hits = 0
        for k in range(reps):
            score, friends = graph(3_000)
            moments = FriendMoments(score, seed=k, n_resamples=100)
            blocks = moments.observe([(0, friends[:1_000]), (1_000, friends[1_000:])])
            estimate = score_assortativity_blocks(blocks, score)
            assert estimate == pytest.approx(score_assortativity_lists(friends, score))
            low, high = moments.interval(estimate)
            hits += low <= truth <= high
        assert 0.86 < hits / reps < 0.995


def _one_run(days: int):  # type: ignore[no-untyped-def]
    """A small citizen-score run: its scenario, citizens table and metrics (pandas)."""
    from conftest import simulate, small
    from socialscore.analysis import harms

    sc = small("citizen-score", population=5_000, days=days)
    engine, recorder = simulate(sc)
    citizens = recorder.citizens_core(engine.state)
    table = harms.compute(
        sc,
        {**recorder.tables(engine.state), "citizens": citizens},
        engine.nation.friend_blocks(engine.state.friend_codes),
    ).to_pandas()
    return sc, citizens, table


def test_snapshot_shares_and_the_mean_carry_their_intervals() -> None:
    """Blacklisted and grade shares get Wilson intervals, the mean a normal one, all from the
    run's own citizens (recomputed here by hand from the citizens table)."""
    import math

    sc, citizens, table = _one_run(days=30)
    score = np.asarray(citizens.column("score").to_numpy(), dtype=np.float64)
    n = score.size

    def row(metric: str, subject: str = "") -> pd.Series:
        return table[(table.metric == metric) & (table.subject == subject)].iloc[0]

    mean = row("mean_score")
    half = 1.959963984540054 * score.std() / math.sqrt(n)
    assert mean.ci_low == pytest.approx(score.mean() - half, rel=1e-9)
    assert mean.ci_high == pytest.approx(score.mean() + half, rel=1e-9)
    listed = int((score < sc.score.blacklist_below).sum())
    black = row("blacklisted_share")
    p, z = listed / n, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert black.value == pytest.approx(p)
    wilson = (max(0.0, centre - width), centre + width)
    assert (black.ci_low, black.ci_high) == pytest.approx(wilson)
    grades = table[table.metric == "grade_share"]
    assert grades.value.sum() == pytest.approx(1.0)
    assert (grades.ci_low <= grades.value).all() and (grades.value <= grades.ci_high).all()


def test_grade_transitions_carry_wilson_intervals_over_their_start_grade() -> None:
    from socialscore.analysis.disparity import wilson_interval

    sc, citizens, table = _one_run(days=60)
    start = np.asarray(citizens.column("grade_start").to_numpy())
    end = np.asarray(citizens.column("grade").to_numpy())
    names = [g.name for g in sc.score.grades]
    rows = table[table.metric == "grade_transition"]
    assert len(rows)
    for r in rows.itertuples():
        a, b = (names.index(x) for x in r.subject.split(" -> "))
        n = int((start == a).sum())
        k = int(((start == a) & (end == b)).sum())
        assert r.value == pytest.approx(k / n)
        assert (r.ci_low, r.ci_high) == pytest.approx(wilson_interval(k, n))
