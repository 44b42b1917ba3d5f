"""Consequences: each gate is a decision taken when its occasion arises.

Citizen gates, in daily order: mortgage, job hiring, job retention, school
admission (once a year), dating, official documents, travel. Each reads the
citizen's current score (dating reads both partners' public percentiles) and
compares it with the gate's threshold. A denial that would have been an
approval without the citizen's erroneous records is counted as caused by
data errors. Feedback from the day's decisions (stress, chilling, gaming) is
applied in the same kernel, in passes of its own after the decisions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, GATE_BY_NAME, TRAITS
from socialscore.simulation import rng
from socialscore.simulation.kernels import passes
from socialscore.simulation.kernels.behaviour import CHUNK
from socialscore.simulation.kernels.feedback import chill_increment, gaming_update
from socialscore.simulation.kernels.score import clip_round

#: Row of each citizen gate in the gate table and the tallies (its place in the registry).
G_MORTGAGE = CITIZEN_GATES.index("mortgage")
G_HIRING = CITIZEN_GATES.index("job_hiring")
G_RETENTION = CITIZEN_GATES.index("job_retention")
G_SCHOOL = CITIZEN_GATES.index("school")
G_DATING = CITIZEN_GATES.index("dating")
G_DOCUMENTS = CITIZEN_GATES.index("documents")
G_TRAVEL = CITIZEN_GATES.index("travel")
#: Columns of the gate parameter table; what P_EXTRA1 and P_EXTRA2 hold is declared per
#: gate (``Gate.extra`` in socialscore.scenario.vocabulary).
P_ENABLED, P_RATE, P_THRESHOLD, P_STRESS, P_EXTRA1, P_EXTRA2, P_REVIEW, P_ACCURACY, P_REASONS = (
    range(9)
)
#: What the two gate-specific columns hold at each gate (``Gate.extra`` in the vocabulary):
#: may a mortgage holder apply again, the daily chance of leaving a job for other reasons,
#: the day of the year of school admissions, the lowest partner percentile and the widest
#: percentile gap a dating match accepts.
P_REAPPLY = P_SEPARATION = P_ADMISSION_DAY = P_MIN_PARTNER = P_EXTRA1
P_MAX_GAP = P_EXTRA2
#: The threshold each group's applicants meet (column ``P_GROUP_THRESHOLD + group``) and the
#: chance of approval at exactly that score (``P_MARGIN + group``): a score above the
#: threshold passes, one at it passes with that chance. :func:`gate_table` fills them with
#: ``P_THRESHOLD`` and 1 (a plain ``score >= threshold``); a lending policy
#: (``socialscore.simulation.policies``) overwrites the mortgage gate's each period.
P_GROUP_THRESHOLD, P_MARGIN = 9, 11
#: Columns of the gate table (two groups: majority, minority).
P_COLUMNS = 13
#: Columns of the per-gate tallies: applications, approvals, denials caused by
#: erroneous records, denials overturned by human review, adverse decisions
#: whose reasons hold nothing from the person's own record.
T_APPLIED, T_SELECTED, T_ERRONEOUS, T_OVERTURNED, T_UNEXPLAINED = range(5)
TALLIES = 5
#: Gate tallies are kept per replicate of citizens (citizen id modulo this) inside each group,
#: so that intervals can allow for repeated decisions about the same person (a citizen's
#: decisions all fall in one replicate): the tally arrays' group axis holds
#: ``group + groups * replicate``.
REPLICATES = 16
#: Columns of the per-group state tallies.
S_EMPLOYED, S_MORTGAGE, S_BLACKLISTED, S_CHILLED, S_STRESS, S_CHILL = range(6)
STATES = 6

_RISK = TRAITS.index("risk_aversion")
_GAMING = TRAITS.index("gaming")


def _field(scenario: Scenario, spec: object, field: str | None) -> float:
    """A gate's parameter: a field of its own table, a dotted path from the top, or 0."""
    if field is None:
        return 0.0
    where: object = scenario if "." in field else spec
    for part in field.split("."):
        where = getattr(where, part)
    return float(where)  # type: ignore[arg-type]


