"""Run ml-fairness-gym's FAT* 2020 lending experiment and dump the numbers behind Figs. 2-4.

Settings are those of experiments/acm_fat_2020/lending_experiments_main.py at commit
38eaf4514062892e0c3ce5d7cff4b4c1a7e49242 (seed 200, 20,000 steps, burnin 1,
interest_rate 1.0, bank_starting_cash 10000, cluster_shift_increment 0.01,
group_0_prob 0.5, oracle threshold agent).  This script only *calls* that code; it must
be run with PYTHONPATH pointing at a checkout of ml-fairness-gym (not part of this
project).  Compatibility edits needed on 2026 Python/NumPy (made in the scratch
checkout only, none changes the model):
  core.py: gym.utils.seeding replaced by gym 0.19.0's seeding.py (RandomState seeded from
           sha512 of the seed, as the original gym==0.19.0 pin did); 'import
           gym.utils.json_utils' and the recsim import removed; the observation-space
           assertion in FairnessEnv.step disabled (gym 0.26 dtype strictness);
  metrics/*.py: collections.Sequence -> collections.abc.Sequence.
Usage: python reference_run.py {maxutil|eo} SEED STEPS OUTDIR
Writes OUTDIR/<policy>_<seed>_<steps>.json.
"""
import json
import os
import sys

import numpy as np
from absl import flags
from experiments import lending

flags.FLAGS(["x", "--use_tqdm=false"])
SUCCESS = np.array([0.1, 0.2, 0.45, 0.6, 0.65, 0.7, 0.7])


def main(policy_name, seed, steps, outdir):
    policy = {"maxutil": lending.MAXIMIZE_REWARD,
              "eo": lending.EQUALIZE_OPPORTUNITY}[policy_name]
    r = lending.Experiment(
        cluster_probabilities=((0.0, 0.1, 0.1, 0.2, 0.3, 0.3, 0.0),
                               (0.1, 0.1, 0.2, 0.3, 0.3, 0.0, 0.0)),
        group_0_prob=0.5, interest_rate=1.0, bank_starting_cash=10000, seed=seed,
        num_steps=steps, burnin=1, cluster_shift_increment=0.01,
        include_cumulative_loans=True, return_json=False,
        threshold_policy=policy).run()
    rows = []
    for t, step in enumerate(r["environment"]["history"]):
        w = [np.array(c.weights, dtype=float)
             for c in step.state.params.applicant_distribution.components]
        rows.append([t] + [float(w[g] @ SUCCESS) for g in (0, 1)] + list(w[0]) + list(w[1]))
    loans = np.asarray(r["metric_results"]["cumulative_loans"])
    thr = {str(int(np.argmax(g))): [float(v.smoothed_value()) for v in h]
           for g, h in r["agent"]["threshold_history"].items()}
    out = dict(policy=policy_name, seed=seed, steps=steps,
               initial=r["metric_results"]["initial_credit_distribution"],
               final=r["metric_results"]["final_credit_distributions"],
               recall=r["metric_results"]["recall"],
               precision=r["metric_results"]["precision"],
               profit_rate=r["metric_results"]["profit rate"],
               mu=rows[::100] + [rows[-1]], cum_loans_final=loans[:, -1].tolist(),
               cum_loans=loans[:, ::100].tolist(),
               thresholds={k: v[::100] for k, v in thr.items()})
    path = os.path.join(outdir, "%s_%d_%d.json" % (policy_name, seed, steps))
    with open(path, "w") as f:
        json.dump(out, f, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
