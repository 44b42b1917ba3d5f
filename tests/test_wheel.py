"""The wheel works on its own: built, installed in a fresh venv, a shipped scenario run by name.

The test exercises what ``pip install socialscore`` would give a user, offline
and in about a minute and a half (most of it numba compiling the kernels once
in the fresh install):

- The wheel is built from a copy of the source (``pyproject.toml``,
  ``README.md``, ``src/``) with ``pip wheel --no-deps --no-build-isolation
  --no-index``: the build backend the ``[build-system]`` table names
  (setuptools >= 68 and wheel) comes from the dev extras, so nothing is
  downloaded, and the copy keeps ``build/`` and ``*.egg-info`` out of the tree.
- A fresh venv (``python -m venv``, its own pip from ensurepip) outside the
  repository installs the wheel alone (``--no-deps --no-index``). Its
  dependencies (numba, pydantic, duckdb, ...) are made importable by a ``.pth``
  file listing the test interpreter's folders that hold them but no
  ``socialscore``: a ``.pth`` line only appends a folder to ``sys.path``, so
  the ``.pth`` files inside it are not run, and the dev install's editable hook
  (``__editable__...pth``, which would put the checkout's ``src/`` on the path)
  stays inactive. The probe checks that too.
- From a working folder outside the repository, without ``PYTHONPATH``, the
  probe imports socialscore and reports where from, and the installed console
  script runs the shipped ``citizen-score`` small, by name, and validates the
  shipped sweep grids by name: the scenarios and grids must come from the
  installed copy as package data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "src")

PROBE = """
import json, sys
import socialscore
from socialscore.scenario.files import SHIPPED_DIR, shipped_scenarios
from socialscore.studies.grid import load_grid
from socialscore.studies.shipped import shipped_sweeps
print(json.dumps({
    "file": socialscore.__file__,
    "shipped_dir": str(SHIPPED_DIR),
    "scenarios": sorted(shipped_scenarios()),
    "sweeps": {name: len(load_grid(name).points) for name in shipped_sweeps()},
    "path": sys.path,
    "finders": [repr(f) for f in sys.meta_path],
}))
"""


def _clean_env() -> dict[str, str]:
    """The environment less what would point Python or pip at the checkout."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["NUMBA_NUM_THREADS"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _dependency_folders() -> list[str]:
    """The folders of this interpreter's path that hold no socialscore and are not its sources.

    The dev venv may live inside the checkout (``make`` puts it in ``.venv``), so
    only the checkout itself, its ``src/`` and its ``tests/`` are left out.
    """
    own = (ROOT / "src", ROOT / "tests")
    folders = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if (
            path.is_dir()
            and path != ROOT
            and not any(path.is_relative_to(folder) for folder in own)
            and not (path / "socialscore").exists()
        ):
            folders.append(str(path))
    return folders


def _site_packages(venv: Path) -> Path:
    found = list((venv / "lib").glob("python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def test_the_wheel_runs_a_shipped_scenario_by_name_from_a_fresh_venv(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.nbi", "*.nbc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps"]
    build += ["--no-build-isolation", "--no-index", "--no-cache-dir", "-w", str(wheels)]
    _run(build, cwd=tmp_path, timeout=300)
    (wheel,) = wheels.glob("socialscore-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, timeout=300)
    python, site = venv / "bin" / "python", _site_packages(venv)
    deps = "\n".join(_dependency_folders()) + "\n"
    (site / "socialscore-test-dependencies.pth").write_text(deps, "utf-8")
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--no-cache-dir"]
    _run([*install, str(wheel)], cwd=tmp_path, timeout=300)

    work = tmp_path / "elsewhere"
    work.mkdir()
    probe = json.loads(_run([str(python), "-c", PROBE], cwd=work, timeout=300).stdout)
    assert Path(probe["file"]).is_relative_to(site), probe["file"]
    assert Path(probe["shipped_dir"]) == site / "socialscore" / "scenario" / "shipped"
    shipped = sorted(p.stem for p in (ROOT / "src/socialscore/scenario/shipped").glob("*.toml"))
    assert probe["scenarios"] == shipped
    assert sorted(probe["sweeps"]) == [
        "group-assumptions",
        "network-and-mortgage",
        "rulebook-sobol",
    ]
    assert all(points > 0 for points in probe["sweeps"].values())
    holders = [Path(p or work).resolve() for p in probe["path"]]
    holders = [p for p in holders if (p / "socialscore").exists()]
    assert holders == [site.resolve()], holders  # the checkout is not on the path
    assert not [f for f in probe["finders"] if "editable" in f.lower()], probe["finders"]

    out = tmp_path / "runs"
    script = venv / "bin" / "socialscore"
    args = ["run", "citizen-score", "--population", "2000", "--days", "10", "--out", str(out)]
    _run([str(script), *args], cwd=work, timeout=600)
    (folder,) = [p for p in out.iterdir() if p.is_dir() and "citizen-score" in p.name]
    assert (folder / "report.html").is_file()
    assert list(folder.rglob("*.parquet"))
    listing = _run([str(script), "scenarios"], cwd=work, timeout=300).stdout
    assert all(name in listing for name in shipped)
