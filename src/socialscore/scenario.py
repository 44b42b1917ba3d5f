"""Scenario files: pydantic models of the TOML format, and clear errors.

A scenario is data, never code: rules and gates are numbers and names from
:mod:`socialscore.vocabulary`; nothing in a file is evaluated. Every problem
is reported with the file, the key path, what is wrong and what is allowed,
before any work starts.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialscore.vocabulary import (
    CITIZEN_EVENTS,
    CITIZEN_GATES,
    COMPANY_EVENTS,
    EVENT_DOMAIN,
    GATE_DOMAIN,
    GATE_SANCTION,
    TRAITS,
)

ERR_NOT_FOUND = "{path}: no such scenario file. Shipped scenarios: {shipped}."
ERR_TOML = "{path}: this is not valid TOML ({detail}). Fix the syntax at line {line}."
ERR_HEADER = "{path}: {count} problem(s) in the scenario; nothing was run."
ERR_UNKNOWN_KEY = "unknown key '{key}'{hint}. Allowed here: {allowed}."
ERR_UNKNOWN_EVENT = "unknown event '{name}'{hint}. Known {kind} events: {allowed}."
ERR_UNKNOWN_TRAIT = "unknown trait '{name}'{hint}. Known traits: {allowed}."

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]

#: Folder of the scenarios shipped with socialscore (``scenarios/`` in the source tree).
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def _did_you_mean(name: str, allowed: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class About(_Model):
    """Name and description of a regime."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""


class RunSettings(_Model):
    """Size, length and seed of a run (command-line options override them)."""

    population: int = Field(1_000_000, ge=100, le=2_000_000_000)
    days: int = Field(365, ge=1, le=36_500)
    seed: int = Field(20140614, ge=0, lt=2**63)
    citizens_per_company: int = Field(50, ge=0)  # 0 = no companies


class Grade(_Model):
    """A named score band starting at ``from``."""

    name: str = Field(min_length=1)
    from_: int = Field(alias="from")


class ScoreSettings(_Model):
    """The score scale: base, bounds, grades, blacklist, public ranking."""

    scale: str = "illustrative"
    base: int = 600
    lo: int = 350
    hi: int = 950
    grades: list[Grade] = Field(min_length=1)
    blacklist_below: int = 450
    publish_every_days: int = Field(1, ge=1)
    operator: str | None = None
    expiry_buckets: int = Field(7, ge=1, le=64)

    @model_validator(mode="after")
    def _check(self) -> ScoreSettings:
        if not self.lo < self.hi:
            raise ValueError(f"lo ({self.lo}) must be below hi ({self.hi})")
        if self.hi - self.lo > 30_000:
            raise ValueError("the score range hi - lo must be at most 30000 (scores are int16)")
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
        return self


class Participation(_Model):
    """Voluntary opt-in until a day, mandatory from it on."""

    mandatory_from_day: int = Field(0, ge=0)
    opt_in_share: Probability = 1.0
    adverse_selection: NonNegative = 0.0


class TraitSpec(_Model):
    """How a latent trait depends on group and income (in standard deviations)."""

    minority_shift: float = Field(0.0, ge=-3.0, le=3.0)
    income_loading: float = Field(0.0, ge=-0.95, le=0.95)


class NationSettings(_Model):
    """The synthetic population and its social graph."""

    regions: int = Field(100, ge=1, le=65_535)
    region_size_exponent: NonNegative = 1.0
    equal_regions: bool = False
    minority_share: Probability = 0.1
    exact_minority_count: bool = False
    minority_concentration: NonNegative = 1.0
    minority_income_shift: float = Field(-0.4, ge=-3.0, le=3.0)
    children_per_citizen: NonNegative = 0.35
    employment_rate: Probability = 0.9
    friends_local: int = Field(8, ge=0, le=200)
    friends_distant: int = Field(2, ge=0, le=200)
    homophily: Probability = 0.0
    traits: dict[str, TraitSpec] = Field(default_factory=dict)

    @field_validator("traits")
    @classmethod
    def _known_traits(cls, value: dict[str, TraitSpec]) -> dict[str, TraitSpec]:
        for name in value:
            if name not in TRAITS:
                raise ValueError(
                    ERR_UNKNOWN_TRAIT.format(
                        name=name, hint=_did_you_mean(name, TRAITS), allowed=", ".join(TRAITS)
                    )
                )
        return value


