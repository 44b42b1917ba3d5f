"""A lender's decision policies: per-group thresholds chosen from a histogram of scores.

Plain numpy arithmetic, unit-testable without the engine. The inputs are a
histogram ``hist[g, x]`` (citizens of group ``g`` at score index ``x``, i.e.
score ``lo + x``) and the chance of repayment ``chance[g, x]`` at each score.
Every policy answers with a :class:`Thresholds`: per group, a threshold
``t`` and a chance ``q`` of approval at the threshold (the marginal score):
a score above ``t`` is approved, a score at ``t`` is approved with chance
``q``, a score below is denied. So a target rate is met exactly in
expectation, whatever the ties in the histogram.

Conventions (docs/model.md, "Decision policies"):

- The threshold of a share of a group is the score of its marginal unit
  counted from the top: the highest ``t`` whose citizens at or above it
  reach the target, so ``q`` is in (0, 1]; the scores with nobody on them
  between ``t`` and the next occupied score above are approved.
- Approving nobody (a target of 0, or a group with nobody in the
  histogram) is ``t = hi`` (the top of the scale) with ``q = 0``.
- Among rates with the same (largest) total expected utility, the smallest
  is chosen (``demographic_parity``, ``equal_opportunity``).
- ``max_profit`` approves a score whose expected utility is strictly
  positive (a score worth exactly 0 in float64 is denied); it approves the
  top block of such scores (all of them when the chance of repayment does
  not fall as the score rises, the usual case).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from socialscore.scenario.schema import Outcome, Policy, Scenario


class Thresholds(NamedTuple):
    """Per group: the threshold's score index and the chance of approval at it."""

    threshold: np.ndarray  # int64 [groups], the threshold's score index (score = lo + index)
    margin: np.ndarray  # float64 [groups], chance of approval at the threshold, in [0, 1]


def policy_chooses(scenario: Scenario) -> bool:
    """Whether the mortgage gate is on and its policy chooses thresholds (any kind but fixed)."""
    mortgage = scenario.gates.mortgage
    return mortgage.enabled and mortgage.policy.kind != "fixed"


def repayment_chance(outcome: Outcome, lo: int, hi: int, groups: int = 2) -> np.ndarray:
    """The chance of repayment at each score of [lo, hi], float64 [groups, hi - lo + 1].

    Piecewise-linear between the outcome's points, constant beyond the first
    and the last; the minority (group 1) reads ``minority_success_probability``
    when given.
    """
    values = np.arange(lo, hi + 1, dtype=np.float64)
    points = np.asarray(outcome.scores, dtype=np.float64)
    out = np.empty((groups, values.shape[0]), dtype=np.float64)
    for g in range(groups):
        chances = outcome.success_probability
        if g == 1 and outcome.minority_success_probability is not None:
            chances = outcome.minority_success_probability
        out[g] = np.interp(values, points, np.asarray(chances, dtype=np.float64))
    return out


def utility(chance: np.ndarray, repaid: float, default: float) -> np.ndarray:
    """The lender's expected utility of one approval: ``p · repaid + (1 − p) · default``."""
    out: np.ndarray = chance * repaid + (1.0 - chance) * default
    return out


def acceptance(thresholds: Thresholds, scores: int) -> np.ndarray:
    """The chance of approval at each score index, float64 [groups, scores]."""
    x = np.arange(scores)
    t = thresholds.threshold[:, None]
    out: np.ndarray = np.where(x > t, 1.0, np.where(x == t, thresholds.margin[:, None], 0.0))
    return out


