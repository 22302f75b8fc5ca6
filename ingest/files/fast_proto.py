"""The columnar fast path for OTLP protobuf trace requests: same rows as otlp_proto, less per-span Python work."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1 import trace_pb2

from ingest.files.fast_json import finish
from ingest.files.sources import Record
from ingest.otlp import otlp_proto
from ingest.otlp.otlp_values import Issue, proto_any, proto_attributes
from ingest.otlp.rows import SPAN_SCHEMA, dumps, resource_context, scrub
from store import contract as c
from store.settings import Settings

# The same wire format with resource, scope, attributes, events and links left as raw bytes: each
# distinct byte string is decoded once per batch by the real message types (and otlp_values), and
# the Python objects for the thousands of identical key/value pairs in a batch are never built.
_RAW = {("ResourceSpans", "resource"), ("ScopeSpans", "scope"), ("Span", "attributes"), ("Span", "events"),
        ("Span", "links")}
_INT = {("Span", "kind"), ("Status", "code")}  # open enums: any int32 is kept, as by the real types


def _lite_types() -> dict[str, Any]:
    fdp = descriptor_pb2.FileDescriptorProto(name="tierwise/lite_trace.proto", package="tierwise.lite",
                                             syntax="proto3")
    for msg in (trace_pb2.ResourceSpans, trace_pb2.ScopeSpans, trace_pb2.Span, trace_pb2.Status):
        dp = fdp.message_type.add()
        msg.DESCRIPTOR.CopyToProto(dp)
        del dp.nested_type[:], dp.enum_type[:]
        for f in dp.field:
            if (dp.name, f.name) in _RAW:
                f.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                f.ClearField("type_name")
            elif (dp.name, f.name) in _INT:
                f.type = descriptor_pb2.FieldDescriptorProto.TYPE_INT32
                f.ClearField("type_name")
            elif f.type_name:
                f.type_name = ".tierwise.lite." + f.type_name.rsplit(".", 1)[1]
    req = fdp.message_type.add(name="Request")
    req.field.add(name="resource_spans", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                  label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED, type_name=".tierwise.lite.ResourceSpans")
    pool = descriptor_pool.DescriptorPool()
    fd = pool.Add(fdp)
    return {name: message_factory.GetMessageClass(fd.message_types_by_name[name]) for name in ("Request", "Span", "Status")}


_LITE = _lite_types()
_Request = _LITE["Request"]
_F = {f.name: f for f in _LITE["Span"].DESCRIPTOR.fields}
_CODE, _MESSAGE = (_LITE["Status"].DESCRIPTOR.fields_by_name[n] for n in ("code", "message"))


_CTX = ("service_name", "tier", "tier_source", "site", "workload", "workload_type", "data_class",
        "latency_budget_ms", "host_name")
_SPAN_COLS = ("trace_id", "span_id", "parent_span_id", "trace_state", "flags", "name", "kind", "status_code",
              "status_message", "start_ns", "end_ns", "scope_name", "scope_version", "resource_attributes",
              "scope_attributes", "attributes", "events", "links", "dropped_attributes_count",
              "dropped_events_count", "dropped_links_count", *_CTX)


class _Decoder:
    """One batch: columns, plus caches from raw bytes to what otlp_proto's own functions make of them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cols: dict[str, list[Any]] = {name: [] for name in _SPAN_COLS}
        self.kv_ids: dict[bytes, int] = {}  # raw KeyValue → entry index; -1: a prompt/completion attribute
        self.keys: list[str] = []
        self.values: list[str] = []  # the value as JSON text
        self.fragments: list[str] = []  # '"key":value', as orjson writes it inside an object
        self.flat: list[int] = []  # entry index of each kept attribute of each span, in order
        self.offsets: list[int] = [0]
        self.resources: dict[bytes, Any] = {}
        self.scopes: dict[bytes, tuple[str | None, str | None, str | None]] = {}

    def kv(self, raw: bytes) -> int:
        """Decode one distinct KeyValue as proto_attributes and scrub do (scrub raises for an oversized value)."""
        kv = KeyValue.FromString(raw)
        key, v = kv.key, kv.value
        which = v.WhichOneof("value")
        value = v.int_value if which == "int_value" else v.string_value if which == "string_value" else proto_any(v)
        index = -1
        if scrub({key: value}, self.settings, "attributes"):  # {} for a dropped prompt/completion attribute
            index = len(self.keys)
            text = dumps(value)
            self.keys.append(key)
            self.values.append(text)
            self.fragments.append(dumps(key) + ":" + text)  # what orjson writes for this entry of an object
        self.kv_ids[raw] = index
        return index

    def attrs(self, raws: Sequence[bytes]) -> str:
        """The span's attributes as otlp_proto writes them; their entries are appended to `flat`."""
        get, flat, frags = self.kv_ids.get, self.flat, self.fragments
        parts = []
        for raw in raws:
            i = get(raw)
            if i is None:
                i = self.kv(raw)
            if i >= 0:
                flat.append(i)
                parts.append(frags[i])
        self.offsets.append(len(flat))
        return "{" + ",".join(parts) + "}"

    def resource(self, raw: bytes) -> Any:
        ctx = self.resources.get(raw)
        if ctx is None:
            res = Resource.FromString(raw)
            ctx = self.resources[raw] = resource_context(
                scrub(proto_attributes(res.attributes), self.settings, "resource.attributes"), self.settings)
        return ctx

    def scope(self, raw: bytes) -> tuple[str | None, str | None, str | None]:
        sc = self.scopes.get(raw)
        if sc is None:
            sc = self.scopes[raw] = otlp_proto._scope(InstrumentationScope.FromString(raw), self.settings, "scope")
        return sc

    def table(self) -> pa.Table:
        flat = pa.array(self.flat, pa.int64())
        kvs = pa.ListArray.from_arrays(pa.array(self.offsets, pa.int32()), pa.StructArray.from_arrays(
            [pa.array(self.keys, pa.string()).take(flat), pa.array(self.values, pa.string()).take(flat)],
            names=["k", "v"]))
        types = {f.name: f.type for f in SPAN_SCHEMA}
        cols = {n: pa.array(v, types[n]) for n, v in self.cols.items()}
        return pa.table({**cols, "duration_ns": pc.subtract(cols["end_ns"], cols["start_ns"]), "kvs": kvs})


