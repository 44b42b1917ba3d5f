"""Steady state: had the run's key daily series settled by its end?

A regime's figures are quoted as its result only if they are not still
moving. For each headline series of the ``daily`` table (:data:`SERIES`) the
test fits a straight line to the last quarter of the run (at least
:data:`MIN_DAYS` days, all inside the measurement window) and asks two
questions of its slope, expressed as the change it would bring over the next
:data:`HORIZON_DAYS` days (``drift per year``):

* Significant: the 95% interval of the drift excludes 0. Daily aggregates are
  strongly autocorrelated (today's blacklist is mostly yesterday's), so the
  interval assumes AR(1) residuals: the least-squares autocorrelation of the
  detrended series, corrected for its downward bias after fitting a line
  (about ``(2 + 4 φ) / T``) and capped at 0.99, gives the slope's variance
  ``γ₀ · x'Rx / (x'x)²`` with ``R[s, t] = φ^|s-t|``; the critical value is
  Student t with ``T (1 - φ) / (1 + φ) - 2`` degrees of freedom (the
  effective number of independent days, at least 1), so a short, persistent
  series gets the wide interval it deserves. Simulated on stationary AR(1)
  noise over 91 days, the false-alarm rate is 4-5% (φ ≤ 0.8) and 6-7%
  (φ = 0.9, a memory of about 19 days); near a unit root (φ = 0.95, three
  effective days) it reaches 7.5-9%, which the materiality condition then
  guards. The price is power on persistent series: a rise of 11 noise
  standard deviations over the 91 days is found 70% of the time at φ = 0.9
  (all the time at φ = 0.5), so "settled" means "no significant, material
  drift found", and a longer run is the way to a sharper answer.
* Material: the drift exceeds :data:`MATERIAL` (5%) of the series' scale per
  year. The scale of a share, a Gini or a stress level is its own mean over
  the tested days (a blacklisted share of 1.0% drifting 0.05 points a year is
  material); the scale of a score series is the width of the score scale
  (600 points: 30 points a year). Five per cent is where another year of the
  regime would change the figure the report quotes in its second significant
  digit.

A series is "still changing" when its drift is both significant and
material, and "settled" otherwise (a flat line, a drift lost in the noise, or
one too small to matter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from socialscore.measures.intervals import t_quantile
from socialscore.scenario.schema import Scenario
from socialscore.scenario.window import measurement_window

#: The daily series tested, and what their scale is: "level" (relative to the series' own
#: mean), "score" (the citizen score scale's width) or "company" (the company scale's).
SERIES: Final[dict[str, Literal["level", "score", "company"]]] = {
    "mean_score": "score",
    "sd_score": "score",
    "gini": "level",
    "blacklisted_share": "level",
    "employed_share": "level",
    "mortgage_share": "level",
    "chilled_share": "level",
    "mean_stress": "level",
    "company_mean_score": "company",
}

#: Share of the run, at its end, that is tested.
TESTED_FRACTION: Final = 0.25
#: Fewest days a test uses; a shorter measurement window gives no test.
MIN_DAYS: Final = 30
#: Days over which a drift is projected.
HORIZON_DAYS: Final = 365
#: Drift per year, as a share of the series' scale, above which it is material.
MATERIAL: Final = 0.05
#: Largest autocorrelation the variance allows (a unit root has no finite variance).
MAX_PHI: Final = 0.99

ERR_SHORT = "a trend test needs at least 3 days (got {n})."


@dataclass(frozen=True)
class Trend:
    """A straight line fitted to a series, with an autocorrelation-aware interval of its slope."""

    slope: float  # per day
    low: float  # 95% interval of the slope
    high: float
    phi: float  # the residuals' autocorrelation used (bias-corrected, capped)
    effective_days: float  # T (1 - phi) / (1 + phi)

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0."""
        return self.low > 0.0 or self.high < 0.0


