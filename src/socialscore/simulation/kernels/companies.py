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
    first: int, last: int, today, nation, state, streams, rules, scale, contracts, tallies
) -> None:
    """Advance every company by one day.

    Runs chunks ``first`` to ``last - 1``; :func:`socialscore.simulation.chunks.over_chunks`
    shares the chunks out over threads. The bundles are named tuples, each made
    in one place (classes in :mod:`socialscore.simulation.engine`, ``compiled``
    and ``state``, named below).

    Args:
        first: The first chunk to run.
        last: One past the last chunk to run.
        today: The day's inputs (``engine.Day``).
        nation: The nation's fixed arrays (``engine.NationArrays``): each company's
            compliance and its owner's group.
        state: The run's state (``state.State``): the companies' accumulators and scores change.
        streams: The company event streams (``compiled.Streams``).
        rules: The company rulebook (``compiled.Rules``), one accumulator per rule.
        scale: The company score's base and range (``compiled.ScoreScale``).
        contracts: The public-contracts gate (``compiled.PublicContracts``).
        tallies: The day's counts per chunk (``engine.CompanyTallies``), zeroed here.
    """
    seed, day = today.seed, today.day
    compliance, owner_group = nation.company_compliance, nation.company_group
    acc, score = state.company_acc, state.company_score
    s_event, s_rate, s_spread, s_trait_table = (
        streams.event,
        streams.rate,
        streams.spread,
        streams.trait_table,
    )
    base, lo, hi = scale.base, scale.lo, scale.hi
    hist, event_counts, gate_counts = tallies.hist, tallies.events, tallies.gates
    n_events = event_counts.shape[1]
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
            total = apply_rules(
                acc[i], fired, True, rules.event, rules.points, rules.decay, rules.cap
            )
            s = clip_round(base + total, lo, hi)
            score[i] = s
            hist[c, s - lo] += 1
            if contracts.enabled and rng.uniform(seed, day, i, gate_key) < contracts.rate:
                gate_counts[c, g, 0] += 1
                if s >= contracts.threshold:
                    gate_counts[c, g, 1] += 1