class StreamSpec(_Model):
    """How often a citizen event happens and what drives it.

    ``legal`` marks behaviour that breaks no law; ``deterrable`` marks behaviour
    a citizen can choose to do less of. Chilling acts on streams that are both
    and that the rulebook penalises.
    """

    rate: Probability
    spread: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5
    trait: str | None = None
    trait_strength: float = Field(0.0, ge=-8.0, le=8.0)
    minority_multiplier: NonNegative = 1.0
    stress_sensitivity: NonNegative = 0.0
    legal: bool = True
    deterrable: bool = True
    domain: str | None = Field(None, min_length=1)

    @field_validator("trait")
    @classmethod
    def _known_trait(cls, value: str | None) -> str | None:
        if value is not None and value not in TRAITS:
            raise ValueError(
                ERR_UNKNOWN_TRAIT.format(
                    name=value, hint=_did_you_mean(value, TRAITS), allowed=", ".join(TRAITS)
                )
            )
        return value


class CompanyStreamSpec(_Model):
    """How often a company event happens; compliance lowers bad events."""

    rate: Probability
    spread: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5
    compliance_strength: float = Field(0.0, ge=-8.0, le=8.0)


class _RuleBase(_Model):
    event: str
    points: float = Field(ge=-10_000, le=10_000)
    half_life_days: NonNegative = 0.0
    cap: Positive | None = None
    label: str = ""


class Rule(_RuleBase):
    """One rule of a citizen rulebook: an event, its points, and how long they count.

    ``expires_after_days``: the points stop counting at most this many days
    after the event (hard expiry, on top of any half-life). ``cleared_by``: an
    event that wipes this rule's points (e.g. paying a court-ordered debt).
    ``severity``: the gravity of the behaviour on a 0–5 scale (0 lawful and
    harmless … 5 the gravest offences), read by the audit. ``operator``: whose
    rulebook the rule belongs to, when the scenario has several operators.
    """

    expires_after_days: int | None = Field(None, ge=1)
    cleared_by: str | None = None
    severity: float | None = Field(None, ge=0.0, le=5.0)
    operator: str | None = None

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


class CompanyRule(_RuleBase):
    """One rule of the company rulebook."""

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        _check_names([value], COMPANY_EVENTS, "company")
        return value


class CompanyScore(_Model):
    """The company score scale."""

    base: int = 600
    lo: int = 350
    hi: int = 950

    @model_validator(mode="after")
    def _check(self) -> CompanyScore:
        if not self.lo <= self.base <= self.hi or self.lo >= self.hi:
            raise ValueError(
                f"need lo < hi and lo <= base <= hi, got {self.lo}, {self.base}, {self.hi}"
            )
        return self


class NetworkSettings(_Model):
    """The network term (score pulled toward friends' mean) and unfriending."""

    enabled: bool = False
    weight: float = Field(0.0, ge=-1.0, le=1.0)
    center: int = 600
    every_days: int = Field(7, ge=1)
    low_scorer_percentile: Probability = 0.1
    unfriend_below: int | None = None
    unfriend_probability: Probability = 0.0


class _Gate(_Model):
    enabled: bool = True
    domain: str | None = Field(None, min_length=1)


class _CitizenGate(_Gate):
    """Fields every citizen gate shares.

    ``reads``: the operator whose score the gate reads (default: the public
    score). ``purpose``: purpose limitation, the gate reads a score built only
    from data of these domains. ``sanction``: how heavy a denial is, 1–5.
    ``human_review``: a person reviews every denial and overturns those caused
    by erroneous records with probability ``review_accuracy``. ``reasons``:
    every adverse decision carries up to four reasons from the person's record.
    """

    reads: str | None = None
    purpose: list[str] | None = None
    sanction: int | None = Field(None, ge=1, le=5)
    human_review: bool = False
    review_accuracy: Probability = 0.9
    reasons: bool = False


