"""Friend lists kept as draws: read back as the same ids, whole or block by block."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import minimal
from socialscore.simulation import nation
from socialscore.simulation.kernels import friends
from socialscore.simulation.kernels.friends import ATTEMPTS, DROPPED_BIT, EMPTY


def _reference_friends(nat: nation.Nation, local: int, distant: int) -> np.ndarray:
    """The generator's rule, written out slowly in Python from the RNG's candidates."""
    from numba import njit

    from socialscore.simulation import rng

    @njit
    def draw_one(
        seed: int, i: int, k: int, attempt: int, local_slot: bool, lo: int, w: int, n: int
    ):  # type: ignore[no-untyped-def]
        return friends.candidate(
            rng.day_key(seed, rng.STATIC_DAY), i, k, attempt, local_slot, lo, w, n
        )

    n = nat.population
    out = np.full((n, local + distant), -1, np.int64)
    region = nat.region
    for i in range(0, n, 97):  # a sample of citizens is enough
        lo = int(nat.region_start[region[i]])
        width = int(nat.region_start[region[i] + 1]) - lo
        for k in range(local + distant):
            for attempt in range(ATTEMPTS):
                j = draw_one(nat.seed, i, k, attempt, k < local and width > local, lo, width, n)
                if j != i and j not in out[i, :k]:
                    out[i, k] = j
                    break
    return out


def test_codes_are_a_byte_per_friendship_and_name_the_generators_friends():
    sc = minimal(run={"population": 5_000, "seed": 8})  # no homophily: the plain rule
    nat = nation.generate(sc)
    assert nat.friend_codes.dtype == np.uint8
    assert nat.friend_codes.shape == (10, 5_000)  # slot-major
    expected = _reference_friends(nat, sc.nation.friends_local, sc.nation.friends_distant)
    sample = np.arange(0, 5_000, 97)
    np.testing.assert_array_equal(nat.friends[sample], expected[sample])


def test_blocks_and_slices_read_the_same_ids_as_the_whole():
    nat = nation.generate(minimal(run={"population": 3_000, "seed": 2}))
    whole = nat.friends
    parts = list(nat.friend_blocks(nat.friend_codes, rows=700, at_start=True))
    assert [first for first, _ in parts] == [0, 700, 1400, 2100, 2800]
    np.testing.assert_array_equal(np.concatenate([ids for _, ids in parts]), whole)
    np.testing.assert_array_equal(
        nat.friend_ids(nat.friend_codes[:, 1234:2345], first=1234, at_start=True),
        whole[1234:2345],
    )


def test_a_dropped_friendship_is_gone_now_and_still_there_at_the_start():
    nat = nation.generate(minimal(run={"population": 2_000, "seed": 5}))
    codes = nat.friend_codes.copy()
    before = nat.friend_ids(codes)
    codes[3, 17] += DROPPED_BIT
    codes[0, 18] = EMPTY
    now = nat.friend_ids(codes)
    start = nat.friend_ids(codes, at_start=True)
    assert now[17, 3] == -1 and start[17, 3] == before[17, 3] >= 0
    assert now[18, 0] == -1 and start[18, 0] == -1
    assert friends.out_degree(codes)[17] == 9
    assert friends.out_degree(codes, True)[17] == 10
    assert friends.out_degree(codes, True)[18] == 9
    now_f, lost_f = friends.followers(codes, nat.seed, nat.region_start, nat.friends_local)
    assert lost_f.sum() == 1 and lost_f[before[17, 3]] == 1
    assert now_f.sum() == (now >= 0).sum()


@pytest.mark.parametrize("regions", [20, 50])
def test_a_region_too_small_for_local_friends_draws_them_anywhere(regions: int) -> None:
    sc = minimal(
        run={"population": 100, "seed": 1}, nation={"regions": regions, "equal_regions": True}
    )
    nat = nation.generate(sc)  # 5 or 2 citizens a region: fewer than the 8 local slots
    f = nat.friends
    assert np.all(f >= 0) and f.max() < 100
    assert not np.any(f == np.arange(100)[:, None])
    ordered = np.sort(f, axis=1)
    assert not np.any(ordered[:, 1:] == ordered[:, :-1])
    assert (nat.region[f[:, :8]] != nat.region[:, None]).mean() > 0.5


def test_region_runs_cut_a_range_where_regions_change_and_skip_empty_regions():
    region_start = np.array([0, 5, 5, 9, 20], dtype=np.int64)  # region 1 is empty
    runs = friends.region_runs(region_start, 3, 10)  # citizens 3 to 12
    np.testing.assert_array_equal(runs, [[0, 2, 0, 5], [2, 6, 5, 4], [6, 10, 9, 11]])
    assert friends.region_runs(region_start, 19, 1).tolist() == [[0, 1, 9, 11]]
    assert friends.region_runs(region_start, 4, 0).shape == (0, 4)
