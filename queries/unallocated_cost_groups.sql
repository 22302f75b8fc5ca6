-- One row per group of ledger money linked to no workload, by billing currency, provider, account and service,
-- largest first within each currency. Parameters: $limit (rows). Units: effective_cost and billed_cost in
-- `currency` (BillingCurrency); rows a count of ledger rows.
SELECT coalesce(BillingCurrency, '(no currency)') AS currency, ProviderName AS provider, SubAccountId AS account,
       ServiceName AS service, count(*)::BIGINT AS rows, sum(EffectiveCost)::DOUBLE AS effective_cost,
       sum(BilledCost)::DOUBLE AS billed_cost
FROM cost_links
WHERE link_method = 'unallocated'
GROUP BY ALL
HAVING sum(EffectiveCost) <> 0 OR sum(BilledCost) <> 0
ORDER BY abs(sum(EffectiveCost)) DESC, currency, provider, account, service
LIMIT coalesce($limit, 20)