def gate_table(scenario: Scenario) -> np.ndarray:
    """The citizen gates' parameters as a float64 table [gate, column], as the registry says."""
    t = np.zeros((len(CITIZEN_GATES), P_COLUMNS), dtype=np.float64)
    for k, name in enumerate(CITIZEN_GATES):
        gate = GATE_BY_NAME[name]
        spec = getattr(scenario.gates, name)

        extra = [*gate.extra, None, None][:2]
        t[k, P_ENABLED] = float(spec.enabled)
        t[k, P_RATE] = _field(scenario, spec, gate.rate)
        t[k, P_THRESHOLD] = _field(scenario, spec, gate.threshold)
        t[k, P_STRESS] = _field(scenario, spec, gate.stress)
        t[k, P_EXTRA1] = _field(scenario, spec, extra[0])
        t[k, P_EXTRA2] = _field(scenario, spec, extra[1])
        t[k, P_REVIEW] = float(spec.human_review)
        t[k, P_ACCURACY] = spec.review_accuracy
        t[k, P_REASONS] = float(spec.reasons)
        t[k, P_GROUP_THRESHOLD : P_GROUP_THRESHOLD + 2] = t[k, P_THRESHOLD]
        t[k, P_MARGIN : P_MARGIN + 2] = 1.0
    return t


class Applicant(NamedTuple):
    """A citizen with a decision due, as :func:`_gate` reads it (made in :func:`step_gates`)."""

    chunk: int  # the citizen's chunk: the tallies' first index
    slot: int  # the citizen's group within its replicate: the tallies' group index
    citizen: int
    score: int  # the public score
    clean: int  # the public score without erroneous records
    rated: float  # 1 when the citizen is rated (the network term counts), else 0
    group: int  # the citizen's group (0 majority, 1 minority): its threshold's column


class Record(NamedTuple):
    """What a score view reads of the citizens' records (arrays of ``state.State``)."""

    acc: np.ndarray  # float32 [Q, N], the rules' accumulators
    net: np.ndarray  # float32 [N], the network term
    err_acc: np.ndarray  # float32 [N], erroneous records held
    offset: np.ndarray  # float32 [N] or empty, the starting records (``state.offset``)


@njit(cache=True)
def view_scores(v: int, who, record, views, scale) -> tuple[int, int]:
    """A citizen's score and error-free score as view ``v`` sees them (view 0: the public score).

    ``who``: an :class:`Applicant`; ``record``: a :class:`Record`; ``views``:
    ``compiled.Views`` (``views.weight[v, q]`` is the points one unit of
    accumulator ``q`` counts in view ``v``, 0: not counted); ``scale``:
    ``compiled.ScoreScale``.
    """
    if v == 0:
        return who.score, who.clean
    i = who.citizen
    acc = record.acc
    raw = scale.base + record.net[i] * who.rated * views.net[v]
    if record.offset.shape[0] > 0:
        raw += record.offset[i]
    for q in range(acc.shape[0]):
        raw += acc[q, i] * views.weight[v, q]
    e = record.err_acc[i] * views.err[v]
    return clip_round(raw + e, scale.lo, scale.hi), clip_round(raw, scale.lo, scale.hi)


