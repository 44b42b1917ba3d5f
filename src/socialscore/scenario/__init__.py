"""Stage 1: the scenario, a versioned data file describing a regime.

- ``vocabulary``: the names of events, gates, traits, groups and data domains.
- ``schema``: the scenario's keys, types, bounds and meaning (pydantic models),
  with the limits every number is checked against.
- ``errors``: :class:`ScenarioError` and the lines a validation or TOML error
  becomes (file, key path, what is wrong, what is allowed).
- ``files``: finding and reading scenario files (``load``, ``parse``,
  ``extends``, the shipped scenarios by name) and their hash.
- ``shipped/``: the shipped scenarios, package data (``socialscore scenarios``).
- ``window``: the measurement window a scenario's run is measured over.
- ``to_toml``: a resolved scenario written back as TOML.
- ``caveats``: what a run of a scenario is too small or too short to show.
- ``lint``: what a valid scenario file probably does not mean (validate's warnings).
- ``reference``: the key reference and JSON Schema, generated from the schema.

The names most callers need are here: ``from socialscore import scenario``.
"""

from socialscore.scenario.errors import ScenarioError
from socialscore.scenario.files import (
    LoadedScenario,
    digest,
    load,
    parse,
    resolve,
    shipped_scenarios,
)
from socialscore.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Scenario",
    "ScenarioError",
    "digest",
    "load",
    "parse",
    "resolve",
    "shipped_scenarios",
]
