"""Parallel decoding must not change what ingest stores: same rows, quarantine, ledger, resume and truncation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import store
from ingest.files import parallel
from ingest.files.sources import SourceError
from ingest.sinks import loader
from store.settings import Settings

SMALL_BATCH = 20_000  # bytes: several batches from a file of a few hundred kB


def _span(line: int, i: int) -> dict[str, Any]:
    start = 1_760_000_000_000_000_000 + line * 1_000_000 + i
    return {"traceId": f"{line:016x}{i:016x}", "spanId": f"{line:08x}{i:08x}", "name": f"op-{i % 3}", "kind": 2,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 5_000_000),
            "attributes": [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(i)}},
                           {"key": "tierwise.cache.hit", "value": {"boolValue": i % 2 == 0}},
                           {"key": "gen_ai.prompt", "value": {"stringValue": "secret"}}],
            "status": {"code": 2 if i % 7 == 0 else 1}}


def _line(line: int, spans: int = 40) -> bytes:
    res = [{"key": "service.name", "value": {"stringValue": f"svc-{line % 3}"}},
           {"key": "tierwise.tier", "value": {"stringValue": ("edge", "device", "regional")[line % 3]}}]
    doc = {"resourceSpans": [{"resource": {"attributes": res},
                              "scopeSpans": [{"scope": {"name": "t"}, "spans": [_span(line, i) for i in range(spans)]}]}]}
    return orjson.dumps(doc)


def _jsonl(path: Path) -> Path:
    lines = [_line(n) for n in range(30)]
    lines[4] = b'{"resourceSpans": [ not json'
    lines[9] = lines[9].replace(b'"traceId":"', b'"traceId":"zz', 1)  # one bad span on line 10
    lines[17] = b'{"unrelated": 1}'
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _ingest(db: Path, path: Path, workers: int) -> loader.FileResult:
    con = store.open_writer(db)
    try:
        return loader.ingest_file(con, path, Settings(db_path=db, batch_bytes=SMALL_BATCH), workers=workers)
    finally:
        con.close()


TABLES = {"spans": "", "metric_points": "", "quarantine": "EXCLUDE (quarantined_at)",
          "ingest_batches": "EXCLUDE (committed_at)", "ingest_files": "EXCLUDE (first_seen_at, completed_at)"}


def _dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(con.execute(f"SELECT * {ex} FROM {t}").fetchall(), key=repr) for t, ex in TABLES.items()}
    finally:
        con.close()


def test_parallel_ingest_stores_exactly_what_serial_ingest_stores(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "traces.jsonl")
    serial = _ingest(tmp_path / "serial.duckdb", src, workers=0)
    par = _ingest(tmp_path / "parallel.duckdb", src, workers=2)
    assert serial.batches_committed >= 5, "the file must span several batches for this test to mean anything"
    assert (par.status, par.accepted, par.rejected, par.batches_committed) == (
        serial.status, serial.accepted, serial.rejected, serial.batches_committed)
    assert par.accepted == 28 * 40 - 1
    a, b = _dump(tmp_path / "serial.duckdb"), _dump(tmp_path / "parallel.duckdb")
    assert a == b
    assert sorted(r[3] for r in b["quarantine"]) == [5, 10, 18]  # record_no is the line number


def test_parallel_ingest_resumes_only_missing_batches(tmp_path: Path) -> None:
    src, db = _jsonl(tmp_path / "traces.jsonl"), tmp_path / "store.duckdb"
    first = _ingest(db, src, workers=2)
    con = duckdb.connect(str(db))
    for table in ("spans", "quarantine", "ingest_batches"):  # as if the process died before batch 2 committed
        con.execute(f"DELETE FROM {table} WHERE batch_index >= 2" if table != "spans" else
                    "DELETE FROM spans WHERE split_part(batch_key, ':', 2)::INT >= 2")
    con.execute("UPDATE ingest_files SET status = 'partial'")
    con.close()
    again = _ingest(db, src, workers=2)
    assert again.batches_resumed == 2
    assert again.batches_committed == first.batches_committed - 2
    _ingest(tmp_path / "fresh.duckdb", src, workers=0)
    fresh, resumed = _dump(tmp_path / "fresh.duckdb"), _dump(db)
    assert resumed["spans"] == fresh["spans"]
    assert resumed["quarantine"] == fresh["quarantine"]


def test_truncated_protobuf_keeps_its_good_prefix_in_parallel(tmp_path: Path) -> None:
    frames = []
    for n in range(8):
        req = ExportTraceServiceRequest()
        spans = req.resource_spans.add().scope_spans.add()
        for i in range(40):
            s = spans.spans.add()
            s.trace_id, s.span_id, s.name = bytes([n + 1]) * 16, i.to_bytes(8, "big"), "op"
            s.start_time_unix_nano, s.end_time_unix_nano = 10, 20 + i
        body = req.SerializeToString()
        frames.append(len(body).to_bytes(4, "big") + body)
    src = tmp_path / "traces.pb"
    src.write_bytes(b"".join(frames)[:-7])
    serial = _ingest(tmp_path / "serial.duckdb", src, workers=0)
    par = _ingest(tmp_path / "parallel.duckdb", src, workers=2)
    assert par.status == serial.status == "partial"
    assert par.accepted == serial.accepted == 7 * 40
    assert _dump(tmp_path / "serial.duckdb")["spans"] == _dump(tmp_path / "parallel.duckdb")["spans"]


def _batches(n: int, pulled: list[int], fail: bool) -> Iterator[list[int]]:
    for i in range(n):
        pulled.append(i)
        yield [i] * (i + 1)
    if fail:
        raise SourceError("truncated", n)


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_decoded_keeps_order_bounds_read_ahead_and_raises_after_the_good_batches(workers: int) -> None:
    pulled: list[int] = []
    got = []
    with pytest.raises(SourceError):
        for index, value in parallel.decoded(_batches(9, pulled, fail=True), len, skip={3}, workers=workers):
            assert len(pulled) <= index + max(workers, 1) + 2, "read ahead must stay bounded"
            got.append((index, value))
    assert got == [(i, None if i == 3 else i + 1) for i in range(9)]
