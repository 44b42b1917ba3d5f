"""The fixed vocabulary, declared once: monitored events, latent traits, gates, groups.

Scenario files refer to these by name. The model code gives each a meaning
(when an event can happen, what a gate decides); the scenario file gives the
numbers. Everything else that lists events or gates (the kernels' gate
indices, the gate table, the recorder's tables, the words of the report, the
audit) reads these registries. Adding a name here means adding its behaviour
to the kernels; docs/architecture.md lists the files each addition touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: Most citizen events a scenario can have: a citizen's events of one day are
#: kept as bits of one uint32 (simulation.kernels.behaviour).
MAX_CITIZEN_EVENTS: Final = 32


@dataclass(frozen=True)
class Event:
    """A monitored citizen event.

    Attributes:
        name: The name scenario files use (``streams.<name>``, ``rules.event``).
        source: The monitored source of data it comes from (purchases,
            location, friends, screen time, bills and taxes, reading, ...). Not to be
            confused with a scenario's ``streams`` (an event's rate) or a random stream.
        domain: The context its data comes from, unless a scenario says otherwise
            (``streams.<event>.domain``). The audit compares it with the domain of
            each gate that reads a score built from it (EU AI Act Art. 5(1)(c)(i):
            detriment in a context unrelated to where the data came from).
    """

    name: str
    source: str
    domain: str


#: The citizen events, in a fixed order that is part of every run's random
#: numbers (an event's index keys its draws, simulation.rng): append new events
#: at the end, never insert or reorder.
EVENTS: Final[tuple[Event, ...]] = (
    Event("bill_on_time", "bills_and_taxes", "finance"),
    Event("bill_late", "bills_and_taxes", "finance"),
    Event("bill_default", "bills_and_taxes", "finance"),
    Event("purchase_family", "purchases", "consumption"),  # diapers and family goods
    Event("purchase_alcohol", "purchases", "consumption"),
    Event("purchase_video_games", "purchases", "consumption"),
    Event("visit_flagged_place", "location", "movements"),
    Event("interaction", "friends", "social life"),  # any interaction with a friend
    # ... with a friend in the public ranking's bottom (derived: no rate of its own)
    Event("interaction_low_scorer", "friends", "social life"),
    Event("video_over_3h", "screen_time", "leisure"),
    Event("gaming_over_3h", "screen_time", "leisure"),
    Event("book_read", "reading", "reading"),
    Event("flagged_book", "reading", "reading"),
    Event("good_deed", "civic", "civic life"),  # volunteering, blood donation, heroic acts
    Event("loan_repaid", "bills_and_taxes", "finance"),  # loans and credit cards
    Event("loan_arrears", "bills_and_taxes", "finance"),
    Event("contract_breach", "commerce", "commerce"),
    Event("fraud", "commerce", "commerce"),
    Event("court_judgment", "courts", "courts"),  # found in breach, a judgment debtor
    Event("debt_paid", "courts", "courts"),  # pays what a court ordered
    Event("traffic_ticket", "traffic", "traffic"),
    Event("drunk_driving", "traffic", "traffic"),
    Event("utility_theft", "public_order", "public order"),
    Event("public_damage", "public_order", "public order"),
)
if len(EVENTS) > MAX_CITIZEN_EVENTS:
    raise RuntimeError(f"at most {MAX_CITIZEN_EVENTS} citizen events fit the daily event mask")

#: Citizen event names, in the registry's order.
CITIZEN_EVENTS: Final[tuple[str, ...]] = tuple(e.name for e in EVENTS)
#: Which monitored source of data each event comes from.
EVENT_SOURCE: Final[dict[str, str]] = {e.name: e.source for e in EVENTS}
#: The context (domain) each event's data comes from (see :class:`Event`).
EVENT_DOMAIN: Final[dict[str, str]] = {e.name: e.domain for e in EVENTS}

#: The domain of the network term's data: friends' scores.
NETWORK_DOMAIN: Final[str] = "social life"

#: Company event streams.
COMPANY_EVENTS: Final[tuple[str, ...]] = (
    "tax_on_time",
    "tax_late",
    "violation",
    "court_judgment",
)

#: Latent citizen traits, each stored as uint8 (0..255, median 128).
TRAITS: Final[tuple[str, ...]] = (
    "diligence",
    "financial_stress",
    "gaming",
    "flagged_reading",
    "flagged_visits",
    "sociability",
    "risk_aversion",
)


@dataclass(frozen=True)
class Gate:
    """A decision the score takes part in: what it decides, where, and in which words.

    Attributes:
        name: The name scenario files use (``gates.<name>``).
        decides_on: Who applies: ``"citizen"`` or ``"company"``.
        kind: ``"approval"``: a yes is a benefit granted (a mortgage, a school
            place); ``"sanction"``: a no takes away what the person had or
            could do freely (dismissal, a travel ban).
        domain: The context the gate decides in, unless a scenario says otherwise.
        severity: How heavy an adverse decision is, on the 0–5 scale of rule
            severities (0 lawful and harmless … 5 the gravest offences), unless a
            scenario says otherwise; the audit bounds sanction ÷ severity (EU AI
            Act Art. 5(1)(c)(ii)). None for company gates.
        benefit: What the gate grants, in words ("mortgages").
        adverse: An adverse decision, as a passive verb phrase ("refused mortgages").
        rate: The field of ``gates.<name>`` holding the daily chance that the
            occasion arises (None: decided on a fixed day).
        threshold: Where the lowest passing score is: a field of ``gates.<name>``,
            a dotted path from the scenario's top, or None (no threshold).
        stress: The field of ``gates.<name>`` holding the stress an adverse
            decision adds (None: none).
        extra: Up to two gate-specific fields, stored in the gate table's
            ``P_EXTRA1`` and ``P_EXTRA2`` columns in this order.
    """

    name: str
    decides_on: Literal["citizen", "company"]
    kind: Literal["approval", "sanction"]
    domain: str
    severity: int | None
    benefit: str
    adverse: str
    rate: str | None = None
    threshold: str | None = "threshold"
    stress: str | None = None
    extra: tuple[str, ...] = ()


#: The gates; citizen gates in the order they are decided each day.
GATES: Final[tuple[Gate, ...]] = (
    Gate(
        "mortgage",
        "citizen",
        "approval",
        "finance",
        3,
        "mortgages",
        "refused mortgages",
        rate="apply_rate",
        stress="denial_stress",
        extra=("reapply",),
    ),
    Gate(
        "job_hiring",
        "citizen",
        "approval",
        "employment",
        4,
        "jobs",
        "turned down for jobs",
        rate="search_rate",
        stress="denial_stress",
    ),
    Gate(
        "job_retention",
        "citizen",
        "sanction",
        "employment",
        4,
        "keeping their jobs",
        "dismissed from their jobs",
        rate="review_rate",
        stress="dismissal_stress",
        extra=("separation_rate",),
    ),
    Gate(
        "school",
        "citizen",
        "approval",
        "education",
        4,
        "school places for their children",
        "refused school places for their children",
        extra=("admission_day",),
    ),
    Gate(
        "dating",
        "citizen",
        "approval",
        "private life",
        2,
        "dating matches",
        "refused dating matches",
        rate="attempt_rate",
        threshold=None,
        extra=("min_partner_percentile", "max_percentile_gap"),
    ),
    Gate(
        "documents",
        "citizen",
        "approval",
        "administration",
        3,
        "official documents",
        "refused official documents",
        rate="apply_rate",
    ),
    Gate(
        "travel",
        "citizen",
        "sanction",
        "mobility",
        3,
        "travel",
        "barred from travel",
        rate="attempt_rate",
        threshold="score.blacklist_below",
    ),
    Gate(
        "public_contracts",
        "company",
        "approval",
        "public procurement",
        None,
        "public contracts",
        "refused public contracts",
        rate="apply_rate",
    ),
)

#: Each gate by name.
GATE_BY_NAME: Final[dict[str, Gate]] = {g.name: g for g in GATES}
#: Citizen gates, in the order they are decided each day.
CITIZEN_GATES: Final[tuple[str, ...]] = tuple(g.name for g in GATES if g.decides_on == "citizen")
#: Company gates.
COMPANY_GATES: Final[tuple[str, ...]] = tuple(g.name for g in GATES if g.decides_on == "company")
#: The context each citizen gate decides in, unless a scenario says otherwise.
GATE_DOMAIN: Final[dict[str, str]] = {g: GATE_BY_NAME[g].domain for g in CITIZEN_GATES}
#: How heavy each citizen gate's sanction is (see :class:`Gate`), unless a scenario says otherwise.
GATE_SANCTION: Final[dict[str, int]] = {g.name: g.severity for g in GATES if g.severity is not None}

#: Group labels used in tables (index = group code).
GROUP_LABELS: Final[tuple[str, ...]] = ("majority", "minority")
