"""The synthetic nation: its structure matches the scenario."""

from __future__ import annotations

import numpy as np

from conftest import minimal
from socialscore.scenario.vocabulary import TRAITS
from socialscore.simulation import nation


def test_friends_are_distinct_not_self_and_mostly_local():
    sc = minimal(run={"population": 20_000, "seed": 4})
    nat = nation.generate(sc)
    f = nat.friends
    assert f.shape == (20_000, 10)
    assert np.all(f >= 0)
    assert not np.any(f == np.arange(20_000)[:, None])
    ordered = np.sort(f, axis=1)
    assert not np.any(ordered[:, 1:] == ordered[:, :-1])
    same_region = nat.region[f[:, :8]] == nat.region[:, None]
    assert same_region.mean() > 0.99


def test_citizens_are_numbered_by_region_and_regions_sum_to_population():
    nat = nation.generate(minimal(run={"population": 10_000}))
    assert np.all(np.diff(nat.region.astype(int)) >= 0)
    assert nat.region_start[-1] == 10_000


def test_equal_regions_and_exact_minority_count():
    sc = minimal(
        run={"population": 10_000},
        nation={
            "regions": 100,
            "equal_regions": True,
            "exact_minority_count": True,
            "minority_share": 0.1,
        },
    )
    nat = nation.generate(sc)
    assert nat.group.sum() == 1_000
    np.testing.assert_array_equal(nat.region, (np.arange(10_000) * 100) // 10_000)


def test_trait_shift_makes_minority_trait_higher():
    sc = minimal(
        run={"population": 40_000},
        nation={"minority_share": 0.3, "traits": {"financial_stress": {"minority_shift": 1.0}}},
    )
    nat = nation.generate(sc)
    t = nat.traits[TRAITS.index("financial_stress")].astype(float)
    assert t[nat.group == 1].mean() - t[nat.group == 0].mean() > 50


def test_income_deciles_are_tenths_and_lower_for_minority():
    nat = nation.generate(minimal(run={"population": 50_000}, nation={"minority_share": 0.3}))
    counts = np.bincount(nat.income_decile, minlength=10)
    assert counts.min() >= 4_990 and counts.max() <= 5_010
    assert nat.income_decile[nat.group == 1].mean() < nat.income_decile[nat.group == 0].mean()


def test_same_seed_same_nation_other_seed_other_nation():
    a = nation.generate(minimal(run={"population": 5_000, "seed": 1}))
    b = nation.generate(minimal(run={"population": 5_000, "seed": 1}))
    c = nation.generate(minimal(run={"population": 5_000, "seed": 2}))
    assert np.array_equal(a.friends, b.friends) and np.array_equal(a.traits, b.traits)
    assert not np.array_equal(a.friends, c.friends)


def test_companies_have_owners_and_employees_point_to_companies():
    nat = nation.generate(minimal(run={"population": 10_000, "citizens_per_company": 50}))
    assert nat.companies == 200
    assert np.all((nat.company_owner >= 0) & (nat.company_owner < 10_000))
    employed = nat.employer[nat.employer >= 0]
    assert employed.max() < nat.companies
    np.testing.assert_array_equal(nat.company_group, nat.group[nat.company_owner])
