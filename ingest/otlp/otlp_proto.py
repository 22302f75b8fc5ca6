"""Pure decoding of OTLP protobuf requests (traces, metrics, logs) into row batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.otlp.otlp_values import INT64_MAX, Issue, PointIssue, bounded, bytes_id, proto_any, proto_attributes
from ingest.otlp.rows import PointColumns, Rejection, SpanColumns, dumps, resource_context, scrub
from store import contract as c
from store.settings import Settings

TEMPORALITY = {0: None, 1: "delta", 2: "cumulative"}
REQUESTS: dict[str, Any] = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
            "logs": ExportLogsServiceRequest}
EMPTY = "empty"  # what sniff calls a request with no spans, points or log records holding any field: it yields nothing
# What protobuf's parse errors mean, in words (its own text names internal message types and decoder options).
_WIRE_PROBLEMS = (("bad UTF-8", "a text field holds bytes that are not UTF-8"),
                  ("MaxDepth", "messages nested more than 100 deep (an attribute value inside about 45 arrays or maps; "
                               "OTLP values nest at most 16)"),
                  ("Truncated", "it ends inside a field (cut short)"))


def wire_problem(e: DecodeError) -> str:
    """Why protobuf could not parse a record, in words a person can act on."""
    text = str(e)
    return next((words for marker, words in _WIRE_PROBLEMS if marker in text),
                "its bytes are not valid protobuf (corrupt, cut short, or not protobuf at all)")


def parse(signal: str, payload: bytes) -> Any:
    """Parse one serialized request of `signal`; undecodable bytes raise Issue."""
    msg = REQUESTS[signal]()
    try:
        msg.ParseFromString(payload)
    except DecodeError as e:
        raise Issue("record", f"not a valid OTLP {signal} protobuf message: {wire_problem(e)}") from None
    return msg


def sniff(payload: bytes) -> tuple[str, Any]:
    """Which signal one framed protobuf record holds, with the request parsed as it; an Issue when none.

    The three requests share their outer levels, so the leaves decide: the parse whose spans, metrics or log
    records look sensible and whose fields all arrived with their own wire types. When no parse fits every item, the
    one parse whose items all have their own wire types and some of which fit is taken: a request with a few bad items
    (a span id of the wrong length, a nameless metric) whose bad items are then quarantined one by one, as from JSON.
    """
    errors: list[str] = []
    parsed: dict[str, Any] = {}
    for signal in ("traces", "metrics", "logs"):
        try:
            msg = REQUESTS[signal].FromString(payload)
        except DecodeError as e:
            errors.append(wire_problem(e))
            continue
        if _fits(signal, msg, every=True):
            return signal, msg
        parsed[signal] = msg
    if parsed and not any(_leaves(signal, msg) for signal, msg in parsed.items()):
        return EMPTY, next(iter(parsed.values()))
    near = [signal for signal, msg in parsed.items() if _fits(signal, msg, every=False)]
    if len(near) == 1:
        return near[0], parsed[near[0]]
    why = f"it parses as none of them: {errors[0]}" if len(errors) == 3 else "its items fit none of them"
    raise Issue("signal", f"not an OTLP traces, metrics or logs protobuf request ({len(payload)} bytes): {why}; "
                          "the record is corrupt, or the file is not OTLP")


def _own_wire_types(m: Any) -> bool:
    """False when a field number of m's type arrived with another wire type: another message read as this one."""
    known = m.DESCRIPTOR.fields_by_number
    return not any(f.field_number in known for f in UnknownFieldSet(m))


def _leaves(signal: str, m: Any) -> list[Any]:
    """The first 50 spans, metrics or log records of a request parsed as `signal` that hold any field.

    An item with no field at all reads the same as every signal (and a metric without name or data yields nothing),
    so it cannot tell the signal; a request of only such items yields nothing.
    """
    if signal == "traces":
        items: Iterator[Any] = (s for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans)
    elif signal == "metrics":
        items = (x for rm in m.resource_metrics for sm in rm.scope_metrics for x in sm.metrics)
    else:
        items = (x for rl in m.resource_logs for sl in rl.scope_logs for x in sl.log_records)
    return list(islice((x for x in items if x.ByteSize()), 50))


def _leaf_fits(signal: str, x: Any) -> bool:
    if signal == "traces":
        return len(x.trace_id) in (0, 16) and len(x.span_id) in (0, 8) and bool(x.name)
    return signal == "logs" or bool(x.name and x.WhichOneof("data"))


def _fits(signal: str, m: Any, every: bool) -> bool:
    """Whether m's items all arrived with their own wire types and every one (or, not `every`, some) looks sensible."""
    leaves = _leaves(signal, m)
    fit = all if every else any
    return bool(leaves) and all(map(_own_wire_types, leaves)) and fit(_leaf_fits(signal, x) for x in leaves)


def _looks_like_traces(m: Any) -> bool:
    """Whether a request parsed as traces fits as traces in every span (what the fast path requires)."""
    return _fits("traces", m, every=True)


