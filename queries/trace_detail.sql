-- One row per span of one trace, in start order, with what the trace view shows (status, attributes, events).
-- Parameters: $trace_id (32 lowercase hex). Units: start_ns/end_ns Unix ns, duration_ms milliseconds, *_bytes bytes.
SELECT span_id, parent_span_id, start_ns, end_ns, duration_ns / 1e6 AS duration_ms, service_name, name, tier, kind,
       site, workload, status_code, status_message, request_bytes, response_bytes, gen_ai_model, cache_hit,
       attributes::VARCHAR AS attributes, events::VARCHAR AS events
FROM spans
WHERE trace_id = $trace_id
ORDER BY start_ns, span_id
