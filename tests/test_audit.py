"""The audit: every legal check has a regime that passes it and one that fails it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import socialscore
from conftest import minimal
from socialscore.analysis import audit
from socialscore.analysis import disparity as dp
from socialscore.scenario.files import load
from socialscore.scenario.vocabulary import CITIZEN_EVENTS

LATE = {"event": "bill_late", "points": -20, "half_life_days": 90, "severity": 1}
BOOK = {"event": "flagged_book", "points": -15, "half_life_days": 90, "severity": 0}
STREAMS = {
    "bill_late": {"rate": 0.01},
    "flagged_book": {"rate": 0.01},
    "interaction": {"rate": 0.3},
}
MORTGAGE = {"apply_rate": 0.01, "threshold": 590}


def regime(**extra):  # type: ignore[no-untyped-def]
    data = {"streams": STREAMS, "rules": [LATE], "gates": {"mortgage": MORTGAGE}}
    data.update(extra)
    return minimal(**data)


def verdicts(checks, law):  # type: ignore[no-untyped-def]
    return {c.subject: c.verdict for c in checks if c.law == law}


def test_context_fails_when_a_gate_reads_data_from_another_domain():
    fails = audit.context_checks(regime(rules=[LATE, BOOK]))
    assert verdicts(fails, audit.LAW_CONTEXT) == {"gate mortgage": "fail"}
    assert "reading" in fails[0].reason and "finance" in fails[0].reason


def test_context_passes_with_purpose_limitation():
    limited = regime(rules=[LATE, BOOK], gates={"mortgage": {**MORTGAGE, "purpose": ["finance"]}})
    assert verdicts(audit.context_checks(limited), audit.LAW_CONTEXT) == {"gate mortgage": "pass"}


def test_context_counts_the_network_term_as_social_data():
    networked = regime(network={"enabled": True, "weight": 0.1})
    checks = audit.context_checks(networked)
    assert checks[0].verdict == "fail" and "social life" in checks[0].reason


def test_an_operator_without_access_does_not_read_the_data():
    sc = regime(
        operators={"bank": {"sees": ["finance"]}},
        rules=[{**LATE, "operator": "bank"}, {**BOOK, "operator": "bank"}],
    )
    assert audit.context_checks(sc)[0].verdict == "pass"  # the book rule is inert
    shared = sc.model_copy(update={"sharing": sc.sharing.model_copy(update={"enabled": True})})
    # Sharing gives one operator nothing new here (it is the only one): still a pass.
    assert audit.context_checks(shared)[0].verdict == "pass"


def test_proportion_fails_for_lawful_behaviour_and_undeclared_severity():
    lawful = audit.proportion_checks(regime(rules=[LATE, BOOK]), audit.Thresholds())
    assert verdicts(lawful, audit.LAW_PROPORTION) == {
        "rule 'bill_late'": "pass",  # severity 1, mortgage sanction 3: ratio 3
        "rule 'flagged_book'": "fail",  # severity 0: any sanction is disproportionate
    }
    undeclared = regime(rules=[{k: v for k, v in LATE.items() if k != "severity"}])
    checks = audit.proportion_checks(undeclared, audit.Thresholds())
    assert checks[0].verdict == "fail" and "severity" in checks[0].reason


def test_proportion_bound_is_the_auditors():
    strict = audit.proportion_checks(regime(), audit.Thresholds(max_sanction_ratio=2.0))
    assert strict[0].verdict == "fail" and strict[0].value == pytest.approx(3.0)


def test_reasons_fail_without_reasons_and_pass_with_them():
    assert audit.reasons_checks(regime())[0].verdict == "fail"
    given = regime(gates={"mortgage": {**MORTGAGE, "reasons": True}})
    assert audit.reasons_checks(given)[0].verdict == "pass"


def test_reasons_fail_when_the_run_shows_denials_explained_by_friends_only():
    import pyarrow as pa

    given = regime(gates={"mortgage": {**MORTGAGE, "reasons": True}})
    tallies = pa.table({"gate": ["mortgage", "mortgage"], "unexplained_denials": [3, 4]})
    check = audit.reasons_checks(given, tallies)[0]
    assert check.verdict == "fail" and check.value == 7


def test_disputes_need_a_process_settled_within_30_days():
    assert audit.dispute_checks(regime(), audit.Thresholds())[0].verdict == "fail"
    slow = regime(data_errors={"dispute_rate": 0.1, "dispute_days": 45})
    assert audit.dispute_checks(slow, audit.Thresholds())[0].verdict == "fail"
    prompt = regime(data_errors={"dispute_rate": 0.1, "dispute_days": 30})
    assert audit.dispute_checks(prompt, audit.Thresholds())[0].verdict == "pass"


def test_negative_items_must_expire_within_seven_years():
    assert audit.expiry_checks(regime(), audit.Thresholds())[0].verdict == "fail"
    expiring = regime(rules=[{**LATE, "expires_after_days": 2555}])
    assert audit.expiry_checks(expiring, audit.Thresholds())[0].verdict == "pass"
    too_long = regime(rules=[{**LATE, "expires_after_days": 3650}])
    assert audit.expiry_checks(too_long, audit.Thresholds())[0].verdict == "fail"


def test_significant_decisions_need_human_review():
    assert audit.review_checks(regime())[0].verdict == "fail"
    reviewed = regime(gates={"mortgage": {**MORTGAGE, "human_review": True}})
    assert audit.review_checks(reviewed)[0].verdict == "pass"


def test_a_gate_that_reads_no_data_is_not_judged():
    blind = regime(gates={"mortgage": {**MORTGAGE, "purpose": ["employment"]}})
    checks = audit.legal_checks(blind)
    assert {c.verdict for c in checks if c.subject == "gate mortgage"} == {"not applicable"}


def _association(**extra):  # type: ignore[no-untyped-def]
    sc = regime(run={"population": 20_000, "days": 40, "seed": 4}, **extra)
    engine, _ = audit.simulate(sc)
    return audit.association_check(sc, engine.state.score)


def test_guilt_by_association_is_found_by_running_with_a_network_term():
    check = _association(network={"enabled": True, "weight": 0.2, "every_days": 1})
    assert check.verdict == "fail"
    assert check.value > 1.0


def test_guilt_by_association_is_found_through_an_interaction_rule():
    interaction = {"event": "interaction_low_scorer", "points": -10, "half_life_days": 30}
    check = _association(rules=[LATE, interaction], network={"low_scorer_percentile": 0.05})
    assert check.verdict == "fail"


def test_no_guilt_by_association_when_only_ones_own_record_counts():
    check = _association()
    assert check.verdict == "pass"
    assert check.value == pytest.approx(0.0, abs=1e-9)


def test_the_counterfactual_rates_nothing_and_denies_nothing():
    sc = load("citizen-score").scenario
    base = audit.counterfactual(sc)
    assert base.rules == [] and not base.network.enabled
    assert base.gates.mortgage.threshold == sc.score.lo
    assert base.streams == sc.streams and base.nation == sc.nation


def test_harm_checks_flag_adverse_impact_persistence_and_chilling(tmp_path):  # type: ignore[no-untyped-def]
    result, stored = socialscore.audit_regime(
        "citizen-score", population=20_000, days=120, out=tmp_path
    )
    harms = [c for c in result.checks if c.law.startswith("Measured")]
    assert {c.law for c in harms} == {
        audit.HARM_IMPACT,
        audit.HARM_ADVERSE,
        audit.HARM_PERSISTENCE,
        audit.HARM_CHILLING,
    }
    _, recorder = audit.simulate(stored.scenario)
    _, baseline = audit.simulate(audit.counterfactual(stored.scenario))
    frame = stored.metrics.to_pandas()

    def judged(**bounds: float) -> list[audit.Check]:
        return audit.harm_checks(
            stored.scenario, stored.metrics, recorder.events, baseline.events,
            audit.Thresholds(**bounds),
        )  # fmt: skip

    # The persistence bound is the auditor's: just under the measured interval it fails,
    # just over it passes (the run's own figures, not a bound no regime could meet).
    row = frame[frame.metric == "bottom_decile_persistence"].iloc[0]
    assert row.ci_low > 0.1  # the Citizen Score keeps people at the bottom beyond chance
    persistence = audit.HARM_PERSISTENCE
    (low,) = [c for c in judged(max_persistence=row.ci_low - 0.01) if c.law == persistence]
    (high,) = [c for c in judged(max_persistence=row.ci_high + 0.01) if c.law == persistence]
    assert (low.verdict, high.verdict) == ("fail", "pass")
    # Chilling: penalised legal behaviour fell against no scoring on the same numbers
    # (meeting low-ranked friends depends on the ranking itself and is left out here).
    changes = {
        c.subject: c.value
        for c in judged()
        if c.law == audit.HARM_CHILLING
        and c.value is not None
        and c.subject != "behaviour interaction_low_scorer"
    }
    assert changes and all(v <= 0.0 for v in changes.values())
    most = min(changes.values())
    assert most < 0.0
    worst = min(changes, key=changes.__getitem__)
    tight = {c.subject: c.verdict for c in judged(max_chilling=-most / 4)}
    loose = {c.subject: c.verdict for c in judged(max_chilling=-most * 4)}
    assert tight[worst] in ("fail", "inconclusive") and loose[worst] == "pass"
    # Meetings with low-ranked friends are about different people under no scoring.
    low = [c for c in judged() if c.subject == "behaviour interaction_low_scorer"]
    assert all(c.verdict == "not applicable" for c in low)
    # The audit is stored with the run and shown in its report.
    assert (stored.path / "audit.parquet").is_file()
    page = (stored.path / "report.html").read_text("utf-8")
    assert 'id="s-audit"' in page and "checks fail" in page


def gate_metrics(**gates: dp.GateDisparity) -> pa.Table:
    """A metrics table holding only the given gates' measures over days 180–364."""
    rows = [
        (metric, gate, grp, value, *(ci or (None, None)))
        for gate, d in gates.items()
        for metric, value, ci, grp in d.metric_rows(("majority", "minority"))
    ]
    names = ("metric", "subject", "grp", "value", "ci_low", "ci_high")
    table = {name: [r[k] for r in rows] for k, name in enumerate(names)}
    return pa.table({**table, "day_from": [180] * len(rows), "day_to": [364] * len(rows)})


