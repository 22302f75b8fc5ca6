"""The two ends of every call (migration 0007: hop_clients, hop_servers), appended with each committed span batch."""

from __future__ import annotations

import duckdb

from ingest import appended
from ingest.appended import Appended

CLIENT_COLUMNS = ("trace_id", "span_id", "workload", "tier", "site", "start_ns", "trace_state", "duration_ns",
                  "request_bytes", "response_bytes")
SERVER_COLUMNS = ("trace_id", "parent_span_id", "span_id", "workload", "tier", "site", "trace_state", "duration_ns",
                  "request_bytes", "response_bytes")


def clients_sql(source: str) -> str:
    """SELECT: the hop_clients rows (CLIENT spans that a SERVER child could join) among the spans of `source`."""
    return (f"SELECT {', '.join(CLIENT_COLUMNS)} FROM {source} "
            "WHERE kind = 'client' AND trace_id IS NOT NULL AND span_id IS NOT NULL")


def servers_sql(source: str) -> str:
    """SELECT: the hop_servers rows (SERVER spans with a parent) among the spans of `source`."""
    return (f"SELECT {', '.join(SERVER_COLUMNS)} FROM {source} "
            "WHERE kind = 'server' AND trace_id IS NOT NULL AND parent_span_id IS NOT NULL")


TABLES = (Appended("hop_clients", clients_sql), Appended("hop_servers", servers_sql))


def mismatches(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of either table that differ from a recomputation over spans (0 when both are exact)."""
    return (appended.differing_rows(con, f"SELECT {', '.join(CLIENT_COLUMNS)} FROM hop_clients", clients_sql("spans"))
            + appended.differing_rows(con, f"SELECT {', '.join(SERVER_COLUMNS)} FROM hop_servers",
                                      servers_sql("spans")))
