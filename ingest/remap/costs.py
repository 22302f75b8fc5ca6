"""[[cost_map]] rules over ledger rows: the x_Map* columns (migration 0017) the `costs` view shows over the bill's own.

Used by the billing writer for the file it writes and by `tierwise map apply` for the whole ledger, so both give
the same rows. Rows are grouped by the values the rules test; only groups whose outcome changes are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from store.map_rules import TAG_PREFIX, Rule, first_match, referenced_keys

MAPPED = ("x_MapRule", "x_MapWorkload", "x_MapTier", "x_MapSiteId")
CHANGES = "cost_remap_changes"
# Each ledger table with the relation its rows are read through (narrow rows take per-file values from costs_files).
TABLES = (("costs_wide", "costs_wide", "costs_wide"),
          ("costs_narrow", "costs_narrow JOIN costs_files USING (cost_file)", "costs_narrow"))


def _expr(key: str, table: str) -> str:
    if key.startswith(TAG_PREFIX):
        return f"json_extract_string({table}.Tags, {_literal('$.' + orjson.dumps(key[len(TAG_PREFIX):]).decode())})"
    return '"' + key.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _key_sql(keys: Sequence[str], table: str) -> str:
    return f"to_json([{', '.join(_expr(k, table) for k in keys)}]::VARCHAR[])::VARCHAR" if keys else "'[]'"


def outcome(rule: Rule | None) -> tuple[str | None, ...]:
    """The x_Map* values a rule gives a row (all None: no rule)."""
    if rule is None:
        return (None, None, None, None)
    return (rule.name, rule.value("workload"), rule.value("tier"), rule.value("site"))


def remap_costs(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], batch_key: str | None = None) -> int:
    """Set the x_Map* columns of the ledger's rows (of one file's `batch_key`, else all); returns rows changed."""
    keys = referenced_keys(rules)
    changed = 0
    for table, relation, alias in TABLES:
        where = "WHERE batch_key = $key" if batch_key is not None else ""
        params: dict[str, Any] = {"key": batch_key} if batch_key is not None else {}
        groups = con.execute(f"SELECT {_key_sql(keys, alias)} AS k, {', '.join(MAPPED)} FROM {relation} {where} "
                             "GROUP BY ALL", params).fetchall()
        rows: list[tuple[Any, ...]] = []
        for k, *old in groups:
            values = dict(zip(keys, orjson.loads(k), strict=True))
            new = outcome(first_match(rules, values.get))
            if list(new) != list(old):
                rows.append((k, *old, *new))
        if not rows:
            continue
        names = ["k", *(f"old_{c}" for c in MAPPED), *(f"new_{c}" for c in MAPPED)]
        con.register(CHANGES, pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)}))
        try:
            changed += _update(con, table, keys, batch_key)
        finally:
            con.unregister(CHANGES)
    return changed


def _update(con: duckdb.DuckDBPyConnection, table: str, keys: Sequence[str], batch_key: str | None) -> int:
    sets = ", ".join(f"{c} = m.new_{c}" for c in MAPPED)
    same = " AND ".join(f"{table}.{c} IS NOT DISTINCT FROM m.old_{c}" for c in MAPPED)
    params: dict[str, Any] = {"key": batch_key} if batch_key is not None else {}
    if table == "costs_wide":
        scope = "AND costs_wide.batch_key = $key" if batch_key is not None else ""
        sql = (f"UPDATE costs_wide SET {sets} FROM {CHANGES} m WHERE {_key_sql(keys, 'costs_wide')} = m.k "
               f"AND {same} {scope}")
    else:
        scope = "AND f.batch_key = $key" if batch_key is not None else ""
        sql = (f"UPDATE costs_narrow SET {sets} FROM costs_files f, {CHANGES} m "
               f"WHERE f.cost_file = costs_narrow.cost_file AND {_key_sql(keys, 'costs_narrow')} = m.k "
               f"AND {same} {scope}")
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
