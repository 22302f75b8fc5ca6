"""The tier list is written once, in store/contract.py: no other module or query spells it out or maps tiers to an order
or bit by hand, and tier_rank()/tier_bit() give the contract's order on DuckDB and on ClickHouse."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import store
from queries import registry
from queries.engines import dialect, engine
from queries.engines.duckdb_engine import DuckDBEngine
from store import tier_sql
from store.clickhouse.client import ClickHouseClient
from store.contract import TIERS
from store.derived import trace_index

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("app", "bench", "ingest", "queries", "store", "tests")
# The definition, and frozen history: applied migrations and ClickHouse schema files are append-only.
OWNED = ("store/contract.py", "store/migrations/", "store/clickhouse/schema/")
# Files that still spell out a tier mapping, each with why; an entry whose file no longer does is stale (test below).
KNOWN: dict[str, str] = {}

_TIER = "|".join(re.escape(t) for t in TIERS)
_QUOTED = re.compile(rf"'({_TIER})'")
_CASE = re.compile(r"\bCASE\b(.*?)\bEND\b", re.IGNORECASE | re.DOTALL)
_MAPPED = re.compile(rf"'({_TIER})'\s*(?:THEN|,)\s*\d", re.IGNORECASE)  # 'edge' THEN 2, multiIf(tier = 'edge', 2, …)
_LIST = re.compile(r"[(\[]\s*'[^']*'(?:\s*,\s*'[^']*')+\s*[)\]]")


def sql_findings(text: str) -> list[str]:
    """Tier lists and tier→value mappings in SQL text: a CASE naming two tiers or more, tiers mapped to numbers, or a
    literal list holding every tier. A condition on one named tier (`tier = 'edge'`) is about that tier and passes."""
    found = [f"CASE over tiers: {m.group(0)[:60]!r}" for m in _CASE.finditer(text)
             if len(set(_QUOTED.findall(m.group(1)))) >= 2]
    if len(set(_MAPPED.findall(text))) >= 2:
        found.append(f"tiers mapped to numbers: {sorted(set(_MAPPED.findall(text)))}")
    found += [f"tier list: {m.group(0)[:60]!r}" for m in _LIST.finditer(text)
              if set(TIERS) <= set(re.findall(r"'([^']*)'", m.group(0)))]
    return found


def python_findings(text: str, expectations_allowed: bool) -> list[str]:
    """Tier lists in Python: a tuple, list or set literal holding every tier, a dict giving every tier a number (an
    order), and SQL in string literals (sql_findings). In tests, literals inside `assert` are expected values."""
    tree = ast.parse(text)
    skipped = {id(n) for a in ast.walk(tree) if expectations_allowed and isinstance(a, ast.Assert)
               for n in ast.walk(a)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            strings = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if set(TIERS) <= strings:
                found.append(f"line {node.lineno}: tier list")
        elif isinstance(node, ast.Dict):
            numbered = {k.value for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and type(v.value) is int}
            if set(TIERS) <= numbered:
                found.append(f"line {node.lineno}: tier order")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [f"line {node.lineno}: {f}" for f in sql_findings(node.value)]
    return found


def scanned() -> Iterator[tuple[str, Path]]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix in (".py", ".sql") and not rel.startswith(OWNED) and "/out/" not in rel:
                yield rel, path


def findings(rel: str, path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".sql":
        return sql_findings(text)
    return python_findings(text, expectations_allowed=rel.startswith("tests/"))


def test_no_module_or_query_spells_out_the_tiers() -> None:
    spelled = {rel: f for rel, path in scanned() if rel not in KNOWN and (f := findings(rel, path))}
    assert not spelled, ("read the tiers from store.contract.TIERS (Python) or tier_rank()/tier_bit() (SQL): "
                         f"{spelled}")


def test_known_exceptions_still_need_their_entry() -> None:
    for rel, why in KNOWN.items():
        assert findings(rel, ROOT / rel), f"{rel} no longer spells out tiers: drop its KNOWN entry ({why})"


def test_the_scan_catches_what_it_looks_for() -> None:
    """Each shape the scan refuses, written here as a string so that this file itself stays clean."""
    t = TIERS
    rank = "ORDER BY CASE tier " + " ".join(f"WHEN '{x}' THEN {i}" for i, x in enumerate(t, 1)) + " ELSE 9 END"
    assert sql_findings(rank)
    assert sql_findings(f"multiIf(tier = '{t[0]}', 1, tier = '{t[1]}', 2, 4)")
    assert sql_findings("WHERE tier IN (" + ", ".join(f"'{x}'" for x in t) + ")")
    assert not sql_findings(f"bool_or(s.tier = '{t[-1]}') AS x, CASE WHEN tier = '{t[1]}' THEN 1 END")
    assert python_findings(f"TIERS = {t!r}", expectations_allowed=False)
    assert python_findings(repr({x: i for i, x in enumerate(t)}), expectations_allowed=False)
    assert python_findings(f"x = {list(t)!r}", expectations_allowed=True)
    assert not python_findings(f"assert x == {list(t)!r}", expectations_allowed=True)
    assert not python_findings(repr({x: 0.5 for x in t}), expectations_allowed=False)  # data per tier, not an order
    assert python_findings(f"SQL = {rank!r}", expectations_allowed=False)


def test_functions_follow_the_contract_and_the_trace_index() -> None:
    assert list(tier_sql.RANKS) == list(TIERS) == list(tier_sql.BITS)
    assert list(tier_sql.RANKS.values()) == list(range(1, len(TIERS) + 1))
    bits = duckdb.sql(f"SELECT {trace_index.TIER_BIT_SQL} FROM (SELECT unnest($t) AS tier)",
                      params={"t": [*TIERS, "unknown"]}).fetchall()
    assert [b for (b,) in bits] == [*tier_sql.BITS.values(), tier_sql.OTHER_BIT]


def test_duckdb_store_connections_order_tiers_as_the_contract(tmp_path: Path) -> None:
    writer = store.open_writer(tmp_path / "s.duckdb")
    writer.close()
    for read_only in (True, False):
        con = store.connect(tmp_path / "s.duckdb", read_only=read_only)
        assert tier_sql.probe_duckdb(con) == tier_sql.expected()
        con.close()


def test_queries_get_the_macros_on_any_duckdb_connection() -> None:
    """A connection opened around store.connect (tests, benchmarks) and a cursor (its own connection) get them too."""
    con = duckdb.connect()
    store.migrate(con)
    assert registry.run(DuckDBEngine(con), "latency_by_tier").height == 0
    assert tier_sql.probe_duckdb(con) == tier_sql.expected()
    cur = con.cursor()
    assert registry.run(DuckDBEngine(cur), "slow_traces", {"tier": TIERS[0]}).height == 0
    cur.close()
    con.close()


def test_the_transpiler_passes_the_calls_through() -> None:
    text = "SELECT tier FROM t WHERE tier_bits & tier_bit($tier) != 0 ORDER BY tier_rank(coalesce(a, tier))"
    out = dialect.to_clickhouse(text, {"tier": str})
    assert "tier_bit({tier: Nullable(String)})" in out and "tier_rank(COALESCE(a, tier))" in out


@pytest.fixture(scope="module")
def click() -> Iterator[ClickHouseClient]:
    client = ClickHouseClient("chdb://", settings=dialect.SETTINGS)
    yield client
    client.close()


def test_clickhouse_engine_orders_tiers_as_the_contract(click: ClickHouseClient) -> None:
    click.command("DROP FUNCTION IF EXISTS tier_rank")
    click.command("DROP FUNCTION IF EXISTS tier_bit")
    engine.ClickHouseEngine(click)  # creates them before any query runs
    assert tier_sql.probe_clickhouse(click) == tier_sql.expected()


def test_clickhouse_refusal_is_checked_not_ignored(click: ClickHouseClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader not allowed to CREATE FUNCTION proceeds when the functions agree with the contract, and is told to
    migrate when they do not."""
    tier_sql.install_clickhouse(click)

    def refuse(sql: str, params: object = None) -> None:
        raise RuntimeError("not enough privileges")

    monkeypatch.setattr(click, "command", refuse)
    tier_sql.install_clickhouse(click)
    monkeypatch.setattr(tier_sql, "expected", lambda: {})
    with pytest.raises(RuntimeError, match="tierwise migrate --engine clickhouse"):
        tier_sql.install_clickhouse(click)
