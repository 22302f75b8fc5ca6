-- One row per span of the traces near each workload's p50 and p95 end-to-end time (the critical-path inputs), with
-- the trace's band flags. Parameters: $workload (the trace's, as named below: its rows equal the all-workload rows of
-- that workload), $start_ns/$end_ns (root start, Unix ns, NULL = unbounded),
-- $band (rank distance from 0.50/0.95, always at least the nearest trace), $traces_per_band (cap per workload and band,
-- kept by lowest md5(trace_id); NULL = all). Roots come from the per-trace index, keyed by numbers (trace_root_keys;
-- trace_root_dups lists the traces with several root rows), until the chosen traces' spans are fetched.
-- Units: start_ns/end_ns/e2e_ns Unix ns / ns; in_p50/in_p95 booleans.
WITH in_window AS NOT MATERIALIZED (  -- the roots that start in the window (inlined where read)
    SELECT * FROM trace_root_keys
    WHERE ($start_ns IS NULL OR start_ns >= $start_ns) AND ($end_ns IS NULL OR start_ns < $end_ns)
),
names AS (  -- a number (wid) per workload the window's roots declare, so the steps below group and join on integers
    SELECT workload, row_number() OVER (ORDER BY workload) AS wid
    FROM (SELECT DISTINCT workload FROM in_window WHERE workload IS NOT NULL)
),
wanted AS (  -- traces that may be $workload's: a filtered scan, so only they are read
    SELECT DISTINCT trace_key, odd_id FROM in_window
    WHERE workload = $workload OR workload IS NULL  -- a root without one may take $workload from its spans
),
keyed AS NOT MATERIALIZED (  -- the window's roots with their workload's number
    SELECT r.trace_key, r.odd_id, r.sample_key, r.duration_ns, n.wid
    FROM in_window r LEFT JOIN names n ON n.workload = r.workload
),
roots AS (  -- each wanted trace's root: its one trace_root_keys row, or for a trace listed in trace_root_dups (several
            -- rows) the longest, as the critical path picks its root; a trace is its trace_key (every id ingest
            -- writes), else the odd_id text
    SELECT trace_key, odd_id, sample_key, wid AS root_wid, duration_ns AS e2e_ns
    FROM keyed
    WHERE ($workload IS NULL OR trace_key IN (SELECT trace_key FROM wanted) OR odd_id IN (SELECT odd_id FROM wanted))
      AND (trace_key IS NOT NULL
               AND trace_key NOT IN (SELECT trace_key FROM trace_root_dups WHERE trace_key IS NOT NULL)
           OR odd_id IS NOT NULL AND odd_id NOT IN (SELECT odd_id FROM trace_root_dups WHERE odd_id IS NOT NULL))
    UNION ALL
    SELECT any_value(k.trace_key), any_value(k.odd_id), any_value(k.sample_key), arg_max(k.wid, k.duration_ns),
           max(k.duration_ns)
    FROM keyed k
    JOIN trace_root_dups d ON d.trace_key IS NOT DISTINCT FROM k.trace_key AND d.odd_id IS NOT DISTINCT FROM k.odd_id
    WHERE ($workload IS NULL OR k.trace_key IN (SELECT trace_key FROM wanted)
           OR k.odd_id IN (SELECT odd_id FROM wanted))
    GROUP BY k.trace_key, k.odd_id
),
declared AS (  -- a root without a workload takes the first one any span of its trace declares
    SELECT r.trace_key, r.odd_id, r.sample_key, r.e2e_ns, coalesce(d.workload, '') AS workload
    FROM (SELECT *, coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0')) AS trace_id
          FROM roots WHERE e2e_ns > 0 AND root_wid IS NULL) r
    LEFT JOIN (SELECT trace_id, arg_min(workload, start_ns) AS workload
               FROM spans
               WHERE workload IS NOT NULL
                 AND trace_id IN (SELECT coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0'))
                                  FROM roots WHERE root_wid IS NULL)
               GROUP BY trace_id) d USING (trace_id)
),
every_name AS (  -- the roots' numbers, then one for each name only spans declare
    SELECT workload, wid FROM names
    UNION ALL
    SELECT workload, (SELECT count(*) FROM names) + row_number() OVER (ORDER BY workload)
    FROM (SELECT DISTINCT workload FROM declared WHERE workload NOT IN (SELECT workload FROM names))
),
named AS NOT MATERIALIZED (  -- every trace with its workload's number
    SELECT trace_key, odd_id, sample_key, e2e_ns, root_wid AS wid
    FROM roots WHERE e2e_ns > 0 AND root_wid IS NOT NULL
      AND ($workload IS NULL OR root_wid = (SELECT wid FROM names WHERE workload = $workload))
    UNION ALL
    SELECT d.trace_key, d.odd_id, d.sample_key, d.e2e_ns, e.wid
    FROM declared d JOIN every_name e USING (workload)
    WHERE ($workload IS NULL OR d.workload = $workload)
),
sizes AS (  -- per workload (wid): n traces, m = max(n - 1, 1), and per band its outer bounds o1/o2 (at least 2
            -- ranks outside the band) and inner bounds i1/i2 (at least 2 ranks inside it): quantile_disc's value is
            -- within one rank of q·m, so 0.002·m is 4 ranks of margin once n ≥ 2000 (below that, the whole range is
            -- one edge zone); and cut, a bound on sample_key under which about 2·$traces_per_band + 64
            -- traces of the band's inside fall (md5 digests are uniform), NULL when the inside is not much larger
    SELECT wid, n, m,
           CASE WHEN n < 2000 THEN lo ELSE v[1] END AS o1_50, CASE WHEN n < 2000 THEN hi ELSE v[2] END AS i1_50,
           CASE WHEN n < 2000 THEN lo ELSE v[3] END AS i2_50, CASE WHEN n < 2000 THEN hi ELSE v[4] END AS o2_50,
           CASE WHEN n < 2000 THEN lo ELSE v[5] END AS o1_95, CASE WHEN n < 2000 THEN hi ELSE v[6] END AS i1_95,
           CASE WHEN n < 2000 THEN lo ELSE v[7] END AS i2_95, CASE WHEN n < 2000 THEN hi ELSE v[8] END AS o2_95,
           CASE WHEN n >= 2000 AND inside > 4 * $traces_per_band + 128
                THEN ((2 * $traces_per_band + 64) / inside * 340282366920938463463374607431768211455.0)::UHUGEINT END AS cut
    FROM (SELECT wid, count(*) AS n, greatest(count(*) - 1, 1) AS m, min(e2e_ns) AS lo, max(e2e_ns) AS hi,
                 (2 * $band - 0.004) * (count(*) - 1) - 2 AS inside,
                 quantile_disc(e2e_ns, [greatest(0.5 - $band - 0.002, 0.0),
                                        least(greatest(0.5 - $band + 0.002, 0.0), 1.0),
                                        greatest(least(0.5 + $band - 0.002, 1.0), 0.0),
                                        least(0.5 + $band + 0.002, 1.0),
                                        greatest(0.95 - $band - 0.002, 0.0),
                                        least(greatest(0.95 - $band + 0.002, 0.0), 1.0),
                                        greatest(least(0.95 + $band - 0.002, 1.0), 0.0),
                                        least(0.95 + $band + 0.002, 1.0)]) AS v
          FROM named GROUP BY wid)
),
scoped AS MATERIALIZED (  -- each trace's zone per band: -1 below o1, 0 the low edge [o1, i1] (or all of [o1, o2] when
                          -- the band has no inside), 1 inside (i1, i2), 2 the high edge [i2, o2], 3 above o2; low: its
                          -- sample key is under the cut
    SELECT t.trace_key, t.odd_id, t.sample_key, z.wid, t.e2e_ns,
           CASE WHEN t.e2e_ns < z.o1_50 THEN -1 WHEN t.e2e_ns > z.o2_50 THEN 3
                WHEN z.i1_50 >= z.i2_50 OR t.e2e_ns <= z.i1_50 THEN 0 WHEN t.e2e_ns < z.i2_50 THEN 1 ELSE 2 END AS at50,
           CASE WHEN t.e2e_ns < z.o1_95 THEN -1 WHEN t.e2e_ns > z.o2_95 THEN 3
                WHEN z.i1_95 >= z.i2_95 OR t.e2e_ns <= z.i1_95 THEN 0 WHEN t.e2e_ns < z.i2_95 THEN 1 ELSE 2 END AS at95,
           z.cut IS NULL OR t.sample_key < z.cut AS low
    FROM named t JOIN sizes z ON z.wid = t.wid
),
placed AS (  -- how many of the workload's traces come before each edge zone (its rank offset), and how many of each
             -- band's inside are low
    SELECT z.wid, z.n, z.m, p.lo50, p.hi50, p.lo95, p.hi95, p.low50, p.low95
    FROM (SELECT wid, count(*) FILTER (WHERE at50 < 0) AS lo50, count(*) FILTER (WHERE at50 < 2) AS hi50,
                 count(*) FILTER (WHERE at95 < 0) AS lo95, count(*) FILTER (WHERE at95 < 2) AS hi95,
                 count(*) FILTER (WHERE at50 = 1 AND low) AS low50, count(*) FILTER (WHERE at95 = 1 AND low) AS low95
          FROM scoped GROUP BY wid) p
    JOIN sizes z ON z.wid = p.wid
),
edges AS (  -- the traces of either edge zone of either band, once per band and zone
    SELECT 0.5 AS q, at50 AS zone, trace_key, odd_id, sample_key, wid, e2e_ns FROM scoped WHERE at50 IN (0, 2)
    UNION ALL
    SELECT 0.95, at95, trace_key, odd_id, sample_key, wid, e2e_ns FROM scoped WHERE at95 IN (0, 2)
),
ranked AS (  -- exact rank of the edge traces (ties by trace_id; an odd_id after every hex id): those before + own place
    SELECT c.q, c.trace_key, c.odd_id, c.sample_key, c.wid, p.m, p.n,
           ((CASE WHEN c.q = 0.5 AND c.zone = 0 THEN p.lo50 WHEN c.q = 0.5 THEN p.hi50
                  WHEN c.zone = 0 THEN p.lo95 ELSE p.hi95 END)
            + row_number() OVER (PARTITION BY c.wid, c.q, c.zone ORDER BY c.e2e_ns, c.trace_key, c.odd_id) - 1)
           / p.m AS e2e_rank
    FROM edges c
    JOIN placed p ON p.wid = c.wid
),
pool AS (  -- the band's traces that may be sampled: the low ones of its inside (all of it when fewer than
           -- $traces_per_band are low, so a band's lowest sample keys are always here), and its edge traces whose rank
           -- is within $band of q or, no trace being that close, the nearest: the rule of critical_path.pick_traces
    SELECT 0.5 AS q, trace_key, odd_id, sample_key, wid FROM scoped
    WHERE at50 = 1 AND (low OR wid IN (SELECT wid FROM placed WHERE low50 < $traces_per_band))
    UNION ALL
    SELECT 0.95, trace_key, odd_id, sample_key, wid FROM scoped
    WHERE at95 = 1 AND (low OR wid IN (SELECT wid FROM placed WHERE low95 < $traces_per_band))
    UNION ALL
    SELECT q, trace_key, odd_id, sample_key, wid
    FROM ranked
    WHERE abs(e2e_rank - q) <= $band + 1e-12
       OR abs(e2e_rank - q) = least(abs(least(floor(q * m), n - 1.0) / m - q),
                                    abs(least(ceil(q * m), n - 1.0) / m - q))
),
sampled AS (  -- at most $traces_per_band per workload and band, lowest md5(trace_id) (sample_key) first
    SELECT coalesce(odd_id, lpad(lower(hex(trace_key)), 32, '0')) AS trace_id,
           bool_or(q = 0.5) AS in_p50, bool_or(q = 0.95) AS in_p95
    FROM (SELECT q, trace_key, odd_id,
                 row_number() OVER (PARTITION BY wid, q ORDER BY sample_key, trace_key, odd_id) AS pick
          FROM pool)
    WHERE $traces_per_band IS NULL OR pick <= $traces_per_band
    GROUP BY trace_key, odd_id
)
SELECT s.trace_id, s.span_id, s.parent_span_id, s.start_ns, s.end_ns, s.service_name, s.name, s.tier, s.kind,
       s.site, s.workload, b.in_p50, b.in_p95
FROM spans s
JOIN sampled b USING (trace_id)
ORDER BY s.trace_id, s.start_ns, s.span_id
