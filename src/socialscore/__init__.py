"""socialscore: a laboratory for social scoring systems.

It generates a synthetic nation, runs a citizen-scoring regime on it day by
day, and measures what the regime does to people. Every person in it is
synthetic: socialscore never ingests real personal data.

The names below are imported on first use (PEP 562), so ``import socialscore``
loads none of numba, pandas, plotly or DuckDB until a run needs them.
"""

# Every module-level name here but __all__'s is private (a leading underscore): the
# namespace test holds ``import socialscore`` to exactly the public names.
import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from socialscore.scenario.errors import ScenarioError
    from socialscore.scenario.files import LoadedScenario, load, parse
    from socialscore.scenario.schema import Scenario
    from socialscore.store.catalogue import RunStore
    from socialscore.studies.compare import Comparison, compare
    from socialscore.studies.run import Result, audit_regime, run
    from socialscore.studies.run import open_run as open
    from socialscore.studies.sweep import SweepResult, sweep

#: Where each public name is defined ("module:name" when it is named otherwise there).
_HOMES = {
    "Comparison": "socialscore.studies.compare",
    "SweepResult": "socialscore.studies.sweep",
    "compare": "socialscore.studies.compare",
    "open": "socialscore.studies.run:open_run",
    "sweep": "socialscore.studies.sweep",
    "LoadedScenario": "socialscore.scenario.files",
    "Result": "socialscore.studies.run",
    "RunStore": "socialscore.store.catalogue",
    "Scenario": "socialscore.scenario.schema",
    "ScenarioError": "socialscore.scenario.errors",
    "audit_regime": "socialscore.studies.run",
    "load": "socialscore.scenario.files",
    "parse": "socialscore.scenario.files",
    "run": "socialscore.studies.run",
}

__all__ = [
    "Comparison",
    "LoadedScenario",
    "Result",
    "RunStore",
    "Scenario",
    "ScenarioError",
    "SweepResult",
    "audit_regime",
    "compare",
    "load",
    "open",
    "parse",
    "run",
    "sweep",
]


def __getattr__(name: str) -> _typing.Any:
    """A public name, imported from its home module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'socialscore' has no attribute {name!r}")
    module, _, attribute = home.partition(":")
    value = getattr(_importlib.import_module(module), attribute or name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The public names (``__all__``), not the submodules a run may have imported."""
    return sorted(__all__)
