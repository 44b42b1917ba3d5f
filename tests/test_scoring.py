"""Rules laid out as accumulators; the scores (views) that gates read."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import minimal
from socialscore.scenario.vocabulary import CITIZEN_GATES
from socialscore.simulation.layout import NETWORK_REASON, layout

LATE = {"event": "bill_late", "points": -20, "half_life_days": 90}
BOOK = {"event": "flagged_book", "points": -15, "half_life_days": 90}


def test_rules_alike_share_an_accumulator_capped_rules_do_not():
    lay = layout(
        minimal(
            rules=[
                LATE,
                BOOK,
                {"event": "book_read", "points": 1, "half_life_days": 90, "cap": 30},
                {"event": "good_deed", "points": 30, "half_life_days": 365},
            ]
        )
    )
    assert lay.slot.tolist() == [0, 0, 1, 2]
    assert lay.cap[1] == 30 and np.isinf(lay.cap[0])


def test_reasons_give_every_rule_its_own_accumulator_and_label():
    sc = minimal(
        rules=[{**LATE, "label": "Late bill"}, {**BOOK, "label": "Flagged book"}],
        gates={"mortgage": {"reasons": True}},
    )
    lay = layout(sc)
    assert lay.slot.tolist() == [0, 1]
    assert lay.labels == ("Late bill", "Flagged book", NETWORK_REASON, "an erroneous record")


def test_an_expiring_rule_rotates_through_buckets_and_empties_the_oldest():
    sc = minimal(
        score={"expiry_buckets": 4},
        rules=[{"event": "bill_late", "points": -20, "expires_after_days": 40}],
    )
    lay = layout(sc)
    assert lay.accumulators == 4 and lay.bucket_days.tolist() == [10]
    assert [int(lay.slots_on(d)[0]) for d in (0, 9, 10, 39, 40)] == [0, 0, 1, 3, 0]
    # Bucket 0 holds days 0-9; it is emptied on day 40, before day 40's events.
    assert lay.rows_to_empty(39) == []
    assert lay.rows_to_empty(40) == [0]
    assert lay.rows_to_empty(50) == [1]


def test_purpose_limitation_builds_a_view_from_one_domain_only():
    sc = minimal(
        rules=[LATE, BOOK],
        gates={"mortgage": {"purpose": ["finance"]}, "travel": {}},
        network={"enabled": True, "weight": 0.1},
    )
    lay = layout(sc)
    mortgage = lay.gate_view[CITIZEN_GATES.index("mortgage")]
    travel = lay.gate_view[CITIZEN_GATES.index("travel")]
    assert travel == 0 and mortgage == 1
    late, book = lay.slot.tolist()
    assert late != book  # a domain boundary splits the shared accumulator
    assert lay.view_weight[1, late] == 1 and lay.view_weight[1, book] == 0
    assert lay.view_net[0] == 1 and lay.view_net[1] == 0
    assert lay.view_names[1] == "public score limited to finance"


def two_operators(*, sharing: bool) -> object:
    return minimal(
        operators={"pay": {"sees": ["finance"]}, "chat": {"sees": ["reading"]}},
        score={"operator": "pay"},
        sharing={"enabled": sharing},
        rules=[
            {**LATE, "operator": "pay"},
            {**BOOK, "operator": "pay"},
            {**BOOK, "operator": "chat"},
        ],
        gates={"mortgage": {}, "dating": {"reads": "chat"}},
    )


def test_an_operator_counts_only_the_data_it_sees_unless_data_is_shared():
    apart = layout(two_operators(sharing=False))  # type: ignore[arg-type]
    assert apart.points.tolist() == [-20, 0, -15]  # pay cannot see reading
    shared = layout(two_operators(sharing=True))  # type: ignore[arg-type]
    assert shared.points.tolist() == [-20, -15, -15]


def test_each_gate_reads_its_operators_score():
    lay = layout(two_operators(sharing=False))  # type: ignore[arg-type]
    dating = lay.gate_view[CITIZEN_GATES.index("dating")]
    assert lay.gate_view[CITIZEN_GATES.index("mortgage")] == 0
    pay_slot, chat_slot = lay.slot[0], lay.slot[2]
    assert lay.view_weight[0, pay_slot] == 1 and lay.view_weight[0, chat_slot] == 0
    assert lay.view_weight[dating, chat_slot] == 1 and lay.view_weight[dating, pay_slot] == 0
    assert lay.view_names[dating] == "chat's score"


def test_operator_names_are_checked():
    with pytest.raises(ValueError, match=r"rules\[0\]\.operator is missing"):
        minimal(operators={"pay": {"sees": ["finance"]}}, rules=[LATE])
    with pytest.raises(ValueError, match="did you mean 'pay'"):
        minimal(
            operators={"pay": {"sees": ["finance"]}},
            rules=[{**LATE, "operator": "pya"}],
        )


def test_a_rule_its_operator_cannot_see_holds_no_accumulator_whatever_the_order():
    for order in ([0, 1, 2], [1, 0, 2]):
        sc = two_operators(sharing=False)
        rules = [sc.rules[k] for k in order]  # type: ignore[attr-defined]
        lay = layout(sc.model_copy(update={"rules": rules}))  # type: ignore[attr-defined]
        late = order.index(0)
        inert = order.index(1)
        assert lay.slot[inert] == -1
        assert lay.view_weight[0, lay.slot[late]] == 1  # the late bill counts, first or not


def test_erroneous_records_cost_each_view_its_own_points():
    sc = minimal(
        operators={"pay": {"sees": ["finance"]}, "chat": {"sees": ["finance"]}},
        score={"operator": "pay"},
        rules=[{**LATE, "operator": "chat"}],
        data_errors={"rate": 0.01, "event": "bill_late"},
        gates={"mortgage": {"reads": "chat"}},
    )
    lay = layout(sc)
    assert lay.view_err[0] == 0.0  # the public operator has no rule on late bills
    assert lay.view_err[lay.gate_view[CITIZEN_GATES.index("mortgage")]] == -20.0


@pytest.mark.parametrize("expiry", [10, 30, 40, 100, 2555])
def test_expiring_points_never_count_longer_than_the_expiry(expiry):  # type: ignore[no-untyped-def]
    sc = minimal(
        score={"expiry_buckets": 7},
        rules=[{"event": "bill_late", "points": -20, "expires_after_days": expiry}],
    )
    lay = layout(sc)
    width, buckets = int(lay.bucket_days[0]), int(lay.buckets[0])
    assert buckets <= 7
    # An event on day 0 sits in bucket 0, emptied on the first day it is due.
    emptied = next(d for d in range(1, 4 * expiry) if int(lay.slot[0]) in lay.rows_to_empty(d))
    assert emptied <= expiry
    assert emptied > expiry - 2 * width
