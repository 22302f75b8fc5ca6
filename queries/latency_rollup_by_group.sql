-- One row per time bucket, tier, site, workload, service and operation from the latency roll-up (as latency_by_group).
-- Parameters: $bucket (minute|hour|day|week, UTC; weeks start Monday), $tier, $site, $workload, $workload_class,
-- $start_ns/$end_ns (Unix ns, by minute). Units: bucket_start_ns Unix ns, *_ms ms (p* within 1 % of quantile_cont).
-- The running count walks (integer group id, bucket), not six nullable text keys (3x slower); each width is its own
-- scan (zone maps skip the other) and rows are not summed per bucket first (equal buckets pick the same bucket).
WITH params AS (
    SELECT CASE $bucket WHEN 'minute' THEN 60000000000 WHEN 'hour' THEN 3600000000000
                        WHEN 'day' THEN 86400000000000 WHEN 'week' THEN 604800000000000 END AS bucket_width_ns,
           CASE $bucket WHEN 'week' THEN 259200000000000 ELSE 0 END AS bucket_offset_ns  -- weeks start on Monday
), rows AS (
    SELECT period_ns, tier, site, workload, workload_type, service_name, name, bucket, n, errors, sum_duration_ns
    FROM latency_rollup
    WHERE width_ns = 86400000000000 AND $bucket IN ('day', 'week')  -- UTC days wholly inside the window
      AND ($start_ns IS NULL OR period_ns >= $start_ns + (86400000000000 - $start_ns % 86400000000000) % 86400000000000)
      AND ($end_ns IS NULL OR period_ns + 86400000000000 <= $end_ns)
    UNION ALL
    SELECT period_ns, tier, site, workload, workload_type, service_name, name, bucket, n, errors, sum_duration_ns
    FROM latency_rollup
    WHERE width_ns = 60000000000 AND ($start_ns IS NULL OR period_ns >= $start_ns) AND ($end_ns IS NULL OR period_ns < $end_ns)
      AND NOT ($bucket IN ('day', 'week')  -- minutes outside those days
               AND ($start_ns IS NULL OR period_ns - period_ns % 86400000000000
                    >= $start_ns + (86400000000000 - $start_ns % 86400000000000) % 86400000000000)
               AND ($end_ns IS NULL OR period_ns - period_ns % 86400000000000 + 86400000000000 <= $end_ns))
), hist AS (
    SELECT period_ns - (period_ns + bucket_offset_ns) % bucket_width_ns AS bucket_start_ns, tier, site, workload,
           service_name, name, bucket, n, errors, sum_duration_ns
    FROM rows CROSS JOIN params
    WHERE ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($workload IS NULL OR workload = $workload)
      AND (coalesce($workload_class, 'interactive') = 'all'
           OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
              = (coalesce($workload_class, 'interactive') = 'batch'))
), groups AS (  -- one row per output group, with its id and totals
    SELECT *, row_number() OVER () AS gid FROM (
        SELECT bucket_start_ns, tier, site, workload, service_name, name, CAST(sum(n) AS BIGINT) AS requests,
               CAST(sum(errors) AS BIGINT) AS errors, sum(sum_duration_ns) AS sum_duration_ns,
               CAST(sum(n) - 1 AS DOUBLE) AS last_rank
        FROM hist GROUP BY bucket_start_ns, tier, site, workload, service_name, name)
), ranked AS (
    SELECT g.gid, g.last_rank, h.bucket, h.n,
           sum(h.n) OVER (PARTITION BY g.gid ORDER BY h.bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
    FROM hist h JOIN groups g
      ON g.bucket_start_ns = h.bucket_start_ns AND g.tier = h.tier AND g.site IS NOT DISTINCT FROM h.site
     AND g.workload IS NOT DISTINCT FROM h.workload AND g.service_name IS NOT DISTINCT FROM h.service_name AND g.name = h.name
), picked AS (  -- buckets holding ranks floor((n-1)q) and the next (NULL past the last); exp is monotonic
    SELECT gid,
           max(last_rank * 0.50 - floor(last_rank * 0.50)) AS f50,
           min(CASE WHEN upto > floor(last_rank * 0.50) THEN bucket END) AS lo50,
           min(CASE WHEN upto > floor(last_rank * 0.50) + 1 THEN bucket END) AS hi50,
           max(last_rank * 0.95 - floor(last_rank * 0.95)) AS f95,
           min(CASE WHEN upto > floor(last_rank * 0.95) THEN bucket END) AS lo95,
           min(CASE WHEN upto > floor(last_rank * 0.95) + 1 THEN bucket END) AS hi95,
           max(last_rank * 0.99 - floor(last_rank * 0.99)) AS f99,
           min(CASE WHEN upto > floor(last_rank * 0.99) THEN bucket END) AS lo99,
           min(CASE WHEN upto > floor(last_rank * 0.99) + 1 THEN bucket END) AS hi99
    FROM ranked GROUP BY gid
), v AS (
    SELECT gid, f50, f95, f99,
           CASE WHEN lo50 < 0 THEN 0.0 ELSE exp(lo50 * 0.020000666706669435) * 0.9900000000000001 END AS lo50,
           CASE WHEN hi50 < 0 THEN 0.0 ELSE exp(hi50 * 0.020000666706669435) * 0.9900000000000001 END AS hi50,
           CASE WHEN lo95 < 0 THEN 0.0 ELSE exp(lo95 * 0.020000666706669435) * 0.9900000000000001 END AS lo95,
           CASE WHEN hi95 < 0 THEN 0.0 ELSE exp(hi95 * 0.020000666706669435) * 0.9900000000000001 END AS hi95,
           CASE WHEN lo99 < 0 THEN 0.0 ELSE exp(lo99 * 0.020000666706669435) * 0.9900000000000001 END AS lo99,
           CASE WHEN hi99 < 0 THEN 0.0 ELSE exp(hi99 * 0.020000666706669435) * 0.9900000000000001 END AS hi99
    FROM picked
)
SELECT
    bucket_start_ns, tier, site, workload, service_name, name AS operation,
    requests,
    errors,
    errors / CAST(requests AS DOUBLE)                         AS error_rate,
    (lo50 + f50 * (coalesce(hi50, lo50) - lo50)) / 1e6        AS p50_ms,
    (lo95 + f95 * (coalesce(hi95, lo95) - lo95)) / 1e6        AS p95_ms,
    (lo99 + f99 * (coalesce(hi99, lo99) - lo99)) / 1e6        AS p99_ms,
    sum_duration_ns / CAST(requests AS DOUBLE) / 1e6          AS mean_ms
FROM groups JOIN v USING (gid)
ORDER BY bucket_start_ns,
         tier_rank(tier),
         site NULLS LAST, workload NULLS LAST, service_name NULLS LAST, operation
