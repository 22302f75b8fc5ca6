"""Where a billing file's ledger rows are written: narrow rows plus one per-file row, or the wide table (migration 0008).

`costs` is a view; its rows live in `costs_narrow` joined to `costs_files`, or in `costs_wide`. The split of the
columns is the store's own (the tables of 0008), read here, so it is named once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb

from ingest.billing.source import ident

NARROW = "costs_narrow"
FILES = "costs_files"
WIDE = "costs_wide"
FILE_KEY = "cost_file"
TABLES = (WIDE, NARROW, FILES)  # the view `costs` is their union; ClickHouse keeps one `costs` table instead
# Set by ingest/billing/load.py itself, never by a mapping: the same on every row of a file by construction.
SOURCE_COLUMNS = ("x_SourceFile", "x_SourceFormat", "batch_key")
SAMPLE_ROWS = 4096  # rows whose per-file values are compared before a file is written narrow
VARIES = "tierwise: a per-file ledger column varies within this billing file"


@dataclass(frozen=True)
class Layout:
    """The per-file columns of the ledger with their types; every other ledger column is a narrow one."""

    per_file: Mapping[str, str]

    def checked(self, produced: Sequence[str]) -> list[str]:
        """The per-file columns a mapping produces (the others are NULL on every row, or set by the loader)."""
        have = set(produced)
        return [c for c in self.per_file if c in have and c not in SOURCE_COLUMNS]


def layout(con: duckdb.DuckDBPyConnection) -> Layout:
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t "
                       "AND column_name <> $k ORDER BY ordinal_position", {"t": FILES, "k": FILE_KEY}).fetchall()
    return Layout({str(n): str(t) for n, t in rows})


def _cast(lay: Layout, column: str, expr: str) -> str:
    return f"CAST({expr} AS {lay.per_file[column]})"


def reference(con: duckdb.DuckDBPyConnection, lay: Layout, checked: Sequence[str],
              accepted_sql: str) -> dict[str, object] | None:
    """The per-file values of the file's first accepted rows when they are one combination there, else None.

    `accepted_sql` selects the accepted mapped rows. A file whose sample already varies (or has no accepted row)
    goes to the wide table without a narrow attempt.
    """
    if not checked:
        return {}
    cols = ", ".join(f"{_cast(lay, c, 'a.' + ident(c))} AS {ident(c)}" for c in checked)
    got = con.execute(f"SELECT DISTINCT {cols} FROM (SELECT * FROM ({accepted_sql}) LIMIT {SAMPLE_ROWS}) a "
                      "LIMIT 2").fetchall()
    return dict(zip(checked, got[0], strict=True)) if len(got) == 1 else None


def check_sql(lay: Layout, ref: Mapping[str, object], alias: str) -> tuple[str, dict[str, object]]:
    """A boolean SQL expression that is true when a row's per-file values equal `ref` (constants fold away)."""
    if not ref:
        return "true", {}
    params = {f"ref{i}": v for i, v in enumerate(ref.values())}
    terms = [f"{_cast(lay, c, alias + '.' + ident(c))} IS NOT DISTINCT FROM {_cast(lay, c, f'$ref{i}')}"
             for i, c in enumerate(ref)]
    return " AND ".join(terms), params


def add_file(con: duckdb.DuckDBPyConnection, lay: Layout, ref: Mapping[str, object],
             source: Mapping[str, object]) -> int:
    """Insert the file's per-file row (`ref` plus the loader's `source` columns); returns its key."""
    (key,) = con.execute(f"SELECT coalesce(max({FILE_KEY}), 0) + 1 FROM {FILES}").fetchall()[0]
    values = {**ref, **source}
    params = {f"v{i}": v for i, v in enumerate(values.values())} | {"key": key}
    cols = ", ".join(f"{_cast(lay, c, f'$v{i}')} AS {ident(c)}" for i, c in enumerate(values))
    con.execute(f"INSERT INTO {FILES} BY NAME SELECT $key AS {FILE_KEY}, {cols}", params)
    return int(key)
