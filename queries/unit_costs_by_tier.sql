-- One row per tier and UTC month: EffectiveCost linked to the tier (view cost_links), requests entering the tier
-- (server, consumer and root spans) and gen_ai tokens, both scaled by each trace's sampling adjusted count (OTel
-- `ot=th:`), and the unit costs. Parameters: none. Units: *_usd (USD), usd_per_1k_requests, usd_per_1m_tokens.
WITH spend AS (
    SELECT coalesce(link_tier, 'unknown') AS tier, date_trunc('month', ChargePeriodStart)::DATE AS month,
           sum(EffectiveCost)::DOUBLE AS cost_usd
    FROM cost_links GROUP BY ALL
),
weights AS (  -- the adjusted-count weight of each distinct trace_state (a handful): the regex runs once per value
    SELECT trace_state,
           CASE WHEN th = '' THEN 1.0
                ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(trace_state, 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT DISTINCT trace_state FROM spans WHERE trace_state IS NOT NULL))
),
volume AS (  -- summed per tier and UTC day first, so the month is worked out once per day rather than per span
    SELECT tier, date_trunc('month', make_timestamp(day * 86400000000))::DATE AS month,
           sum(requests_adjusted) AS requests_adjusted, sum(tokens_adjusted) AS tokens_adjusted
    FROM (SELECT s.tier,  -- the UTC day of the span's start microsecond (floored, as make_timestamp places it)
                 s.start_ns // 1000 // 86400000000 - CASE WHEN s.start_ns // 1000 % 86400000000 < 0 THEN 1 ELSE 0 END
                     AS day,
                 sum(CASE WHEN s.kind IN ('server', 'consumer') OR s.parent_span_id IS NULL THEN coalesce(wt.w, 1.0) ELSE 0 END)
                     AS requests_adjusted,
                 sum((coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) * coalesce(wt.w, 1.0)) AS tokens_adjusted
          FROM spans s
          LEFT JOIN weights wt ON wt.trace_state = s.trace_state
          GROUP BY ALL)
    GROUP BY ALL
)
SELECT coalesce(s.tier, v.tier) AS tier, coalesce(s.month, v.month) AS month,
       coalesce(s.cost_usd, 0) AS cost_usd,
       coalesce(v.requests_adjusted, 0) AS requests_adjusted,
       coalesce(v.tokens_adjusted, 0) AS tokens_adjusted,
       CASE WHEN v.requests_adjusted > 0 THEN coalesce(s.cost_usd, 0) * 1000 / v.requests_adjusted END
           AS usd_per_1k_requests,
       CASE WHEN v.tokens_adjusted > 0 THEN coalesce(s.cost_usd, 0) * 1e6 / v.tokens_adjusted END
           AS usd_per_1m_tokens
FROM spend s
FULL OUTER JOIN volume v ON v.tier = s.tier AND v.month = s.month
ORDER BY tier_rank(coalesce(s.tier, v.tier)), month
