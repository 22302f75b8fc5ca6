-- One row per tier, workload and cache_name (NULL = a model's prompt cache, known only from token counts): lookups
-- (spans declaring tierwise.cache.hit), hits, hit rate, exact p50/p95 end-to-end latency (root span) of the requests
-- whose lookup hit vs missed, and the token-weighted prompt-cache rate. Parameters: $tier, $workload (NULL = all),
-- $start_ns/$end_ns (lookup start, Unix ns). Units: *_ms, *_ratio 0–1, *_tokens.
WITH lookups AS (
    SELECT tier, workload, cache_name, cache_hit, input_tokens, cache_read_tokens, trace_id
    FROM spans
    WHERE (cache_hit IS NOT NULL OR cache_read_tokens IS NOT NULL)
      AND ($tier IS NULL OR tier = $tier)
      AND ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
requests AS (
    SELECT trace_id, max(duration_ns) AS e2e_ns
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IN (SELECT trace_id FROM lookups WHERE cache_hit IS NOT NULL)
    GROUP BY trace_id
)
SELECT
    l.tier,
    l.workload,
    l.cache_name,
    count(l.cache_hit)                                                           AS lookups,
    count(*) FILTER (WHERE l.cache_hit)                                          AS hits,
    count(*) FILTER (WHERE l.cache_hit) / nullif(count(l.cache_hit), 0)          AS hit_ratio,
    quantile_cont(r.e2e_ns, 0.50) FILTER (WHERE l.cache_hit) / 1e6               AS hit_e2e_p50_ms,
    quantile_cont(r.e2e_ns, 0.95) FILTER (WHERE l.cache_hit) / 1e6               AS hit_e2e_p95_ms,
    quantile_cont(r.e2e_ns, 0.50) FILTER (WHERE NOT l.cache_hit) / 1e6           AS miss_e2e_p50_ms,
    quantile_cont(r.e2e_ns, 0.95) FILTER (WHERE NOT l.cache_hit) / 1e6           AS miss_e2e_p95_ms,
    count(*) FILTER (WHERE l.cache_hit)
        * (avg(r.e2e_ns) FILTER (WHERE NOT l.cache_hit) - avg(r.e2e_ns) FILTER (WHERE l.cache_hit)) / 1e6
                                                                                 AS latency_saved_ms,
    coalesce(sum(l.input_tokens) FILTER (WHERE l.cache_read_tokens IS NOT NULL), 0)::BIGINT AS input_tokens,
    coalesce(sum(l.cache_read_tokens), 0)::BIGINT                                AS cache_read_tokens,
    sum(l.cache_read_tokens) / nullif(sum(l.input_tokens) FILTER (WHERE l.cache_read_tokens IS NOT NULL), 0)
                                                                                 AS token_hit_ratio
FROM lookups l
LEFT JOIN requests r USING (trace_id)
GROUP BY l.tier, l.workload, l.cache_name
ORDER BY tier_rank(l.tier),
         l.workload NULLS LAST, l.cache_name NULLS LAST
