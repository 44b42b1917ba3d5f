"""The public ranking: each citizen's percentile against the whole population.

Scores are integers in a small range, so the ranking is a histogram and a
cumulative sum, O(N + range), with no sort. Ties follow the one convention of
:mod:`socialscore.measures.ties`: a tied block is spread evenly over the ranks it
spans, so the published percentile of a score is the share strictly below it
plus half the share tied at it, and the block straddling the "low-ranked" cut
is split at random in proportion.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from socialscore.measures import ties
from socialscore.simulation import rng
from socialscore.simulation.chunks import over_chunks
from socialscore.simulation.kernels.behaviour import CHUNK


def percentile_table(hist: np.ndarray) -> np.ndarray:
    """For each score bin, the published (mid-rank) percentile of that score (float32)."""
    return ties.midrank_percentile(hist).astype(np.float32)


@njit(cache=True, parallel=True)
def publish(score: np.ndarray, table: np.ndarray, lo: int, percentile: np.ndarray) -> None:
    """Write each citizen's published percentile, ``table[score - lo]``."""
    for i in prange(score.shape[0]):
        percentile[i] = table[score[i] - lo]


def low_rank_weights(hist: np.ndarray, share: float) -> np.ndarray:
    """For each score bin, the fraction of its tied block inside the bottom ``share``.

    1 for scores wholly in the bottom ``share`` of the population, 0 for
    scores wholly above it, and for the one block straddling the cut the part
    of its span below the cut (:func:`socialscore.measures.ties.share_inside`). When
    everyone has the same score every bin is at ``share``.
    """
    return ties.share_inside(hist, 0.0, min(max(share, 0.0), 1.0))


def mark_low_ranked(
    published: np.ndarray, weights: np.ndarray, lo: int, seed: int, day: int, bits: np.ndarray
) -> None:
    """Set bit ``i`` of ``bits`` when citizen ``i`` is low-ranked at this publication.

    ``published`` holds the scores at the publication of ``day`` and
    ``weights`` the :func:`low_rank_weights` of their histogram. A citizen in
    a block wholly inside the bottom share is low-ranked; one in the block
    straddling the cut is low-ranked with probability equal to the block's
    fraction inside it, drawn from the counter-based stream
    ``rng.LOW_RANK`` keyed by (seed, publication day, citizen). One bit
    per citizen keeps the random reads of friends' ranks in cache.
    """
    bytes_per_chunk = CHUNK // 8
    n_chunks = (bits.shape[0] + bytes_per_chunk - 1) // bytes_per_chunk
    over_chunks(_mark_chunks, n_chunks, published, weights, lo, seed, day, bits)


@njit(cache=True, nogil=True)
def _mark_chunks(
    first: int,
    last: int,
    published: np.ndarray,
    weights: np.ndarray,
    lo: int,
    seed: int,
    day: int,
    bits: np.ndarray,
) -> None:
    """Chunks ``first`` to ``last - 1`` of :func:`mark_low_ranked` (``CHUNK`` citizens each)."""
    n = published.shape[0]
    dkey = rng.day_key(seed, day)  # rng.uniform(seed, day, i, stream), its day part once
    stream = rng.stream(rng.LOW_RANK)
    for b in range(first * (CHUNK // 8), min(last * (CHUNK // 8), bits.shape[0])):
        byte = 0
        for k in range(8):
            i = b * 8 + k
            if i >= n:
                break
            w = weights[published[i] - lo]
            if w >= 1.0 or (w > 0.0 and rng.hash_uniform(rng.entity_hash(dkey, i, stream)) < w):
                byte |= 1 << k
        bits[b] = byte


def percentile_of(score: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Published (mid-rank) percentile of every score, computed by histogram."""
    hist = np.bincount(score.astype(np.int64) - lo, minlength=hi - lo + 1)
    out = np.empty(score.shape[0], dtype=np.float32)
    publish(score, percentile_table(hist), lo, out)
    return out