def _event(ev: Any, settings: Settings, field: str = "events") -> dict[str, Any]:
    if ev.time_unix_nano > INT64_MAX:  # as the JSON decoder: times are stored in a BIGINT
        raise Issue(f"{field}.timeUnixNano", f"integer {ev.time_unix_nano} is out of range")
    name = bounded(ev.name, settings.max_attribute_bytes, f"{field}.name")
    attrs = scrub(proto_attributes(ev.attributes), settings, f"{field}.attributes")
    if not settings.store_content and name in c.CONTENT_EVENT_NAMES:
        attrs = {}
    return {"time_ns": ev.time_unix_nano, "name": name, "attributes": attrs}


def _link(ln: Any, settings: Settings, field: str = "links") -> dict[str, Any]:
    return {"trace_id": bytes_id(ln.trace_id, 16, f"{field}.traceId"),
            "span_id": bytes_id(ln.span_id, 8, f"{field}.spanId"),
            "trace_state": bounded(ln.trace_state, settings.max_attribute_bytes, f"{field}.traceState") or None,
            "attributes": scrub(proto_attributes(ln.attributes), settings, f"{field}.attributes")}


def _span(sp: Any, ctx: Any, scope: Any, settings: Settings, out: SpanColumns) -> None:
    start, end = sp.start_time_unix_nano, sp.end_time_unix_nano
    if end < start:
        raise Issue("endTimeUnixNano", f"span ends ({end}) before it starts ({start})")
    if end > INT64_MAX:
        raise Issue("endTimeUnixNano", f"timestamp {end} is out of range")
    limit = settings.max_attribute_bytes
    if not 0 <= sp.kind < len(c.SPAN_KINDS):
        raise Issue("kind", f"unknown enum value {sp.kind}")
    if not 0 <= sp.status.code < len(c.STATUS_CODES):
        raise Issue("status.code", f"unknown enum value {sp.status.code}")
    out.add(
        ctx, scope,
        (bytes_id(sp.trace_id, 16, "traceId"), bytes_id(sp.span_id, 8, "spanId"),
         bytes_id(sp.parent_span_id, 8, "parentSpanId"), bounded(sp.trace_state, limit, "traceState") or None),
        sp.flags, bounded(sp.name, limit, "name"), c.SPAN_KINDS[sp.kind],
        (c.STATUS_CODES[sp.status.code], bounded(sp.status.message, limit, "status.message") or None),
        start, end,
        scrub(proto_attributes(sp.attributes), settings, "attributes"),
        [_event(e, settings, f"events[{i}]") for i, e in enumerate(sp.events)],
        [_link(x, settings, f"links[{i}]") for i, x in enumerate(sp.links)],
        (sp.dropped_attributes_count, sp.dropped_events_count, sp.dropped_links_count),
    )


def _number(dp: Any) -> dict[str, Any]:
    which = dp.WhichOneof("value")
    return {"value": None if which is None else float(getattr(dp, which))}


def _opt(dp: Any, name: str) -> float | None:
    return getattr(dp, name) if dp.HasField(name) else None


def _histogram(dp: Any) -> dict[str, Any]:
    if dp.bucket_counts and len(dp.bucket_counts) != len(dp.explicit_bounds) + 1:
        raise Issue("bucketCounts", f"{len(dp.bucket_counts)} buckets for {len(dp.explicit_bounds)} bounds")
    return {"count": dp.count, "sum": _opt(dp, "sum"), "min": _opt(dp, "min"), "max": _opt(dp, "max"),
            "bucket_counts": list(dp.bucket_counts), "explicit_bounds": list(dp.explicit_bounds)}


def _exponential(dp: Any) -> dict[str, Any]:
    return {"count": dp.count, "sum": _opt(dp, "sum"), "min": _opt(dp, "min"), "max": _opt(dp, "max"),
            "scale": dp.scale, "zero_count": dp.zero_count, "zero_threshold": dp.zero_threshold,
            "positive_offset": dp.positive.offset, "positive_bucket_counts": list(dp.positive.bucket_counts),
            "negative_offset": dp.negative.offset, "negative_bucket_counts": list(dp.negative.bucket_counts)}


def _summary(dp: Any) -> dict[str, Any]:
    return {"count": dp.count, "sum": dp.sum,
            "quantile_values": dumps([{"quantile": q.quantile, "value": q.value} for q in dp.quantile_values])}


METRIC_TYPES: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "gauge": ("gauge", _number), "sum": ("sum", _number), "histogram": ("histogram", _histogram),
    "exponential_histogram": ("exponential_histogram", _exponential), "summary": ("summary", _summary),
}


def _exemplars(dp: Any) -> str | None:
    if not dp.exemplars:
        return None
    for i, e in enumerate(dp.exemplars):
        if e.time_unix_nano > INT64_MAX:  # as the JSON decoder
            raise Issue(f"exemplars[{i}].timeUnixNano", f"integer {e.time_unix_nano} is out of range")
    return dumps([{"time_ns": e.time_unix_nano, "value": getattr(e, e.WhichOneof("value") or "as_double"),
                   "trace_id": e.trace_id.hex() or None, "span_id": e.span_id.hex() or None,
                   "attributes": {kv.key: proto_any(kv.value) for kv in e.filtered_attributes}}
                  for e in dp.exemplars])


