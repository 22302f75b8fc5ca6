"""The span counts per resource key and per site that cost_links links bills by (tables of migration 0004)."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingest import appended
from ingest.appended import Appended

# The resource attributes that, besides the span's host_name, can name a bill's ResourceId (migration 0002's list).
# A span naming the same key twice (host_name and host.name) counts twice, as it did there.
RESOURCE_ATTRIBUTES = ("host.name", "k8s.node.name", "cloud.resource_id", "host.id")


def resource_counts(source: str) -> str:
    """SELECT: spans × key occurrences per (resource_key, workload, tier) among the spans of relation `source`."""
    keys = ", ".join(["host_name", *(f"json_extract_string(resource_attributes, '$.\"{a}\"')"
                                     for a in RESOURCE_ATTRIBUTES)])
    return (f"SELECT k AS resource_key, workload, tier, count(*) AS spans "
            f"FROM (SELECT workload, tier, unnest([{keys}]) AS k FROM {source} WHERE workload IS NOT NULL) "
            "WHERE k IS NOT NULL GROUP BY ALL")


def site_counts(source: str) -> str:
    """SELECT: spans per (site, workload, tier) among the spans of relation `source`."""
    return (f"SELECT site, workload, tier, count(*) AS spans FROM {source} "
            "WHERE site IS NOT NULL AND workload IS NOT NULL GROUP BY ALL")


# table, its key column, its counts: the one Python-side definition, for the per-batch fold and the full rebuild.
# Migration 0004's backfill INSERTs are the frozen SQL copy (migrations are append-only); tests/test_link_maps.py
# checks that rebuild() gives exactly what they give.
TABLES: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("link_resource_counts", "resource_key", resource_counts),
    ("link_site_counts", "site", site_counts),
)


def fold(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Add one committed span batch (relation `view`) to the counts, in the caller's transaction."""
    for table, key, counts in TABLES:
        con.execute(f"INSERT INTO {table} {counts(view)} "
                    f"ON CONFLICT ({key}, workload, tier) DO UPDATE SET spans = spans + excluded.spans")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """The backfill: recompute both tables from every span (for stores whose spans were written around the loader)."""
    appended.rebuild(con, [Appended(table, counts) for table, _, counts in TABLES])


def mismatches(con: duckdb.DuckDBPyConnection) -> int:
    """Rows by which the counts differ from a fresh recomputation over spans (0 when they are exact)."""
    return sum(appended.differing_rows(con, f"SELECT {key}, workload, tier, spans FROM {table}", counts("spans"))
               for table, key, counts in TABLES)
