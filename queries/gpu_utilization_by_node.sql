-- One row per time bucket, tier, site and host: GPU utilization (mean and exact p95 over every GPU's samples) and
-- memory used, from metric_points canonical names. Parameters: $bucket (minute|hour|day|week|month, UTC), $tier,
-- $site (NULL = all), $start_ns/$end_ns (sample time, Unix ns, NULL = unbounded). Units: *_ratio 0–1, *_bytes.
SELECT
    date_trunc($bucket, make_timestamp(time_ns // 1000))                                        AS bucket_start,
    tier,
    site,
    host_name,
    count(DISTINCT coalesce(attributes->>'hw.id', attributes->>'gpu', attributes->>'UUID', ''))
        FILTER (WHERE canonical_name = 'gpu_utilization_ratio')                                 AS gpus,
    count(*) FILTER (WHERE canonical_name = 'gpu_utilization_ratio')                            AS samples,
    avg(canonical_value) FILTER (WHERE canonical_name = 'gpu_utilization_ratio')                AS mean_utilization_ratio,
    quantile_cont(canonical_value, 0.95) FILTER (WHERE canonical_name = 'gpu_utilization_ratio') AS p95_utilization_ratio,
    avg(canonical_value) FILTER (WHERE canonical_name = 'gpu_memory_used_bytes')                AS mean_memory_used_bytes,
    max(canonical_value) FILTER (WHERE canonical_name = 'gpu_memory_used_bytes')                AS max_memory_used_bytes
FROM metric_points
WHERE canonical_name IN ('gpu_utilization_ratio', 'gpu_memory_used_bytes')
  AND ($tier IS NULL OR tier = $tier)
  AND ($site IS NULL OR site = $site)
  AND ($start_ns IS NULL OR time_ns >= $start_ns)
  AND ($end_ns IS NULL OR time_ns < $end_ns)
GROUP BY bucket_start, tier, site, host_name
ORDER BY bucket_start,
         tier_rank(tier),
         site NULLS LAST, host_name NULLS LAST
