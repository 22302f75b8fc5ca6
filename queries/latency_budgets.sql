-- One row per workload and tier it runs in: the workload's latency budget (largest declared on its spans, else
-- $budgets from config), its latency class, the exact p95 of requests entering that tier (server, consumer, root
-- spans) and of the whole request (root spans), and whether each meets the budget. Parameters: $budgets
-- ("workload=ms,…", NULL = none), $edge_max_ms/$regional_max_ms (class bounds, queries/policy.py), $start_ns/$end_ns. Units: *_ms.
WITH configured AS (
    SELECT split_part(entry, '=', 1) AS workload, split_part(entry, '=', 2)::DOUBLE AS budget_ms
    FROM (SELECT unnest(string_split($budgets, ',')) AS entry)
    WHERE entry LIKE '%=%'
),
requests AS (
    SELECT workload, tier, parent_span_id IS NULL AS is_root, duration_ns, latency_budget_ms
    FROM spans
    WHERE workload IS NOT NULL AND (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
declared AS (
    SELECT workload, max(latency_budget_ms) AS budget_ms,
           quantile_cont(duration_ns, 0.95) FILTER (WHERE is_root) / 1e6 AS e2e_p95_ms
    FROM requests GROUP BY workload
),
budgets AS (
    SELECT d.workload, coalesce(d.budget_ms, c.budget_ms) AS budget_ms, d.e2e_p95_ms,
           CASE WHEN d.budget_ms IS NOT NULL THEN 'span' WHEN c.budget_ms IS NOT NULL THEN 'config' END AS budget_source
    FROM declared d LEFT JOIN configured c USING (workload)
)
SELECT
    r.workload,
    b.budget_ms,
    b.budget_source,
    CASE WHEN b.budget_ms IS NULL THEN NULL
         WHEN b.budget_ms < $edge_max_ms THEN '<50 ms: edge'
         WHEN b.budget_ms <= $regional_max_ms THEN '100–300 ms: regional'
         ELSE 'async: hyperscale' END                                   AS latency_class,
    r.tier,
    count(*)                                                           AS requests,
    quantile_cont(r.duration_ns, 0.95) / 1e6                           AS p95_ms,
    quantile_cont(r.duration_ns, 0.95) / 1e6 <= b.budget_ms            AS meets_budget,
    b.e2e_p95_ms,
    b.e2e_p95_ms <= b.budget_ms                                        AS e2e_meets_budget
FROM requests r
JOIN budgets b USING (workload)
GROUP BY r.workload, b.budget_ms, b.budget_source, b.e2e_p95_ms, r.tier
ORDER BY r.workload,
         tier_rank(r.tier)
