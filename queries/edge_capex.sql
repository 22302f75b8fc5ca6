-- One row per edge site: its hardware amortization (x_CostComponent 'capex_amortization') per 730-hour month and
-- the days it covers, from cost_links (the Executive page's payback input). Parameters: none.
-- Units: amortization_usd_month in BillingCurrency (USD in practice) per 730-hour month; days = distinct charge days.
SELECT x_SiteId AS site,
       sum(EffectiveCost)::DOUBLE * 730.0 / 24.0 / count(DISTINCT ChargePeriodStart::DATE) AS amortization_usd_month,
       count(DISTINCT ChargePeriodStart::DATE) AS days
FROM cost_links
WHERE link_tier = 'edge' AND x_CostComponent = 'capex_amortization'
GROUP BY ALL
ORDER BY site
