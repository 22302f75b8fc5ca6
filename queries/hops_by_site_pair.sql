-- One row per (from_site, to_site): CLIENT spans whose SERVER child runs in another tier or site. Overhead =
-- client minus server duration (network + queue; needs no clock agreement), clamped at 0, negatives counted.
-- Parameters: $workload (NULL = all), $start_ns/$end_ns (client start, Unix ns, NULL = unbounded). Units: *_ms, *_bytes.
SELECT
    from_site,
    to_site,
    count(*)                                                 AS hops,
    quantile_cont(greatest(raw_overhead_ns, 0), 0.50) / 1e6  AS p50_ms,
    quantile_cont(greatest(raw_overhead_ns, 0), 0.95) / 1e6  AS p95_ms,
    avg(greatest(raw_overhead_ns, 0)) / 1e6                  AS mean_ms,
    count(*) FILTER (WHERE raw_overhead_ns < 0)              AS negative_raw_count,
    coalesce(sum(request_bytes), 0)::BIGINT                  AS request_bytes,
    coalesce(sum(response_bytes), 0)::BIGINT                 AS response_bytes
FROM hops  -- the view from store/migrations/0003_hops_view.sql
WHERE ($workload IS NULL OR workload = $workload)
  AND ($start_ns IS NULL OR start_ns >= $start_ns)
  AND ($end_ns IS NULL OR start_ns < $end_ns)
GROUP BY from_site, to_site
ORDER BY hops DESC, from_site NULLS LAST, to_site NULLS LAST
