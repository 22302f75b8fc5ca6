"""The OTLP/HTTP receiver: real SDK exporters, real HTTP, real processes killed with SIGKILL."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from receiver_helpers import TIERWISE, start_receiver
from serve_helpers import free_port

import store
from ingest.receiver.decoders import accept
from ingest.receiver.server import Receiver, ReceiverConfig
from ingest.receiver.spool import Folder, Spool, default_spool_dir
from ingest.receiver.wire import HttpError, decompress
from store.settings import load_settings

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


@contextmanager
def receiver(db: Path, token: str | None = None, **limits: Any) -> Iterator[Receiver]:
    """A receiver in this process on a free port; the folder only folds when a test asks."""
    config = ReceiverConfig(port=free_port(), **{"fold_interval_s": 3600.0, **limits})
    rx = Receiver(load_settings(db=db, token=token), config).start()
    try:
        yield rx
    finally:
        rx.stop()


def post(url: str, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Query the store read-only, retrying while a writer process holds it (as the dashboard does)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def json_span(i: int, trace_id: str = TRACE_ID) -> dict[str, Any]:
    return {"traceId": trace_id, "spanId": f"{i:016x}", "name": f"op-{i}", "kind": 2,
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": str(1700000000000000000 + i * 1_000_000),
            "attributes": [{"key": "i", "value": {"intValue": str(i)}}]}


def traces_doc(spans: list[dict[str, Any]]) -> bytes:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]}).encode()


def sdk_spans(n: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-svc", "tierwise.tier": "edge"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tierwise-test")
    for i in range(n):
        with tracer.start_as_current_span(f"infer-{i}", attributes={"i": i, "gen_ai.request.model": "m-1"}):
            pass
    provider.shutdown()
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_sdk_spans_are_stored_exactly_once(db_path: Path, compression: Compression) -> None:
    spans = sdk_spans(40)
    with receiver(db_path) as rx:
        exporter = OTLPSpanExporter(endpoint=f"{rx.url}/v1/traces", compression=compression, timeout=10)
        assert exporter.export(spans[:25]) == SpanExportResult.SUCCESS
        assert exporter.export(spans[25:]) == SpanExportResult.SUCCESS
        assert exporter.export(spans[:25]) == SpanExportResult.SUCCESS  # a retry of the same batch
        assert rx.folder.fold_once().folded == 3
        assert rx.spool.ready() == [] and rx.spool.backlog_bytes == 0
    stored = rows(db_path, "SELECT trace_id, span_id, name, service_name, tier, attributes->>'i', gen_ai_model, "
                           "duration_ns FROM spans")
    sent = {(f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}"): s for s in spans}
    assert len(stored) == len(sent) == 40
    for trace_id, span_id, name, service, tier, i, model, duration_ns in stored:
        s = sent[(trace_id, span_id)]
        assert (name, service, tier, model) == (s.name, "sdk-svc", "edge", "m-1")
        assert s.attributes is not None and int(i) == s.attributes["i"]
        assert s.end_time is not None and s.start_time is not None
        assert duration_ns == s.end_time - s.start_time


def test_sdk_metrics_are_stored(db_path: Path) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "gw"}))
    meter = provider.get_meter("tierwise-test")
    meter.create_counter("requests").add(7, {"route": "/infer"})
    latency = meter.create_histogram("latency", unit="ms")
    for v in (5.0, 15.0, 250.0):
        latency.record(v)
    data = reader.get_metrics_data()
    assert data is not None
    with receiver(db_path) as rx:
        exporter = OTLPMetricExporter(endpoint=f"{rx.url}/v1/metrics", compression=Compression.Gzip, timeout=10)
        assert exporter.export(data).name == "SUCCESS"
        exporter.shutdown()
        rx.folder.fold_once()
    got = {r[0]: r[1:] for r in rows(db_path, "SELECT metric_name, metric_type, value, count, sum, service_name "
                                              "FROM metric_points")}
    assert got["requests"] == ("sum", 7.0, None, None, "gw")
    assert got["latency"] == ("histogram", None, 3, 270.0, "gw")


def test_json_partial_success_quarantines_only_the_bad_span(db_path: Path) -> None:
    body = traces_doc([json_span(1), json_span(2, trace_id="not-hex"), json_span(3)])
    with receiver(db_path) as rx:
        status, headers, answer = post(f"{rx.url}/v1/traces", body)
        assert status == 200 and headers["content-type"] == "application/json"
        partial = json.loads(answer)["partialSuccess"]
        assert int(partial["rejectedSpans"]) == 1 and "traceId" in partial["errorMessage"]
        status, _, answer = post(f"{rx.url}/v1/traces", traces_doc([json_span(9)]))
        assert (status, json.loads(answer)) == (200, {})
        rx.folder.fold_once()
    assert sorted(rows(db_path, "SELECT span_id FROM spans")) == [(f"{i:016x}",) for i in (1, 3, 9)]
    assert rows(db_path, "SELECT item, field FROM quarantine") == [("resourceSpans[0].scopeSpans[0].spans[1]", "traceId")]


def test_metrics_partial_success_counts_data_points(db_path: Path) -> None:
    def gauge(name: str, *values: Any) -> dict[str, Any]:
        return {"name": name, "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asDouble": v}
                                                       for v in values]}}
    body = json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        gauge("queue_depth", 3, 4), gauge("broken", "not a number")]}]}]}).encode()
    with receiver(db_path) as rx:
        status, _, answer = post(f"{rx.url}/v1/metrics", gzip.compress(body), headers={"Content-Encoding": "gzip"})
        rx.folder.fold_once()
    assert status == 200 and int(json.loads(answer)["partialSuccess"]["rejectedDataPoints"]) == 1
    assert sorted(rows(db_path, "SELECT metric_name, value FROM metric_points")) == [("queue_depth", 3.0),
                                                                                     ("queue_depth", 4.0)]


def test_concurrent_posts_while_folding_are_stored_exactly_once(db_path: Path) -> None:
    with receiver(db_path, fold_interval_s=0.05) as rx:
        def client(c: int) -> None:
            for r in range(10):
                spans = [json_span(c * 1000 + r * 10 + k) for k in range(5)]
                assert post(f"{rx.url}/v1/traces", traces_doc(spans))[0] == 200
        threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert rx.spool.ready() == []
    assert rows(db_path, "SELECT count(*), count(DISTINCT span_id) FROM spans") == [(200, 200)]


def test_protobuf_answers_in_protobuf_with_partial_success(db_path: Path) -> None:
    req = ExportTraceServiceRequest()
    for i, trace_id in enumerate((bytes.fromhex(TRACE_ID), b"\x01\x02\x03")):
        sp = req.resource_spans.add().scope_spans.add().spans.add()
        sp.trace_id, sp.span_id, sp.name = trace_id, (i + 1).to_bytes(8, "big"), "op"
        sp.start_time_unix_nano, sp.end_time_unix_nano = 1, 2
    with receiver(db_path) as rx:
        status, headers, answer = post(f"{rx.url}/v1/traces", req.SerializeToString(), "application/x-protobuf")
        rx.folder.fold_once()
    assert status == 200 and headers["content-type"] == "application/x-protobuf"
    resp = ExportTraceServiceResponse.FromString(answer)
    assert resp.partial_success.rejected_spans == 1
    assert rows(db_path, "SELECT span_id FROM spans") == [("0000000000000001",)]


def test_bad_requests_are_refused_and_logs_are_not_stored(db_path: Path) -> None:
    with receiver(db_path) as rx:
        status, _, answer = post(f"{rx.url}/v1/traces", b"{not json")
        assert status == 400 and json.loads(answer)["code"] == 3
        assert post(f"{rx.url}/v1/traces", b"\xff\xfe garbage", "application/x-protobuf")[0] == 400
        assert post(f"{rx.url}/v1/metrics", b'{"resourceMetrics": 5}')[0] == 400
        assert post(f"{rx.url}/v1/traces", b"\x1f\x8b broken", headers={"Content-Encoding": "gzip"})[0] == 400
        assert post(f"{rx.url}/v1/traces", traces_doc([]), "text/plain")[0] == 415
        assert post(f"{rx.url}/v1/traces", traces_doc([]), headers={"Content-Encoding": "br"})[0] == 415
        logs = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "hi"}}]}]}]})
        assert post(f"{rx.url}/v1/logs", logs.encode())[:1] == (200,)
        assert rx.spool.ready() == []


def test_bearer_token(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_TOKEN", "s3cret")
    with receiver(db_path) as rx:
        assert rx.settings.token == "s3cret"
        url, body = f"{rx.url}/v1/traces", traces_doc([json_span(1)])
        assert post(url, body)[0] == 401
        assert post(url, body, headers={"Authorization": "Bearer wrong"})[0] == 401
        assert post(url, body, headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert len(rx.spool.ready()) == 1


def test_backlog_limit_asks_clients_to_retry(db_path: Path) -> None:
    with receiver(db_path, max_backlog_bytes=1) as rx:
        url = f"{rx.url}/v1/traces"
        assert post(url, traces_doc([json_span(1)]))[0] == 200
        status, headers, _ = post(url, traces_doc([json_span(2)]))
        assert status == 503 and int(headers["retry-after"]) >= 1
        rx.folder.fold_once()
        assert post(url, traces_doc([json_span(2)]))[0] == 200


def bomb(decompressed_bytes: int) -> bytes:
    """Concatenated gzip members of zeros: about 1 KiB on the wire per MiB once inflated."""
    member = gzip.compress(b"\0" * (8 << 20))
    return member * (decompressed_bytes // (8 << 20))


def test_decompress_caps_output_and_reads_concatenated_members() -> None:
    with pytest.raises(HttpError) as err:
        decompress(bomb(64 << 20), "gzip", 32 << 20)
    assert err.value.status == 413
    assert decompress(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", 10) == b"abcd"
    with pytest.raises(HttpError, match="truncated"):
        decompress(gzip.compress(b"x" * 1000)[:-12], "gzip", 10_000)


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_gzip_bomb_is_refused_with_bounded_memory(db_path: Path, tmp_path: Path) -> None:
    port = free_port()
    proc = start_receiver(db_path, port, tmp_path / "receiver.log", "--token", "t0k")
    try:
        before = peak_rss_bytes(proc.pid)
        payload = bomb(1 << 30)  # 1 GiB of zeros in about 1 MiB
        url = f"http://127.0.0.1:{port}/v1/traces"
        assert post(url, payload, headers={"Content-Encoding": "gzip"})[0] == 401
        status, _, answer = post(url, payload, headers={"Content-Encoding": "gzip", "Authorization": "Bearer t0k"})
        assert status == 413 and b"after decompression" in answer
        growth = peak_rss_bytes(proc.pid) - before
        assert growth < 200 << 20, f"peak RSS grew by {growth >> 20} MiB for a 1 GiB bomb"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_what_was_answered_200_survives_kill_9(db_path: Path, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "receiver.log"
    proc = start_receiver(db_path, port, log, "--fold-interval", "3600")
    url = f"http://127.0.0.1:{port}"
    req = ExportTraceServiceRequest()
    sp = req.resource_spans.add().scope_spans.add().spans.add()
    sp.trace_id, sp.span_id, sp.name, sp.end_time_unix_nano = bytes.fromhex(TRACE_ID), b"\x00" * 7 + b"\x63", "pb", 5
    assert post(f"{url}/v1/traces", traces_doc([json_span(i) for i in range(1, 6)]))[0] == 200
    assert post(f"{url}/v1/traces", req.SerializeToString(), "application/x-protobuf")[0] == 200
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    spool = default_spool_dir(db_path)
    assert len(list(spool.iterdir())) == 2
    # manual recovery: the spool folder is an ordinary ingest input
    done = subprocess.run([str(TIERWISE), "ingest", str(spool), "--db", str(db_path), "--quiet"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rows(db_path, "SELECT count(*) FROM spans") == [(6,)]
    # a restarted receiver folds the same files again: already ingested, so nothing doubles
    proc = start_receiver(db_path, port, log, "--fold-interval", "0.2")
    deadline = time.monotonic() + 20
    while list(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    assert list(spool.iterdir()) == []
    assert sorted(rows(db_path, "SELECT span_id FROM spans")) == [(f"{i:016x}",) for i in (1, 2, 3, 4, 5, 99)]


@pytest.mark.slow
def test_fold_waits_while_another_process_holds_the_store(db_path: Path, tmp_path: Path) -> None:
    store.open_writer(db_path).close()
    settings = load_settings(db=db_path)
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / ".tmp-cut-short").write_bytes(b'{"resourceSp')  # a write a crash interrupted
    spool = Spool(tmp_path / "spool")
    assert not (tmp_path / "spool" / ".tmp-cut-short").exists()
    spool.write("traces", accept("traces", "json", traces_doc([json_span(1)]), settings).spooled or b"")
    folder = Folder(spool, settings)
    reader = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
                               "print('open', flush=True); sys.stdin.read()", str(db_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == b"open"
        assert folder.fold_once().locked
        assert len(spool.ready()) == 1
    finally:
        reader.communicate(timeout=10)
    assert folder.fold_once().folded == 1
    assert rows(db_path, "SELECT count(*) FROM spans") == [(1,)]
