-- One row per UTC month and tier: EffectiveCost and BilledCost (cost_links; unlinked money in tier 'unknown'), the days
-- its charges cover (first charge start to last charge end, within the month), and the change from the tier's
-- previous month, in total and per covered day (so a month still being billed compares at its run rate).
-- Parameters: none (the whole ledger). Units: *_usd in BillingCurrency (USD in practice); *_ratio a fraction of the
-- previous month; covered_days whole UTC days.
WITH monthly AS (
    SELECT date_trunc('month', ChargePeriodStart)::DATE AS month, coalesce(link_tier, 'unknown') AS tier,
           sum(EffectiveCost)::DOUBLE AS effective_cost_usd, sum(BilledCost)::DOUBLE AS billed_cost_usd,
           min(ChargePeriodStart)::DATE AS first_day, max(ChargePeriodEnd)::DATE AS end_day
    FROM cost_links GROUP BY ALL
),
paired AS (
    SELECT month, tier, effective_cost_usd, billed_cost_usd,
           greatest(date_diff('day', first_day, least(end_day, (month + INTERVAL 1 MONTH)::DATE)), 1)
               AS covered_days
    FROM monthly
),
previous AS (
    SELECT *, lag(effective_cost_usd) OVER w AS previous_effective_cost_usd,
           lag(covered_days) OVER w AS previous_covered_days
    FROM paired
    WINDOW w AS (PARTITION BY tier ORDER BY month)
)
SELECT month, tier, effective_cost_usd, billed_cost_usd, covered_days, previous_effective_cost_usd,
       effective_cost_usd - previous_effective_cost_usd                                 AS change_usd,
       (effective_cost_usd - previous_effective_cost_usd) / nullif(previous_effective_cost_usd, 0) AS change_ratio,
       effective_cost_usd / covered_days                                                AS daily_cost_usd,
       (effective_cost_usd / covered_days)
           / nullif(previous_effective_cost_usd / previous_covered_days, 0) - 1         AS daily_change_ratio
FROM previous
ORDER BY month, tier
