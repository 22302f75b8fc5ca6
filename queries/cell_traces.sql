-- One row per trace with a request in a heatmap cell, slowest such request first: the semantic model's `entries`
-- (roots; SERVER/CONSUMER spans whose parent, started within a day, ran in another tier, or site when $by_site = 'yes'
-- or $site is named, or is not stored), each (trace, span) once, in tier $tier and the cell's $workload/$site, with
-- $start_ns/$end_ns (entry start, Unix ns, NULL = unbounded). $workload_type NULL leaves training, batch and embedding
-- out (as the model does unless asked); a type keeps that type only. $limit_count rows (default 20). Traces whose id is
-- not 32 lowercase hex digits cannot be opened and are left out. Units: *_ms ms, start_ns Unix ns, requests adjusted.
WITH cand AS (
    SELECT trace_id, span_id, any_value(parent_span_id) AS parent_span_id, any_value(tier) AS tier,
           any_value(site) AS site,
           any_value(service_name) AS service_name, any_value(name) AS name, any_value(workload) AS workload,
           any_value(start_ns) AS start_ns, any_value(duration_ns) AS duration_ns,
           any_value(status_code) AS status_code, any_value(trace_state) AS trace_state
    FROM spans
    WHERE (parent_span_id IS NULL OR kind IN ('server', 'consumer'))
      AND tier = $tier
      AND regexp_matches(trace_id, '^[0-9a-f]{32}$')
      AND ($site IS NULL OR site = $site)
      AND ($workload IS NULL OR workload = $workload)
      AND (($workload_type IS NULL AND coalesce(workload_type, '') NOT IN ('training', 'batch', 'embedding'))
           OR workload_type = $workload_type)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
    GROUP BY trace_id, span_id
),
parents AS (  -- where each candidate's parent ran, when the store holds it
    SELECT trace_id, span_id, any_value(tier) AS tier, any_value(site) AS site, any_value(start_ns) AS start_ns
    FROM spans
    WHERE trace_id IN (SELECT trace_id FROM cand WHERE parent_span_id IS NOT NULL)
    GROUP BY trace_id, span_id
),
entries AS (
    SELECT c.*
    FROM cand c
    LEFT JOIN parents p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
        AND abs(p.start_ns - c.start_ns) <= 86400000000000
    WHERE c.parent_span_id IS NULL OR p.span_id IS NULL OR p.tier <> $tier
       OR (($by_site = 'yes' OR $site IS NOT NULL) AND p.site IS DISTINCT FROM c.site)
),
states AS (  -- the adjusted count of each distinct traceState (OTel `ot=th:`), as request_entries weighs a span
    SELECT trace_state, CASE WHEN th = '' THEN 1.0
                             ELSE 72057594037927936.0
                                  / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT DISTINCT trace_state FROM entries))
),
per_trace AS (
    SELECT e.trace_id, any_value(e.tier) AS tier, arg_max(e.workload, e.duration_ns) AS workload,
           arg_max(e.site, e.duration_ns) AS site,
           arg_max(e.service_name, e.duration_ns) AS entry_service, arg_max(e.name, e.duration_ns) AS entry_operation,
           max(e.duration_ns) / 1e6 AS entry_ms, count(*) AS entries, sum(s.w) AS requests,
           count(*) FILTER (WHERE e.status_code = 'error') AS entry_errors, min(e.start_ns) AS start_ns
    FROM entries e
    JOIN states s ON s.trace_state IS NOT DISTINCT FROM e.trace_state
    GROUP BY e.trace_id
    ORDER BY entry_ms DESC, e.trace_id
    LIMIT coalesce($limit_count, 20)
),
roots AS (
    SELECT trace_id, any_value(name) AS root_operation, any_value(tier) AS root_tier,
           any_value(duration_ns) / 1e6 AS duration_ms
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IN (SELECT trace_id FROM per_trace)
    GROUP BY trace_id
),
parts AS (
    SELECT trace_id, count(*) AS spans, count(DISTINCT tier) AS tiers
    FROM spans
    WHERE trace_id IN (SELECT trace_id FROM per_trace)
    GROUP BY trace_id
)
SELECT t.trace_id, t.workload, t.tier, t.site, t.entry_service, t.entry_operation, t.entry_ms, t.entries,
       t.requests, t.entry_errors, r.root_operation, r.root_tier, r.duration_ms, p.spans, p.tiers, t.start_ns
FROM per_trace t
LEFT JOIN roots r ON r.trace_id = t.trace_id
LEFT JOIN parts p ON p.trace_id = t.trace_id
ORDER BY t.entry_ms DESC, t.trace_id
