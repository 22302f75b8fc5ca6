-- 0011: per-day usage sums beside spans, so the scorecard's adjusted requests, tokens, GPU-seconds, site shares and
-- busiest sites read a few thousand rows instead of every span. Grain: one row per (UTC day, workload, tier, site,
-- workload_type, data_class, latency_budget_ms); every span counts, a NULL workload included (days with spans).
-- w is a span's adjusted-count weight from its OpenTelemetry trace_state threshold (ot=...th:T): 2^56 / (2^56 - T),
-- 1 without one. Rows merge by adding the sums and keeping the larger max_duration_ns; ingest/usage_rollup.py folds
-- each committed batch in. The INSERT below is the frozen backfill (append-only: never edit once merged).
CREATE TABLE usage_rollup (
    day_ns            BIGINT  NOT NULL,  -- start_ns rounded down to the UTC day, Unix ns
    workload          VARCHAR,
    tier              VARCHAR NOT NULL,
    site              VARCHAR,
    workload_type     VARCHAR,
    data_class        VARCHAR,
    latency_budget_ms DOUBLE,
    spans             BIGINT  NOT NULL,
    max_duration_ns   BIGINT  NOT NULL,  -- the longest span (arg_max of workload_type over rows)
    weight            DOUBLE  NOT NULL,  -- Σ w
    request_weight    DOUBLE  NOT NULL,  -- Σ w over request spans (server, consumer, roots)
    token_weight      DOUBLE  NOT NULL,  -- Σ (input_tokens + output_tokens) · w, a missing count as 0
    model_weight_ns   DOUBLE  NOT NULL   -- Σ duration_ns · w over model spans (gen_ai_model set)
);

INSERT INTO usage_rollup
WITH weights AS (
    SELECT trace_state,
           CASE WHEN th = '' THEN 1.0
                ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(trace_state, 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT DISTINCT trace_state FROM spans WHERE trace_state IS NOT NULL))
)
SELECT s.start_ns - s.start_ns % 86400000000000 AS day_ns, s.workload, s.tier, s.site, s.workload_type, s.data_class,
       s.latency_budget_ms, count(*) AS spans, max(s.duration_ns) AS max_duration_ns,
       sum(coalesce(wt.w, 1.0)) AS weight,
       coalesce(sum(coalesce(wt.w, 1.0)) FILTER (WHERE s.kind IN ('server', 'consumer') OR s.parent_span_id IS NULL),
                0) AS request_weight,
       sum((coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) * coalesce(wt.w, 1.0)) AS token_weight,
       coalesce(sum(s.duration_ns * coalesce(wt.w, 1.0)) FILTER (WHERE s.gen_ai_model IS NOT NULL), 0)
           AS model_weight_ns
FROM spans s
LEFT JOIN weights wt ON wt.trace_state = s.trace_state
GROUP BY ALL
ORDER BY day_ns;
