"""The histogram a lending policy chooses its thresholds from (simulation.policies).

Per group, the citizens who may apply to a gate today at each score of the
gate's view: the scores the gate kernel will read, so a policy's target
rates hold for the day's applicants in expectation (applicants are drawn at
a rate that does not depend on the score).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialscore.simulation.kernels.gates import Applicant, Record, view_scores


@njit(cache=True)
def view_histogram(
    gate: int, groups: int, eligible_all: bool, group, state, views, scale, all_rated: bool
) -> np.ndarray:
    """Citizens per group and score of gate ``gate``'s view, int64 [groups, hi - lo + 1].

    Counts every citizen when ``eligible_all`` (the mortgage gate's
    ``reapply``), else only those without a mortgage. ``group``: uint8 [N];
    ``state``: ``state.State``; ``views``, ``scale``: as the gate kernel gets them.
    """
    lo = scale.lo
    hist = np.zeros((groups, scale.hi - lo + 1), dtype=np.int64)
    v = views.gate_view[gate]
    score, clean, participant = state.score, state.score_clean, state.participant
    has_mortgage = state.has_mortgage
    record = Record(state.acc, state.net, state.err_acc, state.offset)
    for i in range(group.shape[0]):
        if not eligible_all and has_mortgage[i] != 0:
            continue
        x = int(score[i])
        if v != 0:
            rated = 1.0 if all_rated or participant[i] != 0 else 0.0
            who = Applicant(0, 0, i, x, int(clean[i]), rated, int(group[i]))
            x = view_scores(v, who, record, views, scale)[0]
        hist[group[i], x - lo] += 1
    return hist
