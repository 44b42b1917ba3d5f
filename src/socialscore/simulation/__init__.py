"""Stage 2: a synthetic nation and the day loop of a scoring regime on it.

- ``nation``: citizens, companies, families and friendships, generated from
  the scenario and its seed.
- ``rng``: counter-based random numbers and the registry of their purposes.
- ``compiled``: the scenario compiled to arrays once, before the day loop;
  ``layout``: which accumulators make which score.
- ``state``: the run's state, one dataclass of arrays.
- ``engine``: the day loop, calling the numba kernels in ``kernels/``.
- ``policies``: a lender's per-group thresholds, chosen from a histogram of
  scores (``gates.mortgage.policy``).
- ``recorder``: the daily tallies and the end-of-run tables.
- ``cells``: the citizen attributes the window's gate decisions are tallied by.
- ``trace``: a few citizens' days, kept for their decision trails.
- ``chunks``: ranges of citizens shared out over threads.
"""
