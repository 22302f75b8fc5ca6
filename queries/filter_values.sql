-- One row per dimension value the dashboard's filters may take: dimension (tier|site|workload|day), value, spans.
-- Parameters: none. Units: value is text (day as YYYY-MM-DD, UTC); spans is a count of spans.
SELECT 'tier' AS dimension, tier AS value, count(*) AS spans FROM spans GROUP BY ALL
UNION ALL
SELECT 'site', site, count(*) FROM spans WHERE site IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'workload', workload, count(*) FROM spans WHERE workload IS NOT NULL GROUP BY ALL
UNION ALL
SELECT 'day', strftime(make_timestamp(start_ns // 1000), '%Y-%m-%d'), count(*) FROM spans GROUP BY ALL
ORDER BY dimension, value
