"""Consequences of decisions: an approved mortgage is repaid or defaults ``after_days`` later.

Each test names the plausible bugs it catches; each was planted in the code
and seen to fail the test. The statistical tests allow 4 binomial standard
deviations (a false alarm about once in 16,000 runs; the seeds are fixed, so
a run either passes or fails for good).
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import minimal, simulate
from socialscore.scenario import load, shipped_scenarios
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES
from socialscore.simulation import nation, rng
from socialscore.simulation.compiled import compile_scenario
from socialscore.simulation.engine import Engine
from socialscore.simulation.kernels.gates import T_SELECTED
from socialscore.simulation.kernels.outcomes import chance_at
from socialscore.simulation.kernels.passes import P_UNIT, SUM_P, SUM_P_UNCHILLED
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.state import initial_state

REPAID = CITIZEN_EVENTS.index("loan_repaid")
ARREARS = CITIZEN_EVENTS.index("loan_arrears")
MORTGAGE = CITIZEN_GATES.index("mortgage")
SCALE = {"base": 600, "lo": 0, "hi": 1200, "grades": [{"name": "all", "from": 0}]}


def lending(
    outcome: dict[str, Any] | None, *, population: int = 10_000, days: int = 20, **extra: Any
) -> Any:
    """A minimal scenario whose mortgage gate has ``outcome`` (other gates as ``minimal``)."""
    mortgage = {"apply_rate": 0.05, "threshold": 0, "outcome": outcome}
    mortgage.update(extra.pop("mortgage", {}))
    return minimal(
        run={"population": population, "days": days, "seed": 5},
        score=SCALE,
        gates={"mortgage": mortgage},
        **extra,
    )


def approvals_by_day(recorder: Recorder) -> np.ndarray:
    """Mortgage approvals per day (both groups), from the gate tallies."""
    return np.asarray(recorder.gates[:, MORTGAGE, :, T_SELECTED].sum(axis=1))


def outcomes_by_day(recorder: Recorder) -> np.ndarray:
    """Repayments and defaults per day (both groups), from the event tallies."""
    return np.asarray(recorder.events[:, [REPAID, ARREARS], :].sum(axis=(1, 2)))


def test_chance_is_piecewise_linear_and_constant_beyond_the_ends():
    # Bugs caught: a step function instead of a line (also caught by the by-group test),
    # an interpolation off by one segment or extrapolated past the ends.
    gen = np.random.default_rng(0)
    for k in (1, 2, 5):
        scores = np.sort(gen.choice(np.arange(300, 900), size=k, replace=False)).astype(float)
        chances = gen.uniform(0, 1, size=k)
        for s in np.concatenate([np.arange(250, 950, 7.0), scores]):
            assert chance_at(s, scores, chances) == pytest.approx(np.interp(s, scores, chances))


def test_every_approval_has_one_outcome_after_days_and_successes_match_the_chance():
    # Bugs caught: the outcome a day late, or the day after the approval whatever
    # after_days (approvals and outcomes shifted); a pending outcome not cleared
    # (outcomes repeated every day); the draw compared the wrong way (success at 1 − p);
    # the expected counts left out of the tallies (the chilling measures compare the
    # counts with them).
    p, after = 0.3, 4
    sc = lending({"after_days": after, "scores": [600], "success_probability": [p]})
    _, rec = simulate(sc)
    approved = approvals_by_day(rec)
    outcomes = outcomes_by_day(rec)
    days = sc.run.days
    assert approved[: days - after].sum() > 3_000  # enough outcomes to test the share
    assert (outcomes[:after] == 0).all()
    np.testing.assert_array_equal(outcomes[after:], approved[: days - after])
    n = int(outcomes.sum())
    share = rec.events[:, REPAID].sum() / n
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n), share
    # The day's expected counts: p per outcome for repayment, 1 − p for arrears.
    for event, chance in ((REPAID, p), (ARREARS, 1 - p)):
        expected = rec.expected[:, event, :, SUM_P].sum(axis=1) * P_UNIT
        unchilled = rec.expected[:, event, :, SUM_P_UNCHILLED].sum(axis=1) * P_UNIT
        np.testing.assert_allclose(expected, chance * outcomes, atol=1e-6)
        np.testing.assert_array_equal(expected, unchilled)  # outcomes are never chilled


def _step_and_read_approvals(sc: Any) -> tuple[Recorder, list[tuple[np.ndarray, np.ndarray]]]:
    """Run day by day; each day, who got a mortgage and the score the gate read."""
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    rec = Recorder(sc, nat)
    approved = []
    for day in range(sc.run.days):
        before = engine.state.has_mortgage.copy()
        engine.step(day, rec)
        new = np.flatnonzero(engine.state.has_mortgage > before)
        # The mortgage gate reads the public score, which nothing changes after the gates.
        approved.append((new, engine.state.score[new].astype(np.float64)))
    return rec, approved


def test_success_share_by_group_is_the_mean_chance_at_the_approval_scores():
    # Bugs caught: the majority's chances used for the minority; the score the gate
    # read not kept (the chance read at another score); an interpolation that is not
    # linear between the points (a step function).
    after = 3
    points = [580, 610, 650]  # scores move in steps of 25 from 600: 575 and 675 lie beyond
    majority, minority = [0.1, 0.5, 0.95], [0.05, 0.2, 0.6]
    sc = lending(
        {
            "after_days": after,
            "scores": points,
            "success_probability": majority,
            "minority_success_probability": minority,
        },
        population=20_000,
        days=14,
        mortgage={"threshold": 560, "apply_rate": 0.1},
        streams={
            "good_deed": {"rate": 0.05, "minority_multiplier": 0.5},
            "traffic_ticket": {"rate": 0.05, "minority_multiplier": 1.5},
        },
        rules=[
            {"event": "good_deed", "points": 25, "half_life_days": 0},
            {"event": "traffic_ticket", "points": -25, "half_life_days": 0},
        ],
    )
    rec, approved = _step_and_read_approvals(sc)
    days = sc.run.days
    group = nation.generate(sc).group
    chances = np.array([majority, minority], dtype=np.float64)
    want = np.zeros(2)
    var = np.zeros(2)
    other = np.zeros(2)  # what the other group's chances would give
    for who, score in approved[: days - after]:
        for g in (0, 1):
            s = score[group[who] == g]
            chance = np.interp(s, points, chances[g])
            want[g] += chance.sum()
            var[g] += (chance * (1 - chance)).sum()
            other[g] += np.interp(s, points, chances[1 - g]).sum()
    got = rec.events[after:, REPAID, :].sum(axis=0)
    outcomes = rec.events[after:, [REPAID, ARREARS], :].sum(axis=(0, 1))
    for g in (0, 1):
        assert outcomes[g] == sum(int((group[w] == g).sum()) for w, _ in approved[: days - after])
        sd = math.sqrt(var[g])
        assert sd > 10  # hundreds of outcomes in each group
        assert abs(got[g] - want[g]) < 4 * sd, (g, got[g], want[g], sd)
        assert abs(other[g] - want[g]) > 12 * sd  # the groups' chances are told apart
    # The scores spread over the points (the slope matters), beyond both ends too.
    scores = np.concatenate([s for _, s in approved])
    assert scores.min() < points[0] and scores.max() > points[-1]
    flat = sum(np.interp(s, points, [0.5] * 3).sum() for _, s in approved[: days - after])
    assert abs(flat - want.sum()) > 4 * math.sqrt(var.sum())


def test_repayment_raises_the_score_and_arrears_lower_it_on_the_outcome_day():
    # The Sesame loop. Bugs caught: outcomes drawn after the rules (no points on the
    # outcome day); the event not set in the day's mask (counted but never rated);
    # the draw keyed by the citizen's place in its chunk instead of its id; success
    # and failure swapped. Also the rule for unrated citizens: they repay and default
    # (counted), but no rule rates them, as for their other events.
    after = 3
    sc = lending(
        {"after_days": after, "scores": [600], "success_probability": [0.5]},
        population=20_000,  # more than one chunk of citizens
        days=after + 1,
        mortgage={"apply_rate": 1.0},
        rules=[
            {"event": "loan_repaid", "points": 30, "half_life_days": 0},
            {"event": "loan_arrears", "points": -60, "half_life_days": 0},
        ],
        participation={"mandatory_from_day": 100, "opt_in_share": 0.5},
    )
    engine, rec = simulate(sc)
    n = sc.run.population
    assert approvals_by_day(rec)[0] == n  # everyone applies and is approved on day 0
    repaid = rng.uniforms(sc.run.seed, after, n, rng.stream(rng.OUTCOME)) < 0.5
    rated = engine.state.participant.astype(bool)
    assert 0.4 < rated.mean() < 0.6
    score = engine.state.score
    np.testing.assert_array_equal(score[rated & repaid], 630)
    np.testing.assert_array_equal(score[rated & ~repaid], 540)
    np.testing.assert_array_equal(score[~rated], 600)
    # Unrated citizens repay and default too: every outcome is counted, rated or not.
    assert rec.events[after, REPAID].sum() == repaid.sum()
    assert rec.events[after, ARREARS].sum() == n - repaid.sum()
    assert (engine.state.outcome_approved_on == -1).all()  # nothing pending after it


def test_an_approval_while_an_outcome_is_pending_schedules_nothing():
    # The rule for reapply = true: one loan outcome pending at a time; the first stands.
    # Bug caught: a new approval replacing the pending outcome (it would never fall due
    # while the citizen keeps being approved) or adding a second one.
    after = 3
    sc = lending(
        {"after_days": after, "scores": [600], "success_probability": [0.5]},
        population=2_000,
        days=10,
        mortgage={"apply_rate": 1.0, "reapply": True},
    )
    _, rec = simulate(sc)
    n = sc.run.population
    np.testing.assert_array_equal(approvals_by_day(rec), n)  # approved every day
    # Approved on day 0 → outcome on day 3, approved again that day → day 6, → day 9.
    want = np.zeros(sc.run.days, dtype=np.int64)
    want[[3, 6, 9]] = n
    np.testing.assert_array_equal(outcomes_by_day(rec), want)


_RUN = """
import sys
sys.path.insert(0, {tests!r})
import socialscore
from test_outcomes import lending
sc = lending(
    {{"after_days": 3, "scores": [550, 650], "success_probability": [0.2, 0.9],
      "minority_success_probability": [0.1, 0.7]}},
    population=40_000, days=10,
    streams={{"good_deed": {{"rate": 0.05}}, "traffic_ticket": {{"rate": 0.05}}}},
    rules=[{{"event": "good_deed", "points": 25}}, {{"event": "traffic_ticket", "points": -25}},
           {{"event": "loan_repaid", "points": 10}}, {{"event": "loan_arrears", "points": -40}}],
)
print(socialscore.run(sc, out={out!r}).path)
"""


def _run_in_subprocess(out: Path, threads: int) -> dict[str, str]:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    code = _RUN.format(tests=str(Path(__file__).parent), out=str(out))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1])
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.glob("*.parquet"))
    }


def test_same_seed_gives_identical_tables_with_outcomes_for_one_and_two_threads(tmp_path):  # type: ignore[no-untyped-def]
    # Bug caught: the outcome pass told where its chunk starts from the thread's first
    # chunk (the draws then depend on how chunks are shared out); more generally any
    # write outside the chunk's own rows.
    one = _run_in_subprocess(tmp_path / "a", 1)
    two = _run_in_subprocess(tmp_path / "b", 2)
    assert "daily_events.parquet" in one
    assert one == two


WITHOUT_OUTCOME = sorted(
    name for name in shipped_scenarios() if load(name).scenario.gates.mortgage.outcome is None
)


@pytest.mark.parametrize("name", WITHOUT_OUTCOME)
def test_without_an_outcome_the_state_holds_no_outcome_arrays(name):
    # Bug caught: outcome arrays allocated (and the outcome pass run) for every scenario.
    sc = load(name).scenario.with_overrides(population=1_000, days=1)
    compiled = compile_scenario(sc)
    assert not compiled.outcomes.enabled
    state = initial_state(sc, nation.generate(sc), compiled)
    assert state.outcome_approved_on.shape == state.outcome_score.shape == (0,)


def test_an_outcome_never_due_changes_nothing():
    # Bug caught: an outcome drawn before after_days (here: the day after the
    # approval); more generally, scheduling that disturbs anything before an outcome
    # falls due.
    outcome = {"after_days": 1_000, "scores": [600], "success_probability": [0.5]}
    rules = [{"event": "good_deed", "points": 25}]
    streams = {"good_deed": {"rate": 0.05}}
    with_outcome = lending(outcome, population=3_000, days=8, rules=rules, streams=streams)
    without = lending(None, population=3_000, days=8, rules=rules, streams=streams)
    engine_a, a = simulate(with_outcome)
    _, b = simulate(without)
    assert engine_a.state.outcome_approved_on.shape == (3_000,)
    assert (engine_a.state.outcome_approved_on >= 0).sum() > 500
    for name in ("hist", "events", "expected", "gates", "reasons", "group_state"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