def trend(y: npt.ArrayLike, *, level: float = 0.95) -> Trend:
    """Least-squares slope of ``y`` on its day index, and its interval under AR(1) residuals.

    Args:
        y: One value per consecutive day.
        level: Confidence level of the interval.

    Returns:
        The slope per day and its interval.

    Raises:
        ValueError: With fewer than 3 values.
    """
    v = np.asarray(y, dtype=np.float64)
    n = v.size
    if n < 3:
        raise ValueError(ERR_SHORT.format(n=n))
    x = np.arange(n, dtype=np.float64)
    x -= x.mean()
    sxx = float(x @ x)
    slope = float(x @ (v - v.mean())) / sxx
    u = v - v.mean() - slope * x
    lagged = float(u[:-1] @ u[:-1])
    phi_ls = float(u[1:] @ u[:-1]) / lagged if lagged > 0.0 else 0.0
    innovations = u[1:] - phi_ls * u[:-1]
    sigma2 = float(innovations @ innovations) / max(n - 3, 1)
    phi = min(max(phi_ls + (2.0 + 4.0 * phi_ls) / n, 0.0), MAX_PHI)
    gamma0 = sigma2 / (1.0 - phi * phi)
    # x'Rx with R[s, t] = phi^|s - t|: the lag-k products of x, weighted by phi^k.
    lag_products = np.correlate(x, x, mode="full")[n - 1 :]
    xrx = float(lag_products[0] + 2.0 * (phi ** np.arange(1, n) * lag_products[1:]).sum())
    se = math.sqrt(max(gamma0 * xrx, 0.0)) / sxx
    effective = n * (1.0 - phi) / (1.0 + phi)
    half = t_quantile(0.5 + level / 2.0, max(effective - 2.0, 1.0)) * se
    return Trend(slope, slope - half, slope + half, phi, effective)


@dataclass(frozen=True)
class Drift:
    """Whether one daily series had settled over the tested days at the end of a run."""

    series: str
    days: tuple[int, int]  # first and last day tested
    per_year: float  # fitted change over HORIZON_DAYS
    low: float  # its 95% interval
    high: float
    scale: float  # what "material" is measured against
    significant: bool
    material: bool

    @property
    def settled(self) -> bool:
        """False ("still changing") when the drift is significant and material."""
        return not (self.significant and self.material)


def tested_days(scenario: Scenario, days: int) -> tuple[int, int] | None:
    """First and last day of the test: the run's last quarter, at least MIN_DAYS, in the window."""
    window = measurement_window(scenario, days)
    last = days - 1
    first = min(days - int(days * TESTED_FRACTION), days - MIN_DAYS)
    first = max(first, window.start)
    if last - first + 1 < MIN_DAYS:
        return None
    return first, last


def drift(
    series: str, y: npt.ArrayLike, days: tuple[int, int], scale_kind: str, scale_width: float
) -> Drift:
    """Test one series over the tested days (``y`` holds exactly those days)."""
    v = np.asarray(y, dtype=np.float64)
    fit = trend(v)
    scale = float(np.abs(v).mean()) if scale_kind == "level" else float(scale_width)
    per_year = fit.slope * HORIZON_DAYS
    material = abs(per_year) > MATERIAL * scale if scale > 0.0 else per_year != 0.0
    return Drift(
        series,
        days,
        per_year,
        fit.low * HORIZON_DAYS,
        fit.high * HORIZON_DAYS,
        scale,
        fit.significant,
        material,
    )


def drifts(scenario: Scenario, daily: pa.Table) -> list[Drift]:
    """Every series of :data:`SERIES` in a run's daily table, tested at the end of the run."""
    span = tested_days(scenario, daily.num_rows)
    if span is None:
        return []
    first, last = span
    day = np.asarray(daily.column("day").to_numpy())
    keep = (day >= first) & (day <= last)
    widths = {
        "score": float(scenario.score.hi - scenario.score.lo),
        "company": float(scenario.company_score.hi - scenario.company_score.lo),
        "level": 0.0,
    }
    out = []
    for name, kind in SERIES.items():
        if name not in daily.column_names:
            continue
        values = np.asarray(daily.column(name).to_numpy(), dtype=np.float64)[keep]
        if not np.all(np.isfinite(values)):
            continue
        out.append(drift(name, values, span, kind, widths[kind]))
    return out
