"""`tierwise quarantine` lists files that failed as a whole (partial, unreadable, refused bills) beside quarantined
records, until a later run completes the same content."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result
from ingest_helpers import FIXTURES

from app.cli import cli
from ingest.sinks.loader import quarantined

TINY = FIXTURES / "tiny_store"


def tierwise(*args: str) -> Result:
    """`tierwise ARGS...` in-process; an exception that escapes the command fails the test as the traceback it is."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def cut_gzip(source: Path, out: Path, keep: float) -> Path:
    """`source` gzipped, then cut to `keep` of its compressed length (a download that stopped early)."""
    packed = gzip.compress(source.read_bytes())
    out.write_bytes(packed[:int(len(packed) * keep)])
    return out


def shown(db: Path, *extra: str) -> list[str]:
    result = tierwise("quarantine", "--db", str(db), *extra)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.stdout.splitlines()


@pytest.fixture
def failed(tmp_path: Path) -> dict[str, Path]:
    """Files that each fail as a whole, and the store they were ingested into (`db`)."""
    files = {
        "partial": cut_gzip(TINY / "traces.jsonl", tmp_path / "traces.jsonl.gz", 0.5),
        "unreadable": tmp_path / "notes.json",
        "bill": cut_gzip(TINY / "bills-focus.csv", tmp_path / "bill.csv.gz", 0.9),
    }
    files["unreadable"].write_text("these are notes, not telemetry\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    result = tierwise("ingest", "--quiet", "--db", str(db), *map(str, files.values()))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    return {**files, "db": db}


def test_files_that_failed_as_a_whole_are_listed_with_status_and_reason(failed: dict[str, Path]) -> None:
    lines = shown(failed["db"])
    assert "nothing quarantined" not in lines
    ledger = duckdb.connect(str(failed["db"]), read_only=True)
    try:
        recorded = dict(ledger.execute("SELECT source, status FROM ingest_files").fetchall())
    finally:
        ledger.close()
    assert recorded[str(failed["partial"])] == "partial"
    assert recorded[str(failed["unreadable"])] == "unreadable"
    assert recorded[str(failed["bill"])] in ("partial", "unreadable")
    for kind in ("partial", "unreadable", "bill"):
        source = str(failed[kind])
        (line,) = [ln for ln in lines if ln.startswith(f"{source}: ")]
        status = recorded[source]
        assert line.startswith(f"{source}: {status} file, "), line
        reason = line.split(" rows kept: ", 1)[1]
        assert reason.strip() and not reason.startswith(source), line  # the reason, without the path twice
    (partial,) = [ln for ln in lines if ln.startswith(f"{failed['partial']}: ")]
    kept = int(partial.split(", ", 1)[1].split(" ")[0])
    assert kept > 0  # the readable prefix is in the store, and the line says so


def test_a_bill_refused_whole_is_listed(failed: dict[str, Path]) -> None:
    """Bills record their file-level outcome in the same ledger as telemetry (ingest_files, signal costs)."""
    con = duckdb.connect(str(failed["db"]), read_only=True)
    try:
        rows = con.execute("SELECT signal, status FROM ingest_files WHERE source = $s",
                           {"s": str(failed["bill"])}).fetchall()
    finally:
        con.close()
    ((signal, status),) = rows
    assert signal == "costs" and status in ("partial", "unreadable")
    assert any(ln.startswith(f"{failed['bill']}: {status} file, ") for ln in shown(failed["db"]))


def test_record_rows_are_listed_beside_file_rows(failed: dict[str, Path]) -> None:
    mixed = FIXTURES / "bad" / "mixed_spans.jsonl"
    result = tierwise("ingest", "--quiet", "--db", str(failed["db"]), str(mixed))
    assert result.exit_code == 0, result.output
    lines = shown(failed["db"])
    assert sum(ln.startswith(f"{mixed}:") for ln in lines) == 8  # record rows, `file:record: item field: reason`
    assert any(ln.startswith(f"{failed['partial']}: partial file, ") for ln in lines)
    files_first = [ln.startswith(f"{mixed}:") for ln in lines]
    assert files_first == sorted(files_first)  # whole-file failures first, then records


def test_a_run_that_completes_the_same_content_takes_its_row_away(tmp_path: Path) -> None:
    """A bill read as telemetry (a wrong --signal) is unreadable; the same bytes then load as a bill: its row goes."""
    bill = tmp_path / "bill.csv"
    bill.write_bytes((TINY / "bills-focus.csv").read_bytes())
    db = tmp_path / "store.duckdb"
    wrong = tierwise("ingest", "--quiet", "--db", str(db), "--signal", "traces", str(bill))
    assert wrong.exit_code == 1, wrong.output
    assert [ln for ln in shown(db) if ln.startswith(f"{bill}: unreadable file, 0 rows kept: ")]
    right = tierwise("ingest", "--quiet", "--db", str(db), str(bill))
    assert right.exit_code == 0, right.output
    assert not [ln for ln in shown(db) if ln.startswith(f"{bill}: ")]
    assert shown(db) == ["nothing quarantined"]


def test_limit_applies_to_files_and_records_each(failed: dict[str, Path]) -> None:
    assert len(shown(failed["db"], "--limit", "1")) == 1  # three failed files, no records
    con = duckdb.connect(str(failed["db"]), read_only=True)
    try:
        assert [r["status"] for r in quarantined(con, 0)] == []
        assert sorted(r["status"] for r in quarantined(con, 5)) == ["partial", "unreadable", "unreadable"]
        with pytest.raises(ValueError, match="limit must be 0 or more"):
            quarantined(con, -1)
    finally:
        con.close()


def test_an_empty_store_has_nothing_quarantined(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    assert tierwise("migrate", "--db", str(db)).exit_code == 0
    assert shown(db) == ["nothing quarantined"]
