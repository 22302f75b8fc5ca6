"""Loading query SQL by name and running it with named parameters."""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb
import polars as pl


@cache
def sql(name: str) -> str:
    """The text of queries/<name>.sql."""
    return resources.files("queries").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def names() -> list[str]:
    """Every query shipped in queries/, by name."""
    return sorted(e.name.removesuffix(".sql") for e in resources.files("queries").iterdir()
                  if e.name.endswith(".sql"))


def fetch(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    """Run queries/<name>.sql with `$named` parameters and return its rows."""
    text = sql(name)
    used = {k: v for k, v in params.items() if f"${k}" in text}
    frame: pl.DataFrame = con.sql(text, params=used).pl()
    return frame
