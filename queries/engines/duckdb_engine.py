"""The embedded DuckDB store as an engine: every DuckDB-specific step of running a query lives here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

import store
from queries import loader
from queries.catalog import ParamType
from store import tier_sql

WRITERS = ("csv", "parquet")


class DuckDBOnly(RuntimeError):
    """Work that runs on the DuckDB store only (the semantic model's measures) was asked of another engine."""


class DuckDBEngine:
    """The store, read-only: queries/<name>.sql run as they are, `$named` values bound by DuckDB."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        tier_sql.install_duckdb(con)  # tier_rank/tier_bit, should `con` not come from store.connect (a cursor, a test store)

    @classmethod
    def open(cls, db: Path | str) -> DuckDBEngine:
        return cls(store.connect(db, read_only=True))

    def _relation(self, query: str, params: Mapping[str, object], counted: bool = False) -> duckdb.DuckDBPyRelation:
        """queries/<query>.sql (or the count of its rows) with the values of the `$params` it names."""
        text = loader.sql(query)
        named = set(loader.placeholders(text))
        sql = f"SELECT count(*) FROM (\n{_statement(text)}\n)" if counted else text
        return self.con.sql(sql, params={k: params.get(k) for k in named})  # missing ones are NULL

    def fetch(self, query: str, params: Mapping[str, object], types: Mapping[str, ParamType]) -> pl.DataFrame:
        """Rows of queries/<query>.sql. DuckDB types each value as Python gives it (the catalogue has checked it
        against `types`); parameters the SQL does not use are ignored."""
        frame: pl.DataFrame = self._relation(query, params).pl()
        return frame

    def write(self, query: str, params: Mapping[str, object], types: Mapping[str, ParamType], out: Path,
              kind: str) -> int:
        """Rows of queries/<query>.sql written by DuckDB itself to `out` as CSV (with a header) or Parquet; returns
        how many."""
        if kind not in WRITERS:
            raise ValueError(f"unknown file format {kind!r}: use csv or parquet")
        rel = self._relation(query, params)
        if kind == "parquet":
            rel.write_parquet(str(out))
        else:
            rel.write_csv(str(out), header=True)
        (count,) = self._relation(query, params, counted=True).fetchall()[0]
        return int(count)

    def first_row(self, sql: str) -> tuple[object, ...]:
        """The first row of plain SQL text (counts, min and max over a table)."""
        return tuple(self.con.execute(sql).fetchall()[0])

    def duckdb_connection(self, needed_by: str) -> duckdb.DuckDBPyConnection:
        """The connection itself, for `needed_by`, work that runs on the DuckDB store only."""
        return self.con

    def close(self) -> None:
        self.con.close()


def _statement(text: str) -> str:
    """A query's text as a subquery: without the `;` that may end it."""
    return re.sub(r";\s*$", "", text.strip())
