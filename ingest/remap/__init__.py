"""Mapping rules ([[map]], [[cost_map]]) over telemetry and ledger rows: as they are ingested, and over the store."""
