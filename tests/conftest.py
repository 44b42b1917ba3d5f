"""Shared fixtures: small scenarios built in code from the shipped ones."""

from __future__ import annotations

from typing import Any

import pytest

from socialscore import scenario as sc


def small(name: str = "citizen-score", **overrides: Any) -> sc.Scenario:
    """A shipped scenario shrunk for tests (population and days overridable)."""
    loaded = sc.load(name).scenario
    return loaded.with_overrides(
        population=overrides.get("population", 5_000), days=overrides.get("days", 40)
    )


def minimal(**extra: Any) -> sc.Scenario:
    """A scenario with nothing but the given tables (merged over a bare minimum)."""
    data: dict[str, Any] = {
        "scenario": {"name": "minimal"},
        "score": {"base": 600, "lo": 0, "hi": 2000, "grades": [{"name": "all", "from": 0}]},
        "run": {"population": 1_000, "days": 10, "seed": 1},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return sc.Scenario.model_validate(data)


def simulate(scenario: sc.Scenario):  # type: ignore[no-untyped-def]
    """Run a scenario's engine in memory; return the engine and its recorder."""
    from socialscore.simulation import nation
    from socialscore.simulation.engine import Engine
    from socialscore.simulation.recorder import Recorder

    nat = nation.generate(scenario)
    engine = Engine(scenario, nat)
    recorder = Recorder(scenario, nat)
    engine.run(recorder)
    return engine, recorder


@pytest.fixture
def store_root(tmp_path):  # type: ignore[no-untyped-def]
    return tmp_path / "runs"


def write_fake_run(store: Any, name: str = "baseline") -> str:
    """Write a small complete run (one table, two metrics) into ``store`` without simulating."""
    from datetime import UTC, datetime

    import pyarrow as pa

    from socialscore.store.catalogue import RunMeta

    run_id = store.new_run_id(name)
    with store.writing(run_id) as writer:
        writer.write_table("daily", pa.table({"day": pa.array(range(50), type=pa.int32())}))
        meta = RunMeta(
            run_id=run_id,
            scenario_name=name,
            scenario_sha256="0" * 64,
            seed=7,
            population=1000,
            companies=20,
            days=30,
            created_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            wall_seconds=1.5,
            version="0.1.0",
        )
        metrics = pa.table(
            {
                "metric": ["mean_score", "gini"],
                "subject": ["citizen", "citizen"],
                "grp": ["all", "all"],
                "value": [600.0, 0.25],
            }
        )
        writer.finish(meta, metrics)
    return str(run_id)
