-- One row per UTC month, tier and transfer direction (x_TransferDirection: internet_out, tier_to_tier, …): the
-- billed data-transfer money and quantity (cost_links). Parameters: none (the whole ledger). Units: *_usd in
-- BillingCurrency (USD in practice); quantity in consumed_unit (e.g. GB; the first by name when spellings differ).
SELECT date_trunc('month', ChargePeriodStart)::DATE AS month, coalesce(link_tier, 'unknown') AS tier,
       x_TransferDirection AS direction, min(ConsumedUnit) AS consumed_unit,
       sum(ConsumedQuantity)::DOUBLE AS consumed_quantity, sum(EffectiveCost)::DOUBLE AS effective_cost_usd
FROM cost_links
WHERE x_TransferDirection IS NOT NULL
GROUP BY ALL
ORDER BY month, tier, direction
