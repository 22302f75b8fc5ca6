"""The span counts per resource key and per site that cost_links links bills by (tables of migration 0004)."""

from __future__ import annotations

import duckdb

# The resource keys a span offers a bill's ResourceId, as migration 0002 defined them; a span naming the
# same key twice (host_name and host.name) counts twice there, so it does here.
_RESOURCE_COUNTS = """
SELECT k AS resource_key, workload, tier, count(*) AS spans
FROM (
    SELECT workload, tier, unnest([
        host_name,
        json_extract_string(resource_attributes, '$."host.name"'),
        json_extract_string(resource_attributes, '$."k8s.node.name"'),
        json_extract_string(resource_attributes, '$."cloud.resource_id"'),
        json_extract_string(resource_attributes, '$."host.id"')
    ]) AS k
    FROM {source} WHERE workload IS NOT NULL
) WHERE k IS NOT NULL
GROUP BY ALL
"""

_SITE_COUNTS = """
SELECT site, workload, tier, count(*) AS spans
FROM {source} WHERE site IS NOT NULL AND workload IS NOT NULL
GROUP BY ALL
"""

_FOLD = """
INSERT INTO {table} {counts}
ON CONFLICT ({key}, workload, tier) DO UPDATE SET spans = spans + excluded.spans
"""


def fold(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Add one committed span batch (relation `view`) to the counts, in the caller's transaction."""
    con.execute(_FOLD.format(table="link_resource_counts", key="resource_key",
                             counts=_RESOURCE_COUNTS.format(source=view)))
    con.execute(_FOLD.format(table="link_site_counts", key="site", counts=_SITE_COUNTS.format(source=view)))


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute both tables from every span (for stores whose spans were written around the loader)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM link_resource_counts")
        con.execute("DELETE FROM link_site_counts")
        con.execute("INSERT INTO link_resource_counts " + _RESOURCE_COUNTS.format(source="spans"))
        con.execute("INSERT INTO link_site_counts " + _SITE_COUNTS.format(source="spans"))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
