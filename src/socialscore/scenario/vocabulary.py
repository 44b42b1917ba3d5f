"""The fixed vocabulary of monitored events, latent traits and gates.

Scenario files refer to these by name. The model code gives each a meaning
(when an event can happen, what a gate decides); the scenario file gives the
numbers. Adding a name here means adding its behaviour to the kernels.
"""

from __future__ import annotations

from typing import Final

#: Citizen event streams, grouped by the monitored stream they come from.
CITIZEN_EVENTS: Final[tuple[str, ...]] = (
    "bill_on_time",  # bills and taxes
    "bill_late",
    "bill_default",
    "purchase_family",  # purchases: diapers and family goods
    "purchase_alcohol",
    "purchase_video_games",
    "visit_flagged_place",  # location
    "interaction",  # friends and interactions: any interaction with a friend
    "interaction_low_scorer",  # ... with a friend in the public ranking's bottom
    "video_over_3h",  # screen time
    "gaming_over_3h",
    "book_read",  # reading
    "flagged_book",
    "good_deed",  # volunteering, blood donation, heroic acts
    "loan_repaid",  # loans and credit cards
    "loan_arrears",
    "contract_breach",  # commerce
    "fraud",
    "court_judgment",  # courts: found in breach, a judgment debtor
    "debt_paid",  # pays what a court ordered
    "traffic_ticket",  # traffic
    "drunk_driving",
    "utility_theft",  # public order
    "public_damage",
)

#: Which monitored stream (DESIGN.md §2) each event belongs to.
EVENT_STREAM: Final[dict[str, str]] = {
    "bill_on_time": "bills_and_taxes",
    "bill_late": "bills_and_taxes",
    "bill_default": "bills_and_taxes",
    "purchase_family": "purchases",
    "purchase_alcohol": "purchases",
    "purchase_video_games": "purchases",
    "visit_flagged_place": "location",
    "interaction": "friends",
    "interaction_low_scorer": "friends",
    "video_over_3h": "screen_time",
    "gaming_over_3h": "screen_time",
    "book_read": "reading",
    "flagged_book": "reading",
    "good_deed": "civic",
    "loan_repaid": "bills_and_taxes",
    "loan_arrears": "bills_and_taxes",
    "contract_breach": "commerce",
    "fraud": "commerce",
    "court_judgment": "courts",
    "debt_paid": "courts",
    "traffic_ticket": "traffic",
    "drunk_driving": "traffic",
    "utility_theft": "public_order",
    "public_damage": "public_order",
}

#: The context (domain) each event's data comes from, unless a scenario says
#: otherwise (``streams.<event>.domain``). The audit compares these with the
#: domain of each gate that reads a score built from them (EU AI Act
#: Art. 5(1)(c)(i): detriment in a context unrelated to where the data came from).
EVENT_DOMAIN: Final[dict[str, str]] = {
    "bill_on_time": "finance",
    "bill_late": "finance",
    "bill_default": "finance",
    "purchase_family": "consumption",
    "purchase_alcohol": "consumption",
    "purchase_video_games": "consumption",
    "visit_flagged_place": "movements",
    "interaction": "social life",
    "interaction_low_scorer": "social life",
    "video_over_3h": "leisure",
    "gaming_over_3h": "leisure",
    "book_read": "reading",
    "flagged_book": "reading",
    "good_deed": "civic life",
    "loan_repaid": "finance",
    "loan_arrears": "finance",
    "contract_breach": "commerce",
    "fraud": "commerce",
    "court_judgment": "courts",
    "debt_paid": "courts",
    "traffic_ticket": "traffic",
    "drunk_driving": "traffic",
    "utility_theft": "public order",
    "public_damage": "public order",
}

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

#: Citizen gates, in the order they are decided each day.
CITIZEN_GATES: Final[tuple[str, ...]] = (
    "mortgage",
    "job_hiring",
    "job_retention",
    "school",
    "dating",
    "documents",
    "travel",
)

#: The context each citizen gate decides in, unless a scenario says otherwise.
GATE_DOMAIN: Final[dict[str, str]] = {
    "mortgage": "finance",
    "job_hiring": "employment",
    "job_retention": "employment",
    "school": "education",
    "dating": "private life",
    "documents": "administration",
    "travel": "mobility",
}

#: How heavy each gate's sanction is, on the 0–5 scale of rule severities
#: (0 lawful and harmless … 5 the gravest offences), unless a scenario says
#: otherwise. The audit bounds sanction ÷ severity (EU AI Act Art. 5(1)(c)(ii)).
GATE_SANCTION: Final[dict[str, int]] = {
    "mortgage": 3,
    "job_hiring": 4,
    "job_retention": 4,
    "school": 4,
    "dating": 2,
    "documents": 3,
    "travel": 3,
}

#: Company gates.
COMPANY_GATES: Final[tuple[str, ...]] = ("public_contracts",)

#: Group labels used in tables (index = group code).
GROUP_LABELS: Final[tuple[str, ...]] = ("majority", "minority")
