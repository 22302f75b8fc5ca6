"""Bad input: every broken record is quarantined with file, record and field; good records in the same file are kept."""

from __future__ import annotations

import base64
import gzip
import zlib
from pathlib import Path

import orjson
import pytest
from ingest_helpers import FIXTURES, count, ingest, rows, run_cli

from ingest.otlp.otlp_values import Issue, parse_id

BAD = FIXTURES / "bad"
T = "1700000000000000000"


def _span(name: str, span_id: str, **attrs: str) -> dict[str, object]:
    return {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": span_id, "name": name, "kind": 2,
            "startTimeUnixNano": T, "endTimeUnixNano": "1700000000250000000",
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}


def _line(spans: list[dict[str, object]], **resource: str) -> bytes:
    res = [{"key": k, "value": {"stringValue": v}} for k, v in {"service.name": "gen", **resource}.items()]
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": res},
                                            "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}) + b"\n"


def _good_lines(n: int) -> bytes:
    return b"".join(_line([_span(f"s{i}", f"{i:016x}", pad="x" * 40)]) for i in range(1, n + 1))


EXPECTED_SPAN_REJECTIONS = [
    # (line, item, field, words in the reason)
    (2, "resourceSpans[0].scopeSpans[0].spans[0]", "startTimeUnixNano", "expected an integer, got dict"),
    (3, "resourceSpans[0].scopeSpans[0].spans[0]", "attributes", "expected a list"),
    (4, "resourceSpans[0].scopeSpans[0].spans[0]", "kind", "unknown enum name 'banana'"),
    (5, "resourceSpans[0].scopeSpans[0].spans[0]", "traceId", "not hexadecimal"),
    (6, "resourceSpans[0].scopeSpans[0].spans[0]", "spanId", "expected 16 hex characters, got 3"),
    (7, "record", "json", "not valid UTF-8"),
    (8, "resourceSpans[0].scopeSpans[0].spans[0]", "parentSpanId", "expected 16 hex characters, got 14"),
    (10, "record", "resourceSpans", "expected a list, got str"),
]


def test_mixed_spans_file(db_path: Path) -> None:
    src = BAD / "mixed_spans.jsonl"
    r = ingest(db_path, src)
    assert (r.status, r.accepted, r.rejected) == ("complete", 4, 8)
    assert sorted(s["name"] for s in rows(db_path, "SELECT name FROM spans")) == ["good-1", "good-2", "good-3", "good-4"]
    got = [(q.record_no, q.item, q.field) for q in r.rejections]
    assert got == [(line, item, field) for line, item, field, _ in EXPECTED_SPAN_REJECTIONS]
    for q, (*_, words) in zip(r.rejections, EXPECTED_SPAN_REJECTIONS, strict=True):
        assert words in q.reason, q
    q = rows(db_path, "SELECT source, record_no, item, field, reason FROM quarantine ORDER BY record_no")
    assert [(x["record_no"], x["field"]) for x in q] == [(line, field) for line, _, field, _ in EXPECTED_SPAN_REJECTIONS]
    assert {x["source"] for x in q} == {str(src)}
    [ledger] = rows(db_path, "SELECT status, rows_accepted, rows_rejected FROM ingest_files")
    assert ledger == {"status": "complete", "rows_accepted": 4, "rows_rejected": 8}


def test_mixed_spans_through_the_cli(db_path: Path) -> None:
    src = BAD / "mixed_spans.jsonl"
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(src))
    assert res.exit_code == 0, res.output  # the file was read; rejections alone do not fail the command
    assert f"complete  {src}: 4 accepted, 8 rejected, 0 skipped" in res.stdout
    assert f"{src}:2: resourceSpans[0].scopeSpans[0].spans[0] startTimeUnixNano: expected an integer, got dict" in res.stderr
    assert f"{src}:4: resourceSpans[0].scopeSpans[0].spans[0] kind: unknown enum name 'banana'" in res.stderr
    assert "3 more (see `tierwise quarantine`)" in res.stderr
    q = run_cli("quarantine", "--db", str(db_path))
    assert q.exit_code == 0
    for line, _, field, _ in EXPECTED_SPAN_REJECTIONS:
        assert any(row.startswith(f"{src}:{line}: ") and field in row for row in q.output.splitlines()), (line, field, q.output)


