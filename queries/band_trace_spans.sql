-- One row per span of the traces near each workload's p50 and p95 end-to-end time (the critical-path inputs), with
-- the trace's band flags. Parameters: $workload (the trace's, as named below: its rows equal the all-workload rows of
-- that workload), $start_ns/$end_ns (root start, Unix ns, NULL = unbounded),
-- $band (rank distance from 0.50/0.95, always at least the nearest trace), $traces_per_band (cap per workload and band,
-- kept by lowest md5(trace_id); NULL = all). Roots come from the per-trace index, keyed by numbers (trace_root_keys),
-- until the chosen traces' spans are fetched. Units: start_ns/end_ns/e2e_ns Unix ns / ns; in_p50/in_p95 booleans.
WITH in_window AS NOT MATERIALIZED (  -- the roots that start in the window (inlined where read)
    SELECT * FROM trace_root_keys
    WHERE ($start_ns IS NULL OR start_ns >= $start_ns) AND ($end_ns IS NULL OR start_ns < $end_ns)
),
wanted AS (  -- traces that may be $workload's: a filtered scan, so only they are grouped
    SELECT DISTINCT trace_key, odd_id FROM in_window
    WHERE workload = $workload OR workload IS NULL  -- a root without one may take $workload from its spans
),
roots AS (  -- the longest parentless span of each wanted trace, as the critical path picks its root; a trace is its
            -- trace_key (every id ingest writes), else the odd_id text
    SELECT trace_key, NULL::VARCHAR AS odd_id, any_value(sample_key) AS sample_key,
           arg_max(workload, duration_ns) AS root_workload, max(duration_ns) AS e2e_ns
    FROM in_window
    WHERE trace_key IS NOT NULL AND ($workload IS NULL OR trace_key IN (SELECT trace_key FROM wanted))
    GROUP BY trace_key
    UNION ALL
    SELECT NULL, odd_id, any_value(sample_key), arg_max(workload, duration_ns), max(duration_ns)
    FROM in_window
    WHERE odd_id IS NOT NULL AND ($workload IS NULL OR odd_id IN (SELECT odd_id FROM wanted))
    GROUP BY odd_id
),
named AS NOT MATERIALIZED (  -- a root without a workload takes the first one any span of its trace declares
    SELECT trace_key, odd_id, sample_key, e2e_ns, root_workload AS workload
    FROM roots WHERE e2e_ns > 0 AND root_workload IS NOT NULL
      AND ($workload IS NULL OR root_workload = $workload)
    UNION ALL
    SELECT r.trace_key, r.odd_id, r.sample_key, r.e2e_ns, coalesce(d.workload, '')
    FROM (SELECT *, coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0')) AS trace_id
          FROM roots WHERE e2e_ns > 0 AND root_workload IS NULL) r
    LEFT JOIN (SELECT trace_id, arg_min(workload, start_ns) AS workload
               FROM spans
               WHERE workload IS NOT NULL
                 AND trace_id IN (SELECT coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0'))
                                  FROM roots WHERE root_workload IS NULL)
               GROUP BY trace_id) d USING (trace_id)
    WHERE ($workload IS NULL OR coalesce(d.workload, '') = $workload)
),
sizes AS (  -- per workload: a number (wid), n traces, m = max(n - 1, 1), and for each band e2e values at least
            -- 2 ranks outside it
    SELECT workload, row_number() OVER (ORDER BY workload) AS wid, n, m,
           CASE WHEN n < 400 THEN lo ELSE v[1] END AS lo50, CASE WHEN n < 400 THEN hi ELSE v[2] END AS hi50,
           CASE WHEN n < 400 THEN lo ELSE v[3] END AS lo95, CASE WHEN n < 400 THEN hi ELSE v[4] END AS hi95
    FROM (SELECT workload, count(*) AS n, greatest(count(*) - 1, 1) AS m, min(e2e_ns) AS lo, max(e2e_ns) AS hi,
                 quantile_disc(e2e_ns, [greatest(0.5 - $band - 0.01, 0.0), least(0.5 + $band + 0.01, 1.0),
                                        greatest(0.95 - $band - 0.01, 0.0), least(0.95 + $band + 0.01, 1.0)]) AS v
          FROM named GROUP BY workload)
),
scoped AS MATERIALIZED (  -- each trace's place against its workload's bounds, per band: -1 below lo, 0 at lo,
                          -- 1 above lo up to hi, 2 above hi (one equi-join on the few sizes rows)
    SELECT t.trace_key, t.odd_id, t.sample_key, z.wid, t.e2e_ns,
           sign(t.e2e_ns - z.lo50) + (t.e2e_ns > z.hi50)::INTEGER AS at50,
           sign(t.e2e_ns - z.lo95) + (t.e2e_ns > z.hi95)::INTEGER AS at95
    FROM named t JOIN sizes z ON z.workload = t.workload
),
placed AS (  -- how many of the workload's traces are faster than each band's lo: the rank offset of its candidates
    SELECT z.wid, z.n, z.m, p.below50, p.below95
    FROM (SELECT wid, count(*) FILTER (WHERE at50 < 0) AS below50, count(*) FILTER (WHERE at95 < 0) AS below95
          FROM scoped GROUP BY wid) p
    JOIN sizes z ON z.wid = p.wid
),
candidates AS (  -- the traces from lo to hi of either band, once per band
    SELECT 0.5 AS q, trace_key, odd_id, sample_key, wid, e2e_ns FROM scoped WHERE at50 IN (0, 1)
    UNION ALL
    SELECT 0.95, trace_key, odd_id, sample_key, wid, e2e_ns FROM scoped WHERE at95 IN (0, 1)
),
ranked AS (  -- exact rank of the candidates (ties by trace_id; an odd_id after every hex id): those below + own place
    SELECT c.q, c.trace_key, c.odd_id, c.sample_key, c.wid, p.m, p.n,
           ((CASE WHEN c.q = 0.5 THEN p.below50 ELSE p.below95 END)
            + row_number() OVER (PARTITION BY c.wid, c.q ORDER BY c.e2e_ns, c.trace_key, c.odd_id) - 1)
           / p.m AS e2e_rank
    FROM candidates c
    JOIN placed p ON p.wid = c.wid
),
banded AS (  -- rank within $band of q, or (no trace that close) the nearest: the rule of critical_path.pick_traces
    SELECT q, trace_key, odd_id, sample_key, wid
    FROM ranked
    WHERE abs(e2e_rank - q) <= $band + 1e-12
       OR abs(e2e_rank - q) = least(abs(least(floor(q * m), n - 1.0) / m - q), abs(least(ceil(q * m), n - 1.0) / m - q))
),
sampled AS (  -- at most $traces_per_band per workload and band, lowest md5(trace_id) (sample_key) first
    SELECT coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0')) AS trace_id,
           bool_or(q = 0.5) AS in_p50, bool_or(q = 0.95) AS in_p95
    FROM (SELECT q, trace_key, odd_id,
                 row_number() OVER (PARTITION BY wid, q ORDER BY sample_key, trace_key, odd_id) AS pick
          FROM banded)
    WHERE $traces_per_band IS NULL OR pick <= $traces_per_band
    GROUP BY trace_key, odd_id
)
SELECT s.trace_id, s.span_id, s.parent_span_id, s.start_ns, s.end_ns, s.service_name, s.name, s.tier, s.kind,
       s.site, s.workload, b.in_p50, b.in_p95
FROM spans s
JOIN sampled b USING (trace_id)
ORDER BY s.trace_id, s.start_ns, s.span_id
