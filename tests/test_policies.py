"""A lender's decision policies: the arithmetic against brute force, and the engine's decisions.

The arithmetic tests compare :mod:`socialscore.simulation.policies` with an
independent computation that expands a histogram into its citizens, ranks
them from the top score down and approves them one by one (a fraction of the
last), over a fine grid of rates. The engine tests make everyone apply every
day (``apply_rate = 1``, ``reapply = true``), so the day's applicants are the
histogram the policy chose from, and compare the approvals per group with the
policy's expected approvals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import simulate, small
from socialscore.scenario.schema import Outcome, Policy, Scenario
from socialscore.simulation import policies as pol
from socialscore.simulation.kernels import gates as g

#: Rates of the brute-force grid.
GRID = np.linspace(0.0, 1.0, 4001)


def _histograms(seed: int, scores: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Two groups' small histograms (some empty scores) and rising chances of repayment."""
    r = np.random.default_rng(seed)
    hist = r.integers(0, 6, size=(2, scores)).astype(np.float64)
    hist[r.random((2, scores)) < 0.25] = 0.0
    hist[:, -1] += 1.0  # nobody's group is empty
    chance = np.sort(r.random((2, scores)), axis=1)
    return hist, chance


def _ranked(hist: np.ndarray, value: np.ndarray) -> np.ndarray:
    """One entry per citizen of a group, from the top score down: ``value`` at its score."""
    return np.repeat(value[::-1], hist[::-1].astype(np.int64))


def _brute_top(hist: np.ndarray, value: np.ndarray, weight: np.ndarray, goal: float) -> float:
    """Σ value over the citizens approved from the top until their ``weight`` reaches ``goal``.

    Citizens are taken whole, from the top score down; the last one taken in part
    (every weight is positive here).
    """
    v, w = _ranked(hist, value), _ranked(hist, weight)
    assert (w > 0).all()
    total, taken = 0.0, 0.0
    for vk, wk in zip(v, w, strict=True):
        if taken >= goal:
            break
        part = min(1.0, (goal - taken) / wk)
        total += part * vk
        taken += part * wk
    return total


def _achieved(hist: np.ndarray, chosen: pol.Thresholds, value: np.ndarray) -> np.ndarray:
    """Σ_x hist·accept·value per group, for the chosen thresholds."""
    a = pol.acceptance(chosen, hist.shape[1])
    out: np.ndarray = (hist * a * value).sum(axis=1)
    return out


# ---------------------------------------------------------------------------------------------
# The chance of repayment.


def test_the_chance_of_repayment_is_piecewise_linear_per_group_and_flat_beyond_the_points() -> None:
    # Catches: extrapolating past the last point; the minority reading the majority's chances.
    outcome = Outcome(
        scores=[10, 20],
        success_probability=[0.2, 0.6],
        minority_success_probability=[0.1, 0.5],
    )
    p = pol.repayment_chance(outcome, 0, 30)
    assert p[0, 0] == pytest.approx(0.2) and p[0, 30] == pytest.approx(0.6)
    assert p[0, 15] == pytest.approx(0.4)
    assert p[1, 15] == pytest.approx(0.3) and p[1, 30] == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------
# selection_rate and max_profit.


@pytest.mark.parametrize("seed", range(20))
def test_selection_rate_approves_exactly_the_share_asked_and_only_from_the_top(seed: int) -> None:
    # Catches: the marginal chance computed from the count at-or-above instead of above the
    # threshold (off by one score), a threshold one occupied score too low or too high, and the
    # minority's rate ignored.
    hist, _ = _histograms(seed)
    shares = np.array([0.37, 0.81]) if seed % 2 else np.array([0.0, 1.0])
    chosen = pol.top_share(hist, shares)
    approved = _achieved(hist, chosen, np.ones_like(hist))
    np.testing.assert_allclose(approved, shares * hist.sum(axis=1), rtol=0, atol=1e-9)
    for k in range(2):
        t, q = int(chosen.threshold[k]), float(chosen.margin[k])
        assert 0.0 <= q <= 1.0
        if shares[k] > 0:
            assert hist[k, t] > 0 and q > 0  # the threshold is the marginal citizen's score
            brute = _brute_top(hist[k], np.ones(hist.shape[1]), np.ones(hist.shape[1]), approved[k])
            assert brute == pytest.approx(approved[k])
        else:
            assert q == 0 and t == hist.shape[1] - 1  # nobody: the top score at chance 0


