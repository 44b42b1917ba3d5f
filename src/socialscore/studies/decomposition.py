"""The reruns a decomposition needs: the scenario without its assumed group differences.

:mod:`socialscore.analysis.decomposition` does the arithmetic and says what the
parts mean; this module runs the scenario again on the same seed and size
with every assumed group difference removed, then with each removed alone
(``2 + k`` runs for ``k`` assumptions, one fewer when the run as configured is
given, and one when ``k`` is 1). The runs are held in memory and not stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pyarrow as pa

from socialscore.analysis import audit as simulation
from socialscore.analysis import decomposition as parts
from socialscore.scenario.schema import Scenario
from socialscore.scenario.window import measurement_window
from socialscore.simulation.kernels.gates import REPLICATES
from socialscore.studies import resources


def runs_needed(scenario: Scenario, *, configured: bool = True) -> int:
    """Simulations a decomposition of ``scenario`` adds (``configured``: the run is given)."""
    k = len(parts.assumptions(scenario))
    return (0 if configured else 1) + (k > 0) + (k if k > 1 else 0)


def _counts(scenario: Scenario) -> parts.Counts:
    _, recorder = simulation.simulate(scenario)
    window = measurement_window(scenario, scenario.run.days)
    return parts.replicate_counts(recorder.gate_replicates_table(), window, REPLICATES)


def decompose(
    scenario: Scenario,
    configured: pa.Table | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    every: bool = False,
) -> parts.Decomposition:
    """Split every citizen gate's selection gap into assumed and regime parts.

    Args:
        scenario: The scenario as it runs (size, days and seed applied).
        configured: The ``gate_replicates`` table of its run, when already made
            (it is then not run again).
        progress: Called with the name of each rerun as it starts.
        every: Remove every group difference the decomposition knows, also those
            already at their neutral value (a check of common random numbers:
            their parts must be exactly 0).

    Returns:
        The decomposition (:class:`socialscore.analysis.decomposition.Decomposition`).
    """
    say = progress or (lambda _what: None)
    window = measurement_window(scenario, scenario.run.days)
    found = parts.assumptions(scenario, every=every)
    if configured is None:
        say("running the regime as configured")
        base = _counts(scenario)
    else:
        base = parts.replicate_counts(configured, window, REPLICATES)
    if found:
        say("running the regime with no group difference")
        regime = _counts(parts.without(scenario, [a.key for a in found]))
    else:
        regime = base
    each: list[parts.Counts] = []
    for a in found:
        if len(found) == 1:
            each.append(regime)
            continue
        say(f"running without {a.key}")
        each.append(_counts(parts.without(scenario, [a.key])))
    return parts.decompose(
        found,
        base,
        regime,
        each,
        days=(window.start, window.end),
        population=scenario.run.population,
    )


def estimate(
    scenario: Scenario, job: resources.Estimate, *, audit: bool = False
) -> resources.Estimate:
    """``job``'s estimate with the decomposition's reruns added.

    Each rerun takes about one run's time; they run one after another while the
    run as configured is still held, so a plain run holds two states at once (an
    audit already counts two).
    """
    one = resources.estimate(scenario)
    reruns = runs_needed(scenario)
    return dataclasses.replace(
        job,
        seconds=job.seconds + reruns * one.seconds,
        memory_bytes=job.memory_bytes + (0 if audit or not reruns else one.memory_bytes),
    )
