"""Intervals across seeds: Student t intervals of a mean, honest for a handful of seeds.

Each seed is one independent run, so a measure's per-seed values are a small
sample and the interval of their mean is the Student t interval
``mean ± t(1 - (1 - level) / 2, n - 1) · sd / √n``. Its coverage is exact for
normal per-seed values whatever ``n ≥ 2``, where a percentile bootstrap of
2, 3 or 5 values covers only about 50%, 75% or 84% of the time (resamples of a
few values cannot be more spread than the values themselves). For paired
comparisons (the same seeds under two regimes) the sample is the per-seed
differences. One seed gives no interval at all, said in words
(:data:`NO_INTERVAL`).

The t quantile is computed here (scipy is not a dependency): the t
distribution function through the regularized incomplete beta function,
evaluated by its continued fraction (modified Lentz), and inverted by
bisection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

#: What a report says instead of an interval when a measure has one seed.
NO_INTERVAL: Final[str] = "one seed: no interval"

ERR_LEVEL = "level must lie strictly between 0 and 1 (got {level})."
ERR_PROBABILITY = "a quantile needs 0 < p < 1 (got {p})."
ERR_DF = "degrees of freedom must be positive (got {df})."
ERR_BETA_ARGS = "the incomplete beta needs a > 0, b > 0 and 0 <= x <= 1 (got {a}, {b}, {x})."

_EPS: Final = 1e-15
_TINY: Final = 1e-300
_MAX_TERMS: Final = 10_000

#: Where a measure's interval lies against a line (0 for a difference, 0.8 for the
#: four-fifths rule): wholly above, wholly below, across it, or no interval (one seed).
Side = Literal["above", "below", "straddles", "none"]


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function ``I_x(a, b)``.

    Args:
        a: First shape, positive.
        b: Second shape, positive.
        x: Point in ``[0, 1]``.

    Returns:
        ``I_x(a, b)`` in ``[0, 1]``.

    Raises:
        ValueError: On a non-positive shape or ``x`` outside ``[0, 1]``.
    """
    if not (a > 0.0 and b > 0.0 and 0.0 <= x <= 1.0):
        raise ValueError(ERR_BETA_ARGS.format(a=a, b=b, x=x))
    if x == 0.0 or x == 1.0:
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The fraction converges fast below the mean of the beta law; use symmetry above it.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Distribution function of Student's t with ``df`` degrees of freedom.

    Raises:
        ValueError: On ``df <= 0``.
    """
    if not df > 0.0:
        raise ValueError(ERR_DF.format(df=df))
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0.0 else tail


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t: the ``t`` with ``P(T <= t) = p``.

    Inverts :func:`t_cdf` by bisection on ``x = df / (df + t²)``, in which the
    upper tail ``(1 - I_x(df/2, 1/2)) / 2`` is monotone, to full double precision.

    Args:
        p: Probability in ``(0, 1)``.
        df: Degrees of freedom, positive (need not be a whole number).

    Returns:
        The quantile.

    Raises:
        ValueError: On ``p`` outside ``(0, 1)`` or ``df <= 0``.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(ERR_PROBABILITY.format(p=p))
    if not df > 0.0:
        raise ValueError(ERR_DF.format(df=df))
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    target = 2.0 * (1.0 - p)  # I_x(df/2, 1/2) at the quantile; increasing in x
    lo, hi = 0.0, 1.0
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if incomplete_beta(df / 2.0, 0.5, mid) < target:
            lo = mid
        else:
            hi = mid
    x = 0.5 * (lo + hi)
    return math.sqrt(df * (1.0 - x) / x)


@dataclass(frozen=True)
class MeanInterval:
    """The mean of per-seed values and its Student t interval (nan bounds: no interval)."""

    mean: float
    low: float
    high: float
    n: int  # how many finite per-seed values
    level: float = 0.95

    @property
    def has_interval(self) -> bool:
        """True when there were at least two seeds."""
        return not (math.isnan(self.low) or math.isnan(self.high))

    def side(self, line: float = 0.0) -> Side:
        """Where the interval lies against ``line``: above, below, straddles, or none."""
        if not self.has_interval:
            return "none"
        if self.low > line:
            return "above"
        if self.high < line:
            return "below"
        return "straddles"

    def words(self, digits: int = 3) -> str:
        """The interval in brackets, or :data:`NO_INTERVAL`."""
        if not self.has_interval:
            return NO_INTERVAL
        return f"[{self.low:+.{digits}g}, {self.high:+.{digits}g}]"


def mean_interval(samples: npt.ArrayLike, *, level: float = 0.95) -> MeanInterval:
    """Mean of independent per-seed values and its Student t interval.

    Non-finite values (a measure a seed could not produce) are left out and
    ``n`` counts the rest. With ``n < 2`` the bounds are nan (no interval);
    with identical values the interval is the value itself.

    Args:
        samples: One value per seed (for a paired comparison, per-seed differences).
        level: Confidence level in ``(0, 1)``.

    Returns:
        The mean, its interval and the number of values used.

    Raises:
        ValueError: On ``level`` outside ``(0, 1)``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(ERR_LEVEL.format(level=level))
    x = np.asarray(samples, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return MeanInterval(float("nan"), float("nan"), float("nan"), 0, level)
    mean = float(x.mean())
    if n < 2:
        return MeanInterval(mean, float("nan"), float("nan"), n, level)
    half = t_quantile(0.5 + level / 2.0, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return MeanInterval(mean, mean - half, mean + half, n, level)
