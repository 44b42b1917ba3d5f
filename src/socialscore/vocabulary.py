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
}

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

#: Company gates.
COMPANY_GATES: Final[tuple[str, ...]] = ("public_contracts",)

#: Group labels used in tables (index = group code).
GROUP_LABELS: Final[tuple[str, ...]] = ("majority", "minority")
