-- 0012: the traces that hold more than one trace_root_keys row (several parentless spans, or roots in several committed
-- batches), so band_trace_spans takes every other trace's one row as its root and groups only these.
-- ingest/trace_index.py adds each committed batch's new ones; the INSERT below is the frozen backfill (append-only:
-- never edit once merged).
CREATE TABLE trace_root_dups (  -- one row per such trace, keyed as trace_root_keys
    trace_key       UHUGEINT,
    odd_id          VARCHAR
);

INSERT INTO trace_root_dups
SELECT trace_key, odd_id
FROM trace_root_keys
GROUP BY trace_key, odd_id
HAVING count(*) > 1;
