"""The synthetic nation: citizens, companies and the social graph, as arrays.

Every value is generated from the counter-based RNG keyed by the entity, so
the nation is the same for any thread count. Citizens are numbered by
region, so most friendships point to nearby memory; friend lists are kept as
the draws that made them (:mod:`socialscore.simulation.kernels.friends`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numba import njit

from socialscore.scenario.schema import NationSettings, Scenario
from socialscore.scenario.vocabulary import TRAITS
from socialscore.simulation import rng
from socialscore.simulation.chunks import over_chunks
from socialscore.simulation.kernels import friends

#: Age bands: 18–29, 30–39, 40–49, 50–59, 60–69, 70+ (shares illustrative).
AGE_BAND_SHARES = np.array([0.20, 0.19, 0.19, 0.18, 0.14, 0.10])
#: Citizens per block when the whole graph is read as ids (4 bytes per friendship).
FRIEND_BLOCK_ROWS = 1 << 18
#: Entities per block of the generation passes (any size gives the same nation).
BLOCK = 1 << 14
#: Number of company sectors (illustrative).
SECTORS = 10


@dataclass
class Nation:
    """All generated, fixed attributes of citizens and companies.

    Citizens are numbered region by region, so a citizen's region is not
    stored: it follows from ``region_start`` (:meth:`regions_of`).
    """

    group: np.ndarray  # uint8 [N], 0 majority, 1 minority
    age_band: np.ndarray  # uint8 [N]
    income_decile: np.ndarray  # uint8 [N], 0 = poorest tenth
    children: np.ndarray  # uint8 [N], school-age children
    traits: np.ndarray  # uint8 [len(TRAITS), N], trait-major
    employer: np.ndarray  # int32 [N], -1 = unemployed (initial)
    # uint8 [K, N]: the draws of the friend lists (socialscore.simulation.kernels.friends)
    friend_codes: np.ndarray
    region_start: np.ndarray  # int64 [R + 1]
    company_region: np.ndarray  # uint16 [M]
    company_owner: np.ndarray  # int32 [M]
    company_group: np.ndarray  # uint8 [M], the owner's group
    company_sector: np.ndarray  # uint8 [M]
    company_size: np.ndarray  # int32 [M], employees (nominal)
    company_compliance: np.ndarray  # uint8 [M]
    seed: int  # the seed the nation was drawn from (friend ids are computed from it)
    friends_local: int  # friend slots drawn within the region

    @property
    def region(self) -> np.ndarray:
        """Every citizen's region (uint16 [N]), computed from ``region_start``."""
        return self.regions_of(0, self.population)

    def regions_of(self, lo: int, hi: int) -> np.ndarray:
        """The regions of citizens ``lo`` to ``hi - 1`` (uint16)."""
        ids = np.arange(lo, hi, dtype=np.int64)
        out: np.ndarray = (np.searchsorted(self.region_start, ids, side="right") - 1).astype(
            np.uint16
        )
        return out

    @property
    def friends(self) -> np.ndarray:
        """Every citizen's friends as generated (int32 [N, K], −1 = empty slot).

        Computed from the codes on each call: 4 bytes per friendship.
        """
        return self.friend_ids(self.friend_codes, at_start=True)

    def friend_ids(
        self, codes: np.ndarray, *, first: int = 0, at_start: bool = False
    ) -> np.ndarray:
        """The friend ids (int32 ``[citizens, K]``) that ``codes[:, r]`` name.

        Column ``r`` of ``codes`` holds the slots of citizen ``first + r``.

        −1 marks an empty slot and, unless ``at_start``, a dropped friendship.
        """
        return friends.ids(
            codes, self.seed, self.region_start, self.friends_local, first=first, at_start=at_start
        )

    def friend_blocks(
        self, codes: np.ndarray, *, rows: int = FRIEND_BLOCK_ROWS, at_start: bool = False
    ) -> Iterator[tuple[int, np.ndarray]]:
        """The friend ids that ``codes`` name, ``rows`` citizens at a time: ``(first, ids)``.

        For passes over the whole graph without holding every id at once.
        """
        for first in range(0, self.population, rows):
            block = codes[:, first : first + rows]
            yield first, self.friend_ids(block, first=first, at_start=at_start)

    @property
    def population(self) -> int:
        """Number of citizens."""
        return int(self.group.shape[0])

    @property
    def companies(self) -> int:
        """Number of companies."""
        return int(self.company_owner.shape[0])

    def nbytes(self) -> int:
        """Bytes held by the nation's arrays."""
        return sum(int(v.nbytes) for v in vars(self).values() if isinstance(v, np.ndarray))


