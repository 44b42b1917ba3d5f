"""Acting on an explanation, replayed (socialscore.studies.flips, engine.Probe).

The engine answers a what-if at one day's gates: the record edited just before
the gates decide, the gate kernel deciding again, then the day taken as it was.
An edit that changes nothing must give back the day's own decisions, for every
citizen (so the what-if reads the score exactly as the gates do), and asking
must leave the run's every table unchanged. Acting on the explanations of a
regime's refusals, replayed, flips them.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialscore
from socialscore.scenario.files import load
from socialscore.scenario.window import measurement_window
from socialscore.simulation import nation as nation_module
from socialscore.simulation.engine import Engine, Probe
from socialscore.simulation.recorder import Recorder
from socialscore.simulation.state import State
from socialscore.studies import explain, flips


def _nothing(state: State) -> None:
    del state


@pytest.mark.parametrize("name", ["citizen-score", "sesame-credit", "court-blacklist"])
def test_a_what_if_that_changes_nothing_gives_the_days_own_decisions(name):
    sc = load(name).scenario.with_overrides(population=5_000, days=60, seed=3)
    nat = nation_module.generate(sc)
    asked, plain = Engine(sc, nat), Engine(sc, nation_module.generate(sc))
    rec_asked, rec_plain = Recorder(sc, nat), Recorder(sc, nat)
    decided = 0
    for day in range(sc.run.days):
        probe = Probe(_nothing)
        asked.step(day, rec_asked, probe=probe)
        plain.step(day, rec_plain)
        assert probe.words is not None
        np.testing.assert_array_equal(probe.words, plain.gate_tallies.decided, err_msg=f"day {day}")
        decided += int(np.count_nonzero(probe.words))
    assert decided > 0
    # Asking put everything back: the two runs are the same run.
    for a, b in zip(asked.state, plain.state, strict=True):
        np.testing.assert_array_equal(a, b)
    ta, tp = rec_asked.tables(asked.state), rec_plain.tables(plain.state)
    assert ta.keys() == tp.keys()
    for key in ta:
        assert ta[key].equals(tp[key]), key


@pytest.fixture(scope="module", params=["citizen-score", "financial-only"])
def refusals(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = socialscore.run(request.param, population=20_000, days=365, seed=2, out=out)
    trails = explain.replay(result.run_id, None, out=out)
    window = measurement_window(result.scenario)
    return result.scenario, trails, window


def test_acting_on_each_explanation_flips_the_refusal_when_replayed(refusals):
    sc, trails, window = refusals
    chosen = flips.sample(trails, window)
    # The story pool's 500 citizens: many refusals under the citizen score, few in credit.
    assert len(chosen) >= (20 if sc.scenario.name == "citizen-score" else 1)
    assert len({(c, d.day) for c, d in chosen}) == len(chosen)  # one edit per citizen and day
    assert len({d.day for _, d in chosen}) <= flips.MOST_DAYS
    replayed = flips.replay_flips(sc, chosen)
    assert len(replayed) == len(chosen)
    missed = [k for k, v in replayed.flipped.items() if not v]
    assert not missed, missed


def test_replaying_without_acting_keeps_every_refusal(refusals, monkeypatch):
    """The control: the same replay with an edit that removes nothing flips nothing."""
    sc, trails, window = refusals
    chosen = flips.sample(trails, window, most_decisions=60)
    monkeypatch.setattr(flips, "_edit", lambda layout, today: _nothing)
    replayed = flips.replay_flips(sc, chosen)
    assert len(replayed) == len(chosen) and not any(replayed.flipped.values())


def test_the_sample_edits_one_decision_per_citizen_and_day_and_spreads_its_days():
    """Two refusals of one citizen on one day would be edited together (each explanation's
    penalties removed for both): the sample keeps the first gate's only."""
    from socialscore.analysis.trails import Decision, Trail
    from socialscore.scenario.window import Window

    def refused(day: int, gate: str) -> Decision:
        return Decision(day, gate, False, "refused", 500, 600.0, "public", False, False, act=["x"])

    decisions = [refused(d, "mortgage") for d in range(10, 110)] + [refused(50, "job_hiring")]
    trail = Trail("r", 7, {}, 120, [], [], [], [], decisions, {})
    chosen = flips.sample([trail], Window(0, 119, 0, ""), most_days=30)
    keys = [(c, d.day) for c, d in chosen]
    assert len(keys) == len(set(keys)) and len({d.day for _, d in chosen}) <= 30
    assert {d.day for _, d in chosen} >= {10, 109}  # spread over the first and the last day
    on_50 = [d.gate for _, d in chosen if d.day == 50]
    assert on_50 in ([], ["mortgage"])
    # A day holding both is kept once, with the first gate's decision.
    both = flips.sample([trail], Window(50, 50, 0, ""))
    assert [(c, d.day, d.gate) for c, d in both] == [(7, 50, "mortgage")]
