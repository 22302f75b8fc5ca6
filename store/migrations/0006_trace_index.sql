-- 0006: a per-trace index beside spans, so trace-level questions (the slowest roots, which tiers a trace touches,
-- how many spans it has) read about one row per trace instead of every span. ingest/trace_index.py folds each
-- committed span batch into both tables; the INSERTs below are the frozen backfill (append-only: never edit).
CREATE TABLE trace_roots (      -- one row per parentless span that has a trace id
    trace_id        VARCHAR NOT NULL,
    span_id         VARCHAR,
    name            VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,
    site            VARCHAR,
    workload        VARCHAR,
    workload_type   VARCHAR,
    data_class      VARCHAR,
    start_ns        BIGINT NOT NULL,   -- Unix ns
    duration_ns     BIGINT NOT NULL,
    status_code     VARCHAR NOT NULL
);

CREATE TABLE trace_parts (      -- one row per trace and committed span batch; a trace's rows add up to the trace
    trace_id        VARCHAR NOT NULL,
    spans           BIGINT NOT NULL,
    tier_bits       UTINYINT NOT NULL  -- bit 0 device, 1 edge, 2 regional, 3 hyperscale, 4 any other tier
);

INSERT INTO trace_roots
SELECT trace_id, span_id, name, tier, site, workload, workload_type, data_class, start_ns, duration_ns, status_code
FROM spans
WHERE parent_span_id IS NULL AND trace_id IS NOT NULL;

INSERT INTO trace_parts
SELECT trace_id, count(*) AS spans,
       bit_or(CASE tier WHEN 'device' THEN 1 WHEN 'edge' THEN 2 WHEN 'regional' THEN 4 WHEN 'hyperscale' THEN 8
                        ELSE 16 END)::UTINYINT AS tier_bits
FROM spans
WHERE trace_id IS NOT NULL
GROUP BY trace_id;
