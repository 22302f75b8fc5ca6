-- 0091: latency_rollup's UTC-day rows again, one row per histogram instead of one per bucket, for the long windows:
-- latency_rollup_day_groups per (day, tier, site, workload, workload type, service, operation) and
-- latency_rollup_day_tiers per (day, tier, site, workload, workload type). At 100M spans over 90 days they hold 128k
-- and 6.4k rows where latency_rollup has 14.3M day rows. histMap is a SummingMergeTree map: merges add n by bucket and
-- keep the buckets ascending. Materialized views keep both current along a chain: otel_traces → latency_rollup (0090)
-- → latency_rollup_day_groups → latency_rollup_day_tiers. The INSERT copies the day rows latency_rollup already holds
-- (the tiers follow through their view) when this file is applied; a rerun of the file empties both tables and
-- copies again. Apply it while no load runs: rows inserted between the copy and the last view would be missing.
-- Append-only.
CREATE TABLE IF NOT EXISTS latency_rollup_day_groups (
    period_ns       Int64,
    tier            LowCardinality(String),
    site            LowCardinality(Nullable(String)),
    workload        LowCardinality(Nullable(String)),
    service_name    LowCardinality(Nullable(String)),
    name            LowCardinality(String),
    workload_type   LowCardinality(Nullable(String)),
    n               Int64,
    errors          Int64,
    sum_duration_ns Int64,
    histMap Nested(bucket Int32, n Int64)
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(period_ns, 1000000000)))
ORDER BY (period_ns, tier, site, workload, service_name, name, workload_type)
SETTINGS allow_nullable_key = 1, non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS latency_rollup_day_tiers (
    period_ns       Int64,
    tier            LowCardinality(String),
    site            LowCardinality(Nullable(String)),
    workload        LowCardinality(Nullable(String)),
    workload_type   LowCardinality(Nullable(String)),
    n               Int64,
    errors          Int64,
    sum_duration_ns Int64,
    histMap Nested(bucket Int32, n Int64)
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(period_ns, 1000000000)))
ORDER BY (period_ns, tier, site, workload, workload_type)
SETTINGS allow_nullable_key = 1, non_replicated_deduplication_window = 10000;

TRUNCATE TABLE latency_rollup_day_groups;

TRUNCATE TABLE latency_rollup_day_tiers;

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_rollup_day_tiers_mv TO latency_rollup_day_tiers AS
SELECT period_ns, tier, site, workload, workload_type, toInt64(sum(spans)) AS n, toInt64(sum(errs)) AS errors,
       toInt64(sum(duration_ns)) AS sum_duration_ns, sumMap(b, c).1 AS `histMap.bucket`, sumMap(b, c).2 AS `histMap.n`
FROM (SELECT period_ns, tier, site, workload, workload_type, n AS spans, errors AS errs, sum_duration_ns AS duration_ns,
             histMap.bucket AS b, histMap.n AS c FROM latency_rollup_day_groups)
GROUP BY period_ns, tier, site, workload, workload_type;

INSERT INTO latency_rollup_day_groups
SELECT period_ns, tier, site, workload, service_name, name, workload_type, toInt64(sum(spans)) AS n,
       toInt64(sum(errs)) AS errors, toInt64(sum(duration_ns)) AS sum_duration_ns,
       sumMap([bucket], [spans]).1 AS `histMap.bucket`, sumMap([bucket], [spans]).2 AS `histMap.n`
FROM (SELECT period_ns, tier, site, workload, service_name, name, workload_type, bucket,
             n AS spans, errors AS errs, sum_duration_ns AS duration_ns
      FROM latency_rollup WHERE width_ns = 86400000000000)
GROUP BY period_ns, tier, site, workload, service_name, name, workload_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS latency_rollup_day_groups_mv TO latency_rollup_day_groups AS
SELECT period_ns, tier, site, workload, service_name, name, workload_type, toInt64(sum(spans)) AS n,
       toInt64(sum(errs)) AS errors, toInt64(sum(duration_ns)) AS sum_duration_ns,
       sumMap([bucket], [spans]).1 AS `histMap.bucket`, sumMap([bucket], [spans]).2 AS `histMap.n`
FROM (SELECT period_ns, tier, site, workload, service_name, name, workload_type, bucket,
             n AS spans, errors AS errs, sum_duration_ns AS duration_ns
      FROM latency_rollup WHERE width_ns = 86400000000000)
GROUP BY period_ns, tier, site, workload, service_name, name, workload_type;
