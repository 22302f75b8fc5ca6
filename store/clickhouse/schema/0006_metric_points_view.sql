-- 0006: `metric_points`, the tierwise data contract over the Collector's five metric tables: same column names and
-- types as the DuckDB table, one row per data point. Tier from resource attributes as in `spans`; canonical names
-- from metric_aliases. The exporter writes 0 for an absent min/max and keeps no zero threshold (0 here); array
-- columns are [] (never NULL in ClickHouse) for point types that have none. Append-only.
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
    ifNull(multiIf(_decl_ok, _decl, _device, 'device', _edge, 'edge', _cloud AND _cloud_tier_ok, _cloud_tier, 'unknown'), 'unknown') AS tier,
    multiIf(_decl_ok, 'declared', _device, 'derived:device', _edge, 'derived:edge-inventory',
            _cloud AND _cloud_tier_ok, 'derived:cloud', 'unknown')          AS tier_source,
    coalesce(nullIf(ResourceAttributes['tierwise.site'], ''), nullIf(ResourceAttributes['cloud.region'], '')) AS site,
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
        FROM otel_metrics_gauge
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'sum', AggregationTemporality, CAST(IsMonotonic AS Nullable(Bool)),
               Value, NULL, NULL, NULL, NULL, [], [], NULL, NULL, NULL, NULL, [], NULL, [], NULL,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`)))
        FROM otel_metrics_sum
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'histogram', AggregationTemporality, NULL,
               NULL, Count, Sum, Min, Max, BucketCounts, ExplicitBounds, NULL, NULL, NULL, NULL, [], NULL, [], NULL,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`)))
        FROM otel_metrics_histogram
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'exponential_histogram', AggregationTemporality, NULL,
               NULL, Count, Sum, Min, Max, [], [], Scale, ZeroCount, 0., PositiveOffset, PositiveBucketCounts,
               NegativeOffset, NegativeBucketCounts, NULL,
               if(empty(`Exemplars.TimeUnix`), NULL, toJSONString(arrayMap((t, v, tr, sp, a) -> CAST(
                   (toUnixTimestamp64Nano(t), v, nullIf(tr, ''), nullIf(sp, ''), a),
                   'Tuple(time_ns Int64, value Float64, trace_id Nullable(String), span_id Nullable(String), attributes Map(String, String))'),
                   `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`)))
        FROM otel_metrics_exponential_histogram
        UNION ALL
        SELECT ResourceAttributes, ScopeName, ScopeVersion, ServiceName, MetricName, MetricDescription, MetricUnit,
               Attributes, StartTimeUnix, TimeUnix, Flags, 'summary', 0, NULL,
               NULL, Count, Sum, NULL, NULL, [], [], NULL, NULL, NULL, NULL, [], NULL, [],
               toJSONString(arrayMap((q, v) -> CAST((q, v), 'Tuple(quantile Float64, value Float64)'),
                   `ValueAtQuantiles.Quantile`, `ValueAtQuantiles.Value`)),
               NULL
        FROM otel_metrics_summary
    )
);
