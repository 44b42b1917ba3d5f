"""Benchmark: what tracing citizens and tallying decisions by attribute cost a day.

Runs the default regime's day loop (engine + recorder, no tables, no report)
on the same nation with no tracer, with the story pool's 500 citizens traced
and with 1,000 traced, in interleaved rounds, and prints the median
milliseconds per day of each, the tracer's memory, the time to read the
traced citizens' trails at the end, and the part of a day the attribute
tally (``kernels.decisions.tally_cells``) takes. Usage:

    .venv/bin/python benchmarks/trace_cost.py [--population N] [--days D] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="citizen-score")
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    from socialscore.analysis import trails
    from socialscore.scenario.files import load
    from socialscore.simulation import nation
    from socialscore.simulation import recorder as recorder_module
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.layout import layout
    from socialscore.simulation.recorder import Recorder
    from socialscore.simulation.trace import Tracer

    sc = load(args.scenario).scenario.with_overrides(
        population=args.population, days=args.days, seed=1
    )
    rules = layout(sc).accumulators
    tally_seconds = [0.0]
    real_tally = recorder_module.tally_cells

    def timed_tally(*a: object) -> None:
        t = time.perf_counter()
        real_tally(*a)  # type: ignore[arg-type]
        tally_seconds[0] += time.perf_counter() - t

    recorder_module.tally_cells = timed_tally  # type: ignore[assignment]

    def one(traced: int) -> tuple[float, float, int]:
        nat = nation.generate(sc)
        tracer = None
        if traced:
            ids = np.linspace(0, nat.population - 1, traced).round().astype(int)
            tracer = Tracer(ids, population=nat.population, days=sc.run.days, rules=rules)
        engine = Engine(sc, nat, tracer=tracer)
        if tracer is not None:
            tracer.start(engine.state, nat)
        rec = Recorder(sc, nat)
        start = time.perf_counter()
        engine.run(rec)
        loop = time.perf_counter() - start
        read = 0.0
        if tracer is not None:
            t = time.perf_counter()
            trails.read_trails("", engine, tracer)
            read = time.perf_counter() - t
        return 1000 * loop / sc.run.days, read, tracer.nbytes() if tracer else 0

    one(0)  # compile
    results: dict[int, list[tuple[float, float, int]]] = {0: [], 500: [], 1000: []}
    for _ in range(args.rounds):
        for traced in results:
            tally_seconds[0] = 0.0
            results[traced].append(one(traced))
            if traced == 0:
                per_day = 1000 * tally_seconds[0] / sc.run.days
                print(f"attribute tally: {per_day:.2f} ms a day (averaged over all days)")
    for traced, rows in results.items():
        ms = statistics.median(r[0] for r in rows)
        read = statistics.median(r[1] for r in rows)
        mem = rows[0][2] / 2**20
        print(
            f"{traced:>5} traced: {ms:.1f} ms a day (rounds: "
            f"{', '.join(f'{r[0]:.1f}' for r in rows)}), trace {mem:.1f} MB, "
            f"trails read in {read:.2f} s"
        )


if __name__ == "__main__":
    main()
