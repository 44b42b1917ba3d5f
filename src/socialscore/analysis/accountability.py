"""The audit asks what courts now ask: can a refusal be explained, and who decided?

Two checks read the decision trails of the run's story pool (the citizens
whose days every run keeps, :mod:`socialscore.studies.explain`):

- **Counterfactual explanation** (CJEU C-203/22, Dun & Bradstreet Austria): for
  each gate, is there for every sampled adverse decision an explanation the
  person could act on — the fewest of their own penalties, or an erroneous
  record to dispute, whose absence would have changed it — and does acting on
  it flip the decision, both when the gate's score is rebuilt without them and,
  for a sample, when the run is replayed with the record so changed on the day
  and the gate kernel decides again (:mod:`socialscore.studies.flips`)? A gate
  whose adverse decisions turn on friends' scores or on the ranking of others
  fails, in words.
- **The scorer decides** (CJEU C-634/21, SCHUFA): the operator that computes the
  score a gate reads is named, with the share of the gate's decisions the
  score determined (changing only the score would have changed them). When it
  determines most of them, computing the score is itself an automated
  decision under GDPR Art. 22: the check fails unless the gate gives reasons
  and a person reviews denials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from socialscore.analysis.audit import Check, enabled_gates, reads_nothing
from socialscore.analysis.disparity import Verdict
from socialscore.scenario.schema import Scenario
from socialscore.scenario.window import Window

if TYPE_CHECKING:
    from socialscore.analysis.trails import Decision, Trail

LAW_EXPLANATION: Final = (
    "CJEU C-203/22 (Dun & Bradstreet): an explanation that changes the decision"
)
LAW_SCORER: Final = "CJEU C-634/21 (SCHUFA): the scorer is an automated decision-maker"
#: The share of a gate's decisions the score must determine for the score to draw "strongly".
STRONGLY: Final = 0.5


def _gates(scenario: Scenario) -> list[str]:
    """Citizen gates that take decisions and read the score."""
    return [g for g in enabled_gates(scenario) if not reads_nothing(scenario, g)]


def _scorer(scenario: Scenario, gate: str) -> str:
    """The operator whose score the gate reads, in words."""
    reads = getattr(scenario.gates, gate).reads or scenario.public_operator()
    return f"the operator '{reads}'" if reads else "the operator of the public score"


def _decisions(trails: Sequence[Trail], gate: str, window: Window) -> list[Decision]:
    """The trails' decisions at ``gate`` over the measurement window."""
    return [
        d
        for t in trails
        for d in t.decisions
        if d.gate == gate and window.start <= d.day <= window.end
    ]


