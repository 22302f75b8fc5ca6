-- One row per workload, data_class and tier where spans of that data class ran in a tier the policy does not allow:
-- span and trace counts, up to 3 example trace ids (earliest first), first/last seen. Parameters: $public_tiers,
-- $internal_tiers, $confidential_tiers, $regulated_tiers (allowed tiers, comma-separated; NULL = anywhere; defaults in
-- queries/policy.py or tierwise.toml [trust_zones]), $start_ns/$end_ns (span start, Unix ns). Units: counts, UTC timestamps.
WITH policy(data_class, allowed) AS (
    VALUES ('public', string_split($public_tiers, ',')),
           ('internal', string_split($internal_tiers, ',')),
           ('confidential', string_split($confidential_tiers, ',')),
           ('regulated', string_split($regulated_tiers, ','))
),
violations AS (
    SELECT s.workload, s.data_class, s.tier, s.site, s.trace_id, s.start_ns, array_to_string(p.allowed, ',') AS allowed,
           min(s.start_ns) OVER (PARTITION BY s.workload, s.data_class, s.tier, s.trace_id) AS trace_first_ns
    FROM spans s
    JOIN policy p ON p.data_class = s.data_class
    WHERE p.allowed IS NOT NULL AND NOT list_contains(p.allowed, s.tier)
      AND ($start_ns IS NULL OR s.start_ns >= $start_ns)
      AND ($end_ns IS NULL OR s.start_ns < $end_ns)
)
SELECT
    workload,
    data_class,
    tier,
    any_value(allowed)                                                      AS allowed_tiers,
    count(*)                                                                AS spans,
    count(DISTINCT trace_id)                                                AS traces,
    string_agg(DISTINCT site, ',' ORDER BY site)                            AS sites,
    array_to_string(list(trace_id ORDER BY trace_first_ns, trace_id) FILTER (WHERE start_ns = trace_first_ns)[1:3], ',')
                                                                            AS example_trace_ids,
    make_timestamp(min(start_ns) // 1000)                                   AS first_seen,
    make_timestamp(max(start_ns) // 1000)                                   AS last_seen
FROM violations
GROUP BY workload, data_class, tier
ORDER BY traces DESC, workload NULLS LAST, data_class, tier
