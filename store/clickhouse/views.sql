-- ClickHouse definitions of the store's views, the same columns and rows as their DuckDB originals:
-- hops (store/migrations/0003_hops_view.sql) and cost_links (store/migrations/0002_costs.sql, as 0004 redefined it).
-- Statements are separated by lines holding only `;`. Each view pins join_use_nulls = 1 (SQL outer-join NULLs),
-- so it gives the same rows whichever settings the reading session has; OR REPLACE keeps a store's views current.

-- A hop: a CLIENT span whose SERVER child runs in another tier or site; raw_overhead_ns = client − server duration.
CREATE OR REPLACE VIEW hops AS
SELECT
    c.trace_id                                   AS trace_id,
    c.span_id                                    AS client_span_id,
    s.span_id                                    AS server_span_id,
    c.workload                                   AS workload,
    c.tier                                       AS from_tier,
    s.tier                                       AS to_tier,
    c.site                                       AS from_site,
    s.site                                       AS to_site,
    c.start_ns                                   AS start_ns,
    c.trace_state                                AS trace_state,
    c.duration_ns - s.duration_ns                AS raw_overhead_ns,
    coalesce(c.request_bytes, s.request_bytes)   AS request_bytes,
    coalesce(c.response_bytes, s.response_bytes) AS response_bytes
FROM spans AS c
INNER JOIN spans AS s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
WHERE c.kind = 'client' AND s.kind = 'server'
  AND (c.tier != s.tier OR NOT isNotDistinctFrom(c.site, s.site))
SETTINGS join_use_nulls = 1
;
-- Each cost row with the workload and tier it is linked to and how: tag, resource (ResourceId names a span's
-- host, k8s node, cloud resource or host id), site (rate-card site seen on spans), else 'unallocated'.
-- JSON text attributes: a missing key is NULL, as DuckDB's json_extract_string gives. A key or site links to the
-- (workload, tier) with most spans; a tie goes to the first by workload, then tier (DuckDB migration 0004's rule):
-- argMin over (-spans, workload, tier) picks exactly that row.
CREATE OR REPLACE VIEW cost_links AS
WITH span_resources AS (
    SELECT resource_key, pick.1 AS workload, pick.2 AS tier
    FROM (SELECT resource_key, argMin((workload, tier), (-toInt64(n), workload, tier)) AS pick FROM (
        SELECT k AS resource_key, workload, tier, count() AS n
        FROM (
            SELECT workload, tier, arrayJoin([
                host_name,
                if(JSONHas(resource_attributes, 'host.name'), JSONExtractString(resource_attributes, 'host.name'), NULL),
                if(JSONHas(resource_attributes, 'k8s.node.name'), JSONExtractString(resource_attributes, 'k8s.node.name'), NULL),
                if(JSONHas(resource_attributes, 'cloud.resource_id'),
                   JSONExtractString(resource_attributes, 'cloud.resource_id'), NULL),
                if(JSONHas(resource_attributes, 'host.id'), JSONExtractString(resource_attributes, 'host.id'), NULL)
            ]) AS k
            FROM spans WHERE workload IS NOT NULL
        ) WHERE k IS NOT NULL
        GROUP BY k, workload, tier
    ) GROUP BY resource_key)
),
span_sites AS (
    SELECT site, pick.1 AS workload, pick.2 AS tier
    FROM (SELECT site, argMin((workload, tier), (-toInt64(n), workload, tier)) AS pick
          FROM (SELECT site, workload, tier, count() AS n FROM spans
                WHERE site IS NOT NULL AND workload IS NOT NULL GROUP BY site, workload, tier)
          GROUP BY site)
)
SELECT
    c.*,
    coalesce(c.x_Workload, r.workload, s.workload)                      AS link_workload,
    coalesce(c.x_Tier, r.tier, s.tier)                                  AS link_tier,
    CASE WHEN c.x_Workload IS NOT NULL THEN 'tag'
         WHEN r.workload IS NOT NULL THEN 'resource'
         WHEN s.workload IS NOT NULL THEN 'site'
         ELSE 'unallocated' END                                         AS link_method
FROM costs AS c
LEFT JOIN span_resources AS r ON r.resource_key = c.ResourceId
LEFT JOIN span_sites AS s ON s.site = if(c.x_Workload IS NULL AND r.workload IS NULL, c.x_SiteId, NULL)
SETTINGS join_use_nulls = 1
;
