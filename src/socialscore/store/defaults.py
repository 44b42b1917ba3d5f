"""The run store's defaults a user sees in ``socialscore --help``.

They live apart from :mod:`~socialscore.store.catalogue` and
:mod:`~socialscore.store.query` (which load DuckDB, pandas and Arrow) so that
the command line can show them without loading those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

DEFAULT_ROOT: Final[Path] = Path("socialscore-runs")
"""Default store root, relative to the current directory."""

DEFAULT_LIMIT: Final = 1000
"""Rows ``socialscore query`` prints unless ``--limit`` says otherwise."""
