"""Protobuf enums outside their range are quarantined, never wrapped onto another value."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.otlp import otlp_proto
from ingest.otlp.rows import SpanColumns
from store.settings import Settings


def _request(kind: int, status: int) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    for i, (k, s) in enumerate(((2, 0), (kind, status))):
        sp = spans.add(trace_id=bytes([1] * 16), span_id=bytes([i + 1] * 8), name=f"op{i}",
                       start_time_unix_nano=10, end_time_unix_nano=20, kind=k)  # type: ignore[arg-type]
        sp.status.code = s  # type: ignore[assignment]
    return req


@pytest.mark.parametrize(("kind", "status", "field"), [(-1, 0, "kind"), (6, 0, "kind"), (1, -2, "status.code"),
                                                       (1, 3, "status.code")])
def test_out_of_range_enum_is_quarantined(kind: int, status: int, field: str) -> None:
    out = SpanColumns()
    rejected = otlp_proto.decode_traces(_request(kind, status), 7, Settings(), out)
    assert len(out) == 1
    assert [(r.record_no, r.field) for r in rejected] == [(7, field)]
    assert "unknown enum value" in rejected[0].reason
