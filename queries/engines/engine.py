"""Where queries run: the Engine protocol, ClickHouse behind it, and opening the engine `--engine` names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import polars as pl

import store
from queries import loader
from queries.catalog import ParamType, QueryError
from queries.engines import dialect
from queries.engines.duckdb_engine import WRITERS, DuckDBEngine, DuckDBOnly
from store import tier_sql
from store.clickhouse.client import ClickHouseClient

ENGINES = ("duckdb", "clickhouse")


@runtime_checkable
class Engine(Protocol):
    """Runs a query of queries/ by name with `$named` values and their declared types (the catalogue's `Param`s);
    the polars jobs only ever see its frames. Opened once, where the CLI, the dashboard, a test or a benchmark opens
    the store (duckdb_engine.DuckDBEngine) or ClickHouse (ClickHouseEngine)."""

    name: str

    def fetch(self, query: str, params: Mapping[str, object], types: Mapping[str, ParamType]) -> pl.DataFrame:
        """Rows of queries/<query>.sql; parameters the SQL does not use are ignored, missing ones are NULL. `types`
        holds the declared type of every parameter the SQL uses."""
        ...

    def write(self, query: str, params: Mapping[str, object], types: Mapping[str, ParamType], out: Path,
              kind: str) -> int:
        """The rows fetch gives, written to `out` as `kind` (csv or parquet); returns how many."""
        ...

    def first_row(self, sql: str) -> tuple[object, ...]:
        """The first row of plain SQL text both dialects read (counts, min and max over a table)."""
        ...

    def duckdb_connection(self, needed_by: str) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for `needed_by`, work that runs on the DuckDB store only; DuckDBOnly elsewhere."""
        ...

    def close(self) -> None: ...


def _typed(query: str, text: str, types: Mapping[str, ParamType]) -> tuple[tuple[str, type], ...]:
    """The declared type of every `$param` the text uses, in order; QueryError names any the catalogue leaves out."""
    used = loader.placeholders(text)
    if missing := [n for n in used if n not in types]:
        raise QueryError(f"queries/{query}.sql uses {', '.join('$' + n for n in missing)}, which its query in the "
                         "catalogue does not declare: declare it and its type")
    return tuple((n, types[n]) for n in used)


def clickhouse_sql(query: str, types: Mapping[str, ParamType]) -> str:
    """The ClickHouse text of a query: queries/engines/clickhouse/<query>.sql where the dialects cannot meet, else
    transpiled, its `$params` bound as `{name:Type}` from their declared `types`."""
    override = _override(query)
    if override is not None:
        return override
    return _transpiled(query, _typed(query, loader.sql(query), types))


@cache
def _override(query: str) -> str | None:
    """queries/engines/clickhouse/<query>.sql, if there is one."""
    path = resources.files("queries.engines").joinpath("clickhouse", f"{query}.sql")
    return path.read_text(encoding="utf-8") if path.is_file() else None


@cache
def _transpiled(query: str, types: tuple[tuple[str, type], ...]) -> str:
    return dialect.to_clickhouse(loader.sql(query), dict(types))


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
        tier_sql.install_clickhouse(client)  # tier_rank/tier_bit, which the queries order and filter tiers by

    @classmethod
    def open(cls, url: str) -> ClickHouseEngine:
        return cls(ClickHouseClient(url, settings=dialect.SETTINGS))

    def fetch(self, query: str, params: Mapping[str, object], types: Mapping[str, ParamType]) -> pl.DataFrame:
        text = clickhouse_sql(query, types)
        used = {k: params.get(k) for k in _placeholders(text)}
        frame = pl.from_arrow(self.client.query_arrow(text, used))
        assert isinstance(frame, pl.DataFrame)
        return _normalized(frame)

    def write(self, query: str, params: Mapping[str, object], types: Mapping[str, ParamType], out: Path,
              kind: str) -> int:
        """The rows fetch gives, written by polars."""
        if kind not in WRITERS:
            raise ValueError(f"unknown file format {kind!r}: use csv or parquet")
        frame = self.fetch(query, params, types)
        if kind == "parquet":
            frame.write_parquet(out)
        else:
            frame.write_csv(out)
        return frame.height

    def first_row(self, sql: str) -> tuple[object, ...]:
        return tuple(self.client.query_arrow(sql, {}).to_pylist()[0].values())

    def duckdb_connection(self, needed_by: str) -> duckdb.DuckDBPyConnection:
        raise DuckDBOnly(f"{needed_by} run on the DuckDB store; {self.name} serves the registered queries only")

    def close(self) -> None:
        self.client.close()


_CLICKHOUSE_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):")


@cache
def _placeholders(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_CLICKHOUSE_PARAM.findall(text)))


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
