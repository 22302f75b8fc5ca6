-- One row per workload and attribute value (as trace_attributes) seen in its traces: how many slow traces (end-to-end
-- above the workload's $slow_quantile, linear interpolation) and typical ones carry it, from trace_profiles (0009).
-- Parameters: $workload (root's), $start_ns/$end_ns (root start, Unix ns), $slow_quantile (0-1). Units: threshold_ms
-- ms; *_traces, n_* counts.
WITH parts AS NOT MATERIALIZED (  -- trace_profiles rows; `counted`: a root that passes the filters (it labels a trace)
    SELECT trace_id, workload, duration_ns, md5_number(profile) AS key,
           start_ns IS NOT NULL AND ($workload IS NULL OR workload = $workload)
               AND ($start_ns IS NULL OR start_ns >= $start_ns) AND ($end_ns IS NULL OR start_ns < $end_ns) AS counted,
           $workload IS NULL AND $start_ns IS NULL AND $end_ns IS NULL AS unfiltered
    FROM trace_profiles
),
traces AS (  -- one row per trace with a counted root: its label, and its values as profile keys (the same in every
             -- part, or key_lo <> key_hi when its batches saw different values)
    SELECT trace_id, any_value(workload) FILTER (WHERE counted) AS workload,
           max(duration_ns) FILTER (WHERE counted) AS e2e_ns, min(key) AS key_lo, max(key) AS key_hi
    FROM (SELECT * FROM parts WHERE unfiltered
          UNION ALL  -- with a filter, only the parts of traces it keeps are grouped
          SELECT * FROM parts
          WHERE NOT unfiltered AND trace_id IN (SELECT trace_id FROM parts WHERE counted AND NOT unfiltered))
    GROUP BY trace_id
    HAVING bool_or(counted)
),
cut AS (
    SELECT workload, quantile_cont(e2e_ns, $slow_quantile) AS cut_ns
    FROM traces WHERE workload IS NOT NULL GROUP BY workload
),
labelled AS NOT MATERIALIZED (
    SELECT t.trace_id, t.workload, t.e2e_ns > c.cut_ns AS slow, t.key_lo, t.key_hi
    FROM traces t JOIN cut c USING (workload)
),
keys AS (  -- each profile once, by key; a key shared by two profiles (an md5 collision) would stop the query
    SELECT key, CASE WHEN count(DISTINCT profile) = 1 THEN any_value(profile)
                     ELSE error('slow_attribute_counts: two attribute profiles share an md5') END AS profile
    FROM (SELECT md5_number(profile) AS key, profile FROM trace_profiles) GROUP BY key
),
grouped AS (  -- traces with the same values counted together: a few hundred rows, not one per trace and value
    SELECT workload, slow, key_lo, key_hi, count(*) AS traces FROM labelled GROUP BY ALL
),
totals AS (
    SELECT g.workload, coalesce(sum(g.traces) FILTER (WHERE g.slow), 0)::BIGINT AS n_slow,
           coalesce(sum(g.traces) FILTER (WHERE NOT g.slow), 0)::BIGINT AS n_typical,
           any_value(c.cut_ns) / 1e6 AS threshold_ms
    FROM grouped g JOIN cut c USING (workload) GROUP BY g.workload
),
profiles AS (  -- each group's profile; a trace whose batches differ: one row per part, made distinct per trace below
    SELECT g.workload, g.slow, k.profile, g.traces, NULL AS trace_id
    FROM grouped g JOIN keys k ON k.key = g.key_lo WHERE g.key_lo = g.key_hi
    UNION ALL
    SELECT l.workload, l.slow, p.profile, 1, l.trace_id
    FROM labelled l JOIN trace_profiles p ON p.trace_id = l.trace_id
    WHERE l.key_lo <> l.key_hi
),
decoded AS (
    SELECT workload, slow, traces, trace_id,
           json_transform(profile, '{"site": ["VARCHAR"], "tier": ["VARCHAR"], "gen_ai_model": ["VARCHAR"],
                                     "device_model": ["VARCHAR"], "cache": ["VARCHAR"],
                                     "data_class": ["VARCHAR"]}') AS d
    FROM profiles
),
values_ AS (
    SELECT workload, slow, traces, trace_id, a.attribute, unnest(a.vals) AS value
    FROM decoded, LATERAL (VALUES ('site', d.site), ('tier', d.tier), ('gen_ai_model', d.gen_ai_model),
                                  ('device_model', d.device_model), ('cache', d.cache),
                                  ('data_class', d.data_class)) AS a(attribute, vals)
),
attrs AS (
    SELECT workload, slow, traces, attribute, value FROM values_ WHERE trace_id IS NULL
    UNION ALL
    SELECT workload, slow, 1, attribute, value
    FROM (SELECT DISTINCT workload, slow, trace_id, attribute, value FROM values_ WHERE trace_id IS NOT NULL)
)
SELECT a.workload, a.attribute, a.value,
       coalesce(sum(a.traces) FILTER (WHERE a.slow), 0)::BIGINT AS slow_traces,
       coalesce(sum(a.traces) FILTER (WHERE NOT a.slow), 0)::BIGINT AS typical_traces,
       t.threshold_ms, t.n_slow, t.n_typical
FROM attrs a
JOIN totals t USING (workload)
GROUP BY a.workload, a.attribute, a.value, t.threshold_ms, t.n_slow, t.n_typical
ORDER BY a.workload, a.attribute, a.value
