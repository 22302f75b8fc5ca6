"""How readers reach the store: DuckDB read-only (waiting out a writer's lock for a bounded time), or ClickHouse, each
wrapped once, here, as the engine the queries run on."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

import store
from queries.engines.duckdb_engine import DuckDBEngine
from store.settings import current_settings

if TYPE_CHECKING:
    from queries.engines.engine import Engine

ENV_LOCK_WAIT = "TIERWISE_LOCK_WAIT_S"  # how long a CLI reader waits out a writer's lock, in seconds
DEFAULT_LOCK_WAIT_S = 20.0  # a receiver's fold pass holds the lock up to about 12 s under load; ingest for minutes
MAX_PAUSE_S = 0.25  # between tries: under half the receiver's 0.5 s gap between fold passes, so a try lands in it
PAGE_LOCK_WAIT_S = 3.0  # a page waits less: it shows its last good data instead (app/data.py)
_CHDB_TURN = threading.RLock()
_HELD: dict[str, Engine] = {}  # the chdb session, by URL: opening one takes ~0.8 s, so it is opened once
Stamp = tuple[int, int, int, int]  # a store's version (app/data.py version): mtime and size of the file and its WAL
_GOOD: dict[str, list[tuple[Stamp, float]]] = {}  # store → the last few versions read while current, newest first
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file, after the header block's checksum
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


class EngineQueryError(RuntimeError):
    """A query ClickHouse refused (a DuckDB feature its dialect lacks): pages show it as a notice, not a traceback."""


class StoreUnavailable(RuntimeError):
    """The store could not be opened for reading; the message is one line saying why and what to do."""


class StoreBusy(StoreUnavailable):
    """A writer kept the store's lock for longer than the reader was willing to wait."""


class NotAStore(StoreUnavailable):
    """The file is not a DuckDB database (a typo in --db, or another file)."""


def lock_wait_s() -> float:
    """Seconds a CLI reader waits for a writer: TIERWISE_LOCK_WAIT_S, else DEFAULT_LOCK_WAIT_S."""
    raw = os.environ.get(ENV_LOCK_WAIT, "").strip()
    if not raw:
        return DEFAULT_LOCK_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise ValueError(f"{ENV_LOCK_WAIT}={raw!r}: give the seconds to wait for a writer, e.g. 10")
    return value


def is_lock_error(e: BaseException) -> bool:
    """Whether DuckDB refused because another process holds the file's lock."""
    return isinstance(e, duckdb.IOException) and "could not set lock" in str(e).lower()


def _holder(e: BaseException) -> str:
    """The PID DuckDB names as holding the lock, as ' (PID 123)', or ''."""
    found = re.search(r"\(PID (\d+)\)", str(e))
    return f" (PID {found.group(1)})" if found else ""


