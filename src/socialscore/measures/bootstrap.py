"""95% intervals from a single run: a Poisson bootstrap over citizens.

A run is one draw of a population; the interval says how much a measure
would move had the same regime been run on other citizens like them. Each
resample gives every citizen an independent Poisson(1) weight, the Poisson
bootstrap (Hanley & MacGibbon 2006), which for large populations is
equivalent to drawing the citizens with replacement.

Every measure here except assortativity depends only on how many citizens
fall in each cell (a (start score, end score) pair for mobility, a (score,
group) pair for the privacy AUC, a score for the Gini), and a sum of
independent Poisson(1) weights over ``c`` citizens is Poisson(``c``). So a
resample draws one Poisson number per occupied cell, not per citizen, and
the draws are exactly those of the per-citizen bootstrap.

* Privacy AUC and Gini (a few thousand cells at most): the interval is the
  2.5 % and 97.5 % quantiles over :data:`N_RESAMPLES` resamples (percentile
  bootstrap), a fraction of a second at any population.
* Mobility (up to a few hundred thousand cells) and score assortativity
  (one row of friendship sums per citizen): the standard error over
  :data:`MOBILITY_RESAMPLES` resamples, on a fixed random subsample of at
  most :data:`MOBILITY_SUBSAMPLE` citizens with the error scaled by
  ``sqrt(subsample / N)``; the interval is the estimate ± 1.96 standard
  errors. About two seconds at 10⁶–10⁷ citizens.

The resampling seed is derived from the scenario seed, so the interval is
reproducible and does not depend on the thread count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from socialscore.measures import statistics as metrics
from socialscore.measures import ties

__all__ = [
    "MOBILITY_MEASURES",
    "MOBILITY_RESAMPLES",
    "MOBILITY_SUBSAMPLE",
    "N_RESAMPLES",
    "FriendMoments",
    "Interval",
    "auc_interval",
    "gini_interval",
    "mobility_from_cells",
    "mobility_intervals",
]

N_RESAMPLES: Final[int] = 400
"""Resamples per interval: the 2.5 % quantile then rests on ten resamples."""

LEVEL: Final[float] = 0.95
"""Confidence level of every interval here."""

MOBILITY_RESAMPLES: Final[int] = 200
"""Resamples for the mobility standard errors (their own error is about 5 %)."""

MOBILITY_SUBSAMPLE: Final[int] = 100_000
"""Largest panel of citizens the mobility bootstrap resamples as a whole."""

_Z95: Final[float] = 1.959963984540054
"""Standard normal quantile of 97.5 %."""

_STREAM: Final[int] = 0x5C0B00
"""Mixed with the scenario seed so the resampling draws are their own stream."""

MOBILITY_MEASURES: Final[tuple[str, ...]] = (
    "rank_rank_correlation",
    "rank_rank_slope",
    "bottom_decile_persistence",
)
"""The measures of :func:`mobility_from_cells`, in its order."""

Interval = tuple[float, float]


def _generator(seed: int, measure: int) -> np.random.Generator:
    """The resampling generator of one measure family for a scenario seed."""
    return np.random.default_rng(
        np.random.SeedSequence([int(seed) & (2**63 - 1), _STREAM, measure])
    )


def _percentile_interval(stats: npt.NDArray[np.float64]) -> Interval:
    """The (2.5 %, 97.5 %) quantiles of resampled statistics; nan if any is nan."""
    if stats.size == 0 or bool(np.isnan(stats).any()):
        return float("nan"), float("nan")
    alpha = (1.0 - LEVEL) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return float(low), float(high)


def mobility_from_cells(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    weight: npt.NDArray[np.floating | np.integer],
    n_a: int,
    n_b: int,
) -> npt.NDArray[np.float64]:
    """Rank-rank correlation, slope and bottom-decile persistence of weighted cells.

    With the cells' own counts as weights this equals
    :func:`socialscore.measures.statistics.rank_rank_correlation`,
    :func:`~socialscore.measures.statistics.rank_rank_slope` and
    :func:`~socialscore.measures.statistics.bottom_decile_persistence` of the panel (the
    same tie convention: mid-ranks, fractional bottom tenth).

    Args:
        a: Start-value index of each cell, in ``[0, n_a)``.
        b: End-value index of each cell, in ``[0, n_b)``.
        weight: Citizens (or resampling weight) in each cell.
        n_a: Number of distinct start values.
        n_b: Number of distinct end values.

    Returns:
        float64 ``[correlation, slope, persistence]``; nan where undefined
        (a constant snapshot for the first two, no citizens for the third).
    """
    w = np.asarray(weight, dtype=np.float64)
    ca, cb = _marginals(a, b, w, n_a, n_b)
    ra = ties.centred_midranks(ca)
    rb = ties.centred_midranks(cb)
    fa = ties.share_inside(ca, 0.0, metrics.BOTTOM_SHARE)
    fb = ties.share_inside(cb, 0.0, metrics.BOTTOM_SHARE)
    cov, both = _cell_sums(a, b, w, ra, rb, fa, fb)
    out = np.full(3, np.nan)
    var_a = float(np.dot(ca, ra * ra))
    var_b = float(np.dot(cb, rb * rb))
    # A snapshot is constant when one value holds every citizen (exactly, not by rounding).
    if np.count_nonzero(ca) > 1:
        out[1] = cov / var_a
        if np.count_nonzero(cb) > 1:
            out[0] = float(np.clip(cov / np.sqrt(var_a * var_b), -1.0, 1.0))
    bottom = float(np.dot(ca, fa))
    if bottom > 0.0:
        out[2] = float(np.clip(both / bottom, 0.0, 1.0))
    return out


@njit(cache=True, nogil=True)
def _marginals(
    a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], w: npt.NDArray[np.float64], n_a: int,
    n_b: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:  # fmt: skip
    """Weight at each start value and at each end value."""
    ca = np.zeros(n_a)
    cb = np.zeros(n_b)
    for k in range(a.shape[0]):
        ca[a[k]] += w[k]
        cb[b[k]] += w[k]
    return ca, cb


@njit(cache=True, nogil=True)
def _cell_sums(
    a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], w: npt.NDArray[np.float64],
    ra: npt.NDArray[np.float64], rb: npt.NDArray[np.float64], fa: npt.NDArray[np.float64],
    fb: npt.NDArray[np.float64],
) -> tuple[float, float]:  # fmt: skip
    """Sum over cells of weight × centred mid-rank product, and of weight × bottom shares."""
    cov = 0.0
    both = 0.0
    for k in range(a.shape[0]):
        cov += w[k] * ra[a[k]] * rb[b[k]]
        both += w[k] * fa[a[k]] * fb[b[k]]
    return cov, both


def mobility_intervals(
    start: npt.ArrayLike,
    end: npt.ArrayLike,
    *,
    seed: int,
    n_resamples: int = MOBILITY_RESAMPLES,
    max_citizens: int = MOBILITY_SUBSAMPLE,
) -> dict[str, Interval]:
    """95% intervals of the mobility measures of a panel of citizens.

    The standard error of each measure is estimated by a Poisson bootstrap
    over citizens; the interval is the measure ± 1.96 standard errors
    (clipped to the measure's range). Above ``max_citizens`` citizens the
    bootstrap runs on a fixed random subsample of ``max_citizens`` of them
    and the standard error is scaled by ``sqrt(max_citizens / N)``: these
    measures are averages over citizens, whose error shrinks as one over
    the square root of the population. The cost is then bounded whatever
    the population (about a second).

    Args:
        start: Score of each citizen at the start of the measurement window.
        end: The same citizens' scores at the end.
        seed: Scenario seed (the resampling stream is derived from it).
        n_resamples: Number of Poisson-bootstrap resamples.
        max_citizens: Largest panel bootstrapped as a whole.

    Returns:
        ``{measure: (low, high)}`` for each of :data:`MOBILITY_MEASURES`;
        ``(nan, nan)`` where the measure is undefined.
    """
    a_all = np.asarray(start)
    b_all = np.asarray(end)
    n = a_all.shape[0]
    rng = _generator(seed, 0)
    point = mobility_from_cells(*metrics.pair_cells(a_all, b_all))
    scale = 1.0
    if n > max_citizens:
        take = np.sort(rng.choice(n, size=max_citizens, replace=False))
        a_all, b_all = a_all[take], b_all[take]
        scale = float(np.sqrt(max_citizens / n))
    a, b, count, n_a, n_b = metrics.pair_cells(a_all, b_all)
    stats = np.empty((n_resamples, len(MOBILITY_MEASURES)))
    for r in range(n_resamples):
        stats[r] = mobility_from_cells(a, b, rng.poisson(count), n_a, n_b)
    out: dict[str, Interval] = {}
    bounds = ((-1.0, 1.0), (-np.inf, np.inf), (0.0, 1.0))
    for k, measure in enumerate(MOBILITY_MEASURES):
        if np.isnan(point[k]) or bool(np.isnan(stats[:, k]).any()):
            out[measure] = (float("nan"), float("nan"))
            continue
        half = _Z95 * scale * float(np.std(stats[:, k], ddof=1))
        low, high = bounds[k]
        out[measure] = (float(max(point[k] - half, low)), float(min(point[k] + half, high)))
    return out


def _auc_from_hist(pos: npt.NDArray[np.float64], oth: npt.NDArray[np.float64]) -> float:
    """P(positive below other) + ½ P(tie) from per-score counts of the two sides."""
    n_pos, n_oth = float(pos.sum()), float(oth.sum())
    if n_pos == 0.0 or n_oth == 0.0:
        return float("nan")
    others_above = n_oth - np.cumsum(oth)
    return float(np.dot(pos, others_above + 0.5 * oth) / (n_pos * n_oth))


def auc_interval(
    score: npt.NDArray[np.integer],
    group: npt.NDArray[np.integer],
    lo: int,
    hi: int,
    *,
    positive: int = 1,
    seed: int,
    n_resamples: int = N_RESAMPLES,
) -> Interval:
    """95% bootstrap interval of :func:`socialscore.measures.statistics.auc_group_from_score`.

    Args:
        score: Integer score per citizen, within ``[lo, hi]``.
        group: Group id per citizen.
        lo: Lowest possible score.
        hi: Highest possible score.
        positive: The group whose identification is measured.
        seed: Scenario seed.
        n_resamples: Number of resamples.

    Returns:
        ``(low, high)``; nan when a resample leaves a side empty.
    """
    is_pos = np.asarray(group) == positive
    width = hi - lo + 1
    pos = np.bincount(np.asarray(score, np.int64)[is_pos] - lo, minlength=width)
    oth = metrics.score_histogram(score, lo, hi) - pos
    rng = _generator(seed, 1)
    stats = np.array(
        [
            _auc_from_hist(rng.poisson(pos).astype(np.float64), rng.poisson(oth).astype(np.float64))
            for _ in range(n_resamples)
        ]
    )
    return _percentile_interval(stats)


def gini_interval(
    values: npt.ArrayLike, hist: npt.NDArray[np.integer], *, seed: int,
    n_resamples: int = N_RESAMPLES,
) -> Interval:  # fmt: skip
    """95% bootstrap interval of the Gini of a population given as a histogram.

    Args:
        values: Value of each histogram bin (>= 0, increasing).
        hist: Citizens at each value.
        seed: Scenario seed.
        n_resamples: Number of resamples.

    Returns:
        ``(low, high)``; nan when a resample's Gini is undefined (all at zero).
    """
    v = np.asarray(values, dtype=np.float64)
    rng = _generator(seed, 2)
    stats = np.array(
        [metrics.gini_from_histogram(v, rng.poisson(hist)) for _ in range(n_resamples)]
    )
    return _percentile_interval(stats)


class FriendMoments:
    """Score assortativity's 95% interval, gathered while the friend lists stream past.

    The friend lists of a large run are decoded block by block and read once,
    so :meth:`observe` passes the blocks through unchanged (to
    :func:`socialscore.measures.statistics.score_assortativity_blocks`) and keeps, for a
    fixed random sample of at most ``max_citizens`` citizens, the sums over
    each one's friendships of (1, x, y, x², y², xy), x the citizen's score and
    y the friend's. A resample gives each sampled citizen a Poisson(1)
    weight on all of its friendships at once (friendships of one citizen are
    not independent); the standard error is scaled to the whole population
    by ``sqrt(sample / N)``, and the interval is the estimate ± 1.96 standard
    errors. The friends' scores are taken as given.
    """

    def __init__(
        self,
        score: npt.NDArray[np.integer],
        *,
        seed: int,
        max_citizens: int = MOBILITY_SUBSAMPLE,
        n_resamples: int = MOBILITY_RESAMPLES,
    ) -> None:
        """Choose the sample of citizens.

        Args:
            score: Score per citizen (the graph's nodes).
            seed: Scenario seed.
            max_citizens: Largest sample of citizens whose friendships are kept.
            n_resamples: Number of Poisson-bootstrap resamples.
        """
        self._score = np.asarray(score)  # read in place: no per-citizen copy
        n = self._score.shape[0]
        self._shift = float(self._score.mean(dtype=np.float64)) if n else 0.0
        self._rng = _generator(seed, 3)
        self._n = n
        self._n_resamples = n_resamples
        if n > max_citizens:
            self._sample = np.sort(self._rng.choice(n, size=max_citizens, replace=False))
        else:
            self._sample = np.arange(n)
        self._rows: list[npt.NDArray[np.float64]] = []

    def observe(
        self, blocks: Iterable[tuple[int, npt.NDArray[np.integer]]]
    ) -> Iterator[tuple[int, npt.NDArray[np.integer]]]:
        """Yield the friend-list blocks unchanged, keeping the sampled citizens' sums."""
        for first, block in blocks:
            f = np.asarray(block)
            lo = int(np.searchsorted(self._sample, first))
            hi = int(np.searchsorted(self._sample, first + f.shape[0]))
            if hi > lo and f.ndim == 2 and f.shape[1]:
                rows = self._sample[lo:hi]
                friends = f[rows - first]
                valid = friends >= 0
                friend_score = self._score[np.where(valid, friends, 0)].astype(np.float64)
                y = np.where(valid, friend_score - self._shift, 0.0)
                x = self._score[rows].astype(np.float64) - self._shift
                cnt = valid.sum(axis=1).astype(np.float64)
                sy = y.sum(axis=1)
                syy = (y * y).sum(axis=1)
                self._rows.append(np.stack([cnt, x * cnt, sy, x * x * cnt, syy, x * sy], axis=1))
            yield first, block

    def interval(self, estimate: float) -> Interval:
        """95% interval around the full graph's ``estimate`` (nan when it is undefined)."""
        if np.isnan(estimate) or not self._rows:
            return float("nan"), float("nan")
        moments = np.concatenate(self._rows)
        stats = []
        batch = 16
        for start in range(0, self._n_resamples, batch):
            size = min(batch, self._n_resamples - start)
            weights = self._rng.poisson(1.0, (size, moments.shape[0])).astype(np.float64)
            for cnt, sx, sy, sxx, syy, sxy in weights @ moments:
                if cnt <= 0.0:
                    return float("nan"), float("nan")
                vx = sxx / cnt - (sx / cnt) ** 2
                vy = syy / cnt - (sy / cnt) ** 2
                if vx <= 0.0 or vy <= 0.0:
                    return float("nan"), float("nan")
                stats.append((sxy / cnt - sx * sy / cnt**2) / np.sqrt(vx * vy))
        scale = float(np.sqrt(self._sample.shape[0] / max(self._n, 1)))
        half = _Z95 * scale * float(np.std(stats, ddof=1))
        return float(max(estimate - half, -1.0)), float(min(estimate + half, 1.0))