def test_an_empty_group_is_approved_nobody() -> None:
    # Catches: a division by the group's size (NaN thresholds) when nobody may apply.
    hist = np.array([[0, 3, 4], [0, 0, 0]], dtype=np.float64)
    chosen = pol.top_share(hist, np.array([0.5, 0.5]))
    assert chosen.threshold.tolist() == [2, 2] and chosen.margin[1] == 0.0
    assert chosen.margin[0] == pytest.approx(3.5 / 4)


def test_max_profit_approves_exactly_the_scores_whose_expected_utility_is_positive() -> None:
    # Catches: >= instead of > (the score worth exactly 0 approved), the wrong sign of the
    # default's utility, and a threshold one score off.
    chance = np.array([[0.1, 0.3, 0.5, 0.7, 0.9], [0.1, 0.2, 0.3, 0.55, 0.9]])
    chosen = pol.max_profit(chance, 1.0, -1.0)  # u = 2p - 1: 0 exactly at p = 0.5
    a = pol.acceptance(chosen, 5)
    np.testing.assert_array_equal(a > 0, pol.utility(chance, 1.0, -1.0) > 0)
    assert (a[a > 0] == 1.0).all()
    assert chosen.threshold.tolist() == [3, 3]
    none = pol.max_profit(np.full((2, 5), 0.5), 1.0, -4.0)  # nothing pays: nobody
    assert none.margin.tolist() == [0.0, 0.0]


def test_max_profit_with_a_falling_chance_approves_the_top_block_of_profitable_scores() -> None:
    # Catches: a threshold at the lowest profitable score when a loss-making score lies above
    # it (the documented limitation: thresholds approve the top of the scale).
    chance = np.array([[0.9, 0.1, 0.9, 0.9], [0.9, 0.9, 0.9, 0.9]])
    chosen = pol.max_profit(chance, 1.0, -1.0)
    assert chosen.threshold.tolist() == [2, 0]


# ---------------------------------------------------------------------------------------------
# demographic_parity and equal_opportunity: the best rate, against a grid of rates.


def _brute_best(hist: np.ndarray, chance: np.ndarray, u: np.ndarray, opportunity: bool) -> float:
    """The largest total utility over the grid of common rates, citizen by citizen."""
    best = -math.inf
    weight = chance if opportunity else np.ones_like(chance)
    totals = (hist * weight).sum(axis=1)
    for r in GRID:
        value = sum(_brute_top(hist[k], u[k], weight[k], r * totals[k]) for k in range(2))
        best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", ["demographic_parity", "equal_opportunity"])
def test_the_fair_policies_reach_the_best_utility_under_their_constraint(
    kind: str, seed: int
) -> None:
    # Catches: breakpoints taken from one group only (the optimum missed), the utility of the
    # candidates summed at or above the threshold (counting the marginal score twice), the
    # constraint met on counts for equal opportunity (or on repayers for parity), and the
    # marginal chance rounded to 0 or 1.
    hist, chance = _histograms(100 + seed)
    repaid, default = 1.0, -1.5 - seed % 3
    u = pol.utility(chance, repaid, default)
    opportunity = kind == "equal_opportunity"
    choose = pol.equal_opportunity if opportunity else pol.demographic_parity
    chosen = choose(hist, chance, repaid, default)
    # The constraint holds exactly.
    weight = hist * chance if opportunity else hist
    rates = _achieved(weight, chosen, np.ones_like(hist)) / weight.sum(axis=1)
    assert rates[0] == pytest.approx(rates[1], abs=1e-12)
    # No rate of the grid does better; the grid's best is within its resolution.
    value = float(_achieved(hist, chosen, u).sum())
    brute = _brute_best(hist, chance, u, opportunity)
    assert value >= brute - 1e-9
    resolution = float(np.abs(u).max() * hist.sum() * (GRID[1] - GRID[0]) / chance.min())
    assert value <= brute + resolution


def test_parity_between_identical_groups_is_max_profit() -> None:
    # Catches: a constraint that binds when it should not (the same histogram in both groups).
    hist = np.array([[3, 0, 5, 2, 4]] * 2, dtype=np.float64)
    chance = np.array([[0.1, 0.3, 0.6, 0.8, 0.95]] * 2)
    dp = pol.demographic_parity(hist, chance, 1.0, -1.0)
    mp = pol.max_profit(chance, 1.0, -1.0)
    np.testing.assert_array_equal(pol.acceptance(dp, 5), pol.acceptance(mp, 5))