def test_gate_harms_are_judged_on_their_intervals_and_sanctions_count():
    checks = audit.harm_checks(
        load("citizen-score").scenario,
        gate_metrics(
            # the minority barred from 2% of its trips, the majority from 1%
            travel=dp.GateDisparity([200_000, 50_000], [198_000, 49_000], [900_000, 100_000]),
            # nobody approved in either group: 0/0
            documents=dp.GateDisparity([40, 8], [0, 0], [900, 100]),
            # a point ratio of 0.85 whose interval reaches well below 0.8
            mortgage=dp.GateDisparity([200, 40], [100, 17], [900, 100]),
            # a clear four-fifths failure
            job_hiring=dp.GateDisparity([5_000, 1_000], [4_000, 500], [900, 100]),
        ),
        np.zeros((10, len(CITIZEN_EVENTS), 2)),
        np.zeros((10, len(CITIZEN_EVENTS), 2)),
    )
    impact = {c.subject: c for c in checks if c.law == audit.HARM_IMPACT}
    adverse = {c.subject: c for c in checks if c.law == audit.HARM_ADVERSE}
    assert impact["gate travel"].verdict == "pass"
    assert adverse["gate travel"].verdict == "fail"
    assert "2.00 times the majority's (95% interval" in adverse["gate travel"].reason
    assert "days 180–364" in adverse["gate travel"].reason
    assert impact["gate documents"].verdict == "not applicable"
    assert impact["gate mortgage"].verdict == "inconclusive"
    assert "straddles" in impact["gate mortgage"].reason
    assert impact["gate mortgage"].value == pytest.approx(0.85)
    assert impact["gate job_hiring"].verdict == "fail"
    assert "0.62 times the other's (95% interval 0.59–0.67)" in impact["gate job_hiring"].reason
    failures = {(c.law, c.subject) for c in audit.Audit("regime", checks).failures}
    assert failures == {
        (audit.HARM_ADVERSE, "gate travel"),
        (audit.HARM_IMPACT, "gate job_hiring"),
        (audit.HARM_ADVERSE, "gate job_hiring"),
        # among applicants 1.15 times as often, but per member 23 of 100 against 100 of 900
        (audit.HARM_ADVERSE, "gate mortgage"),
    }


