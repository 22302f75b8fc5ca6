"""The DuckDB fast path for OTLP/JSON trace lines: used only for batches it can prove it decodes exactly like otlp_json."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest.files.sources import Record
from ingest.otlp import rows as r
from ingest.otlp.otlp_json import _obj, _text
from ingest.otlp.otlp_values import Issue, json_attributes
from store import contract as c
from store.settings import Settings

SQL = (Path(__file__).parent / "fast_json.sql").read_text()

# What the guard lets through: leaf types by json_structure() name; anything else sends the batch to otlp_json.
_STR = frozenset({"VARCHAR"})
_INT = frozenset({"VARCHAR", "UBIGINT", "BIGINT", "HUGEINT"})
_EMPTY = frozenset({"NULL"})  # an empty list's element type
_ANY = None  # validated by the Python decoder itself (resource, scope)
_KV = {"key": _STR, "value": {"stringValue": _STR, "intValue": _INT, "boolValue": frozenset({"BOOLEAN"}),
                              "doubleValue": frozenset({"DOUBLE", "UBIGINT", "BIGINT", "HUGEINT"}),
                              "arrayValue": frozenset(), "kvlistValue": frozenset(),
                              "bytesValue": frozenset()}}
_SPAN = {"traceId": _STR, "spanId": _STR, "parentSpanId": _STR, "traceState": _STR, "flags": _INT, "name": _STR,
         "kind": _INT, "startTimeUnixNano": _INT, "endTimeUnixNano": _INT, "attributes": [_KV],
         "droppedAttributesCount": _INT, "droppedEventsCount": _INT, "droppedLinksCount": _INT,
         "status": _ANY, "events": [_EMPTY], "links": [_EMPTY]}  # status: checked per span in SQL
_DOC = {"resourceSpans": [{"resource": _ANY, "scopeSpans": [{"scope": _ANY, "spans": [_SPAN]}]}]}
# Text the guard refuses outright: JSON null (present-but-null differs from absent in otlp_json), and the
# non-standard NaN/Infinity literals DuckDB accepts and orjson does not.
_REFUSE = (b"null", b"NaN", b"Infinity")
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_TRAILING_COMMA = re.compile(rb",\s*[\]}]")  # DuckDB accepts trailing commas, orjson does not
ENV_FAST = "TIERWISE_INGEST_FAST"
# Control characters that orjson and DuckDB escape differently (\u000b against \u000B).
_ODD_CONTROL = "[\\x00-\\x07\\x0b\\x0e-\\x1f]"
_CONTENT_RE = "^(" + "|".join(re.escape(k) for k in sorted(c.CONTENT_ATTRS)) + ")$|^(" + "|".join(
    re.escape(p) for p in c.CONTENT_ATTR_PREFIXES) + ")"
_local = threading.local()


def enabled() -> bool:
    """Whether the fast paths are on (TIERWISE_INGEST_FAST=0 turns them off, e.g. to compare)."""
    return os.environ.get(ENV_FAST, "1").strip() != "0"


def _fits(struct: Any, schema: Any) -> bool:
    """Whether a json_structure() value only uses shapes and types the fast SQL reads exactly."""
    if schema is _ANY:
        return True
    if isinstance(schema, frozenset):
        return isinstance(struct, str) and struct in schema
    if isinstance(schema, list):
        return isinstance(struct, list) and (struct == ["NULL"] or _fits(struct[0], schema[0]))
    if not isinstance(struct, dict):
        return False
    return all(_fits(v, schema[k]) for k, v in struct.items() if k in schema)


def _connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process (and thread), with the context functions bound to `settings`."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None or _local.settings != settings:
        con = duckdb.connect(config={"threads": 1, "memory_limit": "512MB"})
        con.create_function("tw_resource", _memo(lambda t: _resource(t, settings)), ["VARCHAR"], "VARCHAR",
                            side_effects=False)
        con.create_function("tw_scope", _memo(lambda t: _scope(t, settings)), ["VARCHAR"], "VARCHAR",
                            side_effects=False)
        _local.con, _local.settings = con, settings
    return con


def _memo(fn: Callable[[str], str]) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def call(text: str) -> str:
        out = cache.get(text)
        if out is None:
            if len(cache) > 10_000:
                cache.clear()
            out = cache[text] = fn(text)
        return out
    return call


def _resource(text: str, settings: Settings) -> str:
    """The resource context otlp_json computes, as JSON (an Issue aborts the query: the batch falls back)."""
    res = _obj(orjson.loads(text), "resource")
    ctx = r.resource_context(r.scrub(json_attributes(res.get("attributes"), "resource.attributes"), settings,
                                     "resource.attributes"), settings)
    return r.dumps({"service_name": ctx.service_name, "tier": ctx.tier, "tier_source": ctx.tier_source,
                    "site": ctx.site, "workload": ctx.workload, "workload_type": ctx.workload_type,
                    "data_class": ctx.data_class, "latency_budget_ms": ctx.latency_budget_ms,
                    "host_name": ctx.host_name, "attrs_json": ctx.attrs_json})


def _scope(text: str, settings: Settings) -> str:
    sc = _obj(orjson.loads(text), "scope")
    attrs = r.scrub(json_attributes(sc.get("attributes"), "scope.attributes"), settings, "scope.attributes")
    return r.dumps({"name": _text(sc.get("name"), "scope.name", settings),
                    "version": _text(sc.get("version"), "scope.version", settings),
                    "attributes": r.dumps(attrs) if attrs else None})


def _lines(records: Sequence[Record]) -> tuple[pa.Array, bytes] | None:
    """The lines as Arrow text plus the whole batch (for substring checks), or None when a line is refused."""
    blob = b"\n".join(rec.payload for rec in records)
    if any(word in blob for word in _REFUSE) or (b"\\u" in blob and _SURROGATE.search(blob)):
        return None
    if _TRAILING_COMMA.search(blob):
        return None
    try:  # invalid UTF-8 is refused here, as orjson refuses it
        return pa.array([rec.payload for rec in records], pa.string()), blob
    except pa.ArrowInvalid:
        return None


def decode_traces(records: Sequence[Record], settings: Settings) -> pa.Table | None:
    """The spans table otlp_json would produce for these JSON lines, or None when that is not provably so."""
    decoded = _lines(records)
    if decoded is None:
        return None
    lines, blob = decoded
    con = _connection(settings)
    batch = pa.table({"record_no": pa.array([x.record_no for x in records], pa.int64()),
                      "line": lines})
    con.register("fast_batch", batch)
    try:
        shapes = [orjson.loads(s) for (s,) in con.execute(  # invalid JSON raises: the batch falls back
            "SELECT DISTINCT json_structure(line) FROM fast_batch").fetchall()]
        if not all(isinstance(s, dict) and "resourceSpans" in s and _fits(s, _DOC) for s in shapes):
            return None
        escapes = b"\\u" in blob  # odd control characters can only arrive escaped
        raw = con.sql(SQL, params={
            "limit": settings.max_attribute_bytes, "ctl": _ODD_CONTROL, "check_ctl": escapes, "content": _CONTENT_RE,
            "check_content": not settings.store_content}).to_arrow_table()
        if raw.num_rows and not pc.all(raw["ok"]).as_py():
            return None
        return finish(raw)
    except (duckdb.Error, Issue, ValueError, pa.ArrowException):
        # Whatever the fast path cannot decode (orjson's depth limit, say), otlp_json decodes or quarantines.
        return None
    finally:
        con.unregister("fast_batch")


def _mapped(col: pa.Array, fn: Callable[[Any], Any], typ: pa.DataType) -> pa.Array:
    """fn(value) for a column of JSON texts, computed once per distinct text."""
    enc = pc.dictionary_encode(col)
    values = [fn(None if t is None else orjson.loads(t)) for t in enc.dictionary.to_pylist()]
    return pa.array(values, typ).take(enc.indices)


def _ints(col: pa.Array) -> pa.Array:
    """rows._int_attr of a column of JSON texts; JSON integers (in BIGINT range here) are kept as they are."""
    try:
        return pc.cast(col, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # strings, bools, doubles: decide one by one
        return _mapped(col, r._int_attr, pa.int64())


def _str(v: Any) -> str | None:
    return v if type(v) is str and v else None


_MODEL0, _MODEL1 = c.ATTR_MODEL
_PROMOTED = (c.ATTR_TIER, c.ATTR_SITE, c.ATTR_WORKLOAD, c.ATTR_WORKLOAD_TYPE, c.ATTR_DATA_CLASS,
             c.ATTR_LATENCY_BUDGET_MS, c.ATTR_CACHE_HIT, c.ATTR_CACHE_NAME, _MODEL0, _MODEL1, c.ATTR_INPUT_TOKENS,
             c.ATTR_OUTPUT_TOKENS, c.ATTR_CACHE_READ_TOKENS, c.ATTR_REQUEST_BYTES, c.ATTR_RESPONSE_BYTES)
_FALSY = pa.array(["null", '""', "0", "false"])  # JSON texts of the falsy values the fast path lets through


def _promoted(kvs: pa.ChunkedArray) -> dict[str, pa.Array] | None:
    """Per promoted key, the span's value as JSON text (NULL: absent); None when a value is beyond the fast path."""
    lists = kvs.combine_chunks()
    flat, parents = pc.list_flatten(lists), pc.list_parent_indices(lists)
    keys, vals = flat.field("k"), flat.field("v")
    if keys.null_count or vals.null_count:
        return None
    codes = pc.dictionary_encode(keys)
    pair_ids = pc.add(pc.multiply(pc.cast(parents, pa.int64()), len(codes.dictionary)),
                      pc.cast(codes.indices, pa.int64()))
    if len(pc.unique(pair_ids)) != len(pair_ids):
        return None  # a key twice in one list: a dict keeps the last value, the text here would keep both
    wanted = pc.is_in(keys, value_set=pa.array(_PROMOTED))
    enc = pc.dictionary_encode(keys.filter(wanted))
    vals, where = vals.filter(wanted), parents.filter(wanted)
    present = {k: i for i, k in enumerate(enc.dictionary.to_pylist())}
    out: dict[str, pa.Array] = {}
    for key in _PROMOTED:
        if key not in present:
            out[key] = pa.nulls(len(lists), pa.string())
            continue
        hit = pc.equal(enc.indices, present[key])
        at = where.filter(hit).to_numpy()
        index = np.full(len(lists), -1, np.int64)
        index[at] = np.arange(len(at))
        out[key] = vals.filter(hit).take(pa.array(index, mask=index < 0))
    m0 = out[_MODEL0]
    out[_MODEL0] = pc.if_else(pc.or_(pc.is_null(m0), pc.is_in(m0, value_set=_FALSY)), out[_MODEL1], m0)
    return out


