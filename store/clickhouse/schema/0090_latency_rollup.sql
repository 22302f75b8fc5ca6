-- 0090: the latency roll-up of DuckDB migration 0005 (same columns, both widths — minute and UTC day — and the same
-- bucket arithmetic), kept current by a materialized view over the Collector's inserts into otel_traces. An MV over
-- a view is never triggered, so it repeats the columns of 0005's `spans` mapping it needs (checked by a test).
-- SummingMergeTree adds n, errors and sum_duration_ns of rows with equal keys when parts merge; queries still
-- GROUP BY, so unmerged parts give the same answer. Append-only (replace in a new file).
CREATE TABLE IF NOT EXISTS latency_rollup (
    width_ns        Int64,
    period_ns       Int64,
    tier            LowCardinality(String),
    site            Nullable(String),
    workload        Nullable(String),
    workload_type   Nullable(String),
    service_name    Nullable(String),
    name            String,
    bucket          Int32,
    n               Int64,
    errors          Int64,
    sum_duration_ns Int64
) ENGINE = SummingMergeTree((n, errors, sum_duration_ns))
PARTITION BY toYYYYMM(toDateTime(intDiv(period_ns, 1000000000)))
ORDER BY (width_ns, period_ns, tier, site, workload, workload_type, service_name, name, bucket)
SETTINGS allow_nullable_key = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_rollup_mv TO latency_rollup AS
WITH
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_host') AS tw_edge_hosts,
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_site') AS tw_edge_sites,
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_platform') AS tw_edge_platforms,
    (SELECT groupArray((key, tier)) FROM tier_rules WHERE rule = 'region') AS tw_regions,
    (SELECT if(count() = 0, 'hyperscale', any(tier)) FROM tier_rules WHERE rule = 'default_cloud') AS tw_default_cloud
SELECT
    arrayJoin([60000000000, 86400000000000])                                                    AS width_ns,
    start_ns - start_ns % width_ns                                                              AS period_ns,
    tier, site, workload, workload_type, service_name, name,
    CASE WHEN duration_ns <= 0 THEN -1 ELSE CAST(ceil(ln(duration_ns) * 49.99833328888678) AS INTEGER) END AS bucket,
    toInt64(count())                                                                            AS n,
    toInt64(sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END))                             AS errors,
    toInt64(sum(duration_ns))                                                                   AS sum_duration_ns
FROM (
SELECT
    toString(SpanName)                                                      AS name,
    multiIf(_kind IN ('internal', 'server', 'client', 'producer', 'consumer'), _kind, 'unspecified') AS kind,
    multiIf(_status IN ('ok', 'error'), _status, 'unset')                   AS status_code,
    nullIf(lower(ParentSpanId), '')                                         AS parent_span_id,
    nullIf(toString(ServiceName), '')                                       AS service_name,
    ifNull(if(_span_tier_ok, _span_tier, _res_tier), 'unknown')             AS tier,
    coalesce(nullIf(SpanAttributes['tierwise.site'], ''), nullIf(ResourceAttributes['tierwise.site'], ''),
             nullIf(ResourceAttributes['cloud.region'], ''))                AS site,
    coalesce(nullIf(SpanAttributes['tierwise.workload'], ''), nullIf(ResourceAttributes['tierwise.workload'], ''),
             nullIf(toString(ServiceName), ''))                             AS workload,
    coalesce(_span_wtype, _res_wtype)                                       AS workload_type,
    toUnixTimestamp64Nano(Timestamp)                                        AS start_ns,
    toInt64(Duration)                                                       AS duration_ns
FROM (
    SELECT
        Timestamp, Duration, SpanName, ServiceName, ParentSpanId, SpanAttributes, ResourceAttributes,
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
)
)
WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL
GROUP BY width_ns, period_ns, tier, site, workload, workload_type, service_name, name, bucket;
