"""A stored run can be run again: every run folder holds the fully resolved
scenario as TOML that ``socialscore run`` accepts, its hash and the environment
it ran in; ``socialscore rerun RUN`` checks the hash, runs it again and says
whether the tables came out byte-identical (issue 13, item 8)."""

from __future__ import annotations

import dataclasses
import json
import platform
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import socialscore
from socialscore.cli import app
from socialscore.scenario.files import digest, load, parse, resolve, shipped_scenarios
from socialscore.scenario.schema import Scenario
from socialscore.scenario.to_toml import scenario_toml
from socialscore.store.catalogue import RunMeta, RunStore
from socialscore.studies import environment
from socialscore.studies import run as api
from socialscore.studies.rerun import ERR_OLD_RUN, compare_tables

POPULATION, DAYS = 2_000, 20


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def _run_ids(out: Path) -> list[str]:
    return sorted(RunStore(out).list_runs().run_id)


def _run_folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if (p / "manifest.json").is_file())


def _small(name: str = "citizen-score") -> Scenario:
    return load(name).scenario.with_overrides(population=POPULATION, days=DAYS, seed=11)


def _run_stored_file(folder: Path, out: Path) -> Path:
    """`socialscore run FOLDER/scenario.toml`, with no option: the new run's folder."""
    before = set(_run_ids(out))
    code, output = _cli("run", str(folder / "scenario.toml"), "--out", str(out))
    assert code == 0, output
    (new,) = set(_run_ids(out)) - before
    return out / new


def _assert_same_tables(a: Path, b: Path) -> None:
    checks = compare_tables(a, b)
    assert len(checks) >= 12
    assert {c.verdict for c in checks} == {"byte-identical"}, checks


@pytest.fixture(scope="module")
def api_run(tmp_path_factory: pytest.TempPathFactory) -> api.Result:
    """A run made from Python with a Scenario model (and a window override)."""
    out = tmp_path_factory.mktemp("api")
    return socialscore.run(_small(), measure_from=5, out=out)


# -- the stored scenario file --------------------------------------------------


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_every_shipped_scenario_reads_back_exactly_from_its_toml(name: str) -> None:
    sc = load(name).scenario.with_overrides(population=1234, days=77, seed=2**63 - 1)
    back = parse(scenario_toml(sc, header=["run X", "given as: evil\n[run]\x1b"])).scenario
    assert back == sc
    assert digest(back) == digest(sc)


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(min_size=1, max_size=200),
    description=st.text(max_size=300),
    rate=st.floats(min_value=0.0, max_value=1.0),
    points=st.floats(min_value=-10_000, max_value=10_000),
)
def test_any_text_and_float_reads_back_exactly(
    name: str, description: str, rate: float, points: float
) -> None:
    base = load("benchmark").scenario
    data = base.model_dump(by_alias=True)
    data["scenario"] = {"name": name, "description": description}
    first_stream = next(iter(data["streams"]))
    data["streams"][first_stream]["rate"] = rate
    data["rules"][0]["points"] = points
    sc = Scenario.model_validate(data)
    assert parse(scenario_toml(sc)).scenario == sc


def test_api_run_stores_a_toml_that_run_accepts_and_reproduces(
    api_run: api.Result, tmp_path: Path
) -> None:
    text = (api_run.path / "scenario.toml").read_text("utf-8")
    stored = parse(text).scenario
    assert stored == api_run.scenario  # population, days, seed and window as run
    assert stored.run.population == POPULATION and stored.recording.measure_from_day == 5
    assert (api_run.path / "scenario.sha256").read_text().strip() == digest(stored)
    rerun_folder = _run_stored_file(api_run.path, tmp_path)
    _assert_same_tables(api_run.path, rerun_folder)


def test_sweep_style_json_run_stores_toml_that_reproduces(tmp_path: Path) -> None:
    # what socialscore.studies.sweep.execute does: a scenario as JSON, loaded with parse_json
    loaded = api.parse_json(_small("no-scoring").model_dump_json(by_alias=True))
    result = api.run(loaded, out=tmp_path, tags={"sweep": "s", "point": 0})
    text = (result.path / "scenario.toml").read_text("utf-8")
    assert not text.lstrip().startswith("{")  # was JSON, which `run` rejected
    rerun_folder = _run_stored_file(result.path, tmp_path)
    _assert_same_tables(result.path, rerun_folder)


