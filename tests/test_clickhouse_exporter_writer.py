"""An independent writer of Collector rows: OTLP JSON in, otel_* rows out, column by column as the exporter's Go code
maps pdata to columns (exporter_traces.go and internal/metrics/*_metrics.go; see fixtures/clickhouse_exporter_ddl/
SOURCE.md), in the current layout and the older one. It shares no code with tierwise's loader;
test_clickhouse_exporter_rows.py checks it against the exporter's own integration-test rows."""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from store.clickhouse.client import ClickHouseClient

STR_MAP = pa.map_(pa.string(), pa.string())
NS = pa.timestamp("ns")
LAYOUTS = ("current", "older")
# ptrace.SpanKind.String() / StatusCode.String() (current); traceutil.SpanKindStr / StatusCodeStr (older)
KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
OLD_KINDS = ("SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
             "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER")
STATUSES = ("Unset", "Ok", "Error")
OLD_STATUSES = ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")
TEMPORALITIES = ("AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA",
                 "AGGREGATION_TEMPORALITY_CUMULATIVE")
METRIC_TABLES = {"gauge": "otel_metrics_gauge", "sum": "otel_metrics_sum", "histogram": "otel_metrics_histogram",
                 "exponentialHistogram": "otel_metrics_exponential_histogram", "summary": "otel_metrics_summary"}


