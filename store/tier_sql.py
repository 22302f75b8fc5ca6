"""The contract's tier order in SQL: tier_rank() and tier_bit(), as DuckDB macros and as ClickHouse functions."""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

import duckdb

from store.contract import TIERS, UNKNOWN_TIER

if TYPE_CHECKING:
    from store.clickhouse.client import ClickHouseClient

# tier_rank(t): 1..n in contract order, n + 1 for any other tier and for NULL (what every tier-ordered query sorts by).
RANKS: Mapping[str, int] = {tier: i + 1 for i, tier in enumerate(TIERS)}
OTHER_RANK = len(TIERS) + 1
# tier_bit(t): the tier's bit in trace_part_keys.tier_bits, contract order, then one bit for any other tier (and NULL).
BITS: Mapping[str, int] = {tier: 1 << i for i, tier in enumerate(TIERS)}
OTHER_BIT = 1 << len(TIERS)
FUNCTIONS: Mapping[str, tuple[Mapping[str, int], int]] = {"tier_rank": (RANKS, OTHER_RANK),
                                                          "tier_bit": (BITS, OTHER_BIT)}
# What the probe asks each engine: every tier, a value that is not one, and NULL.
PROBE: tuple[str | None, ...] = (*TIERS, UNKNOWN_TIER, None)

_ready: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def _literal(tier: str) -> str:
    """A tier name as a SQL string literal. DDL takes no bound parameters, so the contract's names are written into it;
    they are checked to be plain lowercase words first."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", tier):
        raise ValueError(f"tier name {tier!r} is not a plain lowercase word")
    return f"'{tier}'"


def case(values: Mapping[str, int], other: int, arg: str = "t") -> str:
    """`CASE arg WHEN 'device' THEN 1 … ELSE other END`: the one body both engines' functions share (NULL is
    `other`), and the expression of the derived tables that store a tier's bit."""
    whens = " ".join(f"WHEN {_literal(tier)} THEN {value}" for tier, value in values.items())
    return f"CASE {arg} {whens} ELSE {other} END"


def duckdb_macros() -> tuple[str, ...]:
    """The statements that create tier_rank and tier_bit on one DuckDB connection (TEMP: never written to the file, and
    allowed on a read-only connection)."""
    return tuple(f"CREATE OR REPLACE TEMP MACRO {name}(t) AS {case(values, other)}"
                 for name, (values, other) in FUNCTIONS.items())


def clickhouse_functions() -> tuple[str, ...]:
    """The statements that create tier_rank and tier_bit on ClickHouse (SQL functions are global to a server)."""
    return tuple(f"CREATE OR REPLACE FUNCTION {name} AS (t) -> {case(values, other)}"
                 for name, (values, other) in FUNCTIONS.items())


def install_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros on `con` unless this process already did. Temp macros belong to one connection, so a cursor
    (a connection of its own) or a connection opened around store.connect gets them here too."""
    if con in _ready:
        return
    for statement in duckdb_macros():
        con.execute(statement).fetchall()  # fetched, so that the connection holds no unfinished result
    _ready.add(con)


def expected() -> dict[str, list[int]]:
    """What each function must give for PROBE's values, from the contract."""
    return {name: [values.get(t, other) if t is not None else other for t in PROBE]
            for name, (values, other) in FUNCTIONS.items()}


def probe_duckdb(con: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    """What tier_rank and tier_bit give on `con` for PROBE's values (one query, values bound as parameters)."""
    params = {f"t{i}": t for i, t in enumerate(PROBE)}
    picks = ", ".join(f"{name}(${p}::VARCHAR)" for name in FUNCTIONS for p in params)
    (row,) = con.execute(f"SELECT {picks}", params).fetchall()
    return _split(list(row))


def probe_clickhouse(client: ClickHouseClient) -> dict[str, list[int]]:
    """What tier_rank and tier_bit give on ClickHouse for PROBE's values (one query, values bound as parameters)."""
    params = {f"t{i}": t for i, t in enumerate(PROBE)}
    picks = ", ".join(f"{name}({{{p}:Nullable(String)}}) AS {name}_{p}" for name in FUNCTIONS for p in params)
    row = client.query_arrow(f"SELECT {picks}", params).to_pylist()[0]
    return _split(list(row.values()))


def _split(values: list[int]) -> dict[str, list[int]]:
    n = len(PROBE)
    return {name: [int(v) for v in values[i * n:(i + 1) * n]] for i, name in enumerate(FUNCTIONS)}


def install_clickhouse(client: ClickHouseClient) -> None:
    """Create tier_rank and tier_bit on ClickHouse. A user not allowed to create functions can still read once
    `tierwise migrate --engine clickhouse` has created them: they are then checked against the contract instead."""
    from store.clickhouse.client import ClickHouseError

    try:
        for statement in clickhouse_functions():
            client.command(statement)
    except Exception as refused:  # the driver's own error type: chdb and clickhouse-connect raise different ones
        try:
            agrees = probe_clickhouse(client) == expected()
        except Exception:
            agrees = False
        if not agrees:
            raise ClickHouseError(f"cannot create the SQL functions tier_rank and tier_bit ({refused}): run `tierwise "
                                  "migrate --engine clickhouse` as a user allowed to CREATE FUNCTION") from refused
