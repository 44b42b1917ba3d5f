"""The studies' defaults and limits a user sees in ``socialscore --help``.

They live apart from the modules that use them (which load pandas, numba and
DuckDB) so that the command line can show them without loading those.
"""

from __future__ import annotations

from typing import Final

#: Seeds per scenario of a comparison unless told otherwise: five give a t interval whose
#: half-width is about 1.24 standard deviations of a per-seed value (two would give 9.0,
#: three 2.5).
DEFAULT_SEEDS: Final = 5

#: Most runs (points x seeds) a sweep may have unless ``[sweep] max_runs`` or
#: ``force`` says otherwise. Measured on the Citizen Score (2 shared cores): the
#: runs of 10,000 points are listed in about 20 s and 100 MB before the first
#: run starts, those of 100,000 points in 160 s and 1 GB (each point is a copy
#: of the scenario). 10,000 runs at 1-2 s each are hours of computing on a
#: small machine already; more is almost always a typo in a range's step or a
#: Sobol sample count, and a file that means it says so with ``max_runs``.
MAX_RUNS: Final = 10_000
