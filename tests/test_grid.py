"""Grids a user may write: what load refuses at once, and reports that hold on every grid.

Issue 13, items 5 and 6 (grids and workers): string-valued parameters, grids
whose runs all fail, empty/reversed/non-finite ranges, out-of-bound run sizes
and seeds, unknown metric names, too many runs, and a nonsense ``--workers``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialscore.analysis.definitions import DESCRIPTIONS
from socialscore.cli import app
from socialscore.scenario.errors import ScenarioError
from socialscore.scenario.schema import RunSettings
from socialscore.store.catalogue import RunStore
from socialscore.studies import grid as grid_module
from socialscore.studies.grid import MAX_RUNS, SEED_BOUND, load_grid
from socialscore.studies.sweep import MAX_WORKERS, sweep

BASE = """
[scenario]
name = "grid-base"
[run]
population = 1200
days = 12
seed = 5
[score]
base = 600
lo = 0
hi = 2000
grades = [{ name = "all", from = 0 }]
[streams.bill_late]
rate = 0.05
[streams.bill_default]
rate = 0.01
[[rules]]
event = "bill_late"
points = -10
half_life_days = 30
[[rules]]
event = "bill_default"
points = -60
half_life_days = 30
[data_errors]
rate = 0.05
[gates.mortgage]
apply_rate = 0.02
threshold = 580
"""

HEAD = """
[sweep]
name = "grid-test"
base = "base.toml"
seeds = 2
metrics = ["mean_score", "blacklisted_share"]
"""


def write(tmp_path: Path, text: str, *, head: str = HEAD) -> Path:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    path = tmp_path / "grid.toml"
    path.write_text(head + text, encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    """The message load_grid refuses ``path`` with (asserting it is one line)."""
    with pytest.raises(ScenarioError) as err:
        load_grid(path)
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text, text
    assert str(path) in text
    return text


# --- item 5: refused at load, one line naming the file and the key ----------------


@pytest.mark.parametrize(
    ("axis", "words"),
    [
        ("{ start = 600, stop = 500, step = 10 }", "start = 600 is above stop = 500"),
        ("[]", "at least 1 item"),
        ("{ start = nan, stop = 600, step = 10 }", "range.start: Input should be a finite"),
        ("{ start = 500, stop = inf, step = 10 }", "range.stop: Input should be a finite"),
        ("{ start = 500, stop = 600, step = nan }", "range.step"),
    ],
)
def test_an_empty_reversed_or_non_finite_range_is_refused_at_load(tmp_path, axis, words):  # type: ignore[no-untyped-def]
    text = refusal(write(tmp_path, f'[grid]\n"gates.mortgage.threshold" = {axis}\n'))
    assert "gates.mortgage.threshold" in text and words in text


@pytest.mark.parametrize("bound", ["[0.0, inf]", "[nan, 1.0]", "[-inf, 0.0]"])
def test_non_finite_sensitivity_bounds_are_refused(tmp_path, bound):  # type: ignore[no-untyped-def]
    design = f'[sensitivity]\nsamples = 4\n[sensitivity.parameters]\n"rules[0].points" = {bound}\n'
    text = refusal(write(tmp_path, design))
    assert "rules[0].points" in text and "finite" in text


@pytest.mark.parametrize(
    ("line", "key", "bound"),
    [
        ("population = 3000000000", "sweep.population", RunSettings.model_fields["population"]),
        ("days = 100000", "sweep.days", RunSettings.model_fields["days"]),
        ("population = 5", "sweep.population", RunSettings.model_fields["population"]),
    ],
)
def test_a_run_size_outside_the_scenario_bounds_is_one_line(tmp_path, line, key, bound):  # type: ignore[no-untyped-def]
    text = refusal(write(tmp_path, '[grid]\n"rules[0].points" = [-5]\n', head=HEAD + line + "\n"))
    limits = {str(getattr(m, k)) for m in bound.metadata for k in ("ge", "le") if hasattr(m, k)}
    assert key in text and any(limit in text for limit in limits), text
    assert "pydantic" not in text


def test_the_sweep_accepts_exactly_the_run_sizes_a_scenario_accepts():
    fields = grid_module.SweepSettings.model_fields
    for name in ("population", "days"):
        assert fields[name].metadata == RunSettings.model_fields[name].metadata
    assert SEED_BOUND == 2**63  # what the catalogue's BIGINT stores, and the schema's run.seed


def test_seeds_beyond_what_the_catalogue_stores_are_refused(tmp_path):  # type: ignore[no-untyped-def]
    axis = '[grid]\n"rules[0].points" = [-5]\n'
    text = refusal(
        write(tmp_path, axis, head=HEAD.replace("seeds = 2", "seeds = 3") + f"seed = {2**63 - 2}\n")
    )
    assert "sweep.seeds" in text and str(2**63) in text
    # The base's own run.seed counts too, when the grid does not set one.
    (tmp_path / "base.toml").write_text(BASE.replace("seed = 5", f"seed = {2**63 - 1}"))
    path = tmp_path / "grid.toml"
    with pytest.raises(ScenarioError, match=r"sweep\.seeds"):
        load_grid(path)


def test_the_highest_seeds_allowed_are_run_and_catalogued(tmp_path):  # type: ignore[no-untyped-def]
    path = write(
        tmp_path, '[grid]\n"rules[0].points" = [-5]\n', head=HEAD + f"seed = {2**63 - 2}\n"
    )
    result = sweep(path, out=tmp_path / "runs", workers=1)
    assert not result.failed and sorted(o.seed for o in result.done) == [2**63 - 2, 2**63 - 1]
    rows = RunStore(tmp_path / "runs").sweep_runs(result.sweep_id)
    assert sorted(int(s) for s in rows.seed) == [2**63 - 2, 2**63 - 1]


def test_an_unknown_metric_is_refused_with_a_did_you_mean(tmp_path):  # type: ignore[no-untyped-def]
    head = HEAD.replace('"blacklisted_share"', '"blacklist_share:all"')
    text = refusal(write(tmp_path, '[grid]\n"rules[0].points" = [-5]\n', head=head))
    assert "sweep.metrics" in text and "'blacklist_share'" in text
    assert "did you mean 'blacklisted_share'" in text
    # Known names, with or without a subject, load.
    head = HEAD.replace('"blacklisted_share"', '"adverse_impact_ratio:mortgage"')
    assert load_grid(write(tmp_path, '[grid]\n"rules[0].points" = [-5]\n', head=head))


# --- item 6: the size of a sweep, counted before the design is built -------------

DESIGNS = [
    '[grid]\n"rules[0].points" = [-5, -10, -20]\n'
    '"gates.mortgage.threshold" = { start = 500, stop = 600, step = 25 }\n',
    '[grid]\n"rules[0].points" = { start = 0.0, stop = 0.3, step = 0.1 }\n',
    '[sensitivity]\nsamples = 8\n[sensitivity.parameters]\n"rules[0].points" = [-40, -5]\n'
    '"rules[1].points" = [-90, -10]\n"gates.mortgage.threshold" = [500, 600]\n',
    '[sensitivity]\nmethod = "morris"\nsamples = 3\n[sensitivity.parameters]\n'
    '"rules[0].points" = [-40, -5]\n"rules[1].points" = [-90, -10]\n',
]


@pytest.mark.parametrize("design", DESIGNS)
def test_the_run_count_from_the_file_is_the_design_that_is_built(tmp_path, design):  # type: ignore[no-untyped-def]
    loaded = load_grid(write(tmp_path, design))
    assert loaded.spec.runs() == len(loaded.points) * len(loaded.seeds)
    if "step = 0.1" in design:  # stop is a point of the range despite rounding
        assert len(loaded.points) == 4
        assert loaded.points[-1].params["rules[0].points"] == pytest.approx(0.3)


def test_a_huge_grid_is_refused_before_its_design_is_built(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    def built(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the design was built before the size was checked")

    monkeypatch.setattr(grid_module.itertools, "product", built)
    monkeypatch.setattr("socialscore.studies.sensitivity.sample", built)
    huge = '[grid]\n"rules[0].points" = { start = 0, stop = 1, step = 1e-6 }\n'
    started = time.perf_counter()
    text = refusal(write(tmp_path, huge))
    assert "2,000,002 runs" in text and f"limit of {MAX_RUNS:,}" in text and "--force" in text
    sobol = (
        "[sensitivity]\nsamples = 65536\n[sensitivity.parameters]\n"
        + "".join(f'"rules[{k % 2}].points" = [-40, -{k + 1}]\n' for k in range(1))
        + '"gates.mortgage.threshold" = [500, 600]\n'
    )
    text = refusal(write(tmp_path, sobol))
    assert "524,288 runs" in text and "sobol design of 65536 x (2 + 2)" in text
    assert time.perf_counter() - started < 5


def test_max_runs_in_the_file_or_force_allow_a_larger_sweep(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    design = '[grid]\n"rules[0].points" = [-5, -10, -20]\n'  # 3 points x 2 seeds
    monkeypatch.setattr(grid_module, "MAX_RUNS", 5)
    assert "6 runs" in refusal(write(tmp_path, design))
    plain = load_grid(write(tmp_path, design), force=True)
    assert len(plain.points) == 3
    assert "limit of 4" in refusal(write(tmp_path, design, head=HEAD + "max_runs = 4\n"))
    allowed = load_grid(write(tmp_path, design, head=HEAD + "max_runs = 6\n"))
    # Consent to a size does not change what is run: a resume finds the same sweep.
    assert allowed.sweep_id == plain.sweep_id


# --- item 5: the report holds on string parameters and on total failure ----------

runner = CliRunner()
TWO = str(min(2, MAX_WORKERS))  # workers for the CLI sweeps


def test_a_string_parameter_gets_a_report_by_category_and_reruns(tmp_path):  # type: ignore[no-untyped-def]
    design = (
        '[grid]\n"data_errors.event" = ["bill_late", "bill_default"]\n'
        '"rules[0].points" = [-5, -40]\n'
    )
    path = write(tmp_path, design)
    out = tmp_path / "runs"
    for attempt in range(2):  # the rerun reports again, from the catalogue
        got = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", TWO])
        assert got.exit_code == 0, (attempt, got.output, got.exception)
    store = RunStore(out)
    assert len(store.list_runs()) == 8  # nothing ran twice
    sweeps = [p for p in (out / "sweeps").iterdir() if p.is_dir()]  # not the lock file
    page = (sweeps[0] / "sweep.html").read_text("utf-8")
    assert "Harms against data_errors.event" in page
    # A table by category: each category with each measure's mean over seeds.
    section = page.split('id="s-categories"')[1].split("</section>")[0]
    assert "bill_late" in section and "bill_default" in section and "mean score" in section
    # An endpoint change is claimed across the numeric parameter only.
    assert "Across points of rule 0" in page and "Across data_errors.event" not in page
    # Every metric a run produced is one the grid would accept by name.
    assert set(store.metrics().metric) <= set(DESCRIPTIONS)


def test_a_grid_whose_runs_all_fail_reports_the_failures_and_exits_1(tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, '[grid]\n"gates.mortgage.threshold" = [5000, 6000]\n')
    got = runner.invoke(
        app, ["sweep", str(path), "--out", str(tmp_path / "runs"), "--workers", "1"]
    )
    assert got.exit_code == 1, (got.output, got.exception)
    assert "0 runs done" in got.output and "4 failed" in got.output
    page = next((tmp_path / "runs" / "sweeps").glob("*/sweep.html")).read_text("utf-8")
    table = page.split('id="failure-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 5  # a header and the four failed runs
    assert "gates.mortgage.threshold = 5000" in table and "outside the score range" in table
    assert "No run completed" in page


# --- item 6: --workers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("workers", "words"),
    [("0", "--workers 0"), ("-1", "--workers -1"), (str(MAX_WORKERS + 1), "MB")],
)
def test_workers_outside_one_to_the_cores_are_refused_in_one_line(tmp_path, workers, words):  # type: ignore[no-untyped-def]
    path = write(tmp_path, '[grid]\n"rules[0].points" = [-5]\n')
    got = runner.invoke(
        app, ["sweep", str(path), "--out", str(tmp_path / "runs"), "--workers", workers]
    )
    assert got.exit_code == 2, (got.output, got.exception)
    assert words in got.output and "Traceback" not in got.output
    assert not (tmp_path / "runs").exists()  # refused before anything was run or created


def test_the_worker_bound_is_the_cores_this_process_may_use():
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable == MAX_WORKERS


@pytest.mark.parametrize("workers", [0, -1, MAX_WORKERS + 1])
def test_the_python_api_refuses_the_same_worker_counts(tmp_path, workers):  # type: ignore[no-untyped-def]
    path = write(tmp_path, '[grid]\n"rules[0].points" = [-5]\n')
    with pytest.raises(ValueError, match="--workers"):
        sweep(path, out=tmp_path / "runs", workers=workers)
    assert not (tmp_path / "runs").exists()


def test_a_varied_key_is_named_in_words_with_its_path() -> None:
    from socialscore.studies.grid import parameter_words

    base = {"rules": [{"event": "bill_late"}, {"event": "fraud", "label": "Fraud"}]}
    assert (
        parameter_words("rules[0].points", base)
        == "points of rule 0 ('bill_late') (rules[0].points)"
    )
    assert parameter_words("rules[1].half_life_days", base) == (
        "half life days of rule 1 ('Fraud') (rules[1].half_life_days)"
    )
    assert parameter_words("gates.job_hiring.threshold", base) == (
        "job hiring threshold (gates.job_hiring.threshold)"
    )
    assert parameter_words("network.weight", base) == "network.weight"
