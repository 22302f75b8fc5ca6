"""Encoding generated spans as OTLP/JSON lines or length-prefixed OTLP protobuf, batched per resource like a Collector."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import orjson

from sample_data.spans import SCOPES, Attr, Attrs, Resource, Span

TraceRec = tuple[str, str, list[Span], Attrs]  # (trace id, trace state, spans, workload attributes)
_json_frag: dict[Attr, str] = {}
_pb_frag: dict[Attr, bytes] = {}
_json_tail: dict[Attrs, str] = {}
_pb_tail: dict[Attrs, bytes] = {}
_STATUS_JSON = ('{}', '{"code":1}', '{"code":2,"message":"request failed"}')


def _jattr(kv: Attr) -> str:
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
    return '{"attributes":[' + ",".join(_jattr(a) for a in r.attrs) + "]}"


def json_scope(i: int) -> str:
    name, version = SCOPES[i]
    return f'{{"name":"{name}","version":"{version}"}}'


def _json_mid(key: tuple[str, int]) -> str:
    name, kind = key
    f = _json_mids[key] = (f'","flags":{768 if kind == 2 else 256},"name":{orjson.dumps(name).decode()},"kind":{kind},'
                           f'"startTimeUnixNano":"')
    return f


_json_mids: dict[tuple[str, int], str] = {}
_PARENT = '","parentSpanId":"'
_STATUS_END = tuple(f'],"status":{st}}}' for st in _STATUS_JSON)


def encode_json(traces: Sequence[TraceRec], resources: Sequence[Resource], res_json: dict[int, str]) -> bytes:
    """One TracesData JSON line holding every span of `traces`, grouped by resource and scope."""
    groups: dict[tuple[int, int], list[str]] = {}
    jget = _json_frag.get
    mget = _json_mids.get
    skews = [r.skew_ns for r in resources]
    for trace_id, state, spans, wattrs in traces:
        head = f'{{"traceId":"{trace_id}","traceState":"{state}","spanId":"'
        tail = _json_tail.get(wattrs)
        if tail is None:
            tail = _json_tail[wattrs] = ",".join(map(_jattr, wattrs))
        for res, scope, name, kind, sid, parent, s, e, status, attrs, events in spans:
            skew = skews[res]
            mid = mget((name, kind)) or _json_mid((name, kind))
            a = (",".join([jget(x) or _jattr(x) for x in attrs]) + ("," if tail else "")) if attrs else ""
            end = _STATUS_END[status]
            if events:
                end = '],"events":[' + ",".join(
                    f'{{"timeUnixNano":"{t + skew}","name":"{n}","attributes":[{",".join(map(_jattr, ea))}]}}'
                    for t, n, ea in events) + "]" + end[1:]
            text = (f'{head}{sid}{_PARENT if parent else ""}{parent}{mid}{s + skew}",'
                    f'"endTimeUnixNano":"{e + skew}","attributes":[{a}{tail}{end}')
            key = (res, scope)
            lst = groups.get(key)
            if lst is None:
                lst = groups[key] = []
            lst.append(text)
    by_res: dict[int, list[str]] = {}
    for (res, scope), texts in sorted(groups.items()):
        by_res.setdefault(res, []).append(f'{{"scope":{json_scope(scope)},"spans":[{",".join(texts)}]}}')
    parts = []
    for res, scopes in by_res.items():
        rj = res_json.get(res)
        if rj is None:
            rj = res_json[res] = json_resource(resources[res])
        parts.append(f'{{"resource":{rj},"scopeSpans":[{",".join(scopes)}]}}')
    return ('{"resourceSpans":[' + ",".join(parts) + "]}\n").encode()


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _ld(tag: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return bytes((tag,)) + _varint(len(payload)) + payload


def _pattr(kv: Attr) -> bytes:
    f = _pb_frag.get(kv)
    if f is not None:
        return f
    if len(_pb_frag) > 200_000:
        _pb_frag.clear()
    k, v = kv
    t = type(v)
    if t is int:
        f = _ld(0x4A, _ld(0x0A, k.encode()) + _ld(0x12, b"\x18" + _varint(v & 0xFFFFFFFFFFFFFFFF)))  # type: ignore[operator]
    elif t is str:
        f = _ld(0x4A, _ld(0x0A, k.encode()) + _ld(0x12, _ld(0x0A, str(v).encode())))
    elif t is bool:
        f = _ld(0x4A, _ld(0x0A, k.encode()) + _ld(0x12, b"\x10\x01" if v else b"\x10\x00"))
    else:
        f = _ld(0x4A, _ld(0x0A, k.encode()) + _ld(0x12, b"\x21" + struct.pack("<d", v)))
    _pb_frag[kv] = f
    return f


def _attrs_pb(attrs: Attrs, tag: int) -> bytes:
    """Attributes as repeated KeyValue under field `tag` (0x4A for spans, 0x1A for events, 0x0A for resources)."""
    return b"".join(bytes((tag,)) + _pattr(a)[1:] for a in attrs) if tag != 0x4A else b"".join(map(_pattr, attrs))


def pb_resource(r: Resource) -> bytes:
    return _attrs_pb(r.attrs, 0x0A)


def pb_scope(i: int) -> bytes:
    name, version = SCOPES[i]
    return _ld(0x0A, name.encode()) + _ld(0x12, version.encode())


_Q = struct.Struct("<Q")
_STATUS_PB = (b"", _ld(0x7A, b"\x18\x01"), _ld(0x7A, _ld(0x12, b"request failed") + b"\x18\x02"))


def encode_proto(traces: Sequence[TraceRec], resources: Sequence[Resource], res_pb: dict[int, bytes]) -> bytes:
    """One framed ExportTraceServiceRequest (4-byte big-endian length, then the message) for `traces`."""
    groups: dict[int, dict[int, list[bytes]]] = {}
    pack = _Q.pack
    for trace_id, state, spans, wattrs in traces:
        head = b"\x0a\x10" + bytes.fromhex(trace_id)
        tail = _pb_tail.get(wattrs)
        if tail is None:
            tail = _pb_tail[wattrs] = b"".join(map(_pattr, wattrs))
        st = _ld(0x1A, state.encode())
        for res, scope, name, kind, sid, parent, s, e, status, attrs, events in spans:
            skew = resources[res].skew_ns
            body = [head, b"\x12\x08", bytes.fromhex(sid), st]
            if parent:
                body += (b"\x22\x08", bytes.fromhex(parent))
            body += (_ld(0x2A, name.encode()), bytes((0x30, kind)), b"\x39", pack(s + skew), b"\x41", pack(e + skew))
            body.append(b"".join(map(_pattr, attrs)))
            body.append(tail)
            for t, n, a in events:
                body.append(_ld(0x5A, b"\x09" + pack(t + skew) + _ld(0x12, n.encode()) + _attrs_pb(a, 0x1A)))
            body.append(_STATUS_PB[status])
            body.append(b"\x85\x01" + struct.pack("<I", 768 if kind == 2 and parent else 256))
            groups.setdefault(res, {}).setdefault(scope, []).append(_ld(0x12, b"".join(body)))
    out = []
    for res in sorted(groups):
        rb = res_pb.get(res)
        if rb is None:
            rb = res_pb[res] = pb_resource(resources[res])
        scopes = b"".join(_ld(0x12, _ld(0x0A, pb_scope(sc)) + b"".join(sp)) for sc, sp in sorted(groups[res].items()))
        out.append(_ld(0x0A, _ld(0x0A, rb) + scopes))
    msg = b"".join(out)
    return len(msg).to_bytes(4, "big") + msg


def _pb_value(v: dict[str, Any]) -> bytes:
    """An OTLP/JSON AnyValue (string, bool or int) as protobuf."""
    if "stringValue" in v:
        return _ld(0x0A, v["stringValue"].encode())
    if "boolValue" in v:
        return b"\x10\x01" if v["boolValue"] else b"\x10\x00"
    return b"\x18" + _varint(int(v["intValue"]) & 0xFFFFFFFFFFFFFFFF)


_KVS: dict[int, tuple[list[dict[str, Any]], bytes]] = {}


def _pb_kvs(attrs: list[dict[str, Any]], tag: int) -> bytes:
    if tag == 0x3A and attrs:  # data points share their attribute lists: encode each list once
        hit = _KVS.get(id(attrs))
        if hit is not None and hit[0] is attrs:
            return hit[1]
        if len(_KVS) > 10_000:
            _KVS.clear()
        out = b"".join(_ld(tag, _ld(0x0A, a["key"].encode()) + _ld(0x12, _pb_value(a["value"]))) for a in attrs)
        _KVS[id(attrs)] = (attrs, out)
        return out
    return b"".join(_ld(tag, _ld(0x0A, a["key"].encode()) + _ld(0x12, _pb_value(a["value"]))) for a in attrs)


def _pb_point(p: dict[str, Any]) -> bytes:
    """A NumberDataPoint: attributes (7), start (2) and time (3) as fixed64, asDouble (4) or asInt (6)."""
    out = _pb_kvs(p.get("attributes", []), 0x3A)
    if "startTimeUnixNano" in p:
        out += b"\x11" + _Q.pack(int(p["startTimeUnixNano"]))
    out += b"\x19" + _Q.pack(int(p["timeUnixNano"]))
    if "asDouble" in p:
        return out + b"\x21" + struct.pack("<d", p["asDouble"])
    return out + b"\x31" + struct.pack("<q", int(p["asInt"]))


def _pb_metric(m: dict[str, Any]) -> bytes:
    body = _ld(0x0A, m["name"].encode()) + _ld(0x1A, m["unit"].encode())
    if "gauge" in m:
        return body + _ld(0x2A, b"".join(_ld(0x0A, _pb_point(p)) for p in m["gauge"]["dataPoints"]))
    s = m["sum"]
    return body + _ld(0x3A, b"".join(_ld(0x0A, _pb_point(p)) for p in s["dataPoints"])
                      + b"\x10" + _varint(s["aggregationTemporality"]) + (b"\x18\x01" if s["isMonotonic"] else b""))


def encode_metrics(doc: dict[str, Any], fmt: str) -> bytes:
    """A MetricsData document (OTLP/JSON shape) as one JSON line, or as one framed ExportMetricsServiceRequest."""
    if fmt == "json":
        return orjson.dumps(doc) + b"\n"
    out = []
    for rm in doc["resourceMetrics"]:
        scopes = b""
        for sm in rm["scopeMetrics"]:
            sc = sm["scope"]
            scopes += _ld(0x12, _ld(0x0A, _ld(0x0A, sc["name"].encode()) + _ld(0x12, sc["version"].encode()))
                          + b"".join(_ld(0x12, _pb_metric(m)) for m in sm["metrics"]))
        out.append(_ld(0x0A, _ld(0x0A, _pb_kvs(rm["resource"]["attributes"], 0x0A)) + scopes))
    msg = b"".join(out)
    return len(msg).to_bytes(4, "big") + msg
