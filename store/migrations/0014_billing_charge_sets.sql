-- 0014: each billing file's charges as one order-free fingerprint (ingest/billing/charges.py), so a file holding
-- exactly the charges of one ingested before (the same bill saved again with other line endings, quoting or
-- compression, or downloaded again) adds nothing. Files ingested before this migration have none: a copy of one of
-- them is loaded once more. Append-only: never edit once merged.
CREATE TABLE billing_charge_sets (
    content_sha256      VARCHAR PRIMARY KEY,
    source_format       VARCHAR NOT NULL,   -- x_SourceFormat
    container           VARCHAR NOT NULL,   -- csv (plain or gzip) | parquet | jsonl | yaml
    charges             VARCHAR NOT NULL,   -- Σ hash(charge) over the ledger rows, plus Σ hash(field, excerpt) over the rejects
    rows                BIGINT NOT NULL     -- ledger rows + rejected rows
);
