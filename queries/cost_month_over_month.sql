-- One row per UTC month and tier: EffectiveCost and BilledCost (cost_links; unlinked money in tier 'unknown') and the
-- change from the tier's previous month (NULL for its first month). Parameters: none (the whole ledger).
-- Units: *_usd in BillingCurrency (USD in practice); change_ratio is a fraction of the previous month.
WITH monthly AS (
    SELECT date_trunc('month', ChargePeriodStart)::DATE AS month, coalesce(link_tier, 'unknown') AS tier,
           sum(EffectiveCost)::DOUBLE AS effective_cost_usd, sum(BilledCost)::DOUBLE AS billed_cost_usd
    FROM cost_links GROUP BY ALL
)
SELECT month, tier, effective_cost_usd, billed_cost_usd,
       lag(effective_cost_usd) OVER w                                    AS previous_effective_cost_usd,
       effective_cost_usd - lag(effective_cost_usd) OVER w               AS change_usd,
       (effective_cost_usd - lag(effective_cost_usd) OVER w) / nullif(lag(effective_cost_usd) OVER w, 0) AS change_ratio
FROM monthly
WINDOW w AS (PARTITION BY tier ORDER BY month)
ORDER BY month, tier
