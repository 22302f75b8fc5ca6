"""Writes the costs ledger as a FOCUS 1.2 file (CSV or Parquet) for focus-validator and other FOCUS tools."""

from __future__ import annotations

from pathlib import Path

import duckdb

from queries.engine import DuckDBEngine, Engine
from queries.loader import sql


def export_focus(source: duckdb.DuckDBPyConnection | Engine, out: Path, fmt: str | None = None) -> int:
    """Write every ledger row to `out` (format from `fmt`, else the file suffix); returns the row count.

    On ClickHouse the rows come back through the engine and polars writes the file."""
    kind = fmt or ("parquet" if out.suffix.lower() == ".parquet" else "csv")
    if kind not in ("csv", "parquet"):
        raise ValueError(f"unknown FOCUS export format {kind!r}: use csv or parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    con = source.con if isinstance(source, DuckDBEngine) else source
    if not isinstance(con, duckdb.DuckDBPyConnection):
        frame = con.fetch("focus_export", {})
        if kind == "parquet":
            frame.write_parquet(out)
        else:
            frame.write_csv(out)
        return frame.height
    rel = con.sql(sql("focus_export"))
    if kind == "parquet":
        rel.write_parquet(str(out))
    elif kind == "csv":
        rel.write_csv(str(out), header=True)
    else:
        raise ValueError(f"unknown FOCUS export format {kind!r}: use csv or parquet")
    rows = con.execute("SELECT count(*) FROM costs").fetchall()
    return int(rows[0][0])
