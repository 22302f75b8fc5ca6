-- One row per tier, workload and named cache: money its hits saved = adjusted hits × (mean cost of a miss request −
-- mean cost of a hit request); a request costs Σ over its request spans of that tier's EffectiveCost per adjusted
-- request in the window (view cost_links, as unit_costs_by_tier). Parameters: $tier, $workload (NULL = all),
-- $start_ns/$end_ns (Unix ns; lookups, requests and charges in the window). Units: *_usd USD, *_adjusted requests.
WITH requests AS (  -- request spans (server, consumer, root) in the window
    SELECT trace_id, tier, trace_state
    FROM spans
    WHERE (kind IN ('server', 'consumer') OR parent_span_id IS NULL)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
lookup_spans AS (
    SELECT trace_id, tier, workload, cache_name, cache_hit, trace_state
    FROM spans
    WHERE cache_hit IS NOT NULL
      AND ($tier IS NULL OR tier = $tier)
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
request_counts AS (SELECT tier, trace_state, count(*) AS n FROM requests GROUP BY ALL),
states AS (  -- the adjusted count of each distinct traceState (OTel `ot=th:`) the rows carry, computed once per value
    SELECT trace_state, CASE WHEN th = '' THEN 1.0
                             ELSE 72057594037927936.0
                                  / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT trace_state FROM request_counts UNION SELECT trace_state FROM lookup_spans))
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
          FROM request_counts r
          JOIN states st ON st.trace_state IS NOT DISTINCT FROM r.trace_state
          GROUP BY r.tier) v
    LEFT JOIN spend s USING (tier)
),
lookups AS (
    SELECT l.trace_id, l.tier, l.workload, l.cache_name, l.cache_hit, st.w
    FROM lookup_spans l JOIN states st ON st.trace_state IS NOT DISTINCT FROM l.trace_state
),
priced AS (  -- per lookup group and outcome: Σ over (lookup, request span of its trace) of the span's unit cost
    SELECT l.tier, l.workload, l.cache_name, l.cache_hit, sum(u.usd_per_request) AS cost_usd
    FROM lookups l JOIN requests s USING (trace_id) JOIN unit u ON u.tier = s.tier
    GROUP BY ALL
),
counted AS (
    SELECT tier, workload, cache_name,
           count(*)                                      AS lookups,
           count(*) FILTER (WHERE cache_hit)             AS hits,
           coalesce(sum(w) FILTER (WHERE cache_hit), 0)  AS hits_adjusted
    FROM lookups
    GROUP BY ALL
),
averaged AS (  -- a lookup's request cost is its trace's (0 without request spans), averaged per outcome
    SELECT c.tier, c.workload, c.cache_name, c.lookups, c.hits, c.hits_adjusted,
           CASE WHEN c.hits > 0 THEN coalesce(h.cost_usd, 0) / c.hits END                             AS hit_request_usd,
           CASE WHEN c.lookups > c.hits THEN coalesce(m.cost_usd, 0) / (c.lookups - c.hits) END       AS miss_request_usd
    FROM counted c
    LEFT JOIN priced h ON h.cache_hit AND h.tier = c.tier AND h.workload IS NOT DISTINCT FROM c.workload
                      AND h.cache_name IS NOT DISTINCT FROM c.cache_name
    LEFT JOIN priced m ON NOT m.cache_hit AND m.tier = c.tier AND m.workload IS NOT DISTINCT FROM c.workload
                      AND m.cache_name IS NOT DISTINCT FROM c.cache_name
)
SELECT tier, workload, cache_name, lookups, hits, hits_adjusted, hit_request_usd, miss_request_usd,
       hits_adjusted * (miss_request_usd - hit_request_usd) AS cost_saved_usd
FROM averaged
ORDER BY tier_rank(tier),
         workload NULLS LAST, cache_name NULLS LAST
