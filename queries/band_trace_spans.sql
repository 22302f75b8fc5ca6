-- One row per span of the traces near each workload's p50 and p95 end-to-end time (the critical-path inputs), with
-- the trace's band flags. Parameters: $workload (the trace's, as named below: its rows equal the all-workload rows of
-- that workload), $start_ns/$end_ns (root start, Unix ns, NULL = unbounded),
-- $band (rank distance from 0.50/0.95, always at least the nearest trace), $traces_per_band (cap per workload and band,
-- kept by lowest md5(trace_id); NULL = all). Roots come from the per-trace index (trace_roots). Units: start_ns/end_ns/
-- e2e_ns Unix ns / ns; in_p50/in_p95 booleans.
WITH wanted AS (  -- traces that may be $workload's, in the window: a filtered scan, so only they are grouped
    SELECT DISTINCT trace_id
    FROM trace_roots
    WHERE (workload = $workload OR workload IS NULL)  -- a root without one may take $workload from its spans
      AND ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
),
roots AS (  -- the longest parentless span of each wanted trace, as the critical path picks its root
    SELECT trace_id, arg_max(workload, duration_ns) AS root_workload, max(duration_ns) AS e2e_ns, TRUE AS wanted
    FROM trace_roots
    WHERE ($start_ns IS NULL OR start_ns >= $start_ns)
      AND ($end_ns IS NULL OR start_ns < $end_ns)
      AND ($workload IS NULL OR trace_id IN (SELECT trace_id FROM wanted))
    GROUP BY trace_id
),
named AS NOT MATERIALIZED (  -- a root without a workload takes the first one any span of its trace declares
    SELECT trace_id, e2e_ns, root_workload AS workload
    FROM roots WHERE wanted AND e2e_ns > 0 AND root_workload IS NOT NULL
      AND ($workload IS NULL OR root_workload = $workload)
    UNION ALL
    SELECT r.trace_id, r.e2e_ns, coalesce(d.workload, '')
    FROM roots r
    LEFT JOIN (SELECT trace_id, arg_min(workload, start_ns) AS workload
               FROM spans
               WHERE workload IS NOT NULL AND trace_id IN (SELECT trace_id FROM roots WHERE root_workload IS NULL)
               GROUP BY trace_id) d USING (trace_id)
    WHERE r.wanted AND r.e2e_ns > 0 AND r.root_workload IS NULL
      AND ($workload IS NULL OR coalesce(d.workload, '') = $workload)
),
sizes AS (  -- per workload: n traces, m = max(n - 1, 1), and for each band e2e values at least 2 ranks outside it
    SELECT workload, n, m,
           CASE WHEN n < 400 THEN lo ELSE v[1] END AS lo50, CASE WHEN n < 400 THEN hi ELSE v[2] END AS hi50,
           CASE WHEN n < 400 THEN lo ELSE v[3] END AS lo95, CASE WHEN n < 400 THEN hi ELSE v[4] END AS hi95
    FROM (SELECT workload, count(*) AS n, greatest(count(*) - 1, 1) AS m, min(e2e_ns) AS lo, max(e2e_ns) AS hi,
                 quantile_disc(e2e_ns, [greatest(0.5 - $band - 0.01, 0.0), least(0.5 + $band + 0.01, 1.0),
                                        greatest(0.95 - $band - 0.01, 0.0), least(0.95 + $band + 0.01, 1.0)]) AS v
          FROM named GROUP BY workload)
),
scoped AS MATERIALIZED (  -- each trace beside its workload's bounds: an equi-join on the few sizes rows
    SELECT t.trace_id, t.workload, t.e2e_ns, z.n, z.m, z.lo50, z.hi50, z.lo95, z.hi95
    FROM named t JOIN sizes z ON z.workload = t.workload
),
placed AS (  -- how many of the workload's traces are faster than each band's lo: the rank offset of its candidates
    SELECT workload, count(*) FILTER (WHERE e2e_ns < lo50) AS below50, count(*) FILTER (WHERE e2e_ns < lo95) AS below95
    FROM scoped GROUP BY workload
),
candidates AS (  -- the traces from lo to hi of either band, once per band
    SELECT 0.5 AS q, trace_id, workload, e2e_ns, n, m FROM scoped WHERE e2e_ns BETWEEN lo50 AND hi50
    UNION ALL
    SELECT 0.95, trace_id, workload, e2e_ns, n, m FROM scoped WHERE e2e_ns BETWEEN lo95 AND hi95
),
ranked AS (  -- exact rank (ties by trace_id) of the candidates: those below + own place
    SELECT c.q, c.trace_id, c.workload, c.m, c.n,
           ((CASE WHEN c.q = 0.5 THEN p.below50 ELSE p.below95 END)
            + row_number() OVER (PARTITION BY c.workload, c.q ORDER BY c.e2e_ns, c.trace_id) - 1) / c.m AS e2e_rank
    FROM candidates c
    JOIN placed p ON p.workload = c.workload
),
banded AS (  -- rank within $band of q, or (no trace that close) the nearest: the rule of critical_path.pick_traces
    SELECT q, trace_id, workload
    FROM ranked
    WHERE abs(e2e_rank - q) <= $band + 1e-12
       OR abs(e2e_rank - q) = least(abs(least(floor(q * m), n - 1.0) / m - q), abs(least(ceil(q * m), n - 1.0) / m - q))
),
sampled AS (
    SELECT trace_id, bool_or(q = 0.5) AS in_p50, bool_or(q = 0.95) AS in_p95
    FROM (SELECT q, trace_id, row_number() OVER (PARTITION BY workload, q ORDER BY md5(trace_id), trace_id) AS pick
          FROM banded)
    WHERE $traces_per_band IS NULL OR pick <= $traces_per_band
    GROUP BY trace_id
)
SELECT s.trace_id, s.span_id, s.parent_span_id, s.start_ns, s.end_ns, s.service_name, s.name, s.tier, s.kind,
       s.site, s.workload, b.in_p50, b.in_p95
FROM spans s
JOIN sampled b USING (trace_id)
ORDER BY s.trace_id, s.start_ns, s.span_id
