"""The daily company kernel: filings, violations, judgments, company score, company gate.

Companies are rated like citizens, by their own rulebook; their compliance
trait lowers the rate of bad events (a stream's ``compliance_strength`` says
how much). The public-contracts gate grants bids at a company-score threshold;
its tallies are kept by the owner's group.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialscore.simulation import rng
from socialscore.simulation.kernels.behaviour import CHUNK, heterogeneity
from socialscore.simulation.kernels.score import apply_rules, clip_round


@njit(cache=True, nogil=True)
def step_companies(
    first: int,
    last: int,
    seed: int,
    day: int,
    n_events: int,
    compliance: np.ndarray,
    owner_group: np.ndarray,
    acc: np.ndarray,
    score: np.ndarray,
    s_event: np.ndarray,
    s_rate: np.ndarray,
    s_spread: np.ndarray,
    s_trait_table: np.ndarray,
    r_event: np.ndarray,
    r_points: np.ndarray,
    r_decay: np.ndarray,
    r_cap: np.ndarray,
    base: int,
    lo: int,
    hi: int,
    gate_enabled: bool,
    gate_rate: float,
    gate_threshold: int,
    hist: np.ndarray,
    event_counts: np.ndarray,
    gate_counts: np.ndarray,
) -> None:
    """Advance every company by one day.

    Runs chunks ``first`` to ``last - 1``; :func:`socialscore.simulation.chunks.over_chunks`
    shares the chunks out over threads.
    """
    m = compliance.shape[0]
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    heterogeneity_key = rng.stream(rng.COMPANY_HETEROGENEITY)
    gate_key = rng.stream(rng.COMPANY_GATE)
    for c in range(first, last):
        hist[c, :] = 0
        event_counts[c, :, :] = 0
        gate_counts[c, :, :] = 0
        fired = np.zeros(n_events, dtype=np.int64)
        for i in range(c * CHUNK, min((c + 1) * CHUNK, m)):
            g = owner_group[i]
            fired[:] = 0
            static_hash = rng.entity_hash(static_key, i, heterogeneity_key)
            for a in range(s_event.shape[0]):
                e = s_event[a]
                p = s_rate[a] * s_trait_table[a, compliance[i]]
                if s_spread[a] > 0.0:
                    p *= heterogeneity(static_hash, e, s_spread[a])
                if rng.uniform(seed, day, i, rng.stream(rng.COMPANY_EVENT, e)) < p:
                    fired[e] = 1
                    event_counts[c, e, g] += 1
            total = apply_rules(acc[i], fired, True, r_event, r_points, r_decay, r_cap)
            s = clip_round(base + total, lo, hi)
            score[i] = s
            hist[c, s - lo] += 1
            if gate_enabled and rng.uniform(seed, day, i, gate_key) < gate_rate:
                gate_counts[c, g, 0] += 1
                if s >= gate_threshold:
                    gate_counts[c, g, 1] += 1
