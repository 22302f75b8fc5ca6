-- One row per UTC month, tier, provider, service, site and workload: EffectiveCost (what it cost after discounts) and
-- BilledCost (what the invoice says, for tie-out), linked via view cost_links (unlinked money: tier 'unknown', site
-- and workload NULL). Parameters: none (the whole ledger). Units: *_usd in BillingCurrency (USD in practice).
SELECT
    date_trunc('month', ChargePeriodStart)::DATE  AS month,
    coalesce(link_tier, 'unknown')                AS tier,
    ProviderName                                  AS provider,
    ServiceName                                   AS service,
    x_SiteId                                      AS site,
    link_workload                                 AS workload,
    sum(EffectiveCost)::DOUBLE                    AS effective_cost_usd,
    sum(BilledCost)::DOUBLE                       AS billed_cost_usd
FROM cost_links
GROUP BY ALL
ORDER BY month, tier, provider, service, site NULLS LAST, workload NULLS LAST
