"""The public ranking: each citizen's percentile against the whole population.

Scores are integers in a small range, so the ranking is a histogram and a
cumulative sum, O(N + range), with no sort.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialscore.behaviour import CHUNK
from socialscore.chunks import over_chunks


def share_below(hist: np.ndarray) -> np.ndarray:
    """For each score bin, the share of the population strictly below it (float32)."""
    total = int(hist.sum())
    below = np.zeros(hist.shape[0], dtype=np.int64)
    np.cumsum(hist[:-1], out=below[1:])
    return (below / max(total, 1)).astype(np.float32)


@njit(cache=True, parallel=True)
def publish(score: np.ndarray, below: np.ndarray, lo: int, percentile: np.ndarray) -> None:
    """Write each citizen's published percentile: the share strictly below its score."""
    for i in prange(score.shape[0]):
        percentile[i] = below[score[i] - lo]


def mark_low_ranked(
    published: np.ndarray, below: np.ndarray, lo: int, low_share: float, bits: np.ndarray
) -> None:
    """Set bit ``i`` of ``bits`` when citizen ``i``'s published percentile is below ``low_share``.

    ``published`` holds the scores at the last publication and ``below`` the
    published share strictly below each score, so the percentile of citizen
    ``i`` is ``below[published[i] - lo]``. One bit per citizen keeps the
    random reads of friends' ranks in cache.
    """
    bytes_per_chunk = CHUNK // 8
    n_chunks = (bits.shape[0] + bytes_per_chunk - 1) // bytes_per_chunk
    over_chunks(_mark_chunks, n_chunks, published, below < low_share, lo, bits)


@njit(cache=True, nogil=True)
def _mark_chunks(
    first: int, last: int, published: np.ndarray, low: np.ndarray, lo: int, bits: np.ndarray
) -> None:
    """Chunks ``first`` to ``last - 1`` of :func:`mark_low_ranked` (``CHUNK`` citizens each)."""
    n = published.shape[0]
    for b in range(first * (CHUNK // 8), min(last * (CHUNK // 8), bits.shape[0])):
        byte = 0
        for k in range(8):
            i = b * 8 + k
            if i < n and low[published[i] - lo]:
                byte |= 1 << k
        bits[b] = byte


def percentile_of(score: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Percentile (share strictly below) of every score, computed by histogram."""
    hist = np.bincount(score.astype(np.int64) - lo, minlength=hi - lo + 1)
    out = np.empty(score.shape[0], dtype=np.float32)
    publish(score, share_below(hist), lo, out)
    return out


def low_rank_share(hist: np.ndarray, below: np.ndarray, share: float) -> float:
    """The published percentile under which a citizen is in the bottom ``share``.

    A citizen is low-ranked when the share of the population at or below its
    score is at most ``share``. With ties this never calls a whole tied block
    "bottom": when everyone has the same score, nobody is low-ranked. Returned
    as a bound on the published percentile (share strictly below): low-ranked
    citizens are exactly those whose percentile is below it.
    """
    total = int(hist.sum())
    if total == 0 or share <= 0.0:
        return 0.0
    at_or_below = np.cumsum(hist) / total
    cut = int(np.searchsorted(at_or_below, share, side="right"))
    if cut >= hist.shape[0]:
        return 2.0  # everyone is low-ranked: above any published percentile
    return float(below[cut])