def explanation_checks(
    scenario: Scenario,
    trails: Sequence[Trail],
    window: Window,
    replayed: Mapping[tuple[int, int, str], bool] | None = None,
) -> list[Check]:
    """C-203/22: every sampled adverse decision has an own-conduct explanation that flips it.

    ``replayed``: for a sample of those decisions, keyed (citizen, day, gate),
    whether acting on the explanation flipped the decision when the run was
    replayed with the record edited on that day (:mod:`socialscore.studies.flips`).
    """
    out = []
    citizen_of = {id(d): t.citizen for t in trails for d in t.decisions}
    replayed = replayed or {}
    for gate in _gates(scenario):
        adverse = [d for d in _decisions(trails, gate, window) if not d.favourable]
        subject = f"gate {gate}"
        if not adverse:
            out.append(
                Check(
                    LAW_EXPLANATION,
                    subject,
                    "not applicable",
                    f"no adverse decision among the {len(trails):,} citizens whose trails were "
                    "kept.",
                )
            )
            continue
        stated = [d for d in adverse if d.act is not None]
        rebuilt_wrong = [d for d in stated if not d.flips]
        tried = [
            replayed[key] for d in stated if (key := (citizen_of[id(d)], d.day, d.gate)) in replayed
        ]
        replay_wrong = tried.count(False)
        beyond = len(adverse) - len(stated)
        replay_words = (
            f"; {_count(len(tried), 'of them was', 'of them were')} replayed with the record "
            f"so changed on the day and the gate itself decided again: "
            f"{len(tried) - replay_wrong:,} flipped"
            if tried
            else "; none was replayed"
        )
        if not beyond and not rebuilt_wrong and not replay_wrong:
            out.append(
                Check(
                    LAW_EXPLANATION,
                    subject,
                    "pass",
                    f"{'the one' if len(adverse) == 1 else f'each of the {len(adverse):,}'} "
                    f"adverse decision{'s' if len(adverse) > 1 else ''} sampled has an explanation "
                    "in the person's own record (penalties, or an erroneous record to dispute) "
                    "whose absence, rebuilt into the gate's score, flips the decision"
                    + replay_words
                    + ".",
                    1.0,
                )
            )
            continue
        parts = []
        if beyond:
            why = (
                "matches are refused by rank against everyone and by the partner drawn"
                if gate == "dating"
                else "they turn on friends' scores, the record from before the run or a "
                "threshold out of reach"
            )
            parts.append(
                f"{beyond:,} of the {len(adverse):,} adverse decisions sampled could not have "
                f"been changed by anything in the person's own conduct ({why})"
            )
        if rebuilt_wrong:
            parts.append(
                f"{len(rebuilt_wrong):,} explanations did not flip the decision when rebuilt "
                "into the gate's score"
            )
        if replay_wrong:
            parts.append(
                f"{replay_wrong:,} of {len(tried):,} explanations replayed did not flip the "
                "decision when acted on"
            )
        flipped = len(stated) - len(rebuilt_wrong)
        out.append(
            Check(
                LAW_EXPLANATION,
                subject,
                "fail",
                "; ".join(parts) + replay_words + ".",
                flipped / len(adverse),
            )
        )
    return out


def _count(n: int, one: str, many: str) -> str:
    """``n`` with the words that agree with it: "1 of them was", "3 of them were"."""
    return f"{n:,} {one if n == 1 else many}"


def scorer_checks(scenario: Scenario, trails: Sequence[Trail], window: Window) -> list[Check]:
    """C-634/21: name the scorer and the share of each gate's decisions its score determined."""
    out = []
    for gate in _gates(scenario):
        decided = _decisions(trails, gate, window)
        subject = f"gate {gate}"
        scorer = _scorer(scenario, gate)
        if not decided:
            out.append(
                Check(
                    LAW_SCORER,
                    subject,
                    "not applicable",
                    f"no decision among the {len(trails):,} citizens whose trails were kept.",
                )
            )
            continue
        share = sum(d.score_decided for d in decided) / len(decided)
        spec = getattr(scenario.gates, gate)
        safeguarded = bool(getattr(spec, "human_review", False) and getattr(spec, "reasons", False))
        said = (
            f"{scorer} computes the score this gate reads; it determined {share:.0%} of the "
            f"{len(decided):,} decisions sampled (changing only the score would have changed them)"
        )
        verdict: Verdict
        if share < STRONGLY:
            verdict, words = "pass", f"{said}: the score does not draw strongly on the decision."
        elif safeguarded:
            verdict = "pass"
            words = (
                f"{said}: computing the score is an automated decision (GDPR Art. 22), made "
                "with its safeguards here: reasons and human review of denials."
            )
        else:
            verdict = "fail"
            words = (
                f"{said}: computing the score is itself an automated decision under GDPR "
                "Art. 22, with no "
                + (
                    "reasons and no human review"
                    if not getattr(spec, "reasons", False)
                    and not getattr(spec, "human_review", False)
                    else "reasons"
                    if not getattr(spec, "reasons", False)
                    else "human review"
                )
                + (
                    f". Fix: gates.{gate}.reasons = true and gates.{gate}.human_review = true."
                    if gate != "dating"
                    else "."
                )
            )
        out.append(Check(LAW_SCORER, subject, verdict, words, share))
    return out
