-- One row per workload and tier it runs or is billed in: adjusted requests, tokens, GPU-seconds (model spans) and
-- egress (bytes the tier sends to another tier or site), p95 of requests and of model compute, the busiest site, the
-- lowest rate-card SLA of its sites, days with spans (whole store), and money per five-factor component over the days
-- billed; site-linked rows shared by GPU-seconds. Sums and sites read usage_rollup (migration 0011), the p95s every
-- span. Parameters: none. Units: *_usd (USD), *_gb (1e9 bytes), *_ms, gpu_seconds, sla_ratio (0-1).
WITH weights AS (  -- the adjusted-count weight of each distinct trace_state of a call end (0011 defines w the same way)
    SELECT trace_state,
           CASE WHEN th = '' THEN 1.0
                ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(trace_state, 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT trace_state FROM hop_clients WHERE trace_state IS NOT NULL
                UNION SELECT trace_state FROM hop_servers WHERE trace_state IS NOT NULL))
),
sums AS (
    SELECT workload, tier,
           arg_max(workload_type, max_duration_ns) AS workload_type, max(data_class) AS data_class,
           max(latency_budget_ms) AS budget_ms, sum(request_weight) AS requests_adjusted,
           sum(token_weight) AS tokens_adjusted, sum(model_weight_ns) / 1e9 AS gpu_seconds
    FROM usage_rollup WHERE workload IS NOT NULL GROUP BY ALL
),
p95s AS (  -- exact, so over every span of the workload and tier
    SELECT workload, tier,
           quantile_cont(duration_ns, 0.95) FILTER (WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL)
               / 1e6 AS p95_ms,
           quantile_cont(duration_ns, 0.95) FILTER (WHERE gen_ai_model IS NOT NULL) / 1e6 AS compute_p95_ms
    FROM spans WHERE workload IS NOT NULL GROUP BY ALL
),
usage AS (
    SELECT s.*, p.p95_ms, p.compute_p95_ms
    FROM sums s JOIN p95s p ON p.workload = s.workload AND p.tier = s.tier
),
hop_bytes AS (  -- bytes of each cross-tier/site CLIENT→SERVER call, from the call-end tables, summed per client and
                -- server (workload, tier) pair: responses are the server's egress, requests the client's
    SELECT s.workload AS server_workload, s.tier AS server_tier, c.workload AS client_workload, c.tier AS client_tier,
           sum(coalesce(s.response_bytes, c.response_bytes, 0) * coalesce(ws.w, 1.0)) AS response_b,
           sum(coalesce(c.request_bytes, s.request_bytes, 0) * coalesce(wc.w, 1.0)) AS request_b
    FROM hop_clients c
    JOIN hop_servers s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
    LEFT JOIN weights wc ON wc.trace_state = c.trace_state
    LEFT JOIN weights ws ON ws.trace_state = s.trace_state
    WHERE c.workload IS NOT NULL AND s.workload IS NOT NULL
      AND (c.tier <> s.tier OR c.site IS DISTINCT FROM s.site)
    GROUP BY ALL
),
egress AS (  -- bytes leaving a tier: responses its servers send to callers elsewhere, requests its clients send out
    SELECT workload, tier, sum(b) / 1e9 AS egress_gb
    FROM (SELECT server_workload AS workload, server_tier AS tier, response_b AS b FROM hop_bytes
          UNION ALL
          SELECT client_workload, client_tier, request_b FROM hop_bytes)
    GROUP BY ALL
),
site_weights AS (  -- how workloads share a site's unlinked money: GPU-seconds there, else requests; and each
                   -- workload and tier's busiest site, mode(site) (a tie to the name that sorts first)
    SELECT site, workload, tier, greatest(sum(model_weight_ns), 1e-9 * sum(weight)) AS weight,
           row_number() OVER (PARTITION BY workload, tier ORDER BY sum(spans) DESC, site) AS busiest
    FROM usage_rollup WHERE site IS NOT NULL AND workload IS NOT NULL GROUP BY site, workload, tier
),
priced AS (
    SELECT *,
           CASE WHEN ServiceCategory = 'Storage' THEN 'storage'
                WHEN x_TransferDirection IS NOT NULL
                     OR x_CostComponent IN ('uplink', 'uplink_transfer', 'device_uplink') THEN 'egress'
                WHEN x_CostComponent IN ('capex_amortization', 'device_amortization', 'power')
                     OR (coalesce(x_CostComponent, 'cloud') = 'cloud' AND ServiceCategory IN ('Compute', 'AI and Machine Learning'))
                    THEN 'compute'
                ELSE 'operations' END AS component,
           EffectiveCost::DOUBLE AS usd, ChargePeriodStart::DATE AS day, row_number() OVER () AS cost_id
    FROM cost_links
),
shared AS (
    SELECT coalesce(w.workload, p.link_workload) AS workload, coalesce(w.tier, p.link_tier, 'unknown') AS tier,
           p.component, p.day,
           p.usd * coalesce(w.weight / sum(w.weight) OVER (PARTITION BY p.cost_id), 1.0)
               AS usd
    FROM priced p
    LEFT JOIN site_weights w ON p.link_method = 'site' AND w.site = p.x_SiteId
),
money AS (
    SELECT workload, tier, count(DISTINCT day) AS cost_days,
           coalesce(sum(usd) FILTER (WHERE component = 'compute'), 0) AS compute_usd,
           coalesce(sum(usd) FILTER (WHERE component = 'storage'), 0) AS storage_usd,
           coalesce(sum(usd) FILTER (WHERE component = 'egress'), 0) AS egress_usd,
           coalesce(sum(usd) FILTER (WHERE component = 'operations'), 0) AS operations_usd
    FROM shared WHERE workload IS NOT NULL GROUP BY ALL
),
sla AS (
    SELECT link_tier AS tier, x_SiteId AS site,
           min(try_cast(json_extract_string(SkuPriceDetails, '$.SlaAvailability') AS DOUBLE)) AS sla_ratio
    FROM cost_links WHERE x_SiteId IS NOT NULL GROUP BY ALL
)
SELECT coalesce(u.workload, m.workload) AS workload, coalesce(u.tier, m.tier) AS tier, b.site, u.workload_type,
       u.data_class, u.budget_ms, coalesce(u.requests_adjusted, 0) AS requests_adjusted,
       coalesce(u.tokens_adjusted, 0) AS tokens_adjusted, coalesce(u.gpu_seconds, 0) AS gpu_seconds,
       coalesce(e.egress_gb, 0) AS egress_gb, u.p95_ms, u.compute_p95_ms, sla.sla_ratio,
       coalesce(m.cost_days, 0) AS cost_days, (SELECT count(DISTINCT day_ns) FROM usage_rollup) AS span_days,
       coalesce(m.compute_usd, 0) AS compute_usd,
       coalesce(m.storage_usd, 0) AS storage_usd, coalesce(m.egress_usd, 0) AS egress_usd,
       coalesce(m.operations_usd, 0) AS operations_usd
FROM usage u
LEFT JOIN site_weights b ON b.workload = u.workload AND b.tier = u.tier AND b.busiest = 1
FULL OUTER JOIN money m ON m.workload = u.workload AND m.tier = u.tier
LEFT JOIN egress e ON e.workload = coalesce(u.workload, m.workload) AND e.tier = coalesce(u.tier, m.tier)
LEFT JOIN sla ON sla.tier = coalesce(u.tier, m.tier) AND sla.site = b.site
ORDER BY workload,
         tier_rank(coalesce(u.tier, m.tier))
