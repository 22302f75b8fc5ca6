-- One row per (from_tier, to_tier) of CLIENT→SERVER hops that cross a tier or site, as the spans see them: bytes
-- sent up (requests) and down (responses), as sampled and scaled by each trace's adjusted count (OTel `ot=th:`
-- threshold in traceState, else 1). Parameters: $workload (NULL = all), $start_ns/$end_ns (client start). Units: *_bytes, *_gb (1e9 bytes).
WITH pairs AS (  -- hops: the view from store/migrations/0003_hops_view.sql
    SELECT from_tier, to_tier,
           coalesce(request_bytes, 0)  AS request_bytes,
           coalesce(response_bytes, 0) AS response_bytes,
           regexp_extract(coalesce(trace_state, ''), 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
    FROM hops
    WHERE ($workload IS NULL OR workload = $workload)
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
weighted AS (
    SELECT *, CASE WHEN th = '' THEN 1.0
                   ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE)
              END AS adjusted_count
    FROM pairs
)
SELECT
    from_tier,
    to_tier,
    count(*)                                                  AS hops,
    sum(adjusted_count)                                       AS hops_adjusted,
    sum(request_bytes)::BIGINT                                AS request_bytes,
    sum(response_bytes)::BIGINT                               AS response_bytes,
    sum(request_bytes * adjusted_count)                       AS request_bytes_adjusted,
    sum(response_bytes * adjusted_count)                      AS response_bytes_adjusted,
    sum(request_bytes * adjusted_count) / 1e9                 AS request_gb_adjusted,
    sum(response_bytes * adjusted_count) / 1e9                AS response_gb_adjusted
FROM weighted
GROUP BY from_tier, to_tier
ORDER BY response_bytes_adjusted + request_bytes_adjusted DESC, from_tier, to_tier
