"""Migrations apply once, in order, and refuse edited history."""

from __future__ import annotations

from pathlib import Path

import pytest

import store


def test_migrate_is_idempotent(db_path: Path) -> None:
    con = store.connect(db_path)
    first = store.migrate(con)
    assert first == [m.name for m in store.migrations()]
    assert store.migrate(con) == []
    tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"spans", "metric_points", "ingest_files", "ingest_batches", "quarantine"} <= tables


def test_edited_migration_is_refused(db_path: Path) -> None:
    con = store.connect(db_path)
    store.migrate(con)
    con.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(store.StoreError, match="edited"):
        store.migrate(con)


def test_read_only_refuses_missing_store(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="no tierwise store"):
        store.connect(tmp_path / "missing.duckdb", read_only=True)


def test_reader_detects_store_behind(db_path: Path) -> None:
    con = store.connect(db_path)
    con.execute("CREATE TABLE schema_migrations (version INTEGER, name VARCHAR, checksum VARCHAR, applied_at TIMESTAMPTZ)")
    with pytest.raises(store.StoreError, match="tierwise migrate"):
        store.check_current(con)
