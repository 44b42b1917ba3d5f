"""Ensign et al. (FAT* 2018), runaway feedback loops, reproduced with the engine's monitoring.

The shipped scenario ``ensign2018-feedback`` is the authors' Pólya urn as a
regime: the urn's two regions are the two groups, one patrol a day goes to a
group in proportion to its weight, sees its incidents of the day and adds
them (``[monitoring]``; docs/model.md, "One day"). :func:`feedback_figures`
runs the four configurations of the authors' ``make paper-examples`` (top2
and random, without and with the linear-surprise correction) over seeds and
sets the mean share of region A (the majority) after days 1, 10, 50, 100,
300, 500 and 1,000 beside the mean and SD over the 1,000 reference runs of
the authors' ``polya.py``, copied below from
``data/ensign2018-feedback/reference_shares.csv`` (its README says how they
were made; ``tests/test_monitoring.py`` checks the copy).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from socialscore.scenario.files import load
from socialscore.scenario.schema import Scenario
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine
from socialscore.simulation.kernels.monitoring import M_WEIGHT_END
from socialscore.simulation.recorder import Recorder

#: The shipped scenario (configuration top2, no correction).
ENSIGN_SCENARIO: Final = "ensign2018-feedback"
#: The days (1 = after the first day) the reference reports and the study compares.
DAYS: Final = (1, 10, 50, 100, 300, 500, 1000)
#: Region A's true daily rate in every configuration (data/ensign2018-feedback/parameters.csv).
LAMBDA_A: Final = 3.68511


@dataclass(frozen=True)
class Config:
    """One configuration of the authors' urn (data/ensign2018-feedback/parameters.csv)."""

    name: str
    lambda_b: float  # region B's true daily rate
    prior: tuple[int, int]  # the urn's balls of A and B at the start
    correction: Literal["none", "surprise"]

    @property
    def true_share(self) -> float:
        """Region A's share of the true incidents: λA / (λA + λB)."""
        return LAMBDA_A / (LAMBDA_A + self.lambda_b)


CONFIGS: Final[dict[str, Config]] = {
    c.name: c
    for c in (
        Config("top2_nofix", 2.816466, (609, 379), "none"),
        Config("top2_fix", 2.816466, (609, 379), "surprise"),
        Config("random_nofix", 2.35592, (609, 7), "none"),
        Config("random_fix", 2.35592, (609, 7), "surprise"),
    )
}

#: (mean share of A, SD across runs) after each of :data:`DAYS`, over the 1,000 runs of the
#: authors' polya.py: data/ensign2018-feedback/reference_shares.csv.
REFERENCE: Final[dict[str, tuple[tuple[float, float], ...]]] = {
    "top2_nofix": (
        (0.6166, 0.0023), (0.6187, 0.0078), (0.6274, 0.0192), (0.6430, 0.0301),
        (0.7262, 0.0627), (0.8081, 0.0760), (0.9312, 0.0587),
    ),
    "top2_fix": (
        (0.6163, 0.0021), (0.6152, 0.0071), (0.6097, 0.0177), (0.6008, 0.0274),
        (0.5780, 0.0454), (0.5682, 0.0473), (0.5670, 0.0490),
    ),
    "random_nofix": (
        (0.9886, 0.0006), (0.9889, 0.0022), (0.9899, 0.0044), (0.9908, 0.0063),
        (0.9935, 0.0077), (0.9943, 0.0062), (0.9944, 0.0074),
    ),
    "random_fix": (
        (0.9886, 0.0007), (0.9882, 0.0021), (0.9856, 0.0064), (0.9799, 0.0141),
        (0.7638, 0.1156), (0.6217, 0.0589), (0.6104, 0.0507),
    ),
}  # fmt: skip
#: Runs behind each reference figure.
REFERENCE_RUNS: Final = 1000


@dataclass(frozen=True)
class Figure:
    """Region A's mean share after one day: ours over ``seeds`` runs beside the reference."""

    config: str
    day: int
    seeds: int
    mean: float
    sd: float  # across our runs
    se: float  # of our mean: sd / sqrt(seeds)
    reference_mean: float
    reference_sd: float  # across the reference's 1,000 runs

    @property
    def tolerance(self) -> float:
        """Three standard errors of the difference: 3 · sqrt(sd_ref² / S + sd² / S)."""
        return 3.0 * math.sqrt((self.reference_sd**2 + self.sd**2) / self.seeds)


def configured(config: str, seed: int, base: Scenario | None = None) -> Scenario:
    """The shipped scenario set to one configuration and seed.

    Region B's rate is the minority's multiplier λB / λA of the stream the
    patrols monitor; the prior and the correction are ``[monitoring]``'s.
    """
    c = CONFIGS[config]
    sc = (base if base is not None else load(ENSIGN_SCENARIO).scenario).with_overrides(seed=seed)
    watch = sc.monitoring
    assert watch is not None, "the Ensign scenario has [monitoring]"
    data = sc.model_dump(by_alias=True)
    (event,) = watch.events
    data["streams"][event]["minority_multiplier"] = c.lambda_b / LAMBDA_A
    data["monitoring"]["prior"] = list(c.prior)
    data["monitoring"]["correction"] = c.correction
    return Scenario.model_validate(data)


def shares_of_a(scenario: Scenario) -> np.ndarray:
    """Region A's (the majority's) share of the weights after each day of a run (float64 [days])."""
    nat = nation.generate(scenario)
    engine, recorder = Engine(scenario, nat), Recorder(scenario, nat)
    engine.run(recorder)
    end = recorder.monitoring[:, :, M_WEIGHT_END].astype(np.float64)  # [day, unit]
    return np.asarray(end[:, 0] / end.sum(axis=1))


def feedback_figures(
    seeds: Iterable[int] = range(40),
    configs: Iterable[str] = tuple(CONFIGS),
    days: Iterable[int] = DAYS,
) -> list[Figure]:
    """Each configuration run on each seed; A's mean share after each day beside the reference."""
    base = load(ENSIGN_SCENARIO).scenario
    seed_list = list(seeds)
    wanted = list(days)
    figures: list[Figure] = []
    for config in configs:
        runs = np.array([shares_of_a(configured(config, s, base)) for s in seed_list])
        for day in wanted:
            values = runs[:, day - 1]
            sd = float(values.std(ddof=1)) if len(seed_list) > 1 else 0.0
            ref_mean, ref_sd = REFERENCE[config][DAYS.index(day)]
            figures.append(
                Figure(
                    config,
                    day,
                    len(seed_list),
                    float(values.mean()),
                    sd,
                    sd / math.sqrt(len(seed_list)),
                    ref_mean,
                    ref_sd,
                )
            )
    return figures
