-- ClickHouse definitions of the store's views, the same columns and rows as their DuckDB originals:
-- hops (ingest/migrations/0003_hops_view.sql) and cost_links (ingest/migrations/0002_costs.sql, as 0004 redefined it).
-- Statements are separated by lines holding only `;`. Each view pins join_use_nulls = 1 (SQL outer-join NULLs),
-- so it gives the same rows whichever settings the reading session has; OR REPLACE keeps a store's views current.

-- A hop: a CLIENT span whose SERVER child runs in another tier or site; raw_overhead_ns = client − server duration.
CREATE OR REPLACE VIEW hops AS
SELECT
    c.trace_id                                   AS trace_id,
    c.span_id                                    AS client_span_id,
    s.span_id                                    AS server_span_id,
    c.workload                                   AS workload,
    c.tier                                       AS from_tier,
    s.tier                                       AS to_tier,
    c.site                                       AS from_site,
    s.site                                       AS to_site,
    c.start_ns                                   AS start_ns,
    c.trace_state                                AS trace_state,
    c.duration_ns - s.duration_ns                AS raw_overhead_ns,
    coalesce(c.request_bytes, s.request_bytes)   AS request_bytes,
    coalesce(c.response_bytes, s.response_bytes) AS response_bytes
FROM spans AS c
INNER JOIN spans AS s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
WHERE c.kind = 'client' AND s.kind = 'server'
  AND (c.tier != s.tier OR NOT isNotDistinctFrom(c.site, s.site))
SETTINGS join_use_nulls = 1
;
-- Each cost row with the workload and tier it is linked to and how: tag, resource (ResourceId names a span's
-- host, k8s node, cloud resource or host id), site (rate-card site seen on spans), else 'unallocated'.
-- JSON text attributes: a missing key is NULL, as DuckDB's json_extract_string gives. A key or site links to the
-- (workload, tier) with most spans; a tie goes to the first by workload, then tier (DuckDB migration 0004's rule):
-- argMin over (-spans, workload, tier) picks exactly that row.
CREATE OR REPLACE VIEW cost_links AS
WITH span_resources AS (
    SELECT resource_key, pick.1 AS workload, pick.2 AS tier
    FROM (SELECT resource_key, argMin((workload, tier), (-toInt64(n), workload, tier)) AS pick FROM (
        SELECT k AS resource_key, workload, tier, count() AS n
        FROM (
            SELECT workload, tier, arrayJoin([
                host_name,
                if(JSONHas(resource_attributes, 'host.name'), JSONExtractString(resource_attributes, 'host.name'), NULL),
                if(JSONHas(resource_attributes, 'k8s.node.name'), JSONExtractString(resource_attributes, 'k8s.node.name'), NULL),
                if(JSONHas(resource_attributes, 'cloud.resource_id'),
                   JSONExtractString(resource_attributes, 'cloud.resource_id'), NULL),
                if(JSONHas(resource_attributes, 'host.id'), JSONExtractString(resource_attributes, 'host.id'), NULL)
            ]) AS k
            FROM spans WHERE workload IS NOT NULL
        ) WHERE k IS NOT NULL
        GROUP BY k, workload, tier
    ) GROUP BY resource_key)
),
span_sites AS (
    SELECT site, pick.1 AS workload, pick.2 AS tier
    FROM (SELECT site, argMin((workload, tier), (-toInt64(n), workload, tier)) AS pick
          FROM (SELECT site, workload, tier, count() AS n FROM spans
                WHERE site IS NOT NULL AND workload IS NOT NULL GROUP BY site, workload, tier)
          GROUP BY site)
)
SELECT
    c.*,
    coalesce(c.x_Workload, r.workload, s.workload)                      AS link_workload,
    coalesce(c.x_Tier, r.tier, s.tier)                                  AS link_tier,
    CASE WHEN c.x_Workload IS NOT NULL THEN 'tag'
         WHEN r.workload IS NOT NULL THEN 'resource'
         WHEN s.workload IS NOT NULL THEN 'site'
         ELSE 'unallocated' END                                         AS link_method
FROM costs AS c
LEFT JOIN span_resources AS r ON r.resource_key = c.ResourceId
LEFT JOIN span_sites AS s ON s.site = if(c.x_Workload IS NULL AND r.workload IS NULL, c.x_SiteId, NULL)
SETTINGS join_use_nulls = 1
;
-- The per-trace index (DuckDB migration 0006, whose tables 0015 drops there): here views over spans, with one
-- trace_parts row per trace, which is what the queries read after adding a trace's parts up. No query reads these two;
-- trace_parts stays as what trace_part_keys reads, and a view costs nothing at ingest. tier_bits: bit 0 device, 1 edge,
-- 2 regional, 3 hyperscale, 4 any other tier.
CREATE OR REPLACE VIEW trace_roots AS
SELECT trace_id, span_id, name, tier, site, workload, workload_type, data_class, start_ns, duration_ns, status_code
FROM spans
WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
;
CREATE OR REPLACE VIEW trace_parts AS
SELECT trace_id, toInt64(count()) AS spans,
       toUInt8(groupBitOr(multiIf(tier = 'device', 1, tier = 'edge', 2, tier = 'regional', 4,
                                  tier = 'hyperscale', 8, 16))) AS tier_bits
FROM spans
WHERE trace_id IS NOT NULL
GROUP BY trace_id
;
-- The roots and parts keyed by numbers (DuckDB migration 0010): trace_key is a lowercase-hex trace_id's value (odd_id keeps any
-- other id), sample_key md5(trace_id)'s; both read big-endian, so they order as the hex text.
CREATE OR REPLACE VIEW trace_root_keys AS
SELECT if(match(trace_id, '^[0-9a-f]{32}$'), reinterpretAsUInt128(reverse(unhex(trace_id))), NULL) AS trace_key,
       if(match(trace_id, '^[0-9a-f]{32}$'), NULL, trace_id) AS odd_id,
       reinterpretAsUInt128(reverse(MD5(trace_id))) AS sample_key, workload, start_ns, duration_ns, name, tier, site,
       workload_type, status_code
