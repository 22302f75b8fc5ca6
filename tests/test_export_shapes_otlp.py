"""Real OTLP shapes that used to break: pretty-printed documents back to back, and metrics with neither name nor data."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import orjson
import pytest
from google.protobuf import json_format
from ingest_helpers import ingest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from ingest.files.documents import split
from ingest.files.sources import Record
from ingest.otlp.decode import decode_batch
from ingest.receiver.wire import decode_request
from store.settings import Settings

SHAPES = Path(__file__).parent / "fixtures" / "export_shapes"
TRACES = SHAPES / "jq-traces-two-documents.json"
MIXED = SHAPES / "jq-mixed-signals.json"
NAMELESS = SHAPES / "metrics-nameless-empty-metric.jsonl"


def _count(db: Path, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    finally:
        con.close()


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
def test_jq_output_of_two_trace_files_loads_every_span(tmp_path: Path, fast: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_INGEST_FAST", "1" if fast else "0")
    res = ingest(tmp_path / "s.duckdb", TRACES)
    assert (res.status, res.accepted, res.rejected, res.signals) == ("complete", 5, 0, ("traces",)), res.message
    assert _count(tmp_path / "s.duckdb", "spans") == 5


def test_jq_output_mixing_traces_metrics_and_logs_reads_each_document_as_its_signal(tmp_path: Path) -> None:
    res = ingest(tmp_path / "s.duckdb", MIXED)
    assert (res.status, res.rejected, res.skipped) == ("complete", 0, 1), res.message  # the log record is skipped
    assert res.signals == ("logs", "metrics", "traces")
    assert (_count(tmp_path / "s.duckdb", "spans"), _count(tmp_path / "s.duckdb", "metric_points")) == (3, 3)


def test_gzip_of_the_jq_output_loads_the_same(tmp_path: Path) -> None:
    packed = tmp_path / "traces.json.gz"
    packed.write_bytes(gzip.compress(TRACES.read_bytes()))
    res = ingest(tmp_path / "s.duckdb", packed)
    assert (res.status, res.accepted, res.rejected) == ("complete", 5, 0), res.message


def test_a_broken_document_costs_only_itself_and_is_named_by_the_line_it_starts_on(tmp_path: Path) -> None:
    docs = TRACES.read_text().split("\n}\n")
    broken = tmp_path / "broken.json"
    # The first document loses a comma; the second stays whole.
    broken.write_text(docs[0].replace('"kind": 2,', '"kind": 2', 1) + "\n}\n" + docs[1] + "\n}\n")
    res = ingest(tmp_path / "s.duckdb", broken)
    second_starts = docs[0].count("\n") + 3
    assert res.status == "complete" and res.accepted == 3, res.message
    assert [(r.record_no, r.item) for r in res.rejections] == [(1, "record")]
    assert "invalid JSON at line" in res.rejections[0].reason
    assert [n for n, _ in split(broken.read_bytes())] == [1, second_starts]


def test_a_brace_pair_inside_a_string_is_not_a_document_boundary() -> None:
    doc = orjson.dumps({"resourceSpans": [], "note": "a} {b", "n": {"x": "}\t{"}}, option=orjson.OPT_INDENT_2)
    assert [d for _, d in split(doc + b"\n" + doc)] == [doc, doc]
    assert list(split(doc)) == [(1, doc)]
    many = orjson.dumps({"resourceSpans": [{"v": "} {"} for _ in range(20000)]})  # one document, parsed once
    assert [n for n, _ in split(many + b"\n" + doc + b"garbage")] == [1, 2, 2 + doc.count(b"\n")]


def _nameless_docs() -> list[dict[str, object]]:
    return [orjson.loads(line) for line in NAMELESS.read_bytes().splitlines()]


def test_a_metric_with_neither_name_nor_data_is_no_row_and_no_rejection_from_json_lines(tmp_path: Path) -> None:
    res = ingest(tmp_path / "s.duckdb", NAMELESS)
    assert (res.status, res.accepted, res.rejected, res.rejections) == ("complete", 3, 0, ()), res.message
    assert _count(tmp_path / "s.duckdb", "quarantine") == 0


@pytest.mark.parametrize("signal", [None, "metrics"], ids=["sniffed", "forced"])
def test_the_same_metrics_as_protobuf_give_the_same_rows_and_no_rejection(signal: str | None) -> None:
    records = [Record(i, json_format.ParseDict(d, ExportMetricsServiceRequest()).SerializeToString())
               for i, d in enumerate(_nameless_docs(), 1)]
    got = decode_batch(records, "proto", Settings(), signal=signal)
    assert (got.accepted, got.rejections, got.skipped) == (3, (), 0)
    alone = decode_batch(records[1:], "proto", Settings(), signal=signal)  # a request whose only metric is empty
    assert (alone.accepted, alone.rejections, alone.skipped) == (0, (), 0)


@pytest.mark.parametrize("fmt", ["json", "proto"])
def test_the_receiver_takes_such_a_request_without_a_partial_success(fmt: str) -> None:
    for doc, rows in zip(_nameless_docs(), (3, 0), strict=True):
        body = orjson.dumps(doc) if fmt == "json" else \
            json_format.ParseDict(doc, ExportMetricsServiceRequest()).SerializeToString()
        got = decode_request("metrics", fmt, body, Settings())
        assert (got.accepted, got.rejections) == (rows, ())


def test_a_named_metric_with_data_but_a_nameless_one_with_data_is_still_rejected() -> None:
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"gauge": {"dataPoints": [{"timeUnixNano": "1", "asDouble": 1.0}]}}]}]}]}
    got = decode_batch([Record(1, orjson.dumps(doc))], "jsonl", Settings())
    assert [(r.field, r.rows) for r in got.rejections] == [("name", 1)]
