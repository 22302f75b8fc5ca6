-- 0005: `spans`, the tierwise data contract over the Collector's otel_traces: same column names and types as the
-- DuckDB table. Tier rules follow ingest/contract.py derive_tier (declared, device hints, edge inventory and cloud
-- regions from tier_rules); attribute values are the exporter's strings, so the JSON columns hold strings only.
-- Not in otel_traces, hence NULL: flags, scope_attributes, dropped_*_count. Append-only (replace in a new file).
CREATE OR REPLACE VIEW spans AS
WITH
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_host') AS tw_edge_hosts,
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_site') AS tw_edge_sites,
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_platform') AS tw_edge_platforms,
    (SELECT groupArray((key, tier)) FROM tier_rules WHERE rule = 'region') AS tw_regions,
    (SELECT if(count() = 0, 'hyperscale', any(tier)) FROM tier_rules WHERE rule = 'default_cloud') AS tw_default_cloud
SELECT
    nullIf(lower(TraceId), '')                                              AS trace_id,
    nullIf(lower(SpanId), '')                                               AS span_id,
    nullIf(lower(ParentSpanId), '')                                         AS parent_span_id,
    nullIf(TraceState, '')                                                  AS trace_state,
    CAST(NULL AS Nullable(UInt64))                                          AS flags,
    toString(SpanName)                                                      AS name,
    multiIf(_kind IN ('internal', 'server', 'client', 'producer', 'consumer'), _kind, 'unspecified') AS kind,
    multiIf(_status IN ('ok', 'error'), _status, 'unset')                   AS status_code,
    nullIf(StatusMessage, '')                                               AS status_message,
    nullIf(toString(ServiceName), '')                                       AS service_name,
    ifNull(if(_span_tier_ok, _span_tier, _res_tier), 'unknown')             AS tier,
    if(_span_tier_ok, 'declared', _res_tier_source)                         AS tier_source,
    coalesce(nullIf(SpanAttributes['tierwise.site'], ''), nullIf(ResourceAttributes['tierwise.site'], ''),
             nullIf(ResourceAttributes['cloud.region'], ''))                AS site,
    coalesce(nullIf(SpanAttributes['tierwise.workload'], ''), nullIf(ResourceAttributes['tierwise.workload'], ''),
             nullIf(toString(ServiceName), ''))                             AS workload,
    coalesce(_span_wtype, _res_wtype)                                       AS workload_type,
    coalesce(_span_dclass, _res_dclass)                                     AS data_class,
    coalesce(toFloat64OrNull(SpanAttributes['tierwise.latency_budget_ms']),
             toFloat64OrNull(ResourceAttributes['tierwise.latency_budget_ms'])) AS latency_budget_ms,
    nullIf(ResourceAttributes['host.name'], '')                             AS host_name,
    toUnixTimestamp64Nano(Timestamp)                                        AS start_ns,
    toUnixTimestamp64Nano(Timestamp) + toInt64(Duration)                    AS end_ns,
    toInt64(Duration)                                                       AS duration_ns,
    multiIf(lower(SpanAttributes['tierwise.cache.hit']) = 'true', true,
            lower(SpanAttributes['tierwise.cache.hit']) = 'false', false, NULL) AS cache_hit,
    nullIf(SpanAttributes['tierwise.cache.name'], '')                       AS cache_name,
    coalesce(nullIf(SpanAttributes['gen_ai.request.model'], ''),
             nullIf(SpanAttributes['gen_ai.response.model'], ''))           AS gen_ai_model,
    toInt64OrNull(SpanAttributes['gen_ai.usage.input_tokens'])              AS input_tokens,
    toInt64OrNull(SpanAttributes['gen_ai.usage.output_tokens'])             AS output_tokens,
    toInt64OrNull(SpanAttributes['gen_ai.usage.cache_read.input_tokens'])   AS cache_read_tokens,
    toInt64OrNull(SpanAttributes['http.request.body.size'])                 AS request_bytes,
    toInt64OrNull(SpanAttributes['http.response.body.size'])                AS response_bytes,
    nullIf(ScopeName, '')                                                   AS scope_name,
    nullIf(ScopeVersion, '')                                                AS scope_version,
    toJSONString(ResourceAttributes)                                        AS resource_attributes,
    CAST(NULL AS Nullable(String))                                          AS scope_attributes,
    toJSONString(SpanAttributes)                                            AS attributes,
    if(empty(`Events.Name`), NULL, toJSONString(arrayMap((t, n, a) -> CAST((toUnixTimestamp64Nano(t), toString(n), a),
        'Tuple(time_ns Int64, name String, attributes Map(String, String))'),
        `Events.Timestamp`, `Events.Name`, `Events.Attributes`)))         AS events,
    if(empty(`Links.TraceId`), NULL, toJSONString(arrayMap((t, s, ts, a) -> CAST(
        (nullIf(t, ''), nullIf(s, ''), nullIf(ts, ''), a),
        'Tuple(trace_id Nullable(String), span_id Nullable(String), trace_state Nullable(String), attributes Map(String, String))'),
        `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`))) AS links,
    CAST(NULL AS Nullable(UInt32))                                          AS dropped_attributes_count,
    CAST(NULL AS Nullable(UInt32))                                          AS dropped_events_count,
    CAST(NULL AS Nullable(UInt32))                                          AS dropped_links_count,
    'otel_traces'                                                           AS batch_key
