"""Opens a billing file as an all-VARCHAR temporary DuckDB view with a 1-based row number, plus shared SQL macros."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from ingest.billing import dates
from ingest.billing.csv_rows import open_csv
from ingest.billing.detect import Detected

RAW_VIEW = "tw_billing_raw"
SRC_VIEW = "tw_billing_src"
MAX_AMOUNT = 10**15  # larger than any bill line in any currency; below it, 10^8 rows still sum inside DECIMAL(38, 15)

# Static helper macros used by the mapping files in ingest/billing/formats/.
MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO tw_num(x) AS TRY_CAST(x AS DECIMAL(38, 15))",
    # canonical casing of an enum value; the lower-cased list is a constant folded once per query, not per row
    "CREATE OR REPLACE TEMP MACRO tw_canon(x, allowed) AS CASE WHEN list_contains(allowed, x) THEN x ELSE "
    "coalesce(allowed[list_position(list_transform(allowed, lambda a: lower(a)), lower(trim(x)))], nullif(trim(x), '')) END",
    # JSON text as the JSON type, else the same wrapped in braces (Azure EA tags), else NULL; TRY_CAST validates and
    # types in one parse, so the ledger's JSON columns need no second cast on insert
    "CREATE OR REPLACE TEMP MACRO tw_json(x) AS CASE WHEN x IS NULL OR trim(x) IN ('', '{}', '[]') THEN NULL "
    "ELSE coalesce(TRY_CAST(x AS JSON), TRY_CAST('{' || x || '}' AS JSON)) END",
    # an amount written with thousands separators and a decimal point (`1,234.56`): unambiguous, so reconciliation can
    # show the money of a row that was quarantined for it
    "CREATE OR REPLACE TEMP MACRO tw_grouped(x) AS CASE WHEN regexp_full_match(trim(x::VARCHAR), "
    "'[+-]?[0-9]{1,3}(,[0-9]{3})+[.][0-9]+') THEN TRY_CAST(replace(trim(x::VARCHAR), ',', '') AS DECIMAL(38, 15)) END",
    # an amount that can be summed with others: NULL when beyond MAX_AMOUNT
    f"CREATE OR REPLACE TEMP MACRO tw_summable(x) AS CASE WHEN abs(x) < {MAX_AMOUNT} THEN x END",
    "CREATE OR REPLACE TEMP MACRO tw_month_start(t) AS date_trunc('month', t)::TIMESTAMP",
    "CREATE OR REPLACE TEMP MACRO tw_month_end(t) AS (date_trunc('month', t) + INTERVAL 1 MONTH)::TIMESTAMP",
)


class BillingFileError(ValueError):
    """A billing file that cannot be mapped as a whole (e.g. a required column is missing)."""


def ident(name: str) -> str:
    """A quoted SQL identifier for a column name taken from a file header."""
    return '"' + name.replace('"', '""') + '"'


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'UTC'")
    for m in (*dates.MACROS, *MACROS):
        con.execute(m)


def _flat(name: str, dtype: str, keep_maps: bool) -> str:
    """Nested Parquet columns (map, struct, list) become JSON text; scalars keep their type for the mapping casts.

    With `keep_maps` string maps stay maps, so a mapping can read keys without a JSON round trip per row.
    """
    col = ident(name)
    if keep_maps and dtype == "MAP(VARCHAR, VARCHAR)":
        return col
    if dtype.startswith(("STRUCT", "MAP")) or dtype.endswith("]"):
        return f"to_json({col})::VARCHAR AS {col}"
    return col


def open_raw(con: duckdb.DuckDBPyConnection, path: Path, det: Detected, json_keys: Sequence[str] = (),
             keep_maps: bool = False, lenient: bool = False) -> tuple[str, ...]:
    """Create RAW_VIEW over `path` (CSV/JSON all VARCHAR, Parquet scalars typed, `__row` 1-based); returns its columns.

    `lenient` (CSV only) keeps the rows that split into the header's columns when others do not (csv_rows.py).
    """
    p = str(path)
    if det.container in ("csv", "csv.gz"):
        rel = open_csv(con, path, det, lenient)
    elif det.container == "parquet":
        described = con.sql("DESCRIBE SELECT * FROM read_parquet($p)", params={"p": p}).fetchall()
        types = {str(r[0]): str(r[1]) for r in described}
        cols = ", ".join(_flat(n, t, keep_maps) for n, t in types.items())
        rel = con.sql(f"SELECT file_row_number + 1 AS __row, {cols} FROM read_parquet($p, file_row_number = true)",
                      params={"p": p})
    elif det.container == "jsonl":
        keys = list(dict.fromkeys([*json_keys, *det.columns]))
        params: dict[str, object] = {"p": p}
        exprs = []
        for i, k in enumerate(keys):
            params[f"k{i}"] = "$." + ident(k)
            exprs.append(f"nullif(json ->> $k{i}, 'null') AS {ident(k)}")
        rel = con.sql(f"SELECT row_number() OVER () AS __row, {', '.join(exprs)} FROM read_ndjson_objects($p)",
                      params=params)
    else:
        raise BillingFileError(f"cannot read a {det.container} file as a billing table")
    con.register(RAW_VIEW, rel)
    return tuple(str(c) for c in rel.columns[1:])


def column_type(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The DuckDB type of RAW_VIEW's column `name`, or None when the file lacks it."""
    rows = con.sql(f"SELECT column_type FROM (DESCRIBE {RAW_VIEW}) WHERE column_name = $n", params={"n": name}).fetchall()
    return str(rows[0][0]) if rows else None


def project_src(con: duckdb.DuckDBPyConnection, present: Sequence[str], wanted: Sequence[str],
                extra: str = "", params: dict[str, object] | None = None) -> None:
    """Create SRC_VIEW: every `wanted` column (NULL when the file lacks it) plus `extra` expressions."""
    have = {c.lower(): c for c in present}
    cols = [f"{ident(have[w.lower()])} AS {ident(w)}" if w.lower() in have else f"NULL::VARCHAR AS {ident(w)}"
            for w in dict.fromkeys(wanted)]
    sel = ", ".join(["__row", *cols, *([extra] if extra else [])])
    con.register(SRC_VIEW, con.sql(f"SELECT {sel} FROM {RAW_VIEW}", params=params or {}))


def tags_from_columns(present: Sequence[str], prefix: str, strip: Sequence[str] = ()) -> tuple[str, dict[str, object]]:
    """SQL (+ params) building a JSON object from one-column-per-tag headers such as `resourceTags/user:app`."""
    tag_cols = [c for c in present if c.startswith(prefix)]
    if not tag_cols:
        return "NULL::VARCHAR AS __tags_json", {}
    params: dict[str, object] = {}
    items = []
    for i, c in enumerate(tag_cols):
        key = c[len(prefix):]
        for s in strip:
            key = key.removeprefix(s)
        params[f"tag{i}"] = key
        items.append(f"struct_pack(k := $tag{i}, v := {ident(c)})")
    entries = f"list_filter([{', '.join(items)}], lambda e: e.v IS NOT NULL)"
    sql = f"CASE WHEN len({entries}) = 0 THEN NULL ELSE to_json(map_from_entries({entries}))::VARCHAR END AS __tags_json"
    return sql, params
