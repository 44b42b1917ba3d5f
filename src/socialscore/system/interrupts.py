"""Stopping a sweep cleanly: signals, worker processes that die with their parent, one copy.

* :func:`stop_on_signals` turns SIGTERM into :class:`Terminated` in the main
  thread while a sweep runs (Ctrl-C already raises ``KeyboardInterrupt``), so
  both stop the sweep the same way: queued work cancelled, workers stopped,
  finished runs recorded.
* :func:`watch_parent` is the initializer of every local worker process: the
  worker ignores Ctrl-C (the parent decides what stops), asks Linux to kill it
  when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and a watchdog thread
  checks the parent every :data:`PARENT_POLL_SECONDS` on every platform, so no
  worker outlives a parent killed with ``kill -9``.
* :func:`exclusive` holds an exclusive ``flock`` on a lock file for a sweep's
  lifetime; a second copy of the same sweep is refused with
  :class:`SweepBusyError`, naming the process that holds it. The lock goes with the
  process (the kernel releases it), so a killed sweep never leaves it held.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any, Final

#: How often a worker checks that its parent is still alive (the Linux death
#: signal acts at once; this is the fallback everywhere).
PARENT_POLL_SECONDS: Final = 0.5
#: How long a stopping sweep waits for a terminated worker before killing it.
WORKER_STOP_SECONDS: Final = 3.0
#: Exit status of a worker that found its parent gone.
EXIT_ORPHANED: Final = 70

_PR_SET_PDEATHSIG: Final = 1

ERR_SWEEP_BUSY = (
    "Sweep {sweep_id} is already running in process {pid} on this run store (lock {path}); "
    "wait for it to finish, or stop it and rerun the same command to resume."
)


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives during a sweep."""

    def __init__(self, signum: int) -> None:
        """Record the signal that stopped the sweep."""
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SweepBusyError(Exception):
    """Another process is running the same sweep on the same run store."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` in the main thread.

    Outside the main thread (where Python cannot handle signals) this does
    nothing. The previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while inside; deliver them on leaving.

    For short steps that must not be cut in the middle, such as a catalogue
    transaction: a signal arriving inside would otherwise surface in a foreign
    library as its own error (DuckDB turns a ``KeyboardInterrupt`` raised in its
    callbacks into an ``InvalidInputException``). On leaving, the previous
    handlers are restored and a held signal is raised again, so it acts exactly
    as it would have (``KeyboardInterrupt``, :class:`Terminated`, or the default
    action). Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        held.append(signum)

    previous: dict[int, Any] = {}
    for caught in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(caught) is not None:  # None: a handler set outside Python; leave it
            previous[caught] = signal.signal(caught, hold)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(held):
            signal.raise_signal(number)


def watch_parent(parent: int) -> None:
    """Initializer of a worker process: ignore Ctrl-C and die with the parent ``parent``.

    Args:
        parent: The pid of the process that started the worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(EXIT_ORPHANED)
    threading.Thread(
        target=_watchdog, args=(parent,), name="socialscore-parent-watchdog", daemon=True
    ).start()


def _watchdog(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_SECONDS)
        if os.getppid() != parent:
            os._exit(EXIT_ORPHANED)


def stop_processes(processes: list[BaseProcess]) -> None:
    """Terminate worker processes, then kill any that has not exited after a few seconds."""
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)


@contextlib.contextmanager
def exclusive(path: Path, sweep_id: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block.

    The holder's pid is written into the file, so a refused second copy can
    name it.

    Args:
        path: The lock file.
        sweep_id: The sweep, for the message.

    Raises:
        SweepBusyError: If another process holds the lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise SweepBusyError(
                ERR_SWEEP_BUSY.format(sweep_id=sweep_id, pid=holder, path=path)
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
