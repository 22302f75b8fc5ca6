-- One row per trace, slowest root spans first: example slow traces for a drill-down. Parameters: $tier (a span of the
-- trace runs in that tier), $site, $workload (root span's, NULL = all), $start_ns/$end_ns (root start, Unix ns, NULL =
-- unbounded), $min_tiers_count (traces crossing at least this many tiers; looked for among the 2,000 slowest),
-- $limit_count (rows, default 20). Units: duration_ms milliseconds, start_ns Unix ns, spans and tiers are counts.
WITH roots AS (
    SELECT trace_id, name AS root_operation, workload, site, tier AS root_tier, start_ns,
           duration_ns / 1e6 AS duration_ms, status_code
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
      AND ($workload IS NULL OR workload = $workload)
      AND ($site IS NULL OR site = $site)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
      AND ($tier IS NULL OR trace_id IN (SELECT trace_id FROM spans WHERE tier = $tier))
    ORDER BY duration_ns DESC, trace_id
    LIMIT CASE WHEN coalesce($min_tiers_count, 1) > 1 THEN 2000 ELSE coalesce($limit_count, 20) END
)
SELECT r.trace_id, r.workload, r.root_tier, r.site, r.root_operation, r.duration_ms, r.status_code, r.start_ns,
       count(s.span_id) AS spans, count(DISTINCT s.tier) AS tiers
FROM roots r
JOIN spans s USING (trace_id)
GROUP BY ALL
HAVING count(DISTINCT s.tier) >= coalesce($min_tiers_count, 1)
ORDER BY r.duration_ms DESC, r.trace_id
LIMIT coalesce($limit_count, 20)
