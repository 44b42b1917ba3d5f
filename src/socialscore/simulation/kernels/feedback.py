"""How the regime changes behaviour: stress, chilling, gaming, unfriending.

The rate multipliers these states produce are applied in the behaviour
kernel; here they are updated, once a day after the gates (and unfriending
on the network schedule, in :mod:`socialscore.simulation.kernels.network`).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def trait_factor(value: int) -> float:
    """A uint8 trait as a factor with mean 1 (range 0..2)."""
    return (value + 0.5) / 128.0


@njit(cache=True, inline="always")
def chill_increment(
    aware: bool, score: int, below: int, risk_aversion: int, weight: float
) -> float:
    """Today's growth in chilling exposure: aware citizens under the cut, by risk aversion."""
    if not aware or score >= below:
        return 0.0
    return (1.0 - weight) + weight * trait_factor(risk_aversion)


@njit(cache=True, inline="always")
def gaming_update(
    current: float, aware: bool, gaming_trait: int, increment: float, cap: float
) -> float:
    """Aware citizens add rewarded behaviour, up to a cap."""
    if not aware or increment <= 0.0:
        return current
    value = current + increment * trait_factor(gaming_trait)
    return cap if value > cap else value
