"""Counter-based random numbers keyed by (seed, day, entity, stream).

Every draw is a pure function of its key, so results do not depend on the
order in which citizens are visited, on the thread count or on chunking, and
two scenarios run with the same seed see the same numbers wherever their
policies do not differ (common random numbers).

The mixer is SplitMix64's finaliser applied to a combination of the key
words with distinct odd multipliers; its output passes BigCrush when used
as a counter-based generator (Steele, Lea & Flood, OOPSLA 2014).
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
    """Return a standard normal draw for the key (Box-Muller on two sub-streams)."""
    u1 = uniform(seed, day, entity, 2 * stream)
    u2 = uniform(seed, day, entity, 2 * stream + 1)
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


# Stream identifiers: every random decision has its own stream number, so that
# adding a decision never shifts the numbers another decision sees.
KEY_REGION = 1
KEY_GROUP = 2
KEY_INCOME = 3
KEY_AGE = 4
KEY_CHILDREN = 5
KEY_EMPLOYED = 6
KEY_EMPLOYER = 7
KEY_TRAIT = 10  # + trait index (uses 2 sub-streams each)
KEY_FRIEND = 40  # + slot * 4 + attempt
KEY_COMPANY = 1000  # company set-up: + field
KEY_AWARE = 50
KEY_OPT_IN = 51
KEY_HETEROGENEITY = 100  # + event index: the per-citizen rate multiplier
KEY_EVENT = 200  # + event index: the daily draw
KEY_INTERACTION_FRIEND = 250
KEY_DATA_ERROR = 260
KEY_DISPUTE = 270
KEY_REVIEW = 280  # + gate index
KEY_LOW_RANK = 290  # the tied block straddling the low-ranked cut, split at random
KEY_GATE = 300  # + gate index * 4 + sub-draw
KEY_UNFRIEND = 400  # + slot
KEY_COMPANY_EVENT = 500  # + company event index
KEY_COMPANY_HETEROGENEITY = 520  # + company event index
KEY_COMPANY_GATE = 540
