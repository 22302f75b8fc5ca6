-- 0001: spans, metric points, the ingest ledger and quarantine (append-only: never edit once merged).
CREATE TABLE spans (
    trace_id            VARCHAR,        -- 32 lowercase hex, NULL when the source had none
    span_id             VARCHAR,        -- 16 lowercase hex
    parent_span_id      VARCHAR,        -- NULL for roots
    trace_state         VARCHAR,
    flags               UBIGINT,
    name                VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,   -- internal|server|client|producer|consumer|unspecified
    status_code         VARCHAR NOT NULL,   -- unset|ok|error
    status_message      VARCHAR,
    service_name        VARCHAR,
    tier                VARCHAR NOT NULL,   -- device|edge|regional|hyperscale|unknown
    tier_source         VARCHAR NOT NULL,   -- declared|derived:*|unknown
    site                VARCHAR,
    workload            VARCHAR,
    workload_type       VARCHAR,
    data_class          VARCHAR,
    latency_budget_ms   DOUBLE,
    host_name           VARCHAR,
    start_ns            BIGINT NOT NULL,
    end_ns              BIGINT NOT NULL,
    duration_ns         BIGINT NOT NULL,
    cache_hit           BOOLEAN,
    cache_name          VARCHAR,
    gen_ai_model        VARCHAR,
    input_tokens        BIGINT,
    output_tokens       BIGINT,
    cache_read_tokens   BIGINT,
    request_bytes       BIGINT,
    response_bytes      BIGINT,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    resource_attributes JSON,
    scope_attributes    JSON,
    attributes          JSON,
    events              JSON,           -- [{time_ns, name, attributes}]
    links               JSON,           -- [{trace_id, span_id, trace_state, attributes}]
    dropped_attributes_count UINTEGER,
    dropped_events_count     UINTEGER,
    dropped_links_count      UINTEGER,
    batch_key           VARCHAR NOT NULL
);

CREATE TABLE metric_points (
    metric_name         VARCHAR NOT NULL,
    description         VARCHAR,
    unit                VARCHAR,
    metric_type         VARCHAR NOT NULL,   -- gauge|sum|histogram|exponential_histogram|summary
    temporality         VARCHAR,            -- delta|cumulative
    is_monotonic        BOOLEAN,
    time_ns             BIGINT NOT NULL,
    start_time_ns       BIGINT,
    value               DOUBLE,             -- gauge and sum points
    count               UBIGINT,
    sum                 DOUBLE,
    min                 DOUBLE,
    max                 DOUBLE,
    bucket_counts       UBIGINT[],
    explicit_bounds     DOUBLE[],
    scale               INTEGER,
    zero_count          UBIGINT,
    zero_threshold      DOUBLE,
    positive_offset     INTEGER,
    positive_bucket_counts UBIGINT[],
    negative_offset     INTEGER,
    negative_bucket_counts UBIGINT[],
    quantile_values     JSON,               -- summary points: [{quantile, value}]
    exemplars           JSON,
    flags               UBIGINT,
    canonical_name      VARCHAR,            -- gpu_utilization_ratio, queue_depth, ... (see ingest/contract.py)
    canonical_value     DOUBLE,
    service_name        VARCHAR,
    tier                VARCHAR NOT NULL,
    tier_source         VARCHAR NOT NULL,
    site                VARCHAR,
    workload            VARCHAR,
    host_name           VARCHAR,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    resource_attributes JSON,
    attributes          JSON,
    batch_key           VARCHAR NOT NULL
);

CREATE TABLE ingest_files (
    content_sha256  VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    signal          VARCHAR,
    format          VARCHAR,
    size_bytes      BIGINT,
    status          VARCHAR NOT NULL,   -- complete|partial|unreadable
    message         VARCHAR,
    rows_accepted   BIGINT NOT NULL,
    rows_rejected   BIGINT NOT NULL,
    rows_skipped    BIGINT NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ
);

CREATE TABLE ingest_batches (
    content_sha256  VARCHAR NOT NULL,
    batch_index     INTEGER NOT NULL,
    batch_key       VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    rows_accepted   BIGINT NOT NULL,
    rows_rejected   BIGINT NOT NULL,
    rows_skipped    BIGINT NOT NULL,
    committed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (content_sha256, batch_index)
);

CREATE TABLE quarantine (
    content_sha256  VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    batch_index     INTEGER NOT NULL,
    record_no       BIGINT NOT NULL,    -- line number (JSON lines) or record number (protobuf), 1-based
    item            VARCHAR,            -- e.g. resourceSpans[0].scopeSpans[1].spans[4]
    field           VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    excerpt         VARCHAR,
    quarantined_at  TIMESTAMPTZ NOT NULL
);