@njit(cache=True)
def give_reasons(tallies, gate: int, v: int, who, record, views) -> None:
    """Tally up to four reasons for an adverse decision: the biggest penalties in the view.

    Reasons are the rule groups that cost the person the most points (at least
    half a point each), the network term, or an erroneous record. A decision
    whose reasons hold nothing from the person's own record is tallied as
    unexplained. ``tallies``: ``engine.GateTallies``; ``who``, ``record``,
    ``views``: as :func:`view_scores`.
    """
    reasons = tallies.reasons
    c, i = who.chunk, who.citizen
    acc = record.acc
    n_reasons = reasons.shape[3] - 2
    contrib = np.zeros(n_reasons + 2, dtype=np.float64)
    for q in range(acc.shape[0]):
        contrib[views.reason[q]] += acc[q, i] * views.weight[v, q]
    contrib[n_reasons] = record.net[i] * who.rated * views.net[v]
    contrib[n_reasons + 1] = record.err_acc[i] * views.err[v]
    own = False
    for _ in range(4):
        best = -1
        low = -0.5
        for r in range(n_reasons + 2):
            if contrib[r] < low:
                low = contrib[r]
                best = r
        if best < 0:
            break
        reasons[c, gate, who.group, best] += 1
        contrib[best] = 0.0
        if best != n_reasons:
            own = True
    if not own:
        tallies.gates[c, gate, who.slot, T_UNEXPLAINED] += 1


@njit(cache=True, inline="always")
def _passes(x: int, threshold: float, margin: float, u: float) -> bool:
    """A score passes above the threshold, and at it when the uniform ``u`` is below ``margin``."""
    return x > threshold or (x == threshold and (margin >= 1.0 or u < margin))


#: Bits of a gate's decision in a citizen's word of the day (``engine.GateTallies.decided``):
#: the gate's ``DECISION_BITS`` bits from ``gate · DECISION_BITS`` on, bit t set when the
#: decision counted in tally ``T_*`` = t (applied, selected, erroneous, overturned).
DECISION_BITS = 4


@njit(cache=True, inline="always")
def mark(decided: np.ndarray, i: int, gate: int, t: int) -> None:
    """Set tally ``t``'s bit of gate ``gate`` in citizen ``i``'s decisions of the day."""
    decided[i] |= np.uint32(1) << np.uint32(gate * DECISION_BITS + t)


@njit(cache=True)
def _decide(
    counts: np.ndarray,
    decided: np.ndarray,
    gate: int,
    who,
    score: int,
    clean: int,
    gp: np.ndarray,
    today,
) -> int:
    """1 = approved, 0 = denied, 2 = denied and needing reasons.

    ``score`` and ``clean``: the applicant's scores in the gate's view. The
    applicant meets its group's threshold (``P_GROUP_THRESHOLD``); at exactly
    that score it passes with the chance ``P_MARGIN``, from a draw of its own
    (``rng.POLICY_MARGIN``) that the error-free score shares, made only then.
    """
    c, g, i = who.chunk, who.slot, who.citizen
    threshold = gp[gate, P_GROUP_THRESHOLD + who.group]
    margin = gp[gate, P_MARGIN + who.group]
    u = 1.0
    if margin < 1.0 and (score == threshold or clean == threshold):
        u = rng.uniform(today.seed, today.day, i, rng.stream(rng.POLICY_MARGIN, gate))
    counts[c, gate, g, T_APPLIED] += 1
    mark(decided, i, gate, T_APPLIED)
    if _passes(score, threshold, margin, u):
        counts[c, gate, g, T_SELECTED] += 1
        mark(decided, i, gate, T_SELECTED)
        return 1
    if _passes(clean, threshold, margin, u):
        # Human review catches a share of the denials caused by erroneous records.
        if (
            gp[gate, P_REVIEW] > 0
            and rng.uniform(today.seed, today.day, i, rng.stream(rng.REVIEW, gate))
            < gp[gate, P_ACCURACY]
        ):
            counts[c, gate, g, T_SELECTED] += 1
            counts[c, gate, g, T_OVERTURNED] += 1
            mark(decided, i, gate, T_SELECTED)
            mark(decided, i, gate, T_OVERTURNED)
            return 1
        counts[c, gate, g, T_ERRONEOUS] += 1
        mark(decided, i, gate, T_ERRONEOUS)
    return 2 if gp[gate, P_REASONS] > 0 else 0