def test_choose_reads_the_policy() -> None:
    # Catches: the minority's selection rate ignored; a fixed policy silently choosing.
    hist = np.array([[10, 10], [10, 10]], dtype=np.float64)
    chosen = pol.choose(
        Policy(kind="selection_rate", selection_rate=0.5, minority_selection_rate=0.25), hist, None
    )
    assert chosen.threshold.tolist() == [1, 1] and chosen.margin.tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="fixed"):
        pol.choose(Policy(), hist, None)


# ---------------------------------------------------------------------------------------------
# The engine: thresholds chosen each period, decisions at them.


def _lending(kind: str, population: int = 20_000, days: int = 2, **policy: object) -> Scenario:
    """citizen-score where everyone applies for a mortgage every day under ``kind``."""
    data = small("citizen-score", population=population, days=days).model_dump(by_alias=True)
    m = data["gates"]["mortgage"]
    m.update(enabled=True, apply_rate=1.0, reapply=True, human_review=False)
    m["outcome"] = {
        # Around 650, where nearly everyone is after two days: max_profit approves the
        # majority there, and the minority only a few points above.
        "scores": [640, 660],
        "success_probability": [0.25, 0.85],
        "minority_success_probability": [0.1, 0.7],
    }
    m["policy"] = {"kind": kind, "utility_default": -1.0, **policy}
    return Scenario.model_validate(data)


def _day_hist(engine) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The last day's histogram of public scores per group (everyone may apply)."""
    s = engine.scenario.score
    size = s.hi - s.lo + 1
    group = engine.nation.group.astype(np.int64)
    x = engine.state.score.astype(np.int64) - s.lo
    return np.bincount(group * size + x, minlength=2 * size).reshape(2, size).astype(np.float64)


@pytest.mark.parametrize(
    ("kind", "policy"),
    [
        ("selection_rate", {"selection_rate": 0.3, "minority_selection_rate": 0.2}),
        ("max_profit", {}),
        ("demographic_parity", {}),
        ("equal_opportunity", {}),
    ],
)
def test_the_engine_approves_each_group_at_the_policys_rate(kind: str, policy: dict) -> None:  # type: ignore[type-arg]
    # Catches: the marginal chance ignored (everyone at the threshold approved), every group
    # meeting the majority's threshold, thresholds chosen from another day's scores or from
    # the whole scale instead of the histogram, and scores offset by lo.
    sc = _lending(kind, **policy)
    engine, recorder = simulate(sc)
    day = sc.run.days - 1
    hist = _day_hist(engine)
    chance = pol.repayment_chance(sc.gates.mortgage.outcome, sc.score.lo, sc.score.hi)
    expected = pol.choose(sc.gates.mortgage.policy, hist, chance)
    logged = [row for row in engine.policy_log if row[0] == day]
    assert [(gr, t - sc.score.lo) for _, gr, t, _ in logged] == list(
        enumerate(expected.threshold.tolist())
    )
    np.testing.assert_allclose([q for *_, q in logged], expected.margin)
    applied = recorder.gates[day, g.G_MORTGAGE, :, g.T_APPLIED]
    selected = recorder.gates[day, g.G_MORTGAGE, :, g.T_SELECTED]
    np.testing.assert_array_equal(applied, hist.sum(axis=1))
    want = _achieved(hist, expected, np.ones_like(hist))
    rate = want / applied
    sd = np.sqrt(applied * rate * (1 - rate))
    assert (np.abs(selected - want) <= 4 * sd + 1e-9).all(), (selected, want, sd)
    if kind == "selection_rate":
        np.testing.assert_allclose(rate, [0.3, 0.2], atol=1e-12)
    elif kind == "demographic_parity":
        assert rate[0] == pytest.approx(rate[1], abs=1e-12)
    elif kind == "equal_opportunity":
        repayers = _achieved(hist * chance, expected, np.ones_like(hist)) / (hist * chance).sum(1)
        assert repayers[0] == pytest.approx(repayers[1], abs=1e-12)
    assert 0 < selected.sum() < applied.sum()  # the test sees a decision that matters


def test_thresholds_are_chosen_every_period_only() -> None:
    # Catches: choosing every day whatever every_days says, or never after day 0.
    sc = _lending("selection_rate", population=3_000, days=5, selection_rate=0.5, every_days=2)
    engine, _ = simulate(sc)
    assert sorted({row[0] for row in engine.policy_log}) == [0, 2, 4]


