-- One row per UTC day, tier, site and GPU host: the money allocated to the host that day (cloud: non-transfer rows
-- of its cloud.resource_id; edge: the site's capex_amortization + power rows split evenly over its GPU hosts) against
-- the share its GPUs used (× mean utilization that day). Parameters: $tier, $site (NULL = all), $start_ns/$end_ns
-- (sample time / charge start, Unix ns). Units: *_usd in BillingCurrency (USD in practice), *_ratio 0–1.
WITH host_days AS (
    SELECT make_timestamp(time_ns // 1000)::DATE AS day, tier, site, host_name,
           lower(any_value(resource_attributes->>'cloud.resource_id')) AS resource_id,
           avg(canonical_value) AS mean_utilization_ratio, count(*) AS samples
    FROM metric_points
    WHERE canonical_name = 'gpu_utilization_ratio'
      AND ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($start_ns IS NULL OR time_ns >= $start_ns)
      AND ($end_ns IS NULL OR time_ns < $end_ns)
    GROUP BY day, tier, site, host_name
),
window_costs AS (
    SELECT ChargePeriodStart::DATE AS day, lower(ResourceId) AS resource_id, x_SiteId, x_Tier, x_CostComponent,
           ServiceCategory, x_TransferDirection, EffectiveCost::DOUBLE AS cost
    FROM costs
    WHERE ($start_ns IS NULL OR ChargePeriodStart >= make_timestamp($start_ns // 1000))
      AND ($end_ns IS NULL OR ChargePeriodStart < make_timestamp($end_ns // 1000))
),
cloud AS (
    SELECT day, resource_id, sum(cost) AS cost_usd
    FROM window_costs
    WHERE x_TransferDirection IS NULL AND coalesce(x_CostComponent, 'cloud') = 'cloud'
    GROUP BY day, resource_id
),
edge AS (
    SELECT day, x_SiteId AS site, sum(cost) AS cost_usd
    FROM window_costs
    WHERE x_CostComponent IN ('capex_amortization', 'power')
    GROUP BY day, x_SiteId
),
allocated AS (
    SELECT h.*,
           CASE WHEN h.tier = 'edge' THEN e.cost_usd / count(*) OVER (PARTITION BY h.day, h.tier, h.site)
                ELSE c.cost_usd END AS allocated_usd
    FROM host_days h
    LEFT JOIN cloud c ON h.tier <> 'edge' AND c.day = h.day AND c.resource_id = h.resource_id
    LEFT JOIN edge e ON h.tier = 'edge' AND e.day = h.day AND e.site = h.site
)
SELECT day, tier, site, host_name, samples, mean_utilization_ratio, allocated_usd,
       allocated_usd * mean_utilization_ratio       AS used_usd,
       allocated_usd * (1 - mean_utilization_ratio) AS idle_usd
FROM allocated
ORDER BY day,
         tier_rank(tier),
         site NULLS LAST, host_name NULLS LAST