FROM spans
WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
;
CREATE OR REPLACE VIEW trace_part_keys AS
SELECT if(match(trace_id, '^[0-9a-f]{32}$'), reinterpretAsUInt128(reverse(unhex(trace_id))), NULL) AS trace_key,
       if(match(trace_id, '^[0-9a-f]{32}$'), NULL, trace_id) AS odd_id, spans, tier_bits
FROM trace_parts
;
-- The traces with several root rows (DuckDB migration 0012 keeps them as a table added to per batch).
CREATE OR REPLACE VIEW trace_root_dups AS
SELECT trace_key, odd_id
FROM trace_root_keys
GROUP BY trace_key, odd_id
HAVING count() > 1
;
-- The two ends of every call (DuckDB migration 0007 keeps them as tables appended per batch): views over spans.
CREATE OR REPLACE VIEW hop_clients AS
SELECT trace_id, span_id, workload, tier, site, start_ns, trace_state, duration_ns, request_bytes, response_bytes
FROM spans
WHERE kind = 'client' AND trace_id IS NOT NULL AND span_id IS NOT NULL
;
CREATE OR REPLACE VIEW hop_servers AS
SELECT trace_id, parent_span_id, span_id, workload, tier, site, trace_state, duration_ns, request_bytes, response_bytes
FROM spans
WHERE kind = 'server' AND trace_id IS NOT NULL AND parent_span_id IS NOT NULL
;
-- Each trace's attribute values beside its roots (DuckDB migration 0009 appends them per batch): here one part per
-- trace, a row per parentless span (or one without a root), the values as the same JSON text DuckDB's to_json writes.
CREATE OR REPLACE VIEW trace_profiles AS
WITH profiles AS (
    SELECT trace_id,
           concat('{"site":', toJSONString(arraySort(groupUniqArray(site))),
                  ',"tier":', toJSONString(arraySort(groupUniqArray(tier))),
                  ',"gen_ai_model":', toJSONString(arraySort(groupUniqArray(gen_ai_model))),
                  ',"device_model":', toJSONString(arraySort(groupUniqArray(
                      if(position(resource_attributes, 'device.model.identifier') > 0,
                         multiIf(JSONType(resource_attributes, 'device.model.identifier') = 'String',
                                 JSONExtractString(resource_attributes, 'device.model.identifier'),
                                 JSONType(resource_attributes, 'device.model.identifier')
                                     IN ('Int64', 'UInt64', 'Double', 'Bool'),
                                 JSONExtractRaw(resource_attributes, 'device.model.identifier'), NULL),
                         NULL)))),
                  ',"cache":', toJSONString(arraySort(groupUniqArray(
                      multiIf(cache_hit, 'hit', NOT cache_hit, 'miss', NULL)))),
                  ',"data_class":', toJSONString(arraySort(groupUniqArray(data_class))), '}') AS profile
    FROM spans
    WHERE trace_id IS NOT NULL
    GROUP BY trace_id
)
SELECT p.trace_id AS trace_id, r.workload AS workload, r.start_ns AS start_ns, r.duration_ns AS duration_ns,
       p.profile AS profile
FROM profiles AS p
LEFT JOIN (SELECT trace_id, workload, start_ns, duration_ns FROM spans
           WHERE parent_span_id IS NULL AND trace_id IS NOT NULL) AS r ON r.trace_id = p.trace_id
SETTINGS join_use_nulls = 1, output_format_json_escape_forward_slashes = 0
;
-- Per-day usage sums (DuckDB migration 0011 merges them per batch): here a view over spans, one row per key.
-- w, a span's adjusted-count weight, is 2^56 / (2^56 - T) for a trace_state threshold ot=...th:T, else 1.
CREATE OR REPLACE VIEW usage_rollup AS
SELECT day_ns, workload, tier, site, workload_type, data_class, latency_budget_ms,
       toInt64(count()) AS spans, max(duration_ns) AS max_duration_ns, sum(w) AS weight,
       coalesce(sumIf(w, kind IN ('server', 'consumer') OR parent_span_id IS NULL), 0) AS request_weight,
       sum((coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) * w) AS token_weight,
       coalesce(sumIf(duration_ns * w, gen_ai_model IS NOT NULL), 0) AS model_weight_ns
FROM (SELECT *, start_ns - start_ns % 86400000000000 AS day_ns,
             if(th = '', 1.0, 72057594037927936.0
                              / (72057594037927936.0 - toFloat64(reinterpretAsUInt64(reverse(unhex(rightPad(th, 14, '0')))))))
                 AS w
      FROM (SELECT *, regexpExtract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th FROM spans))
GROUP BY day_ns, workload, tier, site, workload_type, data_class, latency_budget_ms
