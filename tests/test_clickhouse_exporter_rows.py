"""The independent writer (test_clickhouse_exporter_writer.py) against the exporter's own integration tests: the rows
they push and read back (fixtures/clickhouse_exporter/rows.json), written by the writer from the same OTLP data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from test_clickhouse_exporter_writer import metric_rows, span_rows

FIXTURE_ROWS = orjson.loads((Path(__file__).parent / "fixtures" / "clickhouse_exporter" / "rows.json").read_bytes())


def _kv(attrs: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]


def test_the_writer_gives_the_exporters_own_integration_row() -> None:
    """The exporter's traces integration test (simpleTraces → verifyExportTraces) written by this writer."""
    want = FIXTURE_ROWS["otel_traces"]
    doc = {"resourceSpans": [{"resource": {"attributes": _kv(want["ResourceAttributes"])}, "scopeSpans": [{
        "scope": {"name": want["ScopeName"], "version": want["ScopeVersion"]},
        "spans": [{"traceId": want["TraceId"], "spanId": want["SpanId"], "parentSpanId": want["ParentSpanId"],
                   "traceState": want["TraceState"], "name": want["SpanName"], "kind": 1,
                   "startTimeUnixNano": str(want["Timestamp_ns"]),
                   "endTimeUnixNano": str(want["Timestamp_ns"] + want["Duration"]),
                   "attributes": _kv(want["SpanAttributes"]), "status": {"code": 2, "message": "error"},
                   "events": [{"timeUnixNano": str(e["Timestamp_ns"]), "name": e["Name"],
                               "attributes": _kv(e["Attributes"])} for e in want["Events"]],
                   "links": [{"traceId": x["TraceId"], "spanId": x["SpanId"], "traceState": x["TraceState"],
                              "attributes": _kv(x["Attributes"])} for x in want["Links"]]}]}]}]}
    row = span_rows([doc], "current").to_pylist()[0]
    assert {k: row[k] for k in ("TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
                                "ServiceName", "ScopeName", "ScopeVersion", "Duration", "StatusCode",
                                "StatusMessage")} == {k: want[k] for k in (
        "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName", "ScopeName",
        "ScopeVersion", "Duration", "StatusCode", "StatusMessage")}
    assert dict(row["SpanAttributes"]) == want["SpanAttributes"]
    assert row["Links.TraceId"] == ["01020500000000000000000000000000"] and row["Events.Name"] == ["event1"]
    old = span_rows([doc], "older").to_pylist()[0]
    assert (old["SpanKind"], old["StatusCode"]) == ("SPAN_KIND_INTERNAL", "STATUS_CODE_ERROR")
    assert dict(old["SpanAttributes"]) == {**want["SpanAttributes"], "otel.scope.name": want["ScopeName"],
                                           "otel.scope.version": want["ScopeVersion"]}


def test_the_writer_gives_the_exporters_metric_rows() -> None:
    """The first gauge and histogram points of the metrics integration test (simpleMetrics)."""
    g, h = FIXTURE_ROWS["otel_metrics_gauge"], FIXTURE_ROWS["otel_metrics_histogram"]
    ex = g["Exemplars"][0]
    doc = {"resourceMetrics": [{"resource": {"attributes": _kv(g["ResourceAttributes"])},
                                "schemaUrl": g["ResourceSchemaUrl"], "scopeMetrics": [{
        "scope": {"name": g["ScopeName"], "version": g["ScopeVersion"], "attributes": _kv(g["ScopeAttributes"]),
                  "droppedAttributesCount": g["ScopeDroppedAttrCount"]}, "schemaUrl": g["ScopeSchemaUrl"],
        "metrics": [{"name": g["MetricName"], "description": g["MetricDescription"], "unit": g["MetricUnit"],
                     "gauge": {"dataPoints": [{"attributes": _kv(g["Attributes"]), "asInt": "0",
                                               "startTimeUnixNano": str(g["StartTimeUnix_ns"]),
                                               "timeUnixNano": str(g["TimeUnix_ns"]),
                                               "exemplars": [{"filteredAttributes": _kv(ex["FilteredAttributes"]),
                                                              "timeUnixNano": str(ex["TimeUnix_ns"]), "asInt": "54",
                                                              "spanId": ex["SpanId"], "traceId": ex["TraceId"]}]}]}},
                    {"name": h["MetricName"], "description": h["MetricDescription"], "unit": h["MetricUnit"],
                     "histogram": {"dataPoints": [{"attributes": _kv(h["Attributes"]), "count": "1", "sum": 1,
                                                   "bucketCounts": h["BucketCounts"],
                                                   "explicitBounds": h["ExplicitBounds"], "max": 1,
                                                   "startTimeUnixNano": str(h["StartTimeUnix_ns"]),
                                                   "timeUnixNano": str(h["TimeUnix_ns"])}]}}]}]}]}
    rows = {t: r.to_pylist()[0] for t, r in metric_rows([doc], "current").items()}
    gauge, hist = rows["otel_metrics_gauge"], rows["otel_metrics_histogram"]
    for k in ("ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeDroppedAttrCount", "ScopeSchemaUrl",
              "ServiceName", "MetricName", "MetricDescription", "MetricUnit", "Value", "Flags"):
        assert gauge[k] == g[k], k
    assert (gauge["Exemplars.Value"], gauge["Exemplars.SpanId"]) == ([54.0], [ex["SpanId"]])
    for k in ("Count", "Sum", "BucketCounts", "Min", "Max", "AggregationTemporality"):
        assert hist[k] == h[k], k
    older = metric_rows([doc], "older")
    assert "ServiceName" not in older["otel_metrics_gauge"].column_names
    assert "AggregationTemporality" not in older["otel_metrics_histogram"].column_names
