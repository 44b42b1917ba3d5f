"""Specification of the measures registry: every published measure declared once, and true to it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

import pytest

import socialscore
from socialscore.analysis import definitions, steady
from socialscore.analysis.definitions import (
    BY_NAME,
    HEADLINES,
    MEASURES,
    ON_REQUEST,
    MetricName,
    check_name,
)
from socialscore.scenario.window import measurement_window
from socialscore.studies.compare import HEADLINE_METRICS

DAYS = 200


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> socialscore.Result:
    out = tmp_path_factory.mktemp("runs")
    return socialscore.run("citizen-score", population=5_000, days=DAYS, seed=3, out=out)


def test_a_run_writes_exactly_the_declared_measures(run: socialscore.Result) -> None:
    """Every measure but those written on request (the decomposition: test_decomposition.py)."""
    written = set(run.metrics.column("metric").to_pylist())
    every_run = set(BY_NAME) - set(ON_REQUEST)
    assert written == every_run, (
        f"written, not declared: {sorted(written - every_run)}; "
        f"declared, not written: {sorted(every_run - written)}"
    )
    assert set(ON_REQUEST) == {m.name for m in MEASURES if m.name.startswith("selection_gap")}


def test_every_row_covers_the_days_its_measure_declares(run: socialscore.Result) -> None:
    last = DAYS - 1
    window = measurement_window(run.scenario, DAYS)
    quarter = steady.tested_days(run.scenario, DAYS)
    assert quarter is not None
    expected = {
        "last day": (last, last),
        "window": (window.start, last),
        "run": (0, last),
        "last quarter": quarter,
    }
    assert window.start not in (0, last) and quarter[0] != window.start  # the spans differ here
    m = run.metrics.to_pandas()
    for measure in MEASURES:
        if measure.on_request:
            continue  # their days: tests/test_decomposition.py
        rows = m[m.metric == measure.name]
        spans = set(zip(rows.day_from, rows.day_to, strict=True))
        assert spans == {expected[measure.span]}, (measure.name, measure.span, spans)


def test_the_metric_name_type_lists_the_registry_in_order() -> None:
    assert get_args(MetricName) == tuple(m.name for m in MEASURES)


def test_names_and_labels_are_unique_and_every_measure_has_words() -> None:
    assert len(BY_NAME) == len(MEASURES)
    assert len({m.label for m in MEASURES}) == len(MEASURES)
    for m in MEASURES:
        assert m.label and m.description.endswith((".", ")")), m.name


def test_a_misspelt_metric_is_refused_with_the_closest_name() -> None:
    assert check_name("gini") == "gini"
    with pytest.raises(KeyError, match="Did you mean 'privacy_auc'"):
        check_name("privacy_acu")
    with pytest.raises(KeyError, match="No metric 'happiness'"):
        check_name("happiness")


def test_comparisons_follow_the_registry_headlines() -> None:
    assert HEADLINE_METRICS == HEADLINES
    assert {"mean_score", "adverse_impact_ratio", "chilling_forgone_share"} <= set(HEADLINES)


MODEL_DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def test_docs_hold_the_glossary_the_registry_generates() -> None:
    """docs/model.md defines every measure in the registry's words (SOCIALSCORE_WRITE_DOCS=1)."""
    text = MODEL_DOC.read_text()
    begin, end = text.index(definitions.GLOSSARY_BEGIN), text.index(definitions.GLOSSARY_END)
    current = text[begin : end + len(definitions.GLOSSARY_END)]
    if os.environ.get("SOCIALSCORE_WRITE_DOCS") == "1":
        MODEL_DOC.write_text(text.replace(current, definitions.glossary()))
        current = definitions.glossary()
    assert current == definitions.glossary(), (
        "docs/model.md's glossary of measures differs from the registry; "
        "rerun this test with SOCIALSCORE_WRITE_DOCS=1 to regenerate it"
    )


def test_the_registry_module_has_no_heavy_imports() -> None:
    assert "numpy" not in vars(definitions) and "pandas" not in vars(definitions)
