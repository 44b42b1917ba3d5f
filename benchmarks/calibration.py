"""The figures of docs/calibration.md: how far each calibrated regime lands from its source.

For each blacklist regime, runs seeds 11 to 14 and prints the listed share on
day 0 and on the last day, listings per free citizen-day and removals per
listed citizen-day (mean ± s.d. over the seeds). Usage:

    .venv/bin/python benchmarks/calibration.py [--seeds 4] [--only court-blacklist]
"""

from __future__ import annotations

import argparse
import statistics

#: Regime and the population its figures are measured at.
REGIMES = {"court-blacklist": 500_000, "court-blacklist-2024": 1_000_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--only", choices=sorted(REGIMES), default=None)
    args = parser.parse_args()

    from socialscore.scenario.files import load
    from socialscore.studies.calibration import list_flows

    for name, population in REGIMES.items():
        if args.only and name != args.only:
            continue
        rows = []
        for seed in range(11, 11 + args.seeds):
            sc = load(name).scenario.with_overrides(population=population, seed=seed)
            f = list_flows(sc)
            rows.append((100 * f.first, 100 * f.last, f.added_rate, f.removed_rate))
        print(f"{name}: {args.seeds} seeds (11..), {population:,} citizens, {sc.run.days} days")
        for label, k, fmt in (
            ("listed on day 0 (%)", 0, ".3f"),
            ("listed on the last day (%)", 1, ".3f"),
            ("listed per free citizen-day", 2, ".3e"),
            ("removed per listed citizen-day", 3, ".3e"),
        ):
            values = [r[k] for r in rows]
            sd = statistics.stdev(values) if len(values) > 1 else float("nan")
            print(f"  {label:32s} {statistics.mean(values):{fmt}} ± {sd:{fmt}}")


if __name__ == "__main__":
    main()