@njit(cache=True, inline="always")
def dating_match(p_self: float, p_partner: float, min_percentile: float, max_gap: float) -> bool:
    """Both partners clear the minimum public percentile and are close enough in rank."""
    return (
        p_self >= min_percentile
        and p_partner >= min_percentile
        and abs(p_self - p_partner) <= max_gap
    )


@njit(cache=True)
def _gate(gate: int, who, today, record, views, scale, gp: np.ndarray, tallies) -> bool:
    """Decide one application on the score the gate reads; give reasons when due.

    ``who``: the :class:`Applicant`; the other arguments as :func:`step_gates`
    gets them, but ``record`` (a :class:`Record`). A function of its own, not
    inlined: called for the few citizens with a decision due, and compiled
    once instead of once per gate.
    """
    v = views.gate_view[gate]
    sv, cv = who.score, who.clean
    if v != 0:  # most gates read the public score: no call, no array references taken
        sv, cv = view_scores(v, who, record, views, scale)
    d = _decide(tallies.gates, tallies.decided, gate, who, sv, cv, gp, today)
    if d == 2:
        give_reasons(tallies, gate, v, who, record, views)
    return d == 1


@njit(cache=True)
def _due(
    hashes: np.ndarray, children_c: np.ndarray, gp: np.ndarray, school_day: bool
) -> np.ndarray:
    """1 for each citizen of a chunk whose draws make some decision possible today.

    A superset of the citizens who apply, leave a job or are reviewed: each
    draw is compared with the largest rate it serves, whatever the citizen's
    state.
    """
    r_mortgage = gp[G_MORTGAGE, P_RATE] if gp[G_MORTGAGE, P_ENABLED] > 0 else 0.0
    r_travel = gp[G_TRAVEL, P_RATE] if gp[G_TRAVEL, P_ENABLED] > 0 else 0.0
    r_hiring = gp[G_HIRING, P_RATE] if gp[G_HIRING, P_ENABLED] > 0 else 0.0
    r_leave = gp[G_RETENTION, P_SEPARATION] if gp[G_RETENTION, P_ENABLED] > 0 else 0.0
    r_review = gp[G_RETENTION, P_RATE] if gp[G_RETENTION, P_ENABLED] > 0 else 0.0
    r_dating = gp[G_DATING, P_RATE] if gp[G_DATING, P_ENABLED] > 0 else 0.0
    r_documents = gp[G_DOCUMENTS, P_RATE] if gp[G_DOCUMENTS, P_ENABLED] > 0 else 0.0
    r_job = max(r_hiring, r_leave)
    m = hashes.shape[1]
    h1 = hashes[0]
    h2 = hashes[1]
    h3 = hashes[2]
    due = np.empty(m, dtype=np.uint8)
    for k in range(m):
        due[k] = np.uint8(
            (rng.half_uniform(h1[k], 0) < r_mortgage)
            | (rng.half_uniform(h1[k], 1) < r_travel)
            | (rng.half_uniform(h2[k], 0) < r_job)
            | (rng.half_uniform(h2[k], 1) < r_review)
            | (rng.half_uniform(h3[k], 0) < r_dating)
            | (rng.half_uniform(h3[k], 1) < r_documents)
            | (school_day & (children_c[k] > 0))
        )
    return due


