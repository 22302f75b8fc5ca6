-- One row per time bucket, tier, site and host that was GPU-starved: mean GPU utilization below
-- $util_threshold_ratio (default 0.3) while the mean queue depth exceeded $queue_threshold (default 10).
-- Parameters: those two, $bucket (UTC), $tier, $site (NULL = all), $start_ns/$end_ns. Units: *_ratio 0–1, queue in requests.
WITH per_host AS (
    SELECT date_trunc($bucket, make_timestamp(time_ns // 1000))                        AS bucket_start,
           tier, site, host_name,
           avg(canonical_value) FILTER (WHERE canonical_name = 'gpu_utilization_ratio') AS mean_utilization_ratio,
           avg(canonical_value) FILTER (WHERE canonical_name = 'queue_depth')           AS mean_queue_depth,
           max(canonical_value) FILTER (WHERE canonical_name = 'queue_depth')           AS max_queue_depth
    FROM metric_points
    WHERE canonical_name IN ('gpu_utilization_ratio', 'queue_depth')
      AND ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($start_ns IS NULL OR time_ns >= $start_ns)
      AND ($end_ns IS NULL OR time_ns < $end_ns)
    GROUP BY ALL
)
SELECT bucket_start, tier, site, host_name, mean_utilization_ratio, mean_queue_depth, max_queue_depth
FROM per_host
WHERE mean_utilization_ratio < $util_threshold_ratio AND mean_queue_depth > $queue_threshold
ORDER BY bucket_start, site NULLS LAST, host_name NULLS LAST
