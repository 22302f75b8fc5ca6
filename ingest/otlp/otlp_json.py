"""Pure decoding of OTLP/JSON TracesData and MetricsData objects into row batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ingest.otlp.otlp_values import UINT64_MAX, Issue, PointIssue, bounded, json_attributes, parse_double, parse_id, parse_int
from ingest.otlp.rows import PointColumns, Rejection, SpanColumns, dumps, resource_context, scrub
from store import contract as c
from store.settings import Settings

KIND_NAMES = {f"SPAN_KIND_{k.upper()}": k for k in c.SPAN_KINDS}
STATUS_NAMES = {f"STATUS_CODE_{s.upper()}": s for s in c.STATUS_CODES}
TEMPORALITY = {0: None, 1: "delta", 2: "cumulative"}
TEMPORALITY_NAMES = {"AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1,
                     "AGGREGATION_TEMPORALITY_CUMULATIVE": 2}


def _enum(value: Any, names: tuple[str, ...], by_name: dict[str, str], field: str) -> str:
    if value is None:
        return names[0]
    if type(value) is str and value in by_name:
        return by_name[value]
    if type(value) is str and not value.lstrip("-").isdigit():
        raise Issue(field, f"unknown enum name {value[:40]!r} (expected one of {', '.join(by_name)} or 0-{len(names) - 1})")
    n = parse_int(value, field)
    if not 0 <= n < len(names):
        raise Issue(field, f"unknown enum value {n}")
    return names[n]


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise Issue(field, f"expected a list, got {type(value).__name__}")
    return value


def _obj(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise Issue(field, f"expected an object, got {type(value).__name__}")
    return value


def _opt_str(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise Issue(field, f"expected a string, got {type(value).__name__}")
    return value


def _text(value: Any, field: str, settings: Settings) -> str | None:
    """An optional string field within the size limit attribute values have (max_attribute_bytes)."""
    text = _opt_str(value, field)
    return None if text is None else bounded(text, settings.max_attribute_bytes, field)


def _count(v: Any, field: str) -> int:
    return 0 if v is None else parse_int(v, field, 0, 2**32 - 1)


def _event(ev: Any, field: str, settings: Settings) -> dict[str, Any]:
    ev = _obj(ev, field)
    name = _text(ev.get("name"), f"{field}.name", settings) or ""
    attrs = scrub(json_attributes(ev.get("attributes"), f"{field}.attributes"), settings, f"{field}.attributes")
    if not settings.store_content and name in c.CONTENT_EVENT_NAMES:
        attrs = {}
    return {"time_ns": parse_int(ev.get("timeUnixNano", 0), f"{field}.timeUnixNano", 0), "name": name,
            "attributes": attrs}


def _link(ln: Any, field: str, settings: Settings) -> dict[str, Any]:
    ln = _obj(ln, field)
    return {
        "trace_id": parse_id(ln.get("traceId"), 16, f"{field}.traceId"),
        "span_id": parse_id(ln.get("spanId"), 8, f"{field}.spanId"),
        "trace_state": _text(ln.get("traceState"), f"{field}.traceState", settings),
        "attributes": scrub(json_attributes(ln.get("attributes"), f"{field}.attributes"), settings,
                            f"{field}.attributes"),
    }


def _span(sp: Any, ctx: Any, scope: Any, settings: Settings, out: SpanColumns) -> None:
    sp = _obj(sp, "span")
    start = parse_int(sp.get("startTimeUnixNano"), "startTimeUnixNano", 0)
    end = parse_int(sp.get("endTimeUnixNano"), "endTimeUnixNano", 0)
    if end < start:
        raise Issue("endTimeUnixNano", f"span ends ({end}) before it starts ({start})")
    status = _obj(sp.get("status"), "status")
    name = sp.get("name", "")
    if type(name) is not str:
        raise Issue("name", f"expected a string, got {type(name).__name__}")
    bounded(name, settings.max_attribute_bytes, "name")
    out.add(
        ctx,
        scope,
        (
            parse_id(sp.get("traceId"), 16, "traceId"),
            parse_id(sp.get("spanId"), 8, "spanId"),
            parse_id(sp.get("parentSpanId"), 8, "parentSpanId"),
            _text(sp.get("traceState"), "traceState", settings),
        ),
        parse_int(sp.get("flags", 0), "flags", 0, 2**32 - 1),
        name,
        _enum(sp.get("kind"), c.SPAN_KINDS, KIND_NAMES, "kind"),
        (_enum(status.get("code"), c.STATUS_CODES, STATUS_NAMES, "status.code"),
         _text(status.get("message"), "status.message", settings)),
        start,
        end,
        scrub(json_attributes(sp.get("attributes"), "attributes"), settings, "attributes"),
        [_event(e, f"events[{i}]", settings) for i, e in enumerate(_list(sp.get("events"), "events"))],
        [_link(x, f"links[{i}]", settings) for i, x in enumerate(_list(sp.get("links"), "links"))],
        (_count(sp.get("droppedAttributesCount"), "droppedAttributesCount"),
         _count(sp.get("droppedEventsCount"), "droppedEventsCount"),
         _count(sp.get("droppedLinksCount"), "droppedLinksCount")),
    )


Leaf = Callable[[Any, Any, Any, Settings, Any], None]


def _walk(doc: dict[str, Any], record_no: int, keys: tuple[str, str, str], leaf: Leaf,
          settings: Settings, out: Any) -> list[Rejection]:
    """Walk resource → scope → leaf items, quarantining what fails at the level where it fails."""
    top, mid, leaf_key = keys
    rejected: list[Rejection] = []
    for i, rs in enumerate(_list(doc.get(top), top)):
        where = f"{top}[{i}]"
        try:
            rs = _obj(rs, where)
            res = _obj(rs.get("resource"), f"{where}.resource")
            rattrs = json_attributes(res.get("attributes"), f"{where}.resource.attributes")
            ctx = resource_context(scrub(rattrs, settings, f"{where}.resource.attributes"), settings)
            scopes = _list(rs.get(mid), f"{where}.{mid}")
        except Issue as e:
            rejected.append(Rejection(record_no, where, e.field, e.reason, _leaf_count([rs], mid, leaf_key)))
            continue
        for j, ss in enumerate(scopes):
            swhere = f"{where}.{mid}[{j}]"
            try:
                ss = _obj(ss, swhere)
                sc = _obj(ss.get("scope"), f"{swhere}.scope")
                sattrs = scrub(json_attributes(sc.get("attributes"), f"{swhere}.scope.attributes"), settings,
                               f"{swhere}.scope.attributes")
                scope = (_text(sc.get("name"), f"{swhere}.scope.name", settings),
                         _text(sc.get("version"), f"{swhere}.scope.version", settings),
                         dumps(sattrs) if sattrs else None)
                items = _list(ss.get(leaf_key), f"{swhere}.{leaf_key}")
            except Issue as e:
                rejected.append(Rejection(record_no, swhere, e.field, e.reason, _leaf_count([{mid: [ss]}], mid, leaf_key)))
                continue
            for k, item in enumerate(items):
                try:
                    leaf(item, ctx, scope, settings, out)
                except Issue as e:
                    rejected.append(Rejection(record_no, f"{swhere}.{leaf_key}[{k}]", e.field, e.reason,
                                              e.rows if isinstance(e, PointIssue) else _item_rows(item, leaf_key),
                                              _excerpt(item)))
    return rejected


def _excerpt(item: Any) -> str:
    """The rejected item as JSON, cut to 300 characters; "" when it cannot be written (nested too deep for orjson,
    whose error is a TypeError, and for repr(), whose error is a RecursionError that would end the whole run)."""
    try:
        return dumps(item)[:300]
    except (TypeError, RecursionError):
        return ""


def _item_rows(item: Any, leaf_key: str) -> int:
    """Rows one leaf would have given: 1 per span, 1 per data point of a metric (at least 1)."""
    if leaf_key != "metrics" or type(item) is not dict:
        return 1
    for key in METRIC_TYPES:
        body = item.get(key)
        if type(body) is dict and type(body.get("dataPoints")) is list:
            return max(1, len(body["dataPoints"]))
    return 1


def _leaf_count(groups: list[Any], mid: str, leaf_key: str) -> int:
    """Rows lost when whole resources or scopes are rejected (best effort on malformed input)."""
    try:
        return max(1, sum(_item_rows(x, leaf_key) for rs in groups for ss in rs.get(mid) or []
                          for x in ss.get(leaf_key) or []))
    except (AttributeError, TypeError):
        return 1


def decode_traces(doc: dict[str, Any], record_no: int, settings: Settings, out: SpanColumns) -> list[Rejection]:
    """Append the spans of one TracesData object to `out`; return what was quarantined."""
    return _walk(doc, record_no, ("resourceSpans", "scopeSpans", "spans"), _span, settings, out)


def _number_point(dp: dict[str, Any]) -> dict[str, Any]:
    if "asDouble" in dp:
        return {"value": parse_double(dp["asDouble"], "asDouble")}
    if "asInt" in dp:
        return {"value": float(parse_int(dp["asInt"], "asInt"))}
    return {"value": None}


def _uints(v: Any, field: str) -> list[int]:
    return [parse_int(x, f"{field}[{i}]", 0, UINT64_MAX) for i, x in enumerate(_list(v, field))]


def _opt_double(dp: dict[str, Any], key: str) -> float | None:
    return parse_double(dp[key], key) if dp.get(key) is not None else None


def _histogram_point(dp: dict[str, Any]) -> dict[str, Any]:
    counts = _uints(dp.get("bucketCounts"), "bucketCounts")
    bounds = [parse_double(x, f"explicitBounds[{i}]") for i, x in enumerate(_list(dp.get("explicitBounds"), "explicitBounds"))]
    if counts and len(counts) != len(bounds) + 1:
        raise Issue("bucketCounts", f"{len(counts)} buckets for {len(bounds)} bounds (expected bounds + 1)")
    return {"count": parse_int(dp.get("count", 0), "count", 0, UINT64_MAX), "sum": _opt_double(dp, "sum"),
            "min": _opt_double(dp, "min"), "max": _opt_double(dp, "max"), "bucket_counts": counts,
            "explicit_bounds": bounds}


def _exp_point(dp: dict[str, Any]) -> dict[str, Any]:
    pos, neg = _obj(dp.get("positive"), "positive"), _obj(dp.get("negative"), "negative")
    return {"count": parse_int(dp.get("count", 0), "count", 0, UINT64_MAX), "sum": _opt_double(dp, "sum"),
            "min": _opt_double(dp, "min"), "max": _opt_double(dp, "max"),
            "scale": parse_int(dp.get("scale", 0), "scale", -20, 20),
            "zero_count": parse_int(dp.get("zeroCount", 0), "zeroCount", 0, UINT64_MAX),
            "zero_threshold": parse_double(dp.get("zeroThreshold", 0), "zeroThreshold"),
            "positive_offset": parse_int(pos.get("offset", 0), "positive.offset", -(2**31), 2**31 - 1),
            "positive_bucket_counts": _uints(pos.get("bucketCounts"), "positive.bucketCounts"),
            "negative_offset": parse_int(neg.get("offset", 0), "negative.offset", -(2**31), 2**31 - 1),
            "negative_bucket_counts": _uints(neg.get("bucketCounts"), "negative.bucketCounts")}


def _summary_point(dp: dict[str, Any]) -> dict[str, Any]:
    qs = [{"quantile": parse_double(_obj(q, "quantileValues").get("quantile", 0), "quantileValues.quantile"),
           "value": parse_double(_obj(q, "quantileValues").get("value", 0), "quantileValues.value")}
          for q in _list(dp.get("quantileValues"), "quantileValues")]
    return {"count": parse_int(dp.get("count", 0), "count", 0, UINT64_MAX),
            "sum": parse_double(dp.get("sum", 0), "sum"), "quantile_values": dumps(qs)}


METRIC_TYPES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "gauge": ("gauge", _number_point),
    "sum": ("sum", _number_point),
    "histogram": ("histogram", _histogram_point),
    "exponentialHistogram": ("exponential_histogram", _exp_point),
    "summary": ("summary", _summary_point),
}


def _temporality(value: Any, field: str) -> str | None:
    if type(value) is str and value in TEMPORALITY_NAMES:
        return TEMPORALITY[TEMPORALITY_NAMES[value]]
    n = 0 if value is None else parse_int(value, field)
    if n not in TEMPORALITY:
        raise Issue(field, f"unknown aggregation temporality {n}")
    return TEMPORALITY[n]


def _exemplars(value: Any) -> str | None:
    """Exemplars in the same normalised shape the protobuf decoder stores."""
    out = []
    for i, ex in enumerate(_list(value, "exemplars")):
        f = f"exemplars[{i}]"
        ex = _obj(ex, f)
        v: float | int | None = parse_double(ex["asDouble"], f"{f}.asDouble") if "asDouble" in ex else (
            parse_int(ex["asInt"], f"{f}.asInt") if "asInt" in ex else None)
        out.append({"time_ns": parse_int(ex.get("timeUnixNano", 0), f"{f}.timeUnixNano", 0), "value": v,
                    "trace_id": parse_id(ex.get("traceId"), 16, f"{f}.traceId"),
                    "span_id": parse_id(ex.get("spanId"), 8, f"{f}.spanId"),
                    "attributes": json_attributes(ex.get("filteredAttributes"), f"{f}.filteredAttributes")})
    return dumps(out) if out else None


def _metric(m: Any, ctx: Any, scope: Any, settings: Settings, out: PointColumns) -> None:
    m = _obj(m, "metric")
    found = [k for k in METRIC_TYPES if k in m]
    if not found:  # no data field: no rows and nothing to reject, named or not (as from protobuf)
        return
    name = m.get("name")
    if type(name) is not str or not name:
        raise Issue("name", "a metric needs a non-empty string name")
    bounded(name, settings.max_attribute_bytes, "name")
    key = found[0]
    metric_type, decode = METRIC_TYPES[key]
    body = _obj(m[key], key)
    points = _list(body.get("dataPoints"), f"{key}.dataPoints")
    monotonic = body.get("isMonotonic", False) if key == "sum" else None
    if monotonic is not None and type(monotonic) is not bool:
        raise PointIssue(f"{key}.isMonotonic", f"expected true or false, got {type(monotonic).__name__}",
                         max(1, len(points)))
    base = {"metric_name": name, "description": _text(m.get("description"), "description", settings),
            "unit": _text(m.get("unit"), "unit", settings), "metric_type": metric_type,
            "temporality": _temporality(body.get("aggregationTemporality"), f"{key}.aggregationTemporality"),
            "is_monotonic": monotonic}
    bad: list[Issue] = []
    for i, dp in enumerate(points):
        f = f"{key}.dataPoints[{i}]"
        try:
            dp = _obj(dp, f)
            attrs = scrub(json_attributes(dp.get("attributes"), "attributes"), settings, "attributes")
            row = {**base, **decode(dp), "time_ns": parse_int(dp.get("timeUnixNano"), "timeUnixNano", 0),
                   "start_time_ns": parse_int(dp.get("startTimeUnixNano", 0), "startTimeUnixNano", 0) or None,
                   "flags": parse_int(dp.get("flags", 0), "flags", 0, 2**32 - 1),
                   "exemplars": _exemplars(dp.get("exemplars")),
                   "attributes": dumps(attrs)}
        except Issue as e:
            bad.append(Issue(f"{f}.{e.field}", e.reason))
            continue
        out.add(ctx, scope[:2], row)
    if bad:
        more = f" (and {len(bad) - 1} more points)" if len(bad) > 1 else ""
        raise PointIssue(bad[0].field, bad[0].reason + more, len(bad))


def decode_metrics(doc: dict[str, Any], record_no: int, settings: Settings, out: PointColumns) -> list[Rejection]:
    """Append the data points of one MetricsData object to `out`; return what was quarantined."""
    return _walk(doc, record_no, ("resourceMetrics", "scopeMetrics", "metrics"), _metric, settings, out)


def count_logs(doc: dict[str, Any]) -> int:
    """How many log records a LogsData object holds (tierwise does not store logs)."""
    n = 0
    for rl in _list(doc.get("resourceLogs"), "resourceLogs"):
        for sl in _list(_obj(rl, "resourceLogs").get("scopeLogs"), "scopeLogs"):
            n += len(_list(_obj(sl, "scopeLogs").get("logRecords"), "logRecords"))
    return n