def test_mixed_metrics_file(db_path: Path) -> None:
    r = ingest(db_path, BAD / "mixed_metrics.jsonl")
    assert (r.status, r.accepted, r.rejected) == ("complete", 3, 6)
    assert sorted((p["metric_name"], p["value"]) for p in rows(db_path, "SELECT metric_name, value FROM metric_points")) == [
        ("g", 1.5), ("g", 2.0), ("s", 7.0)]
    got = [(q.record_no, q.item, q.field, q.rows) for q in r.rejections]
    assert got == [
        (1, "resourceMetrics[0].scopeMetrics[0].metrics[1]", "sum.dataPoints[1].asDouble", 1),
        (2, "resourceMetrics[0].scopeMetrics[0].metrics[0]", "histogram.dataPoints[0].bucketCounts", 1),
        (3, "resourceMetrics[0].scopeMetrics[0].metrics[0]", "name", 3),
        (4, "resourceMetrics[0].scopeMetrics[0].metrics[0]", "exponentialHistogram.dataPoints[0].scale", 1),
    ]
    assert "2 buckets for 2 bounds" in r.rejections[1].reason
    assert "out of range" in r.rejections[3].reason
    [b] = rows(db_path, "SELECT sum(rows_rejected) AS n FROM ingest_batches")
    assert b["n"] == 6


def test_huge_attribute_is_rejected_with_its_key(tmp_path: Path, db_path: Path) -> None:
    big = "x" * (256 * 1024 + 1)
    src = tmp_path / "huge.jsonl"
    src.write_bytes(_line([_span("too-big", "0000000000000001", prompt_id=big), _span("ok", "0000000000000002")])
                    + _line([_span("a", "0000000000000003"), _span("b", "0000000000000004")], **{"host.notes": big})
                    + _line([_span("ok2", "0000000000000005")]))
    r = ingest(db_path, src)
    assert (r.status, r.accepted, r.rejected) == ("complete", 2, 3)
    assert sorted(s["name"] for s in rows(db_path, "SELECT name FROM spans")) == ["ok", "ok2"]
    span_q, res_q = r.rejections
    assert (span_q.record_no, span_q.field, span_q.rows) == (1, "attributes['prompt_id']", 1)
    assert "262145 bytes, above the 262144-byte limit" in span_q.reason
    assert (res_q.record_no, res_q.item, res_q.field, res_q.rows) == (
        2, "resourceSpans[0]", "resourceSpans[0].resource.attributes['host.notes']", 2)


def test_truncated_gzip_keeps_the_good_prefix(tmp_path: Path, db_path: Path) -> None:
    whole = gzip.compress(_good_lines(3000))
    cut = whole[: len(whole) * 3 // 5]
    src = tmp_path / "cut.jsonl.gz"
    src.write_bytes(cut)
    prefix = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    complete_lines = prefix.count(b"\n")
    assert 100 < complete_lines < 3000
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(src))
    assert res.exit_code == 1
    assert f"partial  {src}: {complete_lines} accepted, 0 rejected" in res.stdout
    assert f"file is truncated or corrupt after record {complete_lines}" in res.stdout
    assert count(db_path, "spans") == complete_lines
    [f] = rows(db_path, "SELECT status FROM ingest_files")
    assert f["status"] == "partial"
    again = run_cli("ingest", "--db", str(db_path), "--quiet", str(src))  # a rerun adds nothing twice
    assert again.exit_code == 1 and count(db_path, "spans") == complete_lines


