"""The generator: byte-identical for one seed, the SDK's span shape, and a complete estate that ingests cleanly."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from sample_data.generate import Options, generate
from store import contract as c
from store.settings import load_settings

END = date(2026, 11, 28)
PATTERNS = {"on-device-first", "edge-filters-cloud-decides", "cloud-trains-edge-serves", "cdn-assisted"}


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("fmt", "gz"), [("json", False), ("proto", True)])
def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path, fmt: str, gz: bool) -> None:
    opts = Options(seed=7, spans=3000, days=2, end=END, fmt=fmt, gzip=gz)
    generate(tmp_path / "a", opts)
    generate(tmp_path / "b", opts, workers=2)
    generate(tmp_path / "c", Options(seed=8, spans=3000, days=2, end=END, fmt=fmt, gzip=gz))
    a, b, other = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert len(a) >= 2 * 2 + 4
    assert a == b
    traces = [k for k in a if k.startswith("traces/")]
    assert all(a[k] != other[k] for k in traces)


def _sdk_trace() -> dict[str, object]:
    """A device → server hop emitted by the real OpenTelemetry SDK and encoded by its OTLP encoder."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.propagate import extract, inject
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "kiosk-copilot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("opentelemetry.instrumentation.httpx", "0.58b0")
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("kiosk.ask"), tracer.start_as_current_span("POST", kind=SpanKind.CLIENT):
        inject(carrier)
    with tracer.start_as_current_span("POST /v1/kiosk/answer", kind=SpanKind.SERVER, context=extract(carrier)):
        pass
    doc: dict[str, object] = json_format.MessageToDict(encode_spans(exporter.get_finished_spans()),
                                                       use_integers_for_enums=True)
    return doc


