"""A citizen's decision trail, replayed from a stored run (socialscore.studies.explain).

The replay must reproduce the run exactly: each traced citizen's last day is
the stored snapshot, and with every citizen of a small run traced, the
trails' decisions add up to the run's gate table. Each decision's score, read
back from the trace alone, must explain the kernel's verdict, and each
counterfactual must flip the decision it is about.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import socialscore
from socialscore.analysis.trails import story_pool
from socialscore.cli import app
from socialscore.scenario.window import measurement_window
from socialscore.simulation.layout import ERRONEOUS_REASON, NETWORK_REASON
from socialscore.studies import explain
from socialscore.studies.run import rerun

POPULATION = 600


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = socialscore.run("citizen-score", population=POPULATION, days=365, seed=11, out=out)
    return result, out


@pytest.fixture(scope="module")
def everyone(stored):
    result, out = stored
    return explain.trails(result.run_id, list(range(POPULATION)), out=out)


def test_the_replayed_trail_ends_exactly_where_the_stored_snapshot_does(stored, everyone):
    result, _ = stored
    citizens = pq.read_table(result.path / "citizens.parquet").to_pandas().set_index("citizen")
    start = measurement_window(result.scenario).start
    for trail in everyone:
        row = citizens.loc[trail.citizen]
        assert trail.final["score"] == row["score"]
        assert trail.final["score_without_errors"] == row["score_without_errors"]
        assert trail.final["has_mortgage"] == row["has_mortgage"]
        assert trail.final["employed"] == row["employed"]
        assert trail.score[start] == row["score_start"]
        assert trail.percentile[-1] == pytest.approx(row["percentile"], abs=1e-6)
        assert trail.attributes["group"] == ("minority" if row["group"] else "majority")
        # Friends: the lists as drawn, and those the citizen still counts at the end.
        assert len(trail.friends) == row["friends_start"]
        assert sum(f.dropped_on < 0 for f in trail.friends) == row["friends"]
        assert len(trail.dropped_by) == row["followers_start"] - row["followers"]
    # Who dropped whom, seen from both sides: each friend a citizen dropped has that
    # citizen, on that day, among those who dropped them.
    by_id = {t.citizen: t for t in everyone}
    pairs = 0
    for trail in everyone:
        for f in trail.friends:
            if f.dropped_on >= 0:
                assert (trail.citizen, f.dropped_on) in {
                    (who, day) for who, day, _ in by_id[f.citizen].dropped_by
                }
                pairs += 1
    assert pairs == sum(len(t.dropped_by) for t in everyone) > 0


def test_every_citizens_trail_adds_up_to_the_runs_gate_table(stored, everyone):
    """All citizens traced: their decisions over the window, by gate and group, are the
    run's daily_gates, decision for decision (an independent count: the kernel's tallies)."""
    result, _ = stored
    window = measurement_window(result.scenario)
    rows = [
        (d.gate, t.attributes["group"], int(d.favourable), int(d.erroneous), int(d.overturned))
        for t in everyone
        for d in t.decisions
        if window.start <= d.day <= window.end
    ]
    got = (
        pd.DataFrame(rows, columns=["gate", "group", "selected", "erroneous", "overturned"])
        .assign(applied=1)
        .groupby(["gate", "group"])[["applied", "selected", "erroneous", "overturned"]]
        .sum()
    )
    daily = result.to_pandas("daily_gates")
    daily = daily[(daily["day"] >= window.start) & (daily["day"] <= window.end)]
    want = (
        daily.rename(
            columns={"erroneous_denials": "erroneous", "overturned_by_review": "overturned"}
        )
        .groupby(["gate", "group"])[["applied", "selected", "erroneous", "overturned"]]
        .sum()
    )
    want = want[want["applied"] > 0].drop(index="public_contracts", level=0, errors="ignore")
    assert got["applied"].sum() > 500
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_dtype=False)


def test_the_score_read_back_explains_every_threshold_decision(everyone):
    """From the trace alone: approved exactly when the score the gate read meets the
    threshold, but for erroneous denials (the error-free score met it) and overturned ones."""
    checked = 0
    for trail in everyone:
        for d in trail.decisions:
            if d.gate == "dating":
                continue
            meets = d.score_read >= d.threshold
            if d.overturned:
                assert d.favourable and not meets
            elif d.erroneous:
                assert not d.favourable and not meets
            else:
                assert d.favourable == meets, d
            checked += 1
    assert checked > 500


def test_each_counterfactual_flips_its_decision(everyone):
    """Removing the penalties a counterfactual names lifts the score to the threshold; the
    fewest headings do it (dropping the smallest named one is not enough); 'nothing in the
    citizen's own conduct' appears only where all their penalties together fall short."""
    seen = {"flip": 0, "nothing": 0}
    for trail in everyone:
        for d in trail.adverse:
            if d.gate == "dating" or d.erroneous:
                continue
            own = {w: p for w, p in d.reasons if w not in (NETWORK_REASON, ERRONEOUS_REASON)}
            missing = d.threshold - 0.5 - d.score_read
            if d.counterfactual.startswith("Without their penalties for"):
                named = [w for w in own if f"'{w}'" in d.counterfactual]
                assert named, d
                lifted = -sum(own[w] for w in named)
                assert lifted >= missing - 0.5, d  # score_read is rounded: half a point
                if len(named) > 1:
                    smallest = min(named, key=lambda w: -own[w])
                    assert lifted + own[smallest] < missing + 0.5, d
                seen["flip"] += 1
            elif d.counterfactual.startswith("Nothing in the citizen's own conduct"):
                seen["nothing"] += 1
    assert seen["flip"] > 10


def test_explain_prints_the_story_and_json_and_refuses_a_citizen_outside_the_run(stored):
    result, out = stored
    trail = next(
        t
        for t in explain.trails(result.run_id, list(range(0, POPULATION, 7)), out=out)
        if t.adverse
    )
    runner = CliRunner()
    done = runner.invoke(app, ["explain", result.run_id, str(trail.citizen), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"Citizen {trail.citizen}" in done.output
    assert "What would have changed it" in done.output
    as_json = runner.invoke(
        app, ["explain", result.run_id, str(trail.citizen), "--format", "json", "--out", str(out)]
    )
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert data[0]["citizen"] == trail.citizen
    assert data[0]["score"] == trail.score
    wrong = runner.invoke(app, ["explain", result.run_id, str(POPULATION), "--out", str(out)])
    assert wrong.exit_code == 2
    assert "from 0 to 599" in wrong.output
    assert math.isfinite(np.mean(trail.score))


def test_sample_finds_the_telling_cases_of_the_pool_and_each_is_what_it_says(stored):
    result, out = stored
    cases, pool = explain.sample(result.run_id, out=out)
    assert pool == len(story_pool(POPULATION, 365)) == 500
    assert cases, "a year of citizen-score refuses someone a mortgage"
    for case in cases:
        t = case.trail
        if "mortgage" in case.title:
            assert case.decision is not None and case.decision.gate == "mortgage"
            assert not case.decision.favourable
            assert ("minority" in case.title) == (t.attributes["group"] == "minority")
        if case.title.startswith("Trapped"):
            assert t.percentile[-1] < 0.1
    done = CliRunner().invoke(app, ["explain", result.run_id, "--sample", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"{len(cases)} telling cases among 500 citizens" in done.output
    bare = CliRunner().invoke(app, ["explain", result.run_id, "--out", str(out)])
    assert bare.exit_code == 2 and "--sample" in bare.output


def test_the_trails_reasons_are_the_reasons_table_by_gate_group_and_reason(tmp_path):
    """A regime that gives reasons, every citizen traced: the reasons the trails read back for
    the window's adverse decisions, counted by gate, group and reason, are the run's reasons
    table exactly (the kernel's tally, a different path)."""
    population = 2000
    base = socialscore.load("citizen-score").scenario
    data = base.model_dump(by_alias=True)
    for gate in ("mortgage", "job_hiring", "job_retention", "school", "documents", "travel"):
        data["gates"][gate]["reasons"] = True
    result = socialscore.run(
        socialscore.Scenario.model_validate(data),
        population=population,
        days=365,
        seed=4,
        out=tmp_path,
    )
    window = measurement_window(result.scenario)
    found = explain.trails(result.run_id, list(range(population)), out=tmp_path)
    counted: dict[tuple[str, str, str], int] = {}
    for t in found:
        for d in t.adverse:
            if d.gate == "dating" or not window.start <= d.day <= window.end:
                continue
            if not getattr(result.scenario.gates, d.gate).reasons:
                continue
            for reason, _ in d.reasons:
                key = (d.gate, t.attributes["group"], reason)
                counted[key] = counted.get(key, 0) + 1
    table = result.to_pandas("reasons")
    assert set(table["day_from"]) == {window.start}
    want = {(r.gate, r.group, r.reason): int(r.decisions) for r in table.itertuples(index=False)}
    assert sum(want.values()) > 500
    assert counted == want

    # The report's Reasons section: each share is the reasons' count over the group's
    # adverse decisions at the gate, in the window.
    from socialscore.report import reasons as section

    lines = {g.gate: g for g in section.rows(result.scenario, result.tables, window)}
    daily = result.to_pandas("daily_gates")
    daily = daily[(daily["day"] >= window.start) & (daily["day"] <= window.end)]
    part = daily[(daily["gate"] == "mortgage") & (daily["group"] == "minority")]
    adverse = int((part["applied"] - part["selected"]).sum())
    first = lines["mortgage"].rows[0]
    cited = want[("mortgage", "minority", first[0])]
    from socialscore.report import format as fmt

    assert first[3] == fmt.share(cited / adverse)


def test_a_run_keeps_the_trails_it_names_and_they_are_exactly_the_replays(tmp_path, monkeypatch):
    """run(trace=...) keeps those citizens' trails (table trails); explain reads them without
    replaying, and they equal the replay's, field for field; rerun traces them again."""
    result = socialscore.run(
        "citizen-score", population=POPULATION, days=365, seed=11, out=tmp_path, trace=[599, 5, 9]
    )
    assert sorted(result.table("trails").column("citizen").to_pylist()) == [5, 9, 599]
    replayed = explain.replay(result.run_id, [9, 5], out=tmp_path)
    with monkeypatch.context() as m:
        m.setattr(explain, "replay", lambda *a, **k: pytest.fail("replayed a kept trail"))
        kept = explain.trails(result.run_id, [9, 5], out=tmp_path)
    assert kept == replayed
    assert explain.trails(result.run_id, [9, 6], out=tmp_path)[1].citizen == 6  # replays
    again = rerun(result.run_id, out=tmp_path)
    assert [t.name for t in again.tables if t.verdict != "byte-identical"] == []
    assert "trails" in {t.name for t in again.tables}
    runner = CliRunner()
    done = runner.invoke(
        app, ["run", "citizen-score", "--population", "600", "--days", "30", "--trace", "3,4",
              "--out", str(tmp_path)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    bad = runner.invoke(
        app, ["run", "citizen-score", "--population", "600", "--trace", "600", "--out",
              str(tmp_path)],
    )  # fmt: skip
    assert bad.exit_code == 2 and "from 0 to 599" in bad.output


def test_followers_are_found_the_same_whatever_the_block_of_lists_decoded(
    stored, everyone, monkeypatch
):
    from socialscore.simulation import trace

    result, out = stored
    chosen = [t.citizen for t in everyone if t.dropped_by][:3]
    assert chosen
    whole = explain.replay(result.run_id, chosen, out=out)
    monkeypatch.setattr(trace, "FOLLOWER_BLOCK", 97)  # seven blocks of lists, not one
    blocks = explain.replay(result.run_id, chosen, out=out)
    assert [t.dropped_by for t in blocks] == [t.dropped_by for t in whole]
    assert all(t.dropped_by for t in blocks)
