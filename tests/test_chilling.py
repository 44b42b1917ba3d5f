"""Chilling against what the same citizens would have done: the kernel's exact tallies.

The behaviour kernel records, per day, event and group, the sums of the day's
probabilities with the chilling factor and without it (and of their squares).
These tests check the tallies against a brute-force recomputation from the
state, against the events that happened, and the measures and checks built
on them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import minimal, simulate, small
from socialscore.analysis import audit, chilling, harms
from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.scenario.files import load
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, GROUP_LABELS, TRAITS
from socialscore.scenario.window import Window, measurement_window
from socialscore.simulation import nation, rng
from socialscore.simulation.compiled import trait_multiplier_table
from socialscore.simulation.engine import Engine
from socialscore.simulation.recorder import Recorder

EV = {name: k for k, name in enumerate(CITIZEN_EVENTS)}
P_UNIT = 2.0**-31
P2_UNIT = 2.0**-34


def _sums(recorder: Recorder, days: slice = slice(None)) -> np.ndarray:
    """Σ p, Σ p unchilled, Σ p² per event, over ``days`` and both groups (as probabilities)."""
    raw = recorder.expected[days].sum(axis=(0, 2)).astype(np.float64)
    return raw * np.array([P_UNIT, P_UNIT, P2_UNIT])


def _chilled(**extra: object) -> Scenario:
    """citizen-score, small, everyone rated from day 0, strong chilling of the aware below 650."""
    sc = small("citizen-score", population=20_000, days=int(extra.pop("days", 60)))  # type: ignore[call-overload]
    fb = sc.feedback
    return sc.model_copy(
        update={
            "participation": sc.participation.model_copy(update={"mandatory_from_day": 0}),
            "feedback": fb.model_copy(
                update={
                    "awareness": 0.6,
                    "chilling": fb.chilling.model_copy(
                        update={"below": 650, "strength": 0.003, "risk_aversion_weight": 0.0}
                    ),
                }
            ),
        }
    )


@pytest.fixture(scope="module")
def chilled_run() -> tuple[Scenario, Engine, Recorder]:
    sc = _chilled()
    engine, recorder = simulate(sc)
    return sc, engine, recorder


@pytest.fixture(scope="module")
def free_run() -> tuple[Scenario, Engine, Recorder]:
    sc = small("no-scoring", population=20_000, days=60)
    engine, recorder = simulate(sc)
    return sc, engine, recorder


def test_without_chilling_the_unchilled_expectation_is_the_expectation_exactly(free_run):  # type: ignore[no-untyped-def]
    _, _, recorder = free_run
    tallies = recorder.expected
    np.testing.assert_array_equal(tallies[..., 0], tallies[..., 1])
    assert tallies[..., 0].sum() > 0


@pytest.mark.parametrize("which", ["free", "chilled"])
def test_events_that_happened_agree_with_the_expectation(which, free_run, chilled_run):  # type: ignore[no-untyped-def]
    """Realised counts are Poisson-binomial with the recorded mean and variance."""
    _, _, recorder = free_run if which == "free" else chilled_run
    sums = _sums(recorder)
    events = recorder.events.sum(axis=(0, 2)).astype(np.float64)
    checked = 0
    for k, name in enumerate(CITIZEN_EVENTS):
        expected, variance = sums[k, 0], sums[k, 0] - sums[k, 2]
        if expected < 50:
            continue
        z = (events[k] - expected) / math.sqrt(variance)
        assert abs(z) < 4.5, (name, events[k], expected, z)
        checked += 1
    assert checked >= 12  # every stream of citizen-score, interactions included


def test_chilling_deters_penalised_lawful_behaviour_only(chilled_run):  # type: ignore[no-untyped-def]
    sc, _, recorder = chilled_run
    sums = _sums(recorder)
    deterred = chilling.deterred_events(sc)
    assert {"interaction", "interaction_low_scorer", "flagged_book"} <= set(deterred)
    assert not {"bill_late", "bill_on_time", "book_read"} & set(deterred)
    for name in deterred:
        expected, unchilled = sums[EV[name], 0], sums[EV[name], 1]
        assert 1.0 - expected / unchilled > 1e-3, name
    # Rewarded, unpenalised or not deterrable: exactly nothing forgone.
    for name in ("bill_on_time", "bill_late", "bill_default", "purchase_family", "book_read"):
        day_sums = recorder.expected[:, EV[name]]
        np.testing.assert_array_equal(day_sums[..., 0], day_sums[..., 1])


def _heterogeneity_stream(block: int) -> int:
    """The stream of the fixed rate multipliers of events ``8·block`` to ``8·block + 7``."""
    if hasattr(rng, "HETEROGENEITY"):  # the key registry (purpose and index in separate fields)
        return int(rng.stream(rng.HETEROGENEITY, block))  # type: ignore[attr-defined]
    return rng.KEY_HETEROGENEITY + block


def _brute_force(sc: Scenario, engine: Engine, day: int) -> np.ndarray:
    """Σ p, Σ p unchilled, Σ p² per event and group for ``day``, from the state that morning.

    The day's probability, as docs/model.md states it: rate × heterogeneity ×
    trait multiplier × group multiplier × (1 + stress sensitivity · stress) ×
    exp(−κ · chill) × exp(γ · gaming), in plain numpy, capped at 1 and on the
    draw's grid of 2**-31.
    """
    st = engine.state
    nat = engine.nation
    n = nat.population
    cp = engine.compiled.streams
    seed = sc.run.seed
    chill = st.exposure(st.chill, 0, n).astype(np.float64)
    gaming = st.exposure(st.gaming, 0, n).astype(np.float64)
    stress = st.stress.astype(np.float64)
    group = nat.group.astype(np.int64)
    static_key = rng.day_key(seed, rng.STATIC_DAY)
    out = np.zeros((len(CITIZEN_EVENTS), 2, 3))
    for a, e in enumerate(cp.event):
        spec = sc.streams[CITIZEN_EVENTS[e]]
        h = np.array(
            [rng.entity_hash(static_key, i, _heterogeneity_stream(e // 8)) for i in range(n)],
            dtype=np.uint64,
        )
        level = (h >> np.uint64(8 * (e & 7))) & np.uint64(0xFF)
        het = 1.0 - spec.spread + 2.0 * spec.spread * (level.astype(np.float64) + 0.5) / 256.0
        trait = np.ones(n)
        if spec.trait:
            table = trait_multiplier_table(spec.trait_strength)
            trait = table[nat.traits[TRAITS.index(spec.trait)]]
        mult = np.where(group == 1, spec.minority_multiplier, 1.0)
        free = spec.rate * het * trait * mult * (1.0 + spec.stress_sensitivity * stress)
        free *= np.exp(cp.gaming_coef[a] * gaming)
        p = free * np.exp(-cp.chill_coef[a] * chill)
        p, free = (np.minimum(np.ceil(x * 2.0**31), 2.0**31) / 2.0**31 for x in (p, free))
        for g in range(2):
            sel = group == g
            out[e, g] = p[sel].sum(), free[sel].sum(), (p[sel] ** 2).sum()
    return out


def test_tallies_equal_a_brute_force_recomputation_from_the_state():
    # Two chunks, and the state of day 40 of a chilled regime: stress, chilling and
    # gaming exposures differ from citizen to citizen.
    sc = _chilled(days=42)
    sc = sc.with_overrides(population=20_000)
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    recorder = Recorder(sc, nat)
    day = 40
    for d in range(day):
        engine.step(d, recorder)
    assert (engine.state.stress > 0).any() and (engine.state.chill > 0).any()
    want = _brute_force(sc, engine, day)
    engine.step(day, recorder)
    got = recorder.expected[day].astype(np.float64) * np.array([P_UNIT, P_UNIT, P2_UNIT])
    streams = [e for e in engine.compiled.streams.event]
    for e in streams:
        name = CITIZEN_EVENTS[e]
        np.testing.assert_allclose(got[e, :, :2], want[e, :, :2], rtol=1e-12, err_msg=name)
        # Squares are kept to 2**-34 each, rounded.
        np.testing.assert_allclose(got[e, :, 2], want[e, :, 2], atol=20_000 * 2.0**-35)
    # Some of the check is about chilling: the unchilled sums differ where it applies.
    assert (want[streams, :, 1] - want[streams, :, 0]).max() > 1.0


def test_forgone_share_in_the_metrics_is_the_tallies_over_the_window(chilled_run):  # type: ignore[no-untyped-def]
    sc, _, recorder = chilled_run
    events = recorder.daily_events_table()
    window = Window(30, 59, None, "test")
    rows = chilling.measures(sc, events, window)
    frame = pd.DataFrame([r.__dict__ for r in rows])
    assert set(frame.subject) == set(chilling.deterred_events(sc))
    assert set(frame.grp) == {*GROUP_LABELS, "all"}
    assert all(d == (30, 59) for d in frame.days)
    sums = recorder.expected[30:60].sum(axis=0).astype(np.float64) * P_UNIT  # [e, g, q]
    for name in ("flagged_book", "interaction", "interaction_low_scorer"):
        for g, label in [(0, GROUP_LABELS[0]), (1, GROUP_LABELS[1]), (None, "all")]:
            part = sums[EV[name]].sum(axis=0) if g is None else sums[EV[name], g]
            share = 1.0 - part[0] / part[1]
            row = frame[
                (frame.metric == "chilling_forgone_share")
                & (frame.subject == name)
                & (frame.grp == label)
            ]
            assert row.value.iloc[0] == pytest.approx(share, rel=1e-12)
            assert row.ci.iloc[0] is None  # an exact expectation given the run
            acts = frame[
                (frame.metric == "chilling_forgone_acts")
                & (frame.subject == name)
                & (frame.grp == label)
            ]
            assert acts.value.iloc[0] == pytest.approx(part[1] - part[0], rel=1e-12)
        # The acts that happened tell the same story, within their interval.
        realised = frame[
            (frame.metric == "chilling_realised_share")
            & (frame.subject == name)
            & (frame.grp == "all")
        ].iloc[0]
        exact = frame[
            (frame.metric == "chilling_forgone_share")
            & (frame.subject == name)
            & (frame.grp == "all")
        ].value.iloc[0]
        lo, hi = realised.ci
        half = (hi - lo) / 2
        assert abs(realised.value - exact) < 2.3 * half  # 4.5 standard deviations
        assert exact > 0.01


def test_harms_report_chilling_over_the_measurement_window(tmp_path):  # type: ignore[no-untyped-def]
    import socialscore

    sc = _chilled(days=60)
    result = socialscore.run(sc, out=tmp_path)
    m = result.metrics.to_pandas()
    window = measurement_window(sc, 60)
    share = m[(m.metric == "chilling_forgone_share") & (m.grp == "all")]
    assert set(share.subject) == set(chilling.deterred_events(sc))
    assert (share.day_from == window.start).all() and (share.day_to == window.end).all()
    assert (share.value > 0).all() and share.ci_low.isna().all()
    assert "penalised_behaviour_change" not in set(m.metric)
    realised = m[m.metric == "chilling_realised_share"]
    assert (realised.ci_low < realised.value).all() and (realised.value < realised.ci_high).all()
    for metric in ("chilling_forgone_share", "chilling_forgone_acts", "chilling_realised_share"):
        assert metric in DESCRIPTIONS
    # The recorded columns: citizens carry expectations, companies none.
    ev = result.to_pandas("daily_events")
    assert ev[ev.entity == "company"].expected.isna().all()
    citizens = ev[ev.entity == "citizen"]
    assert (citizens.expected_unchilled >= citizens.expected).all()
    assert (citizens.variance <= citizens.expected).all() and (citizens.variance >= 0).all()


def test_deterred_events_follow_the_rulebook_and_count_interactions():
    assert chilling.deterred_events(load("no-scoring").scenario) == []
    base = minimal(
        streams={
            "interaction": {"rate": 0.2},
            "book_read": {"rate": 0.05},
            "bill_late": {"rate": 0.01, "deterrable": False},
            "flagged_book": {"rate": 0.01},
        },
        rules=[
            {"event": "book_read", "points": 2},
            {"event": "bill_late", "points": -20},
            {"event": "flagged_book", "points": -15},
        ],
    )
    assert chilling.deterred_events(base) == ["flagged_book"]
    guilt = base.model_copy(
        update={
            "rules": [
                *base.rules,
                *minimal(rules=[{"event": "interaction_low_scorer", "points": -3}]).rules,
            ]
        }
    )
    # Meeting a low-ranked friend costs points: every interaction is chilled by them.
    assert chilling.deterred_events(guilt) == [
        "interaction",
        "interaction_low_scorer",
        "flagged_book",
    ]
    assert harms.penalised_legal_events(guilt) == chilling.deterred_events(guilt)


def test_counterfactual_change_uses_the_window_and_pairs_the_days():
    gen = np.random.default_rng(3)
    days = 100
    baseline = gen.poisson(1000, days).astype(np.float64)
    counts = baseline.copy()
    counts[:50] *= 0.5  # outside the window: ignored
    window = Window(50, 99, None, "test")
    same = chilling.counterfactual_change(counts, baseline, window)
    assert same is not None
    assert same.change == 0.0 and same.ci == (0.0, 0.0) and same.days == 50
    # A 10% fall with day-to-day noise: the interval is the ratio estimator's.
    counts = baseline * 0.9 + gen.normal(0, 5, days)
    got = chilling.counterfactual_change(counts, baseline, window)
    assert got is not None
    c, b = counts[50:], baseline[50:]
    ratio = c.sum() / b.sum()
    # Brute force: the standard error from resampling days, against the formula's.
    boot = []
    for _ in range(4000):
        k = gen.integers(0, 50, 50)
        boot.append(c[k].sum() / b[k].sum())
    assert got.change == pytest.approx(ratio - 1.0, rel=1e-12)
    half = (got.ci[1] - got.ci[0]) / 2
    assert half == pytest.approx(2.01 * np.std(boot), rel=0.15)
    assert got.ci[1] < -0.09 and got.ci[0] > -0.11
    assert chilling.counterfactual_change(counts, np.zeros(days), window) is None


def test_audit_chilling_check_states_the_window_interval_and_own_tally(tmp_path):  # type: ignore[no-untyped-def]
    sc = _chilled(days=80)
    engine, recorder = simulate(sc)
    _, baseline = simulate(audit.counterfactual(sc))
    metrics = harms.compute(
        sc,
        {**recorder.tables(engine.state), "citizens": recorder.citizens_core(engine.state)},
        engine.nation.friend_blocks(engine.state.friend_codes),
    )
    checks = audit.chilling_checks(
        sc, metrics.to_pandas(), recorder.events, baseline.events, audit.Thresholds()
    )
    by_subject = {c.subject: c for c in checks}
    window = measurement_window(sc, 80)
    flagged = by_subject["behaviour flagged_book"]
    assert window.label() in flagged.reason and "deterred" in flagged.reason
    assert flagged.value is not None and flagged.value < 0
    # Without a score the bottom tenth is a random tenth of a tied ranking: not comparable.
    low = by_subject["behaviour interaction_low_scorer"]
    assert low.verdict == "not applicable" and "different people" in low.reason
    assert "deterred" in low.reason  # judged by the run's own tally instead
    # Window only: a fall before the window is not chilling.
    early = recorder.events.copy()
    early[: window.start] = 0
    moved = audit.chilling_checks(
        sc, metrics.to_pandas(), early, recorder.events, audit.Thresholds()
    )
    assert all(c.value == 0.0 for c in moved if c.value is not None)


def test_compare_measures_chilling_against_no_scoring_on_the_same_draws(tmp_path):  # type: ignore[no-untyped-def]
    from socialscore.studies.compare import HEADLINE_METRICS, common_window, compare
    from socialscore.studies.run import parse_json

    assert {"chilling_forgone_share", "chilling_forgone_acts"} <= set(HEADLINE_METRICS)
    chilled = _chilled(days=60).with_overrides(population=5_000)
    free = load("no-scoring").scenario.with_overrides(population=5_000, days=60)
    loaded = [parse_json(sc.model_dump_json(by_alias=True)) for sc in (free, chilled)]
    result = compare(loaded, seeds=2, out=tmp_path)
    t = result.table
    name = chilled.scenario.name
    share = t[
        (t.scenario == name)
        & (t.metric == "chilling_forgone_share")
        & (t.subject == "flagged_book")
        & (t.grp == "all")
    ].iloc[0]
    # The baseline deters nothing: the difference is the regime's own share.
    assert share["mean"] > 0.0 and share.difference == pytest.approx(share["mean"])
    assert share.ci_low > 0.0
    # Rates over the days both windows cover; the chilled behaviour falls on the same draws.
    window = common_window([free, chilled])
    assert window.start == max(measurement_window(free).start, measurement_window(chilled).start)
    rates = result.values[result.values.metric == "behaviour_rate"]
    assert (rates.day_from == window.start).all() and (rates.day_to == window.end).all()
    assert result.difference(name, "behaviour_rate", "flagged_book") < 0.0


def test_counterfactual_interval_covers_with_correlated_days():
    """Day-to-day residuals that persist (AR(1), phi = 0.8) would make an interval that treats
    the days as independent cover about 60% of the time; the widened one covers near 95%."""
    gen = np.random.default_rng(11)
    days, phi, reps = 120, 0.8, 2_000
    window = Window(20, 119, None, "test")
    covered = 0
    for _ in range(reps):
        baseline = gen.poisson(1000, days).astype(np.float64)
        noise = np.empty(days)
        noise[0] = gen.normal(0, 10 / np.sqrt(1 - phi**2))
        for t in range(1, days):
            noise[t] = phi * noise[t - 1] + gen.normal(0, 10)
        got = chilling.counterfactual_change(0.9 * baseline + noise, baseline, window)
        assert got is not None
        covered += got.ci[0] <= -0.1 <= got.ci[1]
    assert 0.90 <= covered / reps <= 0.985, covered / reps
