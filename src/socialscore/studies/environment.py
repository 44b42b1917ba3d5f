"""The environment a run ran in: Python, the numeric packages, the machine, the source commit.

Written to every run folder as ``environment.json`` so that a rerun can say
what, if anything, differs from the original run. The git commit is read
from the ``.git`` folder of the source tree without running git; whether the
checkout's code (``src/``) had uncommitted changes is asked of ``git status``
(with a timeout) and is ``None`` when git is unavailable. Outside a git checkout (an installed
package) both are ``None``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

#: The file name in a run folder.
ENVIRONMENT_FILE = "environment.json"
#: Format of ``environment.json``; raised when its keys change meaning.
ENVIRONMENT_FORMAT = 1
#: Packages whose versions can change a run's numbers (or its files).
PACKAGES = ("socialscore", "numpy", "numba", "llvmlite", "pyarrow", "duckdb", "pandas", "pydantic")
#: Seconds ``git status`` may take before the dirty flag is given up as unknown.
GIT_TIMEOUT_SECONDS = 5.0

#: The source tree when socialscore runs from a checkout (``src/socialscore/..``).
SOURCE_ROOT = Path(__file__).resolve().parents[3]

_SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def record(root: Path = SOURCE_ROOT) -> dict[str, Any]:
    """The environment of this process, as written to ``environment.json``.

    Args:
        root: The source tree to read the git commit from.

    Returns:
        ``format``, ``python``, ``implementation``, ``platform``, ``machine``,
        ``packages`` (name to version, ``None`` when not installed),
        ``git_commit`` and ``git_dirty`` (``None`` when unknown).
    """
    commit = git_commit(root)
    return {
        "format": ENVIRONMENT_FORMAT,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": dict(_package_versions()),
        "git_commit": commit,
        "git_dirty": None if commit is None else _git_dirty(root),
    }


def to_json(env: dict[str, Any]) -> str:
    """``environment.json`` text for an environment record."""
    return json.dumps(env, indent=2, sort_keys=True) + "\n"


def differences(then: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What differs between two environment records, as ``(what, then, now)``.

    Package versions are compared one by one (``packages.numpy``, ...); a key
    one record lacks reads as ``"?"``.
    """

    def flat(env: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in env.items() if k not in ("packages", "format")}
        packages = env.get("packages")
        if isinstance(packages, dict):
            out.update({f"packages.{k}": v for k, v in packages.items()})
        return out

    a, b = flat(then), flat(now)
    keys = list(dict.fromkeys([*a, *b]))
    return [(k, _show(a.get(k, "?")), _show(b.get(k, "?"))) for k in keys if a.get(k) != b.get(k)]


def _show(value: Any) -> str:
    return "none" if value is None else str(value)


@functools.cache
def _package_versions() -> tuple[tuple[str, str | None], ...]:
    found: list[tuple[str, str | None]] = []
    for name in PACKAGES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, None))
    return tuple(found)


def git_commit(root: Path = SOURCE_ROOT) -> str | None:
    """The commit checked out in ``root`` (a checkout or a worktree), read from ``.git``.

    Returns:
        The commit's hex id, or ``None`` when ``root`` is no git checkout or
        its ``.git`` cannot be read.
    """
    try:
        git_dir = _git_dir(root)
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text("utf-8").strip()
        if not head.startswith("ref:"):
            return head if _SHA_RE.match(head) else None
        return _read_ref(git_dir, head.removeprefix("ref:").strip())
    except (OSError, UnicodeDecodeError):
        return None


def _git_dir(root: Path) -> Path | None:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():  # a worktree or submodule: "gitdir: PATH"
        text = dot_git.read_text("utf-8").strip()
        if text.startswith("gitdir:"):
            target = Path(text.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else (root / target).resolve()
    return None


def _read_ref(git_dir: Path, ref: str) -> str | None:
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text("utf-8").strip()).resolve()
    for base in dict.fromkeys([git_dir, common]):
        loose = base / ref
        if loose.is_file():
            sha = loose.read_text("utf-8").strip()
            return sha if _SHA_RE.match(sha) else None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text("utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _SHA_RE.match(parts[0]):
                return parts[0]
    return None


def _git_dirty(root: Path) -> bool | None:
    """Whether the code under ``src/`` differs from the commit (edited or new files).

    ``None`` when git is missing, fails, or takes longer than the timeout.
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return bool(done.stdout.strip())


__all__ = ["ENVIRONMENT_FILE", "PACKAGES", "differences", "git_commit", "record", "to_json"]
