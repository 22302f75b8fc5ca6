-- One row per group of spans whose tier is unknown, grouped by the strongest attribute of where they run that their
-- resource carries, not empty (cluster, node, zone, region, platform, host, else service), largest first.
-- Parameters: $limit (rows). Units: spans a count; services the distinct service.name values of the group.
WITH unmapped AS (
    SELECT resource_attributes::VARCHAR AS ra, count(*) AS spans FROM spans WHERE tier = 'unknown' GROUP BY ALL
),
keyed AS (
    SELECT CASE WHEN nullif(json_extract_string(ra, '$."k8s.cluster.name"'), '') IS NOT NULL THEN 'k8s.cluster.name'
                WHEN nullif(json_extract_string(ra, '$."k8s.node.name"'), '') IS NOT NULL THEN 'k8s.node.name'
                WHEN nullif(json_extract_string(ra, '$."cloud.availability_zone"'), '') IS NOT NULL THEN 'cloud.availability_zone'
                WHEN nullif(json_extract_string(ra, '$."cloud.region"'), '') IS NOT NULL THEN 'cloud.region'
                WHEN nullif(json_extract_string(ra, '$."cloud.platform"'), '') IS NOT NULL THEN 'cloud.platform'
                WHEN nullif(json_extract_string(ra, '$."host.name"'), '') IS NOT NULL THEN 'host.name'
                WHEN nullif(json_extract_string(ra, '$."service.name"'), '') IS NOT NULL THEN 'service.name' END AS attribute,
           coalesce(nullif(json_extract_string(ra, '$."k8s.cluster.name"'), ''),
                    nullif(json_extract_string(ra, '$."k8s.node.name"'), ''),
                    nullif(json_extract_string(ra, '$."cloud.availability_zone"'), ''),
                    nullif(json_extract_string(ra, '$."cloud.region"'), ''),
                    nullif(json_extract_string(ra, '$."cloud.platform"'), ''),
                    nullif(json_extract_string(ra, '$."host.name"'), ''),
                    nullif(json_extract_string(ra, '$."service.name"'), '')) AS value,
           ra, spans
    FROM unmapped
)
SELECT attribute, value, sum(spans)::BIGINT AS spans,
       count(DISTINCT json_extract_string(ra, '$."service.name"'))::BIGINT AS services,
       bool_or(json_extract_string(ra, '$."cloud.provider"') IS NOT NULL
               OR json_extract_string(ra, '$."cloud.platform"') IS NOT NULL) AS has_cloud
FROM keyed
GROUP BY attribute, value
ORDER BY spans DESC, attribute NULLS LAST, value
LIMIT coalesce($limit, 20)
