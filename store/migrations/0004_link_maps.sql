-- 0004: what cost_links links bills by, kept beside spans instead of recomputed from every span per query:
-- span counts per resource key and per site by (workload, tier), folded in per batch by ingest/link_maps.py;
-- cost_links (0002) is recreated over them: same columns, same most-spans choice (ties now by name) and link order.
CREATE TABLE link_resource_counts (
    resource_key    VARCHAR NOT NULL,   -- host_name, or resource host.name, k8s.node.name, cloud.resource_id, host.id
    workload        VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,
    spans           BIGINT NOT NULL,    -- span × key occurrences (a span naming a key twice counts twice, as 0002)
    PRIMARY KEY (resource_key, workload, tier)
);

CREATE TABLE link_site_counts (
    site            VARCHAR NOT NULL,
    workload        VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,
    spans           BIGINT NOT NULL,
    PRIMARY KEY (site, workload, tier)
);

INSERT INTO link_resource_counts
SELECT k AS resource_key, workload, tier, count(*) AS spans
FROM (
    SELECT workload, tier, unnest([
        host_name,
        json_extract_string(resource_attributes, '$."host.name"'),
        json_extract_string(resource_attributes, '$."k8s.node.name"'),
        json_extract_string(resource_attributes, '$."cloud.resource_id"'),
        json_extract_string(resource_attributes, '$."host.id"')
    ]) AS k
    FROM spans WHERE workload IS NOT NULL
) WHERE k IS NOT NULL
GROUP BY ALL;

INSERT INTO link_site_counts
SELECT site, workload, tier, count(*) AS spans
FROM spans WHERE site IS NOT NULL AND workload IS NOT NULL
GROUP BY ALL;

DROP VIEW cost_links;

-- Each cost row with the workload and tier it is linked to and how: tag (x_Workload set at ingest),
-- resource (ResourceId equals a span host name, k8s node or cloud resource id), site (rate-card site
-- seen on spans), else 'unallocated'. Costs are never dropped: every costs row appears exactly once.
CREATE VIEW cost_links AS
WITH span_resources AS (  -- the (workload, tier) with most spans; a tie (arbitrary in 0002) goes to the first by name
    SELECT resource_key, workload, tier
    FROM (SELECT resource_key, workload, tier,
                 row_number() OVER (PARTITION BY resource_key ORDER BY spans DESC, workload, tier) AS pick
          FROM link_resource_counts)
    WHERE pick = 1
),
span_sites AS (
    SELECT site, workload, tier
    FROM (SELECT site, workload, tier, row_number() OVER (PARTITION BY site ORDER BY spans DESC, workload, tier) AS pick
          FROM link_site_counts)
    WHERE pick = 1
)
SELECT
    c.*,
    coalesce(c.x_Workload, r.workload, s.workload)                      AS link_workload,
    coalesce(c.x_Tier, r.tier, s.tier)                                  AS link_tier,
    CASE WHEN c.x_Workload IS NOT NULL THEN 'tag'
         WHEN r.workload IS NOT NULL THEN 'resource'
         WHEN s.workload IS NOT NULL THEN 'site'
         ELSE 'unallocated' END                                         AS link_method
FROM costs c
LEFT JOIN span_resources r ON r.resource_key = c.ResourceId
LEFT JOIN span_sites s ON s.site = c.x_SiteId AND c.x_Workload IS NULL AND r.workload IS NULL;
