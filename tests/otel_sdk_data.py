"""Telemetry made with the real OpenTelemetry Python SDK and written in every file form tierwise reads."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import zstandard
from google.protobuf.json_format import MessageToDict
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

BIG_INT = 2**62 + 12345  # beyond 2^53: must survive without passing through a double
T0 = 1_700_000_000_123_456_789
RESOURCE = Resource.create({"service.name": "rt-svc", "tierwise.tier": "edge", "tierwise.site": "edge-ams-1",
                            "tierwise.workload": "chat", "tierwise.data_class": "Internal", "host.name": "node-7"})


def make_spans() -> list[ReadableSpan]:
    """Spans of every kind and status with attributes of every type, events and links."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("rt.tracer", "2.3.4")
    attrs: dict[str, Any] = {"s": "text ü", "i": 42, "big": BIG_INT, "neg": -BIG_INT, "d": 3.25, "b": True,
                             "f": False, "arr_s": ["a", "b"], "arr_i": [1, BIG_INT], "arr_d": [0.5, 1.5],
                             "arr_b": [True, False], "gen_ai.request.model": "m-1", "gen_ai.usage.input_tokens": 17,
                             "tierwise.cache.hit": True, "tierwise.latency_budget_ms": 250}
    root = tracer.start_span("root", kind=SpanKind.SERVER, attributes=attrs, start_time=T0)
    ctx = trace.set_span_in_context(root)
    kinds = [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]
    for n, kind in enumerate(kinds):
        child = tracer.start_span(f"child-{n}", context=ctx, kind=kind, start_time=T0 + 1000 * (n + 1),
                                  links=[Link(root.get_span_context(), {"link.n": n, "link.ok": True})])
        child.add_event("evt", {"e.i": n, "e.d": 0.25, "e.arr": ["x"]}, timestamp=T0 + 1500 * (n + 1))
        child.add_event("second", timestamp=T0 + 1600 * (n + 1))
        if n == 1:
            child.set_status(Status(StatusCode.ERROR, "upstream timed out"))
        elif n == 2:
            child.set_status(Status(StatusCode.OK))
        child.end(end_time=T0 + 10_000 * (n + 1) + 7)
    root.end(end_time=T0 + 987_654_321)
    provider.shutdown()
    return list(exporter.get_finished_spans())


def make_metrics() -> MetricsData:
    """Counter, up-down counter, gauge, histogram and an exponential histogram (through a View)."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader],
                             views=[View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())])
    meter = provider.get_meter("rt.meter", "0.9")
    counter = meter.create_counter("requests", unit="{request}", description="served")
    counter.add(5, {"route": "/a"})
    counter.add(7, {"route": "/b"})
    updown = meter.create_up_down_counter("tierwise.queue.depth")
    updown.add(10)
    updown.add(-3)
    meter.create_gauge("hw.gpu.utilization", unit="1").set(0.75, {"gpu": "0"})
    hist = meter.create_histogram("latency", unit="ms")
    exp = meter.create_histogram("latency.exp", unit="ms")
    for v in (1.0, 3.0, 7.5, 120.0, 4000.0):
        hist.record(v)
        exp.record(v)
    exp.record(0.0)
    data = reader.get_metrics_data()
    assert data is not None
    provider.shutdown()
    return data


def framed(payloads: Sequence[bytes]) -> bytes:
    """The Collector file exporter's protobuf form: each message after its 4-byte big-endian length."""
    return b"".join(len(p).to_bytes(4, "big") + p for p in payloads)


ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def _hex_ids(node: Any, upper: bool) -> Any:
    """OTLP/JSON differs from the protobuf JSON mapping: ids are hex, not base64."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str):
                h = base64.b64decode(v).hex()
                out[k] = h.upper() if upper else h
            else:
                out[k] = _hex_ids(v, upper)
        return out
    if isinstance(node, list):
        return [_hex_ids(x, upper) for x in node]
    return node


def otlp_json_line(msg: Any, upper_ids: bool = False) -> bytes:
    """One OTLP/JSON line from a protobuf request (int64 stay strings, enums stay names)."""
    return orjson.dumps(_hex_ids(MessageToDict(msg), upper_ids)) + b"\n"


def write_forms(tmp: Path, stem: str, msgs: Sequence[Any]) -> dict[str, Path]:
    """framed protobuf, gzip'd, zstd'd, OTLP/JSON lines (ids upper-case in one line) and zstd'd JSON lines."""
    payloads = [m.SerializeToString() for m in msgs]
    jsonl = b"".join(otlp_json_line(m, upper_ids=i == 0) for i, m in enumerate(msgs))
    contents = {
        "proto": framed(payloads),
        "proto.gz": gzip.compress(framed(payloads)),
        "proto.zst": zstandard.ZstdCompressor().compress(framed(payloads)),
        "jsonl": jsonl,
        "jsonl.zst": zstandard.ZstdCompressor().compress(jsonl),
    }
    out = {}
    for form, data in contents.items():
        p = tmp / f"{stem}.{form}"
        p.write_bytes(data)
        out[form] = p
    return out


def span_requests(spans: list[ReadableSpan]) -> list[Any]:
    """Two export requests (so files hold more than one record)."""
    return [encode_spans(spans[:2]), encode_spans(spans[2:])]


def metric_requests(data: MetricsData) -> list[Any]:
    return [encode_metrics(data)]
