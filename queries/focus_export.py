"""Writes the costs ledger as a FOCUS 1.2 file (CSV or Parquet) for focus-validator and other FOCUS tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from queries import registry

if TYPE_CHECKING:
    from queries.engines.engine import Engine


def export_focus(engine: Engine, out: Path, fmt: str | None = None) -> int:
    """Write every ledger row to `out` (format from `fmt`, else the file suffix); returns the row count.

    DuckDB writes the file itself; on ClickHouse the rows come back through the engine and polars writes it."""
    kind = fmt or ("parquet" if out.suffix.lower() == ".parquet" else "csv")
    if kind not in ("csv", "parquet"):
        raise ValueError(f"unknown FOCUS export format {kind!r}: use csv or parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    return engine.write("focus_export", {}, registry.sql_types("focus_export"), out, kind)