@njit(cache=True)
def _aware_feedback(
    counts: np.ndarray,
    aware_c: np.ndarray,
    score: np.ndarray,
    group: np.ndarray,
    risk: np.ndarray,
    gaming_trait: np.ndarray,
    chill_c: np.ndarray,
    gaming_c: np.ndarray,
    chill_below: int,
    chill_weight: float,
    gaming_increment: float,
    gaming_cap: float,
) -> None:
    """Chilling and gaming exposures of a chunk's aware citizens, and their tallies.

    ``aware_c`` lists the chunk's aware citizens, ``chill_c`` and ``gaming_c``
    their exposures (only aware citizens have any).
    """
    chilled = np.zeros(2, dtype=np.int64)
    total0 = 0.0
    total1 = 0.0
    for a in range(aware_c.shape[0]):
        i = aware_c[a]
        g = np.int64(group[i])
        ch = chill_c[a] + chill_increment(True, int(score[i]), chill_below, risk[i], chill_weight)
        chill_c[a] = ch
        gaming_c[a] = gaming_update(
            gaming_c[a], True, gaming_trait[i], gaming_increment, gaming_cap
        )
        chilled[g] += np.int64(ch > 0.0)
        total1 += ch * g
        total0 += ch * (1 - g)
    for g in range(2):
        counts[g, S_CHILLED] += chilled[g]
    counts[0, S_CHILL] += total0
    counts[1, S_CHILL] += total1


@njit(cache=True)
def _state_counts(
    counts: np.ndarray,
    group_c: np.ndarray,
    employer_c: np.ndarray,
    mortgage_c: np.ndarray,
    score_c: np.ndarray,
    stress_c: np.ndarray,
    blacklist_below: int,
) -> None:
    """Per group: employed, with a mortgage, blacklisted, and the sum of stress.

    Stress is summed in eight interleaved running sums per group (citizen k
    into sum k mod 8), added up in a fixed order: the totals are the same on
    any machine, and the loop is not held up by one long chain of additions.
    """
    employed = np.zeros(2, dtype=np.int64)
    mortgaged = np.zeros(2, dtype=np.int64)
    listed = np.zeros(2, dtype=np.int64)
    n1 = np.int64(0)
    e1 = np.int64(0)
    h1 = np.int64(0)
    b1 = np.int64(0)
    e = np.int64(0)
    h = np.int64(0)
    b = np.int64(0)
    m = group_c.shape[0]
    for k in range(m):
        g = np.int64(group_c[k])
        ek = np.int64(employer_c[k] >= 0)
        hk = np.int64(mortgage_c[k])
        bk = np.int64(score_c[k] < blacklist_below)
        e += ek
        h += hk
        b += bk
        e1 += ek & g
        h1 += hk & g
        b1 += bk & g
        n1 += g
    employed[1] = e1
    employed[0] = e - e1
    mortgaged[1] = h1
    mortgaged[0] = h - h1
    listed[1] = b1
    listed[0] = b - b1
    for g in range(2):
        counts[g, S_EMPLOYED] += employed[g]
        counts[g, S_MORTGAGE] += mortgaged[g]
        counts[g, S_BLACKLISTED] += listed[g]
    lanes = np.zeros((2, 8), dtype=np.float64)
    for base in range(0, m - 7, 8):
        for j in range(8):
            x = stress_c[base + j]
            g = np.float64(group_c[base + j])
            lanes[1, j] += x * g
            lanes[0, j] += x * (1.0 - g)
    for k in range(m - m % 8, m):
        x = stress_c[k]
        g = np.float64(group_c[k])
        lanes[1, k % 8] += x * g
        lanes[0, k % 8] += x * (1.0 - g)
    for g in range(2):
        total = 0.0
        for j in range(8):
            total += lanes[g, j]
        counts[g, S_STRESS] += total


