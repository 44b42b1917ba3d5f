"""Random keys: every decision has a key of its own, and independent draws are independent."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import small
from socialscore.scenario.files import load, shipped_scenarios
from socialscore.scenario.schema import NationSettings
from socialscore.scenario.vocabulary import CITIZEN_EVENTS, CITIZEN_GATES, COMPANY_EVENTS, TRAITS
from socialscore.simulation import engine, nation, rng
from socialscore.simulation.compiled import compile_streams
from socialscore.simulation.kernels import friends

SRC = Path(__file__).resolve().parents[1] / "src" / "socialscore"
SCENARIOS = sorted(shipped_scenarios().values())

#: A key as the engine uses it: (purpose, index, sub-key), the day kind and entity kind
#: coming from the purpose.
Key = tuple[int, int, int]


def _subs(purpose: int) -> tuple[int, ...]:
    """The sub-keys a purpose's draws use: the two uniforms of a normal, else the plain one."""
    return (
        (rng.SUB_NORMAL_U1, rng.SUB_NORMAL_U2) if rng.PURPOSES[purpose].draw == "normal" else (0,)
    )


def _declared_keys() -> Iterator[Key]:
    """Every key the registry allows: each purpose's declared indices, with every sub-key."""
    for code, p in rng.PURPOSES.items():
        for index in range(p.count):
            for sub in rng.SUB_KEYS:
                yield code, index, sub


def _scenario_keys(path: Path) -> Iterator[Key]:
    """The keys one shipped scenario's run draws, written out from what each kernel does."""
    sc = load(path).scenario
    slots = sc.nation.friends_local + sc.nation.friends_distant
    used: list[tuple[int, int]] = [
        (rng.GROUP, 0), (rng.REGION_INCOME, 0), (rng.MINORITY_TILT, 0), (rng.INCOME, 0),
        (rng.AGE, 0), (rng.CHILDREN, 0), (rng.EMPLOYED, 0), (rng.EMPLOYER, 0),
        (rng.COMPANY_OWNER, 0), (rng.COMPANY_SECTOR, 0), (rng.COMPANY_SIZE, 0),
        (rng.COMPANY_COMPLIANCE, 0), (rng.COMPANY_HETEROGENEITY, 0), (rng.COMPANY_GATE, 0),
        (rng.AWARE, 0), (rng.OPT_IN, 0), (rng.INTERACTION_FRIEND, 0), (rng.DATA_ERROR, 0),
        (rng.DISPUTE_FILED, 0), (rng.DISPUTE_UPHELD, 0), (rng.LOW_RANK, 0),
    ]  # fmt: skip
    used += [(rng.TRAIT, t) for t in range(len(TRAITS))]
    for k in range(slots):
        used += [(rng.FRIEND, k * friends.ATTEMPTS + a) for a in range(friends.ATTEMPTS)]
        used += [(rng.HOMOPHILY, k * friends.ATTEMPTS + a) for a in range(friends.ATTEMPTS)]
        used.append((rng.UNFRIEND, k))
    events = compile_streams(sc).event
    used += [(rng.EVENT, int(e) >> 1) for e in events]
    used += [(rng.HETEROGENEITY, int(e) >> 3) for e in events]
    used += [(rng.GATE_DRAWS, q) for q in range(rng.GATE_HASHES)]
    used += [(rng.REVIEW, g) for g in range(len(CITIZEN_GATES))]
    used += [(rng.GATE_CHOICE, CITIZEN_GATES.index(g)) for g in ("job_hiring", "dating")]
    used += [(rng.COMPANY_EVENT, e) for e in range(len(COMPANY_EVENTS))]
    if sc.gates.mortgage.policy.kind != "fixed":
        used.append((rng.POLICY_MARGIN, CITIZEN_GATES.index("mortgage")))
    if sc.gates.mortgage.outcome is not None:
        used.append((rng.OUTCOME, 0))  # an approved loan's outcome
    if sc.monitoring is not None:  # patrols, the weights' correction and decay, detection
        used += [(rng.PATROL, 0), (rng.MONITOR_CORRECTION, 0), (rng.MONITOR_DECAY, 0)]
        used += [(rng.DETECTION, CITIZEN_EVENTS.index(e)) for e in sc.monitoring.events]
    for purpose, index in set(used):
        for sub in _subs(purpose):
            yield purpose, index, sub


