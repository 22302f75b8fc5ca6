-- One row per workload, tier and UTC day: the day's exact p95 of requests entering the tier, its baseline (median of
-- the daily p95s of the previous $window_days days that have data) and MAD, and whether it regressed: p95 > baseline +
-- max($k × 1.4826 × MAD, $min_rise_ratio × baseline), judged once $min_history_days days of history exist and the day
-- has $min_requests requests. Parameters: $workload, $tier (NULL = all), $k (3), $window_days (7), $min_history_days
-- (3), $min_rise_ratio (0.1), $min_requests (10). Units: *_ms.
WITH daily AS (
    SELECT workload, tier, make_timestamp(start_ns // 1000)::DATE AS day, count(*) AS requests,
           quantile_cont(duration_ns, 0.95) / 1e6 AS p95_ms
    FROM spans
    WHERE (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
      AND ($workload IS NULL OR workload = $workload)
      AND ($tier IS NULL OR tier = $tier)
    GROUP BY ALL
),
history AS (
    SELECT d.workload, d.tier, d.day, h.p95_ms AS past_ms
    FROM daily d
    JOIN daily h ON h.workload IS NOT DISTINCT FROM d.workload AND h.tier = d.tier
                AND h.day >= d.day - $window_days::INTEGER AND h.day < d.day
),
baseline AS (
    SELECT workload, tier, day, count(*) AS history_days, median(past_ms) AS baseline_ms
    FROM history GROUP BY ALL
),
spread AS (
    SELECT h.workload, h.tier, h.day, median(abs(h.past_ms - b.baseline_ms)) AS mad_ms
    FROM history h
    JOIN baseline b ON b.workload IS NOT DISTINCT FROM h.workload AND b.tier = h.tier AND b.day = h.day
    GROUP BY ALL
),
judged AS (
    SELECT d.workload, d.tier, d.day, d.requests, d.p95_ms, coalesce(b.history_days, 0) AS history_days,
           b.baseline_ms, s.mad_ms,
           CASE WHEN coalesce(b.history_days, 0) >= $min_history_days AND d.requests >= $min_requests
                THEN b.baseline_ms + greatest($k * 1.4826 * s.mad_ms, $min_rise_ratio * b.baseline_ms) END AS threshold_ms
    FROM daily d
    LEFT JOIN baseline b ON b.workload IS NOT DISTINCT FROM d.workload AND b.tier = d.tier AND b.day = d.day
    LEFT JOIN spread s ON s.workload IS NOT DISTINCT FROM d.workload AND s.tier = d.tier AND s.day = d.day
)
SELECT workload, tier, day, requests, p95_ms, history_days, baseline_ms, mad_ms, threshold_ms,
       coalesce(p95_ms > threshold_ms, false) AS regressed
FROM judged
ORDER BY workload NULLS LAST,
         tier_rank(tier),
         day
