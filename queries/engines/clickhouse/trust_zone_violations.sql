-- ClickHouse form of queries/trust_zone_violations.sql (same rows; tests/test_engine_parity.py checks it against DuckDB).
-- Why a per-engine file: DuckDB's string_split(NULL) is a NULL list meaning "anywhere", and ClickHouse arrays cannot be
-- NULL, so the policy keeps the allowed tiers as nullable text and splits it only where it is set.
-- Parameters: {public_tiers}, {internal_tiers}, {confidential_tiers}, {regulated_tiers} (comma-separated, NULL = anywhere),
-- {start_ns}/{end_ns} (span start, Unix ns). Units: counts, UTC timestamps.
WITH policy AS (
    SELECT 'public' AS data_class, {public_tiers:Nullable(String)} AS allowed
    UNION ALL SELECT 'internal', {internal_tiers:Nullable(String)}
    UNION ALL SELECT 'confidential', {confidential_tiers:Nullable(String)}
    UNION ALL SELECT 'regulated', {regulated_tiers:Nullable(String)}
),
violations AS (
    SELECT s.workload AS workload, s.data_class AS data_class, s.tier AS tier, s.site AS site, s.trace_id AS trace_id,
           s.start_ns AS start_ns, p.allowed AS allowed,
           min(s.start_ns) OVER (PARTITION BY s.workload, s.data_class, s.tier, s.trace_id) AS trace_first_ns
    FROM spans AS s
    INNER JOIN policy AS p ON p.data_class = s.data_class
    WHERE p.allowed IS NOT NULL AND NOT has(splitByString(',', assumeNotNull(p.allowed)), s.tier)
      AND ({start_ns:Nullable(Int64)} IS NULL OR s.start_ns >= {start_ns:Nullable(Int64)})
      AND ({end_ns:Nullable(Int64)} IS NULL OR s.start_ns < {end_ns:Nullable(Int64)})
)
SELECT
    workload,
    data_class,
    tier,
    any(allowed)                                                             AS allowed_tiers,
    count()                                                                  AS spans,
    uniqExact(trace_id)                                                      AS traces,
    nullIf(arrayStringConcat(arraySort(groupUniqArray(site)), ','), '')      AS sites,
    arrayStringConcat(arraySlice(arrayMap(t -> tupleElement(t, 3),
        arraySort(groupArrayIf((trace_first_ns, trace_id, trace_id), start_ns = trace_first_ns))), 1, 3), ',')
                                                                             AS example_trace_ids,
    fromUnixTimestamp64Micro(intDiv(min(start_ns), 1000), 'UTC')             AS first_seen,
    fromUnixTimestamp64Micro(intDiv(max(start_ns), 1000), 'UTC')             AS last_seen
FROM violations
GROUP BY workload, data_class, tier
ORDER BY traces DESC, workload NULLS LAST, data_class, tier
