"""The registry of tables derived from spans: their fold into each batch's transaction, rebuild, check and views."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from store.derived import hop_spans, link_maps, request_entries, rollup, trace_index, usage_rollup
from store.derived.model import Derived, Kind, differing_rows_sql

__all__ = ["REGISTRY", "Derived", "Kind", "check", "clickhouse_views", "differing_rows", "mismatches", "rebuild",
           "rebuild_changed", "refresh", "repair"]

# Folded in this order: a table comes after the tables it `reads` and before those it `reads_before`.
REGISTRY: tuple[Derived, ...] = (*link_maps.TABLES, rollup.TABLE, usage_rollup.TABLE, *hop_spans.TABLES,
                                 *trace_index.TABLES, *request_entries.TABLES)
DEFINITIONS_TABLE = "derived_definitions"


def ordered(tables: Iterable[Derived]) -> tuple[Derived, ...]:
    """The tables in fold order, after checking that the order honours every declared read."""
    chosen = tuple(tables)
    position = {d.table: i for i, d in enumerate(chosen)}
    for i, d in enumerate(chosen):
        late = [t for t in d.reads if position.get(t, -1) >= i]
        early = [t for t in d.reads_before if t in position and position[t] <= i]
        if late or early:
            raise ValueError(f"derived table {d.table} is folded out of order: reads {late or early}")
    return chosen


def by_table(name: str) -> Derived:
    """The registry entry of one derived table."""
    for d in REGISTRY:
        if d.table == name:
            return d
    raise KeyError(f"no derived table {name!r}: the registry holds {', '.join(d.table for d in REGISTRY)}")


def refresh(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Fold one span batch (the registered relation `view`: the spans table's columns minus batch_key) into every
    derived table, in the caller's transaction; the ledger that skips committed batches keeps a re-ingest or a
    resumed file from folding a batch twice."""
    for d in ordered(REGISTRY):
        if d.revisit is not None:
            con.execute(d.revisit(view))
        con.execute(d.fold_sql(view))


def _readers(names: set[str]) -> set[str]:
    """The named tables and every table that reads one of them, transitively."""
    grown = set(names)
    for d in REGISTRY:
        if set(d.reads) & grown:
            grown.add(d.table)
    return grown


def rebuild(con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None, own_transactions: bool = True
            ) -> list[str]:
    """Recompute the named derived tables (all by default) and the tables that read them from every span, each
    in its own transaction (or all in the caller's), and record their definitions; returns the tables rebuilt."""
    names = _readers(set(tables)) if tables is not None else {d.table for d in REGISTRY}
    done = []
    for d in ordered(REGISTRY):
        if d.table not in names:
            continue
        if own_transactions:
            con.execute("BEGIN TRANSACTION")
        try:
            for stmt in d.rebuild_sql():
                con.execute(stmt)
            _record(con, d)
            if own_transactions:
                con.execute("COMMIT")
        except BaseException:
            if own_transactions:
                con.execute("ROLLBACK")
            raise
        done.append(d.table)
    return done


def _record(con: duckdb.DuckDBPyConnection, d: Derived) -> None:
    con.execute(f"INSERT OR REPLACE INTO {DEFINITIONS_TABLE} VALUES ($t, $f)", {"t": d.table, "f": d.fingerprint})


def stale(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The derived tables whose stored definition differs from this version's (or was never recorded)."""
    stored = dict(con.execute(f"SELECT table_name, fingerprint FROM {DEFINITIONS_TABLE}").fetchall())
    return [d.table for d in REGISTRY if stored.get(d.table) != d.fingerprint]


def rebuild_changed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """After the migrations: rebuild the derived tables whose definition changed, and those reading them (a store
    without spans only records the definitions); returns the tables rebuilt."""
    changed = stale(con)
    if not changed:
        return []
    row = con.execute("SELECT EXISTS (SELECT 1 FROM spans)").fetchall()[0]
    if row is None or not row[0]:
        for d in REGISTRY:
            if d.table in changed:
                _record(con, d)
        return []
    return rebuild(con, changed)


def check(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Each derived table and the rows by which it differs from a recomputation over spans (all 0: the store holds)."""
    results = []
    for d in REGISTRY:
        row = con.execute(d.differences_sql()).fetchall()[0]
        results.append((d.table, int(row[0]) if row else 0))
    return results


def repair(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rebuild the derived tables that differ from a recomputation over spans (and their readers); returns them."""
    differing = [name for name, n in check(con) if n]
    return rebuild(con, differing) if differing else []


def mismatches(con: duckdb.DuckDBPyConnection, *tables: str) -> int:
    """Rows by which the named derived tables differ from a recomputation over spans (0 when they are exact)."""
    total = 0
    for name in tables:
        row = con.execute(by_table(name).differences_sql()).fetchall()[0]
        total += int(row[0]) if row else 0
    return total


def differing_rows(con: duckdb.DuckDBPyConnection, kept: str, fresh: str) -> int:
    """Rows of SELECT `kept` and SELECT `fresh` that the other lacks, as multisets (0 when they are equal)."""
    row = con.execute(differing_rows_sql(kept, fresh)).fetchall()[0]
    return int(row[0]) if row else 0


def clickhouse_views() -> list[tuple[str, str]]:
    """(table, DDL) of every derived table ClickHouse keeps as a view over its `spans`, readers after what they read."""
    return [(d.table, f"CREATE OR REPLACE VIEW {d.table} AS {d.clickhouse}")
            for d in ordered(REGISTRY) if d.clickhouse is not None]
