-- supersedes: 0100
-- 0102: the deduplication window on the tables tierwise owns, and none on the exporter's: 0100 also altered
-- otel_traces and the metric tables, which belong to the Collector when it made them. `tierwise_owned_tables` lists
-- the exporter-layout tables the schema step created itself (store/clickhouse/schema.py records them and gives
-- them the same window); `ingest_batch_intents` marks each batch the loader starts writing into an exporter table
-- without such a window, so that a rerun after a crash first checks which of its rows are already there
-- (ingest/sinks/clickhouse.py). A store that has not applied 0100 records it without running it. Append-only.
CREATE TABLE IF NOT EXISTS tierwise_owned_tables (
    name        String,
    created_at  DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY name;

CREATE TABLE IF NOT EXISTS ingest_batch_intents (
    content_sha256  String,
    batch_index     Int32,
    started_at      DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (content_sha256, batch_index);

ALTER TABLE costs MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE billing_source_totals MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE quarantine MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE latency_rollup MODIFY SETTING non_replicated_deduplication_window = 10000;
