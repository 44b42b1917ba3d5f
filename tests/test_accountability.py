"""The audit asks what courts now ask (socialscore.analysis.accountability).

C-203/22: an explanation of each refusal in the person's own record that flips
it when acted on; C-634/21: the scorer whose score determines decisions is an
automated decision-maker. Each check has a shipped regime that passes it
(financial-only: own financial records, reasons, human review) and one that
fails it (citizen-score: dating by rank, no reasons, no review).
"""

from __future__ import annotations

import pytest

import socialscore
from socialscore.analysis import accountability as acc
from socialscore.scenario.files import load
from socialscore.scenario.window import measurement_window
from socialscore.studies import explain, flips


@pytest.fixture(scope="module", params=["citizen-score", "financial-only"])
def checked(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = socialscore.run(request.param, population=20_000, days=365, seed=2, out=out)
    trails = explain.replay(result.run_id, None, out=out)
    window = measurement_window(result.scenario)
    replayed = flips.replay_flips(result.scenario, flips.sample(trails, window))
    explained = acc.explanation_checks(result.scenario, trails, window, replayed.flipped)
    scored = acc.scorer_checks(result.scenario, trails, window)
    checks = ({c.subject: c for c in explained}, {c.subject: c for c in scored})
    return request.param, trails, *checks, window


def test_each_regime_meets_or_fails_the_explanation_check_where_it_should(checked):
    name, trails, explained, _, window = checked
    if name == "financial-only":
        assert explained["gate mortgage"].verdict == "pass"
        assert set(explained) == {"gate mortgage"}
        assert "replayed with the record so changed" in explained["gate mortgage"].reason
    else:
        dating = explained["gate dating"]
        assert dating.verdict == "fail"
        assert "rank against everyone" in dating.reason and dating.value == 0.0
        assert explained["gate school"].verdict in ("pass", "fail")
    # A pass means every sampled refusal has an explanation that flips it.
    for subject, check in explained.items():
        gate = subject.removeprefix("gate ")
        refused = [
            d
            for t in trails
            for d in t.adverse
            if d.gate == gate and window.start <= d.day <= window.end
        ]
        if check.verdict == "pass":
            assert refused and all(d.flips for d in refused)


def test_each_regime_names_the_scorer_and_passes_only_with_reasons_and_review(checked):
    name, trails, _, scored, window = checked
    mortgage = scored["gate mortgage"]
    assert "the operator of the public score computes the score" in mortgage.reason
    assert mortgage.value == pytest.approx(1.0)  # a threshold on the score decides every one
    if name == "financial-only":
        assert mortgage.verdict == "pass" and "safeguards" in mortgage.reason
    else:
        assert (
            mortgage.verdict == "fail" and "Fix: gates.mortgage.reasons = true" in mortgage.reason
        )
        # Dating: a refused match the partner's rank decided was not the citizen's score.
        dating = [
            d
            for t in trails
            for d in t.decisions
            if d.gate == "dating" and window.start <= d.day <= window.end
        ]
        share = sum(d.score_decided for d in dating) / len(dating)
        assert scored["gate dating"].value == pytest.approx(share, abs=0.01)
        assert 0.0 < share < 1.0


def test_an_explanation_that_fails_when_replayed_fails_the_check(checked):
    """A replay that did not flip a refusal fails the gate, whatever the rebuilt score said."""
    name, trails, _, _, window = checked
    if name != "financial-only":
        return
    chosen = flips.sample(trails, window)
    assert chosen
    unflipped = {(c, d.day, d.gate): False for c, d in chosen}
    check = acc.explanation_checks(load(name).scenario, trails, window, unflipped)[0]
    assert check.verdict == "fail"
    assert f"{len(chosen)} of {len(chosen)} explanations replayed did not flip" in check.reason


def test_an_explanation_flips_only_when_the_rebuilt_score_meets_the_threshold(checked):
    """The flip is the gate's rule applied to the score rebuilt without the named penalties:
    the reasons' points (from the person's own record) lift the score read past the line."""
    _, trails, _, _, _ = checked
    seen = 0
    for t in trails:
        for d in t.adverse:
            if d.flips is None or d.gate == "dating" or d.erroneous:
                continue
            named = [(w, p) for w, p in d.reasons if f"'{w}' (" in d.counterfactual]
            if len(named) < len([w for w, _ in d.reasons if f"'{w}' (" in d.counterfactual]):
                continue
            lifted = d.score_read - sum(p for _, p in named)
            assert d.flips == (lifted >= d.threshold - 0.5), d
            seen += 1
    assert seen > 0