class MortgageGate(_CitizenGate):
    """Citizens apply at a daily rate and are approved at a threshold.

    Only citizens without a mortgage apply, unless ``reapply`` is true
    (every citizen applies at the rate every day, approved or not).
    """

    apply_rate: Probability = 0.0005
    threshold: int = 600
    denial_stress: NonNegative = 0.3
    reapply: bool = False


class JobHiringGate(_CitizenGate):
    """Unemployed citizens search at a daily rate; hired at a threshold."""

    search_rate: Probability = 0.02
    threshold: int = 550
    denial_stress: NonNegative = 0.1


class JobRetentionGate(_CitizenGate):
    """Employed citizens are reviewed at a daily rate and kept at a threshold.

    ``separation_rate`` is the daily chance of leaving a job for reasons that
    have nothing to do with the score (it applies in every regime).
    """

    review_rate: Probability = 0.003
    threshold: int = 450
    dismissal_stress: NonNegative = 1.0
    separation_rate: Probability = 0.0


class SchoolGate(_CitizenGate):
    """Once a year parents apply for their children; admitted at a threshold."""

    admission_day: int = Field(240, ge=0, le=364)
    threshold: int = 650


class DatingGate(_CitizenGate):
    """Citizens seek matches; both partners' public percentiles are weighed."""

    attempt_rate: Probability = 0.01
    min_partner_percentile: Probability = 0.3
    max_percentile_gap: Probability = 0.5


class DocumentsGate(_CitizenGate):
    """Applications for official documents; granted at a threshold."""

    apply_rate: Probability = 0.0005
    threshold: int = 500


class TravelGate(_CitizenGate):
    """Attempts to travel; blocked for blacklisted citizens."""

    attempt_rate: Probability = 0.01


class PublicContractsGate(_Gate):
    """Companies bid for public contracts or loans; granted at a threshold."""

    apply_rate: Probability = 0.005
    threshold: int = 600


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

    below: int = 600
    strength: NonNegative = 0.0
    risk_aversion_weight: Probability = 1.0


class Gaming(_Model):
    """Aware citizens add behaviour the rulebook rewards."""

    strength: NonNegative = 0.0
    daily_increment: NonNegative = 0.0
    cap: NonNegative = 0.0


class Feedback(_Model):
    """How the regime changes behaviour."""

    awareness: Probability = 0.11
    stress_half_life_days: Positive = 90.0
    chilling: Chilling = Chilling()
    gaming: Gaming = Gaming()


class DataErrors(_Model):
    """Erroneous records: events logged that never happened, and disputes.

    A citizen holding erroneous points files a dispute with daily probability
    ``dispute_rate``; it is settled ``dispute_days`` later, and the erroneous
    points are removed with probability ``dispute_success``.
    """

    rate: Probability = 0.0
    event: str = "bill_late"
    dispute_rate: Probability = 0.0
    dispute_days: int = Field(30, ge=1, le=3650)
    dispute_success: Probability = 1.0


class Operator(_Model):
    """A scoring operator: the data domains it sees, and its own rules (``rules[].operator``)."""

    sees: list[str] = Field(min_length=1)
    description: str = ""


class Sharing(_Model):
    """Data sharing between operators: when on, every operator sees every operator's data."""

    enabled: bool = False


class Recording(_Model):
    """The measurement window (:mod:`socialscore.window`)."""

    measure_from_day: int | None = Field(None, ge=0)
    burn_in_days: int = Field(90, ge=0)


class Scenario(_Model):
    """A complete, validated scenario."""

    scenario: About
    run: RunSettings = RunSettings()
    score: ScoreSettings
    participation: Participation = Participation()
    nation: NationSettings = NationSettings()
    streams: dict[str, StreamSpec] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    company_streams: dict[str, CompanyStreamSpec] = Field(default_factory=dict)
    company_rules: list[CompanyRule] = Field(default_factory=list)
    company_score: CompanyScore = CompanyScore()
    network: NetworkSettings = NetworkSettings()
    gates: Gates = Gates()
    feedback: Feedback = Feedback()
    data_errors: DataErrors = DataErrors()
    recording: Recording = Recording()
    operators: dict[str, Operator] = Field(default_factory=dict)
    sharing: Sharing = Sharing()

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
                    hint=_did_you_mean(self.data_errors.event, CITIZEN_EVENTS),
                    kind="citizen",
                    allowed=", ".join(CITIZEN_EVENTS),
                )
            )
        if self.network.unfriend_below is not None and not (
            s.lo <= self.network.unfriend_below <= s.hi
        ):
            problems.append(f"network.unfriend_below must lie within [{s.lo}, {s.hi}]")
        problems += self._operator_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

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
                    f"{where} = '{name}' is not an operator{_did_you_mean(name, names)}; "
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
        validated = RunSettings.model_validate(run.model_dump())
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
                    hint=_did_you_mean(name, allowed),
                    kind=kind,
                    allowed=", ".join(allowed),
                )
            )