def test_a_fixed_policy_leaves_the_gate_table_and_the_run_as_they_were() -> None:
    # Catches: the per-group columns not filled with the gate's threshold (every gate would
    # approve from score 0), and a fixed policy taking the policy path (a copy, a choice).
    sc = small("citizen-score", population=3_000, days=4)
    table = g.gate_table(sc)
    for k in range(table.shape[0]):
        assert (
            table[k, g.P_GROUP_THRESHOLD : g.P_GROUP_THRESHOLD + 2] == table[k, g.P_THRESHOLD]
        ).all()
        assert (table[k, g.P_MARGIN : g.P_MARGIN + 2] == 1.0).all()
    data = sc.model_dump(by_alias=True)
    data["gates"]["mortgage"]["policy"] = {"kind": "fixed", "every_days": 3}
    engine_a, rec_a = simulate(sc)
    engine_b, rec_b = simulate(Scenario.model_validate(data))
    assert engine_a.policy_log == engine_b.policy_log == []
    np.testing.assert_array_equal(rec_a.gates, rec_b.gates)
    np.testing.assert_array_equal(engine_a.state.has_mortgage, engine_b.state.has_mortgage)


def test_the_thresholds_in_effect_each_day_are_a_table() -> None:
    # Catches: the table reading the threshold columns as chances (or the groups swapped),
    # a day recorded before its thresholds are chosen, and the table missing under a policy.
    sc = _lending("selection_rate", population=3_000, days=5, selection_rate=0.5, every_days=2)
    engine, recorder = simulate(sc)
    table = recorder.tables(engine.state)["gate_policy"].to_pylist()
    assert len(table) == 5 * 2
    by_day = {(row[0], row[1]): (row[2], row[3]) for row in engine.policy_log}
    for row in table:
        chosen_on = row["day"] - row["day"] % 2
        assert row["chosen"] == (row["day"] == chosen_on)
        group = ("majority", "minority").index(row["group"])
        assert (row["threshold"], row["marginal_chance"]) == by_day[chosen_on, group]


def test_only_the_citizens_who_may_apply_make_the_histogram() -> None:
    # Catches: mortgage holders counted in the histogram when they may not apply again
    # (reapply = false): the top share would then be taken of the wrong population.
    from socialscore.simulation import nation
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    sc = _lending("selection_rate", selection_rate=0.3)
    data = sc.model_dump(by_alias=True)
    data["gates"]["mortgage"]["reapply"] = False
    sc = Scenario.model_validate(data)
    nat = nation.generate(sc)
    engine, recorder = Engine(sc, nat), Recorder(sc, nat)
    engine.step(0, recorder)
    may_apply = engine.state.has_mortgage == 0
    assert 0 < may_apply.mean() < 1
    engine.step(1, recorder)
    applied = recorder.gates[1, g.G_MORTGAGE, :, g.T_APPLIED]
    selected = recorder.gates[1, g.G_MORTGAGE, :, g.T_SELECTED]
    np.testing.assert_array_equal(applied, np.bincount(nat.group[may_apply], minlength=2))
    sd = np.sqrt(applied * 0.3 * 0.7)
    assert (np.abs(selected - 0.3 * applied) <= 4 * sd).all(), (selected, applied)


def test_at_the_margin_the_error_free_score_shares_the_draw(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Catches: a denial counted as caused by erroneous records when the error-free score sits
    # at the threshold and the margin's draw would have denied it too (the old clean >= t).
    import dataclasses

    import test_gates
    from socialscore.simulation.compiled import compile_scenario

    def at_margin(scenario):  # type: ignore[no-untyped-def]
        compiled = compile_scenario(scenario)
        gp = compiled.gates.copy()
        gp[g.G_MORTGAGE, g.P_MARGIN : g.P_MARGIN + 2] = 0.0  # nobody at 600 passes
        return dataclasses.replace(compiled, gates=gp)

    monkeypatch.setattr(test_gates, "compile_scenario", at_margin)
    clean = np.array([400, 600, 600, 700], dtype=np.int16)
    scenario = test_gates.only("mortgage", apply_rate=1.0, threshold=600)
    counts, state = test_gates.decide(scenario, clean=clean)
    assert counts[g.G_MORTGAGE].tolist() == [4, 1, 0]  # applied, approved, caused by errors
    assert state["has_mortgage"].tolist() == [0, 0, 0, 1]
