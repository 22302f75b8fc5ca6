-- 0103: the roll-up backfill's ledger (store/clickhouse/backfill.py): one row per UTC day of otel_traces whose
-- roll-ups (latency_rollup and 0091's day tables) were made equal to a recomputation over that day's spans, under
-- the roll-up definition named by `definition` (a digest of 0090 and 0091). A day without a row for the current
-- definition is backfilled by the next `tierwise migrate --engine clickhouse`. Append-only.
CREATE TABLE IF NOT EXISTS rollup_backfill_days (
    day             Date,
    definition      String,
    spans           UInt64,
    rows_changed    UInt64,
    done_at         DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree(done_at)
ORDER BY (definition, day);
