"""`tierwise check`: every derived table against a recomputation over the spans, after ingest, re-ingest and damage."""

from __future__ import annotations

from pathlib import Path

import duckdb
from ingest_helpers import TINY, isolated, run_cli, tiny_store


def _check(db: Path, *extra: str) -> tuple[int, str]:
    with isolated(db.parent):
        done = run_cli("check", "--db", str(db), *extra)
    return done.exit_code, done.output


def test_a_fresh_and_a_re_ingested_store_check_clean(tmp_path: Path) -> None:
    db = tiny_store(tmp_path, ("traces.jsonl", "bills-focus.csv"))
    code, out = _check(db)
    assert code == 0 and out.count("ok  ") == 6 and "DIFFERS" not in out, out
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
