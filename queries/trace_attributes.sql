-- One row per trace (root span in the window) and attribute value any of its spans carries: site, tier, gen_ai_model,
-- device_model (resource device.model.identifier), cache (hit|miss) and data_class; traces with none get one NULL row.
-- Parameters: $workload (the root's, NULL = all), $start_ns/$end_ns (root start, Unix ns). Units: e2e_ns nanoseconds.
WITH roots AS (
    SELECT trace_id, any_value(workload) AS workload, max(duration_ns) AS e2e_ns
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
    GROUP BY trace_id
),
attrs AS (
    SELECT s.trace_id, a.attribute, a.value
    FROM spans s
    JOIN roots USING (trace_id),
    LATERAL (VALUES ('site', s.site), ('tier', s.tier), ('gen_ai_model', s.gen_ai_model),
                    ('device_model', CASE WHEN contains(s.resource_attributes::VARCHAR, 'device.model.identifier')
                                          THEN s.resource_attributes->>'device.model.identifier' END),
                    ('cache', CASE WHEN s.cache_hit THEN 'hit' WHEN NOT s.cache_hit THEN 'miss' END),
                    ('data_class', s.data_class)) AS a(attribute, value)
    WHERE a.value IS NOT NULL
)
SELECT DISTINCT r.workload, r.trace_id, r.e2e_ns, a.attribute, a.value
FROM roots r
LEFT JOIN attrs a USING (trace_id)
ORDER BY r.workload NULLS LAST, r.trace_id, a.attribute NULLS LAST, a.value
