"""socialscore: a laboratory for social scoring systems.

It generates a synthetic nation, runs a citizen-scoring regime on it day by
day, and measures what the regime does to people. Every person in it is
synthetic: socialscore never ingests real personal data.
"""

from socialscore.scenario import LoadedScenario, Scenario, ScenarioError, load, parse
from socialscore.store.catalogue import RunStore
from socialscore.studies.run import Result, audit_regime, run

__all__ = [
    "LoadedScenario",
    "Result",
    "RunStore",
    "Scenario",
    "ScenarioError",
    "audit_regime",
    "load",
    "parse",
    "run",
]
