"""How close the day loop is to this machine's memory bandwidth.

Measures streaming copy bandwidth (numpy, bytes read + written per second),
counts the bytes the kernels must move per citizen-day for the default regime
(from the state's actual array types), and prints the bandwidth bound in
citizen-days per second. Compare it with benchmarks/run_default.py.

    .venv/bin/python benchmarks/bandwidth.py
"""

from __future__ import annotations

import time

import numpy as np

from socialscore.scenario.files import load
from socialscore.simulation import nation
from socialscore.simulation.engine import Engine


def copy_bandwidth(n_bytes: int = 1 << 30, repeats: int = 5) -> float:
    """Best streaming copy rate, bytes moved (read + write) per second."""
    src = np.ones(n_bytes // 8, dtype=np.float64)
    dst = np.empty_like(src)
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = max(best, 2 * src.nbytes / (time.perf_counter() - t0))
    return best


def bytes_per_citizen_day(engine: Engine) -> dict[str, float]:
    """Bytes each daily pass must read and write per citizen (compulsory traffic)."""
    st, nat = engine.state, engine.nation
    n = nat.population
    per = {name: getattr(st, name).nbytes / n for name in st._fields if name != "company_acc"}
    per.update(
        {
            f"nation.{k}": v.nbytes / n
            for k, v in vars(nat).items()
            if isinstance(v, np.ndarray) and n in v.shape
        }
    )
    every = engine.scenario.network.every_days
    return {
        # behaviour: reads group, traits, feedback, flags, net; reads and writes accumulators
        # and erroneous points; writes both scores.
        "behaviour": per["nation.group"]
        + per["nation.traits"]
        + per["stress"]
        + per["chill"]
        + per["gaming"]
        + per["participant"]
        + per["net"]
        + 2 * per["acc"]
        + 2 * per["err_acc"]
        + per["score"]
        + per["score_clean"],
        # publish: the histogram comes from the behaviour pass; the low-ranked bits read the
        # published scores (the scores themselves with daily publication) and write one bit.
        "ranking": per["published"] + 1 / 8,
        # gates: reads group, two traits, children, scores, flags; reads and writes employer,
        # stress, chilling and gaming exposure.
        "gates": per["nation.group"]
        + 2 / 7 * per["nation.traits"]
        + per["nation.children"]
        + per["score"]
        + per["score_clean"]
        + per["aware"]
        + 2 * per["has_mortgage"]
        + 2 * (per["employer"] + per["stress"] + per["chill"] + per["gaming"]),
        # network (every few days): the friend lists, one score per friend, the term.
        "network": (per["friend_codes"] + 10 * 2 + per["net"]) / every,
    }


def main() -> None:
    sc = load("citizen-score").scenario.with_overrides(population=1_000_000, days=1)
    engine = Engine(sc, nation.generate(sc))
    parts = bytes_per_citizen_day(engine)
    total = sum(parts.values())
    bandwidth = copy_bandwidth()
    for name, value in parts.items():
        print(f"{name:10s} {value:6.1f} bytes per citizen-day")
    print(f"{'total':10s} {total:6.1f} bytes per citizen-day")
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write)")
    print(f"bandwidth bound: {bandwidth / total / 1e6:.0f} M citizen-days/s")


if __name__ == "__main__":
    main()
