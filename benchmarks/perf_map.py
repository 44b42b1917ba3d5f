"""Profile the day loop with Linux `perf`, with numba's compiled functions named.

Compiles the kernels afresh (into a temporary numba cache, so the compiled
code can be listed), writes ``/tmp/perf-PID.map`` naming every compiled
function (a parallel loop body is named after its kernel), prints ``READY
PID`` and runs the day loop. Attach ``perf`` meanwhile, e.g.:

    .venv/bin/python benchmarks/perf_map.py --population 10000000 > out.txt &
    until grep -q READY out.txt; do sleep 1; done
    perf record -p "$(cut -d' ' -f2 out.txt)" -o perf.data -- sleep 30
    perf report -i perf.data --no-children --sort sym
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="citizen-score")
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="socialscore-perf-")

    from numba.core.registry import CPUDispatcher

    from socialscore.scenario.files import load
    from socialscore.simulation import nation
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    sc = load(args.scenario).scenario.with_overrides(population=args.population, days=args.days)
    engine = Engine(sc, nation.generate(sc))
    recorder = Recorder(sc, engine.nation)
    engine.step(0, recorder)

    names: dict[int, str] = {}
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("socialscore"):
            continue
        for value in vars(module).values():
            if not isinstance(value, CPUDispatcher):
                continue
            for compiled in value.overloads.values():
                library = compiled.library
                for function in library._final_module.functions:
                    if function.is_declaration:
                        continue
                    address = library.get_pointer_to_function(function.name)
                    if not address:
                        continue
                    name = function.name
                    if "parfor_gufunc" in name and not name.startswith("__gufunc__"):
                        name = f"{value.py_func.__module__}.{value.py_func.__name__}/parallel-loop"
                    names[address] = name
    starts = sorted(names)
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        for start, end in zip(starts, [*starts[1:], starts[-1] + (1 << 16)], strict=True):
            out.write(f"{start:x} {min(end - start, 1 << 20):x} {names[start]}\n")
    print("READY", os.getpid(), flush=True)
    t = time.perf_counter()
    for day in range(1, args.days):
        engine.step(day, recorder)
    per_day = (time.perf_counter() - t) / (args.days - 1)
    print(f"{per_day * 1e3:.1f} ms per day", flush=True)


if __name__ == "__main__":
    main()
