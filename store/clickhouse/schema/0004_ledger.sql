-- 0004: the ingest ledger and quarantine (same columns as the DuckDB store's), plus the contract rules the views
-- read: tier derivation rules from tierwise.toml and the metric aliases of ingest/contract.py. Append-only.
CREATE TABLE IF NOT EXISTS ingest_files (
    content_sha256  String,
    source          String,
    signal          Nullable(String),
    format          Nullable(String),
    size_bytes      Nullable(Int64),
    status          String,             -- complete|partial|unreadable
    message         Nullable(String),
    rows_accepted   Int64,
    rows_rejected   Int64,
    rows_skipped    Int64,
    first_seen_at   DateTime64(6, 'UTC'),
    completed_at    Nullable(DateTime64(6, 'UTC'))
) ENGINE = ReplacingMergeTree    -- the last row written for a file wins (read with FINAL)
ORDER BY content_sha256;

CREATE TABLE IF NOT EXISTS ingest_batches (
    content_sha256  String,
    batch_index     Int32,
    batch_key       String,
    source          String,
    rows_accepted   Int64,
    rows_rejected   Int64,
    rows_skipped    Int64,
    committed_at    DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (content_sha256, batch_index);

CREATE TABLE IF NOT EXISTS quarantine (
    content_sha256  String,
    source          String,
    batch_index     Int32,
    record_no       Int64,              -- line number (JSON lines) or record number (protobuf), 1-based
    item            Nullable(String),
    field           String,
    reason          String,
    excerpt         Nullable(String),
    quarantined_at  DateTime64(6, 'UTC')
) ENGINE = MergeTree
ORDER BY (content_sha256, batch_index, record_no);

-- rule: edge_host|edge_site|edge_platform (key = the name, tier = 'edge'), region (key = cloud.region),
-- default_cloud (key = ''); rewritten from the settings by every `tierwise ingest --engine clickhouse`.
CREATE TABLE IF NOT EXISTS tier_rules (
    rule    String,
    key     String,
    tier    String
) ENGINE = MergeTree
ORDER BY (rule, key);

CREATE TABLE IF NOT EXISTS metric_aliases (
    metric_name     String,
    canonical_name  String,
    scale           Float64,
    unit            String
) ENGINE = MergeTree
ORDER BY metric_name;
