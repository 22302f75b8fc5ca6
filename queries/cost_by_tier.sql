-- One row per tier: the ledger's effective cost linked to that tier (tag, resource or site link; see view cost_links),
-- split into compute, network and other, with the days covered. Parameters: none (the whole ledger).
-- Units: *_usd in BillingCurrency (USD in practice); days is distinct charge days.
SELECT
    coalesce(link_tier, 'unknown')                                                   AS tier,
    sum(EffectiveCost)::DOUBLE                                                       AS cost_usd,
    sum(CASE WHEN x_TransferDirection IS NULL AND (x_CostComponent IN ('capex_amortization', 'device_amortization', 'power')
                  OR (x_CostComponent = 'cloud' AND ServiceCategory = 'Compute'))
             THEN EffectiveCost ELSE 0 END)::DOUBLE                                  AS compute_usd,
    sum(CASE WHEN x_TransferDirection IS NOT NULL OR x_CostComponent IN ('uplink', 'uplink_transfer', 'ota', 'device_uplink')
             THEN EffectiveCost ELSE 0 END)::DOUBLE                                  AS network_usd,
    count(DISTINCT ChargePeriodStart::DATE)                                          AS days,
    (sum(EffectiveCost) / greatest(count(DISTINCT ChargePeriodStart::DATE), 1))::DOUBLE AS cost_usd_per_day
FROM cost_links
GROUP BY 1
ORDER BY tier_rank(tier)
