"""The span counts per resource key and per site that cost_links links bills by (tables of migration 0004)."""

from __future__ import annotations

from store.derived.model import Derived, Kind

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


# On ClickHouse, cost_links counts spans itself (store/clickhouse/views.sql).
TABLES = (
    Derived("link_resource_counts", Kind.MERGE, ("resource_key", "workload", "tier", "spans"), resource_counts,
            keys=("resource_key", "workload", "tier"), sums=("spans",)),
    Derived("link_site_counts", Kind.MERGE, ("site", "workload", "tier", "spans"), site_counts,
            keys=("site", "workload", "tier"), sums=("spans",)),
)
