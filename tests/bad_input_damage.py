"""Damage to one JSON line of the bad-input corpus: a wrong JSON type where the decoder reads, a bad id, a huge value,
deep nesting, bad UTF-8, a lone surrogate, junk or a BOM; each with the rows the data contract lets it cost."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from bad_input_sources import BOM, rows_of

LIMIT = 256 * 1024  # max_attribute_bytes: above it a value, name or key is quarantined
LEAF, ANY, KVS = "leaf", "any", "kvs"  # a scalar, an AnyValue object, a list of key/value objects
# What otlp_json reads, so that a value of the wrong type there must be quarantined (fields it ignores are left out).
_VALUE = {"stringValue": LEAF, "intValue": LEAF, "boolValue": LEAF, "doubleValue": LEAF, "bytesValue": LEAF,
          "arrayValue": {"values": [ANY]}, "kvlistValue": {"values": KVS}}
_KV = {"key": LEAF, "value": ANY}
_SCOPE = {"name": LEAF, "version": LEAF, "attributes": KVS}
_SPAN = {**dict.fromkeys(("traceId", "spanId", "parentSpanId", "traceState", "flags", "name", "kind", "startTimeUnixNano",
                          "endTimeUnixNano", "droppedAttributesCount", "droppedEventsCount", "droppedLinksCount"), LEAF),
         "attributes": KVS, "events": [{"timeUnixNano": LEAF, "name": LEAF, "attributes": KVS}],
         "links": [{"traceId": LEAF, "spanId": LEAF, "traceState": LEAF, "attributes": KVS}],
         "status": {"code": LEAF, "message": LEAF}}
_BUCKETS = {"offset": LEAF, "bucketCounts": [LEAF]}
_POINT = {**dict.fromkeys(("startTimeUnixNano", "timeUnixNano", "flags", "asDouble", "asInt", "count", "sum", "min", "max",
                           "scale", "zeroCount", "zeroThreshold"), LEAF),
          "attributes": KVS, "bucketCounts": [LEAF], "explicitBounds": [LEAF], "positive": _BUCKETS,
          "negative": _BUCKETS, "quantileValues": [{"quantile": LEAF, "value": LEAF}],
          "exemplars": [{"timeUnixNano": LEAF, "asDouble": LEAF, "asInt": LEAF, "traceId": LEAF, "spanId": LEAF,
                         "filteredAttributes": KVS}]}
_BODY = {"dataPoints": [_POINT], "aggregationTemporality": LEAF, "isMonotonic": LEAF}
_METRIC = {"name": LEAF, "description": LEAF, "unit": LEAF, **dict.fromkeys(
    ("gauge", "sum", "histogram", "exponentialHistogram", "summary"), _BODY)}
_RESOURCE = {"attributes": KVS}
SCHEMA = {"resourceSpans": [{"resource": _RESOURCE, "scopeSpans": [{"scope": _SCOPE, "spans": [_SPAN]}]}],
          "resourceMetrics": [{"resource": _RESOURCE, "scopeMetrics": [{"scope": _SCOPE, "metrics": [_METRIC]}]}],
          "resourceLogs": [{"scopeLogs": [{"logRecords": LEAF}]}]}
Path = tuple[str | int, ...]
SENTINEL = "\x00tierwise-sentinel\x00"


def _resolve(schema: Any) -> Any:
    return _VALUE if schema == ANY else [_KV] if schema == KVS else schema


def read_fields(value: Any, schema: Any = SCHEMA, path: Path = ()) -> Iterator[Path]:
    """Paths of every value in `value` that the JSON decoder reads (object keys and list elements)."""
    schema = _resolve(schema)
    if isinstance(schema, dict) and isinstance(value, dict):
        for k, v in value.items():
            if k in schema:
                yield (*path, k)
                yield from read_fields(v, schema[k], (*path, k))
    elif isinstance(schema, list) and isinstance(value, list):
        for i, v in enumerate(value):
            yield (*path, i)
            yield from read_fields(v, schema[0], (*path, i))


def get(doc: Any, path: Path) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def put(doc: Any, path: Path, value: Any) -> None:
    get(doc, path[:-1])[path[-1]] = value


def rejected_rows(doc: dict[str, Any], path: Path) -> int:
    """Rows the JSON decoder must reject for bad data at `path` of `doc` (as it was), by the level that checks it: the
    span or data point, the metric, the scope, the resource, or the whole record (the data contract's smallest level)."""
    top = str(path[0])
    mid, leaf = {"resourceSpans": ("scopeSpans", "spans"), "resourceMetrics": ("scopeMetrics", "metrics")}.get(
        top, ("", ""))
    if not mid or len(path) < 2:
        return rows_of(doc)
    res = doc[top][path[1]]
    if len(path) < 4 or path[2] != mid:
        return rows_of({top: [res]})
    scope = res[mid][path[3]]
    if len(path) < 6 or path[4] != leaf:
        return rows_of({top: [{mid: [scope]}]})
    if leaf == "spans" or (len(path) >= 9 and path[7] == "dataPoints"):
        return 1
    return rows_of({top: [{mid: [{leaf: [scope[leaf][path[5]]]}]}]})


def wrong_type(rng: random.Random, v: Any) -> Any:
    """A value the field cannot hold: never null, never a number for a number field (JSON allows numbers as text)."""
    if isinstance(v, bool):
        return rng.choice(["true", 1, {"x": 1}])
    if isinstance(v, int | float) or v in ("NaN", "Infinity", "-Infinity") or (
            isinstance(v, str) and v.lstrip("-").isdigit()):
        return rng.choice([{"x": 1}, [1], True, "12ab"])
    if isinstance(v, str):
        return rng.choice([5, True, ["x"], {"x": 1}])
    if isinstance(v, list):
        return rng.choice(["x", 7, {"x": 1}])
    return rng.choice(["x", 7, ["x"]])


def bad_id(rng: random.Random, nbytes: int) -> str:
    """Hex of the wrong length (never the base64 length tierwise also takes), or the right length with a non-hex digit."""
    good = "".join(rng.choice("0123456789abcdef") for _ in range(2 * nbytes))
    if rng.random() < 0.5:
        at = rng.randrange(len(good))
        return good[:at] + rng.choice("gxZ- ") + good[at + 1:]
    size = rng.choice([n for n in (1, 2 * nbytes - 2, 2 * nbytes - 1, 2 * nbytes + 1, 2 * nbytes + 2, 4 * nbytes)
                       if n != 4 * ((nbytes + 2) // 3)])
    return (good * 3)[:size]


def with_attribute(line: bytes, raw_value: bytes, key: str = "damaged") -> bytes:
    """The JSON line with one more attribute on its first span or point, whose value is the JSON text `raw_value`."""
    doc = orjson.loads(line)
    leaf = _first_mutable(doc)
    leaf.setdefault("attributes", []).append({"key": key, "value": SENTINEL})
    return orjson.dumps(doc).replace(orjson.dumps(SENTINEL), raw_value, 1)


def with_field(line: bytes, name: str, raw_value: bytes) -> bytes:
    """The JSON line with field `name` of its first span or point set to the JSON text `raw_value`."""
    doc = orjson.loads(line)
    _first_mutable(doc)[name] = SENTINEL
    return orjson.dumps(doc).replace(orjson.dumps(SENTINEL), raw_value, 1)


def _first_mutable(doc: dict[str, Any]) -> dict[str, Any]:
    """The first span, or the first data point, of an OTLP/JSON object (changed in place by the callers)."""
    for rs in doc.get("resourceSpans") or doc.get("resourceMetrics") or []:
        for ss in rs.get("scopeSpans") or rs.get("scopeMetrics") or []:
            for span in ss.get("spans") or []:
                found: dict[str, Any] = span
                return found
            for m in ss.get("metrics") or []:
                body = next((m[k] for k in _METRIC if isinstance(m.get(k), dict) and m[k].get("dataPoints")), None)
                if body:
                    point: dict[str, Any] = body["dataPoints"][0]
                    return point
    raise ValueError("no span or data point")


def deep_json(kind: str, levels: int) -> bytes:
    """An attribute value nested `levels` deep in arrays or maps (`kind`: arrayValue or kvlistValue), as JSON text."""
    inner = b'{"stringValue":"x"}'
    if kind == "arrayValue":
        return b'{"arrayValue":{"values":[' * levels + inner + b"]}}" * levels
    return b'{"kvlistValue":{"values":[{"key":"k","value":' * levels + inner + b"}]}}" * levels


# ---- one JSON line damaged

def in_string(rng: random.Random, line: bytes, text: bytes) -> bytes:
    """`text` inserted at the start of a random string value of the line."""
    spots = [i + 3 for i in range(len(line)) if line.startswith(b'":"', i)]
    at = rng.choice(spots)
    return line[:at] + text + line[at:]


def wrong_type_line(rng: random.Random, line: bytes) -> tuple[bytes, str, int | None]:
    doc = orjson.loads(line)
    path = rng.choice(list(read_fields(doc)))
    rejected = rejected_rows(doc, path)
    value = wrong_type(rng, get(doc, path))
    put(doc, path, value)
    return orjson.dumps(doc), f"{'.'.join(map(str, path))} = {value!r}", rejected


def bad_id_line(rng: random.Random, line: bytes) -> tuple[bytes, str, int | None]:
    doc = orjson.loads(line)
    path = rng.choice([p for p in read_fields(doc) if p[-1] in ("traceId", "spanId", "parentSpanId")])
    value = bad_id(rng, 16 if path[-1] == "traceId" else 8)
    rejected = rejected_rows(doc, path)
    put(doc, path, value)
    return orjson.dumps(doc), f"{'.'.join(map(str, path))} = {value!r}", rejected


def huge_line(rng: random.Random, line: bytes) -> tuple[bytes, str, int | None]:
    size = LIMIT + rng.randint(1, 4096)
    span = b'"spans"' in line
    kind = rng.choice(["value", "key", "integer", "1e400"] + (["name"] if span else []))
    big = b'"' + b"x" * size + b'"'
    if kind == "value":
        return with_attribute(line, b'{"stringValue":' + big + b"}"), f"attribute value of {size} bytes", 1
    if kind == "key":
        return with_attribute(line, b'{"stringValue":"v"}', "k" * size), f"attribute key of {size} bytes", 1
    if kind == "name":
        return with_field(line, "name", big), f"span name of {size} bytes", 1
    if kind == "integer":
        return with_field(line, "startTimeUnixNano" if span else "timeUnixNano", b'"99999999999999999999999"'), kind, 1
    return with_attribute(line, b'{"doubleValue":1e400}'), kind, None  # not a JSON number orjson can read


def deep_line(rng: random.Random, line: bytes) -> tuple[bytes, str, int | None]:
    """An attribute nested just past OTLP's 16 levels, further, just inside orjson's 1024 JSON levels (where writing
    it back as JSON fails, 254 levels, and so does repr(), about 1000), or past them; or an unknown field past them.
    One span or point is rejected while the line is still JSON orjson reads."""
    kind = rng.choice(["arrayValue", "kvlistValue"])
    per = 3 if kind == "arrayValue" else 4  # JSON levels per AnyValue level
    levels = rng.choice([rng.randint(17, 20), rng.randint(21, 200), 1000 // per - rng.randint(0, 6),
                         rng.randint(1025, 3000)])
    if rng.random() < 0.8:
        return with_attribute(line, deep_json(kind, levels)), f"attribute {kind} nested {levels} levels", 1
    levels = rng.randint(1025, 3000)
    return (with_field(line, "unknownField", b'{"a":' * levels + b"1" + b"}" * levels), f"unknown field {levels} deep",
            None)


JUNK = (b"hello world", b"{", b"]", b"\x00\x01\x02\x03", b'{"resourceSpans": [}', b"42", b"[]", b"{}", b"null",
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"cut')
BAD_UTF8 = (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80", b"\xfe")
LineDamage = Callable[[random.Random, bytes], tuple[bytes, str, int | None]]  # the line, detail, rows it rejects
LINE_DAMAGE: dict[str, tuple[tuple[str, ...], bool, LineDamage]] = {  # signals it applies to, detectable, damage
    "wrong-type": (("traces", "metrics", "logs"), True, wrong_type_line),
    "bad-id": (("traces",), True, bad_id_line),
    "huge-value": (("traces", "metrics"), True, huge_line),
    "deep-nesting": (("traces", "metrics"), True, deep_line),
    "invalid-utf8": (("traces", "metrics", "logs"), True, lambda rng, line: (
        in_string(rng, line, b := rng.choice(BAD_UTF8)), f"bytes {b!r} in a string", None)),
    "lone-surrogate": (("traces", "metrics", "logs"), True, lambda rng, line: (
        in_string(rng, line, b := rng.choice([b"\\ud800", b"\\udfff", b"\\udbffx"])), f"escape {b.decode()} in a string",
        None)),
    "junk-line": (("traces", "metrics", "logs"), True, lambda rng, line: (
        j := rng.choice(JUNK), f"line {j[:20]!r}", None)),
    "bom-inside": (("traces", "metrics", "logs"), False, lambda rng, line: (
        BOM + line, "UTF-8 BOM before the line", None)),
}
