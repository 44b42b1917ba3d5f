"""Rebuild clusters.csv from a fetched copy of google/ml-fairness-gym.

Usage:  python extract.py /path/to/ml-fairness-gym.git   (bare git dir or work tree)

Reads the two constants DELAYED_IMPACT_SUCCESS_PROBS and DELAYED_IMPACT_CLUSTER_PROBS
from environments/lending_params.py (parsed with `ast`, nothing executed) at
commit 38eaf4514062892e0c3ce5d7cff4b4c1a7e49242 and adds the stationary
distribution of the lend-to-all chain (repay: cluster+1, default: cluster-1,
clamped to [0, 6]), computed as the birth-death chain's detailed balance
p[c+1] / p[c] = s[c] / (1 - s[c+1]).
"""
import ast
import csv
import os
import subprocess
import sys

COMMIT = "38eaf4514062892e0c3ce5d7cff4b4c1a7e49242"
PATH = "environments/lending_params.py"


def read_source(repo):
    if os.path.isfile(os.path.join(repo, PATH)):
        with open(os.path.join(repo, PATH)) as f:
            return f.read()
    return subprocess.run(["git", "--git-dir", repo, "show", f"{COMMIT}:{PATH}"],
                          check=True, capture_output=True, text=True).stdout


def constants(src):
    out = {}
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("DELAYED_IMPACT_SUCCESS_PROBS", "DELAYED_IMPACT_CLUSTER_PROBS"):
                out[name] = ast.literal_eval(node.value)
    return out


def main(repo):
    c = constants(read_source(repo))
    s = c["DELAYED_IMPACT_SUCCESS_PROBS"]
    g1, g2 = c["DELAYED_IMPACT_CLUSTER_PROBS"]
    p = [1.0]
    for k in range(len(s) - 1):
        p.append(p[-1] * s[k] / (1.0 - s[k + 1]))
    tot = sum(p)
    p = [x / tot for x in p]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "clusters.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["cluster", "p_repay", "initial_share_group1", "initial_share_group2",
                    "lend_to_all_stationary_share"])
        for k in range(len(s)):
            w.writerow([k, s[k], g1[k], g2[k], f"{p[k]:.6f}"])


if __name__ == "__main__":
    main(sys.argv[1])
