"""Everything computed from the store: one SQL file per query plus pure polars jobs over their results."""
