-- ClickHouse form of queries/trace_search.sql (same rows; tests/test_clickhouse_exporter_parity.py checks it).
-- Why a per-engine file: the attribute conditions arrive as one JSON text, which DuckDB reads with from_json into a
-- list of structs and ClickHouse with JSONExtract into named tuples; and ClickHouse keeps no trace index of its own
-- (its trace_root_keys is a view over the spans), so the roots are read from the spans here.
-- Parameters and units as queries/trace_search.sql.
WITH
    JSONExtract(coalesce({where:Nullable(String)}, '[]'), 'Array(Tuple(k String, op String, v String))') AS conds,
    {service:Nullable(String)} IS NOT NULL OR {operation:Nullable(String)} IS NOT NULL
        OR {tier:Nullable(String)} IS NOT NULL OR {site:Nullable(String)} IS NOT NULL
        OR {workload:Nullable(String)} IS NOT NULL OR {where:Nullable(String)} IS NOT NULL AS span_filtered,
span_hits AS (
    SELECT DISTINCT trace_id
    FROM spans
    WHERE span_filtered AND trace_id IS NOT NULL
      AND ({service:Nullable(String)} IS NULL OR service_name = {service:Nullable(String)})
      AND ({operation:Nullable(String)} IS NULL OR name = {operation:Nullable(String)})
      AND ({tier:Nullable(String)} IS NULL OR tier = {tier:Nullable(String)})
      AND ({site:Nullable(String)} IS NULL OR site = {site:Nullable(String)})
      AND ({workload:Nullable(String)} IS NULL OR workload = {workload:Nullable(String)})
      AND ({start_ns:Nullable(Int64)} IS NULL OR start_ns >= {start_ns:Nullable(Int64)} - {slack_ns:Int64})
      AND ({end_ns:Nullable(Int64)} IS NULL OR start_ns < {end_ns:Nullable(Int64)} + {slack_ns:Int64})
      AND arrayAll((c, value) -> ifNull(multiIf(
              tupleElement(c, 'op') = '=', value = tupleElement(c, 'v'),
              tupleElement(c, 'op') = '!=', value != tupleElement(c, 'v'),
              tupleElement(c, 'op') = '>', toFloat64OrNull(value) > toFloat64OrNull(tupleElement(c, 'v')),
              tupleElement(c, 'op') = '>=', toFloat64OrNull(value) >= toFloat64OrNull(tupleElement(c, 'v')),
              tupleElement(c, 'op') = '<', toFloat64OrNull(value) < toFloat64OrNull(tupleElement(c, 'v')),
              tupleElement(c, 'op') = '<=', toFloat64OrNull(value) <= toFloat64OrNull(tupleElement(c, 'v')),
              NULL), false),
          conds,
          arrayMap(c -> coalesce(multiIf(JSONType(attributes, tupleElement(c, 'k')) = 'String', JSONExtractString(attributes, tupleElement(c, 'k')),
                                        JSONType(attributes, tupleElement(c, 'k')) IN ('Int64', 'UInt64', 'Double', 'Bool'),
                                        JSONExtractRaw(attributes, tupleElement(c, 'k')), NULL),
                                 multiIf(JSONType(resource_attributes, tupleElement(c, 'k')) = 'String', JSONExtractString(resource_attributes, tupleElement(c, 'k')),
                                        JSONType(resource_attributes, tupleElement(c, 'k')) IN ('Int64', 'UInt64', 'Double', 'Bool'),
                                        JSONExtractRaw(resource_attributes, tupleElement(c, 'k')), NULL)), conds))
),
failed AS (
    SELECT DISTINCT trace_id FROM spans WHERE {status:Nullable(String)} IS NOT NULL AND status_code = 'error'
),
roots AS (  -- a trace delivered with several roots spans them all
    SELECT trace_id, min(start_ns) AS first_ns, max(start_ns + duration_ns) - min(start_ns) AS trace_ns
    FROM spans
    WHERE parent_span_id IS NULL AND trace_id IS NOT NULL
      AND ({start_ns:Nullable(Int64)} IS NULL OR start_ns >= {start_ns:Nullable(Int64)})
      AND ({end_ns:Nullable(Int64)} IS NULL OR start_ns < {end_ns:Nullable(Int64)})
      AND (NOT span_filtered OR trace_id IN (SELECT trace_id FROM span_hits))
      AND ({status:Nullable(String)} IS NULL
           OR (trace_id IN (SELECT trace_id FROM failed)) = ({status:Nullable(String)} = 'error'))
    GROUP BY trace_id
),
top AS (
    SELECT trace_id, first_ns AS start_ns, trace_ns AS duration_ns
    FROM roots
    WHERE ({min_ms:Nullable(Float64)} IS NULL OR trace_ns >= {min_ms:Nullable(Float64)} * 1e6)
      AND ({max_ms:Nullable(Float64)} IS NULL OR trace_ns <= {max_ms:Nullable(Float64)} * 1e6)
    ORDER BY if({sort:String} = 'slowest', -trace_ns, -first_ns), trace_id
    LIMIT {limit_count:Int64}
),
detail AS (
    SELECT trace_id, toInt64(count()) AS span_count, toInt64(countIf(status_code = 'error')) AS error_count,
           arraySort(groupUniqArray(toInt32(tier_rank(tier)))) AS ranks,
           argMinIf(service_name, start_ns, parent_span_id IS NULL) AS root_service,
           argMinIf(name, start_ns, parent_span_id IS NULL) AS root_operation
    FROM spans
    WHERE trace_id IN (SELECT trace_id FROM top)
    GROUP BY trace_id
)
SELECT t.trace_id AS trace_id, t.start_ns AS start_ns, t.duration_ns / 1e6 AS duration_ms,
       d.root_service AS root_service, d.root_operation AS root_operation, d.span_count AS span_count,
       d.ranks AS tier_ranks, d.error_count AS error_count
FROM top AS t
INNER JOIN detail AS d ON d.trace_id = t.trace_id
ORDER BY if({sort:String} = 'slowest', -t.duration_ns, -t.start_ns), trace_id
