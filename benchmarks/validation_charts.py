"""The charts of docs/validation.md: each published figure beside the engine's.

Liu et al. (2018): the minority's (Black) expected score change against its
selection rate, as published (data/liu2018-delayed-impact/outcome_curves.csv)
and as the engine measures it (one round of ``liu2018-delayed-impact`` at
each selection rate), with the three policies of the paper marked.
D'Amour et al. (2020): each group's mean chance of repayment over 20,000
steps, the authors' run (data/damour2020-lending/reference_seed200_series.csv)
beside the engine's (mean of seeds 1-4), for maximum profit and equal
opportunity. Writes docs/validation/*.svg (plain SVG: it shows in any
browser and on the repository's web pages). Usage:

    .venv/bin/python benchmarks/validation_charts.py [--population 1000000]
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "liu2018-delayed-impact"
OUT = ROOT / "docs" / "validation"

#: Chart area in pixels: width, height, margins (left, right, top, bottom).
W, H, ML, MR, MT, MB = 720, 420, 70, 20, 40, 60


def published_curve(group: str = "Black") -> list[tuple[float, float]]:
    """(selection rate, expected score change) of the published curve, in rate order."""
    with (DATA / "outcome_curves.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["group"] == group]
    points = sorted((float(r["selection_rate"]), float(r["expected_score_change"])) for r in rows)
    return points


def svg_chart(
    lines: Sequence[
        tuple[str, str, list[tuple[float, float]]] | tuple[str, str, list[tuple[float, float]], str]
    ],
    dots: Sequence[tuple[str, str, list[tuple[float, float]]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    from_zero: bool = True,
) -> str:
    """A line chart: ``lines`` and ``dots`` are (label, colour, points); a legend in words.

    The y axis includes 0 when ``from_zero``; the legend sits under the
    chart, where it can hide no line.
    """
    xs = [x for line in [*lines, *dots] for x, _ in line[2]]
    ys = [y for line in [*lines, *dots] for _, y in line[2]]
    x0, x1 = 0.0, nice_step(max(1.0, max(xs)) / 10) * 10
    y0, y1 = min(ys), max(ys)
    if from_zero:
        y0, y1 = min(0.0, y0), max(0.0, y1)
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad

    def px(x: float) -> float:
        return ML + (x - x0) / (x1 - x0) * (W - ML - MR)

    def py(y: float) -> float:
        return MT + (y1 - y) / (y1 - y0) * (H - MT - MB)

    rows = len(lines) + len(dots)
    height = H + 18 * rows + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
        f'viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{height}" fill="white"/>',
        f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
        f'<line x1="{px(x0)}" y1="{py(0)}" x2="{px(x1)}" y2="{py(0)}" stroke="#999"/>',
        f'<line x1="{ML}" y1="{MT}" x2="{ML}" y2="{H - MB}" stroke="#333"/>',
        f'<line x1="{ML}" y1="{H - MB}" x2="{W - MR}" y2="{H - MB}" stroke="#333"/>',
    ]
    for k in range(11):
        x = x0 + k * (x1 - x0) / 10
        words = f"{x:.1f}" if x1 <= 1.0 else f"{x:,.0f}"
        out.append(f'<text x="{px(x):.1f}" y="{H - MB + 16}" text-anchor="middle">{words}</text>')
    step = nice_step((y1 - y0) / 10)
    k = int(y0 / step) - 1
    while k * step <= y1:
        y = k * step
        if y >= y0:
            out.append(
                f'<text x="{ML - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.4g}</text>'
                f'<line x1="{ML - 3}" y1="{py(y):.1f}" x2="{ML}" y2="{py(y):.1f}" stroke="#333"/>'
            )
        k += 1
    out.append(f'<text x="{(ML + W - MR) / 2}" y="{H - 18}" text-anchor="middle">{x_label}</text>')
    out.append(
        f'<text x="16" y="{(MT + H - MB) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(MT + H - MB) / 2})">{y_label}</text>'
    )
    legend_y = H + 4
    for line in lines:
        label, colour, pts = line[0], line[1], line[2]
        dash = f' stroke-dasharray="{line[3]}"' if line[3] else ""
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        out.append(
            f'<line x1="{ML}" y1="{legend_y}" x2="{ML + 24}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{ML + 30}" y="{legend_y + 4}">{label}</text>'
        )
        legend_y += 18
    for k, (label, colour, pts) in enumerate(dots):
        # The first series hollow and larger, so a series on top of it leaves it visible.
        mark = (
            f'r="7" fill="none" stroke="{colour}" stroke-width="2"'
            if k == 0
            else (f'r="4" fill="{colour}"')
        )
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" {mark}/>')
        out.append(
            f'<circle cx="{ML + 12}" cy="{legend_y}" {mark}/>'
            f'<text x="{ML + 30}" y="{legend_y + 4}">{label}</text>'
        )
        legend_y += 18
    out.append("</svg>")
    return "\n".join(out) + "\n"


def nice_step(rough: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``rough``."""
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))


