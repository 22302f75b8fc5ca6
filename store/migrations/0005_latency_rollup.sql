-- 0005: mergeable latency histograms for long windows (append-only: never edit once merged).
-- Grain: one row per (width_ns, period_ns, tier, site, workload, workload_type, service_name, name, bucket) over the
-- request spans the latency queries count (server, consumer and root spans), at two widths: minutes (any window, at
-- minute resolution) and UTC days (long windows read whole days from far fewer rows). bucket = ceil(ln(duration_ns)
-- / ln γ), γ = 1.01/0.99 (DDSketch, α = 0.01), written ln(duration_ns) * 49.99833328888678; -1 holds durations ≤ 0.
-- Rows merge by adding n, errors and sum_duration_ns; ingest/rollup.py keeps both widths current per committed batch.
CREATE TABLE latency_rollup (
    width_ns        BIGINT   NOT NULL,  -- 60000000000 (minute) or 86400000000000 (UTC day)
    period_ns       BIGINT   NOT NULL,  -- start_ns rounded down to the width, Unix ns
    tier            VARCHAR  NOT NULL,
    site            VARCHAR,
    workload        VARCHAR,
    workload_type   VARCHAR,            -- kept so $workload_class (interactive|batch|all) filters as on spans
    service_name    VARCHAR,
    name            VARCHAR  NOT NULL,  -- operation (span name)
    bucket          INTEGER  NOT NULL,  -- log-γ bucket of duration_ns, -1 for ≤ 0
    n               BIGINT   NOT NULL,  -- spans
    errors          BIGINT   NOT NULL,  -- spans with status_code = 'error'
    sum_duration_ns BIGINT   NOT NULL   -- exact sum, so means stay exact
);

INSERT INTO latency_rollup
SELECT
    w.width_ns,
    start_ns - start_ns % w.width_ns                                                           AS period_ns,
    tier, site, workload, workload_type, service_name, name,
    CASE WHEN duration_ns <= 0 THEN -1 ELSE CAST(ceil(ln(duration_ns) * 49.99833328888678) AS INTEGER) END AS bucket,
    count(*)                                                                                   AS n,
    sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END)                                     AS errors,
    sum(duration_ns)                                                                           AS sum_duration_ns
FROM spans CROSS JOIN (VALUES (60000000000), (86400000000000)) AS w(width_ns)
WHERE kind IN ('server', 'consumer') OR parent_span_id IS NULL
GROUP BY ALL
ORDER BY width_ns, period_ns;
