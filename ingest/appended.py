"""Derived tables that grow by appending rows computed from each committed span batch, never by merging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Appended:
    """A derived table and the SELECT of its rows from the spans of a relation (a batch view, or `spans`)."""

    table: str
    rows: Callable[[str], str]


def fold(con: duckdb.DuckDBPyConnection, view: str, tables: Sequence[Appended]) -> None:
    """Append the rows of one committed span batch (relation `view`), in the caller's transaction.

    Exact because the ledger that skips committed batches keeps a re-ingest or a resumed file from appending a
    batch twice, and the queries over these tables never assume one row per key.
    """
    for t in tables:
        con.execute(f"INSERT INTO {t.table} {t.rows(view)}")


def rebuild(con: duckdb.DuckDBPyConnection, tables: Sequence[Appended]) -> None:
    """Recompute the tables from every span (for stores whose spans were written around the loader)."""
    con.execute("BEGIN TRANSACTION")
    try:
        for t in tables:
            con.execute(f"DELETE FROM {t.table}")
            con.execute(f"INSERT INTO {t.table} {t.rows('spans')}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def differing_rows(con: duckdb.DuckDBPyConnection, kept: str, fresh: str) -> int:
    """Rows of SELECT `kept` and SELECT `fresh` that the other lacks, as multisets (0 when they are equal)."""
    row = con.execute(f"SELECT count(*) FROM (({kept} EXCEPT ALL {fresh}) UNION ALL ({fresh} EXCEPT ALL {kept}))"
                      ).fetchall()
    return int(row[0][0])
