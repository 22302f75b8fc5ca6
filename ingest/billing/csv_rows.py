"""Reading a billing CSV by its detected header: strictly, or keeping the rows that split when some do not."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.billing.detect import Detected

ERRORS = "tw_csv_errors"     # DuckDB's rejects table: one row per problem DuckDB met while splitting a row
SCANS = "tw_csv_scans"
ROWS = "tw_csv_rows"         # the rows that split, numbered as read
BROKEN = "tw_csv_broken"     # one row per row that did not split: its file row number, column, reason and text
NULL_STRINGS = ["NULL", "null", ""]
# Which of a row's problems is reported when DuckDB met several (a cut-off quote also leaves columns missing).
PRIORITY = ("INVALID ENCODING", "UNQUOTED VALUE", "LINE SIZE OVER MAXIMUM", "TOO MANY COLUMNS", "MISSING COLUMNS")
REASON_SQL = """CASE WHEN $cut AND line - 1 >= $last AND error_type IN ('MISSING COLUMNS', 'UNQUOTED VALUE')
        THEN 'the file ends inside this row: it is cut short; download or export it again'
    WHEN error_type = 'INVALID ENCODING' THEN 'holds bytes that are not UTF-8 text; save the file as UTF-8 and ingest it again'
    WHEN error_type = 'UNQUOTED VALUE' THEN 'a quoted value is never closed; close the quote (a quote inside a value is '
        || 'written twice: "")'
    WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'the row is longer than 2 MB (an unclosed quote?); fix the row'
    WHEN error_type = 'TOO MANY COLUMNS' THEN 'the row has ' || coalesce(nullif(regexp_extract(error_message,
        'Found: (\\d+)', 1), ''), 'more') || ' values but the header names ' || $ncols || ' columns (an unquoted comma or '
        || 'an extra value); quote values that hold commas or remove the extra value'
    WHEN error_type = 'MISSING COLUMNS' THEN 'the row has ' || coalesce(nullif(regexp_extract(error_message,
        'Found: (\\d+)', 1), ''), 'fewer') || ' values but the header names ' || $ncols || ' columns; complete the row'
    ELSE 'cannot be split into the header''s columns (' || error_message || '); fix the row' END"""


def column_names(det: Detected) -> dict[str, str]:
    """The header's columns as read_csv `columns` (all VARCHAR), made unique the way DuckDB compares names."""
    out: dict[str, str] = {}
    for i, name in enumerate(det.columns):
        base = name or f"column{i}"
        unique, n = base, 0
        while unique.lower() in {k.lower() for k in out}:
            n += 1
            unique = f"{base}_{n}"
        out[unique] = "VARCHAR"
    return out


def _read_sql(lenient: bool) -> str:
    """read_csv with the header's columns and RFC 4180 quoting: no dialect sniffing, so one bad row cannot mislead it."""
    rejects = f", store_rejects = true, rejects_table = '{ERRORS}', rejects_scan = '{SCANS}'" if lenient else ""
    return ("read_csv($p, auto_detect = false, columns = $cols, header = true, delim = ',', quote = '\"', "
            f"escape = '\"', nullstr = $nulls, compression = $c{rejects})")


def open_csv(con: duckdb.DuckDBPyConnection, path: Path, det: Detected, lenient: bool) -> duckdb.DuckDBPyRelation:
    """The file's rows with `__row`, the 1-based row number after the header.

    Strict: any row that does not split into the header's columns fails the read. Lenient: those rows go to BROKEN
    (with their row numbers, blank lines counted) and the others keep the numbers they have in the file.
    """
    params: dict[str, object] = {"p": str(path), "cols": column_names(det), "nulls": NULL_STRINGS,
                                 "c": "gzip" if det.container == "csv.gz" else "none"}
    if not lenient:
        return con.sql(f"SELECT row_number() OVER () AS __row, * FROM {_read_sql(False)}", params=params)
    for table in (ERRORS, SCANS, BROKEN):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ROWS} AS SELECT row_number() OVER () AS __k, * FROM {_read_sql(True)}",
                params)
    cut = det.container == "csv" and not _ends_with_newline(path)
    last = con.execute(f"SELECT (SELECT count(*) FROM {ROWS}) + (SELECT count(DISTINCT line) FROM {ERRORS})").fetchall()
    con.execute(
        f"CREATE TEMP TABLE {BROKEN} AS SELECT line - 1 AS x_SourceRow, coalesce(column_name, 'columns') AS field, "
        f"{REASON_SQL} AS reason, left(csv_line, 200) AS excerpt FROM {ERRORS} QUALIFY row_number() OVER ("
        f"PARTITION BY line ORDER BY list_position($priority, error_type::VARCHAR), column_idx) = 1",
        {"priority": list(PRIORITY), "ncols": len(det.columns), "cut": cut, "last": last[0][0]})
    # The i-th row read is file row i plus the broken rows before it: with broken rows r_1 < r_2 < …, row i follows
    # r_j exactly when r_j - j < i, so the largest such j (an as-of match) is what to add.
    return con.sql(
        f"SELECT t.__k + coalesce(g.j, 0) AS __row, t.* EXCLUDE (__k) FROM {ROWS} t ASOF LEFT JOIN ("
        f"SELECT x_SourceRow - j AS g, max(j) AS j FROM (SELECT x_SourceRow, row_number() OVER (ORDER BY x_SourceRow) "
        f"AS j FROM {BROKEN}) GROUP BY 1) g ON t.__k > g.g")


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return True
        f.seek(-1, 2)
        return f.read(1) == b"\n"


def broken_count(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of the last lenient read that did not split (0 when the last read was strict)."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $t AND temporary",
                       {"t": BROKEN}).fetchall()[0][0]:
        return 0
    return int(con.execute(f"SELECT count(*) FROM {BROKEN}").fetchall()[0][0])


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the last lenient read, so the next file starts clean."""
    for table in (ERRORS, SCANS, ROWS, BROKEN):
        con.execute(f"DROP TABLE IF EXISTS {table}")
