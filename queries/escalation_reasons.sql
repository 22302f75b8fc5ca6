-- One row per time bucket, workload, from_tier, to_tier and reason: CLIENT→SERVER calls that leave their tier,
-- with `tierwise.escalation.reason` from the CLIENT span ('unspecified' when absent) and whether the trace began
-- on a device. Parameters: $bucket (UTC, default day), $workload (NULL = all), $start_ns/$end_ns (client start). Units: counts.
SELECT
    date_trunc($bucket, make_timestamp(c.start_ns // 1000))               AS bucket_start,
    c.workload,
    c.tier                                                                AS from_tier,
    s.tier                                                                AS to_tier,
    coalesce(c.attributes->>'tierwise.escalation.reason', 'unspecified')  AS reason,
    count(*)                                                              AS calls,
    count(DISTINCT c.trace_id)                                            AS traces,
    count(*) FILTER (WHERE s.status_code = 'error' OR c.status_code = 'error') AS failed_calls
FROM spans c
JOIN spans s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
WHERE c.kind = 'client' AND s.kind = 'server' AND c.tier <> s.tier
  AND ($workload IS NULL OR c.workload = $workload)
  AND ($start_ns IS NULL OR c.start_ns >= $start_ns)
  AND ($end_ns IS NULL OR c.start_ns < $end_ns)
GROUP BY ALL
ORDER BY bucket_start, workload NULLS LAST, from_tier, to_tier, calls DESC, reason
