"""Monitoring that follows detections ([monitoring]), and Ensign et al. (FAT* 2018) on it.

The mechanism's tests recompute what the engine recorded with an independent
plain-Python computation on tiny runs (the rule of docs/model.md, "One day",
written again here); the Ensign tests hold the engine's mean share of region
A over seeds to the means of 1,000 runs of the authors' own code. Each test
names the plausible bugs it catches; each was planted in the code and seen to
fail the test.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from conftest import minimal, simulate
from socialscore.scenario import load
from socialscore.simulation import rng
from socialscore.studies import feedback_validation as fv

ROOT = Path(__file__).resolve().parents[1]
SCALE = {"base": 600, "lo": 0, "hi": 2000, "grades": [{"name": "all", "from": 0}]}
QUIET = {  # nobody changes behaviour: the events are the same with and without monitoring
    "feedback": {"awareness": 0.0},
    "nation": {"regions": 3, "equal_regions": True, "friends_local": 0, "friends_distant": 0},
}


def scenario(monitoring: dict[str, Any] | None, **extra: Any):  # type: ignore[no-untyped-def]
    """600 citizens in 3 regions, 80 days, one stream rated -10 points, never decaying."""
    data: dict[str, Any] = {
        "run": {"population": 600, "days": 80, "seed": 7, "citizens_per_company": 0},
        "score": SCALE,
        **QUIET,
        "streams": {"public_damage": {"rate": 0.02, "spread": 0.0, "minority_multiplier": 1.5}},
        "rules": [{"event": "public_damage", "points": -10}],
        **extra,
    }
    if monitoring is not None:
        data["monitoring"] = monitoring
    return minimal(**data)


def table(sc) -> tuple[pa.Table, dict[str, pa.Table], Any]:  # type: ignore[no-untyped-def]
    engine, recorder = simulate(sc)
    tables = recorder.tables(engine.state)
    return tables.get("monitoring"), tables, engine


def per_unit(t: pa.Table, column: str) -> np.ndarray:
    """A column of the monitoring table as [day, unit]."""
    units = int(pc_max(t, "unit")) + 1
    return t.column(column).to_numpy().reshape(-1, units)


def pc_max(t: pa.Table, column: str) -> int:
    return int(max(t.column(column).to_pylist()))


# -- an independent computation of the rule, in plain Python ------------------------------


def binomial_quantile(n: int, p: float, u: float) -> int:
    """The least k with P(Binomial(n, p) ≤ k) > u, summed term by term with math.comb."""
    if p <= 0.0 or n == 0:
        return 0
    cdf = 0.0
    for k in range(n + 1):
        cdf += math.comb(n, k) * p**k * (1.0 - p) ** (n - k)
        if cdf > u:
            return k
    return n


def patrols_by_hand(weights: list[int], seed: int, day: int, patrols: int) -> list[int]:
    """Each patrol to unit r with chance w_r / Σ w: the first r whose running sum exceeds u·Σw."""
    counts = [0] * len(weights)
    total = sum(weights)
    for i in range(patrols):
        target = int(rng.uniform(seed, day, i, rng.stream(rng.PATROL)) * total)
        running = 0
        for r, w in enumerate(weights):
            running += w
            if running > target:
                counts[r] += 1
                break
    return counts


def weights_by_hand(
    weights: list[int], found: list[int], m: dict[str, Any], seed: int, day: int
) -> tuple[list[int], int]:
    """Detections added (linear surprise: with chance (1 − s) / max (1 − s')), then decay.

    Also returns how many units the floor held up.
    """
    total = sum(weights)
    shares = [w / total for w in weights]
    most = max(1.0 - s for s in shares)
    out = []
    held = 0
    for r, (w, d) in enumerate(zip(weights, found, strict=True)):
        if m.get("correction", "none") == "surprise" and most > 0:
            u = rng.uniform(seed, day, r, rng.stream(rng.MONITOR_CORRECTION))
            d = d if u < (1.0 - shares[r]) / most else 0
        w += d
        u = rng.uniform(seed, day, r, rng.stream(rng.MONITOR_DECAY))
        left = w - binomial_quantile(w, m.get("decay", 0.0), u)
        held += left < m.get("floor", 1)
        out.append(max(left, m.get("floor", 1)))
    return out, held


MONITORED = {
    "events": ["public_damage"],
    "by": "region",
    "units": 2,
    "prior": [5, 20, 40],
    "decay": 0.1,
    "floor": 5,
}


@pytest.mark.parametrize("correction", ["none", "surprise"])
def test_patrols_and_weights_follow_the_rule_recomputed_by_hand(correction: str) -> None:
    # Catches: patrols drawn uniformly instead of by weight, or from the end-of-day weights;
    # decay skipped, or applied before the detections are added; the correction inverted
    # (the most-patrolled unit always updating) or drawn from the shares after the update;
    # the floor ignored; weights not carried from one day to the next.
    m = {**MONITORED, "correction": correction}
    sc = scenario(m)
    t, _, _ = table(sc)
    weight, end = per_unit(t, "weight"), per_unit(t, "weight_end")
    patrols, found = per_unit(t, "patrols"), per_unit(t, "detections")
    assert weight[0].tolist() == m["prior"]
    w = list(m["prior"])
    held = 0
    for day in range(sc.run.days):
        assert weight[day].tolist() == w, day
        assert patrols[day].tolist() == patrols_by_hand(w, sc.run.seed, day, m["units"]), day
        w, floored = weights_by_hand(w, found[day].tolist(), m, sc.run.seed, day)
        held += floored
        assert end[day].tolist() == w, day
    assert patrols.sum() == 2 * sc.run.days
    assert found.sum() > 50 and (found > 0).any(axis=0).all()  # every unit detected something
    assert held >= 3  # the floor held a unit up on some days
    share = per_unit(t, "share")
    np.testing.assert_allclose(share, weight / weight.sum(axis=1, keepdims=True))


def test_only_patrolled_units_detect_and_unobserved_events_are_not_rated() -> None:
    # Catches: events of unpatrolled units kept for the rulebook (filter after the rules,
    # or not at all); the observed tallies not reduced; the true incidents counted after the
    # filter; a citizen's unit taken from the wrong region.
    m = {**MONITORED, "by": "region"}
    watched, tables, engine = table(scenario(m))
    _, plain_tables, plain = table(scenario(None))
    incidents, found = per_unit(watched, "incidents"), per_unit(watched, "detections")
    patrols = per_unit(watched, "patrols")
    assert (found[patrols == 0] == 0).all()
    np.testing.assert_array_equal(found[patrols > 0], incidents[patrols > 0])  # detection 1
    # The true incidents are the events of the same run without monitoring (same draws),
    # region by region: the citizens' regions from the nation.
    events = plain_tables["daily_events"].filter(
        pa.compute.equal(plain_tables["daily_events"]["event"], "public_damage")
    )
    true_daily = events.column("events").to_numpy().reshape(-1, 2).sum(axis=1)
    np.testing.assert_array_equal(incidents.sum(axis=1), true_daily)
    observed = tables["daily_events"].filter(
        pa.compute.equal(tables["daily_events"]["event"], "public_damage")
    )
    np.testing.assert_array_equal(
        observed.column("events").to_numpy().reshape(-1, 2).sum(axis=1), found.sum(axis=1)
    )
    # Rated: each observed event takes 10 points, region by region; unobserved ones none.
    nat = engine.nation
    lost = 600 - engine.state.score.astype(np.int64)
    start = nat.region_start
    by_region = [int(lost[start[r] : start[r + 1]].sum()) for r in range(3)]
    assert by_region == (10 * found.sum(axis=0)).tolist()
    plain_lost = 600 - plain.state.score.astype(np.int64)
    assert int(plain_lost.sum()) == 10 * int(incidents.sum()) > int(lost.sum())


def test_detection_below_one_sees_its_share_and_zero_sees_nothing() -> None:
    # Catches: detection ignored (every event in a patrolled unit seen) or inverted; a
    # detection of 0 that still observes events; by = "group" taking regions.
    m = {**MONITORED, "by": "group", "prior": [3, 1], "floor": 1, "units": 3, "detection": 0.5}
    halves = {**QUIET["nation"], "minority_share": 0.5, "exact_minority_count": True}
    t, _, _ = table(scenario(m, run={"population": 2000, "days": 80, "seed": 3}, nation=halves))
    incidents, found = per_unit(t, "incidents"), per_unit(t, "detections")
    patrols = per_unit(t, "patrols")
    assert incidents.shape[1] == 2
    seen = found[patrols > 0].sum()
    there = incidents[patrols > 0].sum()
    assert there > 1000
    assert abs(seen - 0.5 * there) < 4 * math.sqrt(0.25 * there), (seen, there)
    # Group 1's rate is 1.5 times group 0's: the true incidents tell the groups apart.
    assert incidents[:, 1].sum() > 1.3 * incidents[:, 0].sum()
    t0, _, engine = table(scenario({**m, "detection": 0.0}))
    assert per_unit(t0, "detections").sum() == 0 and per_unit(t0, "incidents").sum() > 0
    assert (engine.state.score == 600).all()
    assert per_unit(t0, "weight_end").min() >= 1


def test_without_the_section_or_with_nothing_to_watch_every_table_is_unchanged() -> None:
    # Catches: the filter clearing other events' bits or miscounting the tallies; monitoring
    # drawing from a stream that another decision uses; a monitoring table without the section.
    _, plain, _ = table(scenario(None))
    assert "monitoring" not in plain
    t, watched, _ = table(scenario({**MONITORED, "events": ["fraud"]}))  # fraud: no stream
    assert per_unit(t, "incidents").sum() == 0
    assert set(watched) == set(plain) | {"monitoring"}
    for name, tab in plain.items():
        assert watched[name].equals(tab), name


def test_the_section_is_validated() -> None:
    # Catches: unknown events, a prior of the wrong length or below the floor accepted.
    with pytest.raises(ValidationError, match="did you mean 'public_damage'"):
        scenario({**MONITORED, "events": ["public_damag"]})
    with pytest.raises(ValidationError, match="3 units"):
        scenario({**MONITORED, "prior": [5, 6]})
    with pytest.raises(ValidationError, match="below floor"):
        scenario({**MONITORED, "prior": [1, 2, 3]})
    with pytest.raises(ValidationError, match="give prior"):
        scenario({**MONITORED, "prior": None})
    with pytest.raises(ValidationError, match="units"):
        scenario({**MONITORED, "units": 0})


def test_the_reference_figures_are_the_stored_ones() -> None:
    # Catches: a figure mistyped in the copy of reference_shares.csv.
    path = ROOT / "data" / "ensign2018-feedback" / "reference_shares.csv"
    with path.open() as f:
        rows = {(r["config"], int(r["day"])): r for r in csv.DictReader(f)}
    for config, figures in fv.REFERENCE.items():
        for day, (mean, sd) in zip(fv.DAYS, figures, strict=True):
            row = rows[config, day]
            assert (float(row["mean_share_A"]), float(row["sd_across_runs"])) == (mean, sd)
            assert int(row["runs"]) == fv.REFERENCE_RUNS
            assert float(row["true_share_A"]) == round(fv.CONFIGS[config].true_share, 4)


def test_the_shipped_case_is_top2_of_the_authors_parameters() -> None:
    # Catches: a rate, prior or decay of the scenario that is not the paper's.
    sc = load("ensign2018-feedback").scenario
    stream = sc.streams["public_damage"]
    n = sc.run.population // 2
    assert sc.nation.exact_minority_count and sc.nation.minority_share == 0.5
    assert stream.rate * n == pytest.approx(fv.LAMBDA_A, rel=1e-9)
    assert stream.rate * stream.minority_multiplier * n == pytest.approx(2.816466, rel=1e-6)
    m = sc.monitoring
    assert m is not None and (m.prior, m.decay, m.units, m.by) == ([609, 379], 0.01, 1, "group")


#: Seeds per configuration: 4 x 25 runs of 1,000 days, about 0.2 s each on one core.
SEEDS = 25


@pytest.fixture(scope="module")
def figures() -> dict[tuple[str, int], fv.Figure]:
    found = fv.feedback_figures(range(SEEDS), days=(300, 500, 1000))
    return {(f.config, f.day): f for f in found}


@pytest.mark.parametrize("config", list(fv.CONFIGS))
def test_the_share_of_region_a_follows_the_authors_urn(figures, config: str) -> None:  # type: ignore[no-untyped-def]
    # Catches: the correction inverted or skipped (fix runs away like nofix), decay skipped
    # (the share moves too slowly), patrols drawn uniformly (no runaway), detections added
    # to the wrong unit. Tolerance: 3 · sqrt(sd_ref² / S + sd² / S); binomial incidents
    # (1,000 citizens) instead of Poisson change the variance by 0.4%, far inside it.
    for day in (300, 500, 1000):
        f = figures[config, day]
        assert abs(f.mean - f.reference_mean) <= f.tolerance, f


def test_without_the_correction_the_patrols_run_away_and_with_it_they_return(figures) -> None:  # type: ignore[no-untyped-def]
    # The paper's finding, on the same runs: runaway toward A without the correction, the
    # true shares (0.5668, 0.6100) with it.
    assert figures["top2_nofix", 1000].mean > 0.88
    assert figures["random_nofix", 1000].mean > 0.98
    for config in ("top2_fix", "random_fix"):
        f = figures[config, 1000]
        assert abs(f.mean - fv.CONFIGS[config].true_share) < 3 * f.se + 0.01, f


#: A run of the Ensign case made bigger: 5 regions, 40,000 citizens (three chunks), rated.
_THREADED = """
import sys
import socialscore
from socialscore.scenario import load
from socialscore.scenario.schema import Scenario
data = load("ensign2018-feedback").scenario.model_dump(by_alias=True)
data["run"].update(population=40_000, days=30)
data["nation"]["regions"] = 5
data["score"].update(base=600, lo=0, hi=1000)
data["rules"] = [{"event": "public_damage", "points": -1}]
data["streams"]["public_damage"]["rate"] = 0.01
data["monitoring"].update(
    by="region", prior=[5, 4, 3, 2, 1], units=2, detection=0.6, correction="surprise"
)
r = socialscore.run(Scenario.model_validate(data), out=sys.argv[1])
print(r.path)
"""


def _threaded_run(out: Path, threads: int) -> dict[str, str]:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    proc = subprocess.run(
        [sys.executable, "-c", _THREADED, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1])
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.glob("*.parquet")}


def test_the_same_seed_gives_the_same_tables_for_one_and_two_threads(tmp_path: Path) -> None:
    # Catches: a draw keyed by the visiting order (a shared counter, a chunk's first citizen),
    # tallies summed in thread order, patrols drawn inside the parallel kernel.
    one = _threaded_run(tmp_path / "a", 1)
    two = _threaded_run(tmp_path / "b", 2)
    assert "monitoring.parquet" in one and "citizens.parquet" in one
    assert one == two
