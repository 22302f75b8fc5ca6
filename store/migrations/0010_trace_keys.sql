-- 0010: the per-trace index again, keyed by fixed-width numbers, so the trace-level queries (band_trace_spans,
-- slow_traces) group, join, rank and sample traces on 16 bytes instead of a 32-character text. ingest/trace_index.py
-- appends each committed batch's rows; the INSERTs below are the frozen backfill (append-only: never edit once merged).
CREATE TABLE trace_root_keys (  -- one row per parentless span that has a trace id (the rows of trace_roots)
    trace_key       UHUGEINT,          -- trace_id's 32 lowercase hex digits as a number (it orders as trace_id)
    odd_id          VARCHAR,           -- trace_id when it is anything else (then trace_key is NULL)
    sample_key      UHUGEINT NOT NULL, -- md5(trace_id)'s 32 hex digits as a number (it orders as md5(trace_id))
    workload        VARCHAR,
    start_ns        BIGINT NOT NULL,   -- Unix ns
    duration_ns     BIGINT NOT NULL,
    name            VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,
    site            VARCHAR,
    workload_type   VARCHAR,
    status_code     VARCHAR NOT NULL
);

CREATE TABLE trace_part_keys (  -- the rows of trace_parts: one per trace and committed span batch, keyed as above
    trace_key       UHUGEINT,
    odd_id          VARCHAR,
    spans           BIGINT NOT NULL,
    tier_bits       UTINYINT NOT NULL  -- bit 0 device, 1 edge, 2 regional, 3 hyperscale, 4 any other tier
);

INSERT INTO trace_root_keys
SELECT CASE WHEN regexp_full_match(trace_id, '[0-9a-f]{32}') THEN ('0x' || trace_id)::UHUGEINT END,
       CASE WHEN NOT regexp_full_match(trace_id, '[0-9a-f]{32}') THEN trace_id END,
       ('0x' || md5(trace_id))::UHUGEINT, workload, start_ns, duration_ns, name, tier, site, workload_type, status_code
FROM spans
WHERE parent_span_id IS NULL AND trace_id IS NOT NULL;

INSERT INTO trace_part_keys
SELECT CASE WHEN regexp_full_match(trace_id, '[0-9a-f]{32}') THEN ('0x' || trace_id)::UHUGEINT END,
       CASE WHEN NOT regexp_full_match(trace_id, '[0-9a-f]{32}') THEN trace_id END,
       count(*),
       bit_or(CASE tier WHEN 'device' THEN 1 WHEN 'edge' THEN 2 WHEN 'regional' THEN 4 WHEN 'hyperscale' THEN 8
                        ELSE 16 END)::UTINYINT
FROM spans
WHERE trace_id IS NOT NULL
GROUP BY trace_id;
