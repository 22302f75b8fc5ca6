"""trace_root_dups (migration 0012) lists exactly the traces with several root rows, across batches, files and crashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from ingest_helpers import dying_refresh, frozen_backfill, ingest

from ingest.sinks import loader
from store import derived
from store.derived import trace_index
from store.settings import Settings

SMALL_BATCH = 1_500  # bytes: each file spans several batches, a few requests each

TRACE_INDEX = tuple(d.table for d in trace_index.TABLES)


def _span(trace: str, span: str, parent: str | None, start: int) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": trace, "spanId": span, "name": "op", "kind": 2,
                           "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1_000_000 + start % 977)}
    if parent is not None:
        out["parentSpanId"] = parent
    return out


def _line(file_no: int, n: int) -> bytes:
    """One request: a root and a child; every third trace has a second parentless span in the same line, and every
    trace of file 2 reuses the trace id of file 1's request with the same n (its root lands in another batch)."""
    trace = f"{(n + 1):032x}" if file_no in (1, 2) else f"{(1000 * file_no + n):032x}"
    start = 1_764_000_000_000_000_000 + n * 1_000_000_000 + file_no
    spans = [_span(trace, f"{file_no:04x}{n:04x}00000001", None, start),
             _span(trace, f"{file_no:04x}{n:04x}00000002", f"{file_no:04x}{n:04x}00000001", start + 10)]
    if n % 3 == 0:
        spans.append(_span(trace, f"{file_no:04x}{n:04x}00000003", None, start + 20))
    res = {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
           "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}
    return orjson.dumps({"resourceSpans": [res]}) + b"\n"


def _file(path: Path, file_no: int, lines: int = 12) -> Path:
    path.write_bytes(b"".join(_line(file_no, n) for n in range(lines)))
    return path


def _ingest(db: Path, path: Path) -> loader.FileResult:
    return ingest(db, path, Settings(db_path=db, batch_bytes=SMALL_BATCH, commit_spans=1), workers=0)


def _dups(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT trace_key, odd_id FROM trace_root_dups ORDER BY ALL").fetchall()


def test_the_listed_traces_are_those_with_several_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.duckdb"
    assert _ingest(db, _file(tmp_path / "a.jsonl", 1)).batches_committed >= 3
    assert _ingest(db, tmp_path / "a.jsonl").status == "already-ingested"

    with dying_refresh(monkeypatch, 3), pytest.raises(KeyboardInterrupt):  # the third batch dies before COMMIT
        _ingest(db, _file(tmp_path / "b.jsonl", 2))
    assert _ingest(db, tmp_path / "b.jsonl").batches_resumed == 2
    _ingest(db, _file(tmp_path / "c.jsonl", 3))  # traces of their own: only its in-line second roots repeat

    con = duckdb.connect(str(db))
    try:
        # files 1 and 2 share all 12 traces (each listed once, however many roots); file 3 adds its n % 3 == 0 ones
        want = sorted([(n + 1, None) for n in range(12)] + [(3000 + n, None) for n in range(0, 12, 3)])
        assert _dups(con) == want
        assert derived.mismatches(con, *TRACE_INDEX) == 0
        con.execute("DELETE FROM trace_root_dups WHERE trace_key = 3000")
        assert derived.mismatches(con, *TRACE_INDEX) == 1  # the check covers the list
        derived.rebuild(con, ["trace_root_dups"])
        assert _dups(con) == want
        assert frozen_backfill(con, "0012_trace_root_dups.sql", "trace_root_dups") == want
    finally:
        con.close()
