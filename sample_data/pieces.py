"""Rows of bytes built from constants and per-row columns, laid out once and gathered in output order by one take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Fixed:
    """Equal-width bytes: row i is mat[i]."""

    mat: U8


@dataclass(frozen=True, slots=True)
class Right:
    """Right-aligned bytes: row i is the last lens[i] bytes of mat[i] (decimal numbers, length prefixes)."""

    mat: U8
    lens: I64


@dataclass(frozen=True, slots=True)
class Left:
    """Left-aligned bytes: row i is the first lens[i] bytes of mat[i] (varints)."""

    mat: U8
    lens: I64


@dataclass(frozen=True, slots=True)
class Pick:
    """Row i is options[idx[i]]."""

    options: tuple[bytes, ...]
    idx: I64


Part = bytes | Fixed | Right | Left | Pick
Col = tuple[I64 | int, I64 | int]  # (element of each row, its length): a constant or one value per row


def pick(options: Sequence[bytes], idx: I64) -> bytes | Pick:
    """options[idx[i]] per row; a constant when every row picks the same option (so neighbours can merge)."""
    if not len(idx) or not (idx != idx[0]).any():
        return options[int(idx[0])] if len(idx) else b""
    return Pick(tuple(options), idx)


def length(parts: Sequence[Part]) -> I64 | int:
    """Bytes per row of `parts`."""
    total: I64 | int = 0
    for p in parts:
        if isinstance(p, bytes):
            total = total + len(p)
        elif isinstance(p, Fixed):
            total = total + p.mat.shape[1]
        elif isinstance(p, Pick):
            total = total + np.array([len(o) for o in p.options], dtype=np.int64)[p.idx]
        else:
            total = total + p.lens
    return total


class _Run:
    """Consecutive parts stored as one element per row: constants and equal-width blocks, optionally opened by a
    right-aligned block and closed by a left-aligned one (their padding becomes elements that are never taken)."""

    def __init__(self, first: bytes | Fixed | Right | Left) -> None:
        self.segs: list[bytes | U8] = []
        self.head: I64 | None = None
        self.tail: I64 | None = None
        if isinstance(first, Right):
            self.segs.append(first.mat)
            self.head = first.mat.shape[1] - first.lens
        else:
            self.add(first)

    def add(self, p: bytes | Fixed | Left) -> None:
        if isinstance(p, bytes):
            if self.segs and isinstance(self.segs[-1], bytes):
                self.segs[-1] += p
            else:
                self.segs.append(p)
        elif isinstance(p, Fixed):
            self.segs.append(p.mat)
        else:
            self.segs.append(p.mat)
            self.tail = p.mat.shape[1] - p.lens


class Table:
    """The elements of one chunk in one reused buffer: constants once, per-row blocks as rows of a matrix."""

    def __init__(self) -> None:
        self._buf = np.empty(1 << 22, dtype=np.uint8)
        self.reset()

    def reset(self) -> None:
        self._at = 0
        self._lens: list[I64] = []
        self._count = 0
        self._consts: dict[bytes, int] = {}

    def _region(self, nbytes: int) -> U8:
        if self._at + nbytes > len(self._buf):
            grown = np.empty(max(2 * len(self._buf), self._at + nbytes), dtype=np.uint8)
            grown[:self._at] = self._buf[:self._at]
            self._buf = grown
        out = self._buf[self._at:self._at + nbytes]
        self._at += nbytes
        return out

    def const(self, b: bytes) -> int:
        i = self._consts.get(b)
        if i is None:
            self._region(len(b))[:] = np.frombuffer(b, dtype=np.uint8)
            self._lens.append(np.array([len(b)], dtype=np.int64))
            i = self._consts[b] = self._count
            self._count += 1
        return i

    def _seal_run(self, r: _Run, n: int) -> Col:
        template = b"".join(s if isinstance(s, bytes) else bytes(s.shape[1]) for s in r.segs)
        width = len(template)
        mat = self._region(n * width).reshape(n, width)
        mat[:] = np.frombuffer(template, dtype=np.uint8)  # every constant at once, then the columns over it
        at = 0
        for s in r.segs:
            if isinstance(s, bytes):
                at += len(s)
            else:
                mat[:, at:at + s.shape[1]] = s
                at += s.shape[1]
        pads = [x for x in (r.head, r.tail) if x is not None]
        value = width - sum(pads, np.zeros(n, dtype=np.int64)) if pads else np.full(n, width, dtype=np.int64)
        per_row = [x for x in (r.head, value, r.tail) if x is not None]
        self._lens.append(np.stack(per_row, axis=1).reshape(-1) if len(per_row) > 1 else value)
        first = self._count + (1 if r.head is not None else 0)
        self._count += n * len(per_row)
        return first + len(per_row) * np.arange(n, dtype=np.int64), value

    def seal(self, parts: Sequence[Part], n: int) -> list[Col]:
        """Store `parts` (n rows each) as elements; the columns of element indices that rebuild every row in order."""
        out: list[bytes | _Run | Pick] = []
        for p in parts:
            last = out[-1] if out else None
            if isinstance(p, bytes):
                if not p:
                    continue
                if isinstance(last, _Run) and last.tail is None:
                    last.add(p)
                elif isinstance(last, Pick):
                    out[-1] = Pick(tuple(o + p for o in last.options), last.idx)
                elif isinstance(last, bytes):
                    out[-1] = last + p
                else:
                    out.append(p)
            elif isinstance(p, Pick):
                if isinstance(last, bytes):
                    out[-1] = Pick(tuple(last + o for o in p.options), p.idx)
                else:
                    out.append(p)
            elif isinstance(p, Right):
                out.append(_Run(p))
            elif isinstance(last, _Run) and last.tail is None:
                last.add(p)
            elif isinstance(last, bytes):
                run = out[-1] = _Run(last)
                run.add(p)
            else:
                out.append(_Run(p))
        cols: list[Col] = []
        for q in out:
            if isinstance(q, bytes):
                cols.append((self.const(q), len(q)))
            elif isinstance(q, Pick):
                ids = np.array([self.const(o) for o in q.options], dtype=np.int64)
                lens = np.array([len(o) for o in q.options], dtype=np.int64)
                cols.append((ids[q.idx], lens[q.idx]))
            else:
                cols.append(self._seal_run(q, n))
        return cols

    @property
    def nbytes(self) -> int:
        return self._at

    def array(self, large: bool) -> pa.Array:
        """Every element so far as one binary array (large_binary when a gather from it may pass 2 GiB)."""
        offsets = np.zeros(self._count + 1, dtype=np.int64)
        if self._lens:
            np.cumsum(np.concatenate(self._lens), out=offsets[1:])
        typ = pa.large_binary() if large else pa.binary()
        offs = offsets if large else offsets.astype(np.int32)
        return pa.Array.from_buffers(typ, self._count, [None, pa.py_buffer(offs), pa.py_buffer(self._buf[:self._at])])


def index_matrix(cols: Sequence[Col], n: int) -> tuple[I64, I64]:
    """The element indices of n rows (n × columns) and each row's length in bytes."""
    mat = np.empty((n, len(cols)), dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    for j, (idx, ln) in enumerate(cols):
        mat[:, j] = idx
        total += ln
    return mat, total


@dataclass(frozen=True)
class Tokens:
    """Elements that go before each output row (one per slot switched on, in slot order) and after the last row."""

    idx: I64  # rows × slots
    on: B
    lens: I64
    trailer: tuple[int, ...] = ()


_LARGE = 2**31 - 2**20  # bytes from which a gather needs 64-bit offsets


def gather(table: Table, rows: Sequence[tuple[I64, I64]], tokens: Tokens, nbytes: int) -> memoryview:
    """The output: every row in output order, each after its tokens, then the trailer, gathered by one take.

    rows holds (element indices: rows × columns, output position of each row) per group of equal-shape rows;
    nbytes is the output's size (it decides the offset width)."""
    n = len(tokens.idx)
    k_row = np.zeros(n, dtype=np.int64)
    for m, p in rows:
        k_row[p] = m.shape[1]
    n_tok = tokens.on.sum(axis=1)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(k_row + n_tok, out=start[1:])
    flat = np.empty(int(start[-1]) + len(tokens.trailer), dtype=np.int64)
    flat[(start[:-1, None] + np.cumsum(tokens.on, axis=1) - 1)[tokens.on]] = tokens.idx[tokens.on]
    for m, p in rows:
        at = start[p] + n_tok[p]
        for j in range(m.shape[1]):
            flat[at + j] = m[:, j]
    flat[int(start[-1]):] = tokens.trailer
    large = nbytes + table.nbytes >= _LARGE
    out = table.array(large).take(pa.Array.from_buffers(pa.int64(), len(flat), [None, pa.py_buffer(flat)]))
    if not len(out):
        return memoryview(b"")
    off = np.frombuffer(out.buffers()[1], dtype=np.int64 if large else np.int32)
    return memoryview(out.buffers()[2])[int(off[out.offset]):int(off[out.offset + len(out)])]
