"""Sensitivity designs and indices (SALib): which parameters drive a harm.

Sobol: Saltelli's sampling of ``samples · (k + 2)`` points and first-order
and total indices with bootstrap confidence intervals. Morris: ``samples``
trajectories on a ``levels`` grid, and mu* (mean absolute elementary effect)
and sigma. A design's outputs are averaged over seeds before analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from socialscore.studies.grid import Sensitivity


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
