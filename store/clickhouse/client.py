"""One small client over ClickHouse: in-process chdb or a server via clickhouse-connect."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.ipc as ipc

from store.settings import ENV_CLICKHOUSE_PASSWORD, clickhouse_password

DEFAULT_URL = "chdb://"


class ClickHouseError(RuntimeError):
    """ClickHouse could not be reached or refused a statement."""


@dataclass(frozen=True)
class Target:
    """Where a ClickHouse URL points; the password is never part of it (it comes from the environment)."""

    kind: str  # "chdb" or "server"
    path: str | None = None  # chdb data directory; None for an in-memory session
    host: str = "localhost"
    port: int = 8123
    username: str = "default"
    database: str = "default"
    secure: bool = False

    def describe(self) -> str:
        """A loggable description: never contains a password."""
        if self.kind == "chdb":
            return f"chdb://{self.path or ''}"
        scheme = "https" if self.secure else "clickhouse"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.database}"


def parse_url(url: str) -> Target:
    """`chdb://` (memory), `chdb:///dir`, `clickhouse://user@host:8123/db`, `http(s)://user@host:port/db`.

    A password written into the URL is refused so that it cannot leak into logs or shell history.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        path = unquote(parts.netloc + parts.path)
        return Target(kind="chdb", path=path or None)
    if scheme not in {"clickhouse", "http", "https"}:
        raise ClickHouseError(f"unsupported ClickHouse URL scheme {scheme!r}: use chdb://, clickhouse://, http:// or https://")
    if parts.password:
        raise ClickHouseError(f"put the ClickHouse password in {ENV_CLICKHOUSE_PASSWORD}, not in the URL")
    secure = scheme == "https"
    return Target(
        kind="server",
        host=parts.hostname or "localhost",
        port=parts.port or (8443 if secure else 8123),
        username=unquote(parts.username) if parts.username else "default",
        database=parts.path.strip("/") or "default",
        secure=secure,
    )


class ClickHouseClient:
    """Statements, parameterized Arrow queries and Arrow inserts against one ClickHouse target.

    Parameters are always bound server-side: the SQL carries `{name:Type}` placeholders and the
    values travel separately, for chdb and for a server alike.
    """

    def __init__(self, url: str = DEFAULT_URL, env: Mapping[str, str] | None = None,
                 settings: Mapping[str, str | int] | None = None) -> None:
        """`settings` apply to every statement of this client (e.g. `session_timezone`)."""
        self.target = parse_url(url)
        self._session: Any = None
        self._server: Any = None
        if self.target.kind == "chdb":
            from chdb import session

            # chdb allows one open session per process: opening another closes this one
            self._session = session.Session(self.target.path)  # type: ignore[no-untyped-call]
            for key, value in (settings or {}).items():
                self._session.query(f"SET {_setting(key)} = '{_setting(str(value))}'", "CSV")
        else:
            import clickhouse_connect

            try:
                self._server = clickhouse_connect.get_client(
                    host=self.target.host,
                    port=self.target.port,
                    username=self.target.username,
                    password=clickhouse_password(env),
                    database=self.target.database,
                    secure=self.target.secure,
                    settings=dict(settings or {}),
                )
            except Exception as exc:  # the driver's message names host and user, never the password
                raise ClickHouseError(f"cannot connect to {self.target.describe()}: {exc}") from exc

    def __repr__(self) -> str:
        return f"ClickHouseClient({self.target.describe()!r})"

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement that returns no rows (DDL, INSERT ... SELECT)."""
        if self._session is not None:
            self._session.query(sql, "CSV", params=_chdb_params(params))
        else:
            self._server.command(sql, parameters=dict(params or {}) or None)

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Rows of one SELECT as an Arrow table; `params` fill `{name:Type}` placeholders server-side."""
        bound = dict(params or {})
        if self._session is not None:
            result = self._session.query(sql, "ArrowStream", params=_chdb_params(bound))
            data = result.bytes()
            return ipc.open_stream(data).read_all()
        table: pa.Table = self._server.query_arrow(sql, parameters=bound or None, use_strings=True)
        return table

    def insert_arrow(self, table: str, data: pa.Table, dedup_token: str | None = None) -> int:
        """Append an Arrow table to an existing ClickHouse table (columns by name); returns rows given.

        With `dedup_token`, repeating the insert with the same rows writes nothing on a table with a deduplication
        window (schema 0100), nor in the materialized views fed from it: a rerun after a crash is harmless.
        """
        if data.num_rows == 0:
            return 0
        settings: dict[str, str | int] = {} if dedup_token is None else {
            "insert_deduplication_token": dedup_token, "deduplicate_blocks_in_dependent_materialized_views": 1}
        if self._session is not None:
            # INSERT ... SELECT from an Arrow file rather than chdb's streaming insert (send_insert), which with
            # chdb 4.4 did not feed materialized views: latency_rollup stayed empty (tests/test_clickhouse_ingest.py).
            columns = ", ".join(_quote_identifier(c) for c in data.column_names)
            clause = "".join(f"{' SETTINGS' if i == 0 else ','} {_setting(k)} = '{_setting(str(v))}'"
                             for i, (k, v) in enumerate(settings.items()))
            with tempfile.TemporaryDirectory(prefix="tierwise-insert-") as folder:
                path = os.path.join(folder, "rows.arrows")
                with pa.OSFile(path, "wb") as sink, ipc.new_stream(sink, data.schema) as writer:
                    writer.write_table(data)
                self._session.query(f"INSERT INTO {_quote_identifier(table)} ({columns}){clause} "
                                    f"SELECT * FROM file('{_setting(path)}', 'ArrowStream')", "CSV")
            return int(data.num_rows)
        self._server.insert_arrow(table, data, settings=settings or None)
        return int(data.num_rows)

    def close(self) -> None:
        """Release the session or the server connection; safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> ClickHouseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _quote_identifier(name: str) -> str:
    """A table or column name as a ClickHouse identifier (names come from our own schema, not from users)."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _setting(text: str) -> str:
    """A setting name or value from our own code (SET takes no bound parameters): plain words only."""
    if not re.fullmatch(r"[A-Za-z0-9_/+.-]+", text):
        raise ClickHouseError(f"not a plain ClickHouse setting name or value: {text!r}")
    return text


def _chdb_param(value: Any) -> str:
    """A parameter value in the escaped text form ClickHouse parses `{name:Type}` values from (NULL is `\\N`)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _chdb_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    return {k: _chdb_param(v) for k, v in (params or {}).items()}
