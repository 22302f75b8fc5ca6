-- One row per tier, workload and named cache: money its hits saved = adjusted hits × (mean cost of a miss request −
-- mean cost of a hit request); a request costs Σ over its request spans of that tier's EffectiveCost per adjusted
-- request in the window (view cost_links, as unit_costs_by_tier). Parameters: $tier, $workload (NULL = all),
-- $start_ns/$end_ns (Unix ns; lookups, requests and charges in the window). Units: *_usd USD, *_adjusted requests.
WITH windowed AS (
    SELECT trace_id, tier, workload, cache_name, cache_hit, trace_state,
           (kind IN ('server', 'consumer') OR parent_span_id IS NULL) AS is_request
    FROM spans
    WHERE ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
states AS (  -- the adjusted count of each distinct traceState (OTel `ot=th:`), computed once per value
    SELECT trace_state, CASE WHEN th = '' THEN 1.0
                             ELSE 72057594037927936.0
                                  / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT DISTINCT trace_state FROM windowed))
),
spend AS (
    SELECT coalesce(link_tier, 'unknown') AS tier, sum(EffectiveCost)::DOUBLE AS cost_usd
    FROM cost_links
    WHERE ($start_ns IS NULL OR ChargePeriodStart >= make_timestamp($start_ns // 1000))
      AND ($end_ns IS NULL OR ChargePeriodStart < make_timestamp($end_ns // 1000))
    GROUP BY ALL
),
unit AS (
    SELECT v.tier, coalesce(s.cost_usd, 0) / v.requests_adjusted AS usd_per_request
    FROM (SELECT r.tier, sum(r.n * st.w) AS requests_adjusted
          FROM (SELECT tier, trace_state, count(*) AS n FROM windowed WHERE is_request GROUP BY ALL) r
          JOIN states st ON st.trace_state IS NOT DISTINCT FROM r.trace_state
          GROUP BY r.tier) v
    LEFT JOIN spend s USING (tier)
),
lookups AS (
    SELECT l.trace_id, l.tier, l.workload, l.cache_name, l.cache_hit, st.w
    FROM windowed l JOIN states st ON st.trace_state IS NOT DISTINCT FROM l.trace_state
    WHERE l.cache_hit IS NOT NULL
      AND ($tier IS NULL OR l.tier = $tier)
      AND ($workload IS NULL OR l.workload = $workload)
),
request_cost AS (
    SELECT s.trace_id, sum(u.usd_per_request) AS cost_usd
    FROM windowed s JOIN unit u USING (tier)
    WHERE s.is_request AND s.trace_id IN (SELECT trace_id FROM lookups)
    GROUP BY s.trace_id
)
SELECT
    l.tier,
    l.workload,
    l.cache_name,
    count(*)                                                                 AS lookups,
    count(*) FILTER (WHERE l.cache_hit)                                      AS hits,
    coalesce(sum(l.w) FILTER (WHERE l.cache_hit), 0)                         AS hits_adjusted,
    avg(coalesce(r.cost_usd, 0)) FILTER (WHERE l.cache_hit)                  AS hit_request_usd,
    avg(coalesce(r.cost_usd, 0)) FILTER (WHERE NOT l.cache_hit)              AS miss_request_usd,
    coalesce(sum(l.w) FILTER (WHERE l.cache_hit), 0)
        * (avg(coalesce(r.cost_usd, 0)) FILTER (WHERE NOT l.cache_hit)
           - avg(coalesce(r.cost_usd, 0)) FILTER (WHERE l.cache_hit))       AS cost_saved_usd
FROM lookups l
LEFT JOIN request_cost r USING (trace_id)
GROUP BY l.tier, l.workload, l.cache_name
ORDER BY CASE l.tier WHEN 'device' THEN 1 WHEN 'edge' THEN 2 WHEN 'regional' THEN 3 WHEN 'hyperscale' THEN 4 ELSE 5 END,
         l.workload NULLS LAST, l.cache_name NULLS LAST
