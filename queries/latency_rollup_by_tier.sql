-- One row per tier from the latency roll-up: requests (server, consumer, root spans), error rate, p50/p95/p99, mean.
-- Parameters: $start_ns/$end_ns (Unix ns, applied by minute), $tier, $workload (NULL = all), $workload_class as in
-- latency_by_tier. Units: *_ms ms; p*_ms within 1 % of quantile_cont over the same spans, mean_ms/error_rate exact.
WITH hist AS (
    SELECT tier, bucket, sum(n) AS n, sum(errors) AS errors, sum(sum_duration_ns) AS sum_duration_ns,
           CASE WHEN bucket < 0 THEN 0.0 ELSE exp(bucket * 0.020000666706669435) * 0.9900000000000001 END AS value_ns
    FROM latency_rollup
    WHERE ($tier IS NULL OR tier = $tier)
      AND ($workload IS NULL OR workload = $workload)
      AND (coalesce($workload_class, 'interactive') = 'all'
           OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
              = (coalesce($workload_class, 'interactive') = 'batch'))
      AND CASE WHEN TRUE
                    AND ($start_ns IS NULL OR period_ns - period_ns % 86400000000000
                         >= $start_ns + (86400000000000 - $start_ns % 86400000000000) % 86400000000000)
                    AND ($end_ns IS NULL OR period_ns - period_ns % 86400000000000 + 86400000000000 <= $end_ns)
               THEN width_ns = 86400000000000  -- a UTC day wholly inside the window: read its day rows
               ELSE width_ns = 60000000000 AND ($start_ns IS NULL OR period_ns >= $start_ns)
                    AND ($end_ns IS NULL OR period_ns < $end_ns) END
    GROUP BY tier, bucket
), ranked AS (
    SELECT tier, n, errors, sum_duration_ns, value_ns,
           sum(n) OVER (PARTITION BY tier ORDER BY bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
           CAST(sum(n) OVER (PARTITION BY tier) - 1 AS DOUBLE) AS last_rank
    FROM hist
), picked AS (
    SELECT tier, CAST(sum(n) AS BIGINT) AS requests, CAST(sum(errors) AS BIGINT) AS errors,
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
    GROUP BY tier
)
SELECT
    tier,
    requests,
    errors / CAST(requests AS DOUBLE)                         AS error_rate,
    (lo50 + f50 * (coalesce(hi50, lo50) - lo50)) / 1e6        AS p50_ms,
    (lo95 + f95 * (coalesce(hi95, lo95) - lo95)) / 1e6        AS p95_ms,
    (lo99 + f99 * (coalesce(hi99, lo99) - lo99)) / 1e6        AS p99_ms,
    sum_duration_ns / CAST(requests AS DOUBLE) / 1e6          AS mean_ms
FROM picked
ORDER BY tier_rank(tier)
