"""A kernel's chunks spread over threads.

The day's kernels (behaviour, gates, network, ranking bits, disputes,
companies) are compiled functions over a range of chunks, ``kernel(first,
last, ...)``, that release the GIL. :func:`over_chunks` cuts the chunks into a
few contiguous ranges per thread and lets the threads (the caller's among
them) take ranges until none is left. They are not numba parallel loops
because numba compiles a parallel loop by optimising again everything the
loop calls, which cost seconds per kernel on a cold start, and because the
OpenMP threads of a parallel loop keep spinning after it and would take a
core from the next kernel. Chunks are independent, so the results do not
depend on the number of threads; the number is numba's
(``NUMBA_NUM_THREADS``, :func:`numba.set_num_threads`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

#: Ranges per thread: enough to even out a late start, few enough to cost nothing.
PARTS_PER_THREAD = 4

_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """The process's worker threads (created once; afresh in a forked child)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            workers = max(1, numba.config.NUMBA_NUM_THREADS - 1)  # type: ignore[attr-defined]
            _pool = (os.getpid(), ThreadPoolExecutor(workers, "socialscore-chunks"))
        return _pool[1]


def ranges(n_chunks: int, n_threads: int) -> list[tuple[int, int]]:
    """``n_threads`` contiguous ranges of chunks, as equal as can be, covering all."""
    bounds = [n_chunks * t // n_threads for t in range(n_threads + 1)]
    return [(bounds[t], bounds[t + 1]) for t in range(n_threads)]


def over_chunks(kernel: Callable[..., Any], n_chunks: int, *args: Any) -> None:
    """Call ``kernel(first, last, *args)`` on ranges covering chunks ``0 .. n_chunks - 1``.

    The ranges are shared out as the threads ask for them, the calling thread
    among them: a worker that wakes late takes fewer. The call returns when
    all are done, and raises the first error of any.
    """
    n_threads = max(1, min(numba.get_num_threads(), n_chunks))
    if n_threads == 1:
        kernel(0, n_chunks, *args)
        return
    parts = iter(ranges(n_chunks, min(n_chunks, PARTS_PER_THREAD * n_threads)))

    def drain() -> None:
        # next() on a list iterator is atomic under the GIL: each range runs once.
        for first, last in parts:
            kernel(first, last, *args)

    pool = _executor()
    futures = [pool.submit(drain) for _ in range(n_threads - 1)]
    try:
        drain()
    finally:
        for f in futures:
            f.result()