def test_extends_run_is_stored_resolved_and_ignores_a_later_change_of_parent(
    tmp_path: Path,
) -> None:
    parent = tmp_path / "parent.toml"
    parent.write_text(resolve("citizen-score").read_text("utf-8"), "utf-8")
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "parent.toml"\n[scenario]\nname = "child"\n[feedback]\nawareness = 0.5\n',
        "utf-8",
    )
    out = tmp_path / "runs"
    code, output = _cli(
        "run", str(child), "--population", str(POPULATION), "--days", str(DAYS), "--out", str(out)
    )
    assert code == 0, output
    (run_id,) = _run_ids(out)
    folder = out / run_id
    stored = (folder / "scenario.toml").read_text("utf-8")
    assert "extends" not in stored.split("\n\n", 1)[1]
    assert (folder / "scenario.source.toml").read_text("utf-8") == child.read_text("utf-8")
    # the parent changes after the run: the stored file no longer depends on it
    parent.write_text(parent.read_text("utf-8").replace("awareness", "# awareness"), "utf-8")
    text = parent.read_text("utf-8").replace("[run]", "[run]\ndays = 3", 1)
    parent.write_text(text, "utf-8")
    _assert_same_tables(folder, _run_stored_file(folder, out))
    code, output = _cli("rerun", run_id, "--out", str(out))
    assert code == 0, output
    assert "tables are byte-identical to the original's" in output


# -- socialscore rerun -----------------------------------------------------------


def test_rerun_says_byte_identical_and_tags_the_new_run(api_run: api.Result) -> None:
    out = api_run.path.parent
    before = set(_run_ids(out))
    code, output = _cli("rerun", api_run.run_id, "--out", str(out))
    assert code == 0, output
    assert "All 19 tables are byte-identical to the original's." in output
    (new,) = set(_run_ids(out)) - before
    tags = RunStore(out).query(f"select tags from runs where run_id = '{new}'").tags.iloc[0]
    assert json.loads(tags) == {"rerun_of": api_run.run_id}


