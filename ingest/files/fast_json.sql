-- Spans of a batch of OTLP/JSON trace lines (table fast_batch: record_no, line), one row per span (in file order:
-- insertion order is preserved). kvs holds the kept attributes as JSON texts (NULL: beyond the fast path).
-- Parameters: $limit (max attribute bytes, also of keys, names, traceState and status messages),
-- $ctl (control characters the fast path refuses) and $check_ctl,
-- $content (regex of prompt/completion keys) and $check_content (false: the batch holds none, or they are kept). `ok` is false for any span the fast path cannot prove exact.
WITH docs AS (
    SELECT from_json(line, '{"resourceSpans":[{"resource":"JSON","scopeSpans":[{"scope":"JSON","spans":[{
        "traceId":"VARCHAR","spanId":"VARCHAR","parentSpanId":"VARCHAR","traceState":"VARCHAR","flags":"VARCHAR",
        "name":"VARCHAR","kind":"VARCHAR","startTimeUnixNano":"VARCHAR","endTimeUnixNano":"VARCHAR",
        "attributes":[{"key":"VARCHAR","value":{"stringValue":"VARCHAR","intValue":"VARCHAR","boolValue":"BOOLEAN",
            "doubleValue":"DOUBLE"}}],
        "droppedAttributesCount":"VARCHAR","droppedEventsCount":"VARCHAR","droppedLinksCount":"VARCHAR",
        "status":"JSON"}]}]}]}').resourceSpans AS rss
    FROM fast_batch
),
rs AS (
    SELECT unnest(rss) AS r FROM docs
),
rsc AS (
    SELECT r.scopeSpans AS sss,
           from_json(tw_resource(coalesce(r.resource::VARCHAR, '{}')), '{"service_name":"VARCHAR","tier":"VARCHAR",
               "tier_source":"VARCHAR","site":"VARCHAR","workload":"VARCHAR","workload_type":"VARCHAR",
               "data_class":"VARCHAR","latency_budget_ms":"DOUBLE","host_name":"VARCHAR","attrs_json":"VARCHAR"}') AS ctx
    FROM rs
),
ss AS (
    SELECT ctx, unnest(sss) AS s FROM rsc
),
ssc AS (
    SELECT ctx, s.spans AS sps,
           from_json(tw_scope(coalesce(s.scope::VARCHAR, '{}')),
                     '{"name":"VARCHAR","version":"VARCHAR","attributes":"VARCHAR"}') AS sc
    FROM ss
),
sp AS (
    SELECT ctx, sc, unnest(sps) AS x FROM ssc
),
kv AS (
    SELECT *,
        list_transform(
            CASE WHEN $check_content
                 THEN list_filter(x.attributes, lambda a: NOT regexp_matches(coalesce(a.key, ''), $content))
                 ELSE x.attributes END,
            lambda a: {k: a.key, v: CASE
                WHEN strlen(coalesce(a.key, '')) > $limit THEN NULL  -- otlp_json rejects the span: beyond the fast path
                WHEN a.value.stringValue IS NOT NULL THEN
                    CASE WHEN strlen(a.value.stringValue) <= $limit THEN to_json(a.value.stringValue)::VARCHAR END
                WHEN a.value.intValue IS NOT NULL THEN
                    CASE WHEN TRY_CAST(a.value.intValue AS BIGINT)::VARCHAR = a.value.intValue THEN a.value.intValue END
                WHEN a.value.boolValue IS NOT NULL THEN CASE WHEN a.value.boolValue THEN 'true' ELSE 'false' END
                WHEN a.value.doubleValue IS NOT NULL THEN  -- where DuckDB and orjson print doubles alike
                    CASE WHEN a.value.doubleValue = 0 OR abs(a.value.doubleValue) BETWEEN 1e-4 AND 999999999999999.9
                         THEN a.value.doubleValue::VARCHAR END
                ELSE 'null' END}) AS kvs,
        NOT $check_ctl OR coalesce(len(list_filter(x.attributes, lambda a:
            regexp_matches(coalesce(a.key, ''), $ctl) OR regexp_matches(coalesce(a.value.stringValue, ''), $ctl))) = 0,
            true) AS ctl_ok,
        CASE coalesce(x.kind, '0')
            WHEN '0' THEN 'unspecified' WHEN '1' THEN 'internal' WHEN '2' THEN 'server' WHEN '3' THEN 'client'
            WHEN '4' THEN 'producer' WHEN '5' THEN 'consumer'
            WHEN 'SPAN_KIND_UNSPECIFIED' THEN 'unspecified' WHEN 'SPAN_KIND_INTERNAL' THEN 'internal'
            WHEN 'SPAN_KIND_SERVER' THEN 'server' WHEN 'SPAN_KIND_CLIENT' THEN 'client'
            WHEN 'SPAN_KIND_PRODUCER' THEN 'producer' WHEN 'SPAN_KIND_CONSUMER' THEN 'consumer' END AS kind_name,
        CASE coalesce(x.status->>'code', '0')
            WHEN '0' THEN 'unset' WHEN '1' THEN 'ok' WHEN '2' THEN 'error'
            WHEN 'STATUS_CODE_UNSET' THEN 'unset' WHEN 'STATUS_CODE_OK' THEN 'ok'
            WHEN 'STATUS_CODE_ERROR' THEN 'error' END AS code_name,
        CASE WHEN TRY_CAST(x.startTimeUnixNano AS BIGINT)::VARCHAR = x.startTimeUnixNano
             THEN TRY_CAST(x.startTimeUnixNano AS BIGINT) END AS start_v,
        CASE WHEN TRY_CAST(x.endTimeUnixNano AS BIGINT)::VARCHAR = x.endTimeUnixNano
             THEN TRY_CAST(x.endTimeUnixNano AS BIGINT) END AS end_v,
        CASE WHEN TRY_CAST(coalesce(x.flags, '0') AS UINTEGER)::VARCHAR = coalesce(x.flags, '0')
             THEN TRY_CAST(coalesce(x.flags, '0') AS UBIGINT) END AS flags_v,
        CASE WHEN TRY_CAST(coalesce(x.droppedAttributesCount, '0') AS UINTEGER)::VARCHAR = coalesce(x.droppedAttributesCount, '0')
             THEN TRY_CAST(coalesce(x.droppedAttributesCount, '0') AS UINTEGER) END AS dropped_a,
        CASE WHEN TRY_CAST(coalesce(x.droppedEventsCount, '0') AS UINTEGER)::VARCHAR = coalesce(x.droppedEventsCount, '0')
             THEN TRY_CAST(coalesce(x.droppedEventsCount, '0') AS UINTEGER) END AS dropped_e,
        CASE WHEN TRY_CAST(coalesce(x.droppedLinksCount, '0') AS UINTEGER)::VARCHAR = coalesce(x.droppedLinksCount, '0')
             THEN TRY_CAST(coalesce(x.droppedLinksCount, '0') AS UINTEGER) END AS dropped_l
    FROM sp
)
SELECT
    nullif(lower(x.traceId), '') AS trace_id, nullif(lower(x.spanId), '') AS span_id,
    nullif(lower(x.parentSpanId), '') AS parent_span_id, nullif(x.traceState, '') AS trace_state,
    flags_v AS flags, coalesce(x.name, '') AS name, kind_name AS kind, code_name AS status_code,
    nullif(x.status->>'message', '') AS status_message, ctx.service_name, ctx.tier, ctx.tier_source, ctx.site,
    ctx.workload, ctx.workload_type, ctx.data_class, ctx.latency_budget_ms, ctx.host_name,
    start_v AS start_ns, end_v AS end_ns, end_v - start_v AS duration_ns,
    sc.name AS scope_name, sc.version AS scope_version, ctx.attrs_json AS resource_attributes,
    sc.attributes AS scope_attributes,
    '{' || coalesce(array_to_string(list_transform(kvs, lambda a: to_json(a.k)::VARCHAR || ':' || a.v), ','), '')
        || '}' AS attributes,
    NULL::VARCHAR AS events, NULL::VARCHAR AS links,
    dropped_a AS dropped_attributes_count, dropped_e AS dropped_events_count, dropped_l AS dropped_links_count,
    kvs,
    coalesce(ctl_ok
        AND (x.traceId IS NULL OR x.traceId = '' OR regexp_full_match(x.traceId, '[0-9a-fA-F]{32}'))
        AND (x.spanId IS NULL OR x.spanId = '' OR regexp_full_match(x.spanId, '[0-9a-fA-F]{16}'))
        AND (x.parentSpanId IS NULL OR x.parentSpanId = '' OR regexp_full_match(x.parentSpanId, '[0-9a-fA-F]{16}'))
        AND (x.status IS NULL OR (json_type(x.status) = 'OBJECT'
             AND coalesce(json_type(x.status, 'code'), 'UBIGINT') IN ('UBIGINT', 'BIGINT', 'VARCHAR')
             AND coalesce(json_type(x.status, 'message'), 'VARCHAR') = 'VARCHAR'))
        AND strlen(coalesce(x.name, '')) <= $limit AND strlen(coalesce(x.traceState, '')) <= $limit
        AND strlen(coalesce(x.status->>'message', '')) <= $limit
        AND kind_name IS NOT NULL AND code_name IS NOT NULL AND start_v >= 0 AND end_v >= start_v
        AND flags_v IS NOT NULL AND dropped_a IS NOT NULL AND dropped_e IS NOT NULL AND dropped_l IS NOT NULL,
        false) AS ok
FROM kv
