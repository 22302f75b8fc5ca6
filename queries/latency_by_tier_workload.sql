-- One row per tier and workload (and site when $by_site = 'yes'): requests (server, consumer and root spans), error
-- rate and exact p50/p95/p99 — the SRE heatmap. Parameters: $tier, $site, $workload (NULL = all), $start_ns/$end_ns
-- (Unix ns, NULL = unbounded), $by_site ('yes' splits by site). Units: *_ms milliseconds, error_rate 0–1.
SELECT
    tier,
    coalesce(workload, '(none)')                                AS workload,
    CASE WHEN $by_site = 'yes' THEN site END                    AS site,
    count(*)                                                    AS requests,
    avg(CASE WHEN status_code = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
    quantile_cont(duration_ns, 0.50) / 1e6                      AS p50_ms,
    quantile_cont(duration_ns, 0.95) / 1e6                      AS p95_ms,
    quantile_cont(duration_ns, 0.99) / 1e6                      AS p99_ms
FROM spans
WHERE (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
  AND ($tier IS NULL OR tier = $tier)
  AND ($site IS NULL OR site = $site)
  AND ($workload IS NULL OR workload = $workload)
  AND ($start_ns IS NULL OR start_ns >= $start_ns)
  AND ($end_ns IS NULL OR start_ns < $end_ns)
GROUP BY 1, 2, 3
ORDER BY tier_rank(tier),
         workload, site NULLS LAST
