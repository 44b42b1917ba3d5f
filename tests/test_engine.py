"""The engine: reproducible, thread-count independent, common random numbers, feedback."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import socialscore
from conftest import minimal, simulate, small
from socialscore.scenario import shipped_scenarios
from socialscore.simulation import nation
from socialscore.simulation.kernels import friends
from socialscore.simulation.kernels.friends import DROPPED_BIT, EMPTY


def _parquet_hashes(run_path: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_path.glob("*.parquet"))
    }


def _run_in_subprocess(out: Path, threads: int) -> Path:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    code = (
        "import socialscore, sys\n"
        f"r = socialscore.run('citizen-score', population=40_000, days=25, out={str(out)!r})\n"
        "print(r.path)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def test_same_seed_gives_byte_identical_tables_for_one_and_two_threads(tmp_path):  # type: ignore[no-untyped-def]
    one = _run_in_subprocess(tmp_path / "a", 1)
    two = _run_in_subprocess(tmp_path / "b", 2)
    hashes_one, hashes_two = _parquet_hashes(one), _parquet_hashes(two)
    assert "citizens.parquet" in hashes_one and "daily.parquet" in hashes_one
    assert hashes_one == hashes_two


def test_different_seeds_give_different_runs(tmp_path):  # type: ignore[no-untyped-def]
    a = socialscore.run(small(days=10), seed=1, out=tmp_path)
    b = socialscore.run(small(days=10), seed=2, out=tmp_path)
    assert not np.array_equal(
        a.table("citizens").column("score").to_numpy(),
        b.table("citizens").column("score").to_numpy(),
    )


def test_scenarios_differing_only_in_policy_share_nation_and_first_day_draws(tmp_path):  # type: ignore[no-untyped-def]
    scored = socialscore.run(small("citizen-score", days=3), out=tmp_path)
    baseline = socialscore.run(small("no-scoring", days=3), out=tmp_path)
    for column in ("region", "group", "income_decile", "children", "friends_start"):
        assert (
            scored.table("citizens")
            .column(column)
            .equals(baseline.table("citizens").column(column))
        )
    events_a = scored.to_pandas("daily_events")
    events_b = baseline.to_pandas("daily_events")
    first_a = events_a[(events_a.day == 0) & (events_a.event != "interaction_low_scorer")]
    first_b = events_b[(events_b.day == 0) & (events_b.event != "interaction_low_scorer")]
    assert first_a.events.tolist() == first_b.events.tolist()
    assert first_a.events.sum() > 0


def test_no_scoring_keeps_everyone_at_base_and_approves_everything(tmp_path):  # type: ignore[no-untyped-def]
    result = socialscore.run(small("no-scoring", days=30), out=tmp_path)
    score = result.table("citizens").column("score").to_numpy()
    assert np.all(score == result.scenario.score.base)
    gates = result.to_pandas("daily_gates")
    assert (gates.applied == gates.selected).all()
    assert gates.applied.sum() > 0


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_shipped_scenario_runs_at_small_size(name, tmp_path):  # type: ignore[no-untyped-def]
    result = socialscore.run(name, population=3_000, days=20, seed=11, out=tmp_path)
    assert result.path.is_dir()
    daily = result.to_pandas("daily")
    assert len(daily) == 20
    assert daily.mean_score.between(result.scenario.score.lo, result.scenario.score.hi).all()
    assert result.metrics.num_rows > 10


def test_chilling_curbs_penalised_legal_behaviour_of_aware_low_scorers():
    common = {
        "run": {"population": 20_000, "days": 200, "seed": 5},
        "streams": {"flagged_book": {"rate": 0.05, "spread": 0.0}},
        "rules": [{"event": "flagged_book", "points": -15, "half_life_days": 60}],
    }
    chilled = minimal(
        **common,
        feedback={
            "awareness": 1.0,
            "chilling": {"below": 600, "strength": 0.001, "risk_aversion_weight": 0.0},
        },
    )
    free = minimal(**common, feedback={"awareness": 1.0, "chilling": {"strength": 0.0}})
    _, rec_chilled = simulate(chilled)
    _, rec_free = simulate(free)
    ev = 12  # flagged_book
    last_chilled = rec_chilled.events[-30:, ev].sum()
    last_free = rec_free.events[-30:, ev].sum()
    assert last_chilled < 0.8 * last_free
    # Day 0 draws are shared, so the two runs start identical.
    assert rec_chilled.events[0, ev].sum() == rec_free.events[0, ev].sum()


def _unfriending(probability: float):  # type: ignore[no-untyped-def]
    """5,000 citizens whose defaults push some below an unfriending cut of 450."""
    return minimal(
        run={"population": 5_000, "days": 30, "seed": 9},
        score={"base": 600, "lo": 350, "hi": 950, "grades": [{"name": "all", "from": 350}]},
        streams={"bill_default": {"rate": 0.05}},
        rules=[{"event": "bill_default", "points": -40}],
        network={
            "enabled": True,
            "weight": 0.0,
            "every_days": 1,
            "unfriend_below": 450,
            "unfriend_probability": probability,
        },
    )


def test_unfriending_drops_only_low_scoring_friends():
    sc = _unfriending(1.0)
    engine, rec = simulate(sc)
    initial = engine.nation.friends  # as generated, read back from the draws
    now = engine.nation.friend_ids(engine.state.friend_codes)
    dropped = initial[(now < 0) & (initial >= 0)]
    assert dropped.size > 0
    assert rec.dropped.sum() == dropped.size
    remaining = now[now >= 0]
    # Anyone still counted as a friend was at or above the cut at the last update.
    assert engine.state.score[remaining].min() >= 450 - 40


def test_dropped_friendships_keep_their_draw_so_the_start_can_be_read_back():
    sc = _unfriending(0.5)
    generated = nation.generate(sc).friends
    engine, _ = simulate(sc)
    nat, codes = engine.nation, engine.state.friend_codes
    assert ((codes >= DROPPED_BIT) & (codes != EMPTY)).sum() > 0
    np.testing.assert_array_equal(nat.friends, generated)
    now_ids = nat.friend_ids(codes)
    now, lost = friends.followers(codes, nat.seed, nat.region_start, nat.friends_local)
    np.testing.assert_array_equal(now, np.bincount(now_ids[now_ids >= 0], minlength=5_000))
    np.testing.assert_array_equal(
        now + lost, np.bincount(generated[generated >= 0], minlength=5_000)
    )
    np.testing.assert_array_equal(friends.out_degree(codes, True), (generated >= 0).sum(axis=1))
    np.testing.assert_array_equal(friends.out_degree(codes), (now_ids >= 0).sum(axis=1))


def test_network_term_pulls_toward_friends_mean():
    sc = minimal(
        run={"population": 3_000, "days": 8, "seed": 2},
        network={"enabled": True, "weight": 0.5, "center": 500, "every_days": 7},
    )
    engine, _ = simulate(sc)
    # Day 0: everyone at 600, term 0.5 * (600 - 500) = 50, scores 650 for days 0-6.
    # Day 7 reads those: term 0.5 * (650 - 500) = 75.
    assert np.all(engine.state.net == 75)
    assert np.all(engine.state.score == 675)


def test_voluntary_participation_leaves_non_participants_unrated_until_mandatory():
    common = {
        "run": {"population": 10_000, "days": 20, "seed": 4},
        "streams": {"bill_late": {"rate": 0.2}},
        "rules": [{"event": "bill_late", "points": -10}],
    }
    voluntary = minimal(**common, participation={"mandatory_from_day": 100, "opt_in_share": 0.3})
    engine, _ = simulate(voluntary)
    out = engine.state.participant == 0
    assert 0.25 < 1 - out.mean() < 0.35
    assert np.all(engine.state.score[out] == 600)
    assert np.all(engine.state.score[~out] <= 600)
    mandatory = minimal(**common, participation={"mandatory_from_day": 5, "opt_in_share": 0.3})
    engine, _ = simulate(mandatory)
    assert np.mean(engine.state.score < 600) > 0.9


def test_data_errors_are_recorded_and_counted():
    sc = minimal(
        run={"population": 10_000, "days": 50, "seed": 3},
        rules=[{"event": "bill_late", "points": -20, "half_life_days": 30}],
        data_errors={"rate": 0.01, "event": "bill_late"},
    )
    engine, rec = simulate(sc)
    expected = 0.01 * 10_000 * 50
    assert abs(rec.errors.sum() - expected) < 5 * np.sqrt(expected)
    # With no real late bills, every point lost is an erroneous one: the
    # erroneous points are kept apart from the true record, and the score
    # without them is the base.
    assert np.all(engine.state.acc[0] == 0)
    expected_score = np.clip(
        np.floor(600 + engine.state.err_acc.astype(np.float64) * -20 + 0.5), 350, 950
    )
    np.testing.assert_array_equal(engine.state.score, expected_score)
    assert (engine.state.err_acc > 0).mean() > 0.2
    assert np.all(engine.state.score_clean == 600)


def test_exposures_are_kept_for_aware_citizens_only_and_expand_in_any_slices():
    sc = small(population=40_000, days=30)
    sc = sc.model_copy(update={"feedback": sc.feedback.model_copy(update={"awareness": 0.5})})
    engine, _ = simulate(sc)
    st = engine.state
    aware = st.aware_mask(0, sc.run.population) != 0
    assert st.chill.shape[0] == aware.sum() == st.aware_offset[-1]
    whole = st.exposure(st.chill, 0, sc.run.population)
    assert (whole[~aware] == 0).all() and (whole[aware] > 0).any()
    np.testing.assert_array_equal(whole[aware], st.chill)
    cuts = [0, 5, 16_384, 20_000, 32_768, 40_000]
    parts = [st.exposure(st.gaming, a, b) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), st.exposure(st.gaming, 0, 40_000))


def test_the_kernels_get_arguments_of_one_type_in_every_shipped_scenario(monkeypatch):  # type: ignore[no-untyped-def]
    """Each kernel compiles once for all scenarios: its bundles' numba types never vary."""
    import numba

    from socialscore.scenario.files import load
    from socialscore.simulation import engine
    from socialscore.simulation.recorder import Recorder

    types: dict[str, set[object]] = {}

    def record(kernel, n_chunks, *args):  # type: ignore[no-untyped-def]
        types.setdefault(kernel.py_func.__name__, set()).add(numba.typeof(args))

    monkeypatch.setattr(engine, "over_chunks", record)
    monkeypatch.setattr(engine, "mark_low_ranked", lambda *args: None)
    for name in sorted(shipped_scenarios()):
        sc = load(name).scenario.with_overrides(population=2_000, days=1)
        nat = nation.generate(sc)
        engine.Engine(sc, nat).step(0, Recorder(sc, nat))
    assert {"step_citizens", "step_gates", "step_companies", "step_network"} <= types.keys()
    assert {k: len(v) for k, v in types.items()} == dict.fromkeys(types, 1)
