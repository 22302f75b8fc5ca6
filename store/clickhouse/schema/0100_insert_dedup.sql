-- 0100: a deduplication window on every table a batch writes, so that an insert repeated with the same
-- insert_deduplication_token (a rerun after a crash between a batch's rows and its ledger row) writes nothing.
-- latency_rollup too: the rollup's materialized view derives its block ids from the token, so the repeated insert
-- adds nothing there either (deduplicate_blocks_in_dependent_materialized_views, on by default). Inserts without a
-- token (the Collector's) are deduplicated by content hash, as ReplicatedMergeTree always does. Append-only.
ALTER TABLE otel_traces MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_gauge MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_sum MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_histogram MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_exponential_histogram MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_summary MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE costs MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE billing_source_totals MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE quarantine MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE latency_rollup MODIFY SETTING non_replicated_deduplication_window = 10000;
