-- One row per workload and attribute value (as trace_attributes) seen in its traces: how many slow traces (end-to-end
-- above the workload's $slow_quantile, linear interpolation) and typical ones carry it. Parameters: $workload (root's),
-- $start_ns/$end_ns (root start, Unix ns), $slow_quantile (0-1). Units: threshold_ms ms; *_traces, n_* counts.
WITH roots AS (
    SELECT trace_id, any_value(workload) AS workload, max(duration_ns) AS e2e_ns
    FROM trace_roots
    WHERE ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
    GROUP BY trace_id
),
cut AS (
    SELECT workload, quantile_cont(e2e_ns, $slow_quantile) AS cut_ns
    FROM roots WHERE workload IS NOT NULL GROUP BY workload
),
labelled AS (  -- tid: a small integer key, so the per-span GROUP BY below hashes no 32-character trace_id
    SELECT r.trace_id, r.workload, r.e2e_ns > c.cut_ns AS slow, row_number() OVER () AS tid
    FROM roots r JOIN cut c USING (workload)
),
totals AS (
    SELECT l.workload, count(*) FILTER (WHERE l.slow) AS n_slow, count(*) FILTER (WHERE NOT l.slow) AS n_typical,
           any_value(c.cut_ns) / 1e6 AS threshold_ms
    FROM labelled l JOIN cut c USING (workload) GROUP BY l.workload
),
span_values AS NOT MATERIALIZED (  -- one row per span of a labelled trace: tid and its six attribute values
    SELECT l.tid, l.workload, l.slow, s.site, s.tier, s.gen_ai_model,
           CASE WHEN contains(s.resource_attributes::VARCHAR, 'device.model.identifier')
                THEN s.resource_attributes->>'device.model.identifier' END AS device_model,
           CASE WHEN s.cache_hit THEN 'hit' WHEN NOT s.cache_hit THEN 'miss' END AS cache, s.data_class
    FROM spans s JOIN labelled l ON l.trace_id = s.trace_id
),
vals AS (  -- every value of each attribute in the store, numbered 1.. per attribute: its bit in a trace's mask
    SELECT attribute, value, row_number() OVER (PARTITION BY attribute ORDER BY value) AS pos
    FROM (SELECT DISTINCT a.attribute, a.value
          FROM (SELECT DISTINCT site, tier, gen_ai_model, resource_attributes, cache_hit, data_class FROM spans) s,
          LATERAL (VALUES ('site', s.site), ('tier', s.tier), ('gen_ai_model', s.gen_ai_model),
                          ('device_model', CASE WHEN contains(s.resource_attributes::VARCHAR, 'device.model.identifier')
                                                THEN s.resource_attributes->>'device.model.identifier' END),
                          ('cache', CASE WHEN s.cache_hit THEN 'hit' WHEN NOT s.cache_hit THEN 'miss' END),
                          ('data_class', s.data_class)) AS a(attribute, value)
          WHERE a.value IS NOT NULL)
),
dict AS (  -- each attribute's values as a list, for list_position
    SELECT list(value ORDER BY pos) FILTER (WHERE attribute = 'site') AS sites,
           list(value ORDER BY pos) FILTER (WHERE attribute = 'tier') AS tiers,
           list(value ORDER BY pos) FILTER (WHERE attribute = 'gen_ai_model') AS models,
           list(value ORDER BY pos) FILTER (WHERE attribute = 'device_model') AS devices,
           list(value ORDER BY pos) FILTER (WHERE attribute = 'cache') AS caches,
           list(value ORDER BY pos) FILTER (WHERE attribute = 'data_class') AS classes
    FROM vals
),
coded AS NOT MATERIALIZED (
    SELECT v.*, list_position(d.sites, v.site) AS p_site, list_position(d.tiers, v.tier) AS p_tier,
           list_position(d.models, v.gen_ai_model) AS p_model, list_position(d.devices, v.device_model) AS p_device,
           list_position(d.caches, v.cache) AS p_cache, list_position(d.classes, v.data_class) AS p_class
    FROM span_values v CROSS JOIN dict d
),
per_trace AS (  -- each trace's values per attribute as bit masks; values past an attribute's 63rd go in a list
                -- (tier and cache have a handful of values by the data contract)
    SELECT any_value(workload) AS workload, bool_or(slow) AS slow,
           bit_or(CASE WHEN p_site <= 63 THEN 1::BIGINT << (p_site - 1) END) AS m_site,
           bit_or(CASE WHEN p_tier <= 63 THEN 1::BIGINT << (p_tier - 1) END) AS m_tier,
           bit_or(CASE WHEN p_model <= 63 THEN 1::BIGINT << (p_model - 1) END) AS m_model,
           bit_or(CASE WHEN p_device <= 63 THEN 1::BIGINT << (p_device - 1) END) AS m_device,
           bit_or(CASE WHEN p_cache <= 63 THEN 1::BIGINT << (p_cache - 1) END) AS m_cache,
           bit_or(CASE WHEN p_class <= 63 THEN 1::BIGINT << (p_class - 1) END) AS m_class,
           list(site) FILTER (WHERE p_site > 63) AS o_site, list(gen_ai_model) FILTER (WHERE p_model > 63) AS o_model,
           list(device_model) FILTER (WHERE p_device > 63) AS o_device,
           list(data_class) FILTER (WHERE p_class > 63) AS o_class
    FROM coded GROUP BY tid
),
profiles AS (  -- traces sharing every value set counted once: a few hundred rows, not one per trace and value
    SELECT workload, slow, m_site, m_tier, m_model, m_device, m_cache, m_class,
           list_sort(list_distinct(o_site)) AS o_site, list_sort(list_distinct(o_model)) AS o_model,
           list_sort(list_distinct(o_device)) AS o_device, list_sort(list_distinct(o_class)) AS o_class,
           count(*) AS traces
    FROM per_trace GROUP BY ALL
),
attrs AS (  -- a profile carries value v of attribute a when bit pos(v) of its mask is set, or v is in its overflow list
    SELECT p.workload, p.slow, p.traces, v.attribute, v.value
    FROM profiles p
    JOIN vals v ON v.pos <= 63 AND (CASE v.attribute WHEN 'site' THEN p.m_site WHEN 'tier' THEN p.m_tier
                                                     WHEN 'gen_ai_model' THEN p.m_model
                                                     WHEN 'device_model' THEN p.m_device
                                                     WHEN 'cache' THEN p.m_cache ELSE p.m_class END
                                    >> (v.pos - 1)) & 1 = 1
    UNION ALL SELECT workload, slow, traces, 'site', unnest(o_site) FROM profiles
    UNION ALL SELECT workload, slow, traces, 'gen_ai_model', unnest(o_model) FROM profiles
    UNION ALL SELECT workload, slow, traces, 'device_model', unnest(o_device) FROM profiles
    UNION ALL SELECT workload, slow, traces, 'data_class', unnest(o_class) FROM profiles
)
SELECT a.workload, a.attribute, a.value,
       coalesce(sum(a.traces) FILTER (WHERE a.slow), 0)::BIGINT AS slow_traces,
       coalesce(sum(a.traces) FILTER (WHERE NOT a.slow), 0)::BIGINT AS typical_traces,
       t.threshold_ms, t.n_slow, t.n_typical
FROM attrs a
JOIN totals t USING (workload)
GROUP BY a.workload, a.attribute, a.value, t.threshold_ms, t.n_slow, t.n_typical
ORDER BY a.workload, a.attribute, a.value
