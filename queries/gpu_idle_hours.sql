-- One row per tier, site and host: GPU-hours observed (each GPU's clock hours with a utilization sample) and idle
-- (that hour's mean utilization below $idle_threshold_ratio, default 0.1). Parameters: $idle_threshold_ratio,
-- $tier, $site (NULL = all), $start_ns/$end_ns (Unix ns, NULL = unbounded). Units: *_gpu_hours hours, *_ratio 0–1.
WITH gpu_hours AS (
    SELECT tier, site, host_name,
           coalesce(attributes->>'hw.id', attributes->>'gpu', attributes->>'UUID', '') AS gpu,
           date_trunc('hour', make_timestamp(time_ns // 1000))                         AS hour_start,
           avg(canonical_value)                                                        AS mean_ratio
    FROM metric_points
    WHERE canonical_name = 'gpu_utilization_ratio'
      AND ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($start_ns IS NULL OR time_ns >= $start_ns)
      AND ($end_ns IS NULL OR time_ns < $end_ns)
    GROUP BY ALL
)
SELECT
    tier,
    site,
    host_name,
    count(DISTINCT gpu)                                                  AS gpus,
    count(*)                                                             AS observed_gpu_hours,
    count(*) FILTER (WHERE mean_ratio < $idle_threshold_ratio)           AS idle_gpu_hours,
    count(*) FILTER (WHERE mean_ratio < $idle_threshold_ratio) / count(*) AS idle_share_ratio,
    avg(mean_ratio)                                                      AS mean_utilization_ratio,
    min(hour_start)                                                      AS first_hour,
    max(hour_start)                                                      AS last_hour
FROM gpu_hours
GROUP BY tier, site, host_name
ORDER BY idle_gpu_hours DESC,
         tier_rank(tier),
         site NULLS LAST, host_name NULLS LAST
