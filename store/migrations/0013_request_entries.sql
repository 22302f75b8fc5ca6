-- 0013: the requests the semantic model counts (queries/semantic), kept beside spans so `requests`, errors and
-- latency read one narrow, deduplicated table instead of grouping and joining every span: each root and
-- SERVER/CONSUMER span once per (trace id, span id), with its sampling weight and the tier, site and service its
-- parent ran in; and the few spans delivered more than once, so the model's other span measures count each once.
-- ingest/request_entries.py folds each committed batch in; the INSERTs below are the frozen backfill (append-only:
-- never edit once merged).
CREATE TABLE span_places (     -- every span with lowercase-hex ids: where it ran (the parents entries look up)
    trace_key       UHUGEINT NOT NULL,  -- trace_id's 32 hex digits as a number
    span_key        UBIGINT NOT NULL,   -- span_id's 16 hex digits as a number
    start_ns        BIGINT NOT NULL,    -- Unix ns: a parent counts when it started within a day of its child
    tier            VARCHAR NOT NULL,
    site            VARCHAR,
    service_name    VARCHAR
);

CREATE TABLE span_dups (       -- spans (with hex ids) delivered more than once: each counts once in the model
    trace_id        VARCHAR NOT NULL,
    span_id         VARCHAR NOT NULL
);

CREATE TABLE request_entries (  -- every root and SERVER/CONSUMER span once (the requests of queries/semantic)
    trace_key       UHUGEINT,           -- NULL when trace_id is not 32 lowercase hex digits (then kept per row)
    span_key        UBIGINT,
    parent_key      UBIGINT,
    is_root         BOOLEAN NOT NULL,
    tier            VARCHAR NOT NULL,
    site            VARCHAR,
    service_name    VARCHAR,
    name            VARCHAR NOT NULL,
    workload        VARCHAR,
    workload_type   VARCHAR,
    data_class      VARCHAR,
    start_ns        BIGINT NOT NULL,    -- Unix ns
    duration_ns     BIGINT NOT NULL,
    status_code     VARCHAR NOT NULL,
    w               DOUBLE NOT NULL,    -- sampling weight: 2^56 / (2^56 - T) for tracestate `ot=th:T`, else 1
    parent_tier     VARCHAR,            -- where the parent span ran, once it is in the store
    parent_site     VARCHAR,
    parent_service  VARCHAR,
    parent_found    BOOLEAN NOT NULL
);

INSERT INTO span_dups
SELECT trace_id, span_id FROM (SELECT trace_id, span_id, CASE WHEN length(trace_id) = 32 THEN try_cast('0x' || trace_id AS UHUGEINT) END AS trace_key, CASE WHEN length(span_id) = 16 THEN try_cast('0x' || span_id AS UBIGINT) END AS span_key, start_ns FROM spans) WHERE trace_key IS NOT NULL AND span_key IS NOT NULL GROUP BY trace_id, span_id HAVING count(*) > 1;

INSERT INTO span_places
SELECT trace_key, span_key, start_ns, tier, site, service_name FROM (SELECT CASE WHEN length(trace_id) = 32 THEN try_cast('0x' || trace_id AS UHUGEINT) END AS trace_key, CASE WHEN length(span_id) = 16 THEN try_cast('0x' || span_id AS UBIGINT) END AS span_key, start_ns, tier, site, service_name FROM spans) WHERE trace_key IS NOT NULL AND span_key IS NOT NULL;

INSERT INTO request_entries (trace_key, span_key, parent_key, is_root, tier, site, service_name, name, workload, workload_type, data_class, start_ns, duration_ns, status_code, w, parent_tier, parent_site, parent_service, parent_found)
WITH cand AS (
    SELECT CASE WHEN length(trace_id) = 32 THEN try_cast('0x' || trace_id AS UHUGEINT) END AS trace_key, CASE WHEN length(span_id) = 16 THEN try_cast('0x' || span_id AS UBIGINT) END AS span_key, CASE WHEN length(parent_span_id) = 16 THEN try_cast('0x' || parent_span_id AS UBIGINT) END AS parent_key,
           parent_span_id IS NULL AS is_root, tier, site, service_name, name, workload, workload_type, data_class,
           start_ns, duration_ns, status_code, trace_state
    FROM spans
    WHERE parent_span_id IS NULL OR kind IN ('server', 'consumer')
),
keyed AS (SELECT DISTINCT ON (trace_key, span_key) * FROM cand WHERE trace_key IS NOT NULL AND span_key IS NOT NULL),
fresh AS (
    SELECT k.* FROM keyed k
    UNION ALL
    SELECT * FROM cand WHERE trace_key IS NULL OR span_key IS NULL
),
weights AS (
    SELECT trace_state, CASE WHEN th = '' THEN 1.0 ELSE 72057594037927936.0 / (72057594037927936.0 - ('0x' || rpad(th, 14, '0'))::UBIGINT::DOUBLE) END AS w
    FROM (SELECT trace_state, regexp_extract(trace_state, 'ot=[^,]*th:([0-9a-f]{1,14})', 1) AS th
          FROM (SELECT DISTINCT trace_state FROM fresh WHERE trace_state IS NOT NULL))
),
parents AS (
    SELECT trace_key, span_key, any_value(start_ns) AS start_ns, any_value(tier) AS tier, any_value(site) AS site,
           any_value(service_name) AS service
    FROM span_places
    WHERE trace_key IN (SELECT trace_key FROM fresh WHERE parent_key IS NOT NULL)
    GROUP BY trace_key, span_key
)
SELECT f.trace_key, f.span_key, f.parent_key, f.is_root, f.tier, f.site, f.service_name, f.name, f.workload,
       f.workload_type, f.data_class, f.start_ns, f.duration_ns, f.status_code, coalesce(wt.w, 1.0) AS w,
       p.tier AS parent_tier, p.site AS parent_site, p.service AS parent_service, p.span_key IS NOT NULL AS parent_found
FROM fresh f
LEFT JOIN weights wt ON wt.trace_state = f.trace_state
LEFT JOIN parents p ON p.trace_key = f.trace_key AND p.span_key = f.parent_key
    AND abs(p.start_ns - f.start_ns) <= 86400000000000;