def not_duckdb(path: Path) -> NotAStore | None:
    """NotAStore when `path` is a file whose first bytes are not a DuckDB database's (its magic `DUCK` at byte 8), so
    DuckDB is never asked to open it: it would take a SQLite file for a database to attach, fetching an extension.
    None when it looks like DuckDB, or there is no file to read (DuckDB then says why)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError:
        return None
    if head[8:12] == DUCKDB_MAGIC:
        return None
    found = " (it is empty)" if not head else " (it is a SQLite database)" if head == SQLITE_MAGIC else ""
    return NotAStore(f"{path} is not a DuckDB store{found}: check --db (or TIERWISE_DB); `tierwise ingest --db FILE` "
                     "creates one.")


def explain(path: Path, e: BaseException, waited_s: float | None = None) -> StoreUnavailable | None:
    """The one-line error for a DuckDB refusal to open or read `path` (a held lock, a file that is not a store or is
    damaged), or None when it is something else (and should stay a full error). `waited_s`: how long a reader waited
    for the lock."""
    if is_lock_error(e) and waited_s is None:  # a command that opened the store itself: reader or writer
        return StoreBusy(f"{path} is in use: another process{_holder(e)} holds its lock (`tierwise ingest`, a "
                         "`tierwise receive` fold, or a reader while this command writes). Run the command again once "
                         "it has finished.")
    if is_lock_error(e):
        return StoreBusy(f"{path} is busy: a writer{_holder(e)} holds its lock (`tierwise ingest`, or `tierwise receive` "
                         f"folding) and did not let go within {waited_s:g} s. Run the command again once it has "
                         f"finished, or wait longer with {ENV_LOCK_WAIT}=60.")
    text = str(e)
    first = text.splitlines()[0][:200] if text else type(e).__name__
    if "Corrupt database file" in text or ("Could not read enough bytes" in text and path.name in text):
        return NotAStore(f"{path} is a damaged DuckDB store ({first}): restore it from a copy, or ingest again into a "
                         "new file with --db.")
    if not isinstance(e, duckdb.IOException):
        return None
    if (foreign := not_duckdb(path)) is not None:
        return foreign
    if "not a valid DuckDB database" in text or "Is a directory" in text:
        return NotAStore(f"{path} is not a DuckDB store: check --db (or TIERWISE_DB); `tierwise ingest --db FILE` "
                         "creates one.")
    if "version number" in text:  # a file written by a newer or much older DuckDB
        return NotAStore(f"{path} cannot be read by this DuckDB: {first}")
    return None


def read_only(path: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    """The DuckDB store at `path`, read-only, waiting up to `wait_s` seconds (backing off 0.05 s … 0.25 s) while a writer
    holds its lock. Raises StoreBusy or NotAStore with a one-line message, store.StoreError when there is no file."""
    if (foreign := not_duckdb(path)) is not None:
        raise foreign
    deadline = time.monotonic() + wait_s
    pause = 0.05
    while True:
        try:
            return store.connect(path, read_only=True)
        except duckdb.Error as e:
            left = deadline - time.monotonic()
            if is_lock_error(e) and left > 0:
                time.sleep(min(pause, left))
                pause = min(pause * 2, MAX_PAUSE_S)
                continue
            plain = explain(path, e, wait_s)
            if plain is None:
                raise
            raise plain from None


def read_while_current(db: str, stamp: Stamp) -> None:
    """Note that the store's version `stamp` was read, as the current one, just now."""
    _GOOD[db] = [(stamp, time.time()), *[g for g in _GOOD.get(db, []) if g[0] != stamp][:2]]


def last_good(db: str, stamp: Stamp) -> tuple[Stamp, str] | None:
    """The newest version other than `stamp` read while current, and how long ago it last was ('12 s'), if any:
    what a page shows, from its cache, while a writer holds the store."""
    older = [(s, at) for s, at in _GOOD.get(db, []) if s != stamp]
    if not older:
        return None
    ago = max(time.time() - older[0][1], 0.0)
    return older[0][0], (f"{ago:.0f} s" if ago < 90 else f"{ago / 60:.0f} min" if ago < 5400 else f"{ago / 3600:.0f} h")


def connect(path: Path) -> Engine:
    """The dashboard's read-only engine: the store, waiting out a writer's lock for PAGE_LOCK_WAIT_S (or ClickHouse,
    when `tierwise serve --engine clickhouse` set TIERWISE_ENGINE)."""
    configured = current_settings()
    if configured.engine == "clickhouse":
        from queries.engines.engine import open_engine  # sqlglot and the ClickHouse client load only for that engine

        return open_engine("clickhouse", path, configured.clickhouse_url)
    return DuckDBEngine(read_only(path, PAGE_LOCK_WAIT_S))


@contextmanager
def opened(path: Path) -> Iterator[Engine]:
    """An engine for one query. chdb embeds one ClickHouse per process, on one data directory at a time, and a
    session is slow to open: its session is kept and every session, the warm-up thread included, takes turns on it."""
    configured = current_settings()
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
            from queries.engines.engine import open_engine

            _HELD[url] = open_engine("clickhouse", path, url)
        yield _HELD[url]


def release() -> None:
    """Close the kept chdb session (tests; before another chdb directory is opened in this process)."""
    with _CHDB_TURN:
        for engine in _HELD.values():
            engine.close()
        _HELD.clear()
