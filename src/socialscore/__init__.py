"""socialscore: a laboratory for social scoring systems.

It generates a synthetic nation, runs a citizen-scoring regime on it day by
day, and measures what the regime does to people. Every person in it is
synthetic: socialscore never ingests real personal data.
"""

from socialscore.api import Result, audit_regime, run
from socialscore.scenario import LoadedScenario, Scenario, ScenarioError, load, parse
from socialscore.store import RunStore

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
