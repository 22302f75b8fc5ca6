"""Byte columns for the columnar encoders: numbers, ids and choices as Arrow binary arrays, built in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Piece: TypeAlias = bytes | pa.Array  # a constant, or one value per row

_P10 = 10 ** np.arange(19, -1, -1, dtype=np.uint64)  # 10^19 .. 10^0


def _ragged(mat: U8, lens: npt.NDArray[np.int64]) -> pa.Array:
    """Row i is the last lens[i] bytes of mat[i] (right-aligned values), as a binary array."""
    width = mat.shape[1]
    mask = np.arange(width)[None, :] >= (width - lens)[:, None]
    offsets = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    values = np.ascontiguousarray(mat[mask])
    return pa.Array.from_buffers(pa.binary(), len(lens), [None, pa.py_buffer(offsets), pa.py_buffer(values)])


def _left(mat: U8, lens: npt.NDArray[np.int64]) -> pa.Array:
    """Row i is the first lens[i] bytes of mat[i], as a binary array."""
    mask = np.arange(mat.shape[1])[None, :] < lens[:, None]
    offsets = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), len(lens), [None, pa.py_buffer(offsets),
                                                          pa.py_buffer(np.ascontiguousarray(mat[mask]))])


def fixed(mat: U8) -> pa.Array:
    """Equal-width rows of a uint8 matrix as a binary array."""
    n, w = mat.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets),
                                                  pa.py_buffer(np.ascontiguousarray(mat))])


def hexcol(ids: U8) -> pa.Array:
    """Raw id bytes (n × k) as lowercase hex (2k characters per row)."""
    n = len(ids)
    text = np.frombuffer(np.ascontiguousarray(ids).tobytes().hex().encode(), dtype=np.uint8)
    return fixed(text.reshape(n, -1) if n else np.zeros((0, 2 * ids.shape[1]), dtype=np.uint8))


def rawcol(ids: U8) -> pa.Array:
    return fixed(ids)


def deccol(values: npt.NDArray[np.int64]) -> pa.Array:
    """Non-negative integers in decimal, without leading zeros."""
    v = np.array(values, dtype=np.uint64)
    n = len(v)
    if not n:
        return pa.array([], pa.binary())
    top = int(v.max())
    width = len(str(top))
    digits = np.empty((width, n), dtype=np.uint8)
    if width > 9:  # split into 32-bit halves: 32-bit division is much cheaper than 64-bit
        hi = v // np.uint64(10**9)
        _digits((v - hi * np.uint64(10**9)).astype(np.uint32), digits[width - 9:])
        _digits(hi.astype(np.uint32), digits[:width - 9])
    else:
        _digits(v.astype(np.uint32), digits)
    digits += ord("0")
    mat = np.ascontiguousarray(digits.T)
    low = int(np.min(values))
    if len(str(low)) == width:
        return fixed(mat)
    lens = np.ones(n, dtype=np.int64)
    orig = np.asarray(values, dtype=np.uint64)
    for k in range(1, width):
        lens += orig >= np.uint64(10**k)
    return _ragged(mat, lens)


def _digits(v: npt.NDArray[np.uint32], out: U8) -> None:
    """The last len(out) decimal digits of v, most significant first, into out (digits × rows)."""
    v = v.copy()
    ten = np.uint32(10)
    for i in range(len(out) - 1, -1, -1):
        q = v // ten
        out[i] = v - q * ten
        v = q


def digits19(values: npt.NDArray[np.int64]) -> U8:
    """19-digit decimals (every Unix time in ns from 2001 to 2286) as an (n × 19) ASCII matrix."""
    v = np.asarray(values, dtype=np.uint64)
    if len(v) and (int(v.min()) < 10**18 or int(v.max()) >= 10**19):
        raise ValueError("not a 19-digit number")
    digits = np.empty((19, len(v)), dtype=np.uint8)
    hi = v // np.uint64(10**9)
    _digits((v - hi * np.uint64(10**9)).astype(np.uint32), digits[10:])
    _digits(hi.astype(np.uint32), digits[:10])
    digits += ord("0")
    return np.ascontiguousarray(digits.T)


def hexmat(ids: U8) -> U8:
    """Raw id bytes (n × k) as an (n × 2k) matrix of lowercase hex characters."""
    n = len(ids)
    if not n:
        return np.zeros((0, 2 * ids.shape[1]), dtype=np.uint8)
    return np.frombuffer(np.ascontiguousarray(ids).tobytes().hex().encode(), dtype=np.uint8).reshape(n, -1)


def stamp(parts: Sequence[bytes | U8], n: int) -> U8:
    """Rows laid out from constants and equal-width column blocks: an (n × width) matrix."""
    width = sum(len(p) if isinstance(p, bytes) else p.shape[1] for p in parts)
    out = np.empty((n, width), dtype=np.uint8)
    at = 0
    for p in parts:
        if isinstance(p, bytes):
            out[:, at:at + len(p)] = np.frombuffer(p, dtype=np.uint8)
            at += len(p)
        else:
            out[:, at:at + p.shape[1]] = p
            at += p.shape[1]
    return out


def milli(values: npt.NDArray[np.float64]) -> pa.Array:
    """Non-negative numbers rounded to 3 decimals, as JSON numbers ("12.345")."""
    k = np.round(np.asarray(values) * 1000).astype(np.int64)
    frac = fixed(((k % 1000)[:, None] // np.array([100, 10, 1])[None, :] % 10).astype(np.uint8) + ord("0"))
    return join([deccol(k // 1000), b".", frac])


def fixed64(values: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> pa.Array:
    """Little-endian 8-byte values (protobuf fixed64 / double)."""
    a = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<"), copy=False)
    return fixed(a.view(np.uint8).reshape(len(a), 8))


def varint_parts(values: npt.NDArray[np.int64]) -> tuple[U8, npt.NDArray[np.int64]]:
    """Protobuf varints of non-negative integers: a left-aligned (n × 10) matrix and each row's length."""
    v = np.asarray(values, dtype=np.uint64)
    groups = ((v[:, None] >> (7 * np.arange(10, dtype=np.uint64))[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    lens = np.ones(len(v), dtype=np.int64)
    for i in range(1, 10):
        lens += v >= (np.uint64(1) << np.uint64(7 * i))
    cont = np.arange(10)[None, :] < (lens - 1)[:, None]
    groups[cont] |= 0x80
    return groups, lens


def varint(values: npt.NDArray[np.int64]) -> pa.Array:
    mat, lens = varint_parts(values)
    return _left(mat, lens)


def varint_len(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    v = np.asarray(values, dtype=np.uint64)
    lens = np.ones(len(v), dtype=np.int64)
    for i in range(1, 10):
        lens += v >= (np.uint64(1) << np.uint64(7 * i))
    return lens


def choice(options: Sequence[bytes], idx: npt.NDArray[np.int64]) -> Piece:
    """Row i is options[idx[i]] (a constant when every row picks the same option)."""
    if len(idx) and not (idx != idx[0]).any():
        return options[int(idx[0])]
    return pa.array(list(options), pa.binary()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(pieces: Sequence[Piece]) -> pa.Array:
    """Row-wise concatenation of byte pieces (adjacent constants are merged first)."""
    merged: list[Piece] = []
    for p in pieces:
        if isinstance(p, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + p
        elif not (isinstance(p, bytes) and not p):
            merged.append(p)
    if not any(isinstance(p, pa.Array) for p in merged):
        raise ValueError("join needs at least one column")
    if len(merged) == 1:
        return merged[0]
    return pc.binary_join_element_wise(*merged, b"")


def lengths(arr: pa.Array) -> npt.NDArray[np.int64]:
    """Byte length of every row."""
    off = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    return np.diff(off).astype(np.int64)


def payload(arr: pa.Array) -> memoryview:
    """All rows' bytes back to back (a view: no copy)."""
    off = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    return memoryview(arr.buffers()[2])[off[0]:off[-1]] if len(arr) else memoryview(b"")
