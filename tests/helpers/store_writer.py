"""Write runs into a RunStore from a separate process (used by tests/test_store.py).

Usage: python store_writer.py ROOT [--runs N] [--slow] [--go FILE] [--name NAME]

Prints "ready" once imports are done, waits for --go FILE to exist (if given),
then writes N runs (forever if N is 0), printing each finished run id.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from socialscore.store.catalogue import RunMeta, RunStore  # noqa: E402

SCENARIO = 'name = "helper"\n[population]\nsize = 1000\n'


def write_one(store: RunStore, name: str, index: int, slow: bool, rng: random.Random) -> str:
    run_id = store.new_run_id(name)
    started = time.perf_counter()
    with store.writing(run_id) as writer:
        writer.write_text("scenario.toml", SCENARIO)
        writer.write_text("scenario.sha256", hashlib.sha256(SCENARIO.encode()).hexdigest() + "\n")
        for t in range(4):
            n = rng.choice([1_000, 20_000, 200_000]) if slow else 1_000
            values = np.random.default_rng(index * 10 + t).normal(size=n)
            writer.write_table(f"table{t}", pa.table({"i": np.arange(n), "x": values}))
            if slow:
                time.sleep(rng.uniform(0.0, 0.03))
        metrics = pa.table(
            {
                "metric": ["mean_score", "gini"],
                "subject": ["citizen", "citizen"],
                "grp": ["all", "all"],
                "value": [float(index), 0.5],
            }
        )
        meta = RunMeta(
            run_id=run_id,
            scenario_name=name,
            scenario_sha256=hashlib.sha256(SCENARIO.encode()).hexdigest(),
            seed=index,
            population=1000,
            companies=10,
            days=30,
            created_at=datetime.now(UTC),
            wall_seconds=time.perf_counter() - started,
            version="test",
            tags={"index": index},
        )
        writer.finish(meta, metrics)
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--slow", action="store_true")
    parser.add_argument("--go")
    parser.add_argument("--name", default="helper")
    args = parser.parse_args()
    store = RunStore(args.root)
    rng = random.Random()
    print("ready", flush=True)
    if args.go:
        while not Path(args.go).exists():
            time.sleep(0.005)
    index = 0
    while args.runs == 0 or index < args.runs:
        print(write_one(store, args.name, index, args.slow, rng), flush=True)
        index += 1


if __name__ == "__main__":
    main()