@njit(cache=True, nogil=True)
def step_gates(
    first: int, last: int, today, nation, state, views, scale, gp: np.ndarray, feedback, tallies
) -> None:
    """Take every gate decision due today and apply the day's feedback.

    Each gate reads the score of its view (:mod:`socialscore.simulation.layout`); a
    denial may be overturned by human review, and carries reasons when the
    gate gives them (tallied in ``tallies.reasons[chunk, gate, group, reason]``).

    Runs chunks ``first`` to ``last - 1``; :func:`socialscore.simulation.chunks.over_chunks`
    shares the chunks out over threads. The bundles are named tuples, each made
    in one place (classes in :mod:`socialscore.simulation.engine`, ``compiled``
    and ``state``, named below).

    Args:
        first: The first chunk to run.
        last: One past the last chunk to run.
        today: The day's inputs (``engine.Day``).
        nation: The nation's fixed arrays (``engine.NationArrays``): group, traits,
            children, the number of companies.
        state: The run's state (``state.State``): scores and the record are read;
            employers, mortgages, stress and exposures change, and a mortgage
            approval schedules its outcome when the scenario has one.
        views: The score views the gates read (``compiled.Views``).
        scale: The score's base, range and blacklist cut (``compiled.ScoreScale``).
        gp: The gate table, float64 [gate, ``P_*``] (:func:`gate_table`).
        feedback: Stress, chilling and gaming (``compiled.Feedback``).
        tallies: The day's counts per chunk (``engine.GateTallies``), zeroed here.
    """
    # Plain local names for what the loops below read, taken out of the bundles once.
    seed, day, all_rated = today.seed, today.day, today.all_rated
    group, traits, children = nation.group, nation.traits, nation.children
    score, score_clean, participant = state.score, state.score_clean, state.participant
    published, published_below = state.published, state.published_below
    employer, has_mortgage, stress = state.employer, state.has_mortgage, state.stress
    aware, aware_offset, chill, gaming = state.aware, state.aware_offset, state.chill, state.gaming
    record = Record(state.acc, state.net, state.err_acc, state.offset)
    outcome_on, outcome_score = state.outcome_approved_on, state.outcome_score
    lo = scale.lo
    counts, reasons, state_counts = tallies.gates, tallies.reasons, tallies.group_state
    n = group.shape[0]
    school_day = gp[G_SCHOOL, P_ENABLED] > 0 and (day % 365) == int(gp[G_SCHOOL, P_ADMISSION_DAY])
    today_key = rng.day_key(seed, day)
    hire_key = rng.stream(rng.GATE_CHOICE, G_HIRING)
    date_key = rng.stream(rng.GATE_CHOICE, G_DATING)
    # Gate numbers passed as plain int64, not literal constants: one compiled
    # `_gate` serves every call.
    gate_ids = np.arange(gp.shape[0])
    groups = counts.shape[2] // REPLICATES
    decided = tallies.decided
    for c in range(first, last):
        counts[c, :, :, :] = 0
        reasons[c, :, :, :] = 0
        state_counts[c, :, :] = 0.0
        start = c * CHUNK
        m = min(start + CHUNK, n) - start
        decided[start : start + m] = 0
        # Exposures are stored for aware citizens only, in citizen order.
        first_aware, last_aware = aware_offset[c], aware_offset[c + 1]
        # Three hashes give the six daily draws: (mortgage, travel), (hiring or
        # separation, review), (dating, documents); drawn in SIMD passes first.
        hashes = np.empty((rng.GATE_HASHES, m), dtype=np.uint64)
        for q in range(rng.GATE_HASHES):
            passes.fill_hashes(hashes[q], today_key, start, rng.stream(rng.GATE_DRAWS, q))
        # A vector pass finds the few citizens with a decision due today; the
        # branches below run for them only.
        due = _due(hashes, children[start : start + m], gp, school_day)
        st_c = np.empty(m, dtype=np.float64)
        stress_c = stress[start : start + m]
        for k in range(m):
            st_c[k] = stress_c[k] * feedback.stress_decay
        for k in range(m):
            if due[k] == 0:
                continue
            i = start + k
            h1 = hashes[0, k]
            h2 = hashes[1, k]
            h3 = hashes[2, k]
            g = group[i] + groups * (i % REPLICATES)  # the group within its replicate
            rated = 1.0 if all_rated or participant[i] != 0 else 0.0
            who = Applicant(c, g, i, int(score[i]), int(score_clean[i]), rated, int(group[i]))
            st = st_c[k]
            if gp[G_MORTGAGE, P_ENABLED] > 0 and (
                has_mortgage[i] == 0 or gp[G_MORTGAGE, P_REAPPLY] > 0
            ):
                if rng.half_uniform(h1, 0) < gp[G_MORTGAGE, P_RATE]:
                    if _gate(gate_ids[G_MORTGAGE], who, today, record, views, scale, gp, tallies):
                        has_mortgage[i] = 1
                        if outcome_on.shape[0] > 0 and outcome_on[i] < 0:
                            # The loan's outcome, drawn later (kernels.outcomes), at the
                            # score the gate read; one pending at a time.
                            outcome_on[i] = day
                            outcome_score[i] = view_scores(
                                views.gate_view[G_MORTGAGE], who, record, views, scale
                            )[0]
                    else:
                        st += gp[G_MORTGAGE, P_STRESS]
            if gp[G_HIRING, P_ENABLED] > 0 and employer[i] < 0:
                if rng.half_uniform(h2, 0) < gp[G_HIRING, P_RATE]:
                    if _gate(gate_ids[G_HIRING], who, today, record, views, scale, gp, tallies):
                        employer[i] = rng.uniform_below(seed, day, i, hire_key, nation.companies)
                    else:
                        st += gp[G_HIRING, P_STRESS]
            elif gp[G_RETENTION, P_ENABLED] > 0 and employer[i] >= 0:
                if rng.half_uniform(h2, 0) < gp[G_RETENTION, P_SEPARATION]:
                    employer[i] = -1
                elif rng.half_uniform(h2, 1) < gp[G_RETENTION, P_RATE]:
                    if not _gate(
                        gate_ids[G_RETENTION], who, today, record, views, scale, gp, tallies
                    ):
                        employer[i] = -1
                        st += gp[G_RETENTION, P_STRESS]
            if school_day and children[i] > 0:
                _gate(gate_ids[G_SCHOOL], who, today, record, views, scale, gp, tallies)
            if gp[G_DATING, P_ENABLED] > 0:
                if rng.half_uniform(h3, 0) < gp[G_DATING, P_RATE]:
                    j = rng.uniform_below(seed, day, i, date_key, n - 1)
                    if j >= i:
                        j += 1
                    counts[c, G_DATING, g, T_APPLIED] += 1
                    mark(decided, i, G_DATING, T_APPLIED)
                    if dating_match(
                        published_below[published[i] - lo],
                        published_below[published[j] - lo],
                        gp[G_DATING, P_MIN_PARTNER],
                        gp[G_DATING, P_MAX_GAP],
                    ):
                        counts[c, G_DATING, g, T_SELECTED] += 1
                        mark(decided, i, G_DATING, T_SELECTED)
            if gp[G_DOCUMENTS, P_ENABLED] > 0:
                if rng.half_uniform(h3, 1) < gp[G_DOCUMENTS, P_RATE]:
                    _gate(gate_ids[G_DOCUMENTS], who, today, record, views, scale, gp, tallies)
            if gp[G_TRAVEL, P_ENABLED] > 0:
                if rng.half_uniform(h1, 1) < gp[G_TRAVEL, P_RATE]:
                    _gate(gate_ids[G_TRAVEL], who, today, record, views, scale, gp, tallies)
            st_c[k] = st
        for k in range(m):
            stress_c[k] = st_c[k]
        _aware_feedback(
            state_counts[c],
            aware[first_aware:last_aware],
            score,
            group,
            traits[_RISK],
            traits[_GAMING],
            chill[first_aware:last_aware],
            gaming[first_aware:last_aware],
            feedback.chill_below,
            feedback.chill_weight,
            feedback.gaming_increment,
            feedback.gaming_cap,
        )
        _state_counts(
            state_counts[c],
            group[start : start + m],
            employer[start : start + m],
            has_mortgage[start : start + m],
            score[start : start + m],
            st_c,
            scale.blacklist_below,
        )
