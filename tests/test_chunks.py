"""Chunks spread over threads: every chunk exactly once, errors not lost."""

from __future__ import annotations

import threading

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from socialscore.simulation import chunks
from socialscore.simulation.chunks import over_chunks, ranges


@given(n_chunks=st.integers(0, 500), n_threads=st.integers(1, 64))
def test_ranges_cover_every_chunk_once_in_order(n_chunks: int, n_threads: int) -> None:
    parts = ranges(n_chunks, n_threads)
    assert len(parts) == n_threads
    covered = [c for first, last in parts for c in range(first, last)]
    assert covered == list(range(n_chunks))
    sizes = [last - first for first, last in parts]
    assert max(sizes) - min(sizes) <= 1


@njit(nogil=True)
def _mark(first: int, last: int, seen: np.ndarray, value: int) -> None:
    for c in range(first, last):
        seen[c] += value


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_chunks", [0, 1, 3, 62])
def test_every_chunk_is_run_exactly_once(threads: int, n_chunks: int) -> None:
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        seen = np.zeros(n_chunks, dtype=np.int64)
        over_chunks(_mark, n_chunks, seen, 7)
    finally:
        numba.set_num_threads(previous)
    assert (seen == 7).all()


def test_an_error_in_any_thread_reaches_the_caller() -> None:
    def kernel(first: int, last: int, bad: int) -> None:
        if first <= bad < last:
            raise ValueError(f"chunk {bad} failed")

    for bad in (0, 61):
        with pytest.raises(ValueError, match=f"chunk {bad} failed"):
            over_chunks(kernel, 62, bad)


def test_ranges_run_on_more_than_one_thread_when_numba_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread on this machine")
    names: set[str] = set()
    barrier = threading.Barrier(2, timeout=10)

    def kernel(first: int, last: int) -> None:
        names.add(threading.current_thread().name)
        barrier.wait()  # both ranges must be running at once

    monkeypatch.setattr(chunks, "PARTS_PER_THREAD", 1)
    previous = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        over_chunks(kernel, 2)
    finally:
        numba.set_num_threads(previous)
    assert len(names) == 2
