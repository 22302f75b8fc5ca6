-- 0003: the hop between tiers, defined once: a CLIENT span whose SERVER child runs in another tier or site.
-- raw_overhead_ns is client minus server duration (network + queue; needs no clock agreement, may be < 0).
CREATE VIEW hops AS
SELECT
    c.trace_id,
    c.span_id                                    AS client_span_id,
    s.span_id                                    AS server_span_id,
    c.workload,
    c.tier                                       AS from_tier,
    s.tier                                       AS to_tier,
    c.site                                       AS from_site,
    s.site                                       AS to_site,
    c.start_ns,
    c.trace_state,
    c.duration_ns - s.duration_ns                AS raw_overhead_ns,
    coalesce(c.request_bytes, s.request_bytes)   AS request_bytes,
    coalesce(c.response_bytes, s.response_bytes) AS response_bytes
FROM spans c
JOIN spans s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
WHERE c.kind = 'client' AND s.kind = 'server'
  AND (c.tier <> s.tier OR c.site IS DISTINCT FROM s.site);
