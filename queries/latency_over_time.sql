-- One row per time bucket and tier: requests (server, consumer and root spans), errors, error rate and exact p50/p95.
-- Parameters: $bucket (minute|hour|day|week|month, UTC), $tier, $site, $workload (NULL = all), $start_ns/$end_ns
-- (Unix ns, NULL = unbounded). Units: *_ms milliseconds, error_rate 0–1, errors a count.
SELECT
    date_trunc($bucket, make_timestamp(start_ns // 1000))        AS bucket_start,
    tier,
    count(*)                                                    AS requests,
    count(*) FILTER (WHERE status_code = 'error')               AS errors,
    avg(CASE WHEN status_code = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
    quantile_cont(duration_ns, 0.50) / 1e6                      AS p50_ms,
    quantile_cont(duration_ns, 0.95) / 1e6                      AS p95_ms
FROM spans
WHERE (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
  AND ($tier IS NULL OR tier = $tier)
  AND ($site IS NULL OR site = $site)
  AND ($workload IS NULL OR workload = $workload)
  AND ($start_ns IS NULL OR start_ns >= $start_ns)
  AND ($end_ns IS NULL OR start_ns < $end_ns)
GROUP BY 1, 2
ORDER BY bucket_start,
         tier_rank(tier)
