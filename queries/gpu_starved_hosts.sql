-- One row per tier, site and GPU host with at least one starved clock hour (mean GPU utilization below
-- $util_threshold_ratio while mean queue depth exceeded $queue_threshold), with the workload whose spans ran there
-- most (ties: alphabetical). Parameters: those two, $tier, $site (NULL = all), $start_ns/$end_ns (Unix ns).
-- Units: *_hours clock hours, *_ratio 0–1, *_queue_depth requests.
WITH hourly AS (
    SELECT date_trunc('hour', make_timestamp(time_ns // 1000))                          AS hour_start,
           tier, site, host_name,
           avg(canonical_value) FILTER (WHERE canonical_name = 'gpu_utilization_ratio') AS util,
           avg(canonical_value) FILTER (WHERE canonical_name = 'queue_depth')           AS queue
    FROM metric_points
    WHERE canonical_name IN ('gpu_utilization_ratio', 'queue_depth')
      AND ($tier IS NULL OR tier = $tier)
      AND ($site IS NULL OR site = $site)
      AND ($start_ns IS NULL OR time_ns >= $start_ns)
      AND ($end_ns IS NULL OR time_ns < $end_ns)
    GROUP BY ALL
),
hosts AS (
    SELECT tier, site, host_name,
           count(*) FILTER (WHERE util IS NOT NULL)                                    AS observed_hours,
           count(*) FILTER (WHERE util < $util_threshold_ratio AND queue > $queue_threshold) AS starved_hours,
           avg(util) FILTER (WHERE util < $util_threshold_ratio AND queue > $queue_threshold)  AS starved_utilization_ratio,
           avg(queue) FILTER (WHERE util < $util_threshold_ratio AND queue > $queue_threshold) AS starved_queue_depth,
           min(hour_start) FILTER (WHERE util < $util_threshold_ratio AND queue > $queue_threshold) AS first_hour,
           max(hour_start) FILTER (WHERE util < $util_threshold_ratio AND queue > $queue_threshold) AS last_hour
    FROM hourly
    GROUP BY ALL
),
host_workloads AS (
    SELECT host_name, first(workload ORDER BY n DESC, workload) AS workload
    FROM (SELECT host_name, workload, count(*) AS n FROM spans
          WHERE host_name IS NOT NULL AND workload IS NOT NULL
            AND ($start_ns IS NULL OR start_ns >= $start_ns)
            AND ($end_ns IS NULL OR start_ns < $end_ns)
          GROUP BY ALL)
    GROUP BY host_name
)
SELECT h.tier, h.site, h.host_name, w.workload, h.observed_hours, h.starved_hours,
       h.starved_hours / h.observed_hours AS starved_share_ratio,
       h.starved_utilization_ratio, h.starved_queue_depth, h.first_hour, h.last_hour
FROM hosts h
LEFT JOIN host_workloads w USING (host_name)
WHERE h.starved_hours > 0
ORDER BY h.starved_hours DESC,
         tier_rank(h.tier),
         h.site NULLS LAST, h.host_name NULLS LAST
