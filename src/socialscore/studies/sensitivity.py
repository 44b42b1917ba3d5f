"""Sensitivity designs and indices (SALib): which parameters drive a harm.

Sobol: Saltelli's sampling of ``samples · (k + 2)`` points and first-order
and total indices with bootstrap confidence intervals. Morris: ``samples``
trajectories on a ``levels`` grid, and mu* (mean absolute elementary effect)
and sigma. A design's outputs are averaged over seeds before analysis.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

ERR_BOUNDS = "bounds [{lo}, {hi}] must be finite numbers with lower < upper"
ERR_SOBOL_SAMPLES = "samples = {samples}: a Sobol design needs a power of two (e.g. 8, 16, 32)"


class Sensitivity(BaseModel):
    """A sensitivity design over named parameters with bounds (a grid file's ``[sensitivity]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["sobol", "morris"] = "sobol"
    samples: int = Field(16, ge=2, le=100_000)
    levels: int = Field(4, ge=2, le=20)  # Morris grid levels
    parameters: dict[str, tuple[float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _bounds(self) -> Sensitivity:
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(ERR_SOBOL_SAMPLES.format(samples=self.samples))
        for key, (lo, hi) in self.parameters.items():
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(
                    f"sensitivity.parameters.'{key}': " + ERR_BOUNDS.format(lo=lo, hi=hi)
                )
        return self

    def points(self) -> int:
        """Points of the design, from its size alone (SALib's formulas, as :func:`sample`)."""
        k = len(self.parameters)
        if self.method == "sobol":
            return self.samples * (k + 2)  # Saltelli without second-order terms
        return self.samples * (k + 1)  # Morris: trajectories of k + 1 points


def problem(spec: Sensitivity) -> dict[str, Any]:
    """The SALib problem dictionary of a design."""
    names = list(spec.parameters)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(spec.parameters[n]) for n in names],
    }


def sample(spec: Sensitivity, *, seed: int) -> np.ndarray:
    """The design's sample matrix, one row per point (reproducible from ``seed``)."""
    p = problem(spec)
    if spec.method == "sobol":
        from SALib.sample import sobol

        return np.asarray(sobol.sample(p, spec.samples, calc_second_order=False, seed=seed % 2**32))
    from SALib.sample import morris

    return np.asarray(morris.sample(p, spec.samples, num_levels=spec.levels, seed=seed % 2**32))


def analyse(
    spec: Sensitivity, design: np.ndarray, outputs: np.ndarray, *, seed: int
) -> pd.DataFrame:
    """Indices of one output per parameter.

    Returns:
        Columns parameter, index (``S1``, ``ST`` or ``mu_star``, ``sigma``),
        value, conf (half-width of the 95% interval; NaN for sigma).
    """
    p = problem(spec)
    y = np.asarray(outputs, dtype=np.float64)
    rows: list[dict[str, Any]] = []
    if np.ptp(y) == 0.0:
        # A constant output: no parameter moves it.
        for name in p["names"]:
            for index in ("S1", "ST") if spec.method == "sobol" else ("mu_star", "sigma"):
                rows.append({"parameter": name, "index": index, "value": 0.0, "conf": 0.0})
        return pd.DataFrame(rows)
    if spec.method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(p, y, calc_second_order=False, seed=seed % 2**32)
        for k, name in enumerate(p["names"]):
            rows.append(
                {"parameter": name, "index": "S1", "value": res["S1"][k], "conf": res["S1_conf"][k]}
            )
            rows.append(
                {"parameter": name, "index": "ST", "value": res["ST"][k], "conf": res["ST_conf"][k]}
            )
    else:
        from SALib.analyze import morris

        res = morris.analyze(p, design, y, num_levels=spec.levels, seed=seed % 2**32)
        for k, name in enumerate(p["names"]):
            rows.append(
                {
                    "parameter": name,
                    "index": "mu_star",
                    "value": res["mu_star"][k],
                    "conf": res["mu_star_conf"][k],
                }
            )
            rows.append(
                {"parameter": name, "index": "sigma", "value": res["sigma"][k], "conf": np.nan}
            )
    return pd.DataFrame(rows)


def indices(
    spec: Sensitivity, design: np.ndarray, frame: pd.DataFrame, *, seed: int
) -> pd.DataFrame:
    """The indices of every measure of a sweep's values (one row per parameter and index).

    Args:
        spec: The design.
        design: Its sample matrix, one row per point.
        frame: The sweep's values (columns point, metric, subject, value).
        seed: The sweep's first seed (the bootstrap of the intervals).

    Returns:
        :func:`analyse`'s columns plus metric and subject; a measure missing at
        any point of the design (or not finite there) has no indices.
    """
    if frame.empty:
        return pd.DataFrame()
    n_points = len(design)
    parts = []
    for (metric, subject), part in frame.groupby(["metric", "subject"], sort=True):
        means = part.groupby("point")["value"].mean()
        if len(means) < n_points or not np.all(np.isfinite(means.to_numpy())):
            continue  # an index needs every point of the design
        y = means.reindex(range(n_points)).to_numpy(dtype=np.float64)
        table = analyse(spec, design, y, seed=seed)
        parts.append(table.assign(metric=metric, subject=subject))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