def _word(key: Key) -> int:
    purpose, index, sub = key
    return int(rng.stream(purpose, index)) | sub


def _collisions(keys: list[Key], word: Callable[[Key], int]) -> dict[int, list[Key]]:
    """The stream words that two or more keys share (among keys of the same day kind)."""
    by_word: dict[tuple[bool, int], list[Key]] = {}
    for key in keys:
        by_word.setdefault((rng.PURPOSES[key[0]].static, word(key)), []).append(key)
    return {w: ks for (_, w), ks in by_word.items() if len(ks) > 1}


def test_the_registry_declares_each_purpose_once_within_the_fields():
    codes = list(rng.PURPOSES)
    assert len(set(codes)) == len(codes)
    assert len({p.name for p in rng.PURPOSES.values()}) == len(codes)
    for p in rng.PURPOSES.values():
        assert 0 < p.code <= rng.MAX_PURPOSE
        assert 0 < p.count <= 1 << rng.INDEX_BITS
    with pytest.raises(ValueError, match="already"):
        rng._purpose(rng.FRIEND, "again", "citizen", True, "hash", "a second friend")


def test_every_key_the_registry_allows_has_its_own_stream_word():
    keys = list(_declared_keys())
    words = np.array([_word(k) for k in keys], dtype=np.int64)
    assert (words > 0).all()  # positive in int64: no sign trouble in compiled code
    assert np.unique(words).size == len(keys)
    # The fields read back: purpose, sub-key and index.
    assert [(w >> rng.PURPOSE_SHIFT, w & (rng.SUB_NORMAL_U1 | rng.SUB_NORMAL_U2), w & 0xFFFFFFFF)
            for w in words[:: max(1, len(words) // 997)].tolist()] == [
        (k[0], k[2], k[1]) for k in keys[:: max(1, len(keys) // 997)]
    ]  # fmt: skip


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_key_a_shipped_scenario_draws_is_declared_and_distinct(path):
    keys = list(_scenario_keys(path))
    for purpose, index, _ in keys:
        assert index < rng.PURPOSES[purpose].count, rng.PURPOSES[purpose].name
    assert _collisions(keys, _word) == {}


def test_the_declared_ranges_cover_the_schema_and_the_vocabulary():
    fields = NationSettings.model_fields
    most = [
        m.le
        for f in ("friends_local", "friends_distant")
        for m in fields[f].metadata
        if hasattr(m, "le")
    ]
    assert sum(most) <= rng.FRIEND_SLOTS
    assert friends.ATTEMPTS == rng.FRIEND_ATTEMPTS
    count = {p.name: p.count for p in rng.PURPOSES.values()}
    assert count["friend"] == count["homophily"] == rng.FRIEND_SLOTS * rng.FRIEND_ATTEMPTS
    assert count["unfriend"] == rng.FRIEND_SLOTS
    assert count["trait"] == len(TRAITS)
    assert count["event"] * 2 >= len(CITIZEN_EVENTS)
    assert count["heterogeneity"] * 8 >= len(CITIZEN_EVENTS)
    assert count["company_heterogeneity"] * 8 >= len(COMPANY_EVENTS)
    assert count["company_event"] == len(COMPANY_EVENTS)
    assert count["review"] == count["gate_choice"] == len(CITIZEN_GATES)
    assert count["policy_margin"] == len(CITIZEN_GATES)
    assert count["detection"] == len(CITIZEN_EVENTS)


def _old_word(key: Key) -> int:
    """The scheme before issue 12: base numbers plus offsets, normals on 2s and 2s + 1."""
    base = {
        rng.REGION_INCOME: 1, rng.GROUP: 2, rng.INCOME: 3, rng.AGE: 4, rng.CHILDREN: 5,
        rng.EMPLOYED: 6, rng.EMPLOYER: 7, rng.MINORITY_TILT: 7, rng.TRAIT: 10, rng.FRIEND: 40,
        rng.HOMOPHILY: 100_040, rng.COMPANY_OWNER: 1000, rng.COMPANY_SECTOR: 1001,
        rng.COMPANY_SIZE: 1002, rng.COMPANY_COMPLIANCE: 1003, rng.AWARE: 50, rng.OPT_IN: 51,
        rng.HETEROGENEITY: 100, rng.EVENT: 200, rng.INTERACTION_FRIEND: 250,
        rng.DATA_ERROR: 260, rng.DISPUTE_FILED: 270, rng.DISPUTE_UPHELD: 271, rng.REVIEW: 280,
        rng.LOW_RANK: 290,
        rng.GATE_DRAWS: 300, rng.GATE_CHOICE: 301, rng.UNFRIEND: 400, rng.COMPANY_EVENT: 500,
        rng.COMPANY_HETEROGENEITY: 520, rng.COMPANY_GATE: 540,
    }  # fmt: skip
    purpose, index, sub = key
    index = index * 4 if purpose == rng.GATE_CHOICE else index
    s = base[purpose] + index
    return {0: s, rng.SUB_NORMAL_U1: 2 * s, rng.SUB_NORMAL_U2: 2 * s + 1}[sub]


def test_the_check_finds_the_collisions_of_the_old_offset_scheme():
    found = _collisions(list(_scenario_keys(SCENARIOS[0].parent / "no-scoring.toml")), _old_word)
    shared = {frozenset(rng.PURPOSES[p].name for p, _, _ in ks) for ks in found.values()}
    assert frozenset({"income", "employed"}) in shared  # income's u1 was the employment draw
    assert frozenset({"income", "employer"}) in shared  # and its u2 the employer draw
    assert frozenset({"friend", "aware"}) in shared  # slot 0, attempt 10
    assert frozenset({"friend", "opt_in"}) in shared
    assert frozenset({"friend", "heterogeneity"}) in shared


_DRAWS = {"uniform", "uniform_below", "normal", "uniforms", "normals", "entity_hash", "key_hash"}


def _stream_arguments() -> Iterator[tuple[str, ast.expr]]:
    """The stream argument of every draw in the package: rng's draws and fill_hashes."""
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            name = node.func.attr
            if isinstance(owner, ast.Name) and owner.id == "rng" and name in _DRAWS:
                position = 2 if name == "entity_hash" else 3
            elif isinstance(owner, ast.Name) and owner.id == "passes" and name == "fill_hashes":
                position = 3
            else:
                continue
            if len(node.args) > position:
                yield f"{path.name}:{node.lineno}", node.args[position]


def test_every_draw_takes_its_stream_word_from_the_registry():
    args = list(_stream_arguments())
    assert len(args) >= 30  # the scan sees the engine's draws
    for where, arg in args:
        # rng.stream(rng.PURPOSE[, index]) or a name bound to one; never a number or a sum.
        if isinstance(arg, ast.Call):
            assert ast.unparse(arg.func) == "rng.stream", where
            assert ast.unparse(arg.args[0]).startswith("rng."), where
        else:
            assert isinstance(arg, ast.Name), f"{where}: {ast.unparse(arg)}"
    assert not [p for p in SRC.rglob("*.py") if "KEY_" in p.read_text()]


# ---------------------------------------------------------------------------------------------
# Attributes drawn independently are independent (chi-square tests of independence).

#: Standard normal quantiles for a one-sided and a two-sided 1e-4 tail.
_Z = 3.719
_Z2 = 3.8906


def _chi2_limit(df: int) -> float:
    """The 1 − 1e-4 quantile of chi-square with ``df`` degrees of freedom.

    Exact for one degree (a squared normal), Wilson and Hilferty's cube-root
    approximation otherwise.
    """
    if df == 1:
        return _Z2 * _Z2
    c = 2.0 / (9.0 * df)
    return df * (1.0 - c + _Z * math.sqrt(c)) ** 3


def _chi2(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """Pearson's chi-square of independence of two categorical arrays, and its degrees."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    return float(((table - expected) ** 2 / expected).sum()), (table.shape[0] - 1) * (
        table.shape[1] - 1
    )


@pytest.fixture(scope="module")
def day0():  # type: ignore[no-untyped-def]
    """The nation of no-scoring at 200,000 citizens and its citizens' fixed run draws."""
    sc = small("no-scoring", population=200_000, days=1)
    nat = nation.generate(sc)
    state = engine.initial_state(sc, nat, engine.compile_scenario(sc))
    aware = np.zeros(nat.population, dtype=bool)
    aware[state.aware] = True
    assert aware.sum() > 10_000  # 11% of 200,000: enough for each test
    return sc, nat, aware


def test_employment_does_not_depend_on_income(day0):
    _, nat, _ = day0
    employed = nat.employer >= 0
    stat, df = _chi2(employed, nat.income_decile)
    assert stat < _chi2_limit(df), (stat, df)
    shares = np.array([employed[nat.income_decile == d].mean() for d in range(10)])
    # Each decile holds 20,000 citizens: a share's standard error is about 0.002.
    assert np.abs(shares - employed.mean()).max() < 0.01, shares


def test_where_the_employer_lies_in_the_region_does_not_depend_on_income(day0):
    _, nat, _ = day0
    employed = nat.employer >= 0
    region = nat.region[employed]
    company_start = np.searchsorted(nat.company_region, np.arange(len(nat.region_start)))
    lo = company_start[region]
    width = company_start[region + 1] - lo
    wide = width >= 10
    position = (nat.employer[employed] - lo)[wide] * 5 // width[wide]
    stat, df = _chi2(position, nat.income_decile[employed][wide])
    assert stat < _chi2_limit(df), (stat, df)


@pytest.mark.parametrize(
    "attribute",
    [
        "income_decile",
        "age_band",
        "employed",
        "first_slot_attempt",
        "local_friend",
        "distant_friend",
    ],
)
def test_awareness_does_not_depend_on_other_draws(day0, attribute):
    _, nat, aware = day0
    n = nat.population
    region = nat.region
    lo = nat.region_start[region]
    width = nat.region_start[region + 1] - lo
    ids = nat.friends
    value = {
        "income_decile": lambda: nat.income_decile,
        "age_band": lambda: nat.age_band,
        "employed": lambda: nat.employer >= 0,
        # Which attempt filled slot 0 (0, 1, 2, 3 or more): the draws of the friend lists.
        "first_slot_attempt": lambda: np.minimum(nat.friend_codes[0], 3),
        # Where the friend in slot 0 (in the region) and in the last slot (anywhere) lies.
        "local_friend": lambda: (ids[:, 0] - lo) * 10 // width,
        "distant_friend": lambda: ids[:, -1] * 10 // n,
    }[attribute]()
    stat, df = _chi2(aware, value)
    assert stat < _chi2_limit(df), (stat, df)


def test_the_chi_square_limit_is_the_quantile():
    # Against the 0.9999 quantiles of chi-square (df 1, 4, 9, 36; scipy.stats.chi2.isf).
    for df, q in ((1, 15.137), (4, 23.513), (9, 33.720), (36, 76.365)):
        # Exact for one degree; otherwise at most 5% above, never below (conservative).
        assert q * 0.9999 <= _chi2_limit(df) <= q * 1.05