def region_sizes(n: int, settings: NationSettings) -> np.ndarray:
    """Split ``n`` citizens into regions with Zipf-like sizes (or equal ones)."""
    r = settings.regions
    if settings.equal_regions:
        starts = (np.arange(r + 1, dtype=np.int64) * n) // r
        return np.asarray(np.diff(starts))
    weights = 1.0 / np.arange(1, r + 1, dtype=np.float64) ** settings.region_size_exponent
    exact = weights / weights.sum() * n
    sizes: np.ndarray = np.floor(exact).astype(np.int64)
    remainder = n - int(sizes.sum())
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[:remainder]] += 1
    return sizes


def generate(scenario: Scenario) -> Nation:
    """Generate the nation described by a scenario's run and nation settings."""
    settings = scenario.nation
    n = scenario.run.population
    seed = scenario.run.seed
    sizes = region_sizes(n, settings)
    region_start = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=region_start[1:])
    region = np.repeat(np.arange(len(sizes), dtype=np.uint16), sizes)

    group = _groups(seed, n, settings, region, len(sizes))
    income_z = _income_latent(seed, group, region, settings.minority_income_shift)
    cuts = np.quantile(income_z, np.linspace(0.1, 0.9, 9))
    income_decile = np.searchsorted(cuts, income_z).astype(np.uint8)
    income_std = (income_z - income_z.mean()) / max(float(income_z.std()), 1e-12)

    shifts = np.zeros(len(TRAITS))
    loadings = np.zeros(len(TRAITS))
    for name, spec in settings.traits.items():
        t = TRAITS.index(name)
        shifts[t] = spec.minority_shift
        loadings[t] = spec.income_loading
    traits = _traits(seed, income_std, group, shifts, loadings)
    age_band = _categorical(seed, n, rng.stream(rng.AGE), np.cumsum(AGE_BAND_SHARES))
    children = _children(seed, age_band, settings.children_per_citizen)

    per = scenario.run.citizens_per_company
    m = max(1, n // per) if per > 0 else 0
    company_region = np.repeat(np.arange(len(sizes), dtype=np.uint16), region_sizes(m, settings))
    company_start = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(np.bincount(company_region, minlength=len(sizes)), out=company_start[1:])
    company_owner, company_sector, company_size, company_compliance = _companies(
        seed, company_region, region_start
    )
    employer = _employers(seed, region, company_start, settings.employment_rate if m else 0.0)
    friend_codes = friends.draw(
        seed,
        region_start,
        group,
        settings.friends_local,
        settings.friends_distant,
        settings.homophily,
    )
    del region  # derivable from region_start; not kept
    return Nation(
        group=group,
        age_band=age_band,
        income_decile=income_decile,
        children=children,
        traits=traits,
        employer=employer,
        friend_codes=friend_codes,
        seed=seed,
        friends_local=settings.friends_local,
        region_start=region_start,
        company_region=company_region,
        company_owner=company_owner,
        company_group=group[company_owner],
        company_sector=company_sector,
        company_size=company_size,
        company_compliance=company_compliance,
    )


def _groups(
    seed: int, n: int, settings: NationSettings, region: np.ndarray, regions: int
) -> np.ndarray:
    if settings.exact_minority_count:
        count = round(n * settings.minority_share)
        u = rng.uniforms(seed, rng.STATIC_DAY, n, rng.stream(rng.GROUP))
        group = np.zeros(n, dtype=np.uint8)
        if count > 0:
            group[np.argpartition(u, count - 1)[:count]] = 1
        return group
    # Minority shares vary across regions (log-normal tilt), rescaled to the target share.
    tilt = np.exp(
        settings.minority_concentration
        * rng.normals(seed, rng.STATIC_DAY, regions, rng.stream(rng.MINORITY_TILT))
    )
    sizes = np.bincount(region, minlength=regions).astype(np.float64)
    share = settings.minority_share * tilt * sizes.sum() / max(float((tilt * sizes).sum()), 1e-12)
    share = np.clip(share, 0.0, 1.0)
    return _bernoulli_by_region(seed, region, share)


def _blocks(n: int) -> int:
    """Number of blocks of :data:`BLOCK` entities that cover ``n``."""
    return (n + BLOCK - 1) // BLOCK


def _bernoulli_by_region(seed: int, region: np.ndarray, share: np.ndarray) -> np.ndarray:
    out = np.empty(region.shape[0], dtype=np.uint8)
    over_chunks(_bernoulli_blocks, _blocks(out.shape[0]), seed, region, share, out)
    return out


@njit(cache=True, nogil=True)
def _bernoulli_blocks(
    first: int, last: int, seed: int, region: np.ndarray, share: np.ndarray, out: np.ndarray
) -> None:
    key = rng.stream(rng.GROUP)
    for i in range(first * BLOCK, min(last * BLOCK, out.shape[0])):
        out[i] = 1 if rng.uniform(seed, rng.STATIC_DAY, i, key) < share[region[i]] else 0


def _income_latent(seed: int, group: np.ndarray, region: np.ndarray, shift: float) -> np.ndarray:
    out = np.empty(group.shape[0], dtype=np.float32)
    over_chunks(_income_blocks, _blocks(out.shape[0]), seed, group, region, shift, out)
    return out


@njit(cache=True, nogil=True)
def _income_blocks(
    first: int,
    last: int,
    seed: int,
    group: np.ndarray,
    region: np.ndarray,
    shift: float,
    out: np.ndarray,
) -> None:
    region_key = rng.stream(rng.REGION_INCOME)
    income_key = rng.stream(rng.INCOME)
    for i in range(first * BLOCK, min(last * BLOCK, out.shape[0])):
        regional = 0.3 * rng.normal(seed, rng.STATIC_DAY, int(region[i]), region_key)
        out[i] = rng.normal(seed, rng.STATIC_DAY, i, income_key) + shift * group[i] + regional


def _traits(
    seed: int,
    income_std: np.ndarray,
    group: np.ndarray,
    shifts: np.ndarray,
    loadings: np.ndarray,
) -> np.ndarray:
    out = np.empty((shifts.shape[0], group.shape[0]), dtype=np.uint8)
    over_chunks(
        _trait_blocks, _blocks(group.shape[0]), seed, income_std, group, shifts, loadings, out
    )
    return out


@njit(cache=True, nogil=True)
def _trait_blocks(
    first: int,
    last: int,
    seed: int,
    income_std: np.ndarray,
    group: np.ndarray,
    shifts: np.ndarray,
    loadings: np.ndarray,
    out: np.ndarray,
) -> None:
    for i in range(first * BLOCK, min(last * BLOCK, group.shape[0])):
        for t in range(shifts.shape[0]):
            eps = rng.normal(seed, rng.STATIC_DAY, i, rng.stream(rng.TRAIT, t))
            a = loadings[t]
            x = a * income_std[i] + math.sqrt(1.0 - a * a) * eps + shifts[t] * group[i]
            phi = 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
            v = int(phi * 256.0)
            out[t, i] = min(max(v, 0), 255)


def _categorical(seed: int, n: int, key: int, cumulative: np.ndarray) -> np.ndarray:
    out = np.empty(n, dtype=np.uint8)
    over_chunks(_categorical_blocks, _blocks(n), seed, key, cumulative, out)
    return out


@njit(cache=True, nogil=True)
def _categorical_blocks(
    first: int, last: int, seed: int, key: int, cumulative: np.ndarray, out: np.ndarray
) -> None:
    top = cumulative.shape[0] - 1
    for i in range(first * BLOCK, min(last * BLOCK, out.shape[0])):
        u = rng.uniform(seed, rng.STATIC_DAY, i, key) * cumulative[top]
        k = 0
        while k < top and u >= cumulative[k]:
            k += 1
        out[i] = k


def _children(seed: int, age_band: np.ndarray, mean: float) -> np.ndarray:
    # School-age children belong to parents aged 30-49; Poisson by inversion.
    out = np.zeros(age_band.shape[0], dtype=np.uint8)
    lam = mean / (AGE_BAND_SHARES[1] + AGE_BAND_SHARES[2]) if mean > 0 else 0.0
    over_chunks(_children_blocks, _blocks(out.shape[0]), seed, age_band, float(lam), out)
    return out


@njit(cache=True, nogil=True)
def _children_blocks(
    first: int, last: int, seed: int, age_band: np.ndarray, lam: float, out: np.ndarray
) -> None:
    key = rng.stream(rng.CHILDREN)
    for i in range(first * BLOCK, min(last * BLOCK, out.shape[0])):
        if age_band[i] == 1 or age_band[i] == 2:
            u = rng.uniform(seed, rng.STATIC_DAY, i, key)
            p = math.exp(-lam)
            c = p
            k = 0
            while u > c and k < 12:
                k += 1
                p *= lam / k
                c += p
            out[i] = k


def _companies(
    seed: int, company_region: np.ndarray, region_start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m = company_region.shape[0]
    owner = np.empty(m, dtype=np.int32)
    sector = np.empty(m, dtype=np.uint8)
    size = np.empty(m, dtype=np.int32)
    compliance = np.empty(m, dtype=np.uint8)
    over_chunks(
        _company_blocks,
        _blocks(m),
        seed,
        company_region,
        region_start,
        owner,
        sector,
        size,
        compliance,
    )
    return owner, sector, size, compliance


@njit(cache=True, nogil=True)
def _company_blocks(
    first: int,
    last: int,
    seed: int,
    company_region: np.ndarray,
    region_start: np.ndarray,
    owner: np.ndarray,
    sector: np.ndarray,
    size: np.ndarray,
    compliance: np.ndarray,
) -> None:
    owner_key = rng.stream(rng.COMPANY_OWNER)
    sector_key = rng.stream(rng.COMPANY_SECTOR)
    size_key = rng.stream(rng.COMPANY_SIZE)
    compliance_key = rng.stream(rng.COMPANY_COMPLIANCE)
    for c in range(first * BLOCK, min(last * BLOCK, company_region.shape[0])):
        r = company_region[c]
        lo = region_start[r]
        width = region_start[r + 1] - lo
        if width <= 0:
            lo = 0
            width = region_start[region_start.shape[0] - 1]
        owner[c] = lo + rng.uniform_below(seed, rng.STATIC_DAY, c, owner_key, width)
        sector[c] = rng.uniform_below(seed, rng.STATIC_DAY, c, sector_key, SECTORS)
        # Pareto(1.2) firm sizes, a classic heavy tail (illustrative).
        u = rng.uniform(seed, rng.STATIC_DAY, c, size_key)
        size[c] = min(int((1.0 - u) ** (-1.0 / 1.2)), 100_000)
        x = rng.normal(seed, rng.STATIC_DAY, c, compliance_key)
        compliance[c] = min(max(int(0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) * 256.0), 0), 255)


def _employers(
    seed: int, region: np.ndarray, company_start: np.ndarray, employment_rate: float
) -> np.ndarray:
    out = np.empty(region.shape[0], dtype=np.int32)
    over_chunks(
        _employer_blocks, _blocks(out.shape[0]), seed, region, company_start, employment_rate, out
    )
    return out


@njit(cache=True, nogil=True)
def _employer_blocks(
    first: int,
    last: int,
    seed: int,
    region: np.ndarray,
    company_start: np.ndarray,
    employment_rate: float,
    out: np.ndarray,
) -> None:
    m = company_start[company_start.shape[0] - 1]
    employed_key = rng.stream(rng.EMPLOYED)
    employer_key = rng.stream(rng.EMPLOYER)
    for i in range(first * BLOCK, min(last * BLOCK, out.shape[0])):
        if rng.uniform(seed, rng.STATIC_DAY, i, employed_key) >= employment_rate:
            out[i] = -1
            continue
        r = region[i]
        lo = company_start[r]
        width = company_start[r + 1] - lo
        if width <= 0:
            lo = 0
            width = m
        out[i] = lo + rng.uniform_below(seed, rng.STATIC_DAY, i, employer_key, width)
