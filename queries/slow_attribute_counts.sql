-- One row per workload and attribute value (as trace_attributes) seen in its traces: how many slow traces (end-to-end
-- above the workload's $slow_quantile, linear interpolation) and typical ones carry it. Parameters: $workload (root's),
-- $start_ns/$end_ns (root start, Unix ns), $slow_quantile (0-1). Units: threshold_ms ms; *_traces, n_* counts.
WITH roots AS (
    SELECT trace_id, any_value(workload) AS workload, max(duration_ns) AS e2e_ns
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
    GROUP BY trace_id
),
cut AS (
    SELECT workload, quantile_cont(e2e_ns, $slow_quantile) AS cut_ns
    FROM roots WHERE workload IS NOT NULL GROUP BY workload
),
labelled AS (
    SELECT r.trace_id, r.workload, r.e2e_ns > c.cut_ns AS slow
    FROM roots r JOIN cut c USING (workload)
),
totals AS (
    SELECT l.workload, count(*) FILTER (WHERE l.slow) AS n_slow, count(*) FILTER (WHERE NOT l.slow) AS n_typical,
           any_value(c.cut_ns) / 1e6 AS threshold_ms
    FROM labelled l JOIN cut c USING (workload) GROUP BY l.workload
),
combos AS (  -- distinct attribute combinations per trace first: far fewer rows than spans to unpivot
    SELECT DISTINCT s.trace_id, s.site, s.tier, s.gen_ai_model, s.cache_hit, s.data_class,
           CASE WHEN contains(s.resource_attributes::VARCHAR, 'device.model.identifier')
                THEN s.resource_attributes->>'device.model.identifier' END AS device_model
    FROM spans s SEMI JOIN labelled l ON l.trace_id = s.trace_id
),
attrs AS (
    SELECT DISTINCT c.trace_id, a.attribute, a.value
    FROM combos c,
    LATERAL (VALUES ('site', c.site), ('tier', c.tier), ('gen_ai_model', c.gen_ai_model),
                    ('device_model', c.device_model),
                    ('cache', CASE WHEN c.cache_hit THEN 'hit' WHEN NOT c.cache_hit THEN 'miss' END),
                    ('data_class', c.data_class)) AS a(attribute, value)
    WHERE a.value IS NOT NULL
)
SELECT l.workload, a.attribute, a.value, count(*) FILTER (WHERE l.slow) AS slow_traces,
       count(*) FILTER (WHERE NOT l.slow) AS typical_traces, t.threshold_ms, t.n_slow, t.n_typical
FROM attrs a
JOIN labelled l USING (trace_id)
JOIN totals t USING (workload)
GROUP BY l.workload, a.attribute, a.value, t.threshold_ms, t.n_slow, t.n_typical
ORDER BY l.workload, a.attribute, a.value
