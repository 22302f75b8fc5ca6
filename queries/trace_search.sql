-- One row per trace matching a search, most recent (or slowest) first: the Jaeger/Tempo trace list.
-- Parameters: span conditions, all on one span: $service, $operation, $tier, $site, $workload, and $where (a JSON
-- list of {k: attribute key, op: '=', '!=', '>', '>=', '<' or '<=', v: text}; span attribute, else resource attribute);
-- trace conditions: $status ('error': a span failed, 'ok': none did), $min_ms / $max_ms (trace duration),
-- $start_ns / $end_ns (trace start, Unix ns; spans more than $slack_ns outside the window are not searched);
-- $sort ('recent' or 'slowest'), $limit_count. Units: start_ns Unix ns, duration_ms ms, counts.
WITH span_hits AS (
    SELECT DISTINCT trace_id
    FROM spans
    WHERE trace_id IS NOT NULL
      AND ($service IS NOT NULL OR $operation IS NOT NULL OR $tier IS NOT NULL OR $site IS NOT NULL
          OR $workload IS NOT NULL OR $where IS NOT NULL)  -- no span condition: no scan
      AND ($service IS NULL OR service_name = $service)
      AND ($operation IS NULL OR name = $operation)
      AND ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns - $slack_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns + $slack_ns)
      AND coalesce(list_bool_and(list_transform(coalesce(from_json($where, '[{"k": "VARCHAR", "op": "VARCHAR", "v": "VARCHAR"}]'), []), lambda c:  -- cheap text test first
          c.op <> '=' OR contains(attributes::VARCHAR, c.v) OR contains(resource_attributes::VARCHAR, c.v))), true)
      AND coalesce(list_bool_and(list_transform(coalesce(from_json($where, '[{"k": "VARCHAR", "op": "VARCHAR", "v": "VARCHAR"}]'), []), lambda c:
          coalesce(CASE c.op
              WHEN '=' THEN coalesce(json_extract_string(attributes, c.k), json_extract_string(resource_attributes, c.k)) = c.v
              WHEN '!=' THEN coalesce(json_extract_string(attributes, c.k), json_extract_string(resource_attributes, c.k)) <> c.v
              WHEN '>' THEN TRY_CAST(coalesce(json_extract_string(attributes, c.k), json_extract_string(resource_attributes, c.k)) AS DOUBLE) > TRY_CAST(c.v AS DOUBLE)
              WHEN '>=' THEN TRY_CAST(coalesce(json_extract_string(attributes, c.k), json_extract_string(resource_attributes, c.k)) AS DOUBLE) >= TRY_CAST(c.v AS DOUBLE)
              WHEN '<' THEN TRY_CAST(coalesce(json_extract_string(attributes, c.k), json_extract_string(resource_attributes, c.k)) AS DOUBLE) < TRY_CAST(c.v AS DOUBLE)
              WHEN '<=' THEN TRY_CAST(coalesce(json_extract_string(attributes, c.k), json_extract_string(resource_attributes, c.k)) AS DOUBLE) <= TRY_CAST(c.v AS DOUBLE) END, false))), true)
),
span_filtered AS (
    SELECT $service IS NOT NULL OR $operation IS NOT NULL OR $tier IS NOT NULL OR $site IS NOT NULL
           OR $workload IS NOT NULL OR $where IS NOT NULL AS yes
),
hit_keys AS (  -- keyed as trace_root_keys: a lowercase-hex id as the number it spells, any other id as text
    SELECT CASE WHEN regexp_full_match(trace_id, '[0-9a-f]{32}') THEN ('0x' || trace_id)::UHUGEINT END AS trace_key,
           CASE WHEN NOT regexp_full_match(trace_id, '[0-9a-f]{32}') THEN trace_id END AS odd_id
    FROM span_hits
),
failed_keys AS (
    SELECT CASE WHEN regexp_full_match(trace_id, '[0-9a-f]{32}') THEN ('0x' || trace_id)::UHUGEINT END AS trace_key,
           CASE WHEN NOT regexp_full_match(trace_id, '[0-9a-f]{32}') THEN trace_id END AS odd_id
    FROM (SELECT DISTINCT trace_id FROM spans WHERE $status IS NOT NULL AND status_code = 'error')
),
picked AS (  -- root rows in the window, marked when their trace has several roots (merged below)
    SELECT r.trace_key, r.odd_id, r.start_ns, r.duration_ns, d.dup
    FROM trace_root_keys r
    LEFT JOIN (SELECT DISTINCT trace_key, odd_id, true AS hit FROM hit_keys) h
           ON h.trace_key IS NOT DISTINCT FROM r.trace_key AND h.odd_id IS NOT DISTINCT FROM r.odd_id
    LEFT JOIN (SELECT DISTINCT trace_key, odd_id, true AS failed FROM failed_keys) f
           ON f.trace_key IS NOT DISTINCT FROM r.trace_key AND f.odd_id IS NOT DISTINCT FROM r.odd_id
    LEFT JOIN (SELECT trace_key, odd_id, true AS dup FROM trace_root_dups) d
           ON d.trace_key IS NOT DISTINCT FROM r.trace_key AND d.odd_id IS NOT DISTINCT FROM r.odd_id
    WHERE ($start_ns IS NULL OR r.start_ns >= $start_ns)
      AND ($end_ns IS NULL OR r.start_ns < $end_ns)
      AND (NOT (SELECT yes FROM span_filtered) OR h.hit)
      AND ($status IS NULL OR coalesce(f.failed, false) = ($status = 'error'))
),
roots AS (
    SELECT trace_key, odd_id, start_ns, duration_ns FROM picked WHERE dup IS NULL
    UNION ALL
    SELECT trace_key, odd_id, min(start_ns), max(start_ns + duration_ns) - min(start_ns) FROM picked
    WHERE dup GROUP BY trace_key, odd_id
),
top AS (
    SELECT coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0')) AS trace_id, start_ns, duration_ns
    FROM (SELECT * FROM roots
          WHERE ($min_ms IS NULL OR duration_ns >= $min_ms * 1e6)
            AND ($max_ms IS NULL OR duration_ns <= $max_ms * 1e6)
          ORDER BY CASE WHEN $sort = 'slowest' THEN -duration_ns ELSE -start_ns END, trace_key, odd_id
          LIMIT coalesce($limit_count, 20))
),
detail AS (
    SELECT trace_id, count(*) AS span_count, count(*) FILTER (WHERE status_code = 'error') AS error_count,
           list_sort(list(DISTINCT tier_rank(tier))) AS ranks
    FROM spans
    WHERE trace_id IN (SELECT trace_id FROM top)
    GROUP BY trace_id
),
root_names AS (  -- the earliest root's service and operation
    SELECT trace_id, arg_min(service_name, start_ns) AS root_service, arg_min(name, start_ns) AS root_operation
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IN (SELECT trace_id FROM top)
    GROUP BY trace_id
)
SELECT t.trace_id, t.start_ns, t.duration_ns / 1e6 AS duration_ms, r.root_service, r.root_operation,
       d.span_count::BIGINT AS span_count, d.ranks AS tier_ranks, d.error_count::BIGINT AS error_count
FROM top t
JOIN detail d USING (trace_id)
LEFT JOIN root_names r USING (trace_id)
ORDER BY CASE WHEN $sort = 'slowest' THEN -t.duration_ns ELSE -t.start_ns END, t.trace_id
