"""Speed and scale: the engine against the hand-written numpy baseline.

Runs the benchmark regime (the shipped scenario ``benchmark``,
src/socialscore/scenario/shipped/benchmark.toml) in the engine and in
benchmarks/numpy_baseline.py at each population, and prints citizen-days per
second of each day loop, their ratio, and the engine's peak resident bytes
per citizen. The engine's day loop is also given per second of CPU time (all
threads'): on a shared machine it moves less with other processes' load than
the wall-clock rate. Usage:

    .venv/bin/python benchmarks/speed.py --populations 1e5 1e6 1e7 --days 365
    .venv/bin/python benchmarks/speed.py --populations 1e8 --days 365 --no-baseline
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def engine_child(population: int, days: int, scenario: str) -> None:
    """Time the engine's day loop in this (fresh) process and print one result line."""
    from socialscore.scenario.files import load
    from socialscore.simulation import nation
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    base = load(scenario).scenario
    warm = base.with_overrides(population=2_000, days=8)
    Engine(warm, nation.generate(warm)).run(Recorder(warm, nation.generate(warm)))
    sc = base.with_overrides(population=population, days=days)
    t0 = time.perf_counter()
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    recorder = Recorder(sc, nat)
    t1 = time.perf_counter()
    c1 = time.process_time()
    engine.run(recorder)
    c2 = time.process_time()
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"RESULT {t1 - t0:.3f} {t2 - t1:.3f} {peak} {c2 - c1:.3f}")


def baseline_child(population: int, days: int) -> None:
    """Time the numpy baseline's day loop in this process."""
    sys.path.insert(0, str(HERE))
    import numpy_baseline

    c1 = time.process_time()
    r = numpy_baseline.simulate(population, days, seed=1)
    c2 = time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"RESULT 0 {r.seconds:.3f} {peak} {c2 - c1:.3f}")


def _child(args: list[str]) -> tuple[float, float, int, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    setup, loop, peak, cpu = line.split()[1:]
    return float(setup), float(loop), int(peak), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--populations", nargs="+", type=float, default=[1e5, 1e6])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--baseline-days", type=int, default=None)
    parser.add_argument("--scenario", default="benchmark")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", choices=["engine", "baseline"])
    parser.add_argument("--population", type=int)
    args = parser.parse_args()
    if args.child == "engine":
        engine_child(args.population, args.days, args.scenario)
        return
    if args.child == "baseline":
        baseline_child(args.population, args.days)
        return

    import numba

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}, numba {numba.__version__}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'all')}"
    )
    header = f"{'citizens':>12} {'days':>5} {'engine cd/s':>14} {'cd/cpu-s':>14} {'bytes/cit':>10}"
    if not args.no_baseline:
        header += f" {'numpy cd/s':>14} {'ratio':>7}"
    print(header)
    for pop in args.populations:
        n = int(pop)
        _, loop, peak, cpu = _child(
            [
                "--child",
                "engine",
                "--population",
                str(n),
                "--days",
                str(args.days),
                "--scenario",
                args.scenario,
            ]
        )
        rate, cpu_rate = n * args.days / loop, n * args.days / cpu
        line = f"{n:>12,} {args.days:>5} {rate:>14,.0f} {cpu_rate:>14,.0f} {peak / n:>10.1f}"
        if not args.no_baseline:
            bdays = args.baseline_days or args.days
            _, bloop, _, _ = _child(
                ["--child", "baseline", "--population", str(n), "--days", str(bdays)]
            )
            base_rate = n * bdays / bloop
            line += f" {base_rate:>14,.0f} {n * args.days / loop / base_rate:>7.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