def test_rerun_names_environment_differences(
    api_run: api.Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = environment.record

    def older_numpy() -> dict[str, object]:
        env = real()
        return {**env, "packages": {**env["packages"], "numpy": "0.0-test"}}

    monkeypatch.setattr(environment, "record", older_numpy)
    code, output = _cli("rerun", api_run.run_id, "--out", str(api_run.path.parent))
    assert code == 0, output
    then = real()["packages"]["numpy"]
    assert f"environment packages.numpy: {then} then, 0.0-test now" in output


def test_rerun_that_differs_exits_1_and_names_the_tables(
    api_run: api.Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate = api._simulate
    monkeypatch.setattr(
        api,
        "_simulate",
        lambda sc, progress, trace=None: simulate(sc.with_overrides(seed=99), progress, trace),
    )
    code, output = _cli("rerun", api_run.run_id, "--out", str(api_run.path.parent))
    assert code == 1, output
    assert "The rerun differs from the original in:" in output
    assert "citizens: differs (columns:" in output


def test_audit_run_is_audited_again_with_its_bounds(tmp_path: Path) -> None:
    from socialscore.analysis.audit import Thresholds

    bounds = Thresholds(max_persistence=0.01, min_impact_ratio=0.95)
    _, result = api.audit_regime(
        load("financial-only").scenario.with_overrides(population=POPULATION, days=DAYS),
        thresholds=bounds,
        out=tmp_path,
    )
    code, output = _cli("rerun", result.run_id, "--out", str(tmp_path))
    assert code == 0, output
    # audit and the four dispute tables included
    assert "All 24 tables are byte-identical to the original's." in output


def _tamper(folder: Path, old: str, new: str) -> None:
    path = folder / "scenario.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("seed = 11", "seed = 12", "the scenario was changed after the run"),  # same size
        ("seed = 11", "seed = 123456", "is damaged"),  # the manifest's size check
        ("seed = 11", "seed = -1", "run.seed"),  # no longer a valid scenario
    ],
)
def test_rerun_refuses_an_edited_scenario_in_one_line(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    result = api.run(_small("no-scoring"), out=tmp_path)
    _tamper(result.path, old, new)
    code, output = _cli("rerun", result.run_id, "--out", str(tmp_path))
    assert code == 2, output
    assert says in output and "\n" not in output.strip()
    assert _run_folders(tmp_path) == [result.run_id]  # nothing was run


def test_rerun_refuses_a_same_size_extends_edit(tmp_path: Path) -> None:
    # a forger who keeps the size and also rewrites scenario.sha256 still cannot
    # make the rerun depend on an installed parent
    result = api.run(_small("no-scoring"), out=tmp_path)
    toml = result.path / "scenario.toml"
    text = toml.read_text("utf-8")
    header, body = text.split("\n\n", 1)
    line = 'extends = "citizen-score"'
    edited = header[: -len(line) - 1] + "\n" + line + "\n\n" + body
    assert len(edited.encode()) == len(text.encode())
    toml.write_text(edited, "utf-8")
    code, output = _cli("rerun", result.run_id, "--out", str(tmp_path))
    assert code == 2, output
    assert "names a parent scenario with `extends`" in output


def _old_style_copy(new_folder: Path, out: Path, scenario_text: str) -> str:
    """A run folder as socialscore stored it before this change (no environment.json)."""
    store = RunStore(out)
    meta = RunMeta.from_json((new_folder / "meta.json").read_text("utf-8"))
    run_id = store.new_run_id(meta.scenario_name)
    with store.writing(run_id) as writer:
        for path in sorted(new_folder.iterdir()):
            if path.suffix == ".parquet" and path.stem != "metrics":
                writer.write_table(path.stem, pq.read_table(path))
        writer.write_text("report.html", "old")
        writer.write_text("scenario.toml", scenario_text)
        for name in ("scenario.resolved.json", "scenario.sha256", "run.json"):
            writer.write_text(name, (new_folder / name).read_text("utf-8"))
        meta = dataclasses.replace(meta, run_id=run_id)
        writer.finish(meta, pq.read_table(new_folder / "metrics.parquet"))
    return run_id


@pytest.mark.parametrize("kind", ["json", "delta"])
def test_older_run_folders_still_report_and_rerun_says_why_not(
    api_run: api.Result, tmp_path: Path, kind: str
) -> None:
    text = (
        (api_run.path / "scenario.resolved.json").read_text("utf-8")
        if kind == "json"
        else '# a delta\nextends = "citizen-score"\n[scenario]\nname = "old"\n'
    )
    run_id = _old_style_copy(api_run.path, tmp_path, text)
    code, output = _cli("report", run_id, "--out", str(tmp_path))
    assert code == 0, output
    code, output = _cli("rerun", run_id, "--out", str(tmp_path))
    assert code == 2, output
    assert output.strip() == " ".join(ERR_OLD_RUN.format(run_id=run_id).split())
    assert _run_folders(tmp_path) == [run_id]


def test_rerun_of_an_unknown_run_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _cli("rerun", "20990101T000000-nothing-00000000", "--out", str(tmp_path))
    assert code == 2 and "No run" in output


# -- table comparison -------------------------------------------------------------


def test_compare_tables_tells_bytes_from_data_and_sees_nan_as_equal(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    table = pa.table({"x": [1.0, float("nan"), None], "k": ["p", "q", "r"]})
    pq.write_table(table, a / "t.parquet", compression="zstd")
    pq.write_table(table, b / "t.parquet", compression="snappy")  # other bytes, same data
    pq.write_table(table, a / "same.parquet")
    shutil.copy(a / "same.parquet", b / "same.parquet")
    changed = pa.table({"x": [1.0, float("nan"), 2.0], "k": ["p", "q", "r"]})
    pq.write_table(table, a / "d.parquet")
    pq.write_table(changed, b / "d.parquet")
    pq.write_table(table, a / "gone.parquet")
    checks = {c.name: (c.verdict, c.columns) for c in compare_tables(a, b)}
    assert checks == {
        "d": ("differs", ("x",)),
        "gone": ("missing in rerun", ()),
        "same": ("byte-identical", ()),
        "t": ("same data", ()),
    }


# -- the environment record ----------------------------------------------------------


def test_environment_json_records_versions_and_commit(api_run: api.Result) -> None:
    import duckdb
    import numba
    import numpy
    import pandas

    env = json.loads((api_run.path / "environment.json").read_text("utf-8"))
    assert env["python"] == platform.python_version()
    assert env["packages"]["numpy"] == numpy.__version__
    assert env["packages"]["numba"] == numba.__version__
    assert env["packages"]["pyarrow"] == pa.__version__
    assert env["packages"]["duckdb"] == duckdb.__version__
    assert env["packages"]["pandas"] == pandas.__version__
    assert env["packages"]["socialscore"]
    head = subprocess.run(
        ["git", "-C", str(environment.SOURCE_ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if head.returncode == 0:
        assert env["git_commit"] == head.stdout.strip()
        assert isinstance(env["git_dirty"], bool)
    else:  # not a git checkout (an installed package)
        assert env["git_commit"] is None


def test_git_commit_reads_worktrees_and_packed_refs(tmp_path: Path) -> None:
    sha1, sha2 = "a" * 40, "b" * 40
    common = tmp_path / "main" / ".git"
    (common / "worktrees" / "wt").mkdir(parents=True)
    (common / "HEAD").write_text("ref: refs/heads/main\n")
    (common / "packed-refs").write_text(
        f"# pack-refs with: peeled\n{sha1} refs/heads/main\n{sha2} refs/heads/topic\n"
    )
    assert environment.git_commit(tmp_path / "main") == sha1
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {common / 'worktrees' / 'wt'}\n")
    (common / "worktrees" / "wt" / "HEAD").write_text("ref: refs/heads/topic\n")
    (common / "worktrees" / "wt" / "commondir").write_text("../..\n")
    assert environment.git_commit(wt) == sha2
    (common / "refs" / "heads").mkdir(parents=True)
    (common / "refs" / "heads" / "topic").write_text("c" * 40 + "\n")  # loose wins
    assert environment.git_commit(wt) == "c" * 40
    (common / "worktrees" / "wt" / "HEAD").write_text("d" * 40 + "\n")  # detached
    assert environment.git_commit(wt) == "d" * 40
    assert environment.git_commit(tmp_path / "nowhere") is None
