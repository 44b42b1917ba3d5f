"""The run report in a real browser: loads offline, every chart renders, headlines hold.

Uses Debian's chromium (``make test`` installs it where it is missing) driven
by Playwright; no browser is downloaded. Screenshots of the first screen go to
``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import socialscore
from socialscore.report.headlines import headlines

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
DRAWN = "svg.main-svg .trace, svg.main-svg .hm image, canvas"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

if os.environ.get("SOCIALSCORE_SKIP_BROWSER") == "1":
    pytest.skip("browser tests skipped by SOCIALSCORE_SKIP_BROWSER=1", allow_module_level=True)


@pytest.fixture(scope="module")
def result(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("runs")
    return socialscore.run("citizen-score", population=30_000, days=90, seed=3, out=out)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    assert Path(CHROMIUM).exists(), "chromium is missing: run `make test`, which installs it"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def open_offline(browser, path: Path, size: str):  # type: ignore[no-untyped-def]
    """Open a report with every non-file request blocked and recorded."""
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r):  # type: ignore[no-untyped-def]
        url = r.request.url
        if not url.startswith(("file:", "data:", "blob:")):
            requests.append(url)
            r.abort()
        else:
            r.continue_()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


def assert_charts_drawn(page, at_least: int) -> None:  # type: ignore[no-untyped-def]
    charts = page.locator("[data-chart]")
    count = charts.count()
    assert count >= at_least
    for i in range(count):
        node = charts.nth(i)
        node.locator("svg.main-svg, canvas").first.wait_for(state="attached", timeout=15_000)
        assert node.evaluate("n => n.querySelectorAll(" + repr(DRAWN) + ").length") > 0, (
            node.get_attribute("data-chart")
        )


#: In the page: every table cell whose text is cut (wider than its cell, or, with
#: ``edge``, beyond the screen's edge inside a table that scrolls), as "table: text".
CLIPPED_CELLS = """(edge) => {
  const out = [];
  document.querySelectorAll(".tablewrap").forEach(w => {
    const table = w.querySelector("table");
    const scrolls = w.scrollWidth > w.clientWidth + 1;
    table.querySelectorAll("td, th").forEach(c => {
      const r = c.getBoundingClientRect();
      if (r.width === 0) return;
      const beyond = edge && scrolls && r.right > window.innerWidth + 1;
      if (c.scrollWidth > c.clientWidth + 1 || beyond) {
        out.push((table.id || "table") + ": " + c.textContent.trim().slice(0, 40));
      }
    });
  });
  return out;
}"""
#: In the page: pairs of chart texts (titles, annotations, labels, tick labels of one
#: axis) that overlap, and texts cut by the chart's edge, as words.
CHART_TEXT_PROBLEMS = """() => {
  const out = [];
  document.querySelectorAll("[data-chart]").forEach(node => {
    const key = node.getAttribute("data-chart");
    const box = node.getBoundingClientRect();
    const texts = [...node.querySelectorAll(".annotation-text, .gtitle, .xtick text, "
      + ".legendtext, .textpoint text, .updatemenu-item-text")]
      .map(t => [t.textContent.trim(), t.getBoundingClientRect()])
      .filter(([s, r]) => s && r.width > 0);
    texts.forEach(([s, r]) => {
      if (r.left < box.left - 1 || r.right > box.right + 1) out.push(key + ": cut '" + s + "'");
    });
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
      const [a, p] = texts[i], [b, q] = texts[j];
      const overlap = Math.min(p.right, q.right) - Math.max(p.left, q.left) > 2
        && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 2;
      if (overlap) out.push(key + ": '" + a + "' overlaps '" + b + "'");
    }
  });
  return out;
}"""


@pytest.mark.parametrize("size", sorted(SIZES))
def test_no_table_cell_or_chart_text_is_cut_or_overlapped(result, browser, size):  # type: ignore[no-untyped-def]
    """On a 390 px phone and on a desktop: every cell reads whole (a phone shows each row
    as a card, one labelled line per column, so nothing lies past the screen's edge; a
    desktop table wider than the page scrolls, with a shadow at the edge that has more),
    and no chart's titles, tick labels or legend entries overlap or run past its edge."""
    page, errors, _ = open_offline(browser, result.path / "report.html", size)
    assert_charts_drawn(page, 9)
    assert errors == []
    assert page.evaluate(CLIPPED_CELLS, size == "phone") == []
    if size == "phone":
        label = page.locator("#rule-table tbody tr td").first.get_attribute("data-label")
        assert label  # the card layout names each value's column
    assert page.evaluate(CHART_TEXT_PROBLEMS) == []
    page.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_report_loads_offline_and_renders_every_chart(result, browser, size):  # type: ignore[no-untyped-def]
    page, errors, requests = open_offline(browser, result.path / "report.html", size)
    assert_charts_drawn(page, 9)
    assert errors == []
    assert requests == []

    text = page.locator("#headlines").inner_text()
    for line in headlines(result.metrics.to_pandas()):
        assert line.text in text
    # The first screen holds its layout: nothing wider than the viewport.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"report-first-screen-{size}.png"))
    page.close()


