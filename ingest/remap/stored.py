"""Placement of every stored span and metric point derived again, built-in rules then mapping rules, in place.

Rows are grouped by what decides their placement (the resource's attributes and the few row attributes that
matter), each group is decided once in Python (ingest.remap.placement, as at ingest), and only the groups whose
columns change are written back. Runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from ingest.remap.placement import SPAN_DECLARED, Placement, builtin_point, builtin_span, decide, overlay
from store.map_rules import referenced_keys
from store.settings import Settings

SPAN_COLUMNS = ("tier", "tier_source", "site", "workload", "workload_type", "data_class")
POINT_COLUMNS = SPAN_COLUMNS[:4]
CHANGES = "remap_changes"


def _path(key: str) -> str:
    return "$." + orjson.dumps(key).decode()


def _groups_sql(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join(columns)
    return (f"SELECT coalesce(resource_attributes::VARCHAR, '{{}}') AS ra, "
            f"coalesce(to_json(json_extract(attributes, $paths))::VARCHAR, '[]') AS rv, {cols} "
            f"FROM {table} GROUP BY ALL")


def _update_sql(table: str, columns: Sequence[str]) -> str:
    sets = ", ".join(f"{c} = m.new_{c}" for c in columns)
    same = " AND ".join(f"{table}.{c} IS NOT DISTINCT FROM m.old_{c}" for c in columns)
    return (f"UPDATE {table} SET {sets} FROM {CHANGES} m "
            f"WHERE coalesce({table}.resource_attributes::VARCHAR, '{{}}') = m.ra "
            f"AND coalesce(to_json(json_extract({table}.attributes, $paths))::VARCHAR, '[]') = m.rv AND {same}")


def _remap(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], keys: Sequence[str],
           decide_row: Any) -> int:
    """Write back the groups whose placement changes; returns the rows changed."""
    params = {"paths": [_path(k) for k in keys] or ["$.__tierwise_none"]}
    changes: list[dict[str, Any]] = []
    resources: dict[str, dict[str, Any]] = {}
    for ra, rv, *old in con.execute(_groups_sql(table, columns), params).fetchall():
        resource = resources.get(ra)
        if resource is None:
            resource = resources[ra] = orjson.loads(ra)
        values = dict(zip(keys, orjson.loads(rv) or [None] * len(keys), strict=False))
        new: Placement = decide_row(resource, values)
        fresh = [getattr(new, col) for col in columns]
        if fresh != list(old):
            changes.append({"ra": ra, "rv": rv, **{f"old_{c}": v for c, v in zip(columns, old, strict=True)},
                            **{f"new_{c}": v for c, v in zip(columns, fresh, strict=True)}})
    if not changes:
        return 0
    names = ["ra", "rv", *(f"old_{c}" for c in columns), *(f"new_{c}" for c in columns)]
    con.register(CHANGES, pa.table({n: pa.array([ch[n] for ch in changes], pa.string()) for n in names}))
    try:
        row = con.execute(_update_sql(table, columns), params).fetchone()
    finally:
        con.unregister(CHANGES)
    return int(row[0]) if row else 0


def remap_spans(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Derive every span's placement again; returns the spans whose columns changed."""
    rules = settings.map_rules
    ruled = referenced_keys(rules)
    keys = (*SPAN_DECLARED, *(k for k in ruled if k not in SPAN_DECLARED))

    def place(resource: dict[str, Any], values: dict[str, Any]) -> Placement:
        own = {k: values.get(k) for k in ruled if values.get(k) is not None}
        return overlay(builtin_span(resource, values, settings), decide(rules, resource, own))

    return _remap(con, "spans", SPAN_COLUMNS, keys, place)


def remap_points(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Derive every metric point's placement again; returns the points whose columns changed."""
    rules = settings.map_rules
    keys = referenced_keys(rules)

    def place(resource: dict[str, Any], values: dict[str, Any]) -> Placement:
        own = {k: v for k, v in values.items() if v is not None}
        return overlay(builtin_point(resource, settings), decide(rules, resource, own), has_class=False)

    return _remap(con, "metric_points", POINT_COLUMNS, keys, place)
