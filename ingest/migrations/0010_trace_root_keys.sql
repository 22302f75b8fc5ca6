-- 0010: each trace root again, keyed by fixed-width numbers, so band_trace_spans groups, ranks and samples traces on
-- 16 bytes instead of a 32-character text. ingest/trace_index.py appends each committed batch's rows; the INSERT
-- below is the frozen backfill (append-only: never edit once merged).
CREATE TABLE trace_root_keys (  -- one row per parentless span that has a trace id (the rows of trace_roots)
    trace_key       UHUGEINT,          -- trace_id's 32 lowercase hex digits as a number (it orders as trace_id)
    odd_id          VARCHAR,           -- trace_id when it is anything else (then trace_key is NULL)
    sample_key      UHUGEINT NOT NULL, -- md5(trace_id)'s 32 hex digits as a number (it orders as md5(trace_id))
    workload        VARCHAR,
    start_ns        BIGINT NOT NULL,   -- Unix ns
    duration_ns     BIGINT NOT NULL
);

INSERT INTO trace_root_keys
SELECT CASE WHEN regexp_full_match(trace_id, '[0-9a-f]{32}') THEN ('0x' || trace_id)::UHUGEINT END,
       CASE WHEN NOT regexp_full_match(trace_id, '[0-9a-f]{32}') THEN trace_id END,
       ('0x' || md5(trace_id))::UHUGEINT, workload, start_ns, duration_ns
FROM spans
WHERE parent_span_id IS NULL AND trace_id IS NOT NULL;
