"""How the dashboard reaches its data: the DuckDB store read-only (waiting out a writer), or ClickHouse."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ingest import store
from ingest.settings import load_settings
from queries.engine import Engine, open_engine

LOCK_RETRIES = 6  # the receiver holds the write lock for a fold (well under a second); back off 0.1 s … 3.2 s
_CHDB_TURN = threading.RLock()
_HELD: dict[str, Engine] = {}  # the chdb session, by URL: opening one takes ~0.8 s, so it is opened once


class EngineQueryError(RuntimeError):
    """A query ClickHouse refused (a DuckDB feature its dialect lacks): pages show it as a notice, not a traceback."""


def connect(path: Path) -> duckdb.DuckDBPyConnection | Engine:
    """A read-only connection, waiting out a writer's lock a few times before giving up (or ClickHouse, when
    `tierwise serve --engine clickhouse` set TIERWISE_ENGINE)."""
    configured = load_settings()
    if configured.engine == "clickhouse":
        return open_engine("clickhouse", path, configured.clickhouse_url)
    for attempt in range(LOCK_RETRIES):
        try:
            return store.connect(path, read_only=True)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


@contextmanager
def opened(path: Path) -> Iterator[duckdb.DuckDBPyConnection | Engine]:
    """A connection for one query. chdb embeds one ClickHouse per process, on one data directory at a time, and a
    session is slow to open: its session is kept and every session, the warm-up thread included, takes turns on it."""
    configured = load_settings()
    url = configured.clickhouse_url or ""
    if configured.engine != "clickhouse" or not url.startswith("chdb:"):
        con = connect(path)
        try:
            yield con
        finally:
            con.close()
        return
    with _CHDB_TURN:
        if url not in _HELD:
            release()
            _HELD[url] = open_engine("clickhouse", path, url)
        yield _HELD[url]


def release() -> None:
    """Close the kept chdb session (tests; before another chdb directory is opened in this process)."""
    with _CHDB_TURN:
        for engine in _HELD.values():
            engine.close()
        _HELD.clear()
