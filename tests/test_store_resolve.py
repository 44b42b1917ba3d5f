"""Where the run store is (issue 17): ``SOCIALSCORE_RUNS`` moves the default store for
every command and for the Python API; ``--out`` (``out=``) still wins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from socialscore.store.catalogue import (
    RunMeta,
    RunStore,
)

SRC = Path(__file__).resolve().parents[1] / "src"


def _write(
    store: RunStore,
    run_id: str,
    *,
    created: datetime,
    scenario: str = "alpha",
    tags: dict[str, Any] | None = None,
) -> str:
    """A complete run with one table and two metric rows, made at ``created``."""
    with store.writing(run_id) as writer:
        writer.write_table("daily", pa.table({"day": pa.array(range(5), type=pa.int32())}))
        meta = RunMeta(
            run_id=run_id,
            scenario_name=scenario,
            scenario_sha256="0" * 64,
            seed=1,
            population=1000,
            companies=10,
            days=5,
            created_at=created,
            wall_seconds=0.1,
            version="0.1.0",
            tags=tags or {},
        )
        metrics = pa.table(
            {
                "metric": ["mean_score", "gini"],
                "subject": ["", ""],
                "grp": ["all", "all"],
                "value": [600.0, 0.2],
            }
        )
        writer.finish(meta, metrics)
    return run_id


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


# -- where the store is --------------------------------------------------------------------


def _python(code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC), **env},
        cwd=cwd,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_socialscore_runs_moves_the_default_store_for_python(tmp_path: Path) -> None:
    code = (
        "import json, socialscore; from socialscore.studies import run;"
        "print(json.dumps([str(socialscore.RunStore().root),"
        " str(run.rebuild_report.__kwdefaults__['out'])]))"
    )
    elsewhere = tmp_path / "elsewhere"
    moved = json.loads(_python(code, {"SOCIALSCORE_RUNS": str(elsewhere)}, tmp_path))
    assert moved == [str(elsewhere), str(elsewhere)]
    unset = json.loads(_python(code, {"SOCIALSCORE_RUNS": ""}, tmp_path))
    assert unset[0] == str(tmp_path / "socialscore-runs")


def test_socialscore_runs_moves_the_default_store_for_commands(tmp_path: Path) -> None:
    st = RunStore(tmp_path / "kept")
    _write(st, "20261201T090000-alpha-aaaaaaaa", created=_at(1))
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "SOCIALSCORE_RUNS": str(st.root),
        "COLUMNS": "300",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "socialscore", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    listed = cli("runs")
    assert listed.returncode == 0, listed.stderr
    assert "20261201T090000-alpha-aaaaaaaa" in listed.stdout
    other = cli("runs", "--out", str(tmp_path / "other"))
    assert other.returncode == 0 and "alpha" not in other.stdout  # --out still wins
    helped = cli("runs", "--help")
    assert f"[default: {st.root}]" in helped.stdout
    assert not (tmp_path / "socialscore-runs").exists()
