-- ClickHouse form of queries/slow_attribute_counts.sql (same rows; tests/test_engine_parity.py checks it against DuckDB).
-- Why a per-engine file: the DuckDB query codes each trace's attribute values as bit masks via list_position(), which
-- is 1-based and NULL when absent where ClickHouse's indexOf() is 0; this is the per-trace DISTINCT form it replaced.
-- Parameters: {workload} (root's), {start_ns}/{end_ns} (root start, Unix ns), {slow_quantile} (0-1).
-- Units: threshold_ms ms; *_traces, n_* counts.
WITH roots AS (
  SELECT
    trace_id,
    any(spans.workload) IGNORE NULLS AS workload,
    MAX(duration_ns) AS e2e_ns
  FROM spans
  WHERE
    parent_span_id IS NULL
    AND NOT (
      trace_id IS NULL
    )
    AND (
      {workload: Nullable(String)} IS NULL
      OR spans.workload = {workload: Nullable(String)}
    )
    AND (
      {start_ns: Nullable(Int64)} IS NULL OR start_ns >= {start_ns: Nullable(Int64)}
    )
    AND (
      {end_ns: Nullable(Int64)} IS NULL OR start_ns < {end_ns: Nullable(Int64)}
    )
  GROUP BY
    trace_id
), cut AS (
  SELECT
    workload,
    quantileExactInclusive({slow_quantile: Nullable(Float64)})(e2e_ns) AS cut_ns
  FROM roots
  WHERE
    NOT (
      workload IS NULL
    )
  GROUP BY
    workload
), labelled AS (
  SELECT
    r.trace_id AS trace_id,
    r.workload AS workload,
    toBool(r.e2e_ns > c.cut_ns) AS slow
  FROM roots AS r
  JOIN cut AS c
    USING (workload)
), totals AS (
  SELECT
    l.workload AS workload,
    countIf(l.slow) AS n_slow,
    countIf(NOT l.slow) AS n_typical,
    any(c.cut_ns) IGNORE NULLS / 1e6 AS threshold_ms
  FROM labelled AS l
  JOIN cut AS c
    USING (workload)
  GROUP BY
    l.workload
), combos AS (
  SELECT DISTINCT
    s.trace_id AS trace_id,
    s.site AS site,
    s.tier AS tier,
    s.gen_ai_model AS gen_ai_model,
    s.cache_hit AS cache_hit,
    s.data_class AS data_class,
    CASE
      WHEN POSITION(CAST(s.resource_attributes AS Nullable(String)), 'device.model.identifier') > 0
      THEN multiIf(
        JSONType(s.resource_attributes, 'device.model.identifier') = 'String',
        JSONExtractString(s.resource_attributes, 'device.model.identifier'),
        JSONType(s.resource_attributes, 'device.model.identifier') IN ('Int64', 'UInt64', 'Double', 'Bool'),
        JSONExtractRaw(s.resource_attributes, 'device.model.identifier'),
        NULL
      )
    END AS device_model
  FROM spans AS s
  SEMI JOIN labelled AS l
    ON l.trace_id = s.trace_id
), attrs AS (
  SELECT DISTINCT
    c.trace_id AS trace_id,
    tupleElement(a, 1) AS attribute,
    tupleElement(a, 2) AS value
  FROM combos AS c
  ARRAY JOIN [
    ('site', c.site),
    ('tier', c.tier),
    ('gen_ai_model', c.gen_ai_model),
    ('device_model', c.device_model),
    ('cache', CASE WHEN c.cache_hit THEN 'hit' WHEN NOT c.cache_hit THEN 'miss' END),
    ('data_class', c.data_class)
  ] AS a
  WHERE
    NOT (
      tupleElement(a, 2) IS NULL
    )
)
SELECT
  l.workload AS workload,
  a.attribute AS attribute,
  a.value AS value,
  countIf(l.slow) AS slow_traces,
  countIf(NOT l.slow) AS typical_traces,
  t.threshold_ms AS threshold_ms,
  t.n_slow AS n_slow,
  t.n_typical AS n_typical
FROM attrs AS a
JOIN labelled AS l
  USING (trace_id)
JOIN totals AS t
  USING (workload)
GROUP BY
  l.workload,
  a.attribute,
  a.value,
  t.threshold_ms,
  t.n_slow,
  t.n_typical
ORDER BY
  l.workload,
  a.attribute,
  a.value
