"""Encoding column groups of spans as OTLP/JSON lines or framed OTLP protobuf, grouped by resource and scope."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import orjson

from sample_data import colbytes as cb
from sample_data.fragments import (
    STATUS_JSON,
    STATUS_PB,
    jattr,
    json_resource,
    json_scope,
    ld,
    pattr,
    pb_resource,
    pb_scope,
    varint,
)
from sample_data.pieces import Fixed, Left, Part, Right, Table, Tokens, gather, index_matrix, length, pick
from sample_data.spans import Resource
from sample_data.vtrace import B as Bool
from sample_data.vtrace import Batch, Choice, Int, SpanGroup, Value

Ids5 = tuple[cb.U8, cb.U8, cb.U8, cb.U8, cb.U8]
_JSON_STATUS = tuple(s.encode() for s in STATUS_JSON)
# What comes between two spans of a line, by how many blocks (scope, resource, line) the first one closes.
_JSON_BETWEEN = (b",", b"]},", b"]}]},", b']}]}]}\n{"resourceSpans":[')
_JSON_OPEN, _JSON_CLOSE = b'{"resourceSpans":[', b"]}]}]}\n"


def _comma(parts: list[list[Part]]) -> list[Part]:
    out: list[Part] = []
    for i, p in enumerate(parts):
        if i:
            out.append(b",")
        out += p
    return out


@lru_cache(maxsize=4096)
def _joptions(k: str, options: tuple[str | bool, ...]) -> tuple[bytes, ...]:
    return tuple(jattr((k, o)).encode() for o in options)


@lru_cache(maxsize=4096)
def _poptions(k: str, options: tuple[str | bool, ...], tag: int) -> tuple[bytes, ...]:
    return tuple(bytes((tag,)) + pattr((k, o))[1:] for o in options)


@lru_cache(maxsize=1024)
def _pint_prefix(k: str, tag: int) -> tuple[tuple[bytes, ...], cb.U8 | None]:
    """The bytes before an int attribute's varint, by varint length 1..10 (and as a matrix when equally long)."""
    kb = ld(0x0A, k.encode())
    pre = tuple(bytes((tag,)) + varint(len(kb) + 3 + m) + kb + bytes((0x12, 1 + m, 0x18)) for m in range(1, 11))
    if len({len(x) for x in pre}) > 1:
        return pre, None
    return pre, np.frombuffer(b"".join(pre), dtype=np.uint8).reshape(10, -1)


def _jvalue(k: str, v: Value) -> list[Part]:
    if isinstance(v, Choice):
        return [pick(_joptions(k, v.options), v.idx)]
    if isinstance(v, np.ndarray):
        if v.dtype == np.bool_:
            return [pick(_joptions(k, (False, True)), v.astype(np.int64))]
        if v.dtype.kind == "f":
            return [f'{{"key":"{k}","value":{{"doubleValue":'.encode(), Right(*cb.milli(v)), b"}}"]
        return [f'{{"key":"{k}","value":{{"intValue":"'.encode(), Right(*cb.decimal(v)), b'"}}']
    return [jattr((k, v)).encode()]


def json_group(g: SpanGroup, ids: Ids5, skew: Int, state: bytes, tail: bytes) -> list[Part]:
    """One OTLP/JSON span object per row of the group; ids = hex trace, span, parent ids and start, end digits."""
    tid, sid, parent, start, end = ids
    p: list[Part] = [b'{"traceId":"', Fixed(tid), b'","traceState":"' + state + b'","spanId":"', Fixed(sid)]
    if g.parent is not None:
        p += [b'","parentSpanId":"', Fixed(parent)]
    p += [f'","flags":{768 if g.kind == 2 else 256},"name":{orjson.dumps(g.name).decode()},"kind":{g.kind},'
          '"startTimeUnixNano":"'.encode(), Fixed(start), b'","endTimeUnixNano":"', Fixed(end), b'","attributes":[']
    p += _comma([_jvalue(k, v) for k, v in g.attrs])
    p.append((b"," if g.attrs and tail else b"") + tail + b"]")
    if g.events:
        evs = [[b'{"timeUnixNano":"', Fixed(cb.digits19(e.t_ns + skew)), f'","name":"{e.name}","attributes":['.encode(),
                *_comma([_jvalue(k, v) for k, v in e.attrs]), b"]}"] for e in g.events]
        p += [b',"events":[', *_comma(evs), b"]"]
    p += [b',"status":', pick(_JSON_STATUS, g.status), b"}"]
    return p


