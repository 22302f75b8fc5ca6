-- One row per group of ledger money linked to no workload, by billing currency, provider, account and service,
-- largest first. `linked_rows` counts the same provider, account and service's rows that are linked (a rule on the
-- group alone would take them over); `resource` is the group's one ResourceId, when it has exactly one.
-- Parameters: $limit (rows). Units: effective_cost and billed_cost in `currency` (BillingCurrency); rows counts.
WITH grouped AS (
    SELECT coalesce(BillingCurrency, '(no currency)') AS currency, ProviderName AS provider,
           SubAccountId AS account, ServiceName AS service,
           count(*) FILTER (WHERE link_method = 'unallocated')::BIGINT AS rows,
           count(*) FILTER (WHERE link_method <> 'unallocated')::BIGINT AS linked,
           sum(EffectiveCost) FILTER (WHERE link_method = 'unallocated')::DOUBLE AS effective_cost,
           sum(BilledCost) FILTER (WHERE link_method = 'unallocated')::DOUBLE AS billed_cost,
           count(DISTINCT ResourceId) FILTER (WHERE link_method = 'unallocated') AS resources,
           min(ResourceId) FILTER (WHERE link_method = 'unallocated') AS any_resource
    FROM cost_links
    GROUP BY ALL
)
SELECT currency, provider, account, service, rows, effective_cost, billed_cost,
       (sum(linked) OVER (PARTITION BY provider, account, service))::BIGINT AS linked_rows,
       CASE WHEN resources = 1 THEN any_resource END AS resource
FROM grouped
WHERE rows > 0 AND (effective_cost <> 0 OR billed_cost <> 0)
ORDER BY abs(effective_cost) DESC, currency, provider, account, service
LIMIT coalesce($limit, 20)
