"""Latency roll-up under ingest: folded per batch, not counted twice on re-ingest or resume, backfilled by 0005."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import FIXTURES, ingest

import store
from store import derived
from store.derived import rollup
from store.settings import load_settings

TINY = FIXTURES / "tiny_store" / "traces.jsonl"


def _selected(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Request spans in the store, and spans the minute roll-up counts."""
    spans = con.execute(f"SELECT count(*) FROM spans WHERE {rollup.REQUESTS_SQL}").fetchall()[0][0]
    rolled = con.execute("SELECT coalesce(sum(n), 0) FROM latency_rollup WHERE width_ns = $w", {"w": rollup.MINUTE_NS})
    return int(spans), int(rolled.fetchall()[0][0])


def test_ingest_and_reingest_keep_the_rollup_exact(db_path: Path) -> None:
    first = ingest(db_path, TINY)
    second = ingest(db_path, TINY)
    assert first.accepted == 56 and second.status == "already-ingested"
    con = store.connect(db_path, read_only=True)
    try:
        assert derived.mismatches(con, "latency_rollup") == 0
        spans, rolled = _selected(con)
        assert spans == rolled > 0
        # one row per key and bucket: the merge compacts partial rows from different batches
        keys = ", ".join(rollup.KEYS)
        dup = con.execute(f"SELECT count(*) FROM (SELECT {keys} FROM latency_rollup GROUP BY ALL HAVING count(*) > 1)")
        assert dup.fetchall()[0][0] == 0
    finally:
        con.close()


def test_mismatches_sees_a_wrong_row(db_path: Path) -> None:
    """The consistency check itself can fail: one span too many in one row is one mismatch."""
    ingest(db_path, TINY)
    con = store.connect(db_path)
    try:
        con.execute("UPDATE latency_rollup SET n = n + 1 WHERE rowid = (SELECT min(rowid) FROM latency_rollup)")
        assert derived.mismatches(con, "latency_rollup") == 2  # the stored row, and the fresh row it no longer equals
    finally:
        con.close()


def test_resumed_file_is_not_counted_twice(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A load that fails after some batches committed, then resumes: every span is in the roll-up once."""
    small = dataclasses.replace(load_settings(db=db_path, env={}), batch_bytes=10_000, commit_spans=1)
    calls = {"n": 0}
    real = derived.refresh

    def crash_on_third(con: duckdb.DuckDBPyConnection, view: str) -> None:
        calls["n"] += 1
        real(con, view)
        if calls["n"] == 3:
            raise RuntimeError("simulated crash inside the third batch's transaction")

    monkeypatch.setattr(derived, "refresh", crash_on_third)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(db_path, TINY, small, workers=1)
    con = store.connect(db_path, read_only=True)
    partial = _selected(con)
    con.close()
    assert 0 < partial[0] == partial[1] < 56

    monkeypatch.setattr(derived, "refresh", real)
    resumed = ingest(db_path, TINY, small, workers=1)
    assert resumed.status == "complete" and resumed.batches_resumed > 0
    con = store.connect(db_path, read_only=True)
    try:
        assert derived.mismatches(con, "latency_rollup") == 0
        spans, rolled = _selected(con)
        assert spans == rolled
    finally:
        con.close()


def test_migration_backfills_existing_spans(tmp_path: Path) -> None:
    """A store that has spans from before 0005 gets its roll-up from the migration itself."""
    db = tmp_path / "old.duckdb"
    ingest(db, TINY)
    con = store.connect(db)
    try:
        con.execute("DROP TABLE latency_rollup").fetchall()
        con.execute("DELETE FROM schema_migrations WHERE version = 5").fetchall()
        assert store.migrate(con) == ["0005_latency_rollup"]
        assert derived.mismatches(con, "latency_rollup") == 0
    finally:
        con.close()
