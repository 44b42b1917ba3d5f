"""Specification of the daily tallies registry: the kernel-to-recorder contract, declared once."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import simulate, small
from socialscore.simulation import tallies
from socialscore.simulation.kernels.behaviour import chunk_count


@pytest.fixture(scope="module")
def ran():  # type: ignore[no-untyped-def]
    sc = small("citizen-score", population=3_000, days=12)
    engine, recorder = simulate(sc)
    return sc, engine, recorder


def test_the_recorder_keeps_each_declared_tally_in_its_declared_shape_and_dtype(ran) -> None:  # type: ignore[no-untyped-def]
    sc, _, recorder = ran
    dims = tallies.dimensions(sc, len(recorder.reason_labels))
    for tally in tallies.DAILY:
        kept = getattr(recorder, tally.name)
        assert kept.shape == (sc.run.days, *tally.shape(dims)), tally.name
        assert kept.dtype == tally.dtype, tally.name


def test_every_day_is_recorded_whole(ran) -> None:  # type: ignore[no-untyped-def]
    sc, _, recorder = ran
    population = sc.run.population
    assert (recorder.hist.sum(axis=1) == population).all()
    assert (recorder.group_hist[:, :, 0].sum(axis=1) == population).all()
    applied = recorder.gates[..., 0].sum(axis=2)  # [day, gate]
    replicated = recorder.gate_replicates[..., 0].sum(axis=(2, 3))
    np.testing.assert_array_equal(applied, replicated)


#: Tables built only under some scenarios: ``gate_policy`` under a lending policy other than
#: ``fixed`` (tests/test_policies.py checks it is built there), ``monitoring`` under
#: ``[monitoring]`` (tests/test_monitoring.py).
CONDITIONAL = {"gate_policy", "monitoring"}


def test_every_declared_table_is_built(ran) -> None:  # type: ignore[no-untyped-def]
    _, engine, recorder = ran
    built = set(recorder.tables(engine.state))
    for tally in tallies.DAILY:
        assert set(tally.tables) - CONDITIONAL <= built, tally.name
    assert not CONDITIONAL & built  # citizen-score's lender keeps its fixed threshold


def test_the_engine_sums_buffers_of_the_declared_shapes(ran) -> None:  # type: ignore[no-untyped-def]
    sc, engine, recorder = ran
    dims = tallies.dimensions(sc, len(recorder.reason_labels))
    chunks = chunk_count(engine.nation.population)
    buffers = {
        **engine.citizen_tallies._asdict(),
        "reasons": engine.gate_tallies.reasons,
        "group_state": engine.gate_tallies.group_state,
        "disputes": engine._disputes,
        "dropped": engine._dropped,
    }
    for name, buffer in buffers.items():
        assert buffer.shape == (chunks, *tallies.BY_NAME[name].shape(dims)), name


def test_a_day_without_every_tally_or_with_an_unknown_one_is_refused(ran) -> None:  # type: ignore[no-untyped-def]
    sc, _, recorder = ran
    dims = tallies.dimensions(sc, len(recorder.reason_labels))
    day = {t.name: np.zeros(t.shape(dims), t.dtype) for t in tallies.DAILY}
    recorder.record_day(0, **day)  # exactly the registry: accepted
    missing = {k: v for k, v in day.items() if k != "dropped"}
    with pytest.raises(KeyError, match="dropped"):
        recorder.record_day(0, **missing)
    with pytest.raises(KeyError, match="happiness"):
        recorder.record_day(0, **day, happiness=np.zeros(2))
