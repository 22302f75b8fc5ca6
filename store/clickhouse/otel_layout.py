"""Decoded span and point batches rewritten in the Collector clickhouse exporter's row layout (otel_* tables)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

STR_MAP = pa.map_(pa.string(), pa.string())
NS = pa.timestamp("ns")
KINDS = {"unspecified": "Unspecified", "internal": "Internal", "server": "Server", "client": "Client",
         "producer": "Producer", "consumer": "Consumer"}
STATUSES = {"unset": "Unset", "ok": "Ok", "error": "Error"}
TEMPORALITY = {"delta": 1, "cumulative": 2}
METRIC_TABLES = {"gauge": "otel_metrics_gauge", "sum": "otel_metrics_sum", "histogram": "otel_metrics_histogram",
                 "exponential_histogram": "otel_metrics_exponential_histogram", "summary": "otel_metrics_summary"}


def go_string(v: Any) -> str:
    """An attribute value as the exporter stores it: pcommon.Value.AsString (Go's shortest 'f' float format)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(np.format_float_positional(v, trim="-"))
    if v is None:
        return ""
    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()


def _as_map(attrs: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(k, go_string(v)) for k, v in (attrs or {}).items()]


class _MapCache:
    """JSON attribute text → exporter map entries; resource attribute texts repeat, so each is converted once."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, text: str | None) -> list[tuple[str, str]]:
        if text is None:
            return []
        hit = self.seen.get(text)
        if hit is None:
            if len(self.seen) > 50_000:
                self.seen.clear()
            hit = self.seen[text] = _as_map(orjson.loads(text))
        return hit


def _blank(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.fill_null(col, "")


def _json_list(col: pa.ChunkedArray) -> list[list[dict[str, Any]]]:
    return [orjson.loads(t) if t else [] for t in col.to_pylist()]


def _nested(items: list[list[dict[str, Any]]], key: str, typ: pa.DataType, conv: Callable[[Any], Any]) -> pa.Array:
    return pa.array([[conv(x.get(key)) for x in row] for row in items], pa.list_(typ))


def spans_to_otel(spans: pa.Table) -> pa.Table:
    """One otel_traces row per span, exactly as the exporter would have written the same OTLP span."""
    maps = _MapCache()
    events = _json_list(spans["events"])
    links = _json_list(spans["links"])
    kinds = [KINDS[k] for k in spans["kind"].to_pylist()]
    statuses = [STATUSES[s] for s in spans["status_code"].to_pylist()]
    return pa.table({
        "Timestamp": pc.cast(spans["start_ns"], NS),
        "TraceId": _blank(spans["trace_id"]),
        "SpanId": _blank(spans["span_id"]),
        "ParentSpanId": _blank(spans["parent_span_id"]),
        "TraceState": _blank(spans["trace_state"]),
        "SpanName": spans["name"],
        "SpanKind": pa.array(kinds, pa.string()),
        "ServiceName": _blank(spans["service_name"]),
        "ResourceAttributes": pa.array([maps(t) for t in spans["resource_attributes"].to_pylist()], STR_MAP),
        "ScopeName": _blank(spans["scope_name"]),
        "ScopeVersion": _blank(spans["scope_version"]),
        "SpanAttributes": pa.array([maps(t) for t in spans["attributes"].to_pylist()], STR_MAP),
        "Duration": pc.cast(spans["duration_ns"], pa.uint64()),
        "StatusCode": pa.array(statuses, pa.string()),
        "StatusMessage": _blank(spans["status_message"]),
        "Events.Timestamp": _nested(events, "time_ns", NS, int),
        "Events.Name": _nested(events, "name", pa.string(), lambda v: v or ""),
        "Events.Attributes": _nested(events, "attributes", STR_MAP, _as_map),
        "Links.TraceId": _nested(links, "trace_id", pa.string(), lambda v: v or ""),
        "Links.SpanId": _nested(links, "span_id", pa.string(), lambda v: v or ""),
        "Links.TraceState": _nested(links, "trace_state", pa.string(), lambda v: v or ""),
        "Links.Attributes": _nested(links, "attributes", STR_MAP, _as_map),
    })


def _exemplar_columns(points: pa.Table) -> dict[str, pa.Array]:
    ex = _json_list(points["exemplars"])
    return {
        "Exemplars.FilteredAttributes": _nested(ex, "attributes", STR_MAP, _as_map),
        "Exemplars.TimeUnix": _nested(ex, "time_ns", NS, int),
        "Exemplars.Value": _nested(ex, "value", pa.float64(), lambda v: float(v) if v is not None else 0.0),
        "Exemplars.SpanId": _nested(ex, "span_id", pa.string(), lambda v: v or ""),
        "Exemplars.TraceId": _nested(ex, "trace_id", pa.string(), lambda v: v or ""),
    }


def points_to_otel(points: pa.Table) -> dict[str, pa.Table]:
    """Rows for each otel_metrics_* table (keyed by table name), as the exporter would write the same points."""
    out: dict[str, pa.Table] = {}
    maps = _MapCache()
    for metric_type, table in METRIC_TABLES.items():
        p = points.filter(pc.equal(points["metric_type"], metric_type))
        if p.num_rows == 0:
            continue
        cols: dict[str, Any] = {
            "ResourceAttributes": pa.array([maps(t) for t in p["resource_attributes"].to_pylist()], STR_MAP),
            "ResourceSchemaUrl": pa.array([""] * p.num_rows, pa.string()),
            "ScopeName": _blank(p["scope_name"]),
            "ScopeVersion": _blank(p["scope_version"]),
            "ScopeAttributes": pa.array([[]] * p.num_rows, STR_MAP),
            "ScopeDroppedAttrCount": pa.array([0] * p.num_rows, pa.uint32()),
            "ScopeSchemaUrl": pa.array([""] * p.num_rows, pa.string()),
            "ServiceName": _blank(p["service_name"]),
            "MetricName": p["metric_name"],
            "MetricDescription": _blank(p["description"]),
            "MetricUnit": _blank(p["unit"]),
            "Attributes": pa.array([maps(t) for t in p["attributes"].to_pylist()], STR_MAP),
            "StartTimeUnix": pc.cast(pc.fill_null(p["start_time_ns"], 0), NS),
            "TimeUnix": pc.cast(p["time_ns"], NS),
            "Flags": pc.cast(pc.fill_null(p["flags"], 0), pa.uint32()),
        }
        if metric_type in ("gauge", "sum"):
            cols["Value"] = pc.fill_null(p["value"], 0.0)
        else:
            cols["Count"] = pc.fill_null(p["count"], 0)
            cols["Sum"] = pc.fill_null(p["sum"], 0.0)
        if metric_type != "summary":
            cols |= _exemplar_columns(p)
        if metric_type not in ("gauge", "summary"):
            cols["AggregationTemporality"] = pa.array(
                [TEMPORALITY.get(t or "", 0) for t in p["temporality"].to_pylist()], pa.int32())
        if metric_type == "sum":
            cols["IsMonotonic"] = pc.fill_null(p["is_monotonic"], False)
        if metric_type in ("histogram", "exponential_histogram"):
            cols["Min"] = pc.fill_null(p["min"], 0.0)  # the exporter writes 0 for an absent min/max
            cols["Max"] = pc.fill_null(p["max"], 0.0)
        if metric_type == "histogram":
            cols["BucketCounts"] = pc.fill_null(p["bucket_counts"], pa.scalar([], pa.list_(pa.uint64())))
            cols["ExplicitBounds"] = pc.fill_null(p["explicit_bounds"], pa.scalar([], pa.list_(pa.float64())))
        if metric_type == "exponential_histogram":
            cols["Scale"] = pc.fill_null(p["scale"], 0)
            cols["ZeroCount"] = pc.fill_null(p["zero_count"], 0)
            cols["PositiveOffset"] = pc.fill_null(p["positive_offset"], 0)
            cols["PositiveBucketCounts"] = pc.fill_null(p["positive_bucket_counts"], pa.scalar([], pa.list_(pa.uint64())))
            cols["NegativeOffset"] = pc.fill_null(p["negative_offset"], 0)
            cols["NegativeBucketCounts"] = pc.fill_null(p["negative_bucket_counts"], pa.scalar([], pa.list_(pa.uint64())))
        if metric_type == "summary":
            qs = _json_list(p["quantile_values"])
            cols["ValueAtQuantiles.Quantile"] = _nested(qs, "quantile", pa.float64(), float)
            cols["ValueAtQuantiles.Value"] = _nested(qs, "value", pa.float64(), float)
        out[table] = pa.table(cols)
    return out


def fit(rows: pa.Table, table: str, columns: Collection[str]) -> pa.Table:
    """Rows in the layout of schema 0001/0002 rewritten for an exporter table that has only `columns`, as that
    exporter version wrote them: the scope as span attributes where there is no ScopeName column, AggTemp for
    AggregationTemporality, no ServiceName where the table has none. Types (whole-second times, Int64 counts) are
    ClickHouse's to convert on insert."""
    have = set(columns)
    if table == "otel_traces" and "ScopeName" not in have and "ScopeName" in rows.column_names:
        merged = []
        for attrs, name, version in zip(rows["SpanAttributes"].to_pylist(), rows["ScopeName"].to_pylist(),
                                        rows["ScopeVersion"].to_pylist(), strict=True):
            extra = [(k, v) for k, v in (("otel.scope.name", name), ("otel.scope.version", version)) if v]
            merged.append([(k, v) for k, v in attrs if k not in dict(extra)] + extra)
        rows = rows.set_column(rows.column_names.index("SpanAttributes"), "SpanAttributes", pa.array(merged, STR_MAP))
    if "AggTemp" in have and "AggregationTemporality" not in have and "AggregationTemporality" in rows.column_names:
        rows = rows.rename_columns(["AggTemp" if c == "AggregationTemporality" else c for c in rows.column_names])
    return rows.select([c for c in rows.column_names if c in have])