def test_the_shipped_safeguards_pass_the_legal_checks_the_default_fails():
    assert audit.legal_checks(load("financial-only").scenario) != []
    assert all(c.verdict != "fail" for c in audit.legal_checks(load("financial-only").scenario))
    assert all(
        c.verdict != "fail" for c in audit.legal_checks(load("safeguarded-citizen-score").scenario)
    )
    failing = {
        c.law for c in audit.legal_checks(load("citizen-score").scenario) if c.verdict == "fail"
    }
    assert failing == {
        audit.LAW_CONTEXT,
        audit.LAW_PROPORTION,
        audit.LAW_REASONS,
        audit.LAW_DISPUTES,
        audit.LAW_EXPIRY,
        audit.LAW_REVIEW,
    }


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialscore", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_audit_exits_non_zero_on_failure_and_speaks_json(tmp_path):  # type: ignore[no-untyped-def]
    out = str(tmp_path)
    proc = _cli("audit", "citizen-score", "--population", "5000", "--days", "30",
                "--out", out, "--format", "json")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["passed"] is False and doc["failures"] > 0
    assert {c["verdict"] for c in doc["checks"]} >= {"pass", "fail"}
    assert all(c["reason"] for c in doc["checks"])


def test_cli_audit_prints_verdicts_in_words(tmp_path):  # type: ignore[no-untyped-def]
    bounds = ["--max-persistence", "1.0", "--min-impact-ratio", "0"]
    proc = _cli("audit", "financial-only", "--population", "5000", "--days", "30",
                "--out", str(tmp_path), *bounds)  # fmt: skip
    assert "passes" in proc.stdout
    assert "Traceback" not in proc.stderr


