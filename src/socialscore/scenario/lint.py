"""What a valid scenario probably does not mean: warnings ``socialscore validate`` prints.

A scenario can be valid and still silently useless in part: a rule on an
event nothing produces never fires; a gate whose threshold lies above every
score the rules allow refuses everyone; a file that extends another without
naming itself is catalogued under the other's name. :func:`lint` finds these;
none of them stops a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES, GATE_BY_NAME

if TYPE_CHECKING:
    from socialscore.scenario.files import LoadedScenario

__all__ = ["lint", "produced_events"]

WARN_NEVER_FIRES: Final = (
    "rules[{k}] ('{event}', {points:+g} points) can never fire: nothing in this scenario "
    "produces '{event}' ({why}). Fix: give [streams.{stream}] a rate above 0, or remove "
    "the rule."
)
WARN_NEVER_CLEARED: Final = (
    "rules[{k}] ('{event}') is cleared by '{clearing}', which nothing in this scenario "
    "produces: its points are never cleared. Fix: give [streams.{clearing}] a rate, or "
    "remove cleared_by."
)
WARN_NOBODY_PASSES: Final = (
    "gates.{gate}: nobody can pass its threshold {threshold}: the highest score the rules "
    "allow is {best} ({how}). Fix: lower the threshold, or add rules that earn points."
)
WARN_INHERITED_NAME: Final = (
    "this file extends '{parent}' but has no [scenario] name of its own: its runs will be "
    "catalogued as '{name}', the parent's name. Fix: add [scenario] name = \"...\"."
)


def produced_events(scenario: Scenario) -> set[str]:
    """The citizen events something in the scenario can produce."""
    out = {e for e in _streamed(scenario)}
    mortgage = scenario.gates.mortgage
    if mortgage.enabled and mortgage.outcome is not None:
        out |= {mortgage.outcome.success, mortgage.outcome.failure}
    return out


def _streamed(scenario: Scenario) -> set[str]:
    """Events produced by a stream with a rate above 0 (a derived event by its source's)."""
    out = {name for name, spec in scenario.streams.items() if spec.rate > 0}
    if "interaction" in out:
        out.add("interaction_low_scorer")
    return out


def _rule_warnings(scenario: Scenario) -> list[str]:
    produced = produced_events(scenario)
    out = []
    for k, rule in enumerate(scenario.rules):
        if rule.event not in produced:
            stream = "interaction" if rule.event == "interaction_low_scorer" else rule.event
            spec = scenario.streams.get(stream)
            why = f"streams.{stream}.rate is 0" if spec is not None else f"no [streams.{stream}]"
            out.append(
                WARN_NEVER_FIRES.format(
                    k=k, event=rule.event, points=rule.points, why=why, stream=stream
                )
            )
        if rule.cleared_by is not None and rule.cleared_by not in produced:
            out.append(WARN_NEVER_CLEARED.format(k=k, event=rule.event, clearing=rule.cleared_by))
    return out


def _best_score(scenario: Scenario) -> tuple[int, str] | None:
    """The highest score the rules allow, and how; None when it is not bounded below hi."""
    s = scenario.score
    if s.initial is not None or (scenario.network.enabled and scenario.network.weight != 0):
        return None  # a starting record or friends' scores can lift a citizen: no bound here
    produced = produced_events(scenario)
    earning = [r for r in scenario.rules if r.points > 0 and r.event in produced]
    if any(r.cap is None for r in earning):
        return None
    best = s.base + sum(r.cap or 0.0 for r in earning)
    how = (
        f"the base {s.base} plus the caps of {len(earning)} rule(s) that earn points"
        if earning
        else f"the base {s.base}: no rule earns points"
    )
    return min(int(best), s.hi), how


def _threshold(scenario: Scenario, gate: str) -> Any:
    """A gate's threshold, read where the vocabulary says it is (None: no threshold)."""
    where = GATE_BY_NAME[gate].threshold
    if where is None:
        return None
    holder: Any = scenario if "." in where else getattr(scenario.gates, gate)
    for part in where.split("."):
        holder = getattr(holder, part, None)
    return holder


def _gate_warnings(scenario: Scenario) -> list[str]:
    found = _best_score(scenario)
    if found is None:
        return []
    best, how = found
    out = []
    for gate in CITIZEN_GATES:
        settings = getattr(scenario.gates, gate)
        threshold = _threshold(scenario, gate)
        if not settings.enabled or not isinstance(threshold, int | float):
            continue
        if getattr(settings, "policy", None) is not None and settings.policy.kind != "fixed":
            continue  # a lending policy chooses its own thresholds
        if threshold > best:
            out.append(
                WARN_NOBODY_PASSES.format(gate=gate, threshold=threshold, best=best, how=how)
            )
    return out


def lint(loaded: LoadedScenario) -> list[str]:
    """Warnings about a valid scenario file, each with its fix (empty: nothing to say)."""
    sc = loaded.scenario
    out = _rule_warnings(sc) + _gate_warnings(sc)
    if loaded.extends is not None and not loaded.own_name:
        out.append(WARN_INHERITED_NAME.format(parent=loaded.extends, name=sc.scenario.name))
    return out
