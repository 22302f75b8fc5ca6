-- The definition each derived table was last computed with (store/derived: a digest of its declaration), so that
-- `tierwise migrate` rebuilds the tables whose definition changed instead of a migration copying their SQL.
CREATE TABLE derived_definitions (
    table_name  VARCHAR PRIMARY KEY,
    fingerprint VARCHAR NOT NULL
);
