"""The daily citizen kernel: draw each citizen's events, rate them, score.

Citizens are processed in fixed chunks (so that the per-chunk tallies, and
therefore every recorded number, are the same for any thread count). For
each citizen and active stream the day's probability is the stream's base
rate times the citizen's fixed heterogeneity, trait and group multipliers,
and the feedback multipliers (stress, chilling, gaming); the event happens
when the counter-based draw for (seed, day, citizen, stream) falls under it.

Within a chunk the loops run stream by stream and rule by rule over the
chunk's citizens (not citizen by citizen), with the day's events kept as one
bit mask per citizen: inner loops without branches on the citizen, which
the compiler turns into SIMD code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from socialscore.simulation import rng
from socialscore.simulation.kernels import passes
from socialscore.simulation.kernels.friends import ATTEMPTS, DROPPED_BIT, pick, region_runs
from socialscore.simulation.kernels.monitoring import filter_unobserved
from socialscore.simulation.kernels.outcomes import draw_outcomes
from socialscore.simulation.kernels.score import EV_INTERACTION, EV_INTERACTION_LOW, clip_round

#: Citizens per chunk: the unit of parallel work and of per-chunk tallies.
CHUNK = 16_384
#: Streams whose threshold bound is below this probability are drawn by thinning.
SPARSE_BELOW = 0.1


def chunk_count(n: int) -> int:
    """Number of chunks for ``n`` entities."""
    return (n + CHUNK - 1) // CHUNK


@njit(cache=True, inline="always")
def heterogeneity(static_hash: np.uint64, event: int, spread: float) -> float:
    """An entity's fixed rate multiplier U(1 − spread, 1 + spread) for an event.

    ``static_hash`` is the entity's day-independent hash for the event's group
    of eight (``event // 8``); the multiplier takes 256 levels.
    """
    return 1.0 - spread + 2.0 * spread * rng.byte_uniform(static_hash, event & 7)


@njit(cache=True, nogil=True)
def _fixed_thresholds(
    thr: np.ndarray,
    grp: np.ndarray,
    static_hash: np.ndarray,
    byte_shift: np.uint64,
    thr0: float,
    thr1: float,
    lo_mult: float,
    step: float,
    spread: float,
    trait: np.ndarray,
    trait_table: np.ndarray,
    has_trait: bool,
) -> None:
    """The part of a stream's thresholds fixed for the run: group rate, heterogeneity, trait."""
    if spread > 0.0:
        passes.spread_thresholds(thr, grp, static_hash, byte_shift, thr0, thr1, lo_mult, step)
    else:
        passes.group_thresholds(thr, grp, thr0, thr1)
    if has_trait:
        passes.scale_by_table(thr, trait, trait_table)


@njit(cache=True)
def _draw_thinned(
    bits: np.ndarray,
    listed: np.ndarray,
    exact: np.ndarray,
    mask: np.ndarray,
    pair_hash: np.ndarray,
    shift: np.uint64,
    bound: float,
    grp: np.ndarray,
    thr0: float,
    thr1: float,
    static_hash: np.ndarray,
    byte_shift: np.uint64,
    spread: float,
    lo_mult: float,
    step: float,
    trait_c: np.ndarray,
    table: np.ndarray,
    use_trait: bool,
    stress_c: np.ndarray,
    ss: float,
    chill_c: np.ndarray,
    use_chill: bool,
    gaming_c: np.ndarray,
    use_gaming: bool,
    event: int,
) -> tuple[int, int]:
    """Draw a rare stream by thinning; returns its events and those of the minority.

    Only citizens whose draw falls under ``bound`` (an upper bound of every
    threshold in the chunk) get their exact threshold, computed in the same
    order as the full passes, so decisions are identical.
    """
    low31 = np.uint64(0x7FFFFFFF)
    low8 = np.uint64(0xFF)
    n = passes.list_draws_under(listed, bits, pair_hash, shift, bound)
    for j in range(n):
        k = listed[j]
        x = thr1 if grp[k] != 0 else thr0
        if spread > 0.0:
            level = np.int32((static_hash[k] >> byte_shift) & low8)
            x = x * (lo_mult + step * level)
        if use_trait:
            x *= table[trait_c[k]]
        if ss > 0.0:
            x *= 1.0 + ss * stress_c[k]
        if use_chill:
            x *= chill_c[k]
        if use_gaming:
            x *= gaming_c[k]
        exact[j] = x
    bit = np.uint32(event)
    n_all = np.int32(0)
    n_minority = np.int32(0)
    for j in range(n):
        k = listed[j]
        u = np.int32((pair_hash[k] >> shift) & low31)
        hit = np.int32(1) if u < exact[j] else np.int32(0)
        mask[k] |= np.uint32(hit) << bit
        n_all += hit
        n_minority += hit & np.int32(grp[k])
    return n_all, n_minority


@njit(cache=True)
def _feedback_multipliers(
    chill_mult: np.ndarray,
    gaming_mult: np.ndarray,
    start: int,
    aware_c: np.ndarray,
    chill_c: np.ndarray,
    gaming_c: np.ndarray,
    chill_values: np.ndarray,
    gaming_values: np.ndarray,
    gaming_max: np.ndarray,
) -> None:
    """Rate multipliers of a chunk's aware citizens, one exp per distinct coefficient.

    Also raises ``gaming_max[q]`` to the largest gaming multiplier ``q`` in the chunk.

    Only aware citizens have exposures: ``aware_c`` lists the chunk's aware
    citizens (the chunk starts at citizen ``start``), ``chill_c`` and
    ``gaming_c`` their exposures.
    """
    for a in range(aware_c.shape[0]):
        k = aware_c[a] - start
        x = chill_c[a]
        y = gaming_c[a]
        if x > 0.0:
            for q in range(chill_values.shape[0]):
                chill_mult[q, k] = math.exp(-chill_values[q] * x)
        if y > 0.0:
            for q in range(gaming_values.shape[0]):
                value = math.exp(gaming_values[q] * y)
                gaming_mult[q, k] = value
                gaming_max[q] = max(gaming_max[q], value)


#: Flags of a citizen whose day's multipliers are not all 1 (see :func:`_flag_varying`).
VARIES_STRESS = 1
VARIES_CHILL = 2
VARIES_GAMING = 4


@njit(cache=True)
def _flag_varying(
    flags: np.ndarray,
    stress_c: np.ndarray,
    start: int,
    aware_c: np.ndarray,
    chill_c: np.ndarray,
    gaming_c: np.ndarray,
) -> None:
    """Flag the chunk's citizens under stress, and its aware citizens with exposures.

    ``aware_c`` lists the chunk's aware citizens (ids; the chunk starts at
    ``start``), ``chill_c`` and ``gaming_c`` their exposures.
    """
    for k in range(flags.shape[0]):
        flags[k] = np.uint8(stress_c[k] > 0.0) * np.uint8(VARIES_STRESS)
    for a in range(aware_c.shape[0]):
        k = aware_c[a] - start
        flags[k] |= np.uint8(chill_c[a] > 0.0) * np.uint8(VARIES_CHILL) | np.uint8(
            gaming_c[a] > 0.0
        ) * np.uint8(VARIES_GAMING)


@njit(cache=True)
def _list_varying(
    varying: np.ndarray,
    bits: np.ndarray,
    want: int,
    stress_c: np.ndarray,
    start: int,
    aware_c: np.ndarray,
    chill_c: np.ndarray,
    gaming_c: np.ndarray,
) -> int:
    """List (chunk positions, in order) the citizens with a multiplier of kind ``want``.

    Exposures (chilling, gaming) are listed from the aware citizens alone, stress
    by a vector pass; a stream with multipliers of several kinds gets their union.
    """
    if want in (VARIES_CHILL, VARIES_GAMING):
        values = chill_c if want == VARIES_CHILL else gaming_c
        n = 0
        for a in range(aware_c.shape[0]):
            varying[n] = np.uint16(aware_c[a] - start)
            n += np.int64(values[a] > 0.0)
        return n
    if want == VARIES_STRESS:
        return passes.list_positive(varying, bits, stress_c)
    flags = np.empty(stress_c.shape[0], dtype=np.uint8)
    _flag_varying(flags, stress_c, start, aware_c, chill_c, gaming_c)
    return passes.list_flagged(varying, bits, flags, want)


@njit(cache=True)
def _varying_rate_sums(
    out: np.ndarray,
    listed: np.ndarray,
    grp: np.ndarray,
    thr0: float,
    thr1: float,
    static_hash: np.ndarray,
    byte_shift: np.uint64,
    lo_mult: float,
    step: float,
    trait_c: np.ndarray,
    table: np.ndarray,
    stress_c: np.ndarray,
    ss: float,
    chill_c: np.ndarray,
    gaming_c: np.ndarray,
) -> None:
    """Add what the day's multipliers change in a thinned stream's sums of thresholds.

    A citizen's threshold is its fixed part (group, spread, trait: summed
    once per run) times the stress, chilling and gaming multipliers, which
    differ from 1 only for the citizens ``listed`` (chunk positions). For
    each, this adds to ``out[g, q]`` (quantities as
    :func:`socialscore.simulation.kernels.passes.probability_sums`) its chances minus those of
    the fixed part, the threshold computed in the kernel's own order: the
    integer sums are the same as over every citizen.
    """
    low8 = np.uint64(0xFF)
    # Per-group sums in registers (a group's mask selects), not in memory. A factor
    # that does not apply multiplies by exactly 1 (no spread: lo_mult 1 and step 0;
    # no trait: a table of ones; no stress: ss 0; no chilling or gaming: ``ones``),
    # so the loop has no branch and the thresholds are the kernel's to the bit.
    p0 = p1 = u0 = u1 = q0 = q1 = np.int64(0)
    for j in range(listed.shape[0]):
        k = np.int64(listed[j])
        g1 = np.int64(grp[k])
        x = thr1 if g1 != 0 else thr0
        level = np.int32((static_hash[k] >> byte_shift) & low8)
        x = x * (lo_mult + step * level)
        x *= table[trait_c[k]]
        fixed = x
        x *= 1.0 + ss * stress_c[k]
        free = x
        x *= chill_c[k]
        x *= gaming_c[k]
        free *= gaming_c[k]
        c_fixed = passes.chances(fixed)
        c_x = passes.chances(x)
        dp = c_x - c_fixed
        du = passes.chances(free) - c_fixed
        dq = passes.squared_chances(c_x) - passes.squared_chances(c_fixed)
        m1 = -g1
        m0 = ~m1
        p0 += dp & m0
        p1 += dp & m1
        u0 += du & m0
        u1 += du & m1
        q0 += dq & m0
        q1 += dq & m1
    out[0, passes.SUM_P] += p0
    out[1, passes.SUM_P] += p1
    out[0, passes.SUM_P_UNCHILLED] += u0
    out[1, passes.SUM_P_UNCHILLED] += u1
    out[0, passes.SUM_P_SQUARED] += q0
    out[1, passes.SUM_P_SQUARED] += q1


@njit(cache=True)
def _interactions_with_low_ranked(
    today_key: np.uint64,
    static_key: np.uint64,
    start: int,
    mask: np.ndarray,
    grp: np.ndarray,
    codes_c: np.ndarray,
    region_start: np.ndarray,
    local: int,
    low_ranked: np.ndarray,
    met_low: np.ndarray,
) -> tuple[int, int]:
    """Mark interactions with a friend low in the ranking; returns them and the minority's.

    Each citizen who interacted today did so with one of its friend slots
    drawn at random (an empty slot, or a dropped friendship, is no one). The
    slot and its friend are computed for every citizen, without a branch, so
    that the loop over each region's part of the chunk compiles to vector code.
    ``met_low[k]`` is set to 1 where the friend drawn for citizen ``k`` is
    low-ranked (whether or not ``k`` interacted), else 0.
    """
    n_friends = codes_c.shape[0]
    n = region_start[region_start.shape[0] - 1]
    ev = np.uint32(EV_INTERACTION)
    ev_low = np.uint32(EV_INTERACTION_LOW)
    one = np.uint32(1)
    three = np.uint64(3)
    seven = np.uint64(7)
    none = np.uint64(1) << np.uint64(63)
    n_all = np.int32(0)
    n_minority = np.int32(0)
    m = mask.shape[0]
    slot_buf = np.empty(m, dtype=np.uint64)
    code_buf = np.empty(m, dtype=np.uint8)
    slot_key = rng.stream(rng.INTERACTION_FRIEND)
    runs = region_runs(region_start, start, m)
    for t in range(runs.shape[0]):
        k0, k1, lo, width = runs[t, 0], runs[t, 1], runs[t, 2], runs[t, 3]
        wide = width > local
        # Views indexed from 0 (the compiler then sees non-negative indices), and
        # the hashing in loops of their own, which compile to vector code; the
        # lookups of a code and of a rank bit stay scalar.
        seg_mask = mask[k0:k1]
        seg_grp = grp[k0:k1]
        seg_slot = slot_buf[k0:k1]
        seg_code = code_buf[k0:k1]
        seg_low = met_low[k0:k1]
        first = start + k0
        for q in range(seg_mask.shape[0]):
            h = rng.entity_hash(today_key, first + q, slot_key)
            seg_slot[q] = np.uint64(rng.hash_uniform(h) * n_friends)
        for q in range(seg_mask.shape[0]):
            seg_code[q] = codes_c[seg_slot[q], k0 + q]
        for q in range(seg_mask.shape[0]):
            slot = np.int64(seg_slot[q])
            code = np.int64(seg_code[q])
            local_slot = (slot < local) & wide
            base = lo if local_slot else 0
            span = width if local_slot else n
            j = pick(static_key, first + q, slot, code & (ATTEMPTS - 1), base, span)
            # The friend, or 2**63 for no one (no rank bit is read for it).
            seg_slot[q] = np.uint64(j) if code < DROPPED_BIT else none
        for q in range(seg_mask.shape[0]):
            jj = seg_slot[q]
            present = np.uint32(jj != none)
            jj = jj & ~none
            low = (np.uint32(low_ranked[jj >> three]) >> np.uint32(jj & seven)) & one
            seg_low[q] = np.uint8(low & present)
            hit = low & (seg_mask[q] >> ev) & present
            seg_mask[q] |= hit << ev_low
            n_all += np.int32(hit)
            n_minority += np.int32(hit) & np.int32(seg_grp[q])
    return n_all, n_minority


@njit(cache=True)
def _data_errors(
    errors: np.ndarray, pair_hash: np.ndarray, rated: np.ndarray, grp: np.ndarray, rate: float
) -> tuple[int, int]:
    """Mark rated citizens who get an erroneous record today; returns them and the minority's."""
    bound = rate * 9007199254740992.0
    n_all = np.int32(0)
    n_minority = np.int32(0)
    for k in range(errors.shape[0]):
        # The same 53-bit uniform as rng.uniform, compared in integers.
        if rated[k] > 0.0 and np.int64(pair_hash[k] >> np.uint64(11)) < bound:
            errors[k] = 1
            n_all += 1
            n_minority += np.int32(grp[k])
    return n_all, n_minority


@njit(cache=True)
def _score(
    score_c: np.ndarray,
    clean_c: np.ndarray,
    err_c: np.ndarray,
    net_c: np.ndarray,
    offset_c: np.ndarray,
    total: np.ndarray,
    errors: np.ndarray,
    rated: np.ndarray,
    grp: np.ndarray,
    base: int,
    lo: int,
    hi: int,
    saturating: bool,
    error_decay: float,
    error_weight: float,
    hist: np.ndarray,
    group_hist: np.ndarray,
) -> None:
    """Each citizen's score from its accumulators' total, erroneous records and network term.

    Also the score without the erroneous records, and the chunk's histogram
    and per-group count and sum. ``offset_c`` (empty when unused) holds each
    citizen's starting record; with ``saturating``, it also takes up what
    would carry the record (base + offset + total) beyond [lo, hi], so those
    points are lost.
    """
    m = score_c.shape[0]
    if offset_c.shape[0] > 0:
        for k in range(m):
            own = base + offset_c[k] + total[k]
            if saturating:
                if own > hi:
                    offset_c[k] -= own - hi
                    own = hi
                elif own < lo:
                    offset_c[k] += lo - own
                    own = lo
            total[k] = own - base
    for k in range(m):
        e_acc = err_c[k] * error_decay + np.float64(errors[k])
        err_c[k] = e_acc
        raw = base + total[k] + e_acc * error_weight + net_c[k] * rated[k]
        s = clip_round(raw, lo, hi)
        score_c[k] = s
        clean = clip_round(raw - e_acc * error_weight, lo, hi)
        clean_c[k] = clean if e_acc != 0.0 else s
    # Group counts and sums in registers; the histogram is the only scatter.
    n1 = np.int64(0)
    sum_all = np.int64(0)
    sum1 = np.int64(0)
    for k in range(m):
        s = np.int64(score_c[k])
        g = np.int64(grp[k])
        hist[s - lo] += 1
        n1 += g
        sum_all += s
        sum1 += s * g
    group_hist[0, 0] += m - n1
    group_hist[0, 1] += sum_all - sum1
    group_hist[1, 0] += n1
    group_hist[1, 1] += sum1


@njit(cache=True, nogil=True)
def step_citizens(
    first: int,
    last: int,
    today,
    nation,
    state,
    streams,
    rules,
    scale,
    errors,
    outcomes,
    watch,
    tallies,
    fixed,
) -> None:
    """Advance every citizen by one day: events, rules, score.

    ``state.acc`` is accumulator-major, ``[accumulator, citizen]``; rule ``r``
    adds to accumulator ``rules.slot[r]`` today; accumulator ``q`` counts in
    the public score with weight ``rules.weight[q]`` and is emptied on a day
    its citizen's event ``rules.clear[q]`` happens (see
    :mod:`socialscore.simulation.layout`). Erroneous records are kept apart:
    ``state.err_acc`` holds their decayed number, and each counts
    ``errors.weight`` points in the public score.

    ``tallies.expected[c, e, g]`` receives chunk ``c``'s sums over group
    ``g`` of the day's probabilities of event ``e``, as chances in 2**31
    (quantities and units as :func:`socialscore.simulation.kernels.passes.probability_sums`):
    the expected number of events, the number expected without the chilling
    factor, and the sum of squared probabilities (the count's variance is
    Σp − Σp²). The derived
    event ``interaction_low_scorer`` sums the interaction's probabilities of
    the citizens whose friend drawn today is low-ranked. Streams drawn by
    thinning never compute every citizen's threshold: their sums are the fixed
    part of the thresholds (``fixed.sums[c, a, g]``, computed on the chunk's
    first day, when ``fixed.ready[c]`` is 0) plus
    what the stress, chilling and gaming multipliers change for the citizens
    they apply to (:func:`_varying_rate_sums`). The interaction is drawn in
    full passes.

    The outcomes of approved loans due today (``outcomes.enabled``) are drawn
    after the streams and before the rules
    (:func:`socialscore.simulation.kernels.outcomes.draw_outcomes`): the
    day's repayments and defaults are rated like the other events.

    Under monitoring (``watch.enabled``), the events of the monitored kinds
    that no patrol observed are then removed from the day's events and the
    event tallies, before the rules
    (:func:`socialscore.simulation.kernels.monitoring.filter_unobserved`);
    ``watch.incidents`` and ``watch.detections`` count the true and the
    observed ones per unit.

    Runs chunks ``first`` to ``last - 1``; :func:`socialscore.simulation.chunks.over_chunks`
    shares the chunks out over threads. The bundles are named tuples, each made
    in one place (classes in :mod:`socialscore.simulation.engine`, ``compiled``
    and ``state``, named below).

    Args:
        first: The first chunk to run.
        last: One past the last chunk to run.
        today: The day's inputs (``engine.Day``): seed, day, whether all are rated,
            the low-ranked bits.
        nation: The nation's fixed arrays (``engine.NationArrays``): group, traits,
            the regions the friend lists are drawn in.
        state: The run's state (``state.State``): accumulators, scores, erroneous
            records, the friend lists and pending loan outcomes are read;
            accumulators, scores, erroneous records and pending outcomes change.
        streams: The citizen event streams (``compiled.Streams``).
        rules: The rulebook as applied today (``compiled.CitizenRules``).
        scale: The score's base and range (``compiled.ScoreScale``).
        errors: Erroneous records: daily rate, decay, weight (``compiled.DataErrors``).
        outcomes: What follows an approved loan (``compiled.Outcomes``).
        watch: Today's monitoring (``engine.Watch``): the monitored events, the
            patrolled units, the per-chunk incidents and detections, zeroed here.
        tallies: The day's counts per chunk (``engine.CitizenTallies``), zeroed here.
        fixed: The fixed parts of the streams' threshold sums (``engine.FixedSums``),
            made on a chunk's first day.
    """
    # Plain local names for what the loops below read, taken out of the bundles once.
    seed, day, all_rated, low_ranked = today.seed, today.day, today.all_rated, today.low_ranked
    group, traits = nation.group, nation.traits
    region_start, friends_local = nation.region_start, nation.friends_local
    friends, acc, participant = state.friend_codes, state.acc, state.participant
    score, score_clean, err_acc, net = state.score, state.score_clean, state.err_acc, state.net
    offset = state.offset
    stress, aware, aware_offset = state.stress, state.aware, state.aware_offset
    chill, gaming = state.chill, state.gaming
    outcome_on, outcome_score = state.outcome_approved_on, state.outcome_score
    s_event, s_rate, s_spread, s_trait = streams.event, streams.rate, streams.spread, streams.trait
    s_trait_table, s_group_mult = streams.trait_table, streams.group_mult
    s_stress = streams.stress_sens
    s_chill_index, chill_values = streams.chill_index, streams.chill_values
    s_gaming_index, gaming_values = streams.gaming_index, streams.gaming_values
    r_event, r_points, r_slot = rules.event, rules.points, rules.slot
    q_decay, q_cap, q_weight, q_clear = rules.decay, rules.cap, rules.weight, rules.clear
    base, lo, hi = scale.base, scale.lo, scale.hi
    error_rate, error_decay, error_weight = errors.rate, errors.decay, errors.weight
    hist, group_hist, expected = tallies.hist, tallies.group_hist, tallies.expected
    event_counts, error_counts = tallies.events, tallies.errors
    static_ready, static_sums = fixed.ready, fixed.sums
    n = group.shape[0]
    n_streams = s_event.shape[0]
    n_rules = r_event.shape[0]
    n_friends = friends.shape[0]
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    today_key = rng.day_key(seed, day)
    scale31 = 2147483648.0
    # Chunk positions of the citizens whose multipliers vary, by the flags a stream needs.
    varying = np.empty((8, CHUNK), dtype=np.uint16)
    varying_count = np.full(8, -1, dtype=np.int64)
    ones = np.ones(CHUNK, dtype=np.float64)
    for c in range(first, last):
        hist[c, :] = 0
        group_hist[c, :, :] = 0
        event_counts[c, :, :] = 0
        error_counts[c, :] = 0
        expected[c, :, :, :] = 0
        first_day = static_ready[c] == 0
        start = c * CHUNK
        m = min(start + CHUNK, n) - start
        # Exposures are stored for aware citizens only, in citizen order.
        first_aware, last_aware = aware_offset[c], aware_offset[c + 1]
        # Chunk views indexed from 0: the compiler can prove the indices are
        # non-negative and turn the loops below into vector code.
        grp = group[start : start + m]
        stress_c = stress[start : start + m]
        mask = np.zeros(m, dtype=np.uint32)
        bits = np.empty((m + 63) >> 6, dtype=np.uint64)
        listed = np.empty(m, dtype=np.uint64)
        pair_hash = np.empty(m, dtype=np.uint64)
        static_hash = np.empty(m, dtype=np.uint64)
        errors = np.zeros(m, dtype=np.uint8)
        total = np.zeros(m, dtype=np.float64)
        thr = np.empty(m, dtype=np.float64)
        unchilled = np.empty(m, dtype=np.float64)
        met_low = np.zeros(m, dtype=np.uint8)
        rated = np.empty(m, dtype=np.float64)
        for k in range(m):
            rated[k] = 1.0 if all_rated or participant[start + k] != 0 else 0.0
        # Feedback multipliers, one exp per distinct coefficient and citizen. Only
        # aware citizens have exposures; they are stored in citizen order, compactly.
        chill_mult = np.ones((chill_values.shape[0], m), dtype=np.float64)
        gaming_mult = np.ones((gaming_values.shape[0], m), dtype=np.float64)
        gaming_max = np.ones(gaming_values.shape[0], dtype=np.float64)
        if chill_values.shape[0] > 0 or gaming_values.shape[0] > 0:
            _feedback_multipliers(
                chill_mult,
                gaming_mult,
                start,
                aware[first_aware:last_aware],
                chill[first_aware:last_aware],
                gaming[first_aware:last_aware],
                chill_values,
                gaming_values,
                gaming_max,
            )
        stress_max = passes.largest(stress_c, 0.0)
        # Citizens whose multipliers differ from 1 today, listed once per kind of stream.
        varying_count[:] = -1
        pair = -1
        block = -1
        for a in range(n_streams):
            e = s_event[a]
            if e >> 1 != pair:
                pair = e >> 1
                passes.fill_hashes(pair_hash, today_key, start, rng.stream(rng.EVENT, pair))
            spread = s_spread[a]
            if spread > 0.0 and e >> 3 != block:
                block = e >> 3
                passes.fill_hashes(
                    static_hash, static_key, start, rng.stream(rng.HETEROGENEITY, block)
                )
            shift = np.uint64(32 * (e & 1) + 1)
            byte_shift = np.uint64(8 * (e & 7))
            thr0 = s_rate[a] * s_group_mult[a, 0] * scale31
            thr1 = s_rate[a] * s_group_mult[a, 1] * scale31
            t = s_trait[a]
            ss = s_stress[a]
            lo_mult = 1.0 - spread + spread / 256.0
            step = spread * (2.0 / 256.0)
            ci = s_chill_index[a]
            gi = s_gaming_index[a]
            # An upper bound of every threshold in the chunk (chilling only lowers them).
            bound = max(thr0, thr1)
            if spread > 0.0:
                bound *= lo_mult + step * 255.0
            if t >= 0:
                bound *= s_trait_table[a].max()
            if ss > 0.0:
                bound *= 1.0 + ss * stress_max
            if gi >= 0:
                bound *= gaming_max[gi]
            bound *= 1.0 + 1e-9
            if first_day:
                # The fixed part of every threshold, for the sums of thinned streams.
                _fixed_thresholds(
                    thr, grp, static_hash, byte_shift, thr0, thr1, lo_mult, step, spread,
                    traits[max(t, 0), start : start + m], s_trait_table[a], t >= 0,
                )  # fmt: skip
                passes.probability_sums(thr, thr, grp, False, static_sums[c, a])
            # The interaction's derived event needs every citizen's probability.
            full = e == EV_INTERACTION and n_friends > 0
            free = thr
            if bound < SPARSE_BELOW * scale31 and not full:
                # Thinning: only citizens whose draw falls under the bound need their exact
                # threshold, computed in the same order as below, so decisions are identical.
                n_all, n_minority = _draw_thinned(
                    bits,
                    listed,
                    thr,
                    mask,
                    pair_hash,
                    shift,
                    bound,
                    grp,
                    thr0,
                    thr1,
                    static_hash,
                    byte_shift,
                    spread,
                    lo_mult,
                    step,
                    traits[max(t, 0), start : start + m],
                    s_trait_table[a],
                    t >= 0,
                    stress_c,
                    ss,
                    chill_mult[ci] if ci >= 0 else thr,
                    ci >= 0,
                    gaming_mult[gi] if gi >= 0 else thr,
                    gi >= 0,
                    e,
                )
                event_counts[c, e, 0] += n_all - n_minority
                event_counts[c, e, 1] += n_minority
                # No threshold is above the draw's range here (bound < SPARSE_BELOW).
                expected[c, e] += static_sums[c, a]
                want = (
                    (VARIES_STRESS if ss > 0.0 else 0)
                    | (VARIES_CHILL if ci >= 0 else 0)
                    | (VARIES_GAMING if gi >= 0 else 0)
                )
                if want != 0:
                    if varying_count[want] < 0:
                        varying_count[want] = _list_varying(
                            varying[want],
                            bits,
                            want,
                            stress_c,
                            start,
                            aware[first_aware:last_aware],
                            chill[first_aware:last_aware],
                            gaming[first_aware:last_aware],
                        )
                    _varying_rate_sums(
                        expected[c, e],
                        varying[want, : varying_count[want]],
                        grp,
                        thr0,
                        thr1,
                        static_hash,
                        byte_shift,
                        lo_mult,
                        step,
                        traits[max(t, 0), start : start + m],
                        s_trait_table[a],
                        stress_c,
                        ss,
                        chill_mult[ci] if ci >= 0 else ones[:m],
                        gaming_mult[gi] if gi >= 0 else ones[:m],
                    )
            else:
                # One simple pass per factor, so that each loop compiles to SIMD code.
                _fixed_thresholds(
                    thr, grp, static_hash, byte_shift, thr0, thr1, lo_mult, step, spread,
                    traits[max(t, 0), start : start + m], s_trait_table[a], t >= 0,
                )  # fmt: skip
                if ss > 0.0:
                    passes.scale_by_stress(thr, stress_c, ss)
                if ci >= 0:
                    # The same thresholds without the chilling factor kept, for the tallies.
                    passes.scale_keeping(thr, unchilled, chill_mult[ci])
                    free = unchilled
                if gi >= 0:
                    passes.scale(thr, gaming_mult[gi])
                    if ci >= 0:
                        passes.scale(unchilled, gaming_mult[gi])
                n_all, n_minority = passes.draw(mask, pair_hash, thr, grp, shift, e)
                event_counts[c, e, 0] += n_all - n_minority
                event_counts[c, e, 1] += n_minority
                if not full:
                    passes.probability_sums(thr, free, grp, ci >= 0, expected[c, e])
            if e == EV_INTERACTION and n_friends > 0:
                n_all, n_minority = _interactions_with_low_ranked(
                    today_key,
                    static_key,
                    start,
                    mask,
                    grp,
                    friends[:, start : start + m],
                    region_start,
                    friends_local,
                    low_ranked,
                    met_low,
                )
                event_counts[c, EV_INTERACTION_LOW, 0] += n_all - n_minority
                event_counts[c, EV_INTERACTION_LOW, 1] += n_minority
                # Drawn in full passes: thr and free hold every citizen's thresholds.
                passes.probability_sums_and_part(
                    thr, free, grp, met_low, expected[c, e], expected[c, EV_INTERACTION_LOW]
                )
        static_ready[c] = 1
        if outcomes.enabled:
            draw_outcomes(
                mask,
                outcome_on[start : start + m],
                outcome_score[start : start + m],
                grp,
                start,
                seed,
                day,
                outcomes,
                event_counts[c],
                expected[c],
            )
        if watch.enabled:
            watch.incidents[c, :] = 0
            watch.detections[c, :] = 0
            filter_unobserved(
                mask,
                grp,
                start,
                region_start,
                watch,
                seed,
                day,
                event_counts[c],
                watch.incidents[c],
                watch.detections[c],
            )
        if error_rate > 0.0:
            passes.fill_hashes(pair_hash, today_key, start, rng.stream(rng.DATA_ERROR))
            n_all, n_minority = _data_errors(errors, pair_hash, rated, grp, error_rate)
            error_counts[c, 0] += n_all - n_minority
            error_counts[c, 1] += n_minority
        for q in range(q_decay.shape[0]):
            thr[:] = 0.0
            for r in range(n_rules):
                if r_slot[r] != q or r_points[r] == 0.0:
                    continue
                passes.add_points(thr, mask, rated, r_event[r], r_points[r])
            d = q_decay[q]
            cap = q_cap[q]
            wq = q_weight[q]
            row = acc[q, start : start + m]
            # Accumulators of unrated citizens only decay, so the cap never binds for them.
            if q_clear[q] >= 0:
                passes.decay_or_clear(row, thr, total, d, cap, wq, mask, q_clear[q])
            else:
                passes.decay(row, thr, total, d, cap, wq)
        _score(
            score[start : start + m],
            score_clean[start : start + m],
            err_acc[start : start + m],
            net[start : start + m],
            offset[start : start + m],
            total,
            errors,
            rated,
            grp,
            base,
            lo,
            hi,
            scale.saturating,
            error_decay,
            error_weight,
            hist[c],
            group_hist[c],
        )