def _persistence_frame(value: float, low: float, high: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["bottom_decile_persistence"],
            "subject": [""],
            "grp": ["all"],
            "value": [value],
            "ci_low": [low],
            "ci_high": [high],
        }
    )


@pytest.mark.parametrize(
    ("value", "low", "high", "verdict", "words"),
    [
        (0.10, 0.10, 0.10, "pass", "at chance level"),  # nobody has a score: never "trapped"
        (0.115, 0.095, 0.135, "pass", "at chance level"),
        (0.30, 0.28, 0.32, "pass", "within 50% throughout"),
        (0.62, 0.58, 0.66, "fail", "above 50% throughout"),
        (0.53, 0.47, 0.59, "inconclusive", "straddles 50%"),
        (0.48, 0.42, 0.54, "inconclusive", "straddles 50%"),
    ],
)
def test_persistence_is_judged_against_chance_and_the_bound_with_its_interval(
    value: float, low: float, high: float, verdict: str, words: str
) -> None:
    check = audit._persistence_check(_persistence_frame(value, low, high), 0.5)
    assert check is not None
    assert check.verdict == verdict
    assert words in check.reason


def test_undefined_persistence_is_not_judged() -> None:
    assert audit._persistence_check(_persistence_frame(float("nan"), 0.1, 0.1), 0.5) is None


