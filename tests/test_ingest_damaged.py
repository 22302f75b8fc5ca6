"""Damaged OTLP files through `tierwise ingest`: the good records are kept, the bad ones are quarantined or the file's
failure is said plainly, and nothing ends in a traceback."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import zstandard
from click.testing import CliRunner, Result
from google.protobuf import json_format
from ingest_helpers import OTLP, count, rows
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from app.cli import cli

SPEC = OTLP / "otlp-file-exporter-spec"
LINES = {s: (SPEC / f"{s}.jsonl").read_bytes().splitlines(keepends=True) for s in ("traces", "metrics", "logs")}
SPANS_PER_LINE = 2
TRACES = b"".join(LINES["traces"])
BIG = "x" * (256 * 1024 + 1)
MISLEADING = ("not plausible", "truncated length prefix", "surrogates", "char 0")


def _cli(*args: str) -> Result:
    res = CliRunner().invoke(cli, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exc_info
    assert "Traceback" not in res.output
    return res


def _ingest(db: Path, *files: Path, options: tuple[str, ...] = ()) -> Result:
    return _cli("ingest", "--db", str(db), "--quiet", *options, *map(str, files))


def _quarantine(db: Path) -> list[dict[str, Any]]:
    got = rows(db, "SELECT source, record_no, field, reason FROM quarantine ORDER BY source, record_no")
    shown = _cli("quarantine", "--db", str(db), "--limit", "1000").output
    assert all(f"{q['source']}:{q['record_no']}: " in shown and q["reason"] for q in got)
    return got


def _result(res: Result, src: Path) -> str:
    """The summary line `tierwise ingest` printed for one file: `status  file: N accepted, … (message)`."""
    [line] = [x.strip() for x in res.stdout.splitlines() if f"  {src}: " in x]
    return line


def _framed(payloads: list[bytes]) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in payloads)


def _requests(signal: str) -> list[bytes]:
    """The spec's lines as the Collector's protobuf requests; log records without trace context, as most are."""
    kinds: dict[str, Any] = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
                             "logs": ExportLogsServiceRequest}
    kind = kinds[signal]
    out = []
    for line in LINES[signal]:
        msg = json_format.Parse(line, kind())
        for rl in getattr(msg, "resource_logs", ()):
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    lr.ClearField("trace_id")
                    lr.ClearField("span_id")
        out.append(msg.SerializeToString())
    return out


def _deep(levels: int, wrapper: str) -> bytes:
    """An attribute value inside `levels` arrays, maps or objects of an unknown field, as JSON text."""
    if wrapper == "unknownField":
        return b'{"stringValue":"x","unknownField":' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"
    inner = b'{"stringValue":"x"}'
    if wrapper == "arrayValue":
        return b'{"arrayValue":{"values":[' * levels + inner + b"]}}" * levels
    return b'{"kvlistValue":{"values":[{"key":"k","value":' * levels + inner + b"}]}}" * levels


def test_deep_nesting_quarantines_its_line_and_keeps_the_rest(tmp_path: Path) -> None:
    head, files, bad_lines = b'"attributes":[', [], []
    for wrapper in ("arrayValue", "kvlistValue", "unknownField"):
        deep = LINES["traces"][1].replace(head, head + b'{"key":"deep","value":' + _deep(1100, wrapper) + b"},", 1)
        for at in (0, 2):  # the first line decides the format: it must still read as JSON lines
            files.append(tmp_path / f"deep-{wrapper}-{at}.jsonl")
            files[-1].write_bytes(b"".join([*LINES["traces"][:at], deep, *LINES["traces"][at:]]))
            bad_lines.append((str(files[-1]), at + 1, "json"))
    later = tmp_path / "later.jsonl"
    later.write_bytes(TRACES)
    db = tmp_path / "store.duckdb"
    res = _ingest(db, *files, later)
    assert res.exit_code == 0, res.output
    good = len(LINES["traces"]) * SPANS_PER_LINE
    assert count(db, "spans") == good * (len(files) + 1)  # every good line of every file, and the file after them
    quarantined = _quarantine(db)
    assert [(q["source"], q["record_no"], q["field"]) for q in quarantined] == sorted(bad_lines)
    assert all("nested more than 1024 levels deep" in q["reason"] for q in quarantined)
    assert _result(res, files[0]) == f"complete  {files[0]}: {good} accepted, 1 rejected, 0 skipped"


def test_truncated_zstd_keeps_its_prefix_and_says_where_it_was_cut(tmp_path: Path) -> None:
    whole = zstandard.ZstdCompressor().compress(TRACES * 300)
    cut = whole[:-40]
    lines = zstandard.ZstdDecompressor().decompressobj().decompress(cut).count(b"\n")  # whole lines before the cut
    assert 0 < lines < 1200
    src = tmp_path / "cut.jsonl.zst"
    src.write_bytes(cut)
    checked = zstandard.ZstdCompressor(write_checksum=True).compress(TRACES * 50)
    cuts = {keep: tmp_path / f"cut{keep}.jsonl.zst" for keep in (5, 20, -1, -4)}  # header, first block, checksum
    for keep, path in cuts.items():
        path.write_bytes(checked[:keep])
    frames = [zstandard.ZstdCompressor(write_checksum=bool(i % 2)).compress(x) for i, x in enumerate(LINES["traces"])]
    skippable = (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    several = tmp_path / "frames.jsonl.zst"  # whole: its frame boundaries are not cuts
    several.write_bytes(b"".join(frames[:2]) + skippable + b"".join(frames[2:]))
    db = tmp_path / "store.duckdb"
    res = _ingest(db, src, *cuts.values(), several)
    assert res.exit_code == 1
    assert _result(res, src).startswith(f"partial  {src}: {lines * SPANS_PER_LINE} accepted, 0 rejected")
    assert f"the zstd stream is truncated at byte {len(cut)}" in _result(res, src)
    for keep, path in cuts.items():
        assert _result(res, path).split()[0] in ("partial", "unreadable")
        assert f"the zstd stream is truncated at byte {len(checked[:keep])}" in _result(res, path)
    assert "file is empty" not in res.output
    assert _result(res, several).startswith(f"complete  {several}: {len(LINES['traces']) * SPANS_PER_LINE} accepted")
    [f] = rows(db, "SELECT status, message FROM ingest_files WHERE source = $s", {"s": str(src)})
    assert f["status"] == "partial" and f"truncated at byte {len(cut)}" in f["message"]


def _points() -> int:
    return sum(len(body["dataPoints"]) for line in LINES["metrics"]
               for rm in orjson.loads(line)["resourceMetrics"] for sm in rm["scopeMetrics"] for m in sm["metrics"]
               for body in m.values() if isinstance(body, dict) and "dataPoints" in body)


def _logs() -> int:
    return sum(len(sl["logRecords"]) for line in LINES["logs"]
               for rl in orjson.loads(line)["resourceLogs"] for sl in rl["scopeLogs"])


def _interleaved(signals: list[str]) -> list[bytes]:
    """Each signal's requests in file order, split evenly over the places the signal takes in `signals`."""
    out: list[bytes] = []
    for i, s in enumerate(signals):
        reqs, k, n = _requests(s), signals[:i].count(s), signals.count(s)
        size = len(reqs) // n
        out += reqs[k * size:(k + 1) * size if k < n - 1 else None]
    return out


