-- One row per time bucket and tier from the latency roll-up: requests, errors, error rate, p50/p95/p99, mean.
-- Parameters: $bucket (minute|hour|day|week, UTC; weeks start Monday), $tier, $site, $workload, $workload_class
-- (as latency_by_tier), $start_ns/$end_ns (Unix ns, by minute). Units: bucket_start_ns Unix ns, *_ms ms (p* within 1 %).
WITH params AS (
    SELECT CASE $bucket WHEN 'minute' THEN 60000000000 WHEN 'hour' THEN 3600000000000
                        WHEN 'day' THEN 86400000000000 WHEN 'week' THEN 604800000000000 END AS bucket_width_ns,
           CASE $bucket WHEN 'week' THEN 259200000000000 ELSE 0 END AS bucket_offset_ns  -- weeks start on Monday
), rows AS (  -- each width its own scan, so that the table's zone maps skip the other
    SELECT period_ns, tier, site, workload, workload_type, bucket, n, errors, sum_duration_ns
    FROM latency_rollup
    WHERE width_ns = 86400000000000 AND $bucket IN ('day', 'week')  -- UTC days wholly inside the window
      AND ($start_ns IS NULL OR period_ns >= $start_ns + (86400000000000 - $start_ns % 86400000000000) % 86400000000000)
      AND ($end_ns IS NULL OR period_ns + 86400000000000 <= $end_ns)
    UNION ALL
    SELECT period_ns, tier, site, workload, workload_type, bucket, n, errors, sum_duration_ns
    FROM latency_rollup
    WHERE width_ns = 60000000000 AND ($start_ns IS NULL OR period_ns >= $start_ns) AND ($end_ns IS NULL OR period_ns < $end_ns)
      AND NOT ($bucket IN ('day', 'week')  -- minutes outside those days
               AND ($start_ns IS NULL OR period_ns - period_ns % 86400000000000
                    >= $start_ns + (86400000000000 - $start_ns % 86400000000000) % 86400000000000)
               AND ($end_ns IS NULL OR period_ns - period_ns % 86400000000000 + 86400000000000 <= $end_ns))
), hist AS (
    SELECT period_ns - (period_ns + bucket_offset_ns) % bucket_width_ns AS bucket_start_ns, tier, bucket,
           sum(n) AS n, sum(errors) AS errors, sum(sum_duration_ns) AS sum_duration_ns,
           CASE WHEN bucket < 0 THEN 0.0 ELSE exp(bucket * 0.020000666706669435) * 0.9900000000000001 END AS value_ns
    FROM rows CROSS JOIN params
    WHERE ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($workload IS NULL OR workload = $workload)
      AND (coalesce($workload_class, 'interactive') = 'all'
           OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
              = (coalesce($workload_class, 'interactive') = 'batch'))
    GROUP BY bucket_start_ns, tier, bucket
), ranked AS (
    SELECT bucket_start_ns, tier, n, errors, sum_duration_ns, value_ns,
           sum(n) OVER (PARTITION BY bucket_start_ns, tier ORDER BY bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
           CAST(sum(n) OVER (PARTITION BY bucket_start_ns, tier) - 1 AS DOUBLE) AS last_rank
    FROM hist
), picked AS (
    SELECT bucket_start_ns, tier, CAST(sum(n) AS BIGINT) AS requests, CAST(sum(errors) AS BIGINT) AS errors,
           sum(sum_duration_ns) AS sum_duration_ns,
           max(last_rank * 0.50 - floor(last_rank * 0.50)) AS f50,
           min(CASE WHEN upto > floor(last_rank * 0.50) THEN value_ns END) AS lo50,
           min(CASE WHEN upto > floor(last_rank * 0.50) + 1 THEN value_ns END) AS hi50,
           max(last_rank * 0.95 - floor(last_rank * 0.95)) AS f95,
           min(CASE WHEN upto > floor(last_rank * 0.95) THEN value_ns END) AS lo95,
           min(CASE WHEN upto > floor(last_rank * 0.95) + 1 THEN value_ns END) AS hi95,
           max(last_rank * 0.99 - floor(last_rank * 0.99)) AS f99,
           min(CASE WHEN upto > floor(last_rank * 0.99) THEN value_ns END) AS lo99,
           min(CASE WHEN upto > floor(last_rank * 0.99) + 1 THEN value_ns END) AS hi99
    FROM ranked
    GROUP BY bucket_start_ns, tier
)
SELECT
    bucket_start_ns, tier,
    requests,
    errors,
    errors / CAST(requests AS DOUBLE)                         AS error_rate,
    (lo50 + f50 * (coalesce(hi50, lo50) - lo50)) / 1e6        AS p50_ms,
    (lo95 + f95 * (coalesce(hi95, lo95) - lo95)) / 1e6        AS p95_ms,
    (lo99 + f99 * (coalesce(hi99, lo99) - lo99)) / 1e6        AS p99_ms,
    sum_duration_ns / CAST(requests AS DOUBLE) / 1e6          AS mean_ms
FROM picked
ORDER BY bucket_start_ns,
         tier_rank(tier)
