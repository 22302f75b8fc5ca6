-- One row per tier: requests (server, consumer and root spans), error rate and exact latency percentiles.
-- Parameters: $start_ns, $end_ns (BIGINT Unix nanoseconds, NULL for unbounded); $workload_class: 'interactive'
-- (default: request latency of serving paths, i.e. workload_type not training/batch/embedding, or undeclared),
-- 'batch' (only those asynchronous jobs) or 'all'. Units: *_ms milliseconds; error_rate a fraction from 0 to 1.
SELECT
    tier,
    count(*)                                                    AS requests,
    avg(CASE WHEN status_code = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
    quantile_cont(duration_ns, 0.50) / 1e6                      AS p50_ms,
    quantile_cont(duration_ns, 0.95) / 1e6                      AS p95_ms,
    quantile_cont(duration_ns, 0.99) / 1e6                      AS p99_ms,
    avg(duration_ns) / 1e6                                      AS mean_ms
FROM spans
WHERE (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
  AND ($start_ns IS NULL OR start_ns >= $start_ns)
  AND ($end_ns IS NULL OR start_ns < $end_ns)
  AND (coalesce($workload_class, 'interactive') = 'all'
       OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
          = (coalesce($workload_class, 'interactive') = 'batch'))
GROUP BY tier
ORDER BY tier_rank(tier)
