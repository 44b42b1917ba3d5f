"""A few citizens' days, kept while a run is replayed: the raw material of a decision trail.

No per-citizen log is kept for the whole population. A run is deterministic
(counter-based random numbers), so running it again with the same scenario
and seed replays every citizen's days exactly; a :class:`Tracer` handed to the
engine keeps, after each day, the state of the chosen citizens only: score,
error-free score, published score and percentile, every rule accumulator, the
network term, erroneous records, the day's gate decisions (the gate kernel's
word of the day), mortgage and employment. :mod:`socialscore.studies.explain`
reads the story out of it. Without a tracer the engine does nothing extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialscore.simulation.kernels import friends
from socialscore.simulation.kernels.friends import DROPPED_BIT

if TYPE_CHECKING:
    from socialscore.simulation.nation import Nation
    from socialscore.simulation.state import State

#: Citizens whose friend lists are decoded at once when looking for the traced citizens'
#: followers (about 40 bytes each).
FOLLOWER_BLOCK = 1 << 18

ERR_CITIZENS = (
    "citizens to trace must be distinct ids from 0 to {last} (the run has {population:,} "
    "citizens; their ids are the 'citizen' column of its citizens table), got {got}"
)


class Tracer:
    """Keeps the chosen citizens' state after each day (arrays ``[day, ...]``)."""

    def __init__(self, citizens: npt.ArrayLike, *, population: int, days: int, rules: int) -> None:
        ids = np.asarray(citizens, dtype=np.int64).ravel()
        if (
            ids.size == 0
            or len(set(ids.tolist())) != ids.size
            or ids.min() < 0
            or ids.max() >= population
        ):
            raise ValueError(
                ERR_CITIZENS.format(
                    last=population - 1, population=population, got=ids.tolist()[:10]
                )
            )
        self.citizens = ids
        t = ids.size
        self.days = 0
        self.score = np.zeros((days, t), dtype=np.int16)
        self.score_clean = np.zeros((days, t), dtype=np.int16)
        self.published = np.zeros((days, t), dtype=np.int16)
        self.percentile = np.zeros((days, t), dtype=np.float32)
        self.acc = np.zeros((days, rules, t), dtype=np.float32)
        self.net = np.zeros((days, t), dtype=np.float32)
        self.err = np.zeros((days, t), dtype=np.float32)
        self.offset = np.zeros((days, t), dtype=np.float32)
        self.decided = np.zeros((days, t), dtype=np.uint32)
        self.mortgage = np.zeros((days, t), dtype=np.uint8)
        self.employer = np.zeros((days, t), dtype=np.int32)
        self.rated = np.zeros((days, t), dtype=np.uint8)
        #: Each day's threshold of each gate for each traced citizen's group.
        self.thresholds: list[np.ndarray] = []
        #: The records before day 0 and each traced citizen's group (:meth:`start`).
        self.acc_start = np.zeros((rules, t), dtype=np.float32)
        self.err_start = np.zeros(t, dtype=np.float32)
        self.group = np.zeros(t, dtype=np.uint8)
        #: Each traced citizen's friends as generated ([slot, traced], −1: none), each day
        #: whether the citizen had dropped each one, and the friend's published score.
        self.friends = np.zeros((0, t), dtype=np.int32)
        self.dropped = np.zeros((days, 0, t), dtype=np.bool_)
        self.friend_scores = np.zeros((days, 0, t), dtype=np.int16)
        #: Who counts a traced citizen as a friend (as the lists were drawn): the follower,
        #: the slot of the follower's list, the traced citizen's index; and each day
        #: whether the follower had dropped them.
        self.follower = np.zeros(0, dtype=np.int64)
        self.follower_slot = np.zeros(0, dtype=np.int64)
        self.followed = np.zeros(0, dtype=np.int64)
        self.unfollowed = np.zeros((days, 0), dtype=np.bool_)

    def start(self, state: State, nation: Nation) -> None:
        """Keep the traced citizens' records, group and friends (as generated) at the start."""
        i = self.citizens
        self.acc_start[:] = state.acc[:, i]
        self.err_start[:] = state.err_acc[i]
        self.group[:] = nation.group[i]
        codes = state.friend_codes
        slots = codes.shape[0]
        days = self.score.shape[0]
        self.friends = np.zeros((slots, i.size), dtype=np.int32)
        for k, c in enumerate(i.tolist()):
            self.friends[:, k] = friends.ids(
                codes[:, c : c + 1],
                nation.seed,
                nation.region_start,
                nation.friends_local,
                first=c,
                at_start=True,
            )[0]
        self.dropped = np.zeros((days, slots, i.size), dtype=np.bool_)
        self.friend_scores = np.full((days, slots, i.size), -1, dtype=np.int16)
        if slots:
            # Every list as drawn, a block of citizens at a time (memory stays small).
            position = {int(c): k for k, c in enumerate(i.tolist())}
            found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
            n = codes.shape[1]
            for lo in range(0, n, FOLLOWER_BLOCK):
                block = friends.ids(
                    codes[:, lo : lo + FOLLOWER_BLOCK],
                    nation.seed,
                    nation.region_start,
                    nation.friends_local,
                    first=lo,
                    at_start=True,
                )
                who, slot = np.nonzero(np.isin(block, i))
                found.append((who + lo, slot, block[who, slot]))
            self.follower = np.concatenate([f[0] for f in found]).astype(np.int64)
            self.follower_slot = np.concatenate([f[1] for f in found]).astype(np.int64)
            self.followed = np.array(
                [position[int(c)] for c in np.concatenate([f[2] for f in found]).tolist()],
                dtype=np.int64,
            )
            self.unfollowed = np.zeros((days, self.follower.size), dtype=np.bool_)

    def observe(
        self,
        day: int,
        state: State,
        decided: np.ndarray,
        *,
        lo: int,
        all_rated: bool,
        thresholds: np.ndarray,
    ) -> None:
        """Keep the traced citizens' state at the end of ``day`` (after its decisions).

        ``thresholds``: float64 [gate, group], the gates' thresholds that day.
        """
        i = self.citizens
        self.score[day] = state.score[i]
        self.score_clean[day] = state.score_clean[i]
        self.published[day] = state.published[i]
        self.percentile[day] = state.published_below[state.published[i].astype(np.int64) - lo]
        self.acc[day] = state.acc[:, i]
        self.net[day] = state.net[i]
        self.err[day] = state.err_acc[i]
        if state.offset.shape[0]:
            self.offset[day] = state.offset[i]
        self.decided[day] = decided[i]
        self.mortgage[day] = state.has_mortgage[i]
        self.employer[day] = state.employer[i]
        participant = state.participant
        self.rated[day] = 1 if all_rated or participant.shape[0] == 0 else participant[i]
        self.thresholds.append(thresholds.copy())
        if self.friends.shape[0]:
            self.dropped[day] = state.friend_codes[:, i] >= DROPPED_BIT
            has = self.friends >= 0
            self.friend_scores[day][has] = state.published[self.friends[has]]
            codes = state.friend_codes[self.follower_slot, self.follower]
            self.unfollowed[day] = codes >= DROPPED_BIT
        self.days = day + 1

    def nbytes(self) -> int:
        """Bytes the trace holds."""
        arrays = [v for v in vars(self).values() if isinstance(v, np.ndarray)]
        return sum(a.nbytes for a in arrays) + sum(a.nbytes for a in self.thresholds)
