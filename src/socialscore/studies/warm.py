"""Compile the kernels once, before a user's first run.

The kernels are compiled to machine code the first time they run and the
code is cached on disk (numba's cache, beside each kernel module or under
``NUMBA_CACHE_DIR``); a cold first run spends about half a minute compiling
before its first day. ``make install`` calls ``python -m
socialscore.studies.warm`` so that ``make run`` does not pay it, and
:func:`cold` lets the command line say what is happening when it does.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Final

__all__ = ["COMPILE_SECONDS", "cold", "warm"]

#: About how long compiling every kernel takes on a 2-core machine (docs/performance.md).
COMPILE_SECONDS: Final = 30


def _cache_dirs() -> list[Path]:
    """Where numba keeps the compiled behaviour kernel."""
    from socialscore.simulation.kernels import behaviour

    root = os.environ.get("NUMBA_CACHE_DIR")
    if root:  # numba then caches there only
        return [Path(root)]
    return [Path(behaviour.__file__).resolve().parent / "__pycache__"]


def cold() -> bool:
    """Whether the citizens' kernel has never been compiled into the cache."""
    for folder in _cache_dirs():
        if folder.is_dir() and any(folder.rglob("behaviour.step_citizens-*.nbi")):
            return False
    return True


def warm() -> float:
    """Run the default regime on a tiny nation (stored in a folder then removed); seconds."""
    from socialscore.studies.run import run

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="socialscore-warm-") as folder:
        run("citizen-score", population=2_000, days=3, out=folder)
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"socialscore: compiling the kernels once (about {COMPILE_SECONDS} s) ...", flush=True)
    print(f"socialscore: kernels compiled and cached in {warm():.0f} s.")
