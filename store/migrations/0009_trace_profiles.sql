-- 0009: each trace's attribute values beside its roots, so slow_attribute_counts reads about one row per trace instead
-- of every span and its resource JSON. ingest/trace_index.py appends each committed batch's rows; the INSERT below is
-- the frozen backfill (append-only: never edit once merged).
CREATE TABLE trace_profiles (   -- per trace and batch: one row per parentless span there, else one row without a root
    trace_id        VARCHAR NOT NULL,
    workload        VARCHAR,           -- the root span's
    start_ns        BIGINT,            -- the root's start, Unix ns; NULL: the batch holds no root of this trace
    duration_ns     BIGINT,            -- the root's
    profile         VARCHAR NOT NULL   -- JSON {"site", "tier", "gen_ai_model", "device_model", "cache", "data_class"}:
                                       -- each the sorted distinct values of the trace's spans in the batch
);

INSERT INTO trace_profiles
WITH vals AS (
    SELECT DISTINCT trace_id, site, tier, gen_ai_model,
           CASE WHEN contains(resource_attributes::VARCHAR, 'device.model.identifier')
                THEN resource_attributes->>'device.model.identifier' END AS device_model,
           CASE WHEN cache_hit THEN 'hit' WHEN NOT cache_hit THEN 'miss' END AS cache, data_class
    FROM spans WHERE trace_id IS NOT NULL
),
profiles AS (
    SELECT trace_id,
           to_json({'site': list_sort(list_distinct(list(site))), 'tier': list_sort(list_distinct(list(tier))),
                    'gen_ai_model': list_sort(list_distinct(list(gen_ai_model))),
                    'device_model': list_sort(list_distinct(list(device_model))),
                    'cache': list_sort(list_distinct(list(cache))),
                    'data_class': list_sort(list_distinct(list(data_class)))})::VARCHAR AS profile
    FROM vals GROUP BY trace_id
)
SELECT p.trace_id, r.workload, r.start_ns, r.duration_ns, p.profile
FROM profiles p
LEFT JOIN (SELECT trace_id, workload, start_ns, duration_ns FROM spans
           WHERE parent_span_id IS NULL AND trace_id IS NOT NULL) r ON r.trace_id = p.trace_id;
