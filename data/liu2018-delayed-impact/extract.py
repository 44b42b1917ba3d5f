"""Build the Liu et al. (ICML 2018) validation tables from the raw FICO/TransRisk files.

Independent re-implementation (no code copied) of the one-step model described in
Liu, Dean, Rolf, Simchowitz, Hardt, "Delayed Impact of Fair Machine Learning",
ICML 2018, and set up as in the notebook notebooks/FICO-figures.ipynb of
github.com/lydiatliu/delayedimpact (commit 94dde74bdeb192e109995874a3cbbd76dba5af58):
groups Black (A, disadvantaged) and White (B); score change +75 on repayment,
-150 on default, clipped to [300, 850]; bank utilities (u-, u+) = (-4, 1) and (-10, 1).

Reads raw/*.csv (verbatim copies of fairmlbook's data files, see README.md),
writes:
  fico_by_group.csv        score grid, pmf and repayment probability per group
  outcome_curves.csv       expected score change vs selection rate, both groups
  policy_targets.csv       MaxUtil / DemParity / EqOpt selection rates and the
                           resulting expected score change of each group
  outcome_curve_summary.csv  peak and zero crossing of each group's outcome curve

Run:  python extract.py   (needs numpy only)
"""
import csv
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = os.path.join(HERE, "raw")

GROUPS = ["Black", "White", "Hispanic", "Asian"]
RAW_NAMES = {"Non- Hispanic white": "White", "Black": "Black",
             "Hispanic": "Hispanic", "Asian": "Asian"}
IMPACT_REPAY, IMPACT_DEFAULT = 75.0, -150.0
BOUNDS = (300.0, 850.0)
UTILITIES = {"u-4": (-4.0, 1.0), "u-10": (-10.0, 1.0)}   # (u_default, u_repay)

# Knots of the TransRisk-percentile -> 300..850 conversion used by
# delayedimpact/fico.py (convert_percentiles): share (%) of the population in
# each 50-point band starting at the given score.  Stored also as
# percentile_to_score_knots.csv.
KNOTS = [(300, 2.1), (350, 4.2), (400, 5.4), (450, 6.5), (500, 7.9),
         (550, 9.6), (600, 12.0), (650, 13.8), (700, 17.0), (750, 15.8),
         (800, 5.7), (850, 0.0)]


def read_table(name):
    with open(os.path.join(RAW, name), newline="") as f:
        rows = list(csv.reader(f))
    header = [RAW_NAMES.get(h, h) for h in rows[0]]
    data = np.array([[float(x) for x in r] for r in rows[1:]])
    return header, data


def to_300_850(p):
    """Piecewise-linear map of the TransRisk score (0..100, a percentile) to 300..850."""
    cum = np.concatenate([[0.0], np.cumsum([s for _, s in KNOTS[:-1]])])
    vals = np.array([v for v, _ in KNOTS], dtype=float)
    return np.interp(p, cum, vals)


def expected_move(score, repay):
    target = score + repay * IMPACT_REPAY + (1 - repay) * IMPACT_DEFAULT
    return np.clip(target, *BOUNDS) - score


def fill_from_top(pmf, rate):
    """Lending vector that accepts the top `rate` mass (randomised at the margin)."""
    lend = np.zeros_like(pmf)
    left = rate
    for i in range(len(pmf) - 1, -1, -1):
        if pmf[i] <= 0:
            lend[i] = 1.0 if left > 0 else 0.0
            continue
        take = min(1.0, left / pmf[i]) if left > 0 else 0.0
        lend[i] = take
        left -= take * pmf[i]
        if left <= 1e-15:
            break
    return lend


def tpr_to_rate(pmf, repay, tpr):
    """Selection rate (top-down) at which the group's true positive rate equals tpr."""
    good = pmf * repay
    total = good.sum()
    acc_good, acc_rate = 0.0, 0.0
    for i in range(len(pmf) - 1, -1, -1):
        if acc_good + good[i] >= tpr * total - 1e-15:
            frac = 0.0 if good[i] <= 0 else (tpr * total - acc_good) / good[i]
            return acc_rate + max(0.0, min(1.0, frac)) * pmf[i]
        acc_good += good[i]
        acc_rate += pmf[i]
    return acc_rate


def profit(pmf, repay, lend, be):
    # proportional to u+ P(repay) + u- P(default) of the accepted mass
    return float(np.sum((repay - be) * lend * pmf))