def test_truncated_protobuf_keeps_whole_records(tmp_path: Path, db_path: Path) -> None:
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    payloads = []
    for i in range(1, 4):
        doc = orjson.loads(_line([_span(f"p{i}", f"{i:016x}")]))
        for sp in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # protobuf JSON mapping wants base64 ids
            sp["traceId"] = "CvdlGRbNQ92ESOshHIAxnA=="
            sp["spanId"] = base64.b64encode(bytes.fromhex(sp["spanId"])).decode()
        payloads.append(ParseDict(doc, ExportTraceServiceRequest()).SerializeToString())
    data = b"".join(len(p).to_bytes(4, "big") + p for p in payloads)
    src = tmp_path / "cut.binpb"
    src.write_bytes(data[:-5])
    r = ingest(db_path, src)
    assert (r.status, r.accepted, r.rejected) == ("partial", 2, 0)
    assert "record 3: truncated" in r.message
    assert sorted(s["name"] for s in rows(db_path, "SELECT name FROM spans")) == ["p1", "p2"]


@pytest.mark.parametrize(("name", "words"), [
    ("empty.json", "file is empty"),
    ("unknown_signal.json", "unknown signal: no resourceSpans, resourceMetrics or resourceLogs (keys: data, version)"),
    ("notes.md", "not an OTLP file: it starts with text that is not JSON"),
])
def test_unreadable_files_fail_the_command(db_path: Path, name: str, words: str) -> None:
    src = BAD / name
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(src))
    assert res.exit_code == 1
    assert f"unreadable  {src}: 0 accepted" in res.stdout
    assert words in res.stdout
    assert "1 files could not be read completely" in res.stdout
    [f] = rows(db_path, "SELECT status, message FROM ingest_files")
    assert f["status"] == "unreadable" and words in f["message"]
    assert count(db_path, "spans") == 0


def test_good_file_beside_bad_ones_still_loads(db_path: Path) -> None:
    res = run_cli("ingest", "--db", str(db_path), "--quiet", str(BAD / "empty.json"), str(BAD / "mixed_spans.jsonl"))
    assert res.exit_code == 1
    assert count(db_path, "spans") == 4


def test_parse_id_rules() -> None:
    assert parse_id("5B8EFFF798038103D269B633813FC60C", 16, "traceId") == "5b8efff798038103d269b633813fc60c"
    assert parse_id("", 8, "spanId") is None and parse_id(None, 8, "spanId") is None
    assert parse_id(base64.b64encode(bytes.fromhex("eee19b7ec3c1b174")).decode(), 8, "spanId") == "eee19b7ec3c1b174"
    for bad, words in [("eee19b7ec3c1b17g", "not hexadecimal"), ("eee1 9b7ec3c1b17", "not hexadecimal"),
                       ("eee19b7e", "expected 16 hex characters, got 8"), (12, "expected a hex string, got int")]:
        with pytest.raises(Issue, match=words):
            parse_id(bad, 8, "spanId")


def test_out_of_range_promoted_numbers_are_not_promoted(tmp_path: Path, db_path: Path) -> None:
    """A token count too big for BIGINT must not sink the batch: it stays in `attributes` only."""
    span = _span("ovf", "0000000000000001", **{"gen_ai.usage.input_tokens": "99999999999999999999"})
    span["attributes"] = [*span["attributes"],  # type: ignore[list-item]
                          {"key": "http.request.body.size", "value": {"doubleValue": 1e30}},
                          {"key": "gen_ai.usage.output_tokens", "value": {"stringValue": "42"}}]
    src = tmp_path / "ovf.jsonl"
    src.write_bytes(_line([span]))
    r = ingest(db_path, src)
    assert (r.status, r.accepted, r.rejected) == ("complete", 1, 0)
    [s] = rows(db_path, "SELECT input_tokens, request_bytes, output_tokens, attributes FROM spans")
    assert (s["input_tokens"], s["request_bytes"], s["output_tokens"]) == (None, None, 42)
    assert s["attributes"]["gen_ai.usage.input_tokens"] == "99999999999999999999"
