"""Stage 4: runs on disk: run folders, the catalogue, and queries on it.

- ``catalogue``: the run store (folders written complete or not at all, the
  DuckDB catalogue of runs, comparisons and sweeps).
- ``query``: read-only SQL on a snapshot of the catalogue.
- ``listing``: choosing runs from the catalogue's list (scenario, tag, date,
  sweep, age) for ``socialscore runs`` and ``socialscore rm``.
- ``defaults``: the store root (``SOCIALSCORE_RUNS``) and the row limits a user
  gets without asking.
"""
