-- One row per kind of row the pages rest on: spans, requests (server, consumer and root spans) and money (per
-- billing currency): how much is placed (a tier other than unknown; money linked to a workload) out of all of it.
-- Parameters: none. Units: mapped, total spans or requests, or EffectiveCost in `unit`; mapped_pct % of total.
WITH counted AS (
    SELECT 'spans' AS kind, 'spans' AS unit, count(*) FILTER (WHERE tier <> 'unknown')::DOUBLE AS mapped,
           count(*)::DOUBLE AS total
    FROM spans
    UNION ALL
    SELECT 'requests', 'requests', count(*) FILTER (WHERE tier <> 'unknown')::DOUBLE, count(*)::DOUBLE
    FROM spans WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL
    UNION ALL
    SELECT 'money', coalesce(BillingCurrency, '(no currency)'),
           coalesce(sum(EffectiveCost) FILTER (WHERE link_method <> 'unallocated'), 0)::DOUBLE,
           coalesce(sum(EffectiveCost), 0)::DOUBLE
    FROM cost_links GROUP BY BillingCurrency
)
SELECT kind, unit, mapped, total, CASE WHEN total <> 0 THEN 100.0 * mapped / total END AS mapped_pct
FROM counted
WHERE total <> 0 OR kind <> 'money'
ORDER BY CASE kind WHEN 'spans' THEN 0 WHEN 'requests' THEN 1 ELSE 2 END, unit
