"""Write the shipped scenario liu2018-delayed-impact.toml from fico_by_group.csv.

The scenario carries the data inline (scenario files are data, read without
this folder): each group's TransRisk score distribution and chance of
repayment at each of the 198 scores (mapped to 300-850 and rounded to whole
points, all distinct). Usage, from the repository's root:

    python data/liu2018-delayed-impact/make_scenario.py
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parents[1] / "src" / "socialscore" / "scenario" / "shipped"
TARGET = TARGET / "liu2018-delayed-impact.toml"

HEADER = '''\
# Liu, Dean, Rolf, Simchowitz and Hardt, "Delayed impact of fair machine
# learning" (ICML 2018) [doc: liu-2018], as a socialscore regime: one round of
# lending to two groups with the published TransRisk score distributions and
# chances of repayment (data/liu2018-delayed-impact/, written by its
# make_scenario.py). Every citizen applies on day 0; the lender approves by
# its policy; on day 1 each loan is repaid (+75 points) or defaults (-150),
# scores staying within 300-850. The measure is each group's mean score change
# from day 0 to day 1 (docs/validation.md). Change the policy with
# [gates.mortgage.policy] kind = "max_profit" | "demographic_parity" |
# "equal_opportunity" | "selection_rate" (with selection_rate = ...), and the
# lender's utilities with utility_repaid / utility_default.
# Everything is synthetic: a million made-up people drawn from published
# aggregate tables.

[scenario]
name = "liu2018-delayed-impact"
description = """One round of lending with the published TransRisk distributions and \\
repayment chances of two groups (Liu et al. 2018): +75 on repayment, -150 on default; \\
each group's mean score change under the lender's policy."""

[run]
population = 1_000_000       # [ill] large enough for 0.1-point means
days = 2                     # day 0 decisions, day 1 outcomes [dir: liu-2018]
seed = 2018                  # [ill]
citizens_per_company = 0     # no companies [ill]

[score]
scale = "TransRisk mapped to 300-850"
base = 600                   # [ill] unused: every citizen starts from the data
lo = 300                     # [doc: liu-2018]
hi = 850                     # [doc: liu-2018]
blacklist_below = 300        # no blacklist [ill]
saturating = true            # scores stay within 300-850 [doc: liu-2018]
grades = [{ name = "all", from = 300 }]  # [ill]

[participation]
mandatory_from_day = 0       # everyone is scored [ill]

[nation]
regions = 1                  # [ill] no geography in the model
minority_share = 0.120669    # Black share of Black and White applicants [doc: liu-2018]
exact_minority_count = true  # [ill]
minority_concentration = 0.0 # [ill]
minority_income_shift = 0.0  # [ill] no income in the model
friends_local = 0            # [ill] no friendships in the model
friends_distant = 0          # [ill]

[[rules]]
event = "loan_repaid"
points = 75                  # [doc: liu-2018]
label = "Loan repaid"
[[rules]]
event = "loan_arrears"
points = -150                # [doc: liu-2018]
label = "Loan defaulted"

[network]
enabled = false

[gates.mortgage]
apply_rate = 1.0             # everyone applies, every day [dir: liu-2018]
threshold = 300              # unused: the policy sets it [ill]
reapply = true
denial_stress = 0.0          # [ill]

[gates.mortgage.policy]
kind = "max_profit"          # [doc: liu-2018]
every_days = 1               # [ill]
utility_repaid = 1.0         # [doc: liu-2018]
utility_default = -4.0       # [doc: liu-2018]

[gates.job_hiring]
enabled = false
[gates.job_retention]
enabled = false
[gates.school]
enabled = false
[gates.dating]
enabled = false
[gates.documents]
enabled = false
[gates.travel]
enabled = false
[gates.public_contracts]
enabled = false

[feedback]
awareness = 0.0              # [ill] nobody changes behaviour
[data_errors]
rate = 0.0                   # [ill]
'''


def numbers(values: list[float], digits: int) -> str:
    """A TOML array, ten numbers a line, cited on its first line."""
    text = [f"{v:.{digits}f}" if digits else str(int(v)) for v in values]
    lines = [", ".join(text[k : k + 10]) for k in range(0, len(text), 10)]
    return "[  # [doc: liu-2018]\n  " + ",\n  ".join(lines) + ",\n]"


def main() -> None:
    with (HERE / "fico_by_group.csv").open() as f:
        rows = list(csv.DictReader(f))
    scores = [round(float(r["score_300_850"])) for r in rows]
    assert len(set(scores)) == len(scores), "two bins round to the same score"
    white = [float(r["pmf_White"]) for r in rows]
    black = [float(r["pmf_Black"]) for r in rows]
    repay_white = [float(r["p_repay_White"]) for r in rows]
    repay_black = [float(r["p_repay_Black"]) for r in rows]
    text = HEADER + f"""
# Each group's share at each score: the majority is White, the minority Black.
[score.initial]  # [doc: liu-2018]
scores = {numbers(scores, 0)}
majority = {numbers(white, 6)}
minority = {numbers(black, 6)}

# The chance of repayment at each score (1 - the share with bad performance).
[gates.mortgage.outcome]  # [doc: liu-2018]
after_days = 1               # [ill] the next day
success = "loan_repaid"
failure = "loan_arrears"
scores = {numbers(scores, 0)}
success_probability = {numbers(repay_white, 6)}
minority_success_probability = {numbers(repay_black, 6)}
"""
    TARGET.write_text(text)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