def _metric(m: Any, ctx: Any, scope: Any, settings: Settings, out: PointColumns) -> None:
    key = m.WhichOneof("data")
    if key is None:
        return
    if not m.name:
        raise Issue("name", "a metric needs a non-empty name")
    limit = settings.max_attribute_bytes
    texts = (bounded(m.name, limit, "name"), bounded(m.description, limit, "description"), bounded(m.unit, limit, "unit"))
    metric_type, decode = METRIC_TYPES[key]
    body = getattr(m, key)
    temporality = TEMPORALITY.get(getattr(body, "aggregation_temporality", 0))
    bad: list[Issue] = []
    for i, dp in enumerate(body.data_points):
        try:
            if max(dp.time_unix_nano, dp.start_time_unix_nano) > INT64_MAX:
                raise Issue("timeUnixNano", f"timestamp {dp.time_unix_nano} is out of range")
            row = {"metric_name": texts[0], "description": texts[1] or None, "unit": texts[2] or None,
                   "metric_type": metric_type, "temporality": temporality,
                   "is_monotonic": body.is_monotonic if key == "sum" else None, **decode(dp),
                   "time_ns": dp.time_unix_nano, "start_time_ns": dp.start_time_unix_nano or None,
                   "flags": dp.flags, "exemplars": _exemplars(dp),
                   "attributes": dumps(scrub(proto_attributes(dp.attributes), settings, "attributes"))}
        except Issue as e:
            bad.append(Issue(f"{key}.dataPoints[{i}].{e.field}", e.reason))
            continue
        out.add(ctx, scope[:2], row)
    if bad:
        more = f" (and {len(bad) - 1} more points)" if len(bad) > 1 else ""
        raise PointIssue(bad[0].field, bad[0].reason + more, len(bad))


Leaf = Callable[[Any, Any, Any, Settings, Any], None]


def _walk(groups: Any, record_no: int, names: tuple[str, str, str], leaf: Leaf, settings: Settings,
          out: Any) -> list[Rejection]:
    top, mid, leaf_key = names
    mid_attr = {"scopeSpans": "scope_spans", "scopeMetrics": "scope_metrics"}[mid]
    rejected: list[Rejection] = []
    for i, rg in enumerate(groups):
        where = f"{top}[{i}]"
        try:
            ctx = resource_context(scrub(proto_attributes(rg.resource.attributes), settings,
                                         f"{where}.resource.attributes"), settings)
        except Issue as e:
            n = sum(_item_rows(x) for sg in getattr(rg, mid_attr) for x in getattr(sg, leaf_key))
            rejected.append(Rejection(record_no, where, e.field, e.reason, max(n, 1)))
            continue
        for j, sg in enumerate(getattr(rg, mid_attr)):
            try:
                scope = _scope(sg.scope, settings, f"{where}.{mid}[{j}].scope")
            except Issue as e:
                n = sum(_item_rows(x) for x in getattr(sg, leaf_key))
                rejected.append(Rejection(record_no, f"{where}.{mid}[{j}]", e.field, e.reason, max(n, 1)))
                continue
            for k, item in enumerate(getattr(sg, leaf_key)):
                try:
                    leaf(item, ctx, scope, settings, out)
                except Issue as e:
                    rows = e.rows if isinstance(e, PointIssue) else _item_rows(item)
                    rejected.append(Rejection(record_no, f"{where}.{mid}[{j}].{leaf_key}[{k}]", e.field, e.reason,
                                              rows))
    return rejected


def _scope(sc: Any, settings: Settings, field: str) -> tuple[str | None, str | None, str | None]:
    """Name, version and attributes (JSON) of one instrumentation scope."""
    attrs = scrub(proto_attributes(sc.attributes), settings, f"{field}.attributes")
    limit = settings.max_attribute_bytes
    return (bounded(sc.name, limit, f"{field}.name") or None, bounded(sc.version, limit, f"{field}.version") or None,
            dumps(attrs) if attrs else None)


def _item_rows(item: Any) -> int:
    """Rows one leaf would have given: 1 per span, 1 per data point of a metric (at least 1)."""
    if not hasattr(item, "data_points") and "data" not in item.DESCRIPTOR.oneofs_by_name:
        return 1
    key = item.WhichOneof("data")
    return max(1, len(getattr(item, key).data_points)) if key else 1


def decode_traces(msg: Any, record_no: int, settings: Settings, out: SpanColumns) -> list[Rejection]:
    """Append the spans of one ExportTraceServiceRequest to `out`; return what was quarantined."""
    return _walk(msg.resource_spans, record_no, ("resourceSpans", "scopeSpans", "spans"), _span, settings, out)


def decode_metrics(msg: Any, record_no: int, settings: Settings, out: PointColumns) -> list[Rejection]:
    """Append the data points of one ExportMetricsServiceRequest to `out`; return what was quarantined."""
    return _walk(msg.resource_metrics, record_no, ("resourceMetrics", "scopeMetrics", "metrics"), _metric,
                 settings, out)


def count_logs(msg: Any) -> int:
    """How many log records a logs request holds (tierwise does not store logs)."""
    return sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs)
