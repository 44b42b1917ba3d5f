"""The run report: figures from the run, escaped text, self-contained, rebuildable."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import socialscore
from socialscore import report
from socialscore.analysis import disparity as dp
from socialscore.report import charts
from socialscore.report import format as fmt
from socialscore.report.build import _gate_rows as gate_rows
from socialscore.report.headlines import headlines
from socialscore.scenario.files import load
from socialscore.scenario.window import measurement_window
from socialscore.studies.run import rebuild_report


@pytest.fixture(scope="module")
def result(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("runs")
    return socialscore.run("citizen-score", population=20_000, days=60, seed=5, out=out)


def page_of(result) -> str:  # type: ignore[no-untyped-def]
    return (result.path / "report.html").read_text(encoding="utf-8")


def test_every_run_writes_a_report_with_its_facts(result):  # type: ignore[no-untyped-def]
    page = page_of(result)
    assert "<h1>citizen-score</h1>" in page
    assert "<b>20,000</b> citizens" in page
    assert f"<b>{result.companies:,}</b> companies" in page
    assert "<b>60</b> days" in page
    assert "seed <b>5</b>" in page


def test_headlines_carry_the_stored_figures(result):  # type: ignore[no-untyped-def]
    page = page_of(result)
    m = result.metrics.to_pandas()
    lines = headlines(m)
    assert 5 <= len(lines) <= 9
    for line in lines:
        assert line.text.replace("'", "&#39;") in page
    # The approvals headline names its window and carries the ratio with its interval.
    window = measurement_window(result.scenario, 60)
    first = lines[0].text
    assert first.startswith(f"Over days {window.start}–{window.end}, ")
    gates = m[m.metric == "adverse_impact_ratio"]
    assert any(
        f"{fmt.ratio(g.value)} times" in first
        and f"95% interval {fmt.ratio(g.ci_low)}–{fmt.ratio(g.ci_high)}" in first
        for g in gates.itertuples()
    )
    assert f"Measured over <b>{window.label()}</b>" in page


def test_gate_verdicts_are_in_words_and_symbols_not_colour_alone(result):  # type: ignore[no-untyped-def]
    page = page_of(result)
    table = page[page.index('id="gate-table"') :]
    table = table[: table.index("</table>")]
    words = "(✓ passes|✕ fails|\\? inconclusive: the interval straddles the line|– not applicable)"
    four_fifths = re.findall(rf'class="[a-z-]+ verdict">{words}<', table)
    adverse = re.findall(rf'class="[a-z-]+ adverse-verdict">{words}<', table)
    m = result.metrics.to_pandas()
    gates = m[m.metric == "adverse_impact_ratio"]
    assert len(four_fifths) == len(adverse) == len(gates)
    # Each gate's row states its window and the ratio's interval.
    window = measurement_window(result.scenario, 60)
    assert table.count(f"<td>{window.start}–{window.end}</td>") == len(gates)
    mortgage = gates[gates.subject == "mortgage"].iloc[0]
    cell = (
        f"{fmt.ratio(mortgage.value)} ({fmt.ratio(mortgage.ci_low)}–{fmt.ratio(mortgage.ci_high)})"
    )
    assert cell in table
    assert 'id="chart-gate_months"' in page


def test_a_run_stored_without_its_monthly_gate_table_says_so():
    chart = charts.gate_months(None, 90)
    assert "without its monthly gate table" in chart.how_to_read
    texts = [a["text"] for a in chart.figure["layout"]["annotations"]]
    assert "not recorded for this run" in texts


def test_the_monthly_chart_draws_each_month_with_its_interval(result):  # type: ignore[no-untyped-def]
    months = result.table("gate_months").to_pandas()
    assert set(months.day_from) == {0, 30} and set(months.day_to) == {29, 59}
    chart = charts.gate_months(months, 30)
    mortgage = [t for t in chart.figure["data"] if t.get("name") == "mortgage"]
    assert len(mortgage) == 2
    days = [h.split(":")[0] for h in mortgage[0]["hovertext"]]
    assert days == ["mortgage, days 0–29", "mortgage, days 30–59"]
    assert all("(95% interval " in h for h in mortgage[0]["hovertext"])
    bands = [t for t in chart.figure["data"] if t.get("name") == "mortgage 95% interval"]
    assert len(bands) == 2 and all(t["fill"] == "toself" for t in bands)


def _frame(d: dp.GateDisparity, gate: str) -> pd.DataFrame:
    rows = [
        {
            "metric": metric,
            "subject": gate,
            "grp": grp,
            "value": value,
            "ci_low": None if ci is None else ci[0],
            "ci_high": None if ci is None else ci[1],
            "day_from": 180,
            "day_to": 364,
        }
        for metric, value, ci, grp in d.metric_rows(("majority", "minority"))
    ]
    return pd.DataFrame(rows)


def test_a_gate_that_decided_nothing_is_not_applicable_and_a_doubled_sanction_fails():
    # A gate that approved nobody (sesame-credit's documents gate before its recalibration).
    refused = gate_rows(_frame(dp.GateDisparity([40, 8], [0, 0], [900, 100]), "documents"))
    assert refused[0]["verdict"] == "– not applicable"
    # travel: the minority barred from 2% of its trips, the majority from 1%.
    barred = dp.GateDisparity([200_000, 50_000], [198_000, 49_000], [900_000, 100_000])
    row = gate_rows(_frame(barred, "travel"))[0]
    assert row["verdict"] == "✓ passes"
    assert row["adverse_verdict"] == "✕ fails"
    assert row["outcome"].startswith("2.00 (")
    assert row["days"] == "180–364"
    # Applicants denied alike, but the minority's members nine times as often: it fails.
    members = dp.GateDisparity([10_000, 10_000], [9_000, 9_000], [900_000, 100_000])
    row = gate_rows(_frame(members, "mortgage"))[0]
    assert row["outcome"].startswith("1.00 (")
    assert row["adverse_verdict"] == "✕ fails"


def test_scenario_text_is_escaped(tmp_path):  # type: ignore[no-untyped-def]
    evil = "<script>alert(1)</script>"
    sc = load("citizen-score").scenario
    sc = sc.model_copy(
        update={
            "scenario": sc.scenario.model_copy(update={"name": evil, "description": evil}),
            "rules": [sc.rules[0].model_copy(update={"label": evil}), *sc.rules[1:]],
        }
    )
    result = socialscore.run(sc, population=3_000, days=10, out=tmp_path)
    page = page_of(result)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_is_self_contained_and_small(result):  # type: ignore[no-untyped-def]
    page = page_of(result)
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "Content-Security-Policy" in page
    assert len(page.encode()) < 10_000_000


def test_report_rebuilds_identically_from_stored_tables(result):  # type: ignore[no-untyped-def]
    before = page_of(result)
    path = rebuild_report(result.run_id, out=result.path.parent)
    assert path.read_text(encoding="utf-8") == before
    assert result.run_id in socialscore.RunStore(result.path.parent).list_runs().run_id.tolist()


def test_number_formats():
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.share(0.1234) == "12%"
    assert fmt.share(0.01234) == "1.2%"
    assert fmt.share(0.001234) == "0.12%"
    assert fmt.ratio(0.6249) == "0.62"
    assert report.RunFacts("r", 1, 2, 3, 4).days == 3


@pytest.mark.parametrize(
    ("value", "low", "high", "at_chance"),
    [(0.10, 0.10, 0.10, True), (0.105, 0.09, 0.12, True), (0.49, 0.48, 0.50, False)],
)
def test_persistence_headline_says_chance_level_only_when_its_interval_holds_it(
    value: float, low: float, high: float, at_chance: bool
) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "metric": ["bottom_decile_persistence"],
            "subject": [""],
            "grp": ["all"],
            "value": [value],
            "ci_low": [low],
            "ci_high": [high],
            "day_from": [180],
            "day_to": [364],
        }
    )
    (line,) = [h.text for h in headlines(frame) if "tenth" in h.text]
    assert "on day 180" in line and "on day 364" in line
    assert ("no measurable persistence beyond chance" in line) == at_chance
    assert "95% interval" in line


def test_comparison_says_in_words_when_a_regime_leaves_rank_correlation_undefined() -> None:
    import math

    import pandas as pd

    from socialscore.report import comparison

    names = ["no-scoring", "citizen-score"]
    rows = []
    for name, rank in (("no-scoring", math.nan), ("citizen-score", 0.65)):
        for metric in comparison.DIFFERENCE_MEASURES:
            is_rank = metric == "rank_rank_correlation"
            rows.append(
                {
                    "scenario": name,
                    "metric": metric,
                    "subject": "",
                    "grp": "all",
                    "mean": rank if is_rank else 0.5,
                    "difference": math.nan if is_rank else 0.0,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                }
            )
    table = pd.DataFrame(rows)
    (cells,) = [
        r["cells"]
        for r in comparison.table_rows(table, names)
        if r["label"] == "rank rank correlation"
    ]
    assert cells[0] == "undefined: every citizen has the same score"
    assert "nan" not in cells[1] and "under no-scoring it is undefined" in cells[1]
    chart = comparison._difference_chart(table, names)
    notes = [a["text"] for a in chart.figure["layout"]["annotations"]]
    assert any("every citizen has the same score" in n and "no-scoring" in n for n in notes)


def test_run_report_numbers_carry_their_interval_and_say_undefined_in_words() -> None:
    import math

    import pandas as pd

    from socialscore.report.build import UNDEFINED_RANKS, _numbers

    frame = pd.DataFrame(
        {
            "metric": ["rank_rank_correlation", "rank_rank_slope", "bottom_decile_persistence"],
            "subject": ["", "", ""],
            "grp": ["all", "all", "all"],
            "value": [math.nan, math.nan, 0.49],
            "ci_low": [math.nan, math.nan, 0.48],
            "ci_high": [math.nan, math.nan, 0.5],
        }
    )
    numbers = _numbers(frame)
    assert numbers["rank_rank"] == UNDEFINED_RANKS
    assert "every citizen has the same score" in UNDEFINED_RANKS
    assert numbers["persistence"] == "49% (95% interval 48%–50%)"
