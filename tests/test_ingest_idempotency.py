"""Idempotent ingest: the same content never lands twice, and a load killed mid-file resumes without duplicates."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from ingest_helpers import OTLP, count, ingest, rows, run_cli

import store

SPANS_PER_LINE = 10


def _write_big_jsonl(path: Path, target_bytes: int) -> int:
    """OTLP/JSON lines of distinct spans up to about `target_bytes`; returns how many spans were written."""
    spans = 0
    line_no = 0
    with open(path, "wb") as f:
        while f.tell() < target_bytes:
            line_no += 1
            batch = []
            for k in range(SPANS_PER_LINE):
                n = line_no * SPANS_PER_LINE + k
                batch.append({"traceId": f"{line_no:032x}", "spanId": f"{n:016x}", "name": "op", "kind": 2,
                              "startTimeUnixNano": str(1_700_000_000_000_000_000 + n),
                              "endTimeUnixNano": str(1_700_000_000_000_500_000 + n),
                              "attributes": [{"key": "http.route", "value": {"stringValue": "/v1/chat/completions"}},
                                             {"key": "n", "value": {"intValue": str(n)}}]})
            f.write(orjson.dumps({"resourceSpans": [{"resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "bulk"}}]},
                "scopeSpans": [{"scope": {"name": "bulk"}, "spans": batch}]}]}) + b"\n")
            spans += SPANS_PER_LINE
    return spans


def test_same_file_twice_adds_nothing(db_path: Path) -> None:
    src = OTLP / "otlp-file-exporter-spec" / "metrics.jsonl"
    first = ingest(db_path, src)
    before = (count(db_path, "metric_points"), count(db_path, "ingest_batches"), count(db_path, "ingest_files"))
    second = ingest(db_path, src)
    assert (first.status, first.accepted) == ("complete", 16)
    assert (second.status, second.accepted, second.batches_committed) == ("already-ingested", 0, 0)
    assert (count(db_path, "metric_points"), count(db_path, "ingest_batches"), count(db_path, "ingest_files")) == before


def test_same_content_under_another_name_is_skipped(tmp_path: Path, db_path: Path) -> None:
    src = OTLP / "otlp-proto-examples" / "trace.json"
    copy = tmp_path / "renamed-copy.json"
    shutil.copyfile(src, copy)
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(src), str(copy))
    assert res.exit_code == 0, res.output
    assert f"already-ingested  {copy}: 0 accepted" in res.stdout
    assert count(db_path, "spans") == 1
    [f] = rows(db_path, "SELECT source, status FROM ingest_files")
    assert f == {"source": str(src), "status": "complete"}


def _kill_when_wal_reaches(cmd: list[str], env: dict[str, str], wal: Path, wal_bytes: int) -> None:
    """Start the ingest in its own process group and SIGKILL it (and its decoder workers) once the WAL holds
    `wal_bytes`, as a crash would."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > wal_bytes:
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"


@pytest.mark.slow
@pytest.mark.parametrize("commit_spans", [1, 4_000], ids=["a-batch-per-transaction", "batches-grouped"])
def test_killed_ingest_resumes_exactly(tmp_path: Path, db_path: Path, commit_spans: int) -> None:
    src = tmp_path / "big.jsonl"
    total = _write_big_jsonl(src, 16 * 1024 * 1024)
    con = store.open_writer(db_path)  # schema in place and checkpointed: the first WAL bytes are a batch
    con.close()
    wal = Path(f"{db_path}.wal")
    assert not wal.exists()
    # 512 KiB batches hold ~1,650 spans: with commit_spans=4,000 a transaction holds three of them
    env = {**os.environ, "TIERWISE_BATCH_BYTES": str(512 * 1024), "TIERWISE_COMMIT_SPANS": str(commit_spans)}
    cmd = [sys.executable, "-m", "app.cli", "ingest", "--db", str(db_path), "--quiet", str(src)]
    # The WAL grows inside the first batch's transaction too, so a kill at a small WAL size can land before the
    # first commit (nothing kept); kill later until a crash leaves some batches committed and the file unfinished.
    for wal_bytes in (256 * 1024, 1024 * 1024, 4 * 1024 * 1024, 8 * 1024 * 1024, 16 * 1024 * 1024):
        _kill_when_wal_reaches(cmd, env, wal, wal_bytes)
        kept = rows(db_path, "SELECT count(*) AS batches, coalesce(sum(rows_accepted), 0) AS spans FROM ingest_batches")[0]
        assert count(db_path, "spans") == kept["spans"]  # committed batches are whole: no half-written batch survives
        if kept["spans"] > 0:
            break
    assert 0 < kept["spans"] < total
    assert count(db_path, "ingest_files") == 0

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"complete  {src}: {total - kept['spans']} accepted, 0 rejected" in rerun.stdout
    [n] = rows(db_path, "SELECT count(*) AS spans, count(DISTINCT span_id) AS ids, min(span_id) AS lo FROM spans")
    assert (n["spans"], n["ids"]) == (total, total)
    [f] = rows(db_path, "SELECT status, rows_accepted FROM ingest_files")
    assert f == {"status": "complete", "rows_accepted": total}
    checked = subprocess.run([sys.executable, "-m", "app.cli", "check", "--db", str(db_path)], capture_output=True,
                             text=True, timeout=300)  # every derived table equals a recomputation after the resume
    assert checked.returncode == 0 and "DIFFERS" not in checked.stdout, checked.stdout + checked.stderr
