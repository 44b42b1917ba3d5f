"""Specification of the vocabulary registries: events and gates declared once, read everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from socialscore.report.headlines import ADVERSE_NAMES, GATE_NAMES
from socialscore.scenario import vocabulary as v
from socialscore.scenario.files import load
from socialscore.scenario.schema import Scenario
from socialscore.simulation.kernels import gates

#: The citizen events as first shipped. An event's index keys its random draws, so a new
#: event goes at the end: inserting or reordering would change every later event's draws.
FIRST_EVENTS = (
    "bill_on_time",
    "bill_late",
    "bill_default",
    "purchase_family",
    "purchase_alcohol",
    "purchase_video_games",
    "visit_flagged_place",
    "interaction",
    "interaction_low_scorer",
    "video_over_3h",
    "gaming_over_3h",
    "book_read",
    "flagged_book",
    "good_deed",
    "loan_repaid",
    "loan_arrears",
    "contract_breach",
    "fraud",
    "court_judgment",
    "debt_paid",
    "traffic_ticket",
    "drunk_driving",
    "utility_theft",
    "public_damage",
)


def test_events_are_only_ever_appended() -> None:
    assert v.CITIZEN_EVENTS[: len(FIRST_EVENTS)] == FIRST_EVENTS


def test_every_event_fits_the_daily_event_mask() -> None:
    assert np.iinfo(np.uint32).bits == v.MAX_CITIZEN_EVENTS
    assert len(v.EVENTS) <= v.MAX_CITIZEN_EVENTS


def test_event_views_are_read_from_the_registry() -> None:
    assert tuple(e.name for e in v.EVENTS) == v.CITIZEN_EVENTS
    assert set(v.EVENT_DOMAIN) == set(v.EVENT_SOURCE) == set(v.CITIZEN_EVENTS)
    assert v.EVENT_DOMAIN["flagged_book"] == "reading" and v.EVENT_SOURCE["fraud"] == "commerce"


def test_kernel_gate_rows_follow_the_registry_order() -> None:
    rows = {
        "mortgage": gates.G_MORTGAGE,
        "job_hiring": gates.G_HIRING,
        "job_retention": gates.G_RETENTION,
        "school": gates.G_SCHOOL,
        "dating": gates.G_DATING,
        "documents": gates.G_DOCUMENTS,
        "travel": gates.G_TRAVEL,
    }
    assert rows == {name: k for k, name in enumerate(v.CITIZEN_GATES)}


@pytest.mark.parametrize("gate", v.GATES, ids=lambda g: g.name)
def test_every_field_a_gate_declares_exists_in_the_scenario_schema(gate: v.Gate) -> None:
    sc = load("citizen-score").scenario
    spec = getattr(sc.gates, gate.name)
    for field in (gate.rate, gate.threshold, gate.stress, *gate.extra):
        if field is None:
            continue
        where: object = sc if "." in field else spec
        for part in field.split("."):
            assert hasattr(where, part), f"{gate.name}: no field {field!r}"
            where = getattr(where, part)
    assert len(gate.extra) <= 2 and gate.benefit and gate.adverse


def test_the_gate_table_holds_each_gate_s_declared_fields() -> None:
    sc: Scenario = load("citizen-score").scenario
    sc = sc.model_copy(
        update={
            "gates": sc.gates.model_copy(
                update={
                    "dating": sc.gates.dating.model_copy(
                        update={"min_partner_percentile": 0.3, "max_percentile_gap": 0.2}
                    ),
                    "school": sc.gates.school.model_copy(update={"admission_day": 244}),
                }
            )
        }
    )
    t = gates.gate_table(sc)
    g = sc.gates
    assert t[gates.G_DATING, gates.P_EXTRA1] == 0.3
    assert t[gates.G_DATING, gates.P_EXTRA2] == 0.2
    assert t[gates.G_DATING, gates.P_THRESHOLD] == 0.0
    assert t[gates.G_SCHOOL, gates.P_EXTRA1] == 244 and t[gates.G_SCHOOL, gates.P_RATE] == 0.0
    assert t[gates.G_TRAVEL, gates.P_THRESHOLD] == sc.score.blacklist_below
    assert t[gates.G_MORTGAGE, gates.P_EXTRA1] == float(g.mortgage.reapply)
    assert t[gates.G_RETENTION, gates.P_EXTRA1] == g.job_retention.separation_rate
    assert t[gates.G_RETENTION, gates.P_RATE] == g.job_retention.review_rate
    assert t[gates.G_RETENTION, gates.P_STRESS] == g.job_retention.dismissal_stress
    assert t[gates.G_HIRING, gates.P_RATE] == g.job_hiring.search_rate
    assert t[gates.G_DOCUMENTS, gates.P_THRESHOLD] == g.documents.threshold


def test_sanctions_are_the_gates_that_take_away() -> None:
    sanctions = {g.name for g in v.GATES if g.kind == "sanction"}
    assert sanctions == {"job_retention", "travel"}


def test_report_words_come_from_the_registry() -> None:
    assert GATE_NAMES["travel"] == "travel" and ADVERSE_NAMES["travel"] == "barred from travel"
    assert set(GATE_NAMES) == set(ADVERSE_NAMES) == {g.name for g in v.GATES}
    assert tuple(g.name for g in v.GATES) == v.CITIZEN_GATES + v.COMPANY_GATES
