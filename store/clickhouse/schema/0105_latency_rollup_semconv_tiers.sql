-- 0105: latency_rollup_mv (0090's materialized view, which fills latency_rollup from every insert into otel_traces)
-- again, with 0104's tier rules: its tier and site were 0090's own copy of the rules 0101 had, so spans that only the
-- semantic-convention rules place (os.name, user agents, zone-only clouds, machine types, k8s node names, …) got
-- another tier or site in the roll-up than in `spans`. The roll-up's keys, bucket, widths and filter are 0090's,
-- unchanged. An MV over a view is never triggered, so the view's expressions are repeated here, character for
-- character: the WITH clause and the inner SELECT (every rule) are 0104's `spans` but for the table it reads
-- (otel_traces, which the Collector inserts into, not the adapter view), and each column below is 0104's `spans`
-- column of that name (tests/test_clickhouse_store.py checks both, and that the roll-up's tiers equal the view's).
-- Does not supersede 0090: 0091 and 0102 need the table 0090 creates, so a new store creates 0090's view and this
-- file replaces it in the same schema step. The roll-up definition (store/clickhouse/backfill.py) changes with this
-- file, so the migrate that applies it backfills every day again: rows the old view counted under other tiers or
-- sites, or counted twice while `OR REPLACE` swaps the views, are corrected. Append-only.
CREATE OR REPLACE MATERIALIZED VIEW latency_rollup_mv TO latency_rollup AS
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
             nullIf(ResourceAttributes['cloud.region'], ''), nullIf(_zone_region, '')) AS site,
    coalesce(nullIf(SpanAttributes['tierwise.workload'], ''), nullIf(ResourceAttributes['tierwise.workload'], ''),
             nullIf(toString(ServiceName), ''))                             AS workload,
    coalesce(_span_wtype, _res_wtype)                                       AS workload_type,
    toUnixTimestamp64Nano(Timestamp)                                        AS start_ns,
    toInt64(Duration)                                                       AS duration_ns
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
            OR lower(ResourceAttributes['os.name']) IN ('android', 'ios', 'ipados', 'tvos', 'visionos', 'watchos')
            OR arrayExists(k -> startsWith(k, 'device.') OR startsWith(k, 'browser.')
                                OR k IN ('app.installation.id', 'android.os.api_level'), mapKeys(ResourceAttributes))
            OR startsWith(ResourceAttributes['user_agent.original'], 'Mozilla/')
            OR ResourceAttributes['telemetry.sdk.language'] = 'webjs'
            OR (ResourceAttributes['telemetry.sdk.language'] = 'swift'
                AND (NOT mapContains(ResourceAttributes, 'os.type') OR ResourceAttributes['os.type'] = 'darwin'))
            AS _device,
        (mapContains(ResourceAttributes, 'host.name') AND has(tw_edge_hosts, ResourceAttributes['host.name']))
            OR (mapContains(ResourceAttributes, 'k8s.cluster.name') AND has(tw_edge_hosts, ResourceAttributes['k8s.cluster.name']))
            OR (mapContains(ResourceAttributes, 'k8s.node.name') AND has(tw_edge_hosts, ResourceAttributes['k8s.node.name']))
            OR (mapContains(ResourceAttributes, 'tierwise.site') AND has(tw_edge_sites, ResourceAttributes['tierwise.site']))
            OR (mapContains(ResourceAttributes, 'cloud.platform') AND has(tw_edge_platforms, ResourceAttributes['cloud.platform']))
            AS _edge,
        ResourceAttributes['cloud.availability_zone'] AS _zone,
        multiIf(match(_zone, '^([a-z]{2}(?:-[a-z]+)+-[0-9]+)(?:[a-z]|-[a-z0-9-]+)$'), extract(_zone, '^([a-z]{2}(?:-[a-z]+)+-[0-9]+)(?:[a-z]|-[a-z0-9-]+)$'),
                match(_zone, '^([a-z]+(?:-[a-z]+)*[0-9]*)-[a-z]$'), extract(_zone, '^([a-z]+(?:-[a-z]+)*[0-9]*)-[a-z]$'),
                ResourceAttributes['cloud.provider'] IN ('azure', 'tencent_cloud')
                    AND match(_zone, '^([a-z]+(?:-[a-z]+)*[0-9]*)-[0-9]+$'), extract(_zone, '^([a-z]+(?:-[a-z]+)*[0-9]*)-[0-9]+$'),
                '') AS _zone_region,
        if(ResourceAttributes['cloud.region'] != '', ResourceAttributes['cloud.region'], _zone_region) AS _region,
        arrayFirstIndex(r -> r.1 = _region, tw_regions) AS _region_idx,
        arrayExists(k -> k IN ('cloud.provider', 'cloud.platform', 'cloud.availability_zone', 'cloud.account.id',
                               'cloud.resource_id') OR startsWith(k, 'faas.'), mapKeys(ResourceAttributes))
            OR (mapContains(ResourceAttributes, 'cloud.region')
                AND (_region_idx > 0
                     OR match(ResourceAttributes['cloud.region'], '^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[0-9]+$')
                     OR match(ResourceAttributes['cloud.region'], '^(us|europe|asia|australia|northamerica|southamerica|me|africa)-(north|south|east|west|central|northeast|northwest|southeast|southwest)[0-9]+$'))) AS _cloud,
        match(ResourceAttributes['host.type'], '^[a-z][a-z0-9-]*[0-9][a-z0-9-]*[.](nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$')
            OR match(ResourceAttributes['host.type'], '^[a-z]+[0-9]+[a-z]*-(standard|highmem|highcpu|megamem|ultramem|hypermem|highgpu|megagpu|ultragpu|edgegpu|hightpu|medium|micro|small|custom)(-[0-9a-z]+)*$')
            OR match(ResourceAttributes['host.type'], '^(Standard|Basic)_[A-Z][A-Za-z0-9_-]*$')
            OR match(ResourceAttributes['host.id'], '^i-[0-9a-f]{8}([0-9a-f]{9})?$') AS _cloud_host,
        replaceOne(lower(trimBoth(if(_region_idx > 0, tw_regions[_region_idx].2, tw_default_cloud))), 'cloud', 'hyperscale')
            AS _cloud_tier,
        _cloud_tier IN ('device', 'edge', 'regional', 'hyperscale') AS _cloud_tier_ok,
        multiIf(_decl_ok, _decl, _device, 'device', _edge, 'edge', (_cloud OR _cloud_host) AND _cloud_tier_ok, _cloud_tier,
                'unknown') AS _res_tier,
        multiIf(_decl_ok, 'declared', _device, 'derived:device', _edge, 'derived:edge-inventory',
                _cloud AND _cloud_tier_ok, 'derived:cloud', _cloud_host AND _cloud_tier_ok, 'derived:cloud-host',
                'unknown') AS _res_tier_source,
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