# -- the auditor's bounds: refused when no comparison could mean them, and fail-safe ----------

NAN = float("nan")


@pytest.mark.parametrize(
    ("bound", "value"),
    [
        ("max_sanction_ratio", NAN),
        ("max_sanction_ratio", float("inf")),
        ("max_sanction_ratio", 0.0),
        ("max_sanction_ratio", -3.0),
        ("min_impact_ratio", NAN),
        ("min_impact_ratio", -0.1),
        ("min_impact_ratio", 1.5),
        ("min_impact_ratio", float("-inf")),
        ("max_persistence", NAN),
        ("max_persistence", float("inf")),
        ("max_persistence", -0.1),
        ("max_persistence", 1.01),
        ("max_chilling", NAN),
        ("max_chilling", -0.05),
        ("max_chilling", 2.0),
        ("dispute_days", -1),
        ("expiry_days", float("inf")),
        ("association_tolerance", NAN),
        ("max_persistence", True),
        ("max_chilling", "0.05"),
    ],
)
def test_a_bound_no_comparison_could_mean_is_refused_by_name(bound: str, value: object) -> None:
    with pytest.raises(audit.ThresholdError, match=f"^{bound} must be a finite number") as caught:
        audit.Thresholds(**{bound: value})  # type: ignore[arg-type]
    assert caught.value.name == bound and "\n" not in str(caught.value)


def test_the_bounds_edges_that_mean_something_are_accepted() -> None:
    audit.Thresholds(
        max_sanction_ratio=1e-9,
        min_impact_ratio=0.0,  # no four-fifths line: every ratio passes
        max_persistence=0.0,
        max_chilling=1.0,
        dispute_days=0,
        association_tolerance=0.0,
    )
    audit.Thresholds(min_impact_ratio=1, max_persistence=1, max_chilling=0)  # whole numbers


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--max-sanction-ratio", "nan"),
        ("--max-sanction-ratio", "-1"),
        ("--min-impact-ratio", "-0.2"),
        ("--min-impact-ratio", "inf"),
        ("--max-persistence", "nan"),
        ("--max-persistence", "-0.5"),
        ("--max-chilling", "nan"),
        ("--max-chilling", "1.5"),
    ],
)
def test_cli_audit_refuses_a_bad_bound_in_one_line_before_running(
    tmp_path, option: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from socialscore import cli

    result = CliRunner().invoke(
        cli.app, ["audit", "citizen-score", option, value, "--out", str(tmp_path)]
    )
    assert result.exit_code == cli.EXIT_BAD_SCENARIO  # a usage error, not "the audit failed"
    assert result.stderr.startswith(f"Bad option {option}: ") and result.stderr.count("\n") == 1
    assert not any(tmp_path.iterdir())  # refused before anything ran or was stored


def _unchecked(**bounds: float) -> audit.Thresholds:
    """Thresholds holding bounds the constructor refuses (as a caller bypassing it would)."""
    t = audit.Thresholds()
    for name, value in bounds.items():
        object.__setattr__(t, name, value)
    return t


def test_a_nan_sanction_bound_never_turns_a_disproportion_into_a_pass():
    checks = audit.proportion_checks(regime(), _unchecked(max_sanction_ratio=NAN))
    assert checks and all(c.verdict == "fail" for c in checks)


def _persistence_frame(value: float, low: float, high: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["bottom_decile_persistence"],
            "subject": [""],
            "grp": ["all"],
            "value": [value],
            "ci_low": [low],
            "ci_high": [high],
        }
    )


