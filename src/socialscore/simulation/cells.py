"""Subgroups of citizens: the attributes gate decisions are tallied by.

Each citizen gate decision is counted in the **cell** of the citizen's
attributes at the time of the decision: group, income decile, age band,
school-age children, whether the citizen is rated, and whether it is aware of
the score. The cells are every combination of them (1,920), so the decisions
of any subgroup of one attribute, or of the intersection of two, are a sum of
cells (:mod:`socialscore.analysis.groups`). Region, which has too many values
to combine, is tallied by itself with the group. This registry is the one
place the attributes, their codes and their words are declared: the gate
kernel numbers cells from it, the recorder names the table's columns from it
and the analysis labels subgroups from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ATTRIBUTES",
    "CELLS",
    "CELL_TALLIES",
    "CHILDREN_CAP",
    "DISPUTE_CELL_TALLIES",
    "MAX_REGIONS",
    "Attribute",
    "attribute",
    "cell_codes",
    "static_cells",
]


@dataclass(frozen=True)
class Attribute:
    """A citizen attribute decisions are tallied by: its column, its words, its categories."""

    name: str  # the column of the ``citizens`` and ``gate_cells`` tables
    words: str  # for a reader: "income decile"
    labels: tuple[str, ...]  # category k's words; codes are 0 .. len(labels) - 1

    @property
    def size(self) -> int:
        """The number of categories."""
        return len(self.labels)


#: Children from this many on share a category ("3 or more").
CHILDREN_CAP: Final = 3

#: The attributes of a cell, in the order of its number (the last varies fastest).
ATTRIBUTES: Final[tuple[Attribute, ...]] = (
    Attribute("group", "group", ("majority", "minority")),
    Attribute(
        "income_decile",
        "income decile",
        ("decile 1 (poorest)", *(f"decile {k}" for k in range(2, 10)), "decile 10 (richest)"),
    ),
    Attribute("age_band", "age", ("18–29", "30–39", "40–49", "50–59", "60–69", "70 and over")),
    Attribute(
        "children", "school-age children", ("no children", "1 child", "2 children", "3 or more")
    ),
    Attribute("participant", "rated by the regime", ("not rated", "rated")),
    Attribute("aware", "aware of the score", ("unaware", "aware")),
)

#: The number of cells: every combination of the attributes' categories.
CELLS: Final = int(np.prod([a.size for a in ATTRIBUTES]))

#: What is counted per cell, in the order of the gate tallies ``kernels.gates.T_*`` 0-3.
CELL_TALLIES: Final = ("applied", "selected", "erroneous", "overturned")
#: The tallies of a cell's disputes of erroneous records, in the order of the dispute
#: kernel's bits (``kernels.disputes.D_FILED``, ``D_UPHELD``, ``D_REJECTED``).
DISPUTE_CELL_TALLIES: Final = ("filed", "upheld", "rejected")

#: Regions beyond this many are not tallied by region (the table ``gate_regions`` is left
#: out): a region tally costs 7 gates × 2 groups × 16 replicates × 4 counts per region.
MAX_REGIONS: Final = 1_000

#: Errors, as named constants.
ERR_ATTRIBUTE: Final = "no citizen attribute '{name}'; known: {known}"


def attribute(name: str) -> Attribute:
    """The attribute of that name, or a ValueError naming the known ones."""
    for a in ATTRIBUTES:
        if a.name == name:
            return a
    raise ValueError(ERR_ATTRIBUTE.format(name=name, known=", ".join(a.name for a in ATTRIBUTES)))


def static_cells(
    group: npt.NDArray[np.integer],
    income_decile: npt.NDArray[np.integer],
    age_band: npt.NDArray[np.integer],
    children: npt.NDArray[np.integer],
) -> npt.NDArray[np.uint16]:
    """Each citizen's cell number without the two changing attributes (rated, aware).

    The full cell is ``static · 4 + rated · 2 + aware`` (:func:`cell_codes`
    reads it back).
    """
    kids = np.minimum(children, CHILDREN_CAP).astype(np.int64)
    cell = group.astype(np.int64)
    for codes, a in (
        (income_decile, ATTRIBUTES[1]),
        (age_band, ATTRIBUTES[2]),
        (kids, ATTRIBUTES[3]),
    ):
        cell = cell * a.size + np.asarray(codes, dtype=np.int64)
    return cell.astype(np.uint16)


def cell_codes(cell: npt.NDArray[np.integer]) -> dict[str, npt.NDArray[np.uint8]]:
    """Each attribute's code of each cell number, by attribute name."""
    rest = np.asarray(cell, dtype=np.int64)
    out: dict[str, npt.NDArray[np.uint8]] = {}
    for a in reversed(ATTRIBUTES):
        out[a.name] = (rest % a.size).astype(np.uint8)
        rest = rest // a.size
    return {a.name: out[a.name] for a in ATTRIBUTES}
