"""Benchmark: the default regime at 1,000,000 citizens x 365 days.

Prints citizen-days per second of the day loop, the time of each phase, and
peak resident bytes per citizen. Usage:

    .venv/bin/python benchmarks/run_default.py [--population N] [--days D] [--threads T]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="citizen-score")
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)

    import numba

    from socialscore.analysis import harms
    from socialscore.scenario.files import load
    from socialscore.simulation import nation
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    base = load(args.scenario).scenario
    # Compile (or load from numba's cache) on a tiny nation first.
    warm = base.with_overrides(population=2_000, days=2)
    t0 = time.perf_counter()
    Engine(warm, nation.generate(warm)).run(Recorder(warm, nation.generate(warm)))
    warm_s = time.perf_counter() - t0

    sc = base.with_overrides(population=args.population, days=args.days)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def peak_now() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    phases = {}
    t0 = time.perf_counter()
    nat = nation.generate(sc)
    phases["nation generated"] = peak_now()
    t1 = time.perf_counter()
    engine = Engine(sc, nat)
    recorder = Recorder(sc, nat)
    phases["state set up"] = peak_now()
    t2 = time.perf_counter()
    engine.run(recorder)
    phases["day loop"] = peak_now()
    t3 = time.perf_counter()
    tables = recorder.tables(engine.state)
    core = recorder.citizens_core(engine.state)
    harms.compute(
        sc, {**tables, "citizens": core}, engine.nation.friend_blocks(engine.state.friend_codes)
    )
    phases["tables and metrics"] = peak_now()
    for _ in recorder.citizen_batches(engine.state, core):
        pass  # the snapshot is built slice by slice, as a run writes it
    phases["snapshot"] = peak_now()
    t4 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    n, d = sc.run.population, sc.run.days
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, "
        f"python {platform.python_version()}, numba {numba.__version__}, "
        f"threads {numba.get_num_threads()}"
    )
    print(f"scenario {sc.scenario.name}: {n:,} citizens, {nat.companies:,} companies, {d} days")
    print(f"compile or cache load (tiny run): {warm_s:8.2f} s")
    print(f"nation generation:                {t1 - t0:8.2f} s")
    print(f"state set-up:                     {t2 - t1:8.2f} s")
    print(f"day loop:                         {t3 - t2:8.2f} s")
    print(f"tables and metrics:               {t4 - t3:8.2f} s")
    print(f"citizen-days per second (day loop): {n * d / (t3 - t2):,.0f}")
    print(f"state bytes per citizen:   {engine.state.nbytes() / n:8.1f}")
    print(f"nation bytes per citizen:  {nat.nbytes() / n:8.1f}")
    print(
        f"peak resident bytes per citizen: {peak / n:8.1f} "
        f"(process baseline before the nation: {rss_before / n:.1f})"
    )
    for phase, value in phases.items():
        print(f"  peak so far after {phase + ':':22s} {value / n:8.1f}")


if __name__ == "__main__":
    main()
