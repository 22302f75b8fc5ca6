"""The two ends of every call (migration 0007: hop_clients, hop_servers), appended with each span batch."""

from __future__ import annotations

from store.derived.model import Derived, Kind

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


TABLES = (Derived("hop_clients", Kind.APPEND, CLIENT_COLUMNS, clients_sql, clickhouse=clients_sql("spans")),
          Derived("hop_servers", Kind.APPEND, SERVER_COLUMNS, servers_sql, clickhouse=servers_sql("spans")))
