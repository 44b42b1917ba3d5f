"""Stage 1: the scenario, a versioned data file describing a regime.

- ``vocabulary``: the names of events, gates, traits, groups and data domains.
- ``schema``: the scenario's keys, types, bounds and meaning (pydantic models),
  reading files (``load``, ``parse``, ``extends``) and the error messages.
- ``window``: the measurement window a scenario's run is measured over.
- ``to_toml``: a resolved scenario written back as TOML.
"""
