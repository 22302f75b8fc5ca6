"""Loading query SQL by name and running it with named parameters."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import duckdb
import polars as pl

if TYPE_CHECKING:
    from queries.engine import Engine


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@cache
def sql(name: str) -> str:
    """The text of queries/<name>.sql."""
    return resources.files("queries").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def names() -> list[str]:
    """Every query shipped in queries/, by name."""
    return sorted(e.name.removesuffix(".sql") for e in resources.files("queries").iterdir()
                  if e.name.endswith(".sql"))


def fetch(con: duckdb.DuckDBPyConnection | Engine, name: str, **params: object) -> pl.DataFrame:
    """Run queries/<name>.sql with `$named` parameters and return its rows, on the store or another engine."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return con.fetch(name, params)
    text = sql(name)
    named = set(_PARAM.findall(text))
    used = {k: v for k, v in params.items() if k in named}
    frame: pl.DataFrame = con.sql(text, params=used).pl()
    return frame
