"""Speed of sweeps: a 2-worker local sweep against sequential runs, and Ray's overhead.

Runs the same small grid (8 runs of the default regime) four ways, each into
a fresh run store so nothing is skipped:

1. sequential, in this process, one run after another with numba's default
   threads (what a user gets from a loop over ``socialscore.run``);
2. a local sweep with 1 worker process (one numba thread per run);
3. a local sweep with 2 worker processes;
4. the same sweep on a local Ray cluster (``ray.init(num_cpus=2)``), whose
   start-up time is reported apart.

Prints wall times, the speed-up of (3) over (1) and (2), and Ray's overhead
per run: (wall of 4 − wall of 3) / runs.

    .venv/bin/python benchmarks/sweep_speed.py --population 200000 --days 60
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import socialscore
from socialscore.studies.grid import load_grid
from socialscore.studies.sweep import sweep

GRID = """
[sweep]
name = "speed"
base = "citizen-score"
seeds = 2
population = {population}
days = {days}
[grid]
"network.weight" = [0.0, 0.1]
"gates.mortgage.threshold" = [550, 650]
"""


def main() -> None:
    """Run the four ways and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sweep-speed-"))
    grid_path = work / "grid.toml"
    grid_path.write_text(GRID.format(population=args.population, days=args.days))
    grid = load_grid(grid_path)
    runs = len(grid.points) * len(grid.seeds)
    # Warm numba's cache in this process and in the workers' (same files).
    socialscore.run("citizen-score", population=2_000, days=3, out=work / "warm")
    sweep(grid_path, out=work / "warm-sweep", workers=2)

    from socialscore.scenario.schema import Scenario
    from socialscore.studies.grid import apply

    started = time.perf_counter()
    for point in grid.points:
        data = apply(grid.base_data, point.params)
        for seed in grid.seeds:
            data["run"]["seed"] = seed
            socialscore.run(Scenario.model_validate(data), out=work / "seq")
    sequential = time.perf_counter() - started

    timings = {}
    for workers in (1, 2):
        started = time.perf_counter()
        sweep(grid_path, out=work / f"local-{workers}", workers=workers)
        timings[workers] = time.perf_counter() - started

    import ray

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    sweep(grid_path, out=work / "ray-warm", ray_address="auto")  # workers load the cache
    started = time.perf_counter()
    sweep(grid_path, out=work / "ray", ray_address="auto")
    on_ray = time.perf_counter() - started
    ray.shutdown()
    shutil.rmtree(work, ignore_errors=True)

    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "runs": runs,
        "population": args.population,
        "days": args.days,
        "sequential_in_process_s": round(sequential, 2),
        "local_1_worker_s": round(timings[1], 2),
        "local_2_workers_s": round(timings[2], 2),
        "ray_2_cpus_s": round(on_ray, 2),
        "ray_start_s": round(ray_start, 2),
        "speedup_2_workers_vs_sequential": round(sequential / timings[2], 2),
        "speedup_2_workers_vs_1_worker": round(timings[1] / timings[2], 2),
        "ray_overhead_per_run_s": round((on_ray - timings[2]) / runs, 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
