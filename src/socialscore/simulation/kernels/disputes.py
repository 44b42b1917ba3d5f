"""The dispute process for erroneous records.

A citizen holding points from erroneous records files a dispute with a daily
probability; the dispute is settled a fixed number of days later and, with a
probability, the erroneous points are removed from the record. Only
citizens with erroneous points dispute (true records are not contested in
the model), so the process never removes a true record.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialscore.simulation import rng
from socialscore.simulation.kernels.behaviour import CHUNK

#: Columns of the per-group dispute tallies.
D_FILED, D_UPHELD, D_REJECTED = range(3)
DISPUTE_TALLIES = 3


@njit(cache=True, nogil=True)
def step_disputes(
    first: int,
    last: int,
    seed: int,
    day: int,
    group: np.ndarray,
    err_acc: np.ndarray,
    filed_on: np.ndarray,
    file_rate: float,
    delay: int,
    success: float,
    counts: np.ndarray,
    disputed: np.ndarray,
) -> None:
    """File and settle the day's disputes; ``filed_on[i]`` is −1 when none is open.

    ``disputed[i]`` is set to the citizen's disputes of the day: bit ``D_*``
    set for a dispute filed, upheld or rejected (the recorder tallies them by
    the citizen's attributes).

    Runs chunks ``first`` to ``last - 1``; :func:`socialscore.simulation.chunks.over_chunks`
    shares the chunks out over threads.
    """
    n = group.shape[0]
    filed_key = rng.stream(rng.DISPUTE_FILED)
    upheld_key = rng.stream(rng.DISPUTE_UPHELD)
    for c in range(first, last):
        counts[c, :, :] = 0
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            disputed[i] = 0
            f = filed_on[i]
            if f >= 0:
                if day - f >= delay:
                    filed_on[i] = -1
                    if rng.uniform(seed, day, i, upheld_key) < success:
                        err_acc[i] = 0.0
                        counts[c, group[i], D_UPHELD] += 1
                        disputed[i] = 1 << D_UPHELD
                    else:
                        counts[c, group[i], D_REJECTED] += 1
                        disputed[i] = 1 << D_REJECTED
            elif err_acc[i] != 0.0 and rng.uniform(seed, day, i, filed_key) < file_rate:
                filed_on[i] = day
                counts[c, group[i], D_FILED] += 1
                disputed[i] = 1 << D_FILED
