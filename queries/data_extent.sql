-- One row: the first and last span start in the store, so the dashboard's "last 1 h" ends at the store's last data
-- rather than at the wall clock (a store may hold past data). Parameters: none. Units: first_ns/last_ns Unix ns
-- (NULL when the store holds no span), spans a count of spans.
SELECT min(start_ns) AS first_ns, max(start_ns) AS last_ns, count(*) AS spans
FROM spans
