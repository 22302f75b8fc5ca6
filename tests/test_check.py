"""`tierwise check`: every derived table against a recomputation over the spans, after ingest, re-ingest and damage."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ingest_helpers import TINY, isolated, run_cli, tiny_store

import store
from store import derived


def _check(db: Path, *extra: str) -> tuple[int, str]:
    with isolated(db.parent):
        done = run_cli("check", "--db", str(db), *extra)
    return done.exit_code, done.output


def test_a_fresh_and_a_re_ingested_store_check_clean(tmp_path: Path) -> None:
    db = tiny_store(tmp_path, ("traces.jsonl", "bills-focus.csv"))
    code, out = _check(db)
    assert code == 0 and out.count("ok  ") == len(derived.REGISTRY) == 13 and "DIFFERS" not in out, out
    with isolated(tmp_path):
        again = run_cli("ingest", "--quiet", "--db", str(db), str(TINY / "traces.jsonl"))
    assert again.exit_code == 0, again.output
    assert _check(db)[0] == 0


def test_a_damaged_derived_table_is_named_and_repair_restores_it(tmp_path: Path) -> None:
    db = tiny_store(tmp_path)
    con = duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM latency_rollup WHERE rowid % 2 = 0")
        con.execute("UPDATE request_entries SET w = w * 2")
    finally:
        con.close()
    code, out = _check(db)
    assert code == 1, out
    differs = [line for line in out.splitlines() if line.startswith("DIFFERS")]
    assert len(differs) == 2 and "latency_rollup" in differs[0] and "request_entries" in differs[1], out
    assert "tierwise check --repair" in out
    code, out = _check(db, "--repair")
    assert code == 0 and "DIFFERS" not in out, out
    assert "recomputed: latency_rollup, request_entries" in out  # only what differed, and what reads it


def test_migrate_rebuilds_a_table_whose_definition_changed_and_readers_wait_for_it(tmp_path: Path) -> None:
    """A derived table computed by another definition (its recorded digest differs) is stale: a reader refuses the
    store until `tierwise migrate` rebuilds that table and the tables reading it, and nothing else."""
    db = tiny_store(tmp_path)
    con = duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM trace_root_keys WHERE rowid % 2 = 0")  # what an older definition might have kept
        con.execute("UPDATE derived_definitions SET fingerprint = 'older' WHERE table_name = 'trace_root_keys'")
        with pytest.raises(store.StoreError, match="trace_root_keys predate their definition"):
            store.check_current(con)
        assert derived.rebuild_changed(con) == ["trace_root_keys", "trace_root_dups"]
        assert derived.stale(con) == [] and all(n == 0 for _, n in derived.check(con))
        assert derived.rebuild_changed(con) == []  # a second migrate has nothing to do
    finally:
        con.close()
