"""The day's gate decisions tallied by the deciders' attributes (kernels.decisions).

The run's ``gate_cells`` and ``gate_regions`` tables count the same decisions
as ``daily_gates`` and ``gate_replicates``, by another path: a word per
citizen and day instead of the per-chunk counts. Summed by gate and group over
the measurement window they must agree exactly; and a hand-made day lands in
the cells its citizens' attributes name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialscore
from socialscore.analysis import groups
from socialscore.scenario.vocabulary import CITIZEN_GATES
from socialscore.scenario.window import measurement_window
from socialscore.simulation import nation as nation_module
from socialscore.simulation.cells import (
    CELL_TALLIES,
    CELLS,
    DISPUTE_CELL_TALLIES,
    cell_codes,
    static_cells,
)
from socialscore.simulation.engine import Engine
from socialscore.simulation.kernels.decisions import tally_cells
from socialscore.simulation.kernels.disputes import D_FILED, D_REJECTED, D_UPHELD
from socialscore.simulation.kernels.gates import (
    DECISION_BITS,
    REPLICATES,
    T_APPLIED,
    T_ERRONEOUS,
    T_OVERTURNED,
    T_SELECTED,
)
from socialscore.simulation.recorder import Recorder


def test_every_gates_bits_fit_in_the_days_word():
    assert len(CITIZEN_GATES) * DECISION_BITS <= 32
    assert (T_APPLIED, T_SELECTED, T_ERRONEOUS, T_OVERTURNED) == (0, 1, 2, 3)
    assert CELL_TALLIES == ("applied", "selected", "erroneous", "overturned")
    assert (D_FILED, D_UPHELD, D_REJECTED) == (0, 1, 2)
    assert DISPUTE_CELL_TALLIES == ("filed", "upheld", "rejected")


def word(gate: int, *tallies: int) -> int:
    return sum(1 << (gate * DECISION_BITS + t) for t in tallies)


def test_a_hand_made_day_lands_in_the_cells_of_its_citizens():
    group = np.array([0, 1, 1, 0], np.uint8)
    decile = np.array([0, 9, 3, 5], np.uint8)
    age = np.array([1, 2, 5, 0], np.uint8)
    kids = np.array([0, 7, 2, 1], np.uint8)  # 7 children count as "3 or more"
    aware = np.array([1, 0, 0, 1], np.uint16)
    base = (static_cells(group, decile, age, kids).astype(np.uint16) * 4 + aware).astype(np.uint16)
    decided = np.array(
        [
            word(0, T_APPLIED, T_SELECTED),  # mortgage approved
            word(6, T_APPLIED) | word(0, T_APPLIED, T_ERRONEOUS),  # travel barred, mortgage
            0,  # nobody decided about citizen 2
            word(3, T_APPLIED, T_SELECTED, T_OVERTURNED),  # school, after review
        ],
        np.uint32,
    )
    participant = np.array([1, 0, 1, 1], np.uint8)
    cells = np.zeros((len(CITIZEN_GATES), CELLS, REPLICATES, 4), np.int64)
    regions = np.zeros((len(CITIZEN_GATES), 2, 2, REPLICATES, 4), np.int64)
    region_start = np.array([0, 2, 4], np.int64)
    disputed = np.array([0, 1 << D_UPHELD, 1 << D_FILED, 0], np.uint8)
    dispute_cells = np.zeros((CELLS, REPLICATES, 3), np.int64)
    dispute_regions = np.zeros((2, 2, REPLICATES, 3), np.int64)
    tally_cells(
        decided,
        disputed,
        base,
        participant,
        False,
        group,
        region_start,
        cells,
        regions,
        dispute_cells,
        dispute_regions,
    )
    found = {
        (int(g), int(c), int(r), int(t)): int(cells[g, c, r, t])
        for g, c, r, t in zip(*np.nonzero(cells), strict=True)
    }
    expected_attrs = {
        # citizen: (group, decile, age, children band, rated, aware)
        0: (0, 0, 1, 0, 1, 1),
        1: (1, 9, 2, 3, 0, 0),
        3: (0, 5, 0, 1, 1, 1),
    }
    for (_g, c, r, _t), count in found.items():
        assert count == 1
        codes = cell_codes(np.array([c]))
        attrs = tuple(int(codes[name][0]) for name in codes)
        assert attrs == expected_attrs[r]  # replicate = citizen id modulo 16
    assert sorted((g, r, t) for g, _, r, t in found) == [
        (0, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
        (0, 1, 2),
        (3, 3, 0),
        (3, 3, 1),
        (3, 3, 3),
        (6, 1, 0),
    ]
    # Regions: citizens 0-1 in region 0, 2-3 in region 1.
    assert regions[0, 0, 0, 0, 0] == 1 and regions[0, 0, 1, 1, 2] == 1
    assert regions[3, 1, 0, 3, 3] == 1 and regions.sum() == cells.sum()
    # Disputes: citizen 1's upheld, citizen 2's filed (a citizen no gate decided about).
    cell_of = {int(r): int(c) for c, r, _ in zip(*np.nonzero(dispute_cells), strict=True)}
    assert dispute_cells.sum() == 2 and set(cell_of) == {1, 2}
    assert dispute_cells[cell_of[1], 1, D_UPHELD] == 1
    assert dispute_cells[cell_of[2], 2, D_FILED] == 1
    two = cell_codes(np.array([cell_of[2]]))
    assert (int(two["income_decile"][0]), int(two["age_band"][0]), int(two["participant"][0])) == (
        3,
        5,
        1,
    )
    assert dispute_regions[0, 1, 1, D_UPHELD] == 1 and dispute_regions[1, 1, 2, D_FILED] == 1
    # Mandatory participation: everyone is rated.
    everyone = np.zeros_like(cells)
    tally_cells(
        decided,
        np.zeros(0, np.uint8),
        base,
        participant,
        True,
        group,
        region_start,
        everyone,
        regions * 0,
        dispute_cells * 0,
        dispute_regions * 0,
    )
    rated = cell_codes(np.nonzero(everyone)[1])["participant"]
    assert (rated == 1).all()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return socialscore.run("citizen-score", population=20_000, days=200, seed=3, out=out)


def test_the_cells_hold_exactly_the_windows_decisions_of_daily_gates(run):
    """By gate and group over the window, gate_cells and gate_regions equal daily_gates."""
    window = measurement_window(run.scenario)
    daily = run.to_pandas("daily_gates")
    daily = daily[(daily["day"] >= window.start) & (daily["day"] <= window.end)]
    daily = daily[daily["gate"] != "public_contracts"]
    columns = {
        "applied": "applied",
        "selected": "selected",
        "erroneous_denials": "erroneous",
        "overturned_by_review": "overturned",
    }
    want = daily.groupby(["gate", "group"])[list(columns)].sum().rename(columns=columns)
    want = want[want["applied"] > 0]  # the cells keep non-zero rows only
    assert want["applied"].sum() > 10_000
    labels = np.array(["majority", "minority"])
    for table in ("gate_cells", "gate_regions"):
        cells = run.to_pandas(table)
        cells["group"] = labels[cells["group"].to_numpy()]
        got = cells.groupby(["gate", "group"])[list(CELL_TALLIES)].sum()
        pd.testing.assert_frame_equal(
            got.sort_index(), want.sort_index(), check_dtype=False, check_names=False
        )


def test_the_cells_replicates_are_those_of_gate_replicates(run):
    window = measurement_window(run.scenario)
    reps = run.to_pandas("gate_replicates")
    reps = reps[(reps["day"] >= window.start) & (reps["day"] <= window.end)]
    want = reps.groupby(["gate", "replicate"])[["applied", "selected"]].sum()
    cells = run.to_pandas("gate_cells").astype({"replicate": reps["replicate"].dtype})
    got = cells.groupby(["gate", "replicate"])[["applied", "selected"]].sum()
    pd.testing.assert_frame_equal(
        got.sort_index(), want.sort_index(), check_dtype=False, check_names=False
    )


def test_each_cells_members_match_the_citizens_attributes(run):
    """Decisions about the poorest tenth land in decile 1, and every cell's attributes are
    ones its citizens have: no decision is counted in a cell with no members."""
    citizens = run.to_pandas("citizens")
    cells = run.to_pandas("gate_cells")
    citizens["children"] = np.minimum(citizens["children"], 3)
    static = ["group", "income_decile", "age_band", "children", "aware"]
    present = set(map(tuple, citizens[static].drop_duplicates().to_numpy().tolist()))
    used = set(map(tuple, cells[static].drop_duplicates().to_numpy().tolist()))
    assert used <= present
    assert cells["income_decile"].nunique() == 10


def test_disputes_by_any_attribute_are_the_disputes_of_its_citizens():
    """Brute force: each window day's disputes read citizen by citizen from the engine,
    counted by income decile and by group x age with pandas, equal the frames built from the
    run's ``dispute_cells``; by group they equal the daily per-group dispute tallies."""
    sc = socialscore.scenario.files.load("financial-only").scenario.with_overrides(
        population=20_000, days=365, seed=4
    )
    nat = nation_module.generate(sc)
    engine, recorder = Engine(sc, nat), Recorder(sc, nat)
    window = recorder.window
    seen = []
    for day in range(sc.run.days):
        engine.step(day, recorder)
        if window.start <= day <= window.end:
            who = np.flatnonzero(engine._disputed)
            seen.append(pd.DataFrame({"citizen": who, "bits": engine._disputed[who]}))
    found = pd.concat(seen)
    for t, name in enumerate(DISPUTE_CELL_TALLIES):
        found[name] = (found["bits"].to_numpy() >> t) & 1
    people = pd.DataFrame(
        {"group": nat.group, "income_decile": nat.income_decile, "age_band": nat.age_band}
    )
    found = found.join(people, on="citizen")
    assert found["filed"].sum() > 300 and found["upheld"].sum() > 100
    tables = recorder.tables(engine.state)
    cells = tables["dispute_cells"]
    for by in ("income_decile", ("group", "age_band")):
        frame = groups.disputes_by(cells, by, members=tables["cell_members"])
        table = frame.by_group()
        keys = [by] if isinstance(by, str) else list(by)
        direct = found.groupby(keys)[["filed", "upheld", "rejected"]].sum()
        for key, counts in direct.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            k = int(np.flatnonzero((frame.codes == np.asarray(key)).all(axis=1))[0])
            row = table.iloc[k]
            assert row["disputes_filed"] == counts["filed"]
            assert row["disputes_settled"] == counts["upheld"] + counts["rejected"]
            settled = counts["upheld"] + counts["rejected"]
            if settled:
                assert row["upheld_rate"] == pytest.approx(counts["upheld"] / settled)
        assert table["disputes_filed"].sum() == found["filed"].sum()
    daily = recorder.disputes[window.start : window.end + 1].sum(axis=0)  # [group, D_*]
    by_group = groups.disputes_by(cells, "group").by_group()
    assert by_group["disputes_filed"].tolist() == daily[:, D_FILED].tolist()
    assert by_group["upheld"].tolist() == daily[:, D_UPHELD].tolist()
    regions = tables["dispute_regions"].to_pandas()
    assert regions["filed"].sum() == found["filed"].sum()


def test_a_run_without_disputes_refuses_to_break_them_down_in_words(run):
    assert "dispute_cells" not in run.tables
    with pytest.raises(ValueError, match=r"has no disputes.*Fix: set data_errors\.dispute_rate"):
        run.harms_by("disputes", "income_decile")