def test_generated_spans_have_the_sdk_shape(tmp_path: Path) -> None:
    generate(tmp_path, Options(seed=3, spans=2000, days=1, end=END))
    line = (tmp_path / "traces" / "traces-2026-11-27.jsonl").read_bytes().split(b"\n")[0]
    ours = orjson.loads(line)
    sdk = _sdk_trace()
    sdk_spans = {s["kind"]: s for rs in sdk["resourceSpans"] for ss in rs["scopeSpans"]  # type: ignore[attr-defined]
                 for s in ss["spans"]}
    our_spans = [s for rs in ours["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert set(ours["resourceSpans"][0]) == set(sdk["resourceSpans"][0])  # type: ignore[index]
    assert set(ours["resourceSpans"][0]["scopeSpans"][0]["scope"]) == {"name", "version"}
    by_kind = {s["kind"]: s for s in our_spans}
    assert {1, 2, 3} <= set(by_kind)
    for kind in (1, 2, 3):
        required = set(sdk_spans[kind]) - {"events"}
        assert required <= set(by_kind[kind]), (kind, required - set(by_kind[kind]))
        assert by_kind[kind]["flags"] == sdk_spans[kind]["flags"]
    ids = {s["spanId"] for s in our_spans}
    servers = [s for s in our_spans if s["kind"] == 2]
    assert servers and all(s["parentSpanId"] in ids for s in servers)  # a batch holds whole traces
    parents = {s["spanId"]: s for s in our_spans}
    assert all(parents[s["parentSpanId"]]["kind"] == 3 for s in servers)  # every SERVER is called by a CLIENT


def test_proto_and_json_carry_the_same_spans(tmp_path: Path) -> None:
    generate(tmp_path / "j", Options(seed=5, spans=1500, days=1, end=END))
    generate(tmp_path / "p", Options(seed=5, spans=1500, days=1, end=END, fmt="proto", gzip=True))
    raw = gzip.decompress((tmp_path / "p" / "traces" / "traces-2026-11-27.binpb.gz").read_bytes())
    size = int.from_bytes(raw[:4], "big")
    msg = ExportTraceServiceRequest()
    msg.ParseFromString(raw[4:4 + size])
    proto_doc = json_format.MessageToDict(msg, use_integers_for_enums=True)
    json_doc = orjson.loads((tmp_path / "j" / "traces" / "traces-2026-11-27.jsonl").read_bytes().split(b"\n")[0])
    p_spans = [s for rs in proto_doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    j_spans = [s for rs in json_doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(p_spans) == len(j_spans) > 100
    assert [(s["name"], s["startTimeUnixNano"], len(s["attributes"])) for s in p_spans] == \
           [(s["name"], s["startTimeUnixNano"], len(s["attributes"])) for s in j_spans]
    raw = gzip.decompress((tmp_path / "p" / "metrics" / "metrics-2026-11-27.binpb.gz").read_bytes())
    pm = ExportMetricsServiceRequest()
    pm.ParseFromString(raw[4:4 + int.from_bytes(raw[:4], "big")])
    jm = (tmp_path / "j" / "metrics" / "metrics-2026-11-27.jsonl").read_bytes().split(b"\n")[0]
    assert pm == json_format.ParseDict(orjson.loads(jm), ExportMetricsServiceRequest())
    from app.output_ingest import run_ingest

    results = run_ingest([tmp_path / "p"], load_settings(db=tmp_path / "p.duckdb"), None, progress=False)
    assert all(r.ok and r.rejected == 0 for r in results) and sum(r.accepted for r in results) > len(p_spans)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from app.output_ingest import run_ingest

    root = tmp_path_factory.mktemp("estate")
    generate(root / "estate", Options(seed=11, spans=12000, days=4, end=END))
    db = root / "store.duckdb"
    results = run_ingest([root / "estate"], load_settings(db=db), None, progress=False)
    rejected = [(r.source, r.status, r.rejected, r.message) for r in results if r.rejected or not r.ok]
    assert rejected == []
    assert sum(r.accepted for r in results) > 12000
    return root / "estate", db


def test_every_tier_workload_type_data_class_and_pattern_is_present(estate: tuple[Path, Path]) -> None:
    con = duckdb.connect(str(estate[1]), read_only=True)

    def col(sql: str) -> set[Any]:
        return {r[0] for r in con.execute(sql).fetchall()}

    def one(sql: str) -> Any:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row[0]
    assert col("SELECT DISTINCT tier FROM spans") == set(c.TIERS)
    assert col("SELECT DISTINCT tier_source FROM spans") == {"declared"}
    assert col("SELECT DISTINCT workload_type FROM spans") == set(c.WORKLOAD_TYPES)
    assert col("SELECT DISTINCT data_class FROM spans") == set(c.DATA_CLASSES)
    assert col("SELECT DISTINCT attributes->>'$.\"tierwise.pattern\"' FROM spans") == PATTERNS
    assert len(col("SELECT DISTINCT workload FROM spans")) >= 8
    assert col("SELECT DISTINCT kind FROM spans") >= {"internal", "server", "client", "consumer"}
    assert col("SELECT DISTINCT site FROM spans WHERE tier = 'edge'") >= {
        "factory-plant-1", "hospital-central", "retail-store-07", "telco-metro-1", "cdn-pop-fra"}
    assert col("SELECT DISTINCT resource_attributes->>'$.\"device.model.identifier\"' FROM spans "
               "WHERE tier = 'device'") >= {"iPhone16,1", "ELO-I3-22", "ID7-ICAS3"}
    assert col("SELECT DISTINCT attributes->>'$.\"tierwise.escalation.reason\"' FROM spans WHERE kind = 'client'") >= {
        "low_confidence", "input_too_large", "edge_unavailable", "cache_miss", "edge_capacity"}
    assert one("SELECT count(*) FROM spans WHERE input_tokens > 0 AND gen_ai_model IS NOT NULL") > 0
    assert one("SELECT count(*) FROM spans WHERE cache_hit") > 0
    assert one("SELECT count(*) FROM spans WHERE cache_read_tokens > 0") > 0
    assert col("SELECT DISTINCT metric_name FROM metric_points") >= {
        "hw.gpu.utilization", "DCGM_FI_DEV_GPU_UTIL", "hw.gpu.memory.usage", "DCGM_FI_DEV_FB_USED",
        "tierwise.queue.depth", "system.network.io", "tierwise.cache.lookups"}
    assert one("SELECT min(canonical_value) FROM metric_points WHERE canonical_name = 'gpu_utilization_ratio'") >= 0
    assert one("SELECT max(canonical_value) FROM metric_points WHERE canonical_name = 'gpu_utilization_ratio'") <= 1


def test_ingesting_again_adds_nothing(estate: tuple[Path, Path]) -> None:
    from app.output_ingest import run_ingest

    results = run_ingest([estate[0]], load_settings(db=estate[1]), None, progress=False)
    assert {r.status for r in results} == {"already-ingested"}


def test_demo_generates_ingests_and_reruns_from_what_exists(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.cli import cli

    args = ["demo", "--dir", str(tmp_path / "demo"), "--spans", "3000", "--days", "2"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "generated" in first.output and "hyperscale" in first.output and "Effective cost by tier" in first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "reusing the generated estate" in again.output and "already ingested" in again.output
