"""The sweep grids shipped with socialscore, found by name like shipped scenarios.

They are package data in ``sweeps/`` next to this module, so an installed wheel
has them as well as a source checkout: ``socialscore sweep network-and-mortgage``.
"""

from __future__ import annotations

from pathlib import Path

from socialscore.scenario.errors import ScenarioError

ERR_NO_GRID = "{path}: no such grid file. Shipped sweeps: {shipped}."

#: Folder of the shipped sweep grids (package data, a real folder in every install).
SWEEPS_DIR = Path(__file__).resolve().parent / "sweeps"


def shipped_sweeps() -> dict[str, Path]:
    """Return the shipped sweep grid files by name."""
    return {p.stem: p for p in sorted(SWEEPS_DIR.glob("*.toml"))}


def resolve_grid(name_or_path: str | Path) -> Path:
    """Return the grid file at a path, or the shipped grid of that name.

    A path that names an existing file wins over a shipped grid of the same name.

    Raises:
        ScenarioError: Neither a file nor a shipped grid; the message lists the shipped ones.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_sweeps()
    if path.stem in shipped and not path.parent.parts and path.suffix in ("", ".toml"):
        return shipped[path.stem]
    raise ScenarioError(ERR_NO_GRID.format(path=path, shipped=", ".join(shipped)))
