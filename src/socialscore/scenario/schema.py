"""The scenario's keys: their types, bounds and meaning (pydantic models).

A scenario is data, never code: rules and gates are numbers and names from
:mod:`socialscore.scenario.vocabulary`; nothing in a file is evaluated. Every
number is declared with its bounds (:func:`num`), so a problem is reported with
what is allowed. Reading files is :mod:`socialscore.scenario.files`; turning
validation errors into lines is :mod:`socialscore.scenario.errors`.
"""

from __future__ import annotations

import difflib
import itertools
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from socialscore.scenario.vocabulary import (
    CITIZEN_EVENTS,
    CITIZEN_GATES,
    COMPANY_EVENTS,
    EVENT_DOMAIN,
    GATE_DOMAIN,
    GATE_SANCTION,
    GROUP_LABELS,
    TRAITS,
)

ERR_UNKNOWN_EVENT = "unknown event '{name}'{hint}. Known {kind} events: {allowed}."
ERR_UNKNOWN_TRAIT = "unknown trait '{name}'{hint}. Known traits: {allowed}."
ERR_HISTOGRAM = (
    "run.days x ({scale}.hi - {scale}.lo + 1) = {days:,} x {values:,} = {cells:,} cells of "
    "the daily score histogram ({gib:.1f} GiB), more than the {limit:,} allowed; "
    "shorten run.days or narrow {scale}.lo to {scale}.hi"
)
ERR_CHILLING_BELOW = (
    "feedback.chilling.below = {below} lies outside the score range [{lo}, {hi}]; "
    "choose a cut within it (or set feedback.chilling.strength = 0)"
)

#: Scores are int16: every score, bound and threshold lies within ±SCORE_LIMIT.
SCORE_LIMIT = 30_000
#: Widest score scale, hi - lo (scores are int16).
MAX_SCORE_RANGE = 30_000
#: Longest run, and longest span of days any key may give (100 years).
MAX_DAYS = 36_500
#: Most cells (days x score values) of a daily score histogram (recorder.py holds one
#: for citizens and one for companies, int64): 480 MB each, and about four times that
#: at the peak while the daily table is computed from it. Enough for every shipped
#: scenario over the longest run (a century on a scale up to 0–1,600), or five years on
#: the widest (0–30,000) scale.
MAX_HISTOGRAM_CELLS = 60_000_000
#: Seeds lie in [0, SEED_LIMIT): the catalogue stores BIGINT (int64). A comparison
#: or sweep runs seeds seed + k; compare and grid check every one against this
#: bound before any run.
SEED_LIMIT = 2**63
#: Largest size of one rule's points (a score scale spans at most MAX_SCORE_RANGE).
MAX_POINTS = 10_000
#: Most rules in a rulebook, grades in a scale, operators in a scenario.
MAX_RULES = 100
MAX_GRADES = 100
MAX_OPERATORS = 16
#: Largest stress added by one denial or dismissal, and stress sensitivity of a stream.
MAX_STRESS = 10.0
#: Largest multiplier (minority rate multiplier).
MAX_MULTIPLIER = 100.0


