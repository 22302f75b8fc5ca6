-- One row per workload (NULL = every workload) and tier pair of CLIENT→SERVER hops that cross a tier or site: hop
-- count (all_workloads marks the rows over every workload), exact p50/p95 of network+queue time (client minus server duration, clamped at 0), the what-if's latency
-- input. Parameters: $start_ns/$end_ns (client start, Unix ns, NULL = unbounded). Units: *_ms.
WITH pairs AS (  -- hops: the view from store/migrations/0003_hops_view.sql
    SELECT workload, from_tier, to_tier, greatest(raw_overhead_ns, 0) AS overhead_ns
    FROM hops
    WHERE ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
)
SELECT workload, grouping(workload) = 1 AS all_workloads, from_tier, to_tier, count(*) AS hops,
       quantile_cont(overhead_ns, 0.50) / 1e6 AS p50_ms,
       quantile_cont(overhead_ns, 0.95) / 1e6 AS p95_ms
FROM pairs
GROUP BY GROUPING SETS ((workload, from_tier, to_tier), (from_tier, to_tier))
ORDER BY all_workloads DESC, workload, from_tier, to_tier