def _ids(values: list[bytes], n: int) -> list[str | None]:
    if any(len(v) not in (0, n) for v in values):
        raise Issue("id", "wrong length")
    return [v.hex() if v else None for v in values]


def _spans(d: _Decoder, ctx: Any, scope: tuple[str | None, str | None, str | None], spans: Any) -> None:
    """Append one scope's spans, field by field over all of them (otlp_proto._span's checks, in bulk).

    One ListFields() call per span fetches every set field (a field access costs about as much as
    the whole call); absent fields take their proto3 defaults.
    """
    n = len(spans)
    rows = [dict(s.ListFields()) for s in spans]

    def col(name: str, default: Any) -> list[Any]:
        f = _F[name]
        return [r.get(f, default) for r in rows]

    starts, ends, kinds = col("start_time_unix_nano", 0), col("end_time_unix_nano", 0), col("kind", 0)
    statuses = [dict(st.ListFields()) if st is not None else {} for st in col("status", None)]
    codes = [st.get(_CODE, 0) for st in statuses]
    names, states, messages = col("name", ""), col("trace_state", None), [st.get(_MESSAGE) for st in statuses]
    if n and (any(e < s for s, e in zip(starts, ends, strict=True)) or max(ends) >= 2**63
              or not 0 <= min(kinds) <= max(kinds) < len(c.SPAN_KINDS)
              or not 0 <= min(codes) <= max(codes) < len(c.STATUS_CODES)
              or max(map(len, filter(None, chain(names, states, messages))), default=0) * 4
              > d.settings.max_attribute_bytes):
        raise Issue("span", "beyond the fast path")  # long texts too: otlp_proto decides on their size in bytes
    cols, settings, no_list = d.cols, d.settings, ()
    cols["trace_id"] += _ids(col("trace_id", b""), 16)
    cols["span_id"] += _ids(col("span_id", b""), 8)
    cols["parent_span_id"] += _ids(col("parent_span_id", b""), 8)
    cols["trace_state"] += states
    cols["flags"] += col("flags", 0)
    cols["name"] += names
    cols["kind"] += [c.SPAN_KINDS[k] for k in kinds]
    cols["status_code"] += [c.STATUS_CODES[k] for k in codes]
    cols["status_message"] += messages
    cols["start_ns"] += starts
    cols["end_ns"] += ends
    cols["attributes"] += [d.attrs(a) for a in col("attributes", no_list)]
    cols["events"] += [dumps([otlp_proto._event(trace_pb2.Span.Event.FromString(e), settings) for e in evs])
                       if evs else None for evs in col("events", None)]
    cols["links"] += [dumps([otlp_proto._link(trace_pb2.Span.Link.FromString(x), settings) for x in lns])
                      if lns else None for lns in col("links", None)]
    cols["dropped_attributes_count"] += col("dropped_attributes_count", 0)
    cols["dropped_events_count"] += col("dropped_events_count", 0)
    cols["dropped_links_count"] += col("dropped_links_count", 0)
    for name, value in zip(("scope_name", "scope_version", "scope_attributes", "resource_attributes"),
                           (*scope, ctx.attrs_json), strict=True):
        cols[name] += [value] * n
    for name in _CTX:
        cols[name] += [getattr(ctx, name)] * n


def decode_traces(records: Sequence[Record], settings: Settings) -> pa.Table | None:
    """The spans table otlp_proto would produce for these trace requests, or None (decode them the slow way).

    None whenever any record is not a clean traces request: one the sniffer would not call traces,
    one that does not parse, or any span or attribute otlp_proto would quarantine.
    """
    d = _Decoder(settings)
    try:
        for rec in records:
            # Every raw sub-message is later parsed by its real type, so this validates as a full parse does.
            msg = _Request.FromString(rec.payload)
            if not otlp_proto._looks_like_traces(msg):  # another signal, or none: as otlp_proto.sniff decides
                return None
            for rs in msg.resource_spans:
                ctx = d.resource(rs.resource)
                for ss in rs.scope_spans:
                    _spans(d, ctx, d.scope(ss.scope), ss.spans)
        return finish(d.table())
    except (DecodeError, Issue, ValueError, pa.ArrowException):  # otlp_proto decodes or quarantines it
        return None