def main():
    hdr_c, cdf_t = read_table("transrisk_cdf_by_race_ssa.csv")
    hdr_p, perf_t = read_table("transrisk_performance_by_race_ssa.csv")
    assert hdr_c[0] == "Score" and hdr_p[0] == "Score"
    assert np.allclose(cdf_t[:, 0], perf_t[:, 0])
    transrisk = cdf_t[:, 0]
    score = to_300_850(transrisk)
    cdf = {g: cdf_t[:, hdr_c.index(g)] / 100.0 for g in GROUPS}
    repay = {g: 1.0 - perf_t[:, hdr_p.index(g)] / 100.0 for g in GROUPS}
    pmf = {g: np.diff(np.concatenate([[0.0], cdf[g]])) for g in GROUPS}
    with open(os.path.join(RAW, "totals.csv")) as f:
        rows = list(csv.reader(f))
    totals = {RAW_NAMES.get(h, h): float(v) for h, v in zip(rows[0][1:], rows[1][1:])}
    size = np.array([totals["Black"], totals["White"]])
    share = size / size.sum()

    with open(os.path.join(HERE, "fico_by_group.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["transrisk_score", "score_300_850"]
                   + [f"pmf_{g}" for g in GROUPS] + [f"cdf_{g}" for g in GROUPS]
                   + [f"p_repay_{g}" for g in GROUPS])
        for i in range(len(score)):
            w.writerow([f"{transrisk[i]:g}", f"{score[i]:.4f}"]
                       + [f"{pmf[g][i]:.6f}" for g in GROUPS]
                       + [f"{cdf[g][i]:.6f}" for g in GROUPS]
                       + [f"{repay[g][i]:.6f}" for g in GROUPS])

    move = {g: expected_move(score, repay[g]) for g in ("Black", "White")}

    # Outcome curves: accept from the top score down; one point per score bin.
    curves = {}
    for g in ("Black", "White"):
        p = pmf[g][::-1]
        rate = np.concatenate([[0.0], np.cumsum(p)])
        dmu = np.concatenate([[0.0], np.cumsum(p * move[g][::-1])])
        curves[g] = (rate, dmu)
    with open(os.path.join(HERE, "outcome_curves.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "threshold_score_300_850", "selection_rate", "expected_score_change"])
        for g in ("Black", "White"):
            rate, dmu = curves[g]
            thr = np.concatenate([[850.0], score[::-1]])
            for t, r, d in zip(thr, rate, dmu):
                w.writerow([g, f"{t:.4f}", f"{r:.6f}", f"{d:.6f}"])

    summary = []
    for g in ("Black", "White"):
        rate, dmu = curves[g]
        k = int(np.argmax(dmu))
        # first downward zero crossing after the peak, linear between bins
        zc = None
        for j in range(k, len(dmu) - 1):
            if dmu[j] > 0 >= dmu[j + 1]:
                zc = rate[j] + (rate[j + 1] - rate[j]) * dmu[j] / (dmu[j] - dmu[j + 1])
                zc_score = score[::-1][j] if j < len(score) else score[0]
                break
        summary.append([g, f"{rate[k]:.4f}", f"{dmu[k]:.3f}", f"{score[::-1][k-1] if k > 0 else 850:.1f}",
                        "" if zc is None else f"{zc:.4f}", "" if zc is None else f"{zc_score:.1f}",
                        f"{dmu[-1]:.3f}"])
    with open(os.path.join(HERE, "outcome_curve_summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "peak_selection_rate", "peak_expected_score_change",
                    "peak_threshold_score", "zero_crossing_selection_rate",
                    "zero_crossing_threshold_score", "expected_score_change_lend_to_all"])
        w.writerows(summary)

    # Policies.
    gA, gB = "Black", "White"
    out = []
    for tag, (u_def, u_rep) in UTILITIES.items():
        be = u_def / (u_def - u_rep)   # break-even repayment probability
        res = {}
        # MaxUtil: accept every score whose repayment probability >= break-even.
        lend = {g: (repay[g] >= be).astype(float) for g in (gA, gB)}
        res["MaxUtil"] = {g: float(np.sum(lend[g] * pmf[g])) for g in (gA, gB)}
        # DemParity: common selection rate; profit is piecewise linear in the rate,
        # so the optimum is at a breakpoint of either group's cumulative mass.
        cands = np.unique(np.concatenate([np.cumsum(pmf[g][::-1]) for g in (gA, gB)] + [[0.0, 1.0]]))
        best = max(cands, key=lambda r: sum(share[i] * profit(pmf[g], repay[g], fill_from_top(pmf[g], r), be)
                                            for i, g in enumerate((gA, gB))))
        res["DemParity"] = {gA: float(best), gB: float(best)}
        # EqOpt: common true positive rate; optimum at a breakpoint of either group's TPR.
        tcands = [0.0, 1.0]
        for g in (gA, gB):
            good = (pmf[g] * repay[g])[::-1]
            tcands += list(np.cumsum(good) / good.sum())
        def eo_profit(t):
            return sum(share[i] * profit(pmf[g], repay[g], fill_from_top(pmf[g], tpr_to_rate(pmf[g], repay[g], t)), be)
                       for i, g in enumerate((gA, gB)))
        tbest = max(np.unique(np.clip(tcands, 0, 1)), key=eo_profit)
        res["EqOpt"] = {g: tpr_to_rate(pmf[g], repay[g], tbest) for g in (gA, gB)}
        for pol, rates in res.items():
            row = [tag, f"{u_def:g}", f"{u_rep:g}", f"{be:.6f}", pol]
            for g in (gA, gB):
                lendv = fill_from_top(pmf[g], rates[g])
                dmu = float(np.sum(lendv * pmf[g] * move[g]))
                row += [f"{rates[g]:.4f}", f"{dmu:.3f}"]
            out.append(row)
    with open(os.path.join(HERE, "policy_targets.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["utility_setting", "u_default", "u_repay", "break_even_p_repay", "policy",
                    "selection_rate_Black", "expected_score_change_Black",
                    "selection_rate_White", "expected_score_change_White"])
        w.writerows(out)

    with open(os.path.join(HERE, "percentile_to_score_knots.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["band_start_score", "percent_of_population_in_band"])
        for v, s in KNOTS:
            w.writerow([v, s])
    with open(os.path.join(HERE, "group_sizes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "ssa_count", "share_of_black_plus_white"])
        for g in GROUPS:
            sh = totals[g] / size.sum() if g in ("Black", "White") else ""
            w.writerow([g, int(totals[g]), f"{sh:.6f}" if sh != "" else ""])


if __name__ == "__main__":
    main()
