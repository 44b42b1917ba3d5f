"""The one tie convention: a tied block is spread evenly over the ranks it spans.

Scores are small integers, so many citizens share a score. Every rank,
percentile and quantile class in the project treats such a tied block the
same way, here, by functions of the histogram of scores (one entry per
distinct value in increasing order, ``counts[k]`` citizens at the k-th value):

* The block at value ``k`` occupies the span ``[below_k, below_k + counts[k])``
  of the population ``[0, N)``, where ``below_k`` is the number of citizens
  strictly below it.
* **Rank**: each member's rank is the block's mid-rank, so the **percentile**
  of a score is the share strictly below it plus half the share tied at it
  (:func:`midrank_percentile`). Rank correlations are Spearman's on mid-ranks
  (:func:`centred_midranks`).
* **Quantile class** (a decile, the bottom tenth, the low-ranked share): a
  member belongs to a class *fractionally*, in proportion to the part of the
  block's span that lies inside the class (:func:`share_inside`,
  :func:`class_shares`). A class therefore always holds exactly its share of
  the population, however heavy the ties.

Shares, means by class and persistence computed this way are exactly what
they would be on average if the ties were broken at random (each member of
a block is equally likely to take any of its ranks). When everyone has the
same score, everyone is 10 % in the bottom tenth, so bottom-decile
persistence is 0.1, the chance level, and rank correlations are undefined.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "block_below",
    "centred_midranks",
    "class_shares",
    "midrank_percentile",
    "share_inside",
]

ERR_SHARE_BOUNDS: Final[str] = "need 0 <= low <= high <= 1, got low={low}, high={high}"


def block_below(counts: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Number of citizens strictly below each block (exclusive cumulative sum).

    Args:
        counts: Citizens at each distinct value, values increasing.

    Returns:
        int64 array of the same length.
    """
    c = np.asarray(counts, dtype=np.int64)
    below = np.zeros(c.shape[0], np.int64)
    if c.shape[0] > 1:
        np.cumsum(c[:-1], out=below[1:])
    return below


def midrank_percentile(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Percentile of each value: share strictly below plus half the share tied at it.

    The mid-rank of the block, as a share of the population: the lowest of
    ``N`` distinct scores gets ``0.5 / N``, the highest ``1 - 0.5 / N``, and
    when everyone is tied everyone gets 0.5.

    Args:
        counts: Citizens at each distinct value, values increasing.

    Returns:
        float64 percentile per value in ``(0, 1)``; zeros for an empty population.
    """
    c = np.asarray(counts, dtype=np.int64)
    total = int(c.sum())
    if total == 0:
        return np.zeros(c.shape[0], np.float64)
    return (block_below(c) + 0.5 * c) / total


def centred_midranks(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Mid-rank of each value minus the mean rank, in ranks (for Spearman sums).

    With 1-based ranks the block at value ``k`` spans ranks ``below + 1`` to
    ``below + counts[k]``; its mid-rank is ``below + (counts[k] + 1) / 2`` and
    the mean rank is ``(N + 1) / 2``.

    Args:
        counts: Citizens (or resampling weights) at each distinct value.

    Returns:
        float64 centred mid-rank per value.
    """
    c = np.asarray(counts, dtype=np.float64)
    total = float(c.sum())
    below = np.cumsum(c) - c
    return below + (c + 1.0) / 2.0 - (total + 1.0) / 2.0


def share_inside(counts: npt.ArrayLike, low: float, high: float) -> npt.NDArray[np.float64]:
    """Fraction of each block's span inside the population shares ``[low, high)``.

    A member of the block at value ``k`` belongs to the class of citizens
    ranked between ``low · N`` and ``high · N`` with this weight: the part of
    ``[below_k, below_k + counts[k])`` inside ``[low · N, high · N)``, over
    ``counts[k]``. ``share_inside(counts, 0, 0.1)`` is membership of the
    bottom tenth; summed over the population it is exactly ``0.1 · N``.

    Args:
        counts: Citizens (or non-negative weights) at each distinct value.
        low: Lower bound of the class as a share of the population.
        high: Upper bound (exclusive).

    Returns:
        float64 weight in ``[0, 1]`` per value; 0 for empty values.

    Raises:
        ValueError: Unless ``0 <= low <= high <= 1``.
    """
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(ERR_SHARE_BOUNDS.format(low=low, high=high))
    c = np.asarray(counts, dtype=np.float64)
    total = float(c.sum())
    start = np.cumsum(c) - c
    overlap = np.clip(np.minimum(start + c, high * total) - np.maximum(start, low * total), 0, None)
    out = np.zeros(c.shape[0], np.float64)
    np.divide(overlap, c, out=out, where=c > 0)
    return np.minimum(out, 1.0)


def class_shares(counts: npt.ArrayLike, n_classes: int) -> npt.NDArray[np.float64]:
    """Membership of each value in each of ``n_classes`` equal quantile classes.

    Entry ``[k, j]`` is :func:`share_inside` of class ``j`` (shares
    ``j / n_classes`` to ``(j + 1) / n_classes``) for value ``k``; each row of
    a non-empty value sums to 1. Class 0 is the bottom (the bottom decile for
    ``n_classes = 10``).

    Args:
        counts: Citizens (or non-negative weights) at each distinct value.
        n_classes: Number of classes (at least 1).

    Returns:
        float64 array ``[len(counts), n_classes]``.
    """
    c = np.asarray(counts, dtype=np.float64)
    total = float(c.sum())
    start = (np.cumsum(c) - c)[:, None]
    edges = np.arange(n_classes + 1, dtype=np.float64) * total / n_classes
    overlap = np.clip(
        np.minimum(start + c[:, None], edges[None, 1:]) - np.maximum(start, edges[None, :-1]),
        0,
        None,
    )
    out: np.ndarray[Any, np.dtype[np.float64]] = np.zeros(overlap.shape, dtype=np.float64)
    np.divide(overlap, c[:, None], out=out, where=c[:, None] > 0)
    return out
