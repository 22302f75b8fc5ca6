"""Row builders shared by the JSON and protobuf decoders: resource context, promotion, Arrow batches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from ingest.otlp.otlp_values import Issue
from store import contract as c
from store.settings import Settings

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
    n: int | None = None
    if type(v) is int:
        n = v
    elif (type(v) is float and v.is_integer()) or (type(v) is str and v.strip().lstrip("-").isdigit()):
        n = int(v)
    return n if n is not None and -(2**63) <= n < 2**63 else None  # a BIGINT column; out of range is not promoted


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


_CONTENT_KEYS: dict[str, bool] = {}


def _is_content(key: str) -> bool:
    known = _CONTENT_KEYS.get(key)
    if known is None:
        if len(_CONTENT_KEYS) > 100_000:  # attribute keys are a small vocabulary; bound it anyway
            _CONTENT_KEYS.clear()
        known = _CONTENT_KEYS[key] = c.is_content_attr(key)
    return known


def scrub(attrs: dict[str, Any], settings: Settings, field: str) -> dict[str, Any]:
    """Drop prompt/completion text unless opted in, and refuse oversized keys and values."""
    limit = settings.max_attribute_bytes
    quarter = limit // 4
    check_content = not settings.store_content
    content = False
    for k, v in attrs.items():
        if check_content and _is_content(k):
            content = True
            continue
        if len(k) > quarter and len(k.encode()) > limit:
            raise Issue(f"{field}[{k[:40]!r}…]", f"key is {len(k.encode())} bytes, above the {limit}-byte limit")
        t = type(v)
        if t is str:
            if len(v) > quarter and len(v.encode()) > limit:
                raise Issue(f"{field}[{k!r}]", f"value is {len(v.encode())} bytes, above the {limit}-byte limit")
        elif (t is list or t is dict) and len(dumps(v)) > limit:
            raise Issue(f"{field}[{k!r}]", f"value is larger than the {limit}-byte limit")
    if content:
        return {k: v for k, v in attrs.items() if not _is_content(k)}
    return attrs


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
        site=(as_str(attrs.get(c.ATTR_SITE)) or as_str(attrs.get(c.ATTR_CLOUD_REGION))
              or c.zone_region(attrs.get(c.ATTR_CLOUD_ZONE), attrs.get(c.ATTR_CLOUD_PROVIDER))),
        workload=as_str(attrs.get(c.ATTR_WORKLOAD)) or service,
        workload_type=c.normalize_enum(attrs.get(c.ATTR_WORKLOAD_TYPE), c.WORKLOAD_TYPES),
        data_class=c.normalize_enum(attrs.get(c.ATTR_DATA_CLASS), c.DATA_CLASSES),
        latency_budget_ms=as_float(attrs.get(c.ATTR_LATENCY_BUDGET_MS)),
        host_name=as_str(attrs.get(c.ATTR_HOST_NAME)),
    )


_TIER = c.ATTR_TIER
_SITE, _WORKLOAD, _WTYPE, _DCLASS = c.ATTR_SITE, c.ATTR_WORKLOAD, c.ATTR_WORKLOAD_TYPE, c.ATTR_DATA_CLASS
_BUDGET, _HIT, _CACHE = c.ATTR_LATENCY_BUDGET_MS, c.ATTR_CACHE_HIT, c.ATTR_CACHE_NAME
_MODEL0, _MODEL1 = c.ATTR_MODEL
_IN, _OUT, _CREAD = c.ATTR_INPUT_TOKENS, c.ATTR_OUTPUT_TOKENS, c.ATTR_CACHE_READ_TOKENS
_REQ, _RESP = c.ATTR_REQUEST_BYTES, c.ATTR_RESPONSE_BYTES
_WORKLOAD_TYPES, _DATA_CLASSES = c.WORKLOAD_TYPES, c.DATA_CLASSES
_dumps = orjson.dumps
CHUNK_ROWS = 8192


def _int_attr(v: Any) -> int | None:
    return v if type(v) is int else (None if v is None else as_int(v))


@dataclass
class SpanColumns:
    """Rows of one batch of spans (a builder: appended to as tuples, then frozen into Arrow).

    One tuple per span keeps the per-span cost to a single append; `to_arrow` transposes in C.
    """

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    chunks: list[pa.RecordBatch] = field(default_factory=list)  # full row groups already frozen into Arrow
    frozen: int = 0

    def __len__(self) -> int:
        return self.frozen + len(self.rows)

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
        """Append one decoded span, promoting contract attributes to columns (span values win)."""
        a = attrs.get
        tier_v, site, workload = a(_TIER), a(_SITE), a(_WORKLOAD)
        span_tier = None if tier_v is None else c.normalize_tier(tier_v)
        wtype, dclass, budget_v = a(_WTYPE), a(_DCLASS), a(_BUDGET)
        budget = None if budget_v is None else as_float(budget_v)
        model = a(_MODEL0) or a(_MODEL1)
        hit, cache = a(_HIT), a(_CACHE)
        self.rows.append((
            ids[0], ids[1], ids[2], ids[3], flags, name, kind, status[0], status[1], ctx.service_name,
            span_tier or ctx.tier, "declared" if span_tier else ctx.tier_source,
            site if type(site) is str and site else ctx.site,
            workload if type(workload) is str and workload else ctx.workload,
            (None if wtype is None else c.normalize_enum(wtype, _WORKLOAD_TYPES)) or ctx.workload_type,
            (None if dclass is None else c.normalize_enum(dclass, _DATA_CLASSES)) or ctx.data_class,
            budget if budget is not None else ctx.latency_budget_ms, ctx.host_name,
            start_ns, end_ns, end_ns - start_ns,
            hit if type(hit) is bool else (None if hit is None else as_bool(hit)),
            cache if type(cache) is str else None, model if type(model) is str else None,
            _int_attr(a(_IN)), _int_attr(a(_OUT)), _int_attr(a(_CREAD)), _int_attr(a(_REQ)), _int_attr(a(_RESP)),
            scope[0], scope[1], ctx.attrs_json, scope[2],
            _dumps(attrs).decode(), _dumps(events).decode() if events else None,
            _dumps(links).decode() if links else None,
            dropped[0], dropped[1], dropped[2],
        ))
        if len(self.rows) >= CHUNK_ROWS:  # Arrow holds a span in far fewer bytes than Python tuples do
            self._freeze()

    def _freeze(self) -> None:
        columns = zip(*self.rows, strict=True)
        self.chunks.append(pa.RecordBatch.from_arrays(
            [pa.array(col, f.type) for col, f in zip(columns, SPAN_SCHEMA, strict=True)], schema=SPAN_SCHEMA))
        self.frozen += len(self.rows)
        self.rows = []

    def to_arrow(self) -> pa.Table:
        if self.rows:
            self._freeze()
        return pa.Table.from_batches(self.chunks, schema=SPAN_SCHEMA)


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
