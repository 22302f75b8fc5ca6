-- One row per span of every trace with a root span starting in the window: what the critical path needs.
-- Parameters: $workload (the root span's workload, NULL = all), $start_ns/$end_ns (root start, Unix ns,
-- NULL = unbounded). Units: start_ns/end_ns Unix nanoseconds.
WITH roots AS (
    SELECT DISTINCT trace_id
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
)
SELECT s.trace_id, s.span_id, s.parent_span_id, s.start_ns, s.end_ns, s.service_name, s.name, s.tier, s.kind,
       s.site, s.workload
FROM spans s
JOIN roots USING (trace_id)
ORDER BY s.trace_id, s.start_ns, s.span_id
