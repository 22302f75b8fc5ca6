-- 0015: drop trace_roots and trace_parts (0006). Every commit appended to them, but no query has read them since
-- 0010 keyed the same rows by numbers (trace_root_keys, trace_part_keys), which the queries read with
-- trace_root_dups and trace_profiles. No view depends on them. Append-only: never edit once merged.
DROP TABLE trace_roots;
DROP TABLE trace_parts;
