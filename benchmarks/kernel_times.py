"""Benchmark: where a day of the default regime goes, kernel by kernel.

Times each kernel the engine calls (they run one after another) over a run,
and prints milliseconds per day for each, and the rest of a day (Python
between the kernels, the recorder). Usage:

    .venv/bin/python benchmarks/kernel_times.py [--population N] [--days D]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

KERNELS = (
    "step_network",
    "step_citizens",
    "mark_low_ranked",
    "step_gates",
    "step_disputes",
    "step_companies",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="citizen-score")
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=100)
    args = parser.parse_args()

    from socialscore.scenario.files import load
    from socialscore.simulation import engine as engine_module
    from socialscore.simulation import nation
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        def call(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            out = kernel(*a, **k)
            spent[name] += time.perf_counter() - t
            return out

        return call

    base = load(args.scenario).scenario
    warm = base.with_overrides(population=2_000, days=2)
    Engine(warm, nation.generate(warm)).run(Recorder(warm, nation.generate(warm)))
    # The engine runs each kernel through over_chunks (mark_low_ranked through
    # its own wrapper): time those calls, by kernel.
    run_chunks = engine_module.over_chunks

    def timed_chunks(kernel: Any, n_chunks: int, *a: Any) -> None:
        t = time.perf_counter()
        run_chunks(kernel, n_chunks, *a)
        spent[kernel.py_func.__name__] += time.perf_counter() - t

    engine_module.over_chunks = timed_chunks  # type: ignore[attr-defined]
    engine_module.mark_low_ranked = timed(  # type: ignore[attr-defined]
        "mark_low_ranked", engine_module.mark_low_ranked
    )

    sc = base.with_overrides(population=args.population, days=args.days)
    nat = nation.generate(sc)
    engine = Engine(sc, nat)
    recorder = Recorder(sc, nat)
    engine.step(0, recorder)  # the first touch of the state's pages is not a day's cost
    spent.clear()
    t = time.perf_counter()
    for day in range(1, args.days):
        engine.step(day, recorder)
    total = time.perf_counter() - t
    days = args.days - 1
    print(f"{sc.scenario.name}: {args.population:,} citizens, days 1-{days}")
    print(f"{'kernel':20s} {'ms per day':>10s}")
    for name in KERNELS:
        print(f"{name:20s} {spent[name] / days * 1e3:10.2f}")
    rest = total - sum(spent.values())
    print(f"{'rest of the day':20s} {rest / days * 1e3:10.2f}")
    print(f"{'whole day':20s} {total / days * 1e3:10.2f}")


if __name__ == "__main__":
    main()
