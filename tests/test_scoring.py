"""Rules laid out as accumulators; the scores (views) that gates read."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import minimal
from socialscore.scoring import NETWORK_REASON, layout
from socialscore.vocabulary import CITIZEN_GATES

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
