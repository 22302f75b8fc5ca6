-- One row per group of spans whose tier is unknown, grouped by the strongest attribute of where they run that their
-- resource carries (cluster, node, zone, region, platform, host, else service), largest first.
-- Parameters: $limit (rows). Units: spans a count; services the distinct service.name values of the group.
WITH unmapped AS (
    SELECT resource_attributes::VARCHAR AS ra, count(*) AS spans FROM spans WHERE tier = 'unknown' GROUP BY ALL
),
keyed AS (
    SELECT list_filter(['k8s.cluster.name', 'k8s.node.name', 'cloud.availability_zone', 'cloud.region',
                        'cloud.platform', 'host.name', 'service.name'],
                       lambda k: json_extract_string(ra, '$."' || k || '"') IS NOT NULL)[1] AS attribute,
           ra, spans
    FROM unmapped
)
SELECT attribute, json_extract_string(ra, '$."' || attribute || '"') AS value, sum(spans)::BIGINT AS spans,
       count(DISTINCT json_extract_string(ra, '$."service.name"'))::BIGINT AS services,
       bool_or(json_exists(ra, '$."cloud.provider"') OR json_exists(ra, '$."cloud.platform"')) AS has_cloud
FROM keyed
GROUP BY ALL
ORDER BY spans DESC, attribute NULLS LAST, value
LIMIT coalesce($limit, 20)
