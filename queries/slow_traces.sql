-- One row per trace, slowest root spans first: example slow traces for a drill-down. Parameters: $tier (a span of the
-- trace runs in that tier), $site, $workload (root span's, NULL = all), $workload_class (interactive, the default, batch
-- or all; applies when no $workload is named), $start_ns/$end_ns (root start, Unix ns, NULL = unbounded),
-- $min_tiers_count (traces crossing at least this many tiers; looked for among the 2,000 slowest), $limit_count (rows,
-- default 20). Reads the per-trace index keyed by numbers (trace_root_keys, trace_part_keys; equal durations in
-- trace_id order, an id that is not lowercase hex after the others). Units: duration_ms ms, start_ns Unix ns, counts.
WITH roots AS (
    SELECT trace_key, odd_id, name AS root_operation, workload, site, tier AS root_tier, start_ns,
           duration_ns / 1e6 AS duration_ms, status_code
    FROM trace_root_keys
    WHERE ($workload IS NULL OR workload = $workload)
      AND ($workload IS NOT NULL OR coalesce($workload_class, 'interactive') = 'all'
           OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
              = (coalesce($workload_class, 'interactive') = 'batch'))
      AND ($site IS NULL OR site = $site)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
      AND ($tier IS NULL OR trace_key IN (  -- a trace's parts (one per committed batch) each carry its tiers' bits
              SELECT trace_key FROM trace_part_keys
              WHERE tier_bits & tier_bit($tier) != 0)
           OR odd_id IN (
              SELECT odd_id FROM trace_part_keys
              WHERE tier_bits & tier_bit($tier) != 0))
    ORDER BY duration_ns DESC, trace_key, odd_id
    LIMIT CASE WHEN coalesce($min_tiers_count, 1) > 1 THEN 2000 ELSE coalesce($limit_count, 20) END
)
SELECT coalesce(r.odd_id, lpad(lower(hex(r.trace_key)), 32, '0')) AS trace_id, r.workload, r.root_tier, r.site,
       r.root_operation, r.duration_ms, r.status_code, r.start_ns,
       sum(p.spans)::BIGINT AS spans, bit_count(bit_or(p.tier_bits))::BIGINT AS tiers
FROM roots r
JOIN trace_part_keys p ON p.trace_key IS NOT DISTINCT FROM r.trace_key AND p.odd_id IS NOT DISTINCT FROM r.odd_id
GROUP BY r.trace_key, r.odd_id, r.workload, r.root_tier, r.site, r.root_operation, r.duration_ms, r.status_code,
         r.start_ns
HAVING bit_count(bit_or(p.tier_bits)) >= coalesce($min_tiers_count, 1)
ORDER BY r.duration_ms DESC, r.trace_key, r.odd_id
LIMIT coalesce($limit_count, 20)
