"""The flags several `tierwise` commands share (--db, --engine, --clickhouse-url) and the engine they open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ingest import store
from ingest.settings import load_settings
from queries import engine as engines
from queries.engine import Engine

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    """`--db FILE`, else TIERWISE_DB, else ./tierwise.duckdb."""
    return click.option("--db", type=click.Path(dir_okay=False), default=None,
                        help="DuckDB store (default: $TIERWISE_DB or ./tierwise.duckdb).")(f)


def engine_options(f: F) -> F:
    """`--engine duckdb|clickhouse` and `--clickhouse-url` (else TIERWISE_ENGINE, TIERWISE_CLICKHOUSE_URL)."""
    f = click.option("--clickhouse-url", "clickhouse_url", default=None,
                     help="With --engine clickhouse: chdb:///dir or clickhouse://user@host:8123/db "
                          "(default: $TIERWISE_CLICKHOUSE_URL; password: $TIERWISE_CLICKHOUSE_PASSWORD).")(f)
    return click.option("--engine", "engine_name", type=click.Choice(["duckdb", "clickhouse"]), default=None,
                        help="Where queries run (default: $TIERWISE_ENGINE or duckdb).")(f)


def open_engine(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> Engine:
    """The store or ClickHouse the flags name, as queries.engine opens it; bad flags are usage errors."""
    try:
        s = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
        return engines.open_engine(s.engine, s.db_path, s.clickhouse_url)
    except (ValueError, store.StoreError) as e:
        raise click.UsageError(str(e)) from None
