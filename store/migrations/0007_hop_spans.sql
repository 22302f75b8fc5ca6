-- 0007: the two ends of every call, kept narrow beside spans, so the hops view (0003) joins the few spans that can
-- be hop ends instead of scanning every span twice. ingest/hop_spans.py appends each committed batch's rows; the
-- INSERTs below are the frozen backfill (append-only: never edit once merged). The view keeps 0003's columns and rows.
CREATE TABLE hop_clients (      -- CLIENT spans with a trace and span id
    trace_id        VARCHAR NOT NULL,
    span_id         VARCHAR NOT NULL,
    workload        VARCHAR,
    tier            VARCHAR NOT NULL,
    site            VARCHAR,
    start_ns        BIGINT NOT NULL,   -- Unix ns
    trace_state     VARCHAR,
    duration_ns     BIGINT NOT NULL,
    request_bytes   BIGINT,
    response_bytes  BIGINT
);

CREATE TABLE hop_servers (      -- SERVER spans with a trace and a parent span id
    trace_id        VARCHAR NOT NULL,
    parent_span_id  VARCHAR NOT NULL,
    span_id         VARCHAR,
    workload        VARCHAR,
    tier            VARCHAR NOT NULL,
    site            VARCHAR,
    trace_state     VARCHAR,
    duration_ns     BIGINT NOT NULL,
    request_bytes   BIGINT,
    response_bytes  BIGINT
);

INSERT INTO hop_clients
SELECT trace_id, span_id, workload, tier, site, start_ns, trace_state, duration_ns, request_bytes, response_bytes
FROM spans
WHERE kind = 'client' AND trace_id IS NOT NULL AND span_id IS NOT NULL;

INSERT INTO hop_servers
SELECT trace_id, parent_span_id, span_id, workload, tier, site, trace_state, duration_ns, request_bytes, response_bytes
FROM spans
WHERE kind = 'server' AND trace_id IS NOT NULL AND parent_span_id IS NOT NULL;

DROP VIEW hops;

-- A hop: a CLIENT span whose SERVER child runs in another tier or site; raw_overhead_ns = client − server duration.
CREATE VIEW hops AS
SELECT
    c.trace_id,
    c.span_id                                    AS client_span_id,
    s.span_id                                    AS server_span_id,
    c.workload,
    c.tier                                       AS from_tier,
    s.tier                                       AS to_tier,
    c.site                                       AS from_site,
    s.site                                       AS to_site,
    c.start_ns,
    c.trace_state,
    c.duration_ns - s.duration_ns                AS raw_overhead_ns,
    coalesce(c.request_bytes, s.request_bytes)   AS request_bytes,
    coalesce(c.response_bytes, s.response_bytes) AS response_bytes
FROM hop_clients c
JOIN hop_servers s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
WHERE c.tier <> s.tier OR c.site IS DISTINCT FROM s.site;