def test_comparison_report_loads_offline_and_renders(browser, tmp_path):  # type: ignore[no-untyped-def]
    from socialscore.studies.compare import compare

    result = compare(
        ["no-scoring", "citizen-score"], population=5_000, days=30, seeds=2, out=tmp_path
    )
    for size in sorted(SIZES):
        page, errors, requests = open_offline(browser, result.path / "comparison.html", size)
        assert_charts_drawn(page, 3)
        assert errors == [] and requests == []
        assert "against no-scoring" in page.locator("#headlines").inner_text()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        assert page.evaluate(CHART_TEXT_PROBLEMS) == []
        assert page.evaluate(CLIPPED_CELLS, size == "phone") == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"comparison-first-screen-{size}.png"))
        page.close()


def test_audited_report_shows_every_verdict_in_words(browser, tmp_path):  # type: ignore[no-untyped-def]
    audit, stored = socialscore.audit_regime(
        "safeguarded-citizen-score", population=5_000, days=30, out=tmp_path
    )
    for size in sorted(SIZES):
        page, errors, requests = open_offline(browser, stored.path / "report.html", size)
        assert errors == [] and requests == []
        rows = page.locator("#audit-table tbody tr")
        assert rows.count() == len(audit.checks)
        # The verdict, by law, is on the first screen, before any chart.
        first = page.locator("#audit-first")
        box = first.bounding_box()
        assert box is not None and box["y"] < SIZES[size][1]
        said = (
            f"fails {len(audit.failures)} of {len(audit.checks)} audit checks"
            if audit.failures
            else f"passes every audit check ({len(audit.checks)})"
        )
        assert said in first.inner_text()
        laws = page.locator("#audit-laws tbody tr")
        assert laws.count() == len(audit.by_law())
        summary = page.locator("#audit-summary").inner_text()
        assert f"{len(audit.failures)} of {len(audit.checks)} checks fail" in summary
        verdicts = page.locator("#audit-table tbody td:nth-child(3)").all_inner_texts()
        words = {
            "passes",
            "fails",
            "inconclusive: the interval straddles the line",
            "not applicable",
        }
        assert all(v.split(" ", 1)[1] in words for v in verdicts)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        page.locator("#s-audit").scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"audit-section-{size}.png"))
        page.close()


def test_a_sweeps_run_reports_share_one_chart_library_and_still_load_offline(browser, tmp_path):  # type: ignore[no-untyped-def]
    """With --reports, every run report of a sweep loads the store's one copy of the chart
    library instead of inlining 4.8 MB: a fraction of the size, every chart still drawn,
    nothing fetched from outside the disk."""
    from socialscore.studies.sweep import sweep

    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[sweep]\nname = "shared"\nbase = "citizen-score"\nseeds = 1\npopulation = 3000\n'
        'days = 20\n[grid]\n"network.weight" = [0.0, 0.2]\n',
        encoding="utf-8",
    )
    result = sweep(grid, out=tmp_path / "runs", workers=1, reports=True)
    shared = list((tmp_path / "runs" / "assets").glob("plotly-*.min.js"))
    assert len(shared) == 1 and shared[0].stat().st_size > 3_000_000
    reports = sorted((tmp_path / "runs").glob("*/report.html"))
    assert len(reports) == len(result.done) == 2
    assert all(r.stat().st_size < 1_500_000 for r in reports)
    for size in sorted(SIZES):
        page, errors, requests = open_offline(browser, reports[0], size)
        assert_charts_drawn(page, 9)
        assert errors == [] and requests == []
        page.close()


