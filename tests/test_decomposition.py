"""Specification of the decomposition: how much of a gate's gap the assumed differences explain.

The parts rest on reruns of the same scenario and seed with group differences
removed (common random numbers). Each test names the plausible bug it catches.
"""

from __future__ import annotations

import io
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import socialscore
from socialscore.analysis import audit
from socialscore.analysis import decomposition as split
from socialscore.measures.intervals import t_quantile
from socialscore.scenario.files import load
from socialscore.scenario.schema import Scenario
from socialscore.scenario.vocabulary import CITIZEN_GATES
from socialscore.scenario.window import measurement_window
from socialscore.studies import decomposition as reruns
from socialscore.studies.run import rebuild_report
from socialscore.studies.shipped import shipped_sweeps

POPULATION = 4_000
DAYS = 200


def _scenario(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(data)


def _two_assumptions() -> Scenario:
    """citizen-score, small, with two assumed group differences: income and financial stress."""
    data = load("citizen-score").scenario.model_dump(by_alias=True)
    data["run"].update(population=POPULATION, days=DAYS, seed=11)
    nation = data["nation"]
    nation.update(minority_share=0.3, minority_concentration=0.0, homophily=0.0)
    nation["minority_income_shift"] = -0.8
    for trait, spec in nation["traits"].items():
        spec["minority_shift"] = 1.0 if trait == "financial_stress" else 0.0
    return _scenario(data)


@pytest.fixture(scope="module")
def decomposed(tmp_path_factory: pytest.TempPathFactory) -> tuple[socialscore.Result, Path]:
    out = tmp_path_factory.mktemp("runs")
    return socialscore.run(_two_assumptions(), out=out, decompose=True), out


# -- (a) the arithmetic, checked by brute force --------------------------------------------


def _rates(sc: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Selection rates per gate and group over the window, from the daily gate table."""
    _, recorder = audit.simulate(sc)
    window = measurement_window(sc, sc.run.days)
    daily = recorder.daily_gates_table().to_pandas()
    inside = daily[(daily.day >= window.start) & (daily.day <= window.end)]
    sums = inside.groupby(["gate", "group"])[["applied", "selected"]].sum()
    decided = (sums.applied > 0).groupby("gate").all()
    sums = sums[decided.reindex(sums.index.get_level_values("gate")).to_numpy()]
    return (sums.selected / sums.applied).unstack("group"), (
        recorder.gate_replicates_table().to_pandas()
    )


def _set(sc: Scenario, **changes: float) -> Scenario:
    data = sc.model_dump(by_alias=True)
    for key, value in changes.items():
        if key == "financial_stress":
            data["nation"]["traits"]["financial_stress"]["minority_shift"] = value
        else:
            data["nation"][key] = value
    return _scenario(data)


def test_parts_are_the_differences_of_rates_in_reruns_on_the_same_draws(decomposed) -> None:  # type: ignore[no-untyped-def]
    """Bugs: the gap's sign or groups swapped; a part taken against the wrong rerun; the
    rerun's scenario not the one without that assumption; the jackknife's (k − 1)/k factor
    or its t quantile wrong; a replicate left out of one run but not the others."""
    result, _ = decomposed
    sc = result.scenario
    d = result.decomposition
    assert d is not None and [a.key for a in d.assumptions] == [
        "nation.minority_income_shift",
        "nation.traits.financial_stress.minority_shift",
    ]
    runs = {
        "total": sc,
        "regime": _set(sc, minority_income_shift=0.0, financial_stress=0.0),
        "no income": _set(sc, minority_income_shift=0.0),
        "no stress": _set(sc, financial_stress=0.0),
    }
    rates = {name: _rates(s) for name, s in runs.items()}
    window = measurement_window(sc, sc.run.days)

    def gap(name: str, gate: str, drop: int | None = None) -> float:
        if drop is None:
            r = rates[name][0].loc[gate]
            return float(r["majority"] - r["minority"])
        t = rates[name][1]
        t = t[(t.gate == gate) & (t.replicate != drop) & (t.day >= window.start)]
        t = t[t.day <= window.end].groupby("group")[["applied", "selected"]].sum()
        r = t.selected / t.applied
        return float(r["majority"] - r["minority"])

    assert {g.gate for g in d.gates} == {g for g in CITIZEN_GATES if g in rates["total"][0].index}
    for g in d.gates:
        total, regime = gap("total", g.gate), gap("regime", g.gate)
        assert g.total.value == pytest.approx(total, abs=1e-12)
        assert g.regime.value == pytest.approx(regime, abs=1e-12)
        assert g.assumed.value == pytest.approx(total - regime, abs=1e-12)
        income = total - gap("no income", g.gate)
        stress = total - gap("no stress", g.gate)
        assert g.parts[0][1].value == pytest.approx(income, abs=1e-12)
        assert g.parts[1][1].value == pytest.approx(stress, abs=1e-12)
        rest = (total - regime) - income - stress
        assert g.interactions.value == pytest.approx(rest, abs=1e-12)
    # The explained part's interval, by a jackknife written out by hand for one gate.
    g = d.gate("mortgage")
    leave = np.array(
        [gap("total", "mortgage", r) - gap("regime", "mortgage", r) for r in range(16)]
    )
    se = math.sqrt(15 / 16 * float(((leave - leave.mean()) ** 2).sum()))
    half = t_quantile(0.975, 15) * se
    assert g.assumed.ci_low == pytest.approx(g.assumed.value - half, abs=1e-12)
    assert g.assumed.ci_high == pytest.approx(g.assumed.value + half, abs=1e-12)


def test_a_decomposed_run_writes_every_part_with_its_days(decomposed) -> None:  # type: ignore[no-untyped-def]
    """Bugs: rows missing from the metrics table, or dated outside the measurement window."""
    result, _ = decomposed
    m = result.metrics.to_pandas()
    window = measurement_window(result.scenario, DAYS)
    rows = m[m.metric.isin(split.METRICS)]
    assert set(rows.metric) == set(split.METRICS)
    assert set(zip(rows.day_from, rows.day_to, strict=True)) == {(window.start, window.end)}
    part = result.metric("selection_gap_part", subject="mortgage: nation.minority_income_shift")
    assert part == result.decomposition.gate("mortgage").parts[0][1].value  # type: ignore[union-attr]


def test_rerun_of_a_decomposed_run_decomposes_it_again_identically(decomposed) -> None:  # type: ignore[no-untyped-def]
    """Bug: ``socialscore rerun`` forgetting the decomposition (its metrics would differ)."""
    from socialscore.studies.run import rerun

    result, out = decomposed
    again = rerun(result.run_id, out=out)
    assert again.result.decomposition is not None
    assert again.identical, [c for c in again.tables if not c.same]


def test_a_gate_whose_minority_decided_in_one_replicate_has_no_interval() -> None:
    """Counts by hand: the gap is majority's rate − minority's; leaving out the only replicate
    with minority decisions leaves the gap undefined, so there is no interval and no claim.

    Bugs: a nan leave-one-out ignored (an interval from the other 15), or a part with no
    interval called nonzero."""
    from socialscore.report.decomposition import sentence

    counts = np.zeros((16, 2, 2), dtype=np.int64)
    counts[:, split.MAJORITY] = (10, 8)  # 8 of 10 selected in every replicate
    counts[0, split.MINORITY] = (10, 5)  # the minority decided only in replicate 0
    assert split.gap(counts)[0] == pytest.approx(0.8 - 0.5)
    runs = {"mortgage": counts}
    income = split.Assumption("nation.minority_income_shift", "income", -0.4, 0.0)
    d = split.decompose([income], runs, runs, [runs], days=(0, 9), population=170)
    g = d.gate("mortgage")
    assert g.total.value == pytest.approx(0.3) and math.isnan(g.total.ci_low)
    assert not g.total.nonzero and g.assumed.value == 0.0 and not g.assumed.nonzero
    assert "no measurable gap" in sentence(g) and "no interval" in sentence(g)
    assert json.loads(json.dumps(d.to_dict()))["gates"][0]["total"]["ci_low"] is None


# -- (b) nothing assumed, nothing explained: common random numbers -------------------------


def test_with_no_group_difference_every_part_is_exactly_zero() -> None:
    """Removing differences that are already 0 must change no draw: every part exactly 0.

    Bugs: a rerun on another seed or stream (no common random numbers), or ``without``
    changing anything besides the key it removes.
    """
    data = _two_assumptions().model_dump(by_alias=True)
    data["run"].update(population=3_000, days=120)
    data["nation"]["minority_income_shift"] = 0.0
    for spec in data["nation"]["traits"].values():
        spec["minority_shift"] = 0.0
    sc = _scenario(data)
    assert split.assumptions(sc) == []
    d = reruns.decompose(sc, every=True)
    # income, each trait the scenario names, clustering, homophily, each stream's multiplier
    assert len(d.assumptions) == 3 + len(sc.nation.traits) + len(sc.streams)
    assert d.gates
    for g in d.gates:
        assert math.isfinite(g.total.value)
        for p in (g.assumed, g.interactions, *(p for _, p in g.parts)):
            assert (p.value, p.ci_low, p.ci_high) == (0.0, 0.0, 0.0), g.gate
        assert g.regime == g.total


# -- (c) a gap made by the income shift alone is the income shift's -------------------------

INCOME_ONLY = """
[scenario]
name = "income-only"
[run]
population = 6000
days = 160
seed = 3
[score]
base = 600
lo = 0
hi = 1000
blacklist_below = 0
grades = [{ name = "all", from = 0 }]
[nation]
minority_share = 0.3
minority_concentration = 0.0
minority_income_shift = -1.0
homophily = 0.5                   # no network term: nothing reads friendships
[nation.traits.financial_stress]
income_loading = -0.8
[nation.traits.flagged_reading]
minority_shift = 1.0              # no stream reads this trait
[streams.bill_late]
rate = 0.02
trait = "financial_stress"
trait_strength = 2.0
[[rules]]
event = "bill_late"
points = -20
half_life_days = 60
[gates.mortgage]
apply_rate = 0.02
threshold = 580
"""


def test_a_gap_that_only_income_drives_is_given_to_the_income_shift(tmp_path: Path) -> None:
    """Late bills follow financial stress, which follows income; nothing else differs.

    The income part must carry the gap (its interval excludes 0; it is within 5% of the
    explained part) and the two assumptions nothing reads must get exactly 0 (common
    random numbers make a difference nothing reads change nothing). Bugs: parts matched
    to the wrong assumptions (the runs' order shuffled), a part taken as the gap without
    the assumption instead of the total minus it.
    """
    path = tmp_path / "income-only.toml"
    path.write_text(INCOME_ONLY, encoding="utf-8")
    sc = load(path).scenario
    d = reruns.decompose(sc)
    keys = [a.key for a in d.assumptions]
    assert keys == [
        "nation.minority_income_shift",
        "nation.traits.flagged_reading.minority_shift",
        "nation.homophily",
    ]
    g = d.gate("mortgage")
    income = g.parts[0][1]
    assert g.total.nonzero and g.total.value > 0.02
    assert income.nonzero and income.value == pytest.approx(g.assumed.value, rel=0.05)
    for _, p in g.parts[1:]:
        assert p.value == 0.0
    assert not g.regime.nonzero or abs(g.regime.value) < 0.2 * g.total.value


# -- (d) the report and the audit say the parts ----------------------------------------------


def test_the_report_has_a_table_and_a_sentence_per_gate(decomposed) -> None:  # type: ignore[no-untyped-def]
    """Bugs: the section missing, a gate or an assumption left out, numbers not the run's,
    the section lost when the report is rebuilt from the stored tables."""
    result, out = decomposed
    d = result.decomposition
    page = (result.path / "report.html").read_text("utf-8")
    assert 'id="s-assumptions"' in page
    assert page.count('class="decomposition-table"') == len(d.gates)
    g = d.gate("mortgage")
    assert f"{100 * g.assumed.value:+.1f}" in page
    assert "the minority&#39;s income shift (-0.8 s.d.)" in page
    assert "One-at-a-time parts need not add up" in page
    assert "interactions" in page
    rebuilt = rebuild_report(result.run_id, out=out).read_text("utf-8")
    assert rebuilt.count('class="decomposition-sentence"') == len(d.gates)
    assert 'id="s-assumptions"' not in _plain_report(tmp=out)


def _plain_report(tmp: Path) -> str:
    plain = socialscore.run(_two_assumptions().with_overrides(days=120), out=tmp)
    assert plain.decomposition is None
    assert not plain.metrics.to_pandas().metric.isin(split.METRICS).any()
    return (plain.path / "report.html").read_text("utf-8")


def test_the_audit_gives_every_gate_its_parts(tmp_path: Path) -> None:
    """Bugs: ``audit --format json`` or its terminal table without the decomposition, or the
    decomposition not of the audit's own run (its total must be the stored run's gap)."""
    from typer.testing import CliRunner

    from socialscore.cli import app, decomposition_table
    from socialscore.store.catalogue import RunStore

    path = tmp_path / "income-only.toml"
    path.write_text(INCOME_ONLY, encoding="utf-8")
    out = tmp_path / "runs"
    args = ["audit", str(path), "--population", "6000", "--out", str(out), "--format", "json"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code in (0, 1), done.output
    doc = json.loads(done.stdout)
    parts = doc["decomposition"]
    assert parts["assumptions"][0]["key"] == "nation.minority_income_shift"
    gate = next(g for g in parts["gates"] if g["gate"] == "mortgage")
    assert set(gate) == {"gate", "total", "regime", "assumed", "parts", "interactions"}
    assert gate["parts"][0]["key"] == "nation.minority_income_shift"
    assert gate["parts"][0]["ci_low"] > 0
    (run_id,) = RunStore(out).list_runs().run_id
    m = RunStore(out).load_table(run_id, "metrics").to_pandas()
    sel = m[(m.metric == "selection_rate") & (m.subject == "mortgage")].set_index("grp").value
    assert gate["total"]["value"] == pytest.approx(sel["majority"] - sel["minority"], abs=1e-12)
    assert 'id="s-assumptions"' in (RunStore(out).run_path(run_id) / "report.html").read_text()
    d = reruns.decompose(load(path).scenario.with_overrides(population=6000))
    console = Console(file=io.StringIO(), width=200)
    console.print(decomposition_table(d))
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "mortgage" in shown and "income shift" in shown and "interactions" in shown


def test_run_decompose_on_the_command_line(tmp_path: Path) -> None:
    """Bug: ``socialscore run --decompose`` not passed to the API (no table, no section)."""
    from typer.testing import CliRunner

    from socialscore.cli import app

    path = tmp_path / "income-only.toml"
    path.write_text(INCOME_ONLY, encoding="utf-8")
    out = tmp_path / "runs"
    done = CliRunner().invoke(app, ["run", str(path), "--decompose", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "How much of each gate's gap is assumption" in " ".join(done.output.split())
    (folder,) = (p for p in out.iterdir() if (p / "report.html").is_file())
    assert 'id="s-assumptions"' in (folder / "report.html").read_text("utf-8")


# -- (e) the shipped sweep over the assumptions ----------------------------------------------


def test_the_shipped_assumption_sweep_loads_and_a_tiny_version_runs(tmp_path: Path) -> None:
    """Bugs: a key path the scenario does not have, an unknown metric, a grid too big to
    run (the shipped file must validate), or a point that fails when a shift is 0."""
    from socialscore.store.catalogue import RunStore
    from socialscore.studies.grid import load_grid
    from socialscore.studies.sweep import sweep, values

    shipped = shipped_sweeps()["group-assumptions"]
    grid = load_grid(shipped)
    assert set(grid.parameters) >= {
        "nation.minority_income_shift",
        "nation.traits.financial_stress.minority_shift",
        "nation.homophily",
    }
    spec = tomllib.loads(shipped.read_text("utf-8"))
    lines = ["[sweep]", 'name = "tiny-assumptions"', 'base = "citizen-score"']
    lines += ["seeds = 1", "population = 1500", "days = 120"]
    lines.append("metrics = " + json.dumps(spec["sweep"]["metrics"]))
    lines.append("[grid]")
    for key, axis in spec["grid"].items():
        lines.append(f'"{key}" = {json.dumps([axis[0], axis[-1]])}')  # the ends of each axis
    tiny = tmp_path / "tiny.toml"
    tiny.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "runs"
    result = sweep(tiny, out=out, workers=1)
    assert not result.failed and len(result.done) == 2 ** len(spec["grid"])
    frame = values(result, RunStore(out))
    shown = set(zip(frame.metric, frame.subject, strict=True))
    # Every gate named in the grid keeps its own rows (not only the last one named).
    assert {("adverse_impact_ratio", "mortgage"), ("adverse_impact_ratio", "job_hiring")} <= shown
    assert ("four_fifths_verdict", "mortgage") in shown
