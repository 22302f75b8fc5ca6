"""A host's day of metrics as one framed protobuf ExportMetricsServiceRequest, encoded point-matrix-wise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sample_data.colbytes import le8
from sample_data.fragments import ld, pb_value, varint
from sample_data.metrics import NET_ATTRS, HostDay, _host_resource, cache_attrs, gpu_attrs, metric_names, scope

I64 = npt.NDArray[np.int64]


def _kvs(attrs: list[dict[str, Any]], tag: int) -> bytes:
    """Attributes as repeated KeyValue under field `tag`."""
    return b"".join(ld(tag, ld(0x0A, a["key"].encode()) + ld(0x12, pb_value(a["value"]))) for a in attrs)


def _points(kvs: Sequence[bytes], t_ns: I64, start: I64 | None, tag: int, values: npt.NDArray[Any]) -> bytes:
    """NumberDataPoints, each under field 1: steps × attribute sets (step-major), each with its 8-byte value under
    `tag` (0x21 double, 0x31 int), its time (field 3) and, for counters, its start (field 2)."""
    n, g = len(t_ns), len(kvs)
    vals = le8(values).reshape(n, g, 8)
    if len({len(k) for k in kvs}) > 1:  # attribute sets of different sizes: one set at a time, then interleaved
        per_set = [_points([kv], t_ns, start, tag, np.asarray(values).reshape(n, g)[:, i]) for i, kv in enumerate(kvs)]
        rows = [np.frombuffer(b, dtype=np.uint8).reshape(n, -1) for b in per_set]
        return b"".join(r[k].tobytes() for k in range(n) for r in rows)
    body = len(kvs[0]) + (9 if start is not None else 0) + 18
    heads = [b"\x0a" + varint(body) + kv for kv in kvs]
    at = len(heads[0])
    mat = np.empty((n, g, at + body - len(kvs[0])), dtype=np.uint8)
    for i, h in enumerate(heads):
        mat[:, i, :at] = np.frombuffer(h, dtype=np.uint8)
    if start is not None:
        mat[:, :, at] = 0x11
        mat[:, :, at + 1:at + 9] = le8(start)[:, None, :]
        at += 9
    mat[:, :, at] = 0x19
    mat[:, :, at + 1:at + 9] = le8(t_ns)[:, None, :]
    mat[:, :, at + 9] = tag
    mat[:, :, at + 10:] = vals
    return mat.tobytes()


def _metric(name: str, unit: str, points: bytes, counter: bool) -> bytes:
    body = ld(0x0A, name.encode()) + ld(0x1A, unit.encode())
    if counter:
        return body + ld(0x3A, points + b"\x10" + varint(1) + b"\x18\x01")
    return body + ld(0x2A, points)


def frame(h: HostDay, step_s: int) -> bytes:
    """The host's day: 4-byte big-endian length, then the message."""
    t = np.array(h.t_ns, dtype=np.int64)
    start = t - step_s * 10**9
    gkv = [_kvs(a, 0x3A) for a in gpu_attrs(h)]
    util = _points(gkv, t, None, 0x21, np.array(h.util, dtype=np.float64))
    mem_mib = np.array(h.mem_mib, dtype=np.int64)
    mem = _points(gkv, t, None, 0x21, mem_mib.astype(np.float64)) if h.dcgm else \
        _points(gkv, t, None, 0x31, mem_mib * 2**20)
    pts = [util, mem, _points([b""], t, None, 0x31, np.array(h.depth, dtype=np.int64)),
           _points([_kvs(NET_ATTRS, 0x3A)], t, start, 0x31, np.array(h.net_bytes, dtype=np.int64))]
    if h.hits:
        hits = np.array(h.hits, dtype=np.int64)
        both = np.stack([hits, np.array(h.lookups, dtype=np.int64) - hits], axis=1).reshape(-1)
        pts.append(_points([_kvs(a, 0x3A) for a in cache_attrs(h)], t, start, 0x31, both))
    metrics = b"".join(ld(0x12, _metric(name, unit, p, i >= 3)) for i, ((name, unit), p) in
                       enumerate(zip(metric_names(h), pts, strict=True)))
    sc = scope(h)
    scopes = ld(0x12, ld(0x0A, ld(0x0A, sc["name"].encode()) + ld(0x12, sc["version"].encode())) + metrics)
    msg = ld(0x0A, ld(0x0A, _kvs(_host_resource(h.site, h.host, h.dcgm)["attributes"], 0x0A)) + scopes)
    return len(msg).to_bytes(4, "big") + msg
