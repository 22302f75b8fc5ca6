-- One row per workload (NULL = every workload) and tier pair of CLIENT→SERVER hops that cross a tier or site: hop
-- count (all_workloads marks the rows over every workload), exact p50/p95 of network+queue time (client minus server duration, clamped at 0), the what-if's latency
-- input. Parameters: $start_ns/$end_ns (client start, Unix ns, NULL = unbounded). Units: *_ms.
WITH hops AS (
    SELECT c.workload, c.tier AS from_tier, s.tier AS to_tier, greatest(c.duration_ns - s.duration_ns, 0) AS overhead_ns
    FROM spans c
    JOIN spans s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
    WHERE c.kind = 'client' AND s.kind = 'server'
      AND (c.tier <> s.tier OR c.site IS DISTINCT FROM s.site)
      AND ($start_ns IS NULL OR c.start_ns >= $start_ns)
      AND ($end_ns IS NULL OR c.start_ns < $end_ns)
)
SELECT workload, grouping(workload) = 1 AS all_workloads, from_tier, to_tier, count(*) AS hops,
       quantile_cont(overhead_ns, 0.50) / 1e6 AS p50_ms,
       quantile_cont(overhead_ns, 0.95) / 1e6 AS p95_ms
FROM hops
GROUP BY GROUPING SETS ((workload, from_tier, to_tier), (from_tier, to_tier))
ORDER BY all_workloads DESC, workload, from_tier, to_tier
