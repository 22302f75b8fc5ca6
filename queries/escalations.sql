-- One row per time bucket and workload of traces whose root span runs on a device (pattern 3, on-device first; the
-- root's tierwise.pattern when declared): how many stayed on the device and what share reached edge, regional or
-- hyperscale. Parameters: $bucket (UTC,
-- default day), $workload (NULL = all), $start_ns/$end_ns (root start, Unix ns). Units: *_ratio 0–1 of device-rooted traces.
WITH roots AS (
    SELECT trace_id, workload, attributes->>'tierwise.pattern' AS pattern,
           date_trunc($bucket, make_timestamp(start_ns // 1000)) AS bucket_start
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IS NOT NULL AND tier = 'device'
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
reach AS (
    SELECT r.bucket_start, r.workload, r.pattern, r.trace_id,
           bool_or(s.tier = 'edge')                       AS edge,
           bool_or(s.tier = 'regional')                   AS regional,
           bool_or(s.tier = 'hyperscale')                 AS hyperscale,
           bool_or(s.tier NOT IN ('device'))              AS escalated
    FROM roots r
    JOIN spans s USING (trace_id)
    GROUP BY ALL
)
SELECT
    bucket_start,
    workload,
    pattern,
    count(*)                                                 AS device_traces,
    count(*) FILTER (WHERE escalated)                        AS escalated_traces,
    avg(escalated::INTEGER)                                  AS escalated_ratio,
    avg(edge::INTEGER)                                       AS reached_edge_ratio,
    avg(regional::INTEGER)                                   AS reached_regional_ratio,
    avg(hyperscale::INTEGER)                                 AS reached_hyperscale_ratio,
    avg((regional OR hyperscale)::INTEGER)                   AS reached_cloud_ratio
FROM reach
GROUP BY ALL
ORDER BY bucket_start, workload NULLS LAST, pattern NULLS LAST
