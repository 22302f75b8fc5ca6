"""Damage to one protobuf request of the bad-input corpus: one span of a real request given a bad id, a bad enum, a huge
or deeply nested value, bad UTF-8 or a field of the wrong wire type, the request rebuilt around it; and junk frames."""

from __future__ import annotations

import random
from typing import Any

from bad_input_damage import BAD_UTF8, LIMIT
from bad_input_sources import REQUESTS, Record, proto_requests
from google.protobuf.message import DecodeError
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ingest.receiver.wire import varint


def field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def proto_kv(key: bytes, any_value: bytes) -> bytes:
    return field(1, key) + field(2, any_value)


def deep_proto(levels: int) -> bytes:
    """An AnyValue nested `levels` deep in array values, as protobuf bytes."""
    value = field(1, b"x")  # string_value
    for _ in range(levels):
        value = field(5, field(1, value))  # array_value { values: value }
    return value


def _rebuilt(msg: Any, target: tuple[int, int, int], span_bytes: bytes) -> bytes:
    """The traces request `msg` serialized with the bytes of its span at `target` (resource, scope, span) replaced."""
    out = b""
    for i, rs in enumerate(msg.resource_spans):
        body = field(1, rs.resource.SerializeToString()) if rs.HasField("resource") else b""
        for j, ss in enumerate(rs.scope_spans):
            spans = field(1, ss.scope.SerializeToString()) if ss.HasField("scope") else b""
            spans += b"".join(field(2, span_bytes if (i, j, k) == target else sp.SerializeToString())
                              for k, sp in enumerate(ss.spans))
            body += field(2, spans + (field(3, ss.schema_url.encode()) if ss.schema_url else b""))
        out += field(1, body + (field(3, rs.schema_url.encode()) if rs.schema_url else b""))
    return out


def span_frame(rng: random.Random, mutation: str) -> tuple[Record, bytes, str, bool, int]:
    """A fixture's traces request with one span damaged: the request, its damaged bytes, the detail, whether the damage
    must be reported, and the rows it must cost (the span; the whole request when it no longer parses as one)."""
    template = rng.choice([r for r in proto_requests() if r.signal == "traces" and r.rows])
    msg = REQUESTS["traces"].FromString(template.data)
    targets = [(i, j, k) for i, rs in enumerate(msg.resource_spans) for j, ss in enumerate(rs.scope_spans)
               for k in range(len(ss.spans))]
    target = rng.choice(targets)
    span = Span()
    span.CopyFrom(msg.resource_spans[target[0]].scope_spans[target[1]].spans[target[2]])
    extra, detail, visible, whole = b"", mutation, True, False
    if mutation == "bad-id":
        name, size = rng.choice([("trace_id", rng.choice([1, 15, 17, 32])), ("span_id", rng.choice([1, 7, 9, 16])),
                                 ("parent_span_id", rng.choice([7, 9]))])
        setattr(span, name, rng.randbytes(size))
        detail = f"{name} of {size} bytes"
    elif mutation == "huge-value":
        size = LIMIT + rng.randint(1, 4096)
        if rng.random() < 0.5:
            span.name = "x" * size
        else:
            extra = field(9, proto_kv(b"big", field(1, b"x" * size)))
        detail = f"{'name' if not extra else 'attribute value'} of {size} bytes"
    elif mutation == "deep-nesting":
        levels = rng.choice([rng.randint(17, 20), rng.randint(21, 40), rng.randint(45, 60), rng.randint(100, 2000)])
        extra, detail = field(9, proto_kv(b"deep", deep_proto(levels))), f"attribute nested {levels} levels"
    elif mutation == "invalid-utf8":
        bad = rng.choice(BAD_UTF8)
        extra = field(5, b"op" + bad) if rng.random() < 0.5 else field(9, proto_kv(b"k", field(1, bad)))
        detail = f"bytes {bad!r} in a string"
    elif mutation == "wrong-wire-type":  # name (field 5) sent as a varint: an unknown field to a strict reader, and
        # wire types are what tell the three signals apart, so the request as a whole is in doubt
        extra, detail, visible, whole = varint(5 << 3) + varint(1), "span name as a varint", False, True
    else:  # bad-enum
        if rng.random() < 0.5:
            span.kind = rng.choice([6, 99])  # type: ignore[assignment]
        else:
            span.status.code = rng.choice([3, 9])  # type: ignore[assignment]
        detail = f"kind {span.kind}, status code {span.status.code}"
    payload = _rebuilt(msg, target, span.SerializeToString() + extra)
    try:
        REQUESTS["traces"].FromString(payload)
    except DecodeError:
        whole = True  # bad UTF-8, or nested past protobuf's 100 levels: nothing of the request parses
    detail = f"span {targets.index(target) + 1} of {len(targets)} ({template.origin}): {detail}"
    return template, payload, detail, visible, template.rows if whole else 1


PROTO_JUNK = (b"\xff\xff\xff\xff", b"\x00\x00", b"\x0a\xff\xff\xff\x0f", b"not protobuf at all", b"\x0a\x05abc")
