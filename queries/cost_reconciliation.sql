-- Tie-out per provider and billing period: BilledCost read from the source files vs held in the ledger vs linked
-- to a workload (tag / resource / site) vs left unallocated; ledger = linked + unallocated always, and
-- source − ledger is the quarantined rows and their money (amounts as the file states them where they are numbers,
-- `1,234.56` included; rows whose amount is NaN, empty or unreadable count without money).
-- Parameters: none. Units: BillingCurrency (USD in practice), row counts.
WITH src AS (
    SELECT provider_name AS ProviderName, billing_period_start AS BillingPeriodStart,
           sum(rows_read)::BIGINT AS source_rows, sum(billed_cost) AS source_billed
    FROM billing_source_totals GROUP BY ALL
),
led AS (
    SELECT ProviderName, BillingPeriodStart, count(*) AS ledger_rows, sum(BilledCost) AS ledger_billed,
           coalesce(sum(BilledCost) FILTER (WHERE link_method <> 'unallocated'), 0) AS linked_billed,
           coalesce(sum(BilledCost) FILTER (WHERE link_method = 'unallocated'), 0) AS unallocated_billed,
           sum(EffectiveCost) AS ledger_effective
    FROM cost_links GROUP BY ALL
)
SELECT
    coalesce(s.ProviderName, l.ProviderName) AS provider_name,
    coalesce(s.BillingPeriodStart, l.BillingPeriodStart) AS billing_period_start,
    coalesce(s.source_rows, 0) AS source_rows,
    coalesce(l.ledger_rows, 0) AS ledger_rows,
    coalesce(s.source_rows, 0) - coalesce(l.ledger_rows, 0) AS quarantined_rows,
    coalesce(s.source_billed, 0) AS source_billed_usd,
    coalesce(l.ledger_billed, 0) AS ledger_billed_usd,
    coalesce(l.linked_billed, 0) AS linked_billed_usd,
    coalesce(l.unallocated_billed, 0) AS unallocated_billed_usd,
    coalesce(s.source_billed, 0) - coalesce(l.ledger_billed, 0) AS quarantined_billed_usd,
    coalesce(l.ledger_effective, 0) AS ledger_effective_usd
FROM src s
FULL OUTER JOIN led l ON l.ProviderName = s.ProviderName AND l.BillingPeriodStart IS NOT DISTINCT FROM s.BillingPeriodStart
ORDER BY provider_name, billing_period_start