FROM (
    SELECT
        *,
        lower(replaceRegexpOne(toString(SpanKind), '^(SPAN_KIND_|SpanKind)', '')) AS _kind,
        lower(replaceRegexpOne(toString(StatusCode), '^(STATUS_CODE_|StatusCode)', '')) AS _status,
        -- a declared tier: trimmed, lowercased, `cloud` = hyperscale, other values ignored
        replaceOne(lower(trimBoth(SpanAttributes['tierwise.tier'])), 'cloud', 'hyperscale') AS _span_tier,
        _span_tier IN ('device', 'edge', 'regional', 'hyperscale') AS _span_tier_ok,
        replaceOne(lower(trimBoth(ResourceAttributes['tierwise.tier'])), 'cloud', 'hyperscale') AS _decl,
        _decl IN ('device', 'edge', 'regional', 'hyperscale') AS _decl_ok,
        ResourceAttributes['os.type'] IN ('ios', 'android')
            OR arrayExists(k -> startsWith(k, 'device.') OR startsWith(k, 'browser.') OR k = 'app.installation.id',
                           mapKeys(ResourceAttributes)) AS _device,
        (mapContains(ResourceAttributes, 'host.name') AND has(tw_edge_hosts, ResourceAttributes['host.name']))
            OR (mapContains(ResourceAttributes, 'k8s.cluster.name') AND has(tw_edge_hosts, ResourceAttributes['k8s.cluster.name']))
            OR (mapContains(ResourceAttributes, 'tierwise.site') AND has(tw_edge_sites, ResourceAttributes['tierwise.site']))
            OR (mapContains(ResourceAttributes, 'cloud.platform') AND has(tw_edge_platforms, ResourceAttributes['cloud.platform']))
            AS _edge,
        mapContains(ResourceAttributes, 'cloud.provider') OR mapContains(ResourceAttributes, 'cloud.region') AS _cloud,
        arrayFirstIndex(r -> r.1 = ResourceAttributes['cloud.region'], tw_regions) AS _region_idx,
        replaceOne(lower(trimBoth(if(_region_idx > 0, tw_regions[_region_idx].2, tw_default_cloud))), 'cloud', 'hyperscale')
            AS _cloud_tier,
        _cloud_tier IN ('device', 'edge', 'regional', 'hyperscale') AS _cloud_tier_ok,
        multiIf(_decl_ok, _decl, _device, 'device', _edge, 'edge', _cloud AND _cloud_tier_ok, _cloud_tier, 'unknown') AS _res_tier,
        multiIf(_decl_ok, 'declared', _device, 'derived:device', _edge, 'derived:edge-inventory',
                _cloud AND _cloud_tier_ok, 'derived:cloud', 'unknown') AS _res_tier_source,
        nullIf(lower(trimBoth(SpanAttributes['tierwise.workload.type'])), '') AS _span_wtype_raw,
        if(_span_wtype_raw IN ('inference', 'training', 'embedding', 'search', 'feature', 'batch'), _span_wtype_raw, NULL) AS _span_wtype,
        nullIf(lower(trimBoth(ResourceAttributes['tierwise.workload.type'])), '') AS _res_wtype_raw,
        if(_res_wtype_raw IN ('inference', 'training', 'embedding', 'search', 'feature', 'batch'), _res_wtype_raw, NULL) AS _res_wtype,
        nullIf(lower(trimBoth(SpanAttributes['tierwise.data_class'])), '') AS _span_dclass_raw,
        if(_span_dclass_raw IN ('public', 'internal', 'confidential', 'regulated'), _span_dclass_raw, NULL) AS _span_dclass,
        nullIf(lower(trimBoth(ResourceAttributes['tierwise.data_class'])), '') AS _res_dclass_raw,
        if(_res_dclass_raw IN ('public', 'internal', 'confidential', 'regulated'), _res_dclass_raw, NULL) AS _res_dclass
    FROM otel_traces
);
