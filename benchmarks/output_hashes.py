"""Byte-identity guard: hashes of every Parquet table of every shipped scenario.

Runs every shipped scenario (``src/socialscore/scenario/shipped/*.toml``, the benchmark regime among
them) at 20,000 citizens x 60 days with the scenario's own seed, and records
for each Parquet table of each run two hashes: of the file's bytes, and of its
content (the table as an Arrow IPC stream, which does not depend on the
Parquet writer). A structural change (moving modules, bundling kernel
arguments) must leave both unchanged. Usage:

    .venv/bin/python benchmarks/output_hashes.py --write   # record the baseline
    .venv/bin/python benchmarks/output_hashes.py           # check against it

The check exits 1 and names every table that differs. File hashes depend on
the pyarrow version that wrote them; the content hashes do not, so a check on
another pyarrow version compares content only (and says so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "output_hashes.json"
POPULATION = 20_000
DAYS = 60


def scenario_names() -> list[str]:
    """Every shipped scenario, by name."""
    from socialscore.scenario.files import shipped_scenarios

    return sorted(shipped_scenarios())


def content_hash(table: pa.Table) -> str:
    """SHA-256 of a table's schema and values (Arrow IPC stream, one batch)."""
    sink = pa.BufferOutputStream()
    combined = table.combine_chunks()
    with pa.ipc.new_stream(sink, combined.schema) as writer:
        writer.write_table(combined, max_chunksize=max(1, combined.num_rows))
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def hashes() -> dict[str, dict[str, dict[str, str]]]:
    """``{scenario: {table: {"file": sha256, "content": sha256}}}`` of fresh runs."""
    import socialscore

    out: dict[str, dict[str, dict[str, str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in scenario_names():
            result = socialscore.run(name, population=POPULATION, days=DAYS, out=tmp)
            tables: dict[str, dict[str, str]] = {}
            for path in sorted(result.path.glob("*.parquet")):
                tables[path.stem] = {
                    "file": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "content": content_hash(pq.read_table(path)),
                }
            out[name] = tables
            print(f"{name}: {len(tables)} tables", file=sys.stderr)
    return out


def main() -> int:
    """Write or check the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the baseline")
    args = parser.parse_args()
    now = {"pyarrow": pa.__version__, "scenarios": hashes()}
    if args.write:
        BASELINE.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"wrote {BASELINE}")
        return 0
    base = json.loads(BASELINE.read_text())
    kinds = ("file", "content") if base["pyarrow"] == pa.__version__ else ("content",)
    if kinds == ("content",):
        print(f"pyarrow {pa.__version__} here, {base['pyarrow']} in the baseline: content only")
    differ = []
    for name in sorted(set(base["scenarios"]) | set(now["scenarios"])):
        old, new = base["scenarios"].get(name, {}), now["scenarios"].get(name, {})
        for table in sorted(set(old) | set(new)):
            for kind in kinds:
                if old.get(table, {}).get(kind) != new.get(table, {}).get(kind):
                    differ.append(f"{name}/{table}.parquet ({kind})")
    count = sum(len(t) for t in now["scenarios"].values())
    if differ:
        print(f"{len(differ)} differ:\n  " + "\n  ".join(differ))
        return 1
    scenarios = len(now["scenarios"])
    print(f"All {count} tables of {scenarios} scenarios are identical ({', '.join(kinds)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
