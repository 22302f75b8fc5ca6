-- ClickHouse form of queries/latency_rollup_by_group.sql (same rows; tests/test_engine_parity.py checks it against DuckDB).
-- Why a per-engine file: a running sum over ~100k small window partitions is ClickHouse's slow spot (10x DuckDB), so
-- each group's histogram is one sumMap (buckets ascending) and arrayCumSum finds the ranks. Parameters, units as the original.
WITH  -- constants, not a joined one-row table: CROSS JOIN costs ClickHouse 4x the scan here
    CASE {bucket:Nullable(String)} WHEN 'minute' THEN 60000000000 WHEN 'hour' THEN 3600000000000
         WHEN 'day' THEN 86400000000000 WHEN 'week' THEN 604800000000000 END AS bucket_width_ns,
    CASE {bucket:Nullable(String)} WHEN 'week' THEN 259200000000000 ELSE 0 END AS bucket_offset_ns,  -- Monday weeks
    {bucket:Nullable(String)} IN ('day', 'week') AS use_days,
grouped AS (
    SELECT period_ns - (period_ns + bucket_offset_ns) % bucket_width_ns AS bucket_start_ns,
           tier, site, workload, service_name, name,
           toInt64(sum(n)) AS requests, toInt64(sum(errors)) AS errors, sum(sum_duration_ns) AS sum_duration_ns,
           sumMap([bucket], [toInt64(n)]) AS hist,  -- (buckets ascending, spans in each)
           arrayCumSum(hist.2) AS upto,               -- spans at or below each bucket
           toFloat64(requests - 1) AS last_rank
    FROM latency_rollup
    WHERE ({tier:Nullable(String)} IS NULL OR tier = {tier:Nullable(String)})
      AND ({site:Nullable(String)} IS NULL OR site = {site:Nullable(String)})
      AND ({workload:Nullable(String)} IS NULL OR workload = {workload:Nullable(String)})
      AND (coalesce({workload_class:Nullable(String)}, 'interactive') = 'all'
           OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
              = (coalesce({workload_class:Nullable(String)}, 'interactive') = 'batch'))
      AND if(use_days
             AND ({start_ns:Nullable(Int64)} IS NULL OR period_ns - period_ns % 86400000000000
                  >= {start_ns:Nullable(Int64)} + (86400000000000 - {start_ns:Nullable(Int64)} % 86400000000000) % 86400000000000)
             AND ({end_ns:Nullable(Int64)} IS NULL OR period_ns - period_ns % 86400000000000 + 86400000000000 <= {end_ns:Nullable(Int64)}),
             width_ns = 86400000000000,  -- a UTC day wholly inside the window: read its day rows
             width_ns = 60000000000 AND ({start_ns:Nullable(Int64)} IS NULL OR period_ns >= {start_ns:Nullable(Int64)})
                 AND ({end_ns:Nullable(Int64)} IS NULL OR period_ns < {end_ns:Nullable(Int64)}))
    GROUP BY bucket_start_ns, tier, site, workload, service_name, name
), picked AS (
    -- for q: the buckets holding ranks floor((n-1)q) and the next one (none past the last), and the fraction between
    SELECT *,
           arrayMap(q -> hist.1[arrayFirstIndex(u -> u > floor(last_rank * q), upto)], [0.50, 0.95, 0.99]) AS lo_b,
           arrayMap(q -> arrayFirstIndex(u -> u > floor(last_rank * q) + 1, upto), [0.50, 0.95, 0.99]) AS hi_i,
           arrayMap(q -> last_rank * q - floor(last_rank * q), [0.50, 0.95, 0.99]) AS f,
           arrayMap(b -> if(b < 0, 0.0, exp(b * 0.020000666706669435) * 0.9900000000000001), lo_b) AS lo,
           arrayMap((i, l) -> if(i = 0, l, if(hist.1[i] < 0, 0.0, exp(hist.1[i] * 0.020000666706669435) * 0.9900000000000001)),
                    hi_i, lo) AS hi
    FROM grouped
)
SELECT
    bucket_start_ns, tier, site, workload, service_name, name AS operation,
    requests,
    errors,
    errors / toFloat64(requests)                              AS error_rate,
    (lo[1] + f[1] * (hi[1] - lo[1])) / 1e6                    AS p50_ms,
    (lo[2] + f[2] * (hi[2] - lo[2])) / 1e6                    AS p95_ms,
    (lo[3] + f[3] * (hi[3] - lo[3])) / 1e6                    AS p99_ms,
    sum_duration_ns / toFloat64(requests) / 1e6               AS mean_ms
FROM picked
ORDER BY bucket_start_ns,
         CASE tier WHEN 'device' THEN 1 WHEN 'edge' THEN 2 WHEN 'regional' THEN 3 WHEN 'hyperscale' THEN 4 ELSE 5 END,
         site ASC NULLS LAST, workload ASC NULLS LAST, service_name ASC NULLS LAST, operation