def test_persistence_never_passes_on_a_nan_bound_or_a_nan_measure():
    trapped = _persistence_frame(0.6, 0.55, 0.65)  # well above chance (0.10)
    assert audit._persistence_check(trapped, 0.5).verdict == "fail"
    assert audit._persistence_check(trapped, 0.7).verdict == "pass"
    assert audit._persistence_check(trapped, NAN).verdict != "pass"
    no_interval = _persistence_frame(0.6, NAN, NAN)
    assert audit._persistence_check(no_interval, 0.5).verdict == "fail"
    assert audit._persistence_check(no_interval, NAN).verdict != "pass"
    assert audit._persistence_check(_persistence_frame(NAN, NAN, NAN), 0.5) is None


def test_chilling_never_passes_on_a_nan_measure_or_bound(monkeypatch):  # type: ignore[no-untyped-def]
    from socialscore.analysis import chilling

    sc = load("citizen-score").scenario.with_overrides(days=40)
    events = np.ones((40, len(CITIZEN_EVENTS), 2))
    frame = pd.DataFrame(columns=["metric", "subject", "grp", "value"])

    def judged(change: chilling.Change, t: audit.Thresholds) -> set[str]:
        monkeypatch.setattr(chilling, "counterfactual_change", lambda *_a, **_k: change)
        checks = audit.chilling_checks(sc, frame, events, events, t)
        return {c.verdict for c in checks if c.subject != "behaviour interaction_low_scorer"}

    small_drop = chilling.Change(-0.01, (-0.02, 0.0), 99.0, 100.0, 40)
    assert judged(small_drop, audit.Thresholds()) == {"pass"}
    assert "pass" not in judged(small_drop, _unchecked(max_chilling=NAN))
    for broken in ((NAN, (-0.02, 0.0)), (-0.01, (-0.02, NAN)), (-0.01, (NAN, 0.0))):
        change = chilling.Change(broken[0], broken[1], 99.0, 100.0, 40)
        assert "pass" not in judged(change, audit.Thresholds()), broken


def test_a_nan_association_tolerance_never_passes():
    from conftest import simulate, small

    sc = small("citizen-score", population=2_000, days=15)
    engine, _ = simulate(sc)
    scores = engine.state.score.astype(np.float64)
    assert (
        audit.association_check(sc, scores, _unchecked(association_tolerance=NAN)).verdict == "fail"
    )


def test_the_verdict_by_law_counts_every_check_once_and_says_it_in_words() -> None:
    from socialscore.analysis.audit import by_law

    pairs = [("A", "fail"), ("B", "pass"), ("A", "pass"), ("C", "not applicable")]
    pairs += [("B", "pass"), ("D", "inconclusive"), ("D", "pass"), ("E", "pass")]
    laws = by_law(pairs)
    assert [law.law for law in laws] == ["A", "B", "C", "D", "E"]
    assert sum(law.checks for law in laws) == 8
    words = {law.law: (law.verdict, law.words()) for law in laws}
    assert words["A"] == ("fail", "1 of 2 checks fail")
    assert words["B"] == ("pass", "all 2 applicable checks pass")
    assert words["C"] == ("not applicable", "its one check does not apply")
    assert words["D"] == ("inconclusive", "1 of 2 checks inconclusive, none fails")
    assert words["E"] == ("pass", "its one check passes")


def test_the_command_line_prints_the_verdict_by_law_before_the_details(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from socialscore import cli

    done = CliRunner().invoke(
        cli.app,
        ["audit", "citizen-score", "--population", "5k", "--days", "30", "--out", str(tmp_path)],
        env={"COLUMNS": "200"},
    )
    assert done.exit_code == 1, done.output
    lines = done.output.splitlines()
    first = next(k for k, line in enumerate(lines) if "citizen-score fails" in line)
    details = next(k for k, line in enumerate(lines) if "The checks one by one" in line)
    laws = next(k for k, line in enumerate(lines) if "GDPR Art. 22: human review" in line)
    assert first < laws < details
    assert first < 8  # within the first screen, after the progress line
    assert lines[first].strip() == lines[-1].strip()  # said again at the end
