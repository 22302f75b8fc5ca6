"""Pure decoding of OTLP scalar values (ids, 64-bit integers, AnyValue) from JSON and protobuf."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
UINT64_MAX = 2**64 - 1
MAX_DEPTH = 16  # arrays and maps (kvlists) an AnyValue may sit inside


class Issue(ValueError):
    """A value that breaks the OTLP/JSON rules; `field` names where (e.g. `spans[3].traceId`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PointIssue(Issue):
    """An Issue that rejects `rows` data points of one metric at once (so rejected counts stay exact)."""

    def __init__(self, field: str, reason: str, rows: int) -> None:
        super().__init__(field, reason)
        self.rows = rows


def parse_id(value: Any, nbytes: int, field: str) -> str | None:
    """A trace or span id as lowercase hex; empty or missing ids are None.

    OTLP/JSON ids are case-insensitive hex. A base64 id of the right decoded length
    (what early collectors sent) is accepted as a lenient fallback.
    """
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise Issue(field, f"expected a hex string, got {type(value).__name__}")
    if len(value) == 2 * nbytes:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise Issue(field, f"not hexadecimal: {value[:40]!r}") from None
        if len(raw) == nbytes:
            return value.lower()
        raise Issue(field, f"not hexadecimal: {value[:40]!r}")
    if len(value) == 4 * ((nbytes + 2) // 3):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == nbytes:
            return raw.hex()
    raise Issue(field, f"expected {2 * nbytes} hex characters, got {len(value)}")


def bytes_id(value: bytes, nbytes: int, field: str) -> str | None:
    """A protobuf id field as lowercase hex; empty is None."""
    if not value:
        return None
    if len(value) != nbytes:
        raise Issue(field, f"expected {nbytes} bytes, got {len(value)}")
    return value.hex()


def parse_int(value: Any, field: str, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """A 64-bit integer from a JSON number or decimal string, never via floating point.

    A string holds ASCII digits only, after a '-' where the field is signed (`lo` < 0): no '+', spaces or '_',
    which Python's int() would take but the protobuf JSON mapping does not write.
    """
    if type(value) is int:
        n = value
    elif type(value) is str:
        digits = value[1:] if lo < 0 and value[:1] == "-" else value
        if not (digits.isdigit() and digits.isascii()):
            sign = "'-' and " if lo < 0 else ""
            raise Issue(field, f"expected an integer ({sign}decimal digits only), got {value[:40]!r}")
        n = int(value)
    else:
        raise Issue(field, f"expected an integer, got {type(value).__name__}")
    if not lo <= n <= hi:
        raise Issue(field, f"integer {n} is out of range")
    return n


def parse_double(value: Any, field: str) -> float:
    """A double from a JSON number or the proto3 strings NaN, Infinity and -Infinity."""
    if type(value) is float or type(value) is int:
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    raise Issue(field, f"expected a number, got {type(value).__name__}")


def _json_kv(values: Any, field: str, depth: int) -> dict[str, Any]:
    if not isinstance(values, list):
        raise Issue(field, "expected a list of key/value objects")
    out: dict[str, Any] = {}
    for i, kv in enumerate(values):
        if not isinstance(kv, dict) or type(kv.get("key")) is not str:
            raise Issue(f"{field}[{i}]", "expected an object with a string key")
        out[kv["key"]] = json_any(kv.get("value"), f"{field}[{i}].value", depth)
    return out


def _wrapper(value: Any, field: str) -> Any:
    """The `values` of an ArrayValue or KeyValueList object (missing or null: empty)."""
    if value is None:
        return []
    if type(value) is not dict:
        raise Issue(field, f"expected an object with a values list, got {type(value).__name__}")
    values = value.get("values")
    return [] if values is None else values


def bounded(text: str, limit: int, field: str) -> str:
    """`text` when its UTF-8 form is at most `limit` bytes (max_attribute_bytes); else an Issue naming `field`."""
    if len(text) > limit // 4 and len(text.encode()) > limit:
        raise Issue(field, f"is {len(text.encode())} bytes, above the {limit}-byte limit")
    return text


def _too_deep(field: str) -> Issue:
    return Issue(field, f"AnyValue nested in more than {MAX_DEPTH} arrays or maps")


def json_any(v: Any, field: str, depth: int = 0) -> Any:
    """An OTLP/JSON AnyValue as a plain Python value (bytes stay base64 text)."""
    if depth > MAX_DEPTH:
        raise _too_deep(field)
    if v is None:
        return None
    if type(v) is not dict:
        raise Issue(field, "expected an AnyValue object")
    if "stringValue" in v:
        s = v["stringValue"]
        if type(s) is not str:
            raise Issue(field, f"stringValue must be a string, got {type(s).__name__}")
        return s
    if "intValue" in v:
        return parse_int(v["intValue"], field)
    if "boolValue" in v:
        b = v["boolValue"]
        if type(b) is not bool:
            raise Issue(field, f"boolValue must be true or false, got {type(b).__name__}")
        return b
    if "doubleValue" in v:
        return _finite_or_text(parse_double(v["doubleValue"], field))
    if "arrayValue" in v:
        arr = _wrapper(v["arrayValue"], f"{field}.arrayValue")
        if not isinstance(arr, list):
            raise Issue(field, "arrayValue.values must be a list")
        return [json_any(x, f"{field}[{i}]", depth + 1) for i, x in enumerate(arr)]
    if "kvlistValue" in v:
        return _json_kv(_wrapper(v["kvlistValue"], f"{field}.kvlistValue"), field, depth + 1)
    if "bytesValue" in v:
        b64 = v["bytesValue"]
        if type(b64) is not str:
            raise Issue(field, "bytesValue must be base64 text")
        return b64
    return None


def json_attributes(values: Any, field: str) -> dict[str, Any]:
    """An OTLP/JSON attribute list as a dict; a missing list is empty."""
    if values is None:
        return {}
    return _json_kv(values, field, 0)


def _finite_or_text(x: float) -> float | str:
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _proto_bytes(v: Any) -> str:
    return base64.b64encode(v.bytes_value).decode()


_PROTO_SCALARS: dict[str, Callable[[Any], Any]] = {
    "string_value": lambda v: v.string_value,
    "int_value": lambda v: v.int_value,
    "bool_value": lambda v: v.bool_value,
    "double_value": lambda v: _finite_or_text(v.double_value),
    "bytes_value": _proto_bytes,
}


def proto_any(v: Any, depth: int = 0) -> Any:
    """A protobuf AnyValue as the same plain Python value `json_any` gives (with the same depth limit)."""
    if depth > MAX_DEPTH:
        raise _too_deep("value")
    which = v.WhichOneof("value")
    if which is None:
        return None
    scalar = _PROTO_SCALARS.get(which)
    if scalar is not None:
        return scalar(v)
    if which == "array_value":
        return [proto_any(x, depth + 1) for x in v.array_value.values]
    return {kv.key: proto_any(kv.value, depth + 1) for kv in v.kvlist_value.values}


def proto_attributes(values: Any) -> dict[str, Any]:
    """A protobuf KeyValue list as a dict."""
    out: dict[str, Any] = {}
    for kv in values:
        v = kv.value
        which = v.WhichOneof("value")
        if which == "string_value":
            out[kv.key] = v.string_value
        else:
            out[kv.key] = proto_any(v)
    return out
