"""Numbers and ids as byte matrices (one row per value), formatted in bulk for the columnar encoders."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]


def _digits(v: npt.NDArray[np.uint32], out: U8) -> None:
    """The last len(out) decimal digits of v, most significant first, into out (digits × rows)."""
    v = v.copy()
    ten = np.uint32(10)
    for i in range(len(out) - 1, -1, -1):
        q = v // ten
        out[i] = v - q * ten
        v = q


def _decimal(v: npt.NDArray[np.uint64], width: int) -> U8:
    """The last `width` decimal digits of every value, zero-padded, as ASCII (width × rows)."""
    digits = np.empty((width, len(v)), dtype=np.uint8)
    if width > 9:  # split into 32-bit halves: 32-bit division is much cheaper than 64-bit
        hi = v // np.uint64(10**9)
        _digits((v - hi * np.uint64(10**9)).astype(np.uint32), digits[width - 9:])
        _digits(hi.astype(np.uint32), digits[:width - 9])
    else:
        _digits(v.astype(np.uint32), digits)
    digits += ord("0")
    return digits


_P10 = np.array([10**k for k in range(1, 20)], dtype=np.uint64)
_P128 = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)


def ndigits(v: npt.NDArray[np.uint64]) -> I64:
    """How many decimal digits each non-negative value has (1 for zero)."""
    return np.searchsorted(_P10, v, side="right").astype(np.int64) + 1


def decimal(values: I64) -> tuple[U8, I64]:
    """Non-negative integers in decimal without leading zeros: right-aligned rows and each row's length."""
    v = np.asarray(values).astype(np.uint64)
    width = len(str(int(v.max()))) if len(v) else 1
    return np.ascontiguousarray(_decimal(v, width).T), ndigits(v)


def digits19(values: I64) -> U8:
    """19-digit decimals (every Unix time in ns from 2001 to 2286) as an (n × 19) ASCII matrix."""
    v = np.asarray(values).astype(np.uint64)
    if len(v) and (int(v.min()) < 10**18 or int(v.max()) >= 10**19):
        raise ValueError("not a 19-digit number")
    return np.ascontiguousarray(_decimal(v, 19).T)


def milli(values: npt.NDArray[np.float64]) -> tuple[U8, I64]:
    """Non-negative numbers rounded to 3 decimals as JSON numbers ("12.345"): right-aligned rows and lengths."""
    k = np.round(np.asarray(values) * 1000).astype(np.int64).astype(np.uint64)
    whole = k // np.uint64(1000)
    width = len(str(int(whole.max()))) if len(k) else 1
    mat = np.empty((len(k), width + 4), dtype=np.uint8)
    mat[:, :width] = _decimal(whole, width).T
    mat[:, width] = ord(".")
    mat[:, width + 1:] = _decimal(k - whole * np.uint64(1000), 3).T
    return mat, ndigits(whole) + 4


def hexmat(ids: U8) -> U8:
    """Raw id bytes (n × k) as an (n × 2k) matrix of lowercase hex characters."""
    n = len(ids)
    if not n:
        return np.zeros((0, 2 * ids.shape[1]), dtype=np.uint8)
    return np.frombuffer(np.ascontiguousarray(ids).tobytes().hex().encode(), dtype=np.uint8).reshape(n, -1)


def le8(values: I64 | npt.NDArray[np.float64]) -> U8:
    """Little-endian 8-byte values (protobuf fixed64 or double) as an (n × 8) matrix."""
    a = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<"), copy=False)
    return a.view(np.uint8).reshape(len(a), 8)


def varint_len(values: I64) -> I64:
    """Bytes in the protobuf varint of each non-negative value."""
    return np.searchsorted(_P128, np.asarray(values).astype(np.uint64), side="right").astype(np.int64) + 1


def varint(values: I64) -> tuple[U8, I64]:
    """Protobuf varints of non-negative integers: left-aligned rows (as wide as the longest) and lengths."""
    v = np.asarray(values).astype(np.uint64)
    lens = varint_len(values)
    width = int(lens.max()) if len(v) else 1
    groups = ((v[:, None] >> (7 * np.arange(width, dtype=np.uint64))[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    groups[np.arange(width)[None, :] < (lens - 1)[:, None]] |= 0x80
    return groups, lens


def tagged_varint(tag: int, values: I64) -> tuple[U8, I64]:
    """A field tag then the varint of each value (a protobuf length prefix): right-aligned rows and lengths."""
    v = np.asarray(values).astype(np.uint64)
    lens = varint_len(values)
    width = (int(lens.max()) if len(v) else 1) + 1
    k = np.arange(width)[None, :] - (width - lens)[:, None]  # varint group at each column; -1 is the tag
    groups = ((v[:, None] >> (7 * np.clip(k, 0, 9)).astype(np.uint64)) & np.uint64(0x7F)).astype(np.uint8)
    groups |= np.where(k < (lens - 1)[:, None], 0x80, 0).astype(np.uint8)
    groups[k == -1] = tag
    return groups, lens + 1