def _pvalue(k: str, v: Value, tag: int) -> list[Part]:
    if isinstance(v, Choice):
        return [pick(_poptions(k, v.options, tag), v.idx)]
    if isinstance(v, np.ndarray):
        if v.dtype == np.bool_:
            return [pick(_poptions(k, (False, True), tag), v.astype(np.int64))]
        if v.dtype.kind == "f":
            kb = ld(0x0A, k.encode())
            f64 = (np.rint(v.astype(np.float64) * 1000.0) / 1000.0).astype(np.float64)
            return [bytes((tag,)) + varint(len(kb) + 11) + kb + b"\x12\x09\x21", Fixed(cb.le8(f64))]
        groups, n = cb.varint(np.asarray(v, dtype=np.int64))
        pre, pre_mat = _pint_prefix(k, tag)
        if pre_mat is None:
            return [pick(pre, n - 1), Left(groups, n)]
        return [Left(np.hstack([pre_mat[n - 1], groups]), n + pre_mat.shape[1])]
    return [bytes((tag,)) + pattr((k, v))[1:]]


def _prefixed(tag: int, body: list[Part], n: int) -> list[Part]:
    """A length-delimited field around `body`: the tag and length travel with the body's first block."""
    size = np.broadcast_to(np.asarray(length(body), dtype=np.int64), (n,))
    return [Right(*cb.tagged_varint(tag, size)), *body]


def proto_group(g: SpanGroup, ids: Ids5, skew: Int, state: bytes, tail: bytes) -> list[Part]:
    """One length-prefixed protobuf Span message (field 2 of ScopeSpans) per row; ids = raw ids, fixed64 times."""
    tid, sid, parent, start, end = ids
    n = len(g.idx)
    p: list[Part] = [b"\x0a\x10", Fixed(tid), b"\x12\x08", Fixed(sid), ld(0x1A, state)]
    if g.parent is not None:
        p += [b"\x22\x08", Fixed(parent)]
    p += [ld(0x2A, g.name.encode()) + bytes((0x30, g.kind, 0x39)), Fixed(start), b"\x41", Fixed(end)]
    for k, v in g.attrs:
        p += _pvalue(k, v, 0x4A)
    p.append(tail)
    for e in g.events:
        inner: list[Part] = [b"\x09", Fixed(cb.le8(e.t_ns + skew)), ld(0x12, e.name.encode())]
        for k, v in e.attrs:
            inner += _pvalue(k, v, 0x1A)
        p += _prefixed(0x5A, inner, n)
    p += [pick(STATUS_PB, g.status), b"\x85\x01" + struct.pack("<I", 768 if g.kind == 2 and g.parent is not None else 256)]
    return _prefixed(0x12, p, n)


def _firsts(n: int, *cols: Int) -> Bool:
    """Whether each row starts a new run of equal values in `cols`."""
    f = np.ones(n, dtype=np.bool_)
    f[1:] = False
    for c in cols:
        f[1:] |= c[1:] != c[:-1]
    return f


_TABLE = Table()  # one buffer per process, reused by every chunk (encoders never run concurrently)
_RESOURCES: dict[tuple[Resource, str], bytes] = {}  # encoded resource attributes per format


