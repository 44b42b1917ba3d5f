"""Safeguards at work in a run: expiry, clearing, disputes, human review, reasons."""

from __future__ import annotations

import numpy as np

from conftest import minimal, simulate
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES

MORTGAGE = CITIZEN_GATES.index("mortgage")


def test_expired_points_stop_counting():
    sc = minimal(
        run={"population": 2_000, "days": 80, "seed": 5},
        score={"expiry_buckets": 4},
        streams={"bill_late": {"rate": 0.2}},
        participation={"mandatory_from_day": 0},
        rules=[{"event": "bill_late", "points": -20, "expires_after_days": 40}],
    )
    engine, rec = simulate(sc)
    assert rec.events[:, CITIZEN_EVENTS.index("bill_late"), :].sum() > 0
    acc = engine.state.acc.astype(np.float64).sum(axis=0)
    # Only the last 30 to 40 days of late bills count (buckets of 10 days),
    # 0.2 a day at -20 points each, never the 80 days of the run.
    assert -acc.mean() < 0.2 * 40 * 20 * 1.15
    assert -acc.mean() > 0.2 * 30 * 20 * 0.85


def test_points_without_expiry_keep_counting():
    sc = minimal(
        run={"population": 2_000, "days": 80, "seed": 5},
        streams={"bill_late": {"rate": 0.2}},
        rules=[{"event": "bill_late", "points": -20}],
    )
    engine, _ = simulate(sc)
    acc = engine.state.acc.astype(np.float64).sum(axis=0)
    assert -acc.mean() > 0.2 * 80 * 20 * 0.9


def test_a_clearing_event_wipes_the_rule_points():
    common = {
        "run": {"population": 5_000, "days": 60, "seed": 2},
        "streams": {"court_judgment": {"rate": 0.01}, "debt_paid": {"rate": 0.05}},
    }
    kept = minimal(**common, rules=[{"event": "court_judgment", "points": -100}])
    cleared = minimal(
        **common,
        rules=[{"event": "court_judgment", "points": -100, "cleared_by": "debt_paid"}],
    )
    a, _ = simulate(kept)
    b, _ = simulate(cleared)
    listed_kept = (a.state.score < 600).mean()
    listed_cleared = (b.state.score < 600).mean()
    # Steady state with removal on payment: inflow/(inflow + payment) ≈ 0.01/0.06.
    assert listed_cleared < 0.5 * listed_kept
    assert 0.10 < listed_cleared < 0.22
    # A cleared record is gone, not reduced: scores are the base or a whole judgment below.
    assert set(np.unique(b.state.score) % 100) == {0}


def _errors(**extra: object):  # type: ignore[no-untyped-def]
    return minimal(
        run={"population": 20_000, "days": 60, "seed": 7},
        rules=[{"event": "bill_late", "points": -200, "half_life_days": 365}],
        data_errors={"rate": 0.002, "event": "bill_late", **extra.pop("errors", {})},  # type: ignore[dict-item]
        **extra,
    )


def test_disputes_remove_erroneous_points_after_the_delay():
    without = _errors()
    with_disputes = _errors(errors={"dispute_rate": 0.2, "dispute_days": 10})
    a, _ = simulate(without)
    b, rb = simulate(with_disputes)
    assert (a.state.err_acc > 0).sum() > 1_000
    assert (b.state.err_acc > 0).sum() < 0.5 * (a.state.err_acc > 0).sum()
    filed, upheld = rb.disputes[:, :, 0].sum(), rb.disputes[:, :, 1].sum()
    assert filed > 0 and upheld > 0
    assert upheld <= filed
    # Nothing settles before the delay.
    assert rb.disputes[:10, :, 1].sum() == 0
    # Only erroneous points are removed: the true record (none here) is untouched.
    assert np.all(b.state.acc == 0)


def test_human_review_overturns_denials_caused_by_erroneous_records():
    gate = {"apply_rate": 0.05, "threshold": 550, "reapply": True}
    plain = _errors(gates={"mortgage": gate})
    reviewed = _errors(gates={"mortgage": {**gate, "human_review": True, "review_accuracy": 0.9}})
    _, a = simulate(plain)
    _, b = simulate(reviewed)
    erroneous_plain = a.gates[:, MORTGAGE, :, 2].sum()
    overturned = b.gates[:, MORTGAGE, :, 3].sum()
    erroneous_left = b.gates[:, MORTGAGE, :, 2].sum()
    assert erroneous_plain > 100
    share = overturned / (overturned + erroneous_left)
    assert abs(share - 0.9) < 4 * np.sqrt(0.09 / (overturned + erroneous_left))
    assert a.gates[:, MORTGAGE, :, 3].sum() == 0


def test_adverse_decisions_carry_reasons_from_the_persons_own_record():
    sc = minimal(
        run={"population": 5_000, "days": 40, "seed": 3},
        streams={"bill_late": {"rate": 0.02}, "flagged_book": {"rate": 0.01}},
        rules=[
            {"event": "bill_late", "points": -30, "half_life_days": 90, "label": "Late bill"},
            {"event": "flagged_book", "points": -30, "half_life_days": 90, "label": "Book"},
        ],
        gates={"mortgage": {"apply_rate": 0.1, "threshold": 590, "reapply": True, "reasons": True}},
    )
    _, rec = simulate(sc)
    table = rec.reasons_table().to_pylist()
    by_reason: dict[str, int] = {}
    for row in table:
        if row["gate"] == "mortgage":  # the reasons of both groups, over the window
            by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["decisions"]
    days = slice(rec.window.start, rec.window.end + 1)
    denied = rec.gates[days, MORTGAGE, :, 0].sum() - rec.gates[days, MORTGAGE, :, 1].sum()
    assert denied > 100
    assert set(by_reason) == {"Late bill", "Book"}
    # Every denial here comes from the person's own penalties: none unexplained.
    assert rec.gates[:, MORTGAGE, :, 4].sum() == 0
    assert sum(by_reason.values()) >= denied


def test_a_denial_caused_by_friends_scores_has_no_reason_from_the_own_record():
    sc = minimal(
        run={"population": 5_000, "days": 30, "seed": 3},
        score={"lo": 0, "hi": 2000, "base": 600},
        network={"enabled": True, "weight": -1.0, "center": 0, "every_days": 1},
        gates={"mortgage": {"apply_rate": 0.1, "threshold": 590, "reapply": True, "reasons": True}},
    )
    _, rec = simulate(sc)
    denied = rec.gates[:, MORTGAGE, :, 0].sum() - rec.gates[:, MORTGAGE, :, 1].sum()
    assert denied > 100
    assert rec.gates[:, MORTGAGE, :, 4].sum() == denied
