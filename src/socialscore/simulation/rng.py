"""Counter-based random numbers keyed by (seed, day, entity, stream).

Every draw is a pure function of its key, so results do not depend on the
order in which citizens are visited, on the thread count or on chunking, and
two scenarios run with the same seed see the same numbers wherever their
policies do not differ (common random numbers).

The stream word of a key says what the draw is for: a purpose from the
registry below (:data:`PURPOSES`) in its high bits, an index within the
purpose (a trait, a friend slot and attempt, a gate, ...) in its low 32
bits, and between them a sub-key field that only the two uniforms of a
normal draw set. Two different (purpose, index, sub-key) triples are two
different words, so two decisions never share a draw (``tests/test_rng.py``
enumerates every word the engine can use).

The mixer is SplitMix64's finaliser applied to a combination of the key
words with distinct odd multipliers; its output passes BigCrush when used
as a counter-based generator (Steele, Lea & Flood, OOPSLA 2014).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numba import njit

from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES, COMPANY_EVENTS, TRAITS

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_K_DAY = np.uint64(0xD1B54A32D192ED03)
_K_ENTITY = np.uint64(0xAEF17502108EF2D9)
_K_STREAM = np.uint64(0xDB4F0B9175AE2165)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_LOW8 = np.uint64(0xFF)
_INV53 = 1.0 / 9007199254740992.0
_INV32 = 1.0 / 4294967296.0

#: Day value used for draws made once per entity, before the day loop.
STATIC_DAY = -1

#: Bits of a stream word that hold the index within a purpose.
INDEX_BITS: Final = 32
#: First bit of the sub-key field (between the index and the purpose).
SUB_SHIFT: Final = 32
#: First bit of the purpose field.
PURPOSE_SHIFT: Final = 40
#: The largest purpose code (stream words stay positive in int64).
MAX_PURPOSE: Final = (1 << (63 - PURPOSE_SHIFT)) - 1
#: Sub-key of the first uniform of a normal draw (the radius of Box-Muller).
SUB_NORMAL_U1: Final = 1 << SUB_SHIFT
#: Sub-key of the second uniform of a normal draw (the angle).
SUB_NORMAL_U2: Final = 2 << SUB_SHIFT
#: Every sub-key a stream word can carry: the plain draw and the two of a normal.
SUB_KEYS: Final = (0, SUB_NORMAL_U1, SUB_NORMAL_U2)


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def day_key(seed: int, day: int) -> np.uint64:
    """The part of a key that depends on (seed, day) only: compute it once per day."""
    z = _mix(np.uint64(seed) + _GOLDEN)
    return _mix(z ^ (np.uint64(day) * _K_DAY))


@njit(cache=True, inline="always")
def entity_hash(dkey: np.uint64, entity: int, stream: int) -> np.uint64:
    """Return 64 well-mixed bits for (day key, entity, stream)."""
    return _mix(dkey ^ (np.uint64(entity) * _K_ENTITY) ^ (np.uint64(stream) * _K_STREAM))


@njit(cache=True, inline="always")
def key_hash(seed: int, day: int, entity: int, stream: int) -> np.uint64:
    """Return 64 well-mixed bits for the key (seed, day, entity, stream)."""
    return entity_hash(day_key(seed, day), entity, stream)


@njit(cache=True, inline="always")
def half_uniform(h: np.uint64, half: int) -> float:
    """One of the two 32-bit uniforms in [0, 1) that a 64-bit hash holds (half 0 or 1)."""
    if half == 0:
        return float(h & _LOW32) * _INV32
    return float(h >> _S32) * _INV32


@njit(cache=True, inline="always")
def byte_uniform(h: np.uint64, k: int) -> float:
    """The k-th of the eight 8-bit uniforms a 64-bit hash holds, at bin midpoints."""
    return (float((h >> np.uint64(8 * k)) & _LOW8) + 0.5) * (1.0 / 256.0)


@njit(cache=True, inline="always")
def hash_uniform(h: np.uint64) -> float:
    """The uniform float64 in [0, 1) that a 64-bit hash gives (its top 53 bits)."""
    return float(h >> _S11) * _INV53


@njit(cache=True, inline="always")
def uniform(seed: int, day: int, entity: int, stream: int) -> float:
    """Return a uniform float64 in [0, 1) for the key."""
    return hash_uniform(key_hash(seed, day, entity, stream))


@njit(cache=True, inline="always")
def uniform_below(seed: int, day: int, entity: int, stream: int, n: int) -> int:
    """Return a uniform integer in [0, n) for the key (n > 0)."""
    return int(uniform(seed, day, entity, stream) * n)


@njit(cache=True, inline="always")
def normal(seed: int, day: int, entity: int, stream: int) -> float:
    """Return a standard normal draw for the key (Box-Muller on two sub-keys).

    The two uniforms are drawn with the stream word's sub-key field set to
    :data:`SUB_NORMAL_U1` and :data:`SUB_NORMAL_U2`, which no plain draw uses.
    """
    u1 = uniform(seed, day, entity, stream | SUB_NORMAL_U1)
    u2 = uniform(seed, day, entity, stream | SUB_NORMAL_U2)
    return float(np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2))


@njit(cache=True)
def uniforms(seed: int, day: int, n: int, stream: int) -> np.ndarray:
    """Return uniform draws for entities 0..n-1 (a vector helper for set-up code)."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform(seed, day, i, stream)
    return out


