"""Files and folders written complete or not at all.

Every folder socialscore writes (a run, a comparison, a sweep's report) is
first written under a temporary name beside its final place, its files and
the folder itself are flushed to disk, and then it is renamed into place in
one step (``rename(2)`` on the same file system), and the parent is flushed.
A reader sees the old folder or the new one, never a half-written one; a
crash leaves at most a temporary folder, which the next writer removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a directory's entry table to disk (no-op where unsupported)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def hash_and_fsync(path: Path) -> tuple[int, str]:
    """Flush a file to disk and return its size and sha256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(handle.fileno())
    return size, digest.hexdigest()


def sha256(path: Path) -> str:
    """The sha256 (hex) of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_durably(path: Path, data: bytes) -> None:
    """Write a file and flush it to disk (the caller renames it into place)."""
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def replace_file(target: Path, data: bytes) -> tuple[int, str]:
    """Replace ``target`` with ``data`` in one step; return the new file's size and sha256."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    size, digest = hash_and_fsync(tmp)
    os.replace(tmp, target)
    fsync_dir(target.parent)
    return size, digest


@contextlib.contextmanager
def atomic_folder(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """Write a folder complete or not at all.

    Yields a fresh temporary folder beside ``final`` to write into. When the
    block ends normally its files and the folder are flushed, it is renamed
    to ``final`` and the parent is flushed; when the block raises it is
    removed and ``final`` is untouched.

    Args:
        final: Where the folder ends up.
        replace: Replace an existing ``final`` (its old content is removed
            after the new folder is in place); otherwise an existing
            ``final`` raises ``FileExistsError`` before anything is written.

    Raises:
        FileExistsError: If ``final`` exists and ``replace`` is False.
    """
    if final.exists() and not replace:
        raise FileExistsError(f"{final} already exists")
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)  # left by a writer that crashed
    tmp.mkdir(parents=True)
    try:
        yield tmp
        for entry in sorted(tmp.rglob("*")):
            if entry.is_file():
                hash_and_fsync(entry)
        fsync_dir(tmp)
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