def read_docs(path: Path) -> list[dict[str, Any]]:
    """The OTLP JSON documents of a JSON-lines file, gzip or not."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [orjson.loads(line) for line in raw.splitlines() if line.strip()]


def go_float(v: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip, never an exponent."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = format(Decimal(repr(v)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _raw(value: dict[str, Any]) -> Any:
    """AnyValue.AsRaw(): the plain value, as encoding/json marshals it for arrays and maps."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "bytesValue" in value:
        return value["bytesValue"]  # already base64, as json.Marshal writes []byte
    if "arrayValue" in value:
        return [_raw(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {kv["key"]: _raw(kv.get("value", {})) for kv in value["kvlistValue"].get("values", [])}
    return None


def as_string(value: dict[str, Any]) -> str:
    """pcommon.Value.AsString(): what every attribute value becomes in the exporter's Map(String, String)."""
    raw = _raw(value)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        return go_float(raw)
    if isinstance(raw, int | str):
        return str(raw)
    if raw is None:
        return ""
    return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode()


def attributes(kvs: Iterable[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """AttributesToMap: key → AsString, in the order given (a repeated key keeps its last value)."""
    out: dict[str, str] = {}
    for kv in kvs or []:
        out[kv["key"]] = as_string(kv.get("value", {}))
    return list(out.items())


def hex_id(text: str | None) -> str:
    """traceutil.TraceIDToHexOrEmptyString / SpanIDToHexOrEmptyString: lowercase hex, '' for an empty id."""
    text = (text or "").lower()
    return "" if not text or set(text) == {"0"} else text


def _enum(value: Any, proto_names: tuple[str, ...]) -> int:
    """An OTLP JSON enum, written as its number or as its proto name, as its number."""
    if isinstance(value, str) and not value.isdigit():
        return proto_names.index(value)
    return int(value or 0)


def _spans(docs: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    for doc in docs:
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    yield rs.get("resource", {}), ss.get("scope", {}), span


def span_rows(docs: Iterable[dict[str, Any]], layout: str) -> pa.Table:
    """otel_traces rows: pushTraceData's batch.Append arguments, one per span."""
    cols: dict[str, list[Any]] = {}

    def put(name: str, value: Any) -> None:
        cols.setdefault(name, []).append(value)

    for resource, scope, span in _spans(docs):
        res = attributes(resource.get("attributes"))
        span_attrs = dict(attributes(span.get("attributes")))
        service = dict(res).get("service.name", "")
        start, end = int(span.get("startTimeUnixNano", 0)), int(span.get("endTimeUnixNano", 0))
        kind = _enum(span.get("kind"), OLD_KINDS)
        status = _enum(span.get("status", {}).get("code"), OLD_STATUSES)
        put("Timestamp", start)
        put("TraceId", hex_id(span.get("traceId")))
        put("SpanId", hex_id(span.get("spanId")))
        put("ParentSpanId", hex_id(span.get("parentSpanId")))
        put("TraceState", span.get("traceState", ""))
        put("SpanName", span.get("name", ""))
        put("ServiceName", service)
        put("ResourceAttributes", res)
        if layout == "current":
            put("SpanKind", KINDS[kind])
            put("StatusCode", STATUSES[status])
            put("ScopeName", scope.get("name", ""))
            put("ScopeVersion", scope.get("version", ""))
            put("Duration", (end - start) % 2**64)  # uint64 subtraction of the two pcommon.Timestamps
        else:  # the scope went into the span's attributes, the duration through time.Duration (int64)
            put("SpanKind", OLD_KINDS[kind])
            put("StatusCode", OLD_STATUSES[status])
            for key, field in (("otel.scope.name", "name"), ("otel.scope.version", "version")):
                if scope.get(field):
                    span_attrs[key] = scope[field]
            put("Duration", end - start)
        put("SpanAttributes", list(span_attrs.items()))
        put("StatusMessage", span.get("status", {}).get("message", ""))
        events, links = span.get("events", []), span.get("links", [])
        put("Events.Timestamp", [int(e.get("timeUnixNano", 0)) for e in events])
        put("Events.Name", [e.get("name", "") for e in events])
        put("Events.Attributes", [attributes(e.get("attributes")) for e in events])
        put("Links.TraceId", [hex_id(x.get("traceId")) for x in links])
        put("Links.SpanId", [hex_id(x.get("spanId")) for x in links])
        put("Links.TraceState", [x.get("traceState", "") for x in links])
        put("Links.Attributes", [attributes(x.get("attributes")) for x in links])
    types = {"Timestamp": NS, "ResourceAttributes": STR_MAP, "SpanAttributes": STR_MAP,
             "Duration": pa.uint64() if layout == "current" else pa.int64(), "Events.Timestamp": pa.list_(NS),
             "Events.Attributes": pa.list_(STR_MAP), "Links.Attributes": pa.list_(STR_MAP)}
    return pa.table({k: pa.array(v, types.get(k, pa.list_(pa.string()) if k.startswith(("Events", "Links"))
                                              else pa.string())) for k, v in cols.items()})


def _number(point: dict[str, Any]) -> float:
    """getValue: asInt as float64, asDouble as it is, neither as 0."""
    return float(point["asInt"]) if "asInt" in point else float(point.get("asDouble", 0.0))


def _exemplars(point: dict[str, Any], put: Any) -> None:
    """convertExemplars: ids through hex.EncodeToString of the 16/8 bytes (an empty id is all zeros)."""
    ex = point.get("exemplars", [])
    put("Exemplars.FilteredAttributes", [attributes(e.get("filteredAttributes")) for e in ex])
    put("Exemplars.TimeUnix", [int(e.get("timeUnixNano", 0)) for e in ex])
    put("Exemplars.Value", [_number(e) for e in ex])
    put("Exemplars.SpanId", [(e.get("spanId") or "0" * 16).lower() for e in ex])
    put("Exemplars.TraceId", [(e.get("traceId") or "0" * 32).lower() for e in ex])


def metric_rows(docs: Iterable[dict[str, Any]], layout: str) -> dict[str, pa.Table]:
    """Rows of each otel_metrics_* table: each *Metrics.insert's arguments, one row per data point."""
    tables: dict[str, dict[str, list[Any]]] = {}
    for doc in docs:
        for rm in doc.get("resourceMetrics", []):
            res = attributes(rm.get("resource", {}).get("attributes"))
            for sm in rm.get("scopeMetrics", []):
                scope = sm.get("scope", {})
                for metric in sm.get("metrics", []):
                    kind = next(k for k in METRIC_TABLES if k in metric)
                    body = metric[kind]
                    cols = tables.setdefault(METRIC_TABLES[kind], {})
                    for p in body.get("dataPoints", []):
                        def put(name: str, value: Any, cols: dict[str, list[Any]] = cols) -> None:
                            cols.setdefault(name, []).append(value)

                        put("ResourceAttributes", res)
                        put("ResourceSchemaUrl", rm.get("schemaUrl", ""))
                        put("ScopeName", scope.get("name", ""))
                        put("ScopeVersion", scope.get("version", ""))
                        put("ScopeAttributes", attributes(scope.get("attributes")))
                        put("ScopeDroppedAttrCount", int(scope.get("droppedAttributesCount", 0)))
                        put("ScopeSchemaUrl", sm.get("schemaUrl", ""))
                        if layout == "current":
                            put("ServiceName", dict(res).get("service.name", ""))
                        put("MetricName", metric.get("name", ""))
                        put("MetricDescription", metric.get("description", ""))
                        put("MetricUnit", metric.get("unit", ""))
                        put("Attributes", attributes(p.get("attributes")))
                        put("StartTimeUnix", int(p.get("startTimeUnixNano", 0)))
                        put("TimeUnix", int(p.get("timeUnixNano", 0)))
                        put("Flags", int(p.get("flags", 0)))
                        temporality = _enum(body.get("aggregationTemporality"), TEMPORALITIES)
                        if kind in ("gauge", "sum"):
                            put("Value", _number(p))
                        else:
                            put("Count", int(p.get("count", 0)))
                            put("Sum", float(p.get("sum", 0.0)))
                        if kind == "sum":
                            put("AggregationTemporality" if layout == "current" else "AggTemp", temporality)
                            put("IsMonotonic", bool(body.get("isMonotonic", False)))
                        if kind in ("histogram", "exponentialHistogram"):
                            put("Min", float(p.get("min", 0.0)))  # dp.Min() is 0 when the point has none
                            put("Max", float(p.get("max", 0.0)))
                            if layout == "current":
                                put("AggregationTemporality", temporality)
                        if kind == "histogram":
                            put("BucketCounts", [int(c) for c in p.get("bucketCounts", [])])
                            put("ExplicitBounds", [float(b) for b in p.get("explicitBounds", [])])
                        if kind == "exponentialHistogram":
                            put("Scale", int(p.get("scale", 0)))
                            put("ZeroCount", int(p.get("zeroCount", 0)))
                            for side in ("positive", "negative"):
                                put(f"{side.title()}Offset", int(p.get(side, {}).get("offset", 0)))
                                put(f"{side.title()}BucketCounts", [int(c) for c in p.get(side, {}).get("bucketCounts", [])])
                        if kind == "summary":
                            qs = p.get("quantileValues", [])
                            put("ValueAtQuantiles.Quantile", [float(q.get("quantile", 0.0)) for q in qs])
                            put("ValueAtQuantiles.Value", [float(q.get("value", 0.0)) for q in qs])
                        else:
                            _exemplars(p, put)
    return {table: pa.table({k: pa.array(v, _metric_type(k)) for k, v in cols.items()}) for table, cols in tables.items()}


def _metric_type(name: str) -> pa.DataType:
    types: dict[str, pa.DataType] = {
        "ResourceAttributes": STR_MAP, "ScopeAttributes": STR_MAP, "Attributes": STR_MAP, "StartTimeUnix": NS,
        "TimeUnix": NS, "ScopeDroppedAttrCount": pa.uint32(), "Flags": pa.uint32(), "Value": pa.float64(),
        "Count": pa.uint64(), "Sum": pa.float64(), "AggregationTemporality": pa.int32(), "AggTemp": pa.int32(),
        "IsMonotonic": pa.bool_(), "Min": pa.float64(), "Max": pa.float64(), "BucketCounts": pa.list_(pa.uint64()),
        "ExplicitBounds": pa.list_(pa.float64()), "Scale": pa.int32(), "ZeroCount": pa.uint64(),
        "PositiveOffset": pa.int32(), "NegativeOffset": pa.int32(), "PositiveBucketCounts": pa.list_(pa.uint64()),
        "NegativeBucketCounts": pa.list_(pa.uint64()), "Exemplars.FilteredAttributes": pa.list_(STR_MAP),
        "Exemplars.TimeUnix": pa.list_(NS), "Exemplars.Value": pa.list_(pa.float64()),
        "ValueAtQuantiles.Quantile": pa.list_(pa.float64()), "ValueAtQuantiles.Value": pa.list_(pa.float64())}
    return types.get(name, pa.list_(pa.string()) if name.startswith("Exemplars.") else pa.string())


def write(client: ClickHouseClient, docs: list[dict[str, Any]], layout: str) -> int:
    """Insert what the Collector would for these documents (one insert per table, no deduplication token, as the
    exporter sends them); returns the spans and points written."""
    written = 0
    spans = span_rows(docs, layout)
    if spans.num_rows:
        written += client.insert_arrow("otel_traces", spans)
    for table, rows in metric_rows(docs, layout).items():
        written += client.insert_arrow(table, rows)
    return written


def test_go_float_formats_as_strconv_does() -> None:
    cases = {72.5: "72.5", 3.0: "3", 1e21: "1000000000000000000000", 1e-7: "0.0000001",
             0.1 + 0.2: "0.30000000000000004", -0.0: "-0", float("inf"): "+Inf"}
    assert {v: go_float(v) for v in cases} == cases
    assert as_string({"intValue": "42"}) == "42" and as_string({"boolValue": True}) == "true"
    assert as_string({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "a"}]}}) == '[1,"a"]'
