"""Results in a notebook (Result, Comparison, Audit, SweepResult; socialscore.open).

Each result shows itself in one short line (``repr``) and as a small HTML
block with its findings in words and a link to its report; a past run
reopens as the same Result; the report's charts draw from Python. The two
example notebooks in examples/ run from top to bottom without an error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import socialscore
from socialscore.studies.run import CHART_KEYS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def result(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("runs")
    return socialscore.run("citizen-score", population=20_000, days=200, seed=3, out=out), out


def test_a_run_shows_itself_in_a_line_and_its_findings_in_html(result) -> None:  # type: ignore[no-untyped-def]
    run, _ = result
    line = repr(run)
    assert "\n" not in line and len(line) < 200
    assert run.run_id in line and "citizens 20,000" in line
    page = run._repr_html_()
    assert "minority citizens were approved for mortgages" in page
    assert "report.html" in page and "result.plot(name)" in page
    assert len(page) < 20_000  # a summary, not a dump of the tables


def test_a_past_run_reopens_as_the_same_result(result) -> None:  # type: ignore[no-untyped-def]
    run, out = result
    again = socialscore.open(run.run_id, out=out)
    assert again.run_id == run.run_id and again.population == run.population
    assert again.metrics.equals(run.metrics)
    for name in ("daily", "daily_gates", "gate_subgroups", "people"):
        assert again.to_pandas(name).equals(run.to_pandas(name)), name  # NaN equals NaN
    assert again.scenario == run.scenario
    assert again.table("citizens").num_rows == 20_000
    with pytest.raises(LookupError):
        socialscore.open("20990101T000000-nothing-00000000", out=out)


def test_every_report_chart_draws_from_python(result) -> None:  # type: ignore[no-untyped-def]
    run, _ = result
    for key in CHART_KEYS:
        fig = run.plot(key)
        assert len(fig.data) > 0, key
    with pytest.raises(KeyError, match="charts: scores, grades"):
        run.plot("score")


def test_a_comparison_states_only_the_changes_its_intervals_support(tmp_path: Path) -> None:
    c = socialscore.compare(
        ["no-scoring", "citizen-score"], population=5_000, days=60, seeds=3, out=tmp_path
    )
    assert repr(c).startswith("<Comparison ") and "seeds 3" in repr(c)
    stated = c.findings()
    t = c.table
    shown = t[(t.scenario == "citizen-score") & (t.grp == "all")]
    supported = shown[(shown.ci_low > 0) | (shown.ci_high < 0)]
    unsupported = shown[(shown.ci_low <= 0) & (shown.ci_high >= 0)]
    assert stated and len(stated) <= len(supported)
    for r in unsupported.itertuples():
        label = r.metric.replace("_", " ") + (f" ({r.subject})" if r.subject else "")
        assert not any(f"citizen-score: {label} " in s for s in stated), label
    assert all(s in c._repr_html_() for s in stated[:3])


def test_an_audit_is_a_table_and_shows_its_verdict_by_law(tmp_path: Path) -> None:
    audit, _ = socialscore.audit_regime("citizen-score", population=5_000, days=60, out=tmp_path)
    frame = audit.to_pandas()
    assert list(frame.columns) == ["law", "subject", "verdict", "reason", "value"]
    assert len(frame) == len(audit.checks)
    assert f"fails {len(audit.failures)} of {len(audit.checks)}" in repr(audit)
    page = audit._repr_html_()
    assert all(law.law.replace("&", "&amp;") in page for law in audit.by_law())


@pytest.mark.parametrize("name", ["regime-harms", "compare-and-sweep"])
def test_the_example_notebooks_run_from_top_to_bottom(name: str, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    shown = [o for c in book.cells for o in c.get("outputs", [])]
    assert any("text/html" in o.get("data", {}) for o in shown)
    assert (tmp_path / "notebook-runs" / "catalogue.duckdb").is_file()
