"""The run store's defaults a user sees in ``socialscore --help``.

They live apart from :mod:`~socialscore.store.catalogue` and
:mod:`~socialscore.store.query` (which load DuckDB, pandas and Arrow) so that
the command line can show them without loading those.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

ROOT_VARIABLE: Final = "SOCIALSCORE_RUNS"
"""Environment variable naming the default run store folder (``--out`` overrides it)."""

FALLBACK_ROOT: Final = Path("socialscore-runs")
"""The store root when :data:`ROOT_VARIABLE` is unset or empty, relative to the current folder."""


def default_root() -> Path:
    """The run store folder every command and API function uses unless told otherwise.

    Returns:
        The folder named by the environment variable ``SOCIALSCORE_RUNS`` (``~``
        expanded), or ``socialscore-runs`` in the current folder when it is unset
        or empty.
    """
    named = os.environ.get(ROOT_VARIABLE, "").strip()
    return Path(named).expanduser() if named else FALLBACK_ROOT


DEFAULT_ROOT: Final[Path] = default_root()
"""Default store root: ``$SOCIALSCORE_RUNS``, else ``./socialscore-runs``.

Read once, when socialscore is imported: set the variable before importing
socialscore (or starting a command); ``--out`` and ``out=`` override it.
"""

DEFAULT_LIMIT: Final = 1000
"""Rows ``socialscore query`` prints unless ``--limit`` says otherwise."""

DEFAULT_RUNS_LIMIT: Final = 50
"""Runs ``socialscore runs`` shows in a table unless ``--limit`` says otherwise."""
