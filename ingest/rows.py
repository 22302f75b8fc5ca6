"""Row builders shared by the JSON and protobuf decoders: resource context, promotion, Arrow batches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from ingest import contract as c
from ingest.otlp_values import Issue
from ingest.settings import Settings

SPAN_SCHEMA = pa.schema(
    [
        ("trace_id", pa.string()), ("span_id", pa.string()), ("parent_span_id", pa.string()),
        ("trace_state", pa.string()), ("flags", pa.uint64()), ("name", pa.string()), ("kind", pa.string()),
        ("status_code", pa.string()), ("status_message", pa.string()), ("service_name", pa.string()),
        ("tier", pa.string()), ("tier_source", pa.string()), ("site", pa.string()), ("workload", pa.string()),
        ("workload_type", pa.string()), ("data_class", pa.string()), ("latency_budget_ms", pa.float64()),
        ("host_name", pa.string()), ("start_ns", pa.int64()), ("end_ns", pa.int64()),
        ("duration_ns", pa.int64()), ("cache_hit", pa.bool_()), ("cache_name", pa.string()),
        ("gen_ai_model", pa.string()), ("input_tokens", pa.int64()), ("output_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()), ("request_bytes", pa.int64()), ("response_bytes", pa.int64()),
        ("scope_name", pa.string()), ("scope_version", pa.string()), ("resource_attributes", pa.string()),
        ("scope_attributes", pa.string()), ("attributes", pa.string()), ("events", pa.string()),
        ("links", pa.string()), ("dropped_attributes_count", pa.uint32()),
        ("dropped_events_count", pa.uint32()), ("dropped_links_count", pa.uint32()),
    ]
)

POINT_SCHEMA = pa.schema(
    [
        ("metric_name", pa.string()), ("description", pa.string()), ("unit", pa.string()),
        ("metric_type", pa.string()), ("temporality", pa.string()), ("is_monotonic", pa.bool_()),
        ("time_ns", pa.int64()), ("start_time_ns", pa.int64()), ("value", pa.float64()),
        ("count", pa.uint64()), ("sum", pa.float64()), ("min", pa.float64()), ("max", pa.float64()),
        ("bucket_counts", pa.list_(pa.uint64())), ("explicit_bounds", pa.list_(pa.float64())),
        ("scale", pa.int32()), ("zero_count", pa.uint64()), ("zero_threshold", pa.float64()),
        ("positive_offset", pa.int32()), ("positive_bucket_counts", pa.list_(pa.uint64())),
        ("negative_offset", pa.int32()), ("negative_bucket_counts", pa.list_(pa.uint64())),
        ("quantile_values", pa.string()), ("exemplars", pa.string()), ("flags", pa.uint64()),
        ("canonical_name", pa.string()), ("canonical_value", pa.float64()), ("service_name", pa.string()),
        ("tier", pa.string()), ("tier_source", pa.string()), ("site", pa.string()), ("workload", pa.string()),
        ("host_name", pa.string()), ("scope_name", pa.string()), ("scope_version", pa.string()),
        ("resource_attributes", pa.string()), ("attributes", pa.string()),
    ]
)


@dataclass(frozen=True)
class Rejection:
    """One quarantined item: where it was and why."""

    record_no: int
    item: str
    field: str
    reason: str
    rows: int = 1
    excerpt: str = ""


@dataclass(frozen=True)
class ResourceContext:
    """What every span or point under one resource shares."""

    attrs: Mapping[str, Any]
    attrs_json: str
    service_name: str | None
    tier: str
    tier_source: str
    site: str | None
    workload: str | None
    workload_type: str | None
    data_class: str | None
    latency_budget_ms: float | None
    host_name: str | None


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def as_str(v: Any) -> str | None:
    return v if type(v) is str else None


def as_int(v: Any) -> int | None:
    """A promoted integer attribute; strings of digits and integral doubles count too."""
    if type(v) is int:
        return v
    if type(v) is float and v.is_integer():
        return int(v)
    if type(v) is str and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def as_float(v: Any) -> float | None:
    if type(v) is int or type(v) is float:
        return float(v)
    if type(v) is str:
        try:
            return float(v)
        except ValueError:
            return None
    return None


def as_bool(v: Any) -> bool | None:
    if type(v) is bool:
        return v
    if type(v) is str and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def scrub(attrs: dict[str, Any], settings: Settings, field: str) -> dict[str, Any]:
    """Drop prompt/completion text unless opted in, and refuse oversized values."""
    limit = settings.max_attribute_bytes
    out = attrs
    for k, v in attrs.items():
        if not settings.store_content and c.is_content_attr(k):
            out = {kk: vv for kk, vv in out.items() if not c.is_content_attr(kk)}
            continue
        if type(v) is str and len(v) > limit // 4 and len(v.encode()) > limit:
            raise Issue(f"{field}[{k!r}]", f"value is {len(v.encode())} bytes, above the {limit}-byte limit")
        if type(v) in (list, dict) and len(dumps(v)) > limit:
            raise Issue(f"{field}[{k!r}]", f"value is larger than the {limit}-byte limit")
    return out


def resource_context(attrs: dict[str, Any], settings: Settings) -> ResourceContext:
    """Tier, site, workload and the other contract fields of one resource."""
    tier, source = c.derive_tier(attrs, settings.tier_rules)
    service = as_str(attrs.get(c.ATTR_SERVICE_NAME))
    return ResourceContext(
        attrs=attrs,
        attrs_json=dumps(attrs),
        service_name=service,
        tier=tier,
        tier_source=source,
        site=as_str(attrs.get(c.ATTR_SITE)) or as_str(attrs.get(c.ATTR_CLOUD_REGION)),
        workload=as_str(attrs.get(c.ATTR_WORKLOAD)) or service,
        workload_type=c.normalize_enum(attrs.get(c.ATTR_WORKLOAD_TYPE), c.WORKLOAD_TYPES),
        data_class=c.normalize_enum(attrs.get(c.ATTR_DATA_CLASS), c.DATA_CLASSES),
        latency_budget_ms=as_float(attrs.get(c.ATTR_LATENCY_BUDGET_MS)),
        host_name=as_str(attrs.get(c.ATTR_HOST_NAME)),
    )


@dataclass
class SpanColumns:
    """Column lists for one batch of spans (a builder: appended to, then frozen into Arrow)."""

    cols: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in SPAN_SCHEMA.names})

    def __len__(self) -> int:
        return len(self.cols["name"])

    def add(
        self,
        ctx: ResourceContext,
        scope: tuple[str | None, str | None, str | None],
        ids: tuple[str | None, str | None, str | None, str | None],
        flags: int,
        name: str,
        kind: str,
        status: tuple[str, str | None],
        start_ns: int,
        end_ns: int,
        attrs: dict[str, Any],
        events: list[dict[str, Any]],
        links: list[dict[str, Any]],
        dropped: tuple[int, int, int],
    ) -> None:
        """Append one decoded span, promoting contract attributes to columns."""
        a = attrs.get
        span_tier = c.normalize_tier(a(c.ATTR_TIER))
        model = a(c.ATTR_MODEL[0]) or a(c.ATTR_MODEL[1])
        budget = as_float(a(c.ATTR_LATENCY_BUDGET_MS))
        values = (
            ids[0], ids[1], ids[2], ids[3], flags, name, kind, status[0], status[1], ctx.service_name,
            span_tier or ctx.tier, "declared" if span_tier else ctx.tier_source,
            as_str(a(c.ATTR_SITE)) or ctx.site, as_str(a(c.ATTR_WORKLOAD)) or ctx.workload,
            c.normalize_enum(a(c.ATTR_WORKLOAD_TYPE), c.WORKLOAD_TYPES) or ctx.workload_type,
            c.normalize_enum(a(c.ATTR_DATA_CLASS), c.DATA_CLASSES) or ctx.data_class,
            budget if budget is not None else ctx.latency_budget_ms, ctx.host_name,
            start_ns, end_ns, end_ns - start_ns, as_bool(a(c.ATTR_CACHE_HIT)), as_str(a(c.ATTR_CACHE_NAME)),
            as_str(model), as_int(a(c.ATTR_INPUT_TOKENS)), as_int(a(c.ATTR_OUTPUT_TOKENS)),
            as_int(a(c.ATTR_CACHE_READ_TOKENS)), as_int(a(c.ATTR_REQUEST_BYTES)),
            as_int(a(c.ATTR_RESPONSE_BYTES)), scope[0], scope[1], ctx.attrs_json, scope[2],
            dumps(attrs), dumps(events) if events else None, dumps(links) if links else None,
            dropped[0], dropped[1], dropped[2],
        )
        for col, v in zip(self.cols.values(), values, strict=True):
            col.append(v)

    def to_arrow(self) -> pa.Table:
        return pa.table(self.cols, schema=SPAN_SCHEMA)


@dataclass
class PointColumns:
    """Column lists for one batch of metric data points."""

    cols: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in POINT_SCHEMA.names})

    def __len__(self) -> int:
        return len(self.cols["metric_name"])

    def add(self, ctx: ResourceContext, scope: tuple[str | None, str | None], point: dict[str, Any]) -> None:
        """Append one data point given as a dict of POINT_SCHEMA names (missing names are NULL)."""
        alias = c.METRIC_ALIASES.get(point["metric_name"])
        value = point.get("value")
        row = dict(point)
        row.update(
            canonical_name=alias.canonical if alias else None,
            canonical_value=value * alias.scale if alias and value is not None else None,
            service_name=ctx.service_name,
            tier=ctx.tier,
            tier_source=ctx.tier_source,
            site=ctx.site,
            workload=ctx.workload,
            host_name=ctx.host_name,
            scope_name=scope[0],
            scope_version=scope[1],
            resource_attributes=ctx.attrs_json,
        )
        for name, col in self.cols.items():
            col.append(row.get(name))

    def to_arrow(self) -> pa.Table:
        return pa.table(self.cols, schema=POINT_SCHEMA)
