"""Where queries run: the embedded DuckDB store or ClickHouse, behind one `fetch(name, params)`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import polars as pl

from ingest import store
from ingest.clickhouse.client import ClickHouseClient
from queries import dialect, loader, registry

ENGINES = ("duckdb", "clickhouse")


@runtime_checkable
class Engine(Protocol):
    """Runs a query of queries/ by name with `$named` parameters; the polars jobs only ever see its frames."""

    name: str

    def fetch(self, query: str, params: Mapping[str, object]) -> pl.DataFrame:
        """Rows of queries/<query>.sql; parameters the SQL does not use are ignored, missing ones are NULL."""
        ...

    def close(self) -> None: ...


class DuckDBEngine:
    """The embedded store, read-only, exactly as before engines existed."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @classmethod
    def open(cls, db: Path | str) -> DuckDBEngine:
        return cls(store.connect(db, read_only=True))

    def fetch(self, query: str, params: Mapping[str, object]) -> pl.DataFrame:
        return loader.fetch(self.con, query, **params)

    def close(self) -> None:
        self.con.close()


def _param_types(query: str, text: str) -> dict[str, type]:
    """Python types of the `$params` of queries/<query>.sql, from the registry (declared or typed by name)."""
    return registry.sql_param_types(query, text)


@cache
def clickhouse_sql(query: str) -> str:
    """The ClickHouse text of a query: queries/clickhouse/<query>.sql where the dialects cannot meet, else transpiled."""
    override = resources.files("queries").joinpath("clickhouse", f"{query}.sql")
    if override.is_file():
        return override.read_text(encoding="utf-8")
    text = loader.sql(query)
    return dialect.to_clickhouse(text, _param_types(query, text))


def _normalized(frame: pl.DataFrame) -> pl.DataFrame:
    """ClickHouse result types as DuckDB gives them: naive UTC timestamps, signed 64-bit counts."""
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            casts.append(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit("us"))
        elif dtype in (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64):
            casts.append(pl.col(name).cast(pl.Int64))
    return frame.with_columns(casts) if casts else frame


class ClickHouseEngine:
    """ClickHouse (a server, or chdb in-process) holding tables and views with the store's names and columns."""

    name = "clickhouse"

    def __init__(self, client: ClickHouseClient) -> None:
        self.client = client

    @classmethod
    def open(cls, url: str) -> ClickHouseEngine:
        return cls(ClickHouseClient(url, settings=dialect.SETTINGS))

    def fetch(self, query: str, params: Mapping[str, object]) -> pl.DataFrame:
        text = clickhouse_sql(query)
        used = {k: params.get(k) for k in _placeholders(text)}
        frame = pl.from_arrow(self.client.query_arrow(text, used))
        assert isinstance(frame, pl.DataFrame)
        return _normalized(frame)

    def close(self) -> None:
        self.client.close()


@cache
def _placeholders(text: str) -> tuple[str, ...]:
    import re

    return tuple(dict.fromkeys(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*):", text)))


def open_engine(engine: str, db: Path | str, clickhouse_url: str | None = None) -> Engine:
    """The engine named by `--engine`/TIERWISE_ENGINE: the DuckDB store at `db` (checked current), or ClickHouse at
    `clickhouse_url`."""
    if engine == "duckdb":
        duck = DuckDBEngine.open(db)
        try:
            store.check_current(duck.con)
        except store.StoreError:
            duck.close()
            raise
        return duck
    if engine == "clickhouse":
        if not clickhouse_url:
            raise ValueError("--engine clickhouse needs --clickhouse-url or TIERWISE_CLICKHOUSE_URL")
        return ClickHouseEngine.open(clickhouse_url)
    raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
