-- One row per UTC day with traffic: the whole estate's EffectiveCost that day (cost_links), requests entering any tier
-- (server, consumer and root spans) scaled by each trace's sampling adjusted count (OTel `ot=th:`), and cost per 1k
-- requests (the Executive page's trend). Parameters: none. Units: cost_usd (USD), usd_per_1k_requests (USD).
WITH spend AS (
    SELECT ChargePeriodStart::DATE AS day, sum(EffectiveCost)::DOUBLE AS cost_usd FROM cost_links GROUP BY ALL
),
sampled AS (
    SELECT make_timestamp(start_ns // 1000)::DATE AS day,
           regexp_extract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
    FROM spans
    WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL
),
volume AS (
    SELECT day, sum(CASE WHEN th = '' THEN 1.0
                         ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE)
                    END) AS requests_adjusted
    FROM sampled GROUP BY ALL
)
SELECT v.day, coalesce(s.cost_usd, 0) AS cost_usd, v.requests_adjusted,
       coalesce(s.cost_usd, 0) * 1000 / v.requests_adjusted AS usd_per_1k_requests
FROM volume v LEFT JOIN spend s ON s.day = v.day
WHERE v.requests_adjusted > 0
ORDER BY v.day
