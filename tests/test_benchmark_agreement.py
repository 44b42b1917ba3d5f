"""The engine and the hand-written numpy baseline agree on the benchmark regime.

Two kinds of check, each sized to catch a small deviation from the regime's
specification (the shipped benchmark.toml) in either implementation:

- *Against the specification, given the scores.* Mortgage applications and
  travel attempts are drawn independently of the score, so given each day's
  score histogram the approvals (score >= 520) and the blocked attempts
  (score < 450, one attempt per citizen-day at rate 0.01) have a known
  binomial expectation. Each implementation must hit it within four standard
  deviations: a threshold or a line moved by a few points shifts the count by
  many.
- *Against each other.* The scores themselves: the mean over the last 20
  days, compared across seeds with the seeds' own spread (Welch), so a bias of
  half a point in the rounding is many standard errors.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from socialscore.scenario.files import load
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.kernels.gates import G_MORTGAGE, G_TRAVEL, T_APPLIED, T_SELECTED
from socialscore.simulation.recorder import Recorder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import numpy_baseline

N, DAYS, SEEDS = 30_000, 180, tuple(range(11, 19))
# The specification (the shipped benchmark.toml and the speed-and-scale issue).
LO, MORTGAGE_THRESHOLD, BLACKLIST_LINE, TRAVEL_RATE = 350, 520, 450, 0.01
LAST_DAYS = 20


@dataclass(frozen=True)
class Outcome:
    hist: np.ndarray  # [day, score - LO]
    applied: np.ndarray  # mortgage applications per day
    approved: np.ndarray  # mortgage approvals per day
    blocked: np.ndarray  # blocked travel attempts per day
    minority_approval: float
    majority_approval: float

    def late_mean(self) -> float:
        h = self.hist[-LAST_DAYS:]
        return float((h * np.arange(LO, LO + h.shape[1])).sum() / h.sum())


def engine_run(seed: int) -> Outcome:
    sc = load("benchmark").scenario.with_overrides(population=N, days=DAYS, seed=seed)
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    rec = Recorder(sc, nat)
    engine.run(rec)
    gates = rec.gates[:DAYS]
    app, ok = gates[:, G_MORTGAGE, :, T_APPLIED], gates[:, G_MORTGAGE, :, T_SELECTED]
    travel = gates[:, G_TRAVEL]
    return Outcome(
        hist=rec.hist[:DAYS].astype(np.int64),
        applied=app.sum(axis=1),
        approved=ok.sum(axis=1),
        blocked=(travel[:, :, T_APPLIED] - travel[:, :, T_SELECTED]).sum(axis=1),
        minority_approval=ok[:, 1].sum() / app[:, 1].sum(),
        majority_approval=ok[:, 0].sum() / app[:, 0].sum(),
    )


def baseline_run(seed: int) -> Outcome:
    r = numpy_baseline.simulate(N, DAYS, seed)
    return Outcome(
        hist=r.score_hist,
        applied=r.mortgage_applied.sum(axis=1),
        approved=r.mortgage_approved.sum(axis=1),
        blocked=r.travel_blocked.sum(axis=1),
        minority_approval=r.mortgage_approved[:, 1].sum() / r.mortgage_applied[:, 1].sum(),
        majority_approval=r.mortgage_approved[:, 0].sum() / r.mortgage_applied[:, 0].sum(),
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, list[Outcome]]:
    return {
        "engine": [engine_run(s) for s in SEEDS],
        "baseline": [baseline_run(s) for s in SEEDS],
    }


def _share(hist: np.ndarray, below: int) -> np.ndarray:
    """Each day's share of citizens with a score below ``below``."""
    return hist[:, : below - LO].sum(axis=1) / hist.sum(axis=1)


@pytest.mark.parametrize("implementation", ["engine", "baseline"])
def test_mortgages_are_approved_exactly_at_the_specified_threshold(runs, implementation):  # type: ignore[no-untyped-def]
    approved = expected = variance = 0.0
    for r in runs[implementation]:
        p = 1.0 - _share(r.hist, MORTGAGE_THRESHOLD)  # share eligible, day by day
        approved += r.approved.sum()
        expected += (r.applied * p).sum()
        variance += (r.applied * p * (1 - p)).sum()
    assert abs(approved - expected) <= 4 * math.sqrt(variance), (approved, expected, variance)


@pytest.mark.parametrize("implementation", ["engine", "baseline"])
def test_travel_is_blocked_exactly_below_the_specified_line(runs, implementation):  # type: ignore[no-untyped-def]
    blocked = expected = variance = 0.0
    for r in runs[implementation]:
        q = TRAVEL_RATE * _share(r.hist, BLACKLIST_LINE)  # a citizen's daily blocking chance
        blocked += r.blocked.sum()
        expected += (N * q).sum()
        variance += (N * q * (1 - q)).sum()
    assert expected > 100, expected  # enough blocked attempts for the check to bite
    assert abs(blocked - expected) <= 4 * math.sqrt(variance), (blocked, expected, variance)


def test_engine_and_baseline_scores_agree(runs):  # type: ignore[no-untyped-def]
    a = np.array([r.late_mean() for r in runs["engine"]])
    b = np.array([r.late_mean() for r in runs["baseline"]])
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) <= 4 * se, (a, b, se)
    assert 4 * se < 0.5, se  # the check resolves half a point


def test_the_minority_is_worse_off_in_both_implementations(runs):  # type: ignore[no-untyped-def]
    for name in ("engine", "baseline"):
        worse = [r.minority_approval < r.majority_approval for r in runs[name]]
        assert sum(worse) >= len(worse) - 1, (name, worse)