def _top(weight: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The thresholds approving ``targets`` of ``weight`` from the top score down.

    ``weight``: float64 [scores], non-negative (citizens, or expected repayers);
    ``targets``: float64 [k]. Returns the threshold indices and marginal
    chances, arrays [k].
    """
    s = weight.shape[0]
    at_or_above = np.cumsum(weight[::-1])[::-1]  # non-increasing
    total = at_or_above[0] if s else 0.0
    above = np.append(at_or_above[1:], 0.0)
    goal = np.minimum(np.asarray(targets, dtype=np.float64), total)
    # The highest index whose weight at or above reaches the goal.
    j = np.searchsorted(at_or_above[::-1], goal, side="left")
    index = np.clip(s - 1 - j, 0, s - 1).astype(np.int64)
    w = weight[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(w > 0, (goal - above[index]) / w, 0.0)
    # A goal of 0 (or nothing to approve) lands on the top score at chance 0: nobody.
    return index, np.clip(margin, 0.0, 1.0)


def top_share(hist: np.ndarray, shares: np.ndarray) -> Thresholds:
    """Approve the top ``shares[g]`` of each group ``g`` of ``hist`` [groups, scores]."""
    counts = np.asarray(hist, dtype=np.float64)
    index = np.empty(counts.shape[0], dtype=np.int64)
    margin = np.empty(counts.shape[0], dtype=np.float64)
    for g in range(counts.shape[0]):
        i, q = _top(counts[g], np.array([shares[g] * counts[g].sum()]))
        index[g], margin[g] = i[0], q[0]
    return Thresholds(index, margin)


def max_profit(chance: np.ndarray, repaid: float, default: float) -> Thresholds:
    """Approve, per group, the top block of scores whose expected utility is > 0."""
    u = utility(chance, repaid, default)
    groups, s = u.shape
    index = np.full(groups, s - 1, dtype=np.int64)
    margin = np.zeros(groups, dtype=np.float64)
    for g in range(groups):
        positive = u[g] > 0.0
        if not positive[-1]:
            continue  # even the top score loses money: nobody
        not_positive = np.nonzero(~positive)[0]
        index[g] = not_positive[-1] + 1 if not_positive.size else 0
        margin[g] = 1.0
    return Thresholds(index, margin)


def _best_common(
    hist: np.ndarray, weight: np.ndarray, u: np.ndarray
) -> tuple[Thresholds, float, float]:
    """The common rate of ``weight`` (per group, a share of its total) maximising utility.

    Each group approves its top scores until it holds the rate's share of its
    ``weight``; the total expected utility ``Σ_g Σ_x hist·accept·u`` is a
    piecewise-linear function of the rate, so its maximum is at a breakpoint:
    0, 1, or a share where some group's threshold crosses a score. Every
    breakpoint is tried; ties go to the smallest rate. A group with no
    weight approves nobody. Returns the thresholds, the rate and the utility.
    """
    groups, s = hist.shape
    totals = weight.sum(axis=1)
    live = [g for g in range(groups) if totals[g] > 0]
    rates = [np.array([0.0, 1.0])]
    for g in live:
        rates.append(np.cumsum(weight[g][::-1]) / totals[g])
    candidates = np.unique(np.clip(np.concatenate(rates), 0.0, 1.0))
    value = np.zeros(candidates.shape[0], dtype=np.float64)
    picks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for g in live:
        index, margin = _top(weight[g], candidates * totals[g])
        gain = hist[g] * u[g]
        above = np.append(np.cumsum(gain[::-1])[::-1][1:], 0.0)  # utility strictly above x
        value += above[index] + margin * gain[index]
        picks[g] = (index, margin)
    best = int(np.argmax(value))  # the first of equal maxima: the smallest rate
    index = np.full(groups, s - 1, dtype=np.int64)
    margin = np.zeros(groups, dtype=np.float64)
    for g, (i, q) in picks.items():
        index[g], margin[g] = i[best], q[best]
    return Thresholds(index, margin), float(candidates[best]), float(value[best])


def demographic_parity(
    hist: np.ndarray, chance: np.ndarray, repaid: float, default: float
) -> Thresholds:
    """One selection rate for every group, chosen to maximise the total expected utility."""
    counts = np.asarray(hist, dtype=np.float64)
    return _best_common(counts, counts, utility(chance, repaid, default))[0]


def equal_opportunity(
    hist: np.ndarray, chance: np.ndarray, repaid: float, default: float
) -> Thresholds:
    """One true-positive rate for every group, chosen to maximise the total expected utility.

    A group's true-positive rate is its expected repayers approved over its
    expected repayers, ``Σ_x n(x)·a(x)·p(x) / Σ_x n(x)·p(x)``.
    """
    counts = np.asarray(hist, dtype=np.float64)
    return _best_common(counts, counts * chance, utility(chance, repaid, default))[0]


def choose(policy: Policy, hist: np.ndarray, chance: np.ndarray | None) -> Thresholds:
    """The thresholds a (non-fixed) policy chooses from a histogram [groups, scores].

    ``chance``: the chance of repayment [groups, scores] (:func:`repayment_chance`);
    needed by every kind but ``selection_rate``.

    Raises:
        ValueError: For kind ``fixed`` (no choice to make) or a missing ``chance``.
    """
    groups = hist.shape[0]
    if policy.kind == "selection_rate":
        rate = float(policy.selection_rate or 0.0)
        minority = policy.minority_selection_rate
        shares = np.full(groups, rate)
        if minority is not None and groups > 1:
            shares[1] = minority
        return top_share(hist, shares)
    if policy.kind == "fixed" or chance is None:
        raise ValueError(ERR_NO_CHOICE.format(kind=policy.kind))
    r, d = policy.utility_repaid, policy.utility_default
    if policy.kind == "max_profit":
        return max_profit(chance, r, d)
    if policy.kind == "demographic_parity":
        return demographic_parity(hist, chance, r, d)
    return equal_opportunity(hist, chance, r, d)


ERR_NO_CHOICE = (
    "policy kind '{kind}' chooses no thresholds here: 'fixed' keeps the gate's threshold, "
    "and the others but 'selection_rate' need the outcome's chances (gates.mortgage.outcome)"
)
