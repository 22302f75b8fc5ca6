-- supersedes: 0101
-- 0104: `spans` and `metric_points` as 0101 defines them (read through the adapter views), with the tier rules of
-- store/contract.py derive_tier that follow the OpenTelemetry semantic conventions (docs/data-contract.md, "Tier
-- derivation"): device from os.name, device.*, browser.*, android.os.api_level, app.installation.id, a browser's
-- user_agent.original or the swift/webjs SDKs, ahead of any cloud.* a gateway Collector stamped; edge inventory also
-- by k8s.node.name; cloud from any cloud detector attribute or faas.*, the region derived from
-- cloud.availability_zone when cloud.region is missing (also the site); cloud.region alone only when configured or
-- shaped like an AWS or GCP region; a cloud machine type or EC2 instance ID. The regular expressions are
-- store/contract.py's, verbatim. A store that has not applied 0101 records it without running it. Append-only.
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
             nullIf(ResourceAttributes['cloud.region'], ''), nullIf(_zone_region, '')) AS site,
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
    FROM tierwise_otel_traces
);

CREATE OR REPLACE VIEW metric_points AS
WITH
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_host') AS tw_edge_hosts,
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_site') AS tw_edge_sites,
    (SELECT groupArray(key) FROM tier_rules WHERE rule = 'edge_platform') AS tw_edge_platforms,
    (SELECT groupArray((key, tier)) FROM tier_rules WHERE rule = 'region') AS tw_regions,
    (SELECT if(count() = 0, 'hyperscale', any(tier)) FROM tier_rules WHERE rule = 'default_cloud') AS tw_default_cloud,
    (SELECT groupArray((metric_name, canonical_name, scale)) FROM metric_aliases) AS tw_aliases
SELECT
    MetricName                                                              AS metric_name,
    nullIf(MetricDescription, '')                                           AS description,
    nullIf(MetricUnit, '')                                                  AS unit,
    metric_type,
    multiIf(AggregationTemporality = 1, 'delta', AggregationTemporality = 2, 'cumulative', NULL) AS temporality,
    is_monotonic,
    toUnixTimestamp64Nano(TimeUnix)                                         AS time_ns,
    nullIf(toUnixTimestamp64Nano(StartTimeUnix), 0)                         AS start_time_ns,
    value,
    count,
    sum,
    min,
    max,
    bucket_counts,
    explicit_bounds,
    scale,
    zero_count,
    zero_threshold,
    positive_offset,
    positive_bucket_counts,
    negative_offset,
    negative_bucket_counts,
    quantile_values,
    exemplars,
    toUInt64(Flags)                                                         AS flags,
    if(_alias > 0, tw_aliases[_alias].2, NULL)                              AS canonical_name,
    if(_alias > 0 AND value IS NOT NULL, value * tw_aliases[_alias].3, NULL) AS canonical_value,
    nullIf(toString(ServiceName), '')                                       AS service_name,
    ifNull(multiIf(_decl_ok, _decl, _device, 'device', _edge, 'edge', (_cloud OR _cloud_host) AND _cloud_tier_ok,
                   _cloud_tier, 'unknown'), 'unknown')                      AS tier,
    multiIf(_decl_ok, 'declared', _device, 'derived:device', _edge, 'derived:edge-inventory',
            _cloud AND _cloud_tier_ok, 'derived:cloud', _cloud_host AND _cloud_tier_ok, 'derived:cloud-host',
            'unknown')                                                      AS tier_source,
    coalesce(nullIf(ResourceAttributes['tierwise.site'], ''), nullIf(ResourceAttributes['cloud.region'], ''),
             nullIf(_zone_region, ''))                                      AS site,
    coalesce(nullIf(ResourceAttributes['tierwise.workload'], ''), nullIf(toString(ServiceName), '')) AS workload,
    nullIf(ResourceAttributes['host.name'], '')                             AS host_name,
    nullIf(ScopeName, '')                                                   AS scope_name,
    nullIf(ScopeVersion, '')                                                AS scope_version,
    toJSONString(ResourceAttributes)                                        AS resource_attributes,
    toJSONString(Attributes)                                                AS attributes,
    'otel_metrics'                                                          AS batch_key
FROM (
    SELECT
        *,
        arrayFirstIndex(a -> a.1 = MetricName, tw_aliases) AS _alias,
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
        _cloud_tier IN ('device', 'edge', 'regional', 'hyperscale') AS _cloud_tier_ok
    FROM (
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'gauge' AS metric_type, toInt32(0) AS AggregationTemporality,
               CAST(NULL AS Nullable(Bool)) AS is_monotonic, CAST(Value AS Nullable(Float64)) AS value,
               CAST(NULL AS Nullable(UInt64)) AS count, CAST(NULL AS Nullable(Float64)) AS sum,
               CAST(NULL AS Nullable(Float64)) AS min, CAST(NULL AS Nullable(Float64)) AS max,
               CAST([] AS Array(UInt64)) AS bucket_counts, CAST([] AS Array(Float64)) AS explicit_bounds,
               CAST(NULL AS Nullable(Int32)) AS scale, CAST(NULL AS Nullable(UInt64)) AS zero_count,
               CAST(NULL AS Nullable(Float64)) AS zero_threshold, CAST(NULL AS Nullable(Int32)) AS positive_offset,
               CAST([] AS Array(UInt64)) AS positive_bucket_counts, CAST(NULL AS Nullable(Int32)) AS negative_offset,
               CAST([] AS Array(UInt64)) AS negative_bucket_counts, CAST(NULL AS Nullable(String)) AS quantile_values,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`))) AS exemplars
        FROM tierwise_otel_metrics_gauge
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'sum', AggregationTemporality, CAST(IsMonotonic AS Nullable(Bool)),
               Value, NULL, NULL, NULL, NULL, [], [], NULL, NULL, NULL, NULL, [], NULL, [], NULL,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`)))
        FROM tierwise_otel_metrics_sum
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'histogram', AggregationTemporality, NULL,
               NULL, Count, Sum, Min, Max, BucketCounts, ExplicitBounds, NULL, NULL, NULL, NULL, [], NULL, [], NULL,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`)))
        FROM tierwise_otel_metrics_histogram
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'exponential_histogram', AggregationTemporality, NULL,
               NULL, Count, Sum, Min, Max, [], [], Scale, ZeroCount, 0., PositiveOffset, PositiveBucketCounts,
               NegativeOffset, NegativeBucketCounts, NULL,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`)))
        FROM tierwise_otel_metrics_exponential_histogram
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'summary', 0, NULL,
               NULL, Count, Sum, NULL, NULL, [], [], NULL, NULL, NULL, NULL, [], NULL, [],
               toJSONString(arrayMap((q, v) -> CAST((q, v), 'Tuple(quantile Float64, value Float64)'),
                   `ValueAtQuantiles.Quantile`, `ValueAtQuantiles.Value`)),
               NULL
        FROM tierwise_otel_metrics_summary
    )
);
