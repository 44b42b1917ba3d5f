"""The engine and the hand-written numpy baseline agree on the benchmark regime."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from socialscore import nation
from socialscore.engine import Engine
from socialscore.gates import G_MORTGAGE, G_TRAVEL, T_APPLIED, T_SELECTED
from socialscore.recorder import Recorder
from socialscore.scenario import load

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import numpy_baseline

N, DAYS, SEEDS = 30_000, 120, (11, 12, 13, 14)


def engine_run(seed: int) -> dict[str, np.ndarray | float]:
    sc = load("benchmark").scenario.with_overrides(population=N, days=DAYS, seed=seed)
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    rec = Recorder(sc, nat)
    engine.run(rec)
    daily = rec.daily_table().to_pandas()
    gates = rec.gates[:DAYS]
    return {
        "mean_score": float(daily.mean_score.iloc[-1]),
        "sd_score": float(daily.sd_score.iloc[-1]),
        "minority_mean_score": float(
            rec.group_hist[DAYS - 1, 1, 1] / rec.group_hist[DAYS - 1, 1, 0]
        ),
        "blacklisted": float(daily.blacklisted_share.iloc[-1]),
        "applied": gates[:, G_MORTGAGE, :, T_APPLIED].sum(axis=0),
        "approved": gates[:, G_MORTGAGE, :, T_SELECTED].sum(axis=0),
        "blocked": (gates[:, G_TRAVEL, :, T_APPLIED] - gates[:, G_TRAVEL, :, T_SELECTED]).sum(0),
    }


def baseline_run(seed: int) -> dict[str, np.ndarray | float]:
    r = numpy_baseline.simulate(N, DAYS, seed)
    return {
        "mean_score": float(r.mean_score[-1]),
        "minority_mean_score": float(r.group_mean_score[-1, 1]),
        "blacklisted": float(r.blacklisted_share[-1]),
        "applied": r.mortgage_applied.sum(axis=0),
        "approved": r.mortgage_approved.sum(axis=0),
        "blocked": r.travel_blocked.sum(axis=0),
    }


def test_engine_and_numpy_baseline_agree_statistically():
    eng = [engine_run(s) for s in SEEDS]
    ref = [baseline_run(s) for s in SEEDS]

    def compare_means(key: str, se_one_run: float) -> None:
        a = np.array([r[key] for r in eng])
        b = np.array([r[key] for r in ref])
        se_diff = se_one_run * math.sqrt(2 / len(SEEDS))
        assert abs(a.mean() - b.mean()) <= 4 * se_diff, (key, a, b, se_diff)

    # Standard error of one run's population mean: the citizens' spread over sqrt(N), times
    # 1.5 for the correlation that friends and a shared nation add (measured over 16 seeds:
    # seed-to-seed s.d. 0.18 against 0.15 from the citizens' spread alone).
    sd_score = float(np.mean([r["sd_score"] for r in eng]))
    compare_means("mean_score", 1.5 * sd_score / math.sqrt(N))
    compare_means("minority_mean_score", 1.5 * sd_score / math.sqrt(N // 10))
    share = float(np.mean([r["blacklisted"] for r in eng + ref]))
    compare_means("blacklisted", 1.5 * math.sqrt(share * (1 - share) / N) + 1 / N)
    # Mortgage approval rates per group: binomial standard errors of the pooled rates.
    for g in (0, 1):
        a_app = sum(int(r["applied"][g]) for r in eng)
        a_ok = sum(int(r["approved"][g]) for r in eng)
        b_app = sum(int(r["applied"][g]) for r in ref)
        b_ok = sum(int(r["approved"][g]) for r in ref)
        pa, pb = a_ok / a_app, b_ok / b_app
        p = (a_ok + b_ok) / (a_app + b_app)
        se = math.sqrt(p * (1 - p) * (1 / a_app + 1 / b_app))
        assert abs(pa - pb) <= 4 * se, (g, pa, pb, se)
    # Blocked travel: Poisson counts.
    for g in (0, 1):
        a = sum(int(r["blocked"][g]) for r in eng)
        b = sum(int(r["blocked"][g]) for r in ref)
        assert abs(a - b) <= 4 * math.sqrt(a + b) + 5, (g, a, b)


def test_the_minority_is_worse_off_in_both_implementations():
    eng, ref = engine_run(21), baseline_run(21)
    for r in (eng, ref):
        rates = r["approved"] / r["applied"]
        assert rates[1] < rates[0]
