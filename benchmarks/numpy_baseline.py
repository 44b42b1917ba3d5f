"""The benchmark regime written by hand, as a competent numpy user would.

Arrays and ``np.random.Generator``, vectorised per day, float32 state and
preallocated buffers; no numba. It implements exactly the regime of
``src/socialscore/scenario/shipped/benchmark.toml`` (see the speed-and-scale issue) and is used
twice: as the yardstick the engine's speed is divided by, and as an
independent implementation the engine must agree with statistically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

BASE = np.array([0.03, 0.004, 0.05, 0.01, 0.01, 0.02], dtype=np.float32)
POINTS = np.array([5, -20, -10, -15, -15, 3], dtype=np.float32)
BILL_LATE, FLAGGED_BOOK, FLAGGED_PLACE = 1, 3, 4
DECAY = np.float32(0.5 ** (1 / 90))
LO, HI, START = 350, 950, 600


@dataclass
class BaselineResult:
    """What the baseline records, plus its timing."""

    mean_score: np.ndarray  # per day
    group_mean_score: np.ndarray  # [day, group]
    blacklisted_share: np.ndarray  # per day
    mortgage_applied: np.ndarray  # [day, group]
    mortgage_approved: np.ndarray  # [day, group]
    travel_blocked: np.ndarray  # [day, group]
    score_hist: np.ndarray  # [day, score - LO]: the scores the day's gates read
    seconds: float  # day loop only


def make_friends(rng: np.random.Generator, region: np.ndarray, n: int) -> np.ndarray:
    """10 distinct friends per citizen: 8 in its own region, 2 anywhere, no self-links."""
    lo = (region * n + 99) // 100  # first id of each citizen's region
    hi = ((region + 1) * n + 99) // 100
    ids = np.arange(n)
    friends = np.empty((n, 10), dtype=np.int32)
    todo = ids
    while todo.size:
        width = hi[todo] - lo[todo]
        local = lo[todo, None] + (rng.random((todo.size, 8)) * width[:, None]).astype(np.int64)
        distant = rng.integers(0, n, size=(todo.size, 2))
        cand = np.concatenate([local, distant], axis=1)
        s = np.sort(cand, axis=1)
        bad = (s[:, 1:] == s[:, :-1]).any(axis=1) | (cand == todo[:, None]).any(axis=1)
        friends[todo[~bad]] = cand[~bad]
        todo = todo[bad]
    return friends


def simulate(n: int, days: int, seed: int) -> BaselineResult:
    """Run the benchmark regime on ``n`` citizens for ``days`` days."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    region = ids * 100 // n
    group = np.zeros(n, dtype=np.int64)
    group[rng.choice(n, size=n // 10, replace=False)] = 1
    p = BASE * rng.uniform(0.5, 1.5, size=(n, 6)).astype(np.float32)
    p[group == 1, BILL_LATE] *= 2
    friends = make_friends(rng, region, n)

    acc = np.zeros((n, 6), dtype=np.float32)
    net = np.zeros(n, dtype=np.float32)
    score = np.full(n, START, dtype=np.int64)
    u = np.empty((n, 6), dtype=np.float32)
    u1 = np.empty(n, dtype=np.float32)
    fired = np.empty((n, 6), dtype=bool)
    raw = np.empty(n, dtype=np.float32)

    mean_score = np.zeros(days)
    group_mean = np.zeros((days, 2))
    group_size = np.bincount(group, minlength=2)
    blacklisted = np.zeros(days)
    applied = np.zeros((days, 2), dtype=np.int64)
    approved = np.zeros((days, 2), dtype=np.int64)
    blocked = np.zeros((days, 2), dtype=np.int64)
    score_hist = np.zeros((days, HI - LO + 1), dtype=np.int64)

    t0 = time.perf_counter()
    for day in range(days):
        if day % 7 == 0:
            net[:] = 0.1 * (score[friends].mean(axis=1) - START)
        acc *= DECAY
        rng.random(out=u, dtype=np.float32)
        np.less(u, p, out=fired)
        acc += fired * POINTS
        np.sum(acc, axis=1, out=raw)
        raw += START + net
        score = np.clip(np.floor(raw + 0.5), LO, HI).astype(np.int64)
        hist = np.bincount(score - LO, minlength=HI - LO + 1)
        score_hist[day] = hist
        below = np.concatenate([[0], np.cumsum(hist)[:-1]])
        percentile = below[score - LO] / n  # the public ranking, published daily
        del percentile
        rng.random(out=u1, dtype=np.float32)
        apply = u1 < 0.001
        ok = apply & (score >= 520)
        applied[day] = np.bincount(group[apply], minlength=2)
        approved[day] = np.bincount(group[ok], minlength=2)
        black = score < 450
        rng.random(out=u1, dtype=np.float32)
        travel = black & (u1 < 0.01)
        blocked[day] = np.bincount(group[travel], minlength=2)
        low = score < 600
        p[low, FLAGGED_BOOK] *= np.float32(0.999)
        p[low, FLAGGED_PLACE] *= np.float32(0.999)
        mean_score[day] = score.mean()
        group_mean[day] = np.bincount(group, weights=score, minlength=2) / group_size
        blacklisted[day] = black.mean()
    seconds = time.perf_counter() - t0
    return BaselineResult(
        mean_score, group_mean, blacklisted, applied, approved, blocked, score_hist, seconds
    )
