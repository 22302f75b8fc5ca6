-- One row per workload, tier and UTC charge day: the day's EffectiveCost (cost_links: tag, resource or site link;
-- unlinked money is workload NULL), its baseline (median of the previous $window_days days with cost) and MAD, and
-- whether it is anomalous: cost > baseline + max($k × 1.4826 × MAD, $min_rise_ratio × baseline), judged once
-- $min_history_days days of history exist (the latency_regressions method). Parameters: $workload, $tier (NULL = all),
-- $k (3), $window_days (7), $min_history_days (3), $min_rise_ratio (0.1). Units: *_usd (BillingCurrency, USD).
WITH daily AS (
    SELECT link_workload AS workload, coalesce(link_tier, 'unknown') AS tier, ChargePeriodStart::DATE AS day,
           sum(EffectiveCost)::DOUBLE AS cost_usd
    FROM cost_links
    WHERE ($workload IS NULL OR link_workload = $workload)
      AND ($tier IS NULL OR coalesce(link_tier, 'unknown') = $tier)
    GROUP BY ALL
),
history AS (
    SELECT d.workload, d.tier, d.day, h.cost_usd AS past_usd
    FROM daily d
    JOIN daily h ON h.workload IS NOT DISTINCT FROM d.workload AND h.tier = d.tier
                AND h.day >= d.day - $window_days::INTEGER AND h.day < d.day
),
baseline AS (
    SELECT workload, tier, day, count(*) AS history_days, median(past_usd) AS baseline_usd
    FROM history GROUP BY ALL
),
spread AS (
    SELECT h.workload, h.tier, h.day, median(abs(h.past_usd - b.baseline_usd)) AS mad_usd
    FROM history h
    JOIN baseline b ON b.workload IS NOT DISTINCT FROM h.workload AND b.tier = h.tier AND b.day = h.day
    GROUP BY ALL
),
judged AS (
    SELECT d.workload, d.tier, d.day, d.cost_usd, coalesce(b.history_days, 0) AS history_days,
           b.baseline_usd, s.mad_usd,
           CASE WHEN coalesce(b.history_days, 0) >= $min_history_days
                THEN b.baseline_usd + greatest($k * 1.4826 * s.mad_usd, $min_rise_ratio * b.baseline_usd) END
               AS threshold_usd
    FROM daily d
    LEFT JOIN baseline b ON b.workload IS NOT DISTINCT FROM d.workload AND b.tier = d.tier AND b.day = d.day
    LEFT JOIN spread s ON s.workload IS NOT DISTINCT FROM d.workload AND s.tier = d.tier AND s.day = d.day
)
SELECT workload, tier, day, cost_usd, history_days, baseline_usd, mad_usd, threshold_usd,
       coalesce(cost_usd > threshold_usd, false) AS anomalous
FROM judged
ORDER BY workload NULLS LAST,
         tier_rank(tier),
         day
