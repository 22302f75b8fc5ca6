"""The flags several `tierwise` commands share (--db, --engine, --clickhouse-url) and the store or engine they open."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
import duckdb

import store
from app import connection
from queries.engines.duckdb_engine import DuckDBEngine
from store.settings import load_settings

if TYPE_CHECKING:
    from queries.engines.engine import Engine

F = TypeVar("F", bound=Callable[..., Any])


def _foreign_store(kwargs: dict[str, Any]) -> connection.NotAStore | None:
    """NotAStore when the DuckDB store the command's flags name is a file of another kind (checked before any command
    opens it, writers included, so DuckDB never attaches a SQLite file as the store); None otherwise, and when the
    flags name ClickHouse or do not resolve (the command reports those itself)."""
    try:
        s = load_settings(db=kwargs.get("db"), engine=kwargs.get("engine_name") or kwargs.get("engine"))
    except (ValueError, OSError):
        return None
    return connection.not_duckdb(s.db_path) if s.engine == "duckdb" else None


def db_option(f: F) -> F:
    """`--db FILE`, else TIERWISE_DB, else ./tierwise.duckdb. A store that cannot be opened or read (a lock held past
    the wait, a file that is not a store or is damaged) ends the command with one line, whichever command it is,
    never a traceback."""

    @functools.wraps(f)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if (foreign := _foreign_store(kwargs)) is not None:
            raise click.ClickException(str(foreign))
        try:
            return f(*args, **kwargs)
        except connection.StoreUnavailable as e:
            raise click.ClickException(str(e)) from None
        except duckdb.Error as e:  # a command that opened the store itself (ingest, migrate), or a damaged block
            path = load_settings(db=kwargs.get("db")).db_path
            plain = connection.explain(path, e)
            if plain is None:
                raise
            raise click.ClickException(str(plain)) from None

    return cast(F, click.option("--db", type=click.Path(dir_okay=False), default=None,
                                help="DuckDB store (default: $TIERWISE_DB or ./tierwise.duckdb).")(guarded))


def engine_options(f: F) -> F:
    """`--engine duckdb|clickhouse` and `--clickhouse-url` (else TIERWISE_ENGINE, TIERWISE_CLICKHOUSE_URL)."""
    f = click.option("--clickhouse-url", "clickhouse_url", default=None,
                     help="With --engine clickhouse: chdb:///dir or clickhouse://user@host:8123/db "
                          "(default: $TIERWISE_CLICKHOUSE_URL; password: $TIERWISE_CLICKHOUSE_PASSWORD).")(f)
    return click.option("--engine", "engine_name", type=click.Choice(["duckdb", "clickhouse"]), default=None,
                        help="Where queries run (default: $TIERWISE_ENGINE or duckdb).")(f)


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """The DuckDB store read-only and checked current: a writer's lock is waited out for TIERWISE_LOCK_WAIT_S (20 s),
    then it, a file that is not a store, or a missing or outdated store ends the command with one line."""
    try:
        wait_s = connection.lock_wait_s()
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    try:
        con = connection.read_only(path, wait_s)
    except (connection.StoreUnavailable, store.StoreError) as e:
        raise click.ClickException(str(e)) from None
    try:
        store.check_current(con)
    except store.StoreError as e:
        con.close()
        raise click.ClickException(f"{path}: {e}") from None
    return con


def open_engine(db: str | None, engine_name: str | None, clickhouse_url: str | None) -> Engine:
    """The engine the flags name, opened once for the command: the store (as open_store opens it) or ClickHouse; bad
    flags are usage errors."""
    try:
        s = load_settings(db=db, engine=engine_name, clickhouse_url=clickhouse_url)
        if s.engine == "duckdb":
            return DuckDBEngine(open_store(s.db_path))
        from queries.engines import engine as engines  # sqlglot and the ClickHouse client load only for ClickHouse

        return engines.open_engine(s.engine, s.db_path, s.clickhouse_url)
    except (ValueError, store.StoreError) as e:
        raise click.UsageError(str(e)) from None