def test_mixed_signal_protobuf_reads_each_record_as_its_own_signal(tmp_path: Path) -> None:
    orders = ["traces,logs,traces", "traces,metrics", "metrics,traces", "logs,metrics,traces"]
    files = [tmp_path / f"{order.replace(',', '-')}.binpb" for order in orders]
    for order, path in zip(orders, files, strict=True):
        path.write_bytes(_framed(_interleaved(order.split(","))))
    db = tmp_path / "store.duckdb"
    res = _ingest(db, *files)
    assert res.exit_code == 0, res.output
    for order, path in zip(orders, files, strict=True):
        spans = len(LINES["traces"]) * SPANS_PER_LINE if "traces" in order else 0
        points = _points() if "metrics" in order else 0
        logs = _logs() if "logs" in order else 0
        assert _result(res, path) == f"complete  {path}: {spans + points} accepted, 0 rejected, {logs} skipped"
    assert count(db, "spans") == 4 * len(LINES["traces"]) * SPANS_PER_LINE
    assert count(db, "metric_points") == 3 * _points()
    assert {r["name"] for r in rows(db, "SELECT DISTINCT name FROM spans")} == {"operationA", "operationB"}
    assert _quarantine(db) == []


def test_a_forced_signal_still_decides_every_record(tmp_path: Path) -> None:
    src = tmp_path / "metrics.binpb"
    src.write_bytes(_framed(_requests("metrics")))
    db = tmp_path / "store.duckdb"
    res = _ingest(db, src, options=("--signal", "metrics"))
    assert res.exit_code == 0, res.output
    assert count(db, "metric_points") == _points()