@njit(cache=True)
def normals(seed: int, day: int, n: int, stream: int) -> np.ndarray:
    """Return standard normal draws for entities 0..n-1."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = normal(seed, day, i, stream)
    return out


@njit(cache=True, inline="always")
def stream(purpose: int, index: int = 0) -> int:
    """The stream word of draw ``index`` of ``purpose`` (a code from :data:`PURPOSES`).

    The purpose goes to bits 40 and up, the index (``0 <= index <`` the
    purpose's declared ``count`` ``<= 2**32``) to bits 0 to 31; bits 32 to 39
    stay zero for :func:`normal`'s sub-keys. Compute it once outside a loop
    over citizens where the index does not change; with a constant purpose
    it costs one OR.
    """
    return (purpose << PURPOSE_SHIFT) | index


Entity = Literal["citizen", "company", "region", "unit", "patrol"]
Draw = Literal["uniform", "normal", "hash"]


@dataclass(frozen=True)
class Purpose:
    """One purpose of random draws: what is drawn, for which entities, how many indices."""

    code: int
    name: str
    entity: Entity
    static: bool  # drawn once (day STATIC_DAY) rather than each day
    draw: Draw  # a uniform, a normal (two sub-keys) or a raw 64-bit hash cut in parts
    count: int  # indices 0 .. count - 1 may be used
    what: str


#: Every purpose of random draws, by code: the one registry of stream keys.
PURPOSES: dict[int, Purpose] = {}

_DUPLICATE_PURPOSE = "purpose code {code} ({name}) is already {other}"
_BAD_PURPOSE = "purpose {name}: code {code} or count {count} outside the stream word's fields"


def _purpose(
    code: int, name: str, entity: Entity, static: bool, draw: Draw, what: str, count: int = 1
) -> int:
    """Register a purpose and return its code (a plain int, a constant in compiled code)."""
    if code in PURPOSES:
        raise ValueError(_DUPLICATE_PURPOSE.format(code=code, name=name, other=PURPOSES[code].name))
    if not (0 < code <= MAX_PURPOSE and 0 < count <= 1 << INDEX_BITS):
        raise ValueError(_BAD_PURPOSE.format(name=name, code=code, count=count))
    PURPOSES[code] = Purpose(code, name, entity, static, draw, count, what)
    return code


#: Friend slots a citizen can have: the scenario's limits (friends_local and
#: friends_distant are each at most 200).
FRIEND_SLOTS: Final = 400
#: Attempts per friend slot (:data:`socialscore.simulation.kernels.friends.ATTEMPTS`).
FRIEND_ATTEMPTS: Final = 64
#: Hashes of the daily gate draws: (mortgage, travel), (job, review), (dating, documents).
GATE_HASHES: Final = 3

# The nation, drawn once (day STATIC_DAY).
GROUP = _purpose(1, "group", "citizen", True, "uniform", "minority membership")
REGION_INCOME = _purpose(2, "region_income", "region", True, "normal", "a region's income shift")
MINORITY_TILT = _purpose(3, "minority_tilt", "region", True, "normal", "a region's minority tilt")
INCOME = _purpose(4, "income", "citizen", True, "normal", "the latent income")
AGE = _purpose(5, "age", "citizen", True, "uniform", "the age band")
CHILDREN = _purpose(6, "children", "citizen", True, "uniform", "school-age children")
EMPLOYED = _purpose(7, "employed", "citizen", True, "uniform", "employed at the start")
EMPLOYER = _purpose(8, "employer", "citizen", True, "uniform", "the first employer")
TRAIT = _purpose(9, "trait", "citizen", True, "normal", "a latent trait", count=len(TRAITS))
FRIEND = _purpose(
    10,
    "friend",
    "citizen",
    True,
    "hash",
    "a friend candidate (slot * 64 + attempt)",
    count=FRIEND_SLOTS * FRIEND_ATTEMPTS,
)
HOMOPHILY = _purpose(
    11,
    "homophily",
    "citizen",
    True,
    "hash",
    "homophily turns a candidate down (as friend)",
    count=FRIEND_SLOTS * FRIEND_ATTEMPTS,
)
COMPANY_OWNER = _purpose(12, "company_owner", "company", True, "uniform", "a company's owner")
COMPANY_SECTOR = _purpose(13, "company_sector", "company", True, "uniform", "a company's sector")
COMPANY_SIZE = _purpose(14, "company_size", "company", True, "uniform", "a company's size")
COMPANY_COMPLIANCE = _purpose(
    15, "company_compliance", "company", True, "normal", "a company's compliance trait"
)
# The run's fixed draws (day STATIC_DAY).
AWARE = _purpose(16, "aware", "citizen", True, "uniform", "aware of the score")
OPT_IN = _purpose(17, "opt_in", "citizen", True, "uniform", "opts in before the mandatory day")
HETEROGENEITY = _purpose(
    18,
    "heterogeneity",
    "citizen",
    True,
    "hash",
    "rate multipliers, a byte per event (event // 8)",
    count=math.ceil(len(CITIZEN_EVENTS) / 8),
)
COMPANY_HETEROGENEITY = _purpose(
    19,
    "company_heterogeneity",
    "company",
    True,
    "hash",
    "a company's rate multipliers (bytes)",
    count=math.ceil(len(COMPANY_EVENTS) / 8),
)
# Daily draws.
EVENT = _purpose(
    20,
    "event",
    "citizen",
    False,
    "hash",
    "the day's events, 31 bits each (event // 2)",
    count=math.ceil(len(CITIZEN_EVENTS) / 2),
)
INTERACTION_FRIEND = _purpose(
    21, "interaction_friend", "citizen", False, "uniform", "the friend slot of an interaction"
)
DATA_ERROR = _purpose(22, "data_error", "citizen", False, "hash", "an erroneous record")
DISPUTE_FILED = _purpose(23, "dispute_filed", "citizen", False, "uniform", "files a dispute")
DISPUTE_UPHELD = _purpose(24, "dispute_upheld", "citizen", False, "uniform", "a dispute upheld")
REVIEW = _purpose(
    25,
    "review",
    "citizen",
    False,
    "uniform",
    "human review overturns a denial (gate)",
    count=len(CITIZEN_GATES),
)
GATE_DRAWS = _purpose(
    26,
    "gate_draws",
    "citizen",
    False,
    "hash",
    "who applies: two 32-bit uniforms per hash",
    count=GATE_HASHES,
)
GATE_CHOICE = _purpose(
    27,
    "gate_choice",
    "citizen",
    False,
    "uniform",
    "the employer hired by, the date met (gate)",
    count=len(CITIZEN_GATES),
)
UNFRIEND = _purpose(
    28, "unfriend", "citizen", False, "hash", "drops the friend in a slot", count=FRIEND_SLOTS
)
COMPANY_EVENT = _purpose(
    29, "company_event", "company", False, "uniform", "a company's event", count=len(COMPANY_EVENTS)
)
COMPANY_GATE = _purpose(30, "company_gate", "company", False, "uniform", "bids for a contract")
LOW_RANK = _purpose(
    31,
    "low_rank",
    "citizen",
    False,
    "uniform",
    "low-ranked at a publication: the tied block straddling the cut split at random",
)
# The run's records before day 0 (day STATIC_DAY; scenario.schema.History).
HISTORY = _purpose(
    32, "history", "citizen", True, "uniform", "carries a record before day 0 (entry)", count=8
)
HISTORY_AGE = _purpose(
    33, "history_age", "citizen", True, "uniform", "the age of that record (entry)", count=8
)
INITIAL_SCORE = _purpose(
    36, "initial_score", "citizen", True, "uniform", "the order in which a group takes its scores"
)
# Consequences of decisions (scenario.schema.Outcome).
OUTCOME = _purpose(
    34, "outcome", "citizen", False, "uniform", "an approved loan repaid or in arrears"
)
# Lending policies (scenario.schema.Policy).
POLICY_MARGIN = _purpose(
    35,
    "policy_margin",
    "citizen",
    False,
    "uniform",
    "approved at exactly the policy's threshold score, at its marginal chance (gate)",
    count=len(CITIZEN_GATES),
)
# Monitoring that follows detections (scenario.schema.Monitoring; kernels.monitoring).
PATROL = _purpose(
    37, "patrol", "patrol", False, "uniform", "the unit a patrol is sent to (entity: the patrol)"
)
MONITOR_DECAY = _purpose(
    38, "monitor_decay", "unit", False, "uniform", "the weight a unit loses (Binomial by inversion)"
)
MONITOR_CORRECTION = _purpose(
    39,
    "monitor_correction",
    "unit",
    False,
    "uniform",
    "a unit's detections added to its weight (linear surprise)",
)
DETECTION = _purpose(
    40,
    "detection",
    "citizen",
    False,
    "uniform",
    "an event in a patrolled unit is observed (event)",
    count=len(CITIZEN_EVENTS),
)