class ScenarioError(Exception):
    """A scenario file could not be read; the message says where and how to fix it."""


class LoadedScenario(BaseModel):
    """A validated scenario together with its source text and hash."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    text: str  # the file as written
    sha256: str  # hash of the resolved, validated scenario (after ``extends``)
    path: str


def shipped_scenarios() -> dict[str, Path]:
    """Return the shipped scenario files by name."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def resolve(name_or_path: str | Path) -> Path:
    """Return the file for a path, or for the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    if path.stem in shipped and not path.parent.parts:
        return shipped[path.stem]
    raise ScenarioError(ERR_NOT_FOUND.format(path=path, shipped=", ".join(shipped)))


def load(name_or_path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file (or a shipped scenario by name)."""
    path = resolve(name_or_path)
    text = path.read_text(encoding="utf-8")
    return parse(text, source=str(path))


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", "?")
        raise ScenarioError(ERR_TOML.format(path=source, detail=exc, line=line)) from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (lists included) is replaced whole."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve_extends(data: dict[str, Any], source: str, seen: tuple[str, ...]) -> dict[str, Any]:
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(
            f"{source}: extends: must be a scenario name or a path, got {parent!r}."
        )
    here = Path(source).parent
    candidate = here / parent
    try:
        path = candidate if candidate.is_file() else resolve(parent)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: extends: {exc}") from None
    key = str(path.resolve())
    if key in seen:
        raise ScenarioError(
            f"{source}: extends: '{parent}' leads back to itself; remove the cycle."
        )
    base = _read_toml(path.read_text(encoding="utf-8"), str(path))
    base = _resolve_extends(base, str(path), (*seen, key))
    return _merge(base, data)


def parse(text: str, *, source: str = "<string>") -> LoadedScenario:
    """Validate scenario TOML text; ``source`` names it in error messages.

    A file may start from another with ``extends = "NAME-OR-PATH"``: its tables
    are merged key by key over the other's (lists such as ``rules`` replace
    the other's list whole).
    """
    data = _read_toml(text, source)
    data = _resolve_extends(data, source, (str(Path(source).resolve()),))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, source)) from None
    return LoadedScenario(scenario=scenario, text=text, sha256=digest(scenario), path=source)


def digest(scenario: Scenario) -> str:
    """The sha256 of a validated scenario's canonical JSON (the same after ``extends``)."""
    return hashlib.sha256(scenario.model_dump_json(by_alias=True).encode("utf-8")).hexdigest()


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Return the pydantic model class that holds the key at ``loc``."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if model is None or not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def format_errors(exc: ValidationError, source: str) -> str:
    """Turn a pydantic error into lines: file, key path, what is wrong, what is allowed."""
    lines = [ERR_HEADER.format(path=source, count=exc.error_count())]
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc) or "(top)"
        key = key.replace(".[", "[")
        if err["type"] == "extra_forbidden":
            model = _model_at(loc)
            allowed = _field_names(model) if model else []
            leaf = str(loc[-1])
            msg = ERR_UNKNOWN_KEY.format(
                key=leaf, hint=_did_you_mean(leaf, allowed), allowed=", ".join(allowed) or "none"
            )
        elif err["type"] == "missing":
            msg = "this key is required but missing."
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            if "input" in err and err["type"] not in ("value_error",):
                msg += f" (got {err['input']!r})"
        lines.append(f"  {source}: {key}: {msg}")
    return "\n".join(lines)