def damour_published(policy: str) -> list[tuple[int, float, float]]:
    """The authors' run: (step, group 1's, group 2's mean chance of repayment)."""
    name = {"max_profit": "maxutil", "equal_opportunity": "eo"}[policy]
    with (ROOT / "data" / "damour2020-lending" / "reference_seed200_series.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["policy"] == name]
    return [
        (int(r["step"]), float(r["mean_p_repay_group1"]), float(r["mean_p_repay_group2"]))
        for r in rows
    ]


def damour_charts() -> None:
    """Each group's mean chance of repayment over time, the authors' run beside ours."""
    from socialscore.studies.validation import lending_dynamics

    for policy, words in (
        ("max_profit", "maximum profit"),
        ("equal_opportunity", "equal opportunity"),
    ):
        runs = [lending_dynamics(policy, seed=s, every=100) for s in (1, 2, 3, 4)]  # type: ignore[arg-type]
        days = [d for d, _, _ in runs[0].series]
        ours = [
            [(d, sum(r.series[k][1 + g] for r in runs) / len(runs)) for k, d in enumerate(days)]
            for g in (0, 1)
        ]
        theirs = damour_published(policy)
        svg = svg_chart(
            [
                ("group 1, authors' run", "#1f77b4", [(d, a) for d, a, _ in theirs], "6 4"),
                ("group 1, socialscore (4 seeds)", "#1f77b4", ours[0], ""),
                ("group 2, authors' run", "#ff7f0e", [(d, b) for d, _, b in theirs], "6 4"),
                ("group 2, socialscore (4 seeds)", "#ff7f0e", ours[1], ""),
            ],
            [],
            title=f"D'Amour et al. (2020), {words}: mean chance of repayment",
            x_label="step (one applicant a day)",
            y_label="mean chance of repayment",
            from_zero=False,
        )
        path = OUT / f"damour2020-{policy.replace('_', '-')}.svg"
        path.write_text(svg)
        print(f"wrote {path}")


def ensign_charts(seeds: int = 40) -> None:
    """Region A's mean share of the patrols over 1,000 days, ours beside the authors' runs."""
    import numpy as np

    from socialscore.scenario.files import load
    from socialscore.studies import feedback_validation as fv

    base = load(fv.ENSIGN_SCENARIO).scenario
    for name, words in (("top2", "Top1 vs Top2"), ("random", "Top1 vs a Random region")):
        lines: list[tuple[str, str, list[tuple[float, float]], str]] = []
        dots = []
        for fix, colour, how in (
            ("nofix", "#d62728", "no correction"),
            ("fix", "#2ca02c", "with the correction"),
        ):
            config = f"{name}_{fix}"
            runs = np.array([fv.shares_of_a(fv.configured(config, s, base)) for s in range(seeds)])
            mean = runs.mean(axis=0)
            lines.append(
                (
                    f"socialscore, {how} ({seeds} seeds)",
                    colour,
                    [(d + 1, float(m)) for d, m in enumerate(mean)],
                    "",
                )
            )
            reference = [(d, m) for d, (m, _) in zip(fv.DAYS, fv.REFERENCE[config], strict=True)]
            dots.append((f"the authors' code, {how} (1,000 runs)", colour, reference))
        truth = fv.CONFIGS[f"{name}_fix"].true_share
        lines.append(
            (
                f"true share of incidents ({truth:.4f})",
                "#555555",
                [(0, truth), (1000, truth)],
                "6 4",
            )
        )
        svg = svg_chart(
            lines,
            dots,
            title=f"Ensign et al. (2018), {words}: region A's share of the patrols",
            x_label="day",
            y_label="share of region A",
            from_zero=False,
        )
        path = OUT / f"ensign2018-{name}.svg"
        path.write_text(svg)
        print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("liu2018", "damour2020", "ensign2018"), default=None)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "ensign2018"):
        ensign_charts()
    if args.only in (None, "damour2020"):
        damour_charts()
    if args.only not in (None, "liu2018"):
        return

    from socialscore.studies.validation import LIU_POLICIES, lending_round

    rates = [0.05 * k for k in range(1, 20)] + [0.999]
    ours = []
    for r in rates:
        got = lending_round("selection_rate", selection_rate=r, population=args.population)
        ours.append((got.selection_rate[1], got.score_change[1]))
        print(f"selection rate {r:.3f}: minority {got.selection_rate[1]:.4f}, "
              f"mean change {got.score_change[1]:+.2f}")  # fmt: skip
    policies = [p for p in LIU_POLICIES if p.utility_default == -4.0]
    published_marks = [(p.selection_rate[1], p.score_change[1]) for p in policies]
    our_marks = []
    for p in policies:
        got = lending_round(p.policy, utility_default=-4.0, population=args.population)
        our_marks.append((got.selection_rate[1], got.score_change[1]))
        print(f"{p.policy}: minority {got.selection_rate[1]:.4f}, {got.score_change[1]:+.2f} "
              f"(published {p.selection_rate[1]:.4f}, {p.score_change[1]:+.2f})")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    svg = svg_chart(
        [
            ("published (Liu et al. 2018 data)", "#1f77b4", published_curve(), ""),
            ("socialscore, one round", "#d62728", ours, ""),
        ],
        [
            ("policies, published (u = -4, 1)", "#1f77b4", published_marks),
            ("policies, socialscore", "#d62728", our_marks),
        ],
        title="Black group: expected score change against selection rate",
        x_label="selection rate of the group",
        y_label="mean score change (points)",
    )
    (OUT / "liu2018-outcome-curve.svg").write_text(svg)
    print(f"wrote {OUT / 'liu2018-outcome-curve.svg'}")


if __name__ == "__main__":
    main()
