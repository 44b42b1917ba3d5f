"""Start-up times: ``import socialscore`` and ``socialscore --help`` on a warm machine.

Each command runs in a fresh interpreter (``python -c "import socialscore"``
and ``python -m socialscore --help``, what the ``socialscore`` script runs),
once to warm the file cache and the bytecode, then ``--runs`` times; the
median wall time is printed with the machine. ``--src`` measures another
checkout's sources (its ``src`` folder), e.g. an older commit's worktree.

    .venv/bin/python benchmarks/import_times.py
    .venv/bin/python benchmarks/import_times.py --src /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

COMMANDS = {
    "import socialscore": ["-c", "import socialscore"],
    "socialscore --help": ["-m", "socialscore", "--help"],
}


def cpu_model() -> str:
    """The processor's name (Linux), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def seconds(args: list[str], env: dict[str, str]) -> float:
    """Wall time of one fresh interpreter running ``args``."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], env=env, check=True, stdout=subprocess.DEVNULL, timeout=120
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=SRC, help="the sources to import")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(options.src.resolve())}
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, python {platform.python_version()}; "
        f"sources {options.src.resolve()}"
    )
    for name, args in COMMANDS.items():
        seconds(args, env)  # warm-up
        times = [seconds(args, env) for _ in range(options.runs)]
        print(
            f"{name:<20} median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}, {options.runs} runs)"
        )


if __name__ == "__main__":
    main()
