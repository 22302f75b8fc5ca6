-- Inputs of the allocation (queries/allocation.py), one row each: `cost` rows (cost_id, day, tier, workload when
-- tag- or resource-linked, pool = site|day for site-linked money, EffectiveCost and BilledCost in integer micro-USD),
-- `usage` rows (pool, workload, weight = requests entering that site that day) and `capacity` rows (pool, weight =
-- used weight / mean GPU utilization of the site's hosts that day). Parameters: none. Units: *_micros = 1e-6 USD.
WITH c AS (
    SELECT row_number() OVER (ORDER BY x_SourceFile, x_SourceRow, batch_key, ChargePeriodStart, ResourceId) AS cost_id,
           ChargePeriodStart::DATE AS day, coalesce(link_tier, 'unknown') AS tier,
           CASE WHEN link_method IN ('tag', 'resource') THEN link_workload END AS workload,
           CASE WHEN link_method IN ('site', 'unallocated') AND x_SiteId IS NOT NULL
                THEN x_SiteId || '|' || ChargePeriodStart::DATE::VARCHAR END AS pool,
           round(EffectiveCost * 1000000)::BIGINT AS effective_micros, round(BilledCost * 1000000)::BIGINT AS billed_micros
    FROM cost_links
),
used AS (
    SELECT site || '|' || make_timestamp(start_ns // 1000)::DATE::VARCHAR AS pool, workload, count(*)::DOUBLE AS weight
    FROM spans
    WHERE site IS NOT NULL AND workload IS NOT NULL AND (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
    GROUP BY ALL
),
util AS (
    SELECT site || '|' || make_timestamp(time_ns // 1000)::DATE::VARCHAR AS pool, avg(canonical_value) AS mean_ratio
    FROM metric_points WHERE canonical_name = 'gpu_utilization_ratio' AND site IS NOT NULL GROUP BY ALL
)
SELECT 'cost' AS kind, cost_id, day, tier, workload, pool, effective_micros, billed_micros, NULL::DOUBLE AS weight
FROM c
UNION ALL
SELECT 'usage', NULL, NULL, NULL, workload, pool, NULL, NULL, weight FROM used
UNION ALL
SELECT 'capacity', NULL, NULL, NULL, NULL, u.pool, NULL, NULL, sum(u.weight) / max(t.mean_ratio)
FROM used u JOIN util t USING (pool) WHERE t.mean_ratio > 0 GROUP BY u.pool
ORDER BY kind, cost_id, pool, workload