def test_sweep_report_loads_offline_and_renders(browser, tmp_path):  # type: ignore[no-untyped-def]
    from socialscore.studies.sweep import sweep

    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[sweep]\nname = "browser"\nbase = "citizen-score"\nseeds = 2\npopulation = 3000\n'
        'days = 20\n[grid]\n"network.weight" = [0.0, 0.2]\n'
        '"gates.mortgage.threshold" = [550, 5000]\n',
        encoding="utf-8",
    )
    result = sweep(grid, out=tmp_path / "runs", workers=2)
    for size in sorted(SIZES):
        page, errors, requests = open_offline(browser, result.path / "sweep.html", size)
        assert_charts_drawn(page, 2)
        assert errors == [] and requests == []
        assert page.locator("#failure-table tbody tr").count() == len(result.failed) == 4
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        # Small multiples: no panel title overlaps another or runs past the chart (a phone
        # stacks the panels in one column), no table cell is cut.
        assert page.evaluate(CHART_TEXT_PROBLEMS) == []
        assert page.evaluate(CLIPPED_CELLS, size == "phone") == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"sweep-first-screen-{size}.png"), full_page=True)
        page.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_people_reasons_and_any_group_sections_read_at_both_sizes(result, browser, size):  # type: ignore[no-untyped-def]
    """The sections fit the screen (their tables scroll inside it), every story has its
    score line drawn with its words for screen readers, and each verdict is in words."""
    page, errors, _ = open_offline(browser, result.path / "report.html", size)
    width = SIZES[size][0]
    for section in ("#s-subgroups", "#s-reasons", "#s-people"):
        node = page.locator(section)
        node.scroll_into_view_if_needed()
        assert node.is_visible(), section
        box = node.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    verdicts = page.locator("#subgroup-table td.verdict").all_inner_texts()
    assert verdicts and all(v.split(" ", 1)[0] in ("✓", "✕", "?", "–") for v in verdicts)
    # citizen-score gives no reasons, and the section says so, gate by gate.
    assert "gives no reasons" in page.locator("#s-reasons").inner_text()
    stories = page.locator("#s-people .story")
    assert stories.count() >= 1
    for i in range(stories.count()):
        story = stories.nth(i)
        line = story.locator("svg.score-line polyline")
        assert len((line.get_attribute("points") or "").split()) == result.scenario.run.days
        assert "Score" in (story.locator("svg.score-line").get_attribute("aria-label") or "")
        assert "socialscore explain" in story.inner_text()
    assert errors == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#s-people").screenshot(path=str(SHOTS / f"report-people-{size}.png"))
    page.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_decision_trail_page_reads_offline_at_both_sizes(result, browser, size, tmp_path):  # type: ignore[no-untyped-def]
    """explain --format html: the page loads with no request and no error, the score line is
    drawn with its words, every decision is in words and a symbol, nothing is wider than
    the screen but the tables, which scroll."""
    from socialscore.studies import explain

    found = explain.trails(result.run_id, list(range(0, 30_000, 997)), out=result.path.parent)
    trail = max(found, key=lambda t: len(t.adverse))
    path = explain.write_page(trail, tmp_path)
    page, errors, requests = open_offline(browser, path, size)
    assert errors == [] and requests == []
    points = page.locator("#trail-chart polyline").get_attribute("points") or ""
    assert len(points.split()) == trail.days
    assert "The score was" in (page.locator("#trail-chart").get_attribute("aria-label") or "")
    outcomes = page.locator("#decision-table tbody td:nth-child(3)").all_inner_texts()
    assert len(outcomes) == len(trail.decisions)
    assert all(o[0] in "✓✕" for o in outcomes)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"trail-{size}.png"), full_page=True)
    page.close()
