"""Encoding column groups of spans as OTLP/JSON lines or framed OTLP protobuf, grouped by resource and scope."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import orjson
import pyarrow as pa

from sample_data import colbytes as cb
from sample_data.spans import SCOPES, Resource
from sample_data.vtrace import B as Bool
from sample_data.vtrace import Batch, Choice, ColAttrs, Int, SpanGroup, Value
from sample_data.writer import (
    _STATUS_JSON,
    _STATUS_PB,
    _jattr,
    _ld,
    _pattr,
    _varint,
    json_resource,
    json_scope,
    pb_resource,
    pb_scope,
)

Pieces = list[cb.Piece]


def _jattrs(attrs: ColAttrs) -> list[Pieces]:
    out: list[Pieces] = []
    for k, v in attrs:
        out.append(_jvalue(k, v))
    return out


def _jvalue(k: str, v: Value) -> Pieces:
    if isinstance(v, Choice):
        return [cb.choice([_jattr((k, o)).encode() for o in v.options], v.idx)]
    if isinstance(v, np.ndarray):
        if v.dtype == np.bool_:
            return [cb.choice([_jattr((k, False)).encode(), _jattr((k, True)).encode()], v.astype(np.int64))]
        if v.dtype.kind == "f":
            return [f'{{"key":"{k}","value":{{"doubleValue":'.encode(), cb.milli(v), b"}}"]
        return [f'{{"key":"{k}","value":{{"intValue":"'.encode(), cb.deccol(v), b'"}}']
    return [_jattr((k, v)).encode()]


def _comma(parts: list[Pieces]) -> Pieces:
    out: Pieces = []
    for i, p in enumerate(parts):
        if i:
            out.append(b",")
        out += p
    return out


def json_group(g: SpanGroup, ids: tuple[cb.U8, cb.U8, cb.U8, cb.U8, cb.U8], skew: Int, state: bytes,
               tail: bytes) -> pa.Array:
    """One OTLP/JSON span object per row of the group; ids = hex trace, span, parent ids and start, end digits."""
    tid, sid, parent, start, end = ids
    head: list[bytes | cb.U8] = [b'{"traceId":"', tid, b'","traceState":"' + state + b'","spanId":"', sid]
    if g.parent is not None:
        head += [b'","parentSpanId":"', parent]
    head += [f'","flags":{768 if g.kind == 2 else 256},"name":{orjson.dumps(g.name).decode()},"kind":{g.kind},'
             '"startTimeUnixNano":"'.encode(), start, b'","endTimeUnixNano":"', end, b'","attributes":[']
    p: Pieces = [cb.fixed(cb.stamp(head, len(g.idx)))]
    p += _comma(_jattrs(g.attrs))
    p.append((b"," if g.attrs and tail else b"") + tail + b"]")
    if g.events:
        evs: list[Pieces] = []
        for e in g.events:
            evs.append([b'{"timeUnixNano":"', cb.deccol(e.t_ns + skew), f'","name":"{e.name}","attributes":['.encode(),
                        *_comma(_jattrs(e.attrs)), b"]}"])
        p += [b',"events":[', *_comma(evs), b"]"]
    p += [b',"status":', cb.choice([s.encode() for s in _STATUS_JSON], g.status), b"}"]
    return cb.join(p)


def _pvalue(k: str, v: Value, tag: int) -> Pieces:
    def retag(f: bytes) -> bytes:
        return bytes((tag,)) + f[1:]
    if isinstance(v, Choice):
        return [cb.choice([retag(_pattr((k, o))) for o in v.options], v.idx)]
    if isinstance(v, np.ndarray):
        kb = _ld(0x0A, k.encode())
        if v.dtype == np.bool_:
            return [cb.choice([retag(_pattr((k, False))), retag(_pattr((k, True)))], v.astype(np.int64))]
        if v.dtype.kind == "f":
            f64 = (np.rint(v.astype(np.float64) * 1000.0) / 1000.0).astype(np.float64)
            return [bytes((tag,)) + _varint(len(kb) + 11) + kb + b"\x12\x09\x21", cb.fixed64(f64)]
        vals = np.asarray(v, dtype=np.int64)
        pre = [bytes((tag,)) + _varint(len(kb) + 3 + n) + kb + bytes((0x12, 1 + n, 0x18)) for n in range(1, 11)]
        return [cb.choice(pre, cb.varint_len(vals) - 1), cb.varint(vals)]
    return [retag(_pattr((k, v)))]


def proto_group(g: SpanGroup, ids: tuple[cb.U8, cb.U8, cb.U8, cb.U8, cb.U8], skew: Int, state: bytes,
                tail: bytes) -> pa.Array:
    """One protobuf Span message (without its own tag and length) per row; ids = raw ids and fixed64 times."""
    tid, sid, parent, start, end = ids
    head: list[bytes | cb.U8] = [b"\x0a\x10", tid, b"\x12\x08", sid, _ld(0x1A, state)]
    if g.parent is not None:
        head += [b"\x22\x08", parent]
    head += [_ld(0x2A, g.name.encode()) + bytes((0x30, g.kind, 0x39)), start, b"\x41", end]
    p: Pieces = [cb.fixed(cb.stamp(head, len(g.idx)))]
    for k, v in g.attrs:
        p += _pvalue(k, v, 0x4A)
    p.append(tail)
    for e in g.events:
        inner: Pieces = [b"\x09", cb.fixed64(e.t_ns + skew), _ld(0x12, e.name.encode())]
        for k, v in e.attrs:
            inner += _pvalue(k, v, 0x1A)
        body = cb.join(inner)
        p += [b"\x5a", cb.varint(cb.lengths(body)), body]
    p += [cb.choice(list(_STATUS_PB), g.status),
          b"\x85\x01" + struct.pack("<I", 768 if g.kind == 2 and g.parent is not None else 256)]
    return cb.join(p)


class Encoder:
    """Per-run caches of resource and workload fragments; encodes one chunk of batches at a time."""

    def __init__(self, fmt: str, resources: Sequence[Resource], states: Sequence[str],
                 wattrs: Sequence[tuple[tuple[str, str | int | float | bool], ...]]) -> None:
        self.fmt, self.resources = fmt, resources
        self.states = [s.encode() for s in states]
        if fmt == "json":
            self.tails = [",".join(_jattr(a) for a in w).encode() for w in wattrs]
        else:
            self.tails = [b"".join(_pattr(a) for a in w) for w in wattrs]
        self._res: dict[int, bytes] = {}

    def _resource(self, r: int) -> bytes:
        got = self._res.get(r)
        if got is None:
            res = self.resources[r]
            got = self._res[r] = json_resource(res).encode() if self.fmt == "json" else pb_resource(res)
        return got

    def chunk(self, batches: Sequence[Batch], spans_per_line: int) -> memoryview:
        """Every span of `batches` as lines of about `spans_per_line` spans of whole traces, in trace-start order."""
        t_h = np.concatenate([b.t_h for b in batches])
        base = np.cumsum([0] + [b.n for b in batches])
        rank = np.empty(len(t_h), dtype=np.int64)
        rank[np.argsort(t_h, kind="stable")] = np.arange(len(t_h))
        per_trace = np.bincount(np.concatenate([base[bi] + g.idx for bi, b in enumerate(batches) for g in b.groups]),
                                minlength=len(t_h))
        in_order = per_trace[np.argsort(rank)]
        line_of_rank = (np.cumsum(in_order) - in_order) // spans_per_line
        groups = [(bi, g) for bi, b in enumerate(batches) for g in b.groups]
        skews = self._skew()
        tid = np.concatenate([batches[bi].tid[g.idx] for bi, g in groups])
        sid = np.concatenate([g.sid for _, g in groups])
        par = np.concatenate([g.parent if g.parent is not None else g.sid for _, g in groups])
        start = np.concatenate([g.start_ns + skews[g.res] for _, g in groups])
        end = np.concatenate([g.end_ns + skews[g.res] for _, g in groups])
        if self.fmt == "json":
            cols = (cb.hexmat(tid), cb.hexmat(sid), cb.hexmat(par), cb.digits19(start), cb.digits19(end))
        else:
            cols = (tid, sid, par, _le8(start), _le8(end))
        enc = json_group if self.fmt == "json" else proto_group
        arrays, keys = [], []
        at = 0
        for seq, (bi, g) in enumerate(groups):
            k = len(g.idx)
            part = (cols[0][at:at + k], cols[1][at:at + k], cols[2][at:at + k], cols[3][at:at + k], cols[4][at:at + k])
            arrays.append(enc(g, part, skews[g.res], self.states[g.w], self.tails[g.w]))
            at += k
            r = rank[base[bi] + g.idx]
            keys.append(np.stack([line_of_rank[r], g.res, np.full(k, g.scope), r, np.full(k, seq)]))
        if not arrays:
            return memoryview(b"")
        kk = np.concatenate(keys, axis=1)
        order = np.lexsort(kk[::-1])
        spans = pa.concat_arrays(arrays).take(pa.array(order))
        line, res, scope = kk[0][order], kk[1][order], kk[2][order]
        return self._wrap_json(spans, line, res, scope) if self.fmt == "json" else \
            self._wrap_proto(spans, line, res, scope)

    def _skew(self) -> Int:
        if len(getattr(self, "_skews", ())) != len(self.resources):
            self._skews = np.array([r.skew_ns for r in self.resources], dtype=np.int64)
        return self._skews

    @staticmethod
    def _edges(line: Int, res: Int, scope: Int) -> tuple[Bool, Bool, Bool, Bool, Bool, Bool]:
        """Whether each row opens or closes its line, resource and scope."""
        n = len(line)

        def firsts(*cols: Int) -> Bool:
            f = np.ones(n, dtype=np.bool_)
            f[1:] = np.zeros(n - 1, dtype=np.bool_)
            for c in cols:
                f[1:] |= c[1:] != c[:-1]
            return f
        fl, fr, fs = firsts(line), firsts(line, res), firsts(line, res, scope)
        ll = np.append(fl[1:], True)
        lr = np.append(fr[1:], True)
        ls = np.append(fs[1:], True)
        return fl, fr, fs, ll, lr, ls

    def _wrap_json(self, spans: pa.Array, line: Int, res: Int, scope: Int) -> memoryview:
        fl, fr, fs, ll, lr, ls = self._edges(line, res, scope)
        heads = [b","]  # every block (line, resource, scope) opens with its own text, built once per block
        for i in np.flatnonzero(fs).tolist():
            h = b'{"resourceSpans":[' if fl[i] else b","
            if fr[i]:
                h += b'{"resource":' + self._resource(int(res[i])) + b',"scopeSpans":['
            heads.append(h + f'{{"scope":{json_scope(int(scope[i]))},"spans":['.encode())
        hpos = np.where(fs, np.cumsum(fs), 0)
        level = ls.astype(np.int64) + lr + ll
        out = cb.join([cb.choice(heads, hpos), spans, cb.choice([b"", b"]}", b"]}]}", b"]}]}]}\n"], level)])
        return cb.payload(out)

    def _wrap_proto(self, spans: pa.Array, line: Int, res: Int, scope: Int) -> memoryview:
        fl, fr, fs, _, _, _ = self._edges(line, res, scope)
        slen = cb.lengths(spans)
        enc = 1 + cb.varint_len(slen) + slen
        sc_hdr = [_ld(0x0A, pb_scope(i)) for i in range(len(SCOPES))]
        s_starts = np.flatnonzero(fs)
        ss_body = np.add.reduceat(enc, s_starts) + np.array([len(sc_hdr[x]) for x in scope[s_starts]], dtype=np.int64)
        ss_enc = np.zeros(len(slen), dtype=np.int64)
        ss_enc[s_starts] = 1 + cb.varint_len(ss_body) + ss_body
        r_starts = np.flatnonzero(fr)
        r_hdr = {int(r): _ld(0x0A, self._resource(int(r))) for r in np.unique(res)}
        rs_body = np.add.reduceat(ss_enc, r_starts) + np.array([len(r_hdr[int(r)]) for r in res[r_starts]],
                                                                dtype=np.int64)
        rs_enc = np.zeros(len(slen), dtype=np.int64)
        rs_enc[r_starts] = 1 + cb.varint_len(rs_body) + rs_body
        l_starts = np.flatnonzero(fl)
        frame = dict(zip(l_starts.tolist(), np.add.reduceat(rs_enc, l_starts).tolist(), strict=True))
        rsb = dict(zip(r_starts.tolist(), rs_body.tolist(), strict=True))
        heads = [b""]  # every block (line, resource, scope) opens with its own headers, built once per block
        for i, body in zip(s_starts.tolist(), ss_body.tolist(), strict=True):
            h = frame[i].to_bytes(4, "big") if i in frame else b""
            if i in rsb:
                h += b"\x0a" + _varint(rsb[i]) + r_hdr[int(res[i])]
            heads.append(h + b"\x12" + _varint(body) + sc_hdr[int(scope[i])])
        out = cb.join([cb.choice(heads, np.where(fs, np.cumsum(fs), 0)), b"\x12", cb.varint(slen), spans])
        return cb.payload(out)


def _le8(values: Int) -> cb.U8:
    return np.ascontiguousarray(values.astype("<i8")).view(np.uint8).reshape(len(values), 8)