class Encoder:
    """Per-run caches of resource and workload fragments; encodes one chunk of batches at a time."""

    def __init__(self, fmt: str, resources: Sequence[Resource], states: Sequence[str],
                 wattrs: Sequence[tuple[tuple[str, str | int | float | bool], ...]]) -> None:
        self.fmt, self.resources = fmt, resources
        self.states = [s.encode() for s in states]
        if fmt == "json":
            self.tails = [",".join(jattr(a) for a in w).encode() for w in wattrs]
        else:
            self.tails = [b"".join(pattr(a) for a in w) for w in wattrs]
        self._table = _TABLE

    def _resource(self, r: int) -> bytes:
        res = self.resources[r]
        got = _RESOURCES.get((res, self.fmt))
        if got is None:
            got = _RESOURCES[(res, self.fmt)] = json_resource(res).encode() if self.fmt == "json" else pb_resource(res)
        return got

    def chunk(self, batches: Sequence[Batch], spans_per_line: int) -> memoryview:
        """Every span of `batches` as lines of about `spans_per_line` spans of whole traces, in trace-start order."""
        t_h = np.concatenate([b.t_h for b in batches])
        base = np.cumsum([0] + [b.n for b in batches])
        rank = np.empty(len(t_h), dtype=np.int64)
        rank[np.argsort(t_h, kind="stable")] = np.arange(len(t_h))
        groups = [(bi, g) for bi, b in enumerate(batches) for g in b.groups]
        if not groups:
            return memoryview(b"")
        per_trace = np.bincount(np.concatenate([base[bi] + g.idx for bi, g in groups]), minlength=len(t_h))
        in_order = per_trace[np.argsort(rank)]
        line_of_rank = (np.cumsum(in_order) - in_order) // spans_per_line
        skews = self._skew()
        tid = np.concatenate([batches[bi].tid[g.idx] for bi, g in groups])
        sid = np.concatenate([g.sid for _, g in groups])
        par = np.concatenate([g.parent if g.parent is not None else g.sid for _, g in groups])
        start = np.concatenate([g.start_ns + skews[g.res] for _, g in groups])
        end = np.concatenate([g.end_ns + skews[g.res] for _, g in groups])
        if self.fmt == "json":
            cols = (cb.hexmat(tid), cb.hexmat(sid), cb.hexmat(par), cb.digits19(start), cb.digits19(end))
        else:
            cols = (tid, sid, par, cb.le8(start), cb.le8(end))
        enc: Callable[[SpanGroup, Ids5, Int, bytes, bytes], list[Part]] = \
            json_group if self.fmt == "json" else proto_group
        table = self._table
        table.reset()
        mats, lens, keys = [], [], []
        at = 0
        for seq, (bi, g) in enumerate(groups):
            k = len(g.idx)
            part = (cols[0][at:at + k], cols[1][at:at + k], cols[2][at:at + k], cols[3][at:at + k], cols[4][at:at + k])
            m, ln = index_matrix(table.seal(enc(g, part, skews[g.res], self.states[g.w], self.tails[g.w]), k), k)
            mats.append(m)
            lens.append(ln)
            at += k
            r = rank[base[bi] + g.idx]
            keys.append(np.stack([line_of_rank[r], g.res, np.full(k, g.scope), r, np.full(k, seq)]))
        kk = np.concatenate(keys, axis=1)
        order = np.lexsort(kk[::-1])
        pos = np.empty(len(order), dtype=np.int64)
        pos[order] = np.arange(len(order))
        bounds = np.cumsum([0] + [len(m) for m in mats])
        row_len = np.concatenate(lens)[order]
        line, res, scope = kk[0][order], kk[1][order], kk[2][order]
        tok = self._json_tokens(line, res, scope) if self.fmt == "json" else \
            self._proto_tokens(line, res, scope, row_len)
        nbytes = int(row_len.sum() + (tok.lens * tok.on).sum())
        return gather(table, [(m, pos[a:b]) for m, a, b in zip(mats, bounds[:-1], bounds[1:], strict=True)], tok, nbytes)

    def _skew(self) -> Int:
        if len(getattr(self, "_skews", ())) != len(self.resources):
            self._skews = np.array([r.skew_ns for r in self.resources], dtype=np.int64)
        return self._skews

    def _per_row(self, rows: Bool, keys: Int, make: Callable[[int], bytes]) -> tuple[Int, Int]:
        """The constant element (and its length) that `make(key)` gives, on the rows switched on."""
        uniq, inv = np.unique(keys[rows], return_inverse=True)
        made = [make(int(u)) for u in uniq]
        return (np.array([self._table.const(x) for x in made], dtype=np.int64)[inv],
                np.array([len(x) for x in made], dtype=np.int64)[inv])

    def _json_tokens(self, line: Int, res: Int, scope: Int) -> Tokens:
        """Before every span: a separator (closing the blocks the previous span ends), a resource and a scope head."""
        n = len(line)
        fl, fr, fs = _firsts(n, line), _firsts(n, line, res), _firsts(n, line, res, scope)
        table = self._table
        tok = np.zeros((n, 3), dtype=np.int64)
        tlen = np.zeros((n, 3), dtype=np.int64)
        on = np.zeros((n, 3), dtype=np.bool_)
        on[:, 0], on[:, 1], on[:, 2] = True, fr, fs
        between = np.array([table.const(x) for x in (*_JSON_BETWEEN, _JSON_OPEN)], dtype=np.int64)
        level = fs.astype(np.int64) + fr + fl
        level[0] = len(_JSON_BETWEEN)
        tok[:, 0] = between[level]
        tlen[:, 0] = np.array([len(x) for x in (*_JSON_BETWEEN, _JSON_OPEN)])[level]
        tok[fr, 1], tlen[fr, 1] = self._per_row(fr, res, lambda r: b'{"resource":' + self._resource(r) + b',"scopeSpans":[')
        tok[fs, 2], tlen[fs, 2] = self._per_row(fs, scope, lambda s: f'{{"scope":{json_scope(s)},"spans":['.encode())
        return Tokens(tok, on, tlen, (table.const(_JSON_CLOSE),))

    def _proto_tokens(self, line: Int, res: Int, scope: Int, row_len: Int) -> Tokens:
        """Before the first span of a line, resource and scope: the frame length, ResourceSpans and ScopeSpans heads."""
        n = len(line)
        fl, fr, fs = _firsts(n, line), _firsts(n, line, res), _firsts(n, line, res, scope)
        tok = np.zeros((n, 5), dtype=np.int64)
        tlen = np.zeros((n, 5), dtype=np.int64)
        tok[fr, 2], tlen[fr, 2] = self._per_row(fr, res, lambda r: ld(0x0A, self._resource(r)))
        tok[fs, 4], tlen[fs, 4] = self._per_row(fs, scope, lambda s: ld(0x0A, pb_scope(s)))
        s_starts, r_starts, l_starts = np.flatnonzero(fs), np.flatnonzero(fr), np.flatnonzero(fl)
        ss_body = np.add.reduceat(row_len, s_starts) + tlen[s_starts, 4]
        ss_enc = np.zeros(n, dtype=np.int64)
        ss_enc[s_starts] = 1 + cb.varint_len(ss_body) + ss_body
        rs_body = np.add.reduceat(ss_enc, r_starts) + tlen[r_starts, 2]
        rs_enc = np.zeros(n, dtype=np.int64)
        rs_enc[r_starts] = 1 + cb.varint_len(rs_body) + rs_body
        frame = np.add.reduceat(rs_enc, l_starts).astype(">u4").view(np.uint8).reshape(-1, 4)
        heads: list[tuple[int, Bool, Part]] = [(0, fl, Fixed(frame)), (1, fr, Right(*cb.tagged_varint(0x0A, rs_body))),
                                               (3, fs, Right(*cb.tagged_varint(0x12, ss_body)))]
        for slot, rows, part in heads:
            ((idx, ln),) = self._table.seal([part], int(rows.sum()))
            tok[rows, slot], tlen[rows, slot] = idx, ln
        return Tokens(tok, np.stack([fl, fr, fr, fs, fs], axis=1), tlen)