def _number_words(value: float) -> str:
    if isinstance(value, int) and value >= 2**32 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def _bound_words(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    """The bounds of a number in words, e.g. "0 to 1" or "more than 0, at most 36,500"."""
    if ge is not None and le is not None:
        return f"{_number_words(ge)} to {_number_words(le)}"
    parts = []
    if ge is not None:
        parts.append(f"at least {_number_words(ge)}")
    if gt is not None:
        parts.append(f"more than {_number_words(gt)}")
    if le is not None:
        parts.append(f"at most {_number_words(le)}")
    if lt is not None:
        parts.append(f"less than {_number_words(lt)}")
    return ", ".join(parts)


def num(
    default: Any = ...,
    *,
    doc: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    alias: str | None = None,
) -> Any:
    """A bounded number field whose description states its bounds ("Allowed: ...").

    Every number in the schema is declared with this, so that the key
    reference shows what each key means and the values it accepts.
    """
    words = _bound_words(ge, gt, le, lt)
    return Field(
        default, ge=ge, gt=gt, le=le, lt=lt, alias=alias, description=f"{doc} Allowed: {words}."
    )


def probability(default: Any = ..., *, doc: str) -> Any:
    """A probability or share: a number from 0 to 1."""
    return num(default, doc=doc, ge=0.0, le=1.0)


def score_value(default: Any = ..., *, doc: str, alias: str | None = None) -> Any:
    """A point on a score scale (int16 scores): within ±SCORE_LIMIT."""
    return num(default, doc=doc, ge=-SCORE_LIMIT, le=SCORE_LIMIT, alias=alias)


def day_count(default: Any = ..., *, doc: str, ge: int = 0) -> Any:
    """A number of days or a day of the run: at most MAX_DAYS."""
    return num(default, doc=doc, ge=ge, le=MAX_DAYS)


def did_you_mean(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``allowed`` to ``name``, or nothing."""
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def histogram_problem(days: int, scale: str, lo: int, hi: int) -> str | None:
    """Why ``days`` x the scale's values is too big a daily histogram (None: it fits)."""
    values = hi - lo + 1
    cells = days * values
    if cells <= MAX_HISTOGRAM_CELLS:
        return None
    return ERR_HISTOGRAM.format(
        scale=scale,
        days=days,
        values=values,
        cells=cells,
        gib=cells * 8 / 2**30,
        limit=MAX_HISTOGRAM_CELLS,
    )


#: A chance, as an element of a list.
Chance = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
#: A point of a score scale, as an element of a list.
ScorePoint = Annotated[int, Field(ge=-SCORE_LIMIT, le=SCORE_LIMIT)]
#: A weight of a distribution, as an element of a list (normalised where used).
Weight = Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class About(_Model):
    """Name and description of a regime."""

    name: str = Field(
        min_length=1, max_length=200, description="The regime's name: runs are catalogued under it."
    )
    description: str = Field("", description="What the regime is, in a sentence or two.")


#: Context key of :meth:`RunSettings.model_validate`: the score scales the days must fit.
SCALES_CONTEXT = "score_scales"


class RunSettings(_Model):
    """Size, length and seed of a run (command-line options override them)."""

    population: int = num(1_000_000, doc="Number of citizens.", ge=100, le=2_000_000_000)
    days: int = num(365, doc="Number of simulated days.", ge=1, le=MAX_DAYS)
    seed: int = num(
        20140614,
        doc="Random seed (an int64, what the catalogue stores).",
        ge=0,
        lt=SEED_LIMIT,
    )
    citizens_per_company: int = num(
        50, doc="Citizens per company; 0 makes no companies.", ge=0, le=1_000_000
    )

    @field_validator("days")
    @classmethod
    def _histograms_fit(cls, value: int, info: ValidationInfo) -> int:
        scales = (info.context or {}).get(SCALES_CONTEXT, ())
        for scale, lo, hi in scales:
            problem = histogram_problem(value, scale, lo, hi)
            if problem is not None:
                raise ValueError(problem)
        return value


class Grade(_Model):
    """A named score band starting at ``from``."""

    name: str = Field(min_length=1, description='The grade\'s name, as published ("AAA", "D").')
    from_: int = score_value(doc="Lowest score of the grade.", alias="from")


class InitialScores(_Model):
    """Each citizen's score on day 0, from a distribution per group.

    The citizens of each group get the ``scores`` in proportion to the
    weights (``majority``; ``minority`` for the minority, by default the
    majority's), exactly up to rounding: the group's citizens, in the order of
    a static random draw, take the distribution's quantiles at (rank + ½) /
    size. The difference from ``score.base`` is the citizen's starting record,
    counted in every view of the score.
    """

    scores: list[ScorePoint] = Field(
        min_length=1, max_length=4096, description="Scores (ascending) citizens may start at."
    )
    majority: list[Weight] = Field(
        min_length=1, max_length=4096, description="Weight of each score in the majority."
    )
    minority: list[Weight] | None = Field(
        None, max_length=4096, description="Weight of each score in the minority (default: same)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> InitialScores:
        n = len(self.scores)
        problems = []
        if any(b <= a for a, b in itertools.pairwise(self.scores)):
            problems.append("scores must be strictly ascending")
        for name in ("majority", "minority"):
            weights = getattr(self, name)
            if weights is None:
                continue
            if len(weights) != n:
                problems.append(
                    f"{name} has {len(weights)} weights for {n} scores; give one per score"
                )
            elif sum(weights) <= 0:
                problems.append(f"{name}'s weights add up to 0; give some weight a value")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ScoreSettings(_Model):
    """The score scale: base, bounds, grades, blacklist, public ranking.

    ``initial``: citizens start at scores drawn per group instead of ``base``.
    ``saturating``: the score is a state that points move within its range:
    points that would take a citizen's record beyond ``lo`` or ``hi`` are
    lost (otherwise the score is clipped but the record keeps them, so a
    citizen far above ``hi`` stays at ``hi`` after a penalty).
    """

    scale: str = Field(
        "illustrative",
        description="Where the scale comes from, in words (a source, or illustrative).",
    )
    base: int = score_value(600, doc="Score of a new participant, within [lo, hi].")
    lo: int = score_value(350, doc="Lowest score.")
    hi: int = score_value(
        950, doc=f"Highest score; hi - lo is at most {MAX_SCORE_RANGE:,} (scores are int16)."
    )
    grades: list[Grade] = Field(min_length=1, max_length=MAX_GRADES)
    blacklist_below: int = score_value(
        450, doc="Citizens scoring below this are blacklisted; within [lo, hi]."
    )
    publish_every_days: int = day_count(
        1, doc="Days between publications of the public ranking.", ge=1
    )
    operator: str | None = Field(
        None, description="The operator whose rulebook makes the public score (default: all rules)."
    )
    expiry_buckets: int = num(
        7, doc="Buckets that hold points of rules with expires_after_days.", ge=1, le=64
    )
    initial: InitialScores | None = None
    saturating: bool = Field(
        False,
        description="Points beyond [lo, hi] are lost (default: clipped, the record keeps them).",
    )

    @model_validator(mode="after")
    def _check(self) -> ScoreSettings:
        if not self.lo < self.hi:
            raise ValueError(f"lo ({self.lo}) must be below hi ({self.hi})")
        if self.hi - self.lo > MAX_SCORE_RANGE:
            raise ValueError(
                f"the score range hi - lo must be at most {MAX_SCORE_RANGE} (scores are int16)"
            )
        if not self.lo <= self.base <= self.hi:
            raise ValueError(
                f"base ({self.base}) must lie within [lo, hi] = [{self.lo}, {self.hi}]"
            )
        if not self.lo <= self.blacklist_below <= self.hi:
            raise ValueError(
                f"blacklist_below ({self.blacklist_below}) must lie within "
                f"[lo, hi] = [{self.lo}, {self.hi}]"
            )
        starts = [g.from_ for g in self.grades]
        if starts[0] != self.lo:
            raise ValueError(f"the first grade must start at lo ({self.lo}), not {starts[0]}")
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError(f"grades must start at strictly increasing scores, got {starts}")
        if starts[-1] > self.hi:
            raise ValueError(f"grade starts must lie within [lo, hi], got {starts[-1]} > {self.hi}")
        initial = self.initial
        if initial is not None and not (
            self.lo <= initial.scores[0] and initial.scores[-1] <= self.hi
        ):
            raise ValueError(
                f"initial.scores run from {initial.scores[0]} to {initial.scores[-1]}, outside "
                f"[lo, hi] = [{self.lo}, {self.hi}]; give scores within the range"
            )
        return self


class Participation(_Model):
    """Voluntary opt-in until a day, mandatory from it on."""

    mandatory_from_day: int = day_count(
        0, doc="First day on which every citizen is rated (a day past the run: never)."
    )
    opt_in_share: float = probability(1.0, doc="Share of citizens who opt in before that day.")
    adverse_selection: float = num(
        0.0,
        doc="How much likelier diligent citizens are to opt in (2^s at the top).",
        ge=0.0,
        le=8.0,
    )


class TraitSpec(_Model):
    """How a latent trait depends on group and income (in standard deviations)."""

    minority_shift: float = num(
        0.0, doc="Shift of the trait for the minority, in standard deviations.", ge=-3.0, le=3.0
    )
    income_loading: float = num(0.0, doc="Correlation of the trait with income.", ge=-0.95, le=0.95)


class NationSettings(_Model):
    """The synthetic population and its social graph."""

    regions: int = num(100, doc="Number of regions.", ge=1, le=65_535)
    region_size_exponent: float = num(
        1.0, doc="Zipf exponent of region sizes (0: equal sizes).", ge=0.0, le=5.0
    )
    equal_regions: bool = Field(
        False, description="Every region the same size (overrides the Zipf sizes)."
    )
    minority_share: float = probability(0.1, doc="Share of citizens in the minority.")
    exact_minority_count: bool = Field(
        False,
        description="Exactly minority_share of the citizens are the minority (default: drawn).",
    )
    minority_concentration: float = num(
        1.0,
        doc="How unevenly the minority spreads over regions (log-normal tilt).",
        ge=0.0,
        le=5.0,
    )
    minority_income_shift: float = num(
        -0.4, doc="Income shift of the minority, in standard deviations.", ge=-3.0, le=3.0
    )
    children_per_citizen: float = num(
        0.35, doc="School-age children per adult citizen.", ge=0.0, le=10.0
    )
    employment_rate: float = probability(0.9, doc="Share of citizens employed at the start.")
    friends_local: int = num(8, doc="Friends in the citizen's own region.", ge=0, le=200)
    friends_distant: int = num(2, doc="Friends in other regions.", ge=0, le=200)
    homophily: float = probability(0.0, doc="Preference for friends of the same group.")
    traits: dict[str, TraitSpec] = Field(default_factory=dict)

    @field_validator("traits")
    @classmethod
    def _known_traits(cls, value: dict[str, TraitSpec]) -> dict[str, TraitSpec]:
        for name in value:
            if name not in TRAITS:
                raise ValueError(
                    ERR_UNKNOWN_TRAIT.format(
                        name=name, hint=did_you_mean(name, TRAITS), allowed=", ".join(TRAITS)
                    )
                )
        return value


class StreamSpec(_Model):
    """How often a citizen event happens and what drives it.

    ``legal`` marks behaviour that breaks no law; ``deterrable`` marks behaviour
    a citizen can choose to do less of. Chilling acts on streams that are both
    and that the rulebook penalises.
    """

    rate: float = probability(doc="Daily chance of the event for a typical citizen.")
    spread: float = num(
        0.5, doc="Each citizen's rate multiplier is U(1 - spread, 1 + spread).", ge=0.0, lt=1.0
    )
    trait: str | None = Field(
        None, description="The personal trait that scales the rate (see Traits below)."
    )
    trait_strength: float = num(
        0.0, doc="The trait scales the rate by up to 2^strength either way.", ge=-8.0, le=8.0
    )
    minority_multiplier: float = num(
        1.0, doc="Rate multiplier for the minority.", ge=0.0, le=MAX_MULTIPLIER
    )
    stress_sensitivity: float = num(
        0.0,
        doc="The rate grows by this factor times the citizen's stress.",
        ge=0.0,
        le=MAX_STRESS,
    )
    legal: bool = Field(
        True, description="The behaviour breaks no law (chilling acts on legal behaviour)."
    )
    deterrable: bool = Field(
        True, description="A citizen can choose to do less of it (chilling acts on it)."
    )
    domain: str | None = Field(
        None, min_length=1, description="The domain its data belongs to (default: the event's)."
    )

    @field_validator("trait")
    @classmethod
    def _known_trait(cls, value: str | None) -> str | None:
        if value is not None and value not in TRAITS:
            raise ValueError(
                ERR_UNKNOWN_TRAIT.format(
                    name=value, hint=did_you_mean(value, TRAITS), allowed=", ".join(TRAITS)
                )
            )
        return value


class CompanyStreamSpec(_Model):
    """How often a company event happens; compliance lowers bad events."""

    rate: float = probability(doc="Daily chance of the event for a typical company.")
    spread: float = num(
        0.5, doc="Each company's rate multiplier is U(1 - spread, 1 + spread).", ge=0.0, lt=1.0
    )
    compliance_strength: float = num(
        0.0, doc="Compliance scales the rate by up to 2^strength either way.", ge=-8.0, le=8.0
    )


class _RuleBase(_Model):
    event: str = Field(description="The event the rule rates (see Events below).")
    points: float = num(
        doc="Points the event adds to the score (negative: a penalty).",
        ge=-MAX_POINTS,
        le=MAX_POINTS,
    )
    half_life_days: float = num(
        0.0,
        doc="Days for the points to lose half their weight (0: no decay).",
        ge=0.0,
        le=MAX_DAYS,
    )
    cap: float | None = num(
        None,
        doc="Largest size the rule's accumulated points reach (none: no cap).",
        gt=0.0,
        le=MAX_SCORE_RANGE,
    )
    label: str = Field(
        "", description="The rule in words, for reasons and reports (default: generated)."
    )


class Rule(_RuleBase):
    """One rule of a citizen rulebook: an event, its points, and how long they count.

    ``expires_after_days``: the points stop counting at most this many days
    after the event (hard expiry, on top of any half-life). ``cleared_by``: an
    event that wipes this rule's points (e.g. paying a court-ordered debt).
    ``severity``: the gravity of the behaviour on a 0–5 scale (0 lawful and
    harmless … 5 the gravest offences), read by the audit. ``operator``: whose
    rulebook the rule belongs to, when the scenario has several operators.
    """

    expires_after_days: int | None = day_count(
        None, doc="The points stop counting at most this many days after the event.", ge=1
    )
    cleared_by: str | None = Field(
        None, description="An event that wipes this rule's points (e.g. paying a debt)."
    )
    severity: float | None = num(
        None, doc="Gravity of the behaviour (0 lawful and harmless, 5 gravest).", ge=0.0, le=5.0
    )
    operator: str | None = Field(
        None, description="The operator whose rulebook holds the rule (several operators only)."
    )

    @field_validator("event", "cleared_by")
    @classmethod
    def _known_event(cls, value: str | None) -> str | None:
        if value is not None:
            _check_names([value], CITIZEN_EVENTS, "citizen")
        return value

    @model_validator(mode="after")
    def _expiry_without_cap(self) -> Rule:
        if self.expires_after_days is not None and self.cap is not None:
            raise ValueError(
                "a rule with expires_after_days cannot also have a cap; remove one of them"
            )
        return self


#: Most entries of a scenario's ``history``.
MAX_HISTORY = 8


class History(_Model):
    """Records citizens carry on day 0: a share of them hold one past event each.

    A run otherwise starts with clean records, so a list that took years to
    build (a court blacklist) would start empty. Each chosen citizen carries
    one event of ``event`` recorded ``age`` days before day 0, and every rule
    on that event holds its points as they stand at that age (decayed by the
    rule's half-life, within its cap). Citizens are chosen with probability
    ``share`` times the event's stream multipliers for trait and group
    (normalised to mean 1, so the expected share is ``share``); only citizens
    rated on day 0 carry records. Ages are exponential with mean
    ``age_scale_days`` cut at ``age_max_days`` (the age distribution of a list
    fed at a steady rate and left at a steady hazard of 1 / ``age_scale_days``
    since ``age_max_days`` ago).
    """

    event: str = Field(description="The event each chosen citizen carries a record of.")
    share: float = probability(doc="Share of citizens who carry one such record on day 0.")
    age_scale_days: float = num(
        0.0,
        doc="Mean of the records' exponential ages before the cut (0: all one day old).",
        ge=0.0,
        le=MAX_DAYS,
    )
    age_max_days: int = day_count(1, doc="Oldest age of a record, in days.", ge=1)

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        _check_names([value], CITIZEN_EVENTS, "citizen")
        return value


class CompanyRule(_RuleBase):
    """One rule of the company rulebook."""

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        _check_names([value], COMPANY_EVENTS, "company")
        return value


class CompanyScore(_Model):
    """The company score scale."""

    base: int = score_value(600, doc="Score of a new company, within [lo, hi].")
    lo: int = score_value(350, doc="Lowest company score.")
    hi: int = score_value(
        950, doc=f"Highest company score; hi - lo is at most {MAX_SCORE_RANGE:,}."
    )

    @model_validator(mode="after")
    def _check(self) -> CompanyScore:
        if not self.lo <= self.base <= self.hi or self.lo >= self.hi:
            raise ValueError(
                f"need lo < hi and lo <= base <= hi, got {self.lo}, {self.base}, {self.hi}"
            )
        if self.hi - self.lo > MAX_SCORE_RANGE:
            raise ValueError(
                f"the score range hi - lo must be at most {MAX_SCORE_RANGE} (scores are int16)"
            )
        return self


class NetworkSettings(_Model):
    """The network term (score pulled toward friends' mean) and unfriending."""

    enabled: bool = Field(False, description="The network term and unfriending are on.")
    weight: float = num(0.0, doc="Pull of the score toward friends' mean.", ge=-1.0, le=1.0)
    center: int = score_value(600, doc="Score the network term is centred on.")
    every_days: int = day_count(7, doc="Days between network updates.", ge=1)
    low_scorer_percentile: float = probability(
        0.1, doc="Friends below this share of the public ranking count as low scorers."
    )
    unfriend_below: int | None = score_value(
        None, doc="Friends scoring below this may be dropped; within [lo, hi]."
    )
    unfriend_probability: float = probability(
        0.0, doc="Chance per low-scoring friend per update of dropping them."
    )


class _Gate(_Model):
    enabled: bool = Field(True, description="The gate takes decisions.")
    domain: str | None = Field(
        None, min_length=1, description="The context the gate decides in (default: the gate's)."
    )


class _CitizenGate(_Gate):
    """Fields every citizen gate shares.

    ``reads``: the operator whose score the gate reads (default: the public
    score). ``purpose``: purpose limitation, the gate reads a score built only
    from data of these domains. ``sanction``: how heavy a denial is, 1–5.
    ``human_review``: a person reviews every denial and overturns those caused
    by erroneous records with probability ``review_accuracy``. ``reasons``:
    every adverse decision carries up to four reasons from the person's record.
    """

    reads: str | None = Field(
        None, description="The operator whose score the gate reads (default: the public score)."
    )
    purpose: list[str] | None = Field(
        None,
        description="Purpose limitation: the gate reads a score built only from these domains.",
    )
    sanction: int | None = num(None, doc="How heavy a denial is.", ge=1, le=5)
    human_review: bool = Field(
        False, description="A person reviews every denial (overturning erroneous ones)."
    )
    review_accuracy: float = probability(
        0.9, doc="Chance a review overturns a denial caused by an erroneous record."
    )
    reasons: bool = Field(
        False, description="Every adverse decision carries up to four reasons from the record."
    )


_THRESHOLD = "Lowest score that passes; within [lo, hi] when the gate is on."

#: Largest size of a lender's utility for one repaid or defaulted loan.
MAX_UTILITY = 1_000_000.0
#: The decision policies a lending gate can follow (``Policy.kind``).
PolicyKind = Literal[
    "fixed", "selection_rate", "max_profit", "demographic_parity", "equal_opportunity"
]
#: The policies that need the chance of repayment at each score (``Outcome``).
POLICIES_NEEDING_OUTCOME = ("max_profit", "demographic_parity", "equal_opportunity")


class Outcome(_Model):
    """What follows an approved loan: repayment or default, ``after_days`` later.

    The chance of repayment depends on the citizen's score in the gate's view
    on the day of the approval: piecewise-linear between the ``scores`` points
    (constant beyond the first and the last), from ``success_probability``, or
    ``minority_success_probability`` for the minority when given. The outcome is
    recorded as a monitored event (``success`` or ``failure``), rated by the
    rulebook like any other: repayments and defaults feed the score.
    """

    after_days: int = day_count(30, doc="Days from the approval to its outcome.", ge=1)
    success: str = Field("loan_repaid", description="The event a repaid loan records.")
    failure: str = Field("loan_arrears", description="The event a defaulted loan records.")
    scores: list[ScorePoint] = Field(
        min_length=1, max_length=4096, description="Scores (ascending) the chances are given at."
    )
    success_probability: list[Chance] = Field(
        min_length=1, max_length=4096, description="Chance of repayment at each of ``scores``."
    )
    minority_success_probability: list[Chance] | None = Field(
        None, max_length=4096, description="The minority's chances (default: the same)."
    )

    @field_validator("success", "failure")
    @classmethod
    def _known_event(cls, value: str) -> str:
        _check_names([value], CITIZEN_EVENTS, "citizen")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Outcome:
        n = len(self.scores)
        problems = []
        if any(b <= a for a, b in zip(self.scores, self.scores[1:], strict=False)):
            problems.append("scores must be strictly ascending")
        if len(self.success_probability) != n:
            problems.append(
                f"success_probability has {len(self.success_probability)} values for "
                f"{n} scores; give one chance per score"
            )
        minority = self.minority_success_probability
        if minority is not None and len(minority) != n:
            problems.append(
                f"minority_success_probability has {len(minority)} values for {n} scores; "
                "give one chance per score"
            )
        if self.success == self.failure:
            problems.append("success and failure must be different events")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Policy(_Model):
    """How a lender sets its threshold: fixed, or chosen each period from the population.

    ``fixed``: the gate's ``threshold``. The others choose, every
    ``every_days`` days, a threshold per group (with a chance of approval at
    the marginal score, so that rates are met exactly) from the current scores
    of the citizens: ``selection_rate`` approves the top ``selection_rate`` of
    each group (``minority_selection_rate`` for the minority when given);
    ``max_profit`` approves every score whose expected utility is positive,
    ``demographic_parity`` and ``equal_opportunity`` maximise the expected
    utility subject to equal selection rates or equal rates among those who
    would repay. The expected utility of an approval is ``p · utility_repaid +
    (1 − p) · utility_default``, p the chance of repayment at the score
    (``Outcome``).
    """

    kind: PolicyKind = Field(
        "fixed",
        description='How the lender sets its threshold (docs/model.md, "Lending policies").',
    )
    every_days: int = day_count(1, doc="Days between two choices of the thresholds.", ge=1)
    utility_repaid: float = num(
        1.0, doc="The lender's gain from a repaid loan.", gt=0.0, le=MAX_UTILITY
    )
    utility_default: float = num(
        -4.0, doc="The lender's gain from a defaulted loan.", ge=-MAX_UTILITY, lt=0.0
    )
    selection_rate: float | None = probability(
        None, doc="Share of each group approved (kind selection_rate)."
    )
    minority_selection_rate: float | None = probability(
        None, doc="Share of the minority approved (kind selection_rate; default: the same)."
    )

    @model_validator(mode="after")
    def _rate_given(self) -> Policy:
        if self.kind == "selection_rate" and self.selection_rate is None:
            raise ValueError("kind = 'selection_rate' needs selection_rate (a share, 0 to 1)")
        return self


class MortgageGate(_CitizenGate):
    """Citizens apply at a daily rate and are approved at a threshold.

    Only citizens without a mortgage apply, unless ``reapply`` is true
    (every citizen applies at the rate every day, approved or not).
    ``outcome``: an approved loan is repaid or defaults later, and the
    outcome is a monitored event. ``policy``: how the threshold is set.
    """

    apply_rate: float = probability(0.0005, doc="Daily chance a citizen applies.")
    threshold: int = score_value(600, doc=_THRESHOLD)
    denial_stress: float = num(0.3, doc="Stress a denial adds.", ge=0.0, le=MAX_STRESS)
    reapply: bool = Field(
        False, description="Citizens who hold a mortgage apply again (a refinancing)."
    )
    outcome: Outcome | None = None
    policy: Policy = Policy()

    @model_validator(mode="after")
    def _policy_has_what_it_needs(self) -> MortgageGate:
        if self.policy.kind in POLICIES_NEEDING_OUTCOME and self.outcome is None:
            raise ValueError(
                f"policy.kind = '{self.policy.kind}' needs the chance of repayment at each "
                "score: add [gates.mortgage.outcome] with scores and success_probability"
            )
        return self


class JobHiringGate(_CitizenGate):
    """Unemployed citizens search at a daily rate; hired at a threshold."""

    search_rate: float = probability(0.02, doc="Daily chance an unemployed citizen applies.")
    threshold: int = score_value(550, doc=_THRESHOLD)
    denial_stress: float = num(0.1, doc="Stress a rejection adds.", ge=0.0, le=MAX_STRESS)


class JobRetentionGate(_CitizenGate):
    """Employed citizens are reviewed at a daily rate and kept at a threshold.

    ``separation_rate`` is the daily chance of leaving a job for reasons that
    have nothing to do with the score (it applies in every regime).
    """

    review_rate: float = probability(0.003, doc="Daily chance an employee is reviewed.")
    threshold: int = score_value(450, doc=_THRESHOLD)
    dismissal_stress: float = num(1.0, doc="Stress a dismissal adds.", ge=0.0, le=MAX_STRESS)
    separation_rate: float = probability(
        0.0, doc="Daily chance of leaving a job for reasons unrelated to the score."
    )


class SchoolGate(_CitizenGate):
    """Once a year parents apply for their children; admitted at a threshold."""

    admission_day: int = num(240, doc="Day of the year applications are decided.", ge=0, le=364)
    threshold: int = score_value(650, doc=_THRESHOLD)


class DatingGate(_CitizenGate):
    """Citizens seek matches; both partners' public percentiles are weighed."""

    attempt_rate: float = probability(0.01, doc="Daily chance a citizen seeks a match.")
    min_partner_percentile: float = probability(
        0.3, doc="Lowest public percentile a partner accepts."
    )
    max_percentile_gap: float = probability(
        0.5, doc="Largest gap between the partners' percentiles."
    )


class DocumentsGate(_CitizenGate):
    """Applications for official documents; granted at a threshold."""

    apply_rate: float = probability(0.0005, doc="Daily chance a citizen applies.")
    threshold: int = score_value(500, doc=_THRESHOLD)


class TravelGate(_CitizenGate):
    """Attempts to travel; blocked for blacklisted citizens."""

    attempt_rate: float = probability(0.01, doc="Daily chance a citizen tries to travel.")


class PublicContractsGate(_Gate):
    """Companies bid for public contracts or loans; granted at a threshold."""

    apply_rate: float = probability(0.005, doc="Daily chance a company bids.")
    threshold: int = score_value(
        600, doc="Lowest company score that wins; within the company scale when on."
    )


class Gates(_Model):
    """Every consequence; a missing table means the gate is off."""

    mortgage: MortgageGate = MortgageGate(enabled=False)
    job_hiring: JobHiringGate = JobHiringGate(enabled=False)
    job_retention: JobRetentionGate = JobRetentionGate(enabled=False)
    school: SchoolGate = SchoolGate(enabled=False)
    dating: DatingGate = DatingGate(enabled=False)
    documents: DocumentsGate = DocumentsGate(enabled=False)
    travel: TravelGate = TravelGate(enabled=False)
    public_contracts: PublicContractsGate = PublicContractsGate(enabled=False)


class Chilling(_Model):
    """Aware citizens below a score cut legal behaviour the rulebook penalises."""

    below: int = score_value(
        600, doc="Aware citizens below this score are chilled; within [lo, hi] when on."
    )
    strength: float = num(
        0.0,
        doc="Daily fall of a penalised behaviour per point of its penalty.",
        ge=0.0,
        le=1.0,
    )
    risk_aversion_weight: float = probability(
        1.0, doc="How much the citizen's risk aversion weighs in."
    )


class Gaming(_Model):
    """Aware citizens add behaviour the rulebook rewards."""

    strength: float = num(
        0.0, doc="Rise of a rewarded behaviour per point of its reward.", ge=0.0, le=1.0
    )
    daily_increment: float = num(
        0.0, doc="Daily growth of a citizen's gaming exposure.", ge=0.0, le=1.0
    )
    cap: float = num(0.0, doc="Largest gaming exposure.", ge=0.0, le=100.0)


class Feedback(_Model):
    """How the regime changes behaviour."""

    awareness: float = probability(0.11, doc="Share of citizens aware of the regime.")
    stress_half_life_days: float = num(90.0, doc="Days for stress to halve.", gt=0.0, le=MAX_DAYS)
    chilling: Chilling = Chilling()
    gaming: Gaming = Gaming()


class DataErrors(_Model):
    """Erroneous records: events logged that never happened, and disputes.

    A citizen holding erroneous points files a dispute with daily probability
    ``dispute_rate``; it is settled ``dispute_days`` later, and the erroneous
    points are removed with probability ``dispute_success``.
    """

    rate: float = probability(0.0, doc="Daily chance of an erroneous record per citizen.")
    event: str = Field("bill_late", description="The event an erroneous record claims happened.")
    dispute_rate: float = probability(
        0.0, doc="Daily chance a citizen with erroneous points disputes them."
    )
    dispute_days: int = num(30, doc="Days until a dispute is settled.", ge=1, le=3650)
    dispute_success: float = probability(1.0, doc="Chance a dispute removes the erroneous points.")


class Operator(_Model):
    """A scoring operator: the data domains it sees, and its own rules (``rules[].operator``)."""

    sees: list[str] = Field(min_length=1, description="The data domains the operator sees.")
    description: str = Field("", description="Who the operator is, in words.")


class Sharing(_Model):
    """Data sharing between operators: when on, every operator sees every operator's data."""

    enabled: bool = Field(False, description="Every operator sees every operator's data.")


class Recording(_Model):
    """The measurement window (:mod:`socialscore.scenario.window`)."""

    measure_from_day: int | None = day_count(
        None, doc="First day of the measurement window (default: rated day + burn-in)."
    )
    burn_in_days: int = day_count(90, doc="Days after everyone is rated before harms are measured.")


#: Most patrols a day, and the largest weight of a monitoring unit.
MAX_PATROLS = 100_000
MAX_MONITOR_WEIGHT = 10**12
#: A monitoring unit's weight, as an element of a list.
UnitWeight = Annotated[int, Field(ge=1, le=MAX_MONITOR_WEIGHT)]


class Monitoring(_Model):
    """Monitoring that follows detections: events of some kinds are seen only where it looks.

    Each day ``units`` patrols are sent, each to one unit (a region or a group,
    ``by``) drawn with probability proportional to the units' weights; an event
    of one of the ``events`` by a citizen of an unpatrolled unit, or missed
    (``detection``), is not observed: no rule rates it. A unit's weight then
    grows by its detections of the day (``correction = "surprise"``: only with
    probability (1 − s) / max (1 − s'), s the units' shares), and loses
    Binomial(weight, ``decay``), never below ``floor`` (docs/model.md, "One day").
    """

    events: list[str] = Field(
        min_length=1,
        max_length=len(CITIZEN_EVENTS),
        description="The events seen only where a patrol looks.",
    )
    by: Literal["region", "group"] = Field(
        "region", description="What a patrol is sent to: a region or a group."
    )
    units: int = num(1, doc="Patrols sent each day.", ge=1, le=MAX_PATROLS)
    detection: float = probability(
        1.0, doc="Chance an event of a monitored kind in a patrolled unit is observed."
    )
    prior: list[UnitWeight] | None = Field(
        None,
        max_length=65_535,
        description="Each unit's weight on day 0, whole numbers (default: all 1).",
    )
    decay: float = probability(
        0.0, doc="Chance each unit of weight is lost each day (Binomial(weight, decay))."
    )
    floor: int = num(1, doc="Least weight a unit keeps.", ge=1, le=MAX_MONITOR_WEIGHT)
    correction: Literal["none", "surprise"] = Field(
        "none", description='"surprise": Ensign et al.\'s correction of the feedback loop.'
    )

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        _check_names(value, CITIZEN_EVENTS, "citizen")
        if len(set(value)) != len(value):
            raise ValueError("each event may be listed once")
        return value

    @model_validator(mode="after")
    def _prior_above_floor(self) -> Monitoring:
        if self.prior is None and self.floor > 1:
            raise ValueError(
                f"floor = {self.floor} is above the default prior (1 per unit); give prior"
            )
        if self.prior is not None and min(self.prior) < self.floor:
            raise ValueError(
                f"prior has a weight below floor = {self.floor}; give weights of at least it"
            )
        return self


class Scenario(_Model):
    """A complete, validated scenario."""

    scenario: About
    run: RunSettings = RunSettings()
    score: ScoreSettings
    participation: Participation = Participation()
    nation: NationSettings = NationSettings()
    streams: dict[str, StreamSpec] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)
    history: list[History] = Field(default_factory=list, max_length=MAX_HISTORY)
    company_streams: dict[str, CompanyStreamSpec] = Field(default_factory=dict)
    company_rules: list[CompanyRule] = Field(default_factory=list, max_length=MAX_RULES)
    company_score: CompanyScore = CompanyScore()
    network: NetworkSettings = NetworkSettings()
    gates: Gates = Gates()
    feedback: Feedback = Feedback()
    data_errors: DataErrors = DataErrors()
    recording: Recording = Recording()
    operators: dict[str, Operator] = Field(default_factory=dict, max_length=MAX_OPERATORS)
    sharing: Sharing = Sharing()
    monitoring: Monitoring | None = None

    @field_validator("streams")
    @classmethod
    def _known_streams(cls, value: dict[str, StreamSpec]) -> dict[str, StreamSpec]:
        _check_names(value, CITIZEN_EVENTS, "citizen")
        return value

    @field_validator("company_streams")
    @classmethod
    def _known_company_streams(
        cls, value: dict[str, CompanyStreamSpec]
    ) -> dict[str, CompanyStreamSpec]:
        _check_names(value, COMPANY_EVENTS, "company")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        s = self.score
        problems: list[str] = []
        for name in type(self.gates).model_fields:
            gate = getattr(self.gates, name)
            threshold = getattr(gate, "threshold", None)
            if gate.enabled and threshold is not None and name != "public_contracts":
                if not s.lo <= threshold <= s.hi:
                    problems.append(
                        f"gates.{name}.threshold = {threshold} lies outside the score range "
                        f"[{s.lo}, {s.hi}]; choose a threshold within it"
                    )
        outcome = self.gates.mortgage.outcome
        if self.gates.mortgage.enabled and outcome is not None:
            if not (s.lo <= outcome.scores[0] and outcome.scores[-1] <= s.hi):
                problems.append(
                    f"gates.mortgage.outcome.scores run from {outcome.scores[0]} to "
                    f"{outcome.scores[-1]}, outside the score range [{s.lo}, {s.hi}]; give "
                    "scores within it"
                )
        pc = self.gates.public_contracts
        cs = self.company_score
        if pc.enabled and not cs.lo <= pc.threshold <= cs.hi:
            problems.append(
                f"gates.public_contracts.threshold = {pc.threshold} lies outside the company "
                f"score range [{cs.lo}, {cs.hi}]"
            )
        if self.run.citizens_per_company == 0:
            for name in ("job_hiring", "job_retention", "public_contracts"):
                if getattr(self.gates, name).enabled:
                    problems.append(
                        f"gates.{name} needs companies, but run.citizens_per_company = 0 "
                        f"makes none; remove [gates.{name}] or set run.citizens_per_company"
                    )
        if self.data_errors.rate > 0 and self.data_errors.event not in CITIZEN_EVENTS:
            problems.append(
                ERR_UNKNOWN_EVENT.format(
                    name=self.data_errors.event,
                    hint=did_you_mean(self.data_errors.event, CITIZEN_EVENTS),
                    kind="citizen",
                    allowed=", ".join(CITIZEN_EVENTS),
                )
            )
        if self.network.unfriend_below is not None and not (
            s.lo <= self.network.unfriend_below <= s.hi
        ):
            problems.append(f"network.unfriend_below must lie within [{s.lo}, {s.hi}]")
        chill = self.feedback.chilling
        if chill.strength > 0 and not s.lo <= chill.below <= s.hi:
            problems.append(ERR_CHILLING_BELOW.format(below=chill.below, lo=s.lo, hi=s.hi))
        for scale, lo, hi in self.score_scales():
            problem = histogram_problem(self.run.days, scale, lo, hi)
            if problem is not None:
                problems.append(problem)
        problems += self._operator_problems()
        problems += self._history_problems()
        problems += self._monitoring_problems()
        if problems:
            # One problem a line: format_errors prints each on its own line.
            raise ValueError("\n".join(problems))
        return self

    def score_scales(self) -> tuple[tuple[str, int, int], ...]:
        """The scales recorded in a daily histogram: (key, lo, hi) for citizens and companies."""
        return (
            ("score", self.score.lo, self.score.hi),
            ("company_score", self.company_score.lo, self.company_score.hi),
        )

    def _history_problems(self) -> list[str]:
        problems: list[str] = []
        for k, h in enumerate(self.history):
            rules = [r for r in self.rules if r.event == h.event]
            if not rules:
                problems.append(
                    f"history[{k}].event = '{h.event}' has no rule, so its records would "
                    f"count for nothing; add a [[rules]] entry on '{h.event}' or remove it"
                )
            if any(r.expires_after_days is not None for r in rules):
                problems.append(
                    f"history[{k}].event = '{h.event}' has a rule with expires_after_days; "
                    "records before day 0 are only supported for rules without expiry"
                )
        return problems

    def monitoring_units(self) -> int:
        """How many units monitoring is allocated over (0 without ``[monitoring]``)."""
        m = self.monitoring
        if m is None:
            return 0
        return len(GROUP_LABELS) if m.by == "group" else self.nation.regions

    def _monitoring_problems(self) -> list[str]:
        m = self.monitoring
        if m is None or m.prior is None or len(m.prior) == self.monitoring_units():
            return []
        return [
            f"monitoring.prior has {len(m.prior)} weights for {self.monitoring_units()} "
            f"units (by = '{m.by}'); give one weight per unit"
        ]

    def _operator_problems(self) -> list[str]:
        names = list(self.operators)
        problems: list[str] = []

        def check(where: str, name: str | None) -> None:
            if name is None:
                return
            if not names:
                problems.append(
                    f"{where} = '{name}' names an operator, but the scenario defines none; "
                    f"add [operators.{name}] or remove the key"
                )
            elif name not in names:
                problems.append(
                    f"{where} = '{name}' is not an operator{did_you_mean(name, names)}; "
                    f"operators: {', '.join(names)}"
                )

        check("score.operator", self.score.operator)
        for k, rule in enumerate(self.rules):
            check(f"rules[{k}].operator", rule.operator)
            if names and rule.operator is None:
                problems.append(
                    f"rules[{k}].operator is missing: with several operators every rule names "
                    f"its operator ({', '.join(names)})"
                )
        for gate in CITIZEN_GATES:
            check(f"gates.{gate}.reads", getattr(self.gates, gate).reads)
        return problems

    # -- derived views used by the engine and the audit ---------------------

    def stream_of(self, event: str) -> StreamSpec | None:
        """The stream that produces an event (a derived event's source stream), if any."""
        return self.streams.get("interaction" if event == "interaction_low_scorer" else event)

    def event_domain(self, event: str) -> str:
        """The domain an event's data comes from (the stream's, else the vocabulary's)."""
        spec = self.stream_of(event)
        if spec is not None and spec.domain is not None:
            return spec.domain
        return EVENT_DOMAIN[event]

    def gate_domain(self, gate: str) -> str:
        """The context a citizen gate decides in."""
        declared = getattr(self.gates, gate).domain
        return str(declared) if declared is not None else GATE_DOMAIN[gate]

    def gate_sanction(self, gate: str) -> int:
        """How heavy a citizen gate's denial is, 1–5."""
        declared = getattr(self.gates, gate).sanction
        return int(declared) if declared is not None else GATE_SANCTION[gate]

    def public_operator(self) -> str | None:
        """The operator whose score is public (ranking, blacklist, network term)."""
        if not self.operators:
            return None
        return self.score.operator or next(iter(self.operators))

    def operator_sees(self, operator: str | None) -> set[str] | None:
        """The domains an operator has data from (None: all of them)."""
        if operator is None or not self.operators:
            return None
        if self.sharing.enabled:
            return {d for op in self.operators.values() for d in op.sees}
        return set(self.operators[operator].sees)

    def rule_counts(self, k: int, operator: str | None) -> bool:
        """Whether rule ``k`` feeds the score of ``operator`` (None: the public score)."""
        rule = self.rules[k]
        op = operator if operator is not None else self.public_operator()
        if op is None:
            return True
        if rule.operator != op:
            return False
        sees = self.operator_sees(op)
        return sees is None or self.event_domain(rule.event) in sees

    def with_overrides(
        self,
        *,
        population: int | None = None,
        days: int | None = None,
        seed: int | None = None,
        measure_from: int | None = None,
    ) -> Scenario:
        """Return a copy with run settings (and the window's first day) replaced where given."""
        run = self.run.model_copy(
            update={
                k: v
                for k, v in {"population": population, "days": days, "seed": seed}.items()
                if v is not None
            }
        )
        validated = RunSettings.model_validate(
            run.model_dump(), context={SCALES_CONTEXT: self.score_scales()}
        )
        update: dict[str, Any] = {"run": validated}
        if measure_from is not None:
            recording = self.recording.model_copy(update={"measure_from_day": measure_from})
            update["recording"] = Recording.model_validate(recording.model_dump())
        return self.model_copy(update=update)


def _check_names(names: Any, allowed: tuple[str, ...], kind: str) -> None:
    for name in names:
        if name not in allowed:
            raise ValueError(
                ERR_UNKNOWN_EVENT.format(
                    name=name,
                    hint=did_you_mean(name, allowed),
                    kind=kind,
                    allowed=", ".join(allowed),
                )
            )