def _messages_cases() -> list[tuple[str, bytes, str, str]]:
    """(case, file content, status, words of the message)."""
    bad_utf8 = LINES["traces"][1].replace(b"operationA", b"operation\xffA", 1)
    at = bad_utf8.index(b"\xff")
    return [
        ("utf-8 bom", b"\xef\xbb\xbf" + TRACES, "complete", f"{len(LINES['traces']) * SPANS_PER_LINE} accepted"),
        ("utf-8 bom, gzip", gzip.compress(b"\xef\xbb\xbf" + TRACES), "complete", "0 rejected"),
        ("utf-16", TRACES.decode().encode("utf-16"), "unreadable", "file is UTF-16 text"),
        ("utf-16 be", b"\xfe\xff" + TRACES.decode().encode("utf-16-be"), "unreadable", "re-save the file as UTF-8"),
        ("bom only", b"\xef\xbb\xbf", "unreadable", "it holds only a UTF-8 byte-order mark"),
        ("gzip twice", gzip.compress(gzip.compress(TRACES)), "unreadable", "compressed twice: undoing gzip leaves gzip"),
        ("zstd in gzip", gzip.compress(zstandard.ZstdCompressor().compress(TRACES)), "unreadable", "leaves zstd-"),
        ("bad utf-8", LINES["traces"][0] + bad_utf8, "complete", f"not valid UTF-8: byte 0xff at byte {at} of the line"),
        ("cut protobuf", _framed(_requests("traces"))[:-3], "partial", "record 4: truncated"),
    ]


def test_messages_say_what_was_found_and_what_to_do(tmp_path: Path) -> None:
    cases = _messages_cases()
    files = [tmp_path / f"{name.replace(' ', '-')}.jsonl" for name, *_ in cases]
    for (_, data, _, _), path in zip(cases, files, strict=True):
        path.write_bytes(data)
    res = _ingest(tmp_path / "store.duckdb", *files)
    assert res.exit_code == 1
    for (name, _, status, words), path in zip(cases, files, strict=True):
        assert _result(res, path).startswith(f"{status}  {path}: "), (name, _result(res, path))
        assert any(words in x for x in res.output.splitlines() if f"{path}:" in x), (name, res.output)
    assert not any(m in res.output for m in MISLEADING), res.output


def _span(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(LINES["traces"][0])
    scope = doc["resourceSpans"][0]["scopeSpans"][0]
    scope["spans"] = [{**scope["spans"][0], "events": [], **over}]
    return doc


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "x"}
    for _ in range(levels):
        value = {"arrayValue": {"values": [value]}}
    return value


# (case, span fields, field quarantined (None: stored), words of the reason): the same for JSON and protobuf
LIMITS: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("good", {}, None, ""),
    ("nested 16", {"attributes": [{"key": "n", "value": _nested(16)}]}, None, ""),
    ("nested 17", {"attributes": [{"key": "n", "value": _nested(17)}]}, "", "nested in more than 16 arrays or maps"),
    ("huge name", {"name": BIG}, "name", "262145 bytes, above the 262144-byte limit"),
    ("huge key", {"attributes": [{"key": BIG, "value": {"stringValue": "v"}}]}, "attributes[", "key is 262145 bytes"),
    ("huge status message", {"status": {"code": 2, "message": BIG}}, "status.message", "above the 262144-byte limit"),
    ("huge traceState", {"traceState": BIG}, "traceState", "above the 262144-byte limit"),
    ("event time 2^63", {"events": [{"timeUnixNano": str(2**63), "name": "e"}]}, "events[0].timeUnixNano",
     f"integer {2**63} is out of range"),
]
JSON_ONLY = [(f"time {text!r}", {"startTimeUnixNano": text}, "startTimeUnixNano", "decimal digits only")
             for text in ("1_581_452_772_000_000_321", "+1581452772000000321", " 1581452772000000321 ")] + [
    ("intValue '+5'", {"attributes": [{"key": "i", "value": {"intValue": "+5"}}]}, "", "decimal digits only")]


def test_json_and_protobuf_keep_the_same_limits(tmp_path: Path) -> None:
    cases = LIMITS + JSON_ONLY
    jsonl, pb = tmp_path / "limits.jsonl", tmp_path / "limits.binpb"
    jsonl.write_bytes(b"".join(orjson.dumps(_span(**over)) + b"\n" for _, over, _, _ in cases))
    pb.write_bytes(_framed([json_format.ParseDict(_span(**over), ExportTraceServiceRequest()).SerializeToString()
                            for _, over, _, _ in LIMITS]))
    db = tmp_path / "store.duckdb"
    res = _ingest(db, jsonl, pb)
    assert res.exit_code == 0, res.output
    stored = sum(field is None for _, _, field, _ in LIMITS)
    assert count(db, "spans") == 2 * stored
    quarantined = _quarantine(db)
    for src, expected in ((jsonl, cases), (pb, LIMITS)):
        got = {q["record_no"]: q for q in quarantined if q["source"] == str(src)}
        want = {i: (name, field, words) for i, (name, _, field, words) in enumerate(expected, 1) if field is not None}
        assert sorted(got) == sorted(want), (src, got.keys())
        for i, (name, field, words) in want.items():
            assert got[i]["field"].startswith(field) and words in got[i]["reason"], (src.name, name, got[i])
