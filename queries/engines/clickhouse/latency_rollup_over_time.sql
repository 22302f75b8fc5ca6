-- ClickHouse form of queries/latency_rollup_over_time.sql (same rows; tests/test_engine_parity.py checks it against DuckDB).
-- Whole UTC days come from latency_rollup_day_tiers (schema 0091: one histogram per day, tier, site, workload and type:
-- 6.4k rows for 100M spans over 90 days instead of 14.3M bucket rows), the window's edges from latency_rollup's minute
-- rows; sumMap merges the histograms (buckets ascending) and arrayCumSum ranks them, without window functions.
WITH  -- constants, not a joined one-row table: CROSS JOIN costs ClickHouse 4x the scan here
    CASE {bucket:Nullable(String)} WHEN 'minute' THEN 60000000000 WHEN 'hour' THEN 3600000000000
         WHEN 'day' THEN 86400000000000 WHEN 'week' THEN 604800000000000 END AS bucket_width_ns,
    CASE {bucket:Nullable(String)} WHEN 'week' THEN 259200000000000 ELSE 0 END AS bucket_offset_ns,  -- Monday weeks
    {bucket:Nullable(String)} IN ('day', 'week') AS use_days,
    {start_ns:Nullable(Int64)} AS from_ns, {end_ns:Nullable(Int64)} AS to_ns,
    from_ns + (86400000000000 - from_ns % 86400000000000) % 86400000000000 AS first_day_ns,  -- first whole UTC day
hist AS (
    SELECT * FROM (
        SELECT period_ns, tier, site, workload, workload_type, n, errors, sum_duration_ns,
               histMap.bucket AS buckets, histMap.n AS counts
        FROM latency_rollup_day_tiers
        WHERE use_days AND (from_ns IS NULL OR period_ns >= first_day_ns)
          AND (to_ns IS NULL OR period_ns + 86400000000000 <= to_ns)
        UNION ALL  -- minutes of the window outside those whole days
        SELECT period_ns, tier, site, workload, workload_type, n, errors, sum_duration_ns, [bucket], [n]
        FROM latency_rollup
        WHERE width_ns = 60000000000 AND (from_ns IS NULL OR period_ns >= from_ns) AND (to_ns IS NULL OR period_ns < to_ns)
          AND NOT (use_days AND (from_ns IS NULL OR period_ns - period_ns % 86400000000000 >= first_day_ns)
                   AND (to_ns IS NULL OR period_ns - period_ns % 86400000000000 + 86400000000000 <= to_ns)))
    WHERE ({tier:Nullable(String)} IS NULL OR tier = {tier:Nullable(String)})
      AND ({site:Nullable(String)} IS NULL OR site = {site:Nullable(String)})
      AND ({workload:Nullable(String)} IS NULL OR workload = {workload:Nullable(String)})
      AND (coalesce({workload_class:Nullable(String)}, 'interactive') = 'all'
           OR (coalesce(workload_type, '') IN ('training', 'batch', 'embedding'))
              = (coalesce({workload_class:Nullable(String)}, 'interactive') = 'batch'))
), grouped AS (
    SELECT period_ns - (period_ns + bucket_offset_ns) % bucket_width_ns AS bucket_start_ns,
           tier,
           toInt64(sum(n)) AS requests, toInt64(sum(errors)) AS errors, sum(sum_duration_ns) AS sum_duration_ns,
           sumMap(buckets, counts) AS hist,  -- (buckets ascending, spans in each)
           hist.1 AS hb, arrayCumSum(hist.2) AS upto,  -- spans at or below each bucket
           toFloat64(requests - 1) AS last_rank,
           toInt64(floor(last_rank * 0.50)) AS r50, toInt64(floor(last_rank * 0.95)) AS r95,
           toInt64(floor(last_rank * 0.99)) AS r99,  -- ranks floor((n-1)q), 0-based
           arrayFirstIndex(u -> u > r50, upto) AS i50, arrayFirstIndex(u -> u > r95, upto) AS i95,
           arrayFirstIndex(u -> u > r99, upto) AS i99  -- the bucket holding each rank
    FROM hist
    GROUP BY bucket_start_ns, tier
), picked AS (
    -- rank r+1 is in the same bucket unless that bucket ends at r+1 (then the next; none past the last)
    SELECT bucket_start_ns, tier, requests, errors, sum_duration_ns,
           arrayMap(b -> if(b < 0, 0.0, exp(b * 0.020000666706669435) * 0.9900000000000001),
                    [hb[i50], hb[if(upto[i50] > r50 + 1 OR i50 = length(hb), i50, i50 + 1)],
                     hb[i95], hb[if(upto[i95] > r95 + 1 OR i95 = length(hb), i95, i95 + 1)],
                     hb[i99], hb[if(upto[i99] > r99 + 1 OR i99 = length(hb), i99, i99 + 1)]]) AS v,
           arrayMap(q -> last_rank * q - floor(last_rank * q), [0.50, 0.95, 0.99]) AS f
    FROM grouped
)
SELECT
    bucket_start_ns, tier,
    requests,
    errors,
    errors / toFloat64(requests)                              AS error_rate,
    (v[1] + f[1] * (v[2] - v[1])) / 1e6                       AS p50_ms,
    (v[3] + f[2] * (v[4] - v[3])) / 1e6                       AS p95_ms,
    (v[5] + f[3] * (v[6] - v[5])) / 1e6                       AS p99_ms,
    sum_duration_ns / toFloat64(requests) / 1e6               AS mean_ms
FROM picked
ORDER BY bucket_start_ns,
         tier_rank(tier)
