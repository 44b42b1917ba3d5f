"""Companies: rated by their own rulebook; the public-contracts gate by the owner's group."""

from __future__ import annotations

import numpy as np

from socialscore.scenario.vocabulary import COMPANY_EVENTS
from socialscore.simulation.compiled import PublicContracts, Rules, ScoreScale, make_streams
from socialscore.simulation.engine import CompanyTallies, Day, NationArrays
from socialscore.simulation.kernels.companies import step_companies
from socialscore.simulation.state import State

VIOLATION = COMPANY_EVENTS.index("violation")


def run_day(acc, *, rate: float, gate_rate: float = 1.0, threshold: int = 600):  # type: ignore[no-untyped-def]
    m = acc.shape[0]
    score = np.zeros(m, np.int16)
    hist = np.zeros((1, 601), np.int64)
    events = np.zeros((1, len(COMPANY_EVENTS), 2), np.int64)
    gates = np.zeros((1, 2, 2), np.int64)
    step_companies(
        0,  # chunks 0 to 0: the test's companies are one chunk
        1,
        Day(seed=1, day=0, all_rated=True, low_ranked=np.zeros(0, np.uint8)),
        NationArrays(
            group=np.zeros(0, np.uint8),
            traits=np.zeros((0, 0), np.uint8),
            children=np.zeros(0, np.uint8),
            region_start=np.zeros(1, np.int64),
            friends_local=0,
            companies=m,
            company_compliance=np.full(m, 128, np.uint8),
            company_group=np.array([0, 1, 0, 1], np.uint8),
        ),
        State(
            **{
                **dict.fromkeys(State._fields, np.zeros(0)),
                "company_acc": acc,
                "company_score": score,
            }
        ),  # type: ignore[arg-type]
        make_streams(
            event=np.array([VIOLATION]),
            rate=np.array([rate]),
            spread=np.array([0.0]),
            trait=np.zeros(1, np.int64),
            trait_table=np.ones((1, 256)),
            group_mult=np.ones((1, 2)),
            stress_sens=np.zeros(1),
            chill_coef=np.zeros(1),
            gaming_coef=np.zeros(1),
        ),
        Rules(
            event=np.array([VIOLATION]),
            points=np.array([-30.0]),
            decay=np.array([1.0]),
            cap=np.array([np.inf]),
        ),
        ScoreScale(base=600, lo=350, hi=950, blacklist_below=350, saturating=False),
        PublicContracts(enabled=True, rate=gate_rate, threshold=threshold),
        CompanyTallies(hist=hist, events=events, gates=gates),
    )
    return score, gates[0], events[0]


def test_a_violation_costs_its_points_and_contracts_go_to_those_at_the_threshold():
    acc = np.zeros((4, 1), np.float32)
    acc[2, 0] = 40.0  # one company starts with credit
    score, gates, events = run_day(acc, rate=1.0)
    np.testing.assert_array_equal(score, [570, 570, 610, 570])
    assert events[VIOLATION].tolist() == [2, 2]
    # Every company bids; only the one at or above 600 wins; tallies by owner group.
    assert gates.tolist() == [[2, 1], [2, 0]]


def test_no_bids_without_the_gate_rate():
    score, gates, _ = run_day(np.zeros((4, 1), np.float32), rate=0.0, gate_rate=0.0)
    np.testing.assert_array_equal(score, [600, 600, 600, 600])
    assert gates.sum() == 0
