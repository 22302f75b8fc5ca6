"""OTLP byte fragments the encoders assemble spans and metrics from: attributes, resources, scopes, statuses."""

from __future__ import annotations

import struct
from typing import Any

import orjson

from sample_data.spans import SCOPES, Attr, Resource

_json_frag: dict[Attr, str] = {}
_pb_frag: dict[Attr, bytes] = {}
# A span's status by code (UNSET, OK, ERROR): as a JSON object here, as protobuf field 15 in STATUS_PB.
STATUS_JSON = ('{}', '{"code":1}', '{"code":2,"message":"request failed"}')


def jattr(kv: Attr) -> str:
    """One attribute as an OTLP/JSON KeyValue object (cached: the same attributes recur on every span)."""
    f = _json_frag.get(kv)
    if f is not None:
        return f
    if len(_json_frag) > 200_000:
        _json_frag.clear()
    k, v = kv
    t = type(v)
    if t is int:
        f = f'{{"key":"{k}","value":{{"intValue":"{v}"}}}}'
    elif t is str:
        f = f'{{"key":"{k}","value":{{"stringValue":{orjson.dumps(v).decode()}}}}}'
    elif t is bool:
        f = f'{{"key":"{k}","value":{{"boolValue":{"true" if v else "false"}}}}}'
    else:
        f = f'{{"key":"{k}","value":{{"doubleValue":{v!r}}}}}'
    _json_frag[kv] = f
    return f


def json_resource(r: Resource) -> str:
    return '{"attributes":[' + ",".join(jattr(a) for a in r.attrs) + "]}"


def json_scope(i: int) -> str:
    name, version = SCOPES[i]
    return f'{{"name":"{name}","version":"{version}"}}'


def varint(n: int) -> bytes:
    """A non-negative integer as a protobuf varint."""
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def ld(tag: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return bytes((tag,)) + varint(len(payload)) + payload


def pattr(kv: Attr) -> bytes:
    """One attribute as a protobuf KeyValue under field 9 (a span's attributes; cached like jattr)."""
    f = _pb_frag.get(kv)
    if f is not None:
        return f
    if len(_pb_frag) > 200_000:
        _pb_frag.clear()
    k, v = kv
    t = type(v)
    if t is int:
        f = ld(0x4A, ld(0x0A, k.encode()) + ld(0x12, b"\x18" + varint(v & 0xFFFFFFFFFFFFFFFF)))  # type: ignore[operator]
    elif t is str:
        f = ld(0x4A, ld(0x0A, k.encode()) + ld(0x12, ld(0x0A, str(v).encode())))
    elif t is bool:
        f = ld(0x4A, ld(0x0A, k.encode()) + ld(0x12, b"\x10\x01" if v else b"\x10\x00"))
    else:
        f = ld(0x4A, ld(0x0A, k.encode()) + ld(0x12, b"\x21" + struct.pack("<d", v)))
    _pb_frag[kv] = f
    return f


def pb_resource(r: Resource) -> bytes:
    """A resource's attributes as repeated KeyValue under field 1 (a span attribute's bytes with another tag)."""
    return b"".join(b"\x0a" + pattr(a)[1:] for a in r.attrs)


def pb_scope(i: int) -> bytes:
    name, version = SCOPES[i]
    return ld(0x0A, name.encode()) + ld(0x12, version.encode())


STATUS_PB = (b"", ld(0x7A, b"\x18\x01"), ld(0x7A, ld(0x12, b"request failed") + b"\x18\x02"))


def pb_value(v: dict[str, Any]) -> bytes:
    """An OTLP/JSON AnyValue (string, bool or int) as protobuf."""
    if "stringValue" in v:
        return ld(0x0A, v["stringValue"].encode())
    if "boolValue" in v:
        return b"\x10\x01" if v["boolValue"] else b"\x10\x00"
    return b"\x18" + varint(int(v["intValue"]) & 0xFFFFFFFFFFFFFFFF)
