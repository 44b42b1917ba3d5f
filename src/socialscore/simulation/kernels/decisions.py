"""The day's gate decisions and disputes, tallied by the attributes of the citizens.

The gate kernel leaves each citizen a word of the day's decisions
(:data:`socialscore.simulation.kernels.gates.DECISION_BITS` bits per gate);
:func:`tally_cells` adds them, over the measurement window, to the cell of
the citizen's attributes (:mod:`socialscore.simulation.cells`) and to its
region and group, per replicate of citizens. One pass over the citizens,
sequential: the counts are integers, so the result is the same whatever the
thread count, and the pass only reads 4 bytes a citizen where nobody was
decided about.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from socialscore.simulation.kernels.gates import DECISION_BITS, REPLICATES


@njit(cache=True)
def tally_cells(
    decided: np.ndarray,
    disputed: np.ndarray,
    cell_base: np.ndarray,
    participant: np.ndarray,
    all_rated: bool,
    group: np.ndarray,
    region_start: np.ndarray,
    cells: np.ndarray,
    regions: np.ndarray,
    dispute_cells: np.ndarray,
    dispute_regions: np.ndarray,
) -> None:
    """Add the day's decisions to ``cells`` and ``regions``, its disputes to ``dispute_*``.

    Args:
        decided: uint32 [N], each citizen's decisions of the day.
        disputed: uint8 [N], each citizen's disputes of the day (bit ``D_*`` of
            :mod:`socialscore.simulation.kernels.disputes`), or empty: no disputes.
        cell_base: uint16 [N], each citizen's cell when not rated
            (:func:`socialscore.simulation.cells.static_cells`, with awareness);
            a rated citizen's cell is ``cell_base + 2``.
        participant: uint8 [N], 1 for citizens who opted in (empty: everyone).
        all_rated: participation is mandatory today.
        group: uint8 [N], each citizen's group.
        region_start: int64 [R + 1], the first citizen of each region.
        cells: int64 [gate, cell, replicate, tally], added to.
        regions: int64 [gate, region, group, replicate, tally], added to
            (a region axis of length 0: not tallied).
        dispute_cells: int64 [cell, replicate, dispute tally], added to.
        dispute_regions: int64 [region, group, replicate, dispute tally], added to
            (a region axis of length 0: not tallied).
    """
    n = decided.shape[0]
    gates = cells.shape[0]
    tallies = cells.shape[3]
    by_region = regions.shape[1] > 0
    with_disputes = disputed.shape[0] > 0
    everyone = all_rated or participant.shape[0] == 0
    mask = (1 << DECISION_BITS) - 1
    region = 0
    for i in range(n):
        word = decided[i]
        filed = disputed[i] if with_disputes else np.uint8(0)
        if word == 0 and filed == 0:
            continue
        while region_start[region + 1] <= i:
            region += 1
        rated = 1 if everyone or participant[i] != 0 else 0
        cell = int(cell_base[i]) + 2 * rated
        rep = i % REPLICATES
        g = group[i]
        for gate in range(gates):
            bits = (word >> np.uint32(gate * DECISION_BITS)) & np.uint32(mask)
            if bits == 0:
                continue
            for t in range(tallies):
                if (bits >> np.uint32(t)) & np.uint32(1):
                    cells[gate, cell, rep, t] += 1
                    if by_region:
                        regions[gate, region, g, rep, t] += 1
        if filed != 0:
            for t in range(dispute_cells.shape[2]):
                if (filed >> np.uint8(t)) & np.uint8(1):
                    dispute_cells[cell, rep, t] += 1
                    if by_region:
                        dispute_regions[region, g, rep, t] += 1