def finish(t: pa.Table) -> pa.Table | None:
    """The spans table from `t` (its `kvs`: kept attributes as (key, JSON text)): promoted attributes
    (span value, else the resource's) exactly as rows.SpanColumns.add decides them. None: beyond the fast path."""
    p = _promoted(t["kvs"])
    if p is None:
        return None
    s, f64, b = pa.string(), pa.float64(), pa.bool_()
    span_tier = _mapped(p[c.ATTR_TIER], c.normalize_tier, s)
    cols: dict[str, Any] = {
        "tier": pc.coalesce(span_tier, t["tier"]),
        "tier_source": pc.if_else(pc.is_valid(span_tier), pa.scalar("declared"), t["tier_source"]),
        "site": pc.coalesce(_mapped(p[c.ATTR_SITE], _str, s), t["site"]),
        "workload": pc.coalesce(_mapped(p[c.ATTR_WORKLOAD], _str, s), t["workload"]),
        "workload_type": pc.coalesce(_mapped(p[c.ATTR_WORKLOAD_TYPE], lambda v: c.normalize_enum(v, c.WORKLOAD_TYPES), s),
                                     t["workload_type"]),
        "data_class": pc.coalesce(_mapped(p[c.ATTR_DATA_CLASS], lambda v: c.normalize_enum(v, c.DATA_CLASSES), s),
                                  t["data_class"]),
        "latency_budget_ms": pc.coalesce(
            _mapped(p[c.ATTR_LATENCY_BUDGET_MS], lambda v: None if v is None else r.as_float(v), f64),
            t["latency_budget_ms"]),
        "cache_hit": _mapped(p[c.ATTR_CACHE_HIT], lambda v: v if type(v) is bool else (None if v is None else r.as_bool(v)), b),
        "cache_name": _mapped(p[c.ATTR_CACHE_NAME], lambda v: v if type(v) is str else None, s),
        "gen_ai_model": _mapped(p[_MODEL0], lambda v: v if type(v) is str else None, s),
        "input_tokens": _ints(p[c.ATTR_INPUT_TOKENS]),
        "output_tokens": _ints(p[c.ATTR_OUTPUT_TOKENS]),
        "cache_read_tokens": _ints(p[c.ATTR_CACHE_READ_TOKENS]),
        "request_bytes": _ints(p[c.ATTR_REQUEST_BYTES]),
        "response_bytes": _ints(p[c.ATTR_RESPONSE_BYTES]),
    }
    arrays = [cols[f.name] if f.name in cols else t[f.name] for f in r.SPAN_SCHEMA]
    return pa.Table.from_arrays([pc.cast(a, f.type) for a, f in zip(arrays, r.SPAN_SCHEMA, strict=True)],
                                schema=r.SPAN_SCHEMA)
