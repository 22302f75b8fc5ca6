"""The OTLP/HTTP wire side of the receiver: status bodies, decompression, validation and answers for one request."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.responses import Response

from ingest.files import fast_json, fast_proto
from ingest.files.sources import Record
from ingest.otlp import otlp_json, otlp_proto
from ingest.otlp.decode import Decoded
from ingest.otlp.otlp_values import Issue
from ingest.otlp.rows import PointColumns, Rejection, SpanColumns
from store.settings import Settings

MIB = 1024 * 1024
CONTENT_TYPES = {"application/x-protobuf": "proto", "application/json": "json"}
MEDIA = {"proto": "application/x-protobuf", "json": "application/json"}
RESPONSES: dict[str, Any] = {"traces": ExportTraceServiceResponse, "metrics": ExportMetricsServiceResponse,
                             "logs": ExportLogsServiceResponse}
REJECTED_FIELD = {"traces": "rejected_spans", "metrics": "rejected_data_points", "logs": "rejected_log_records"}
RPC_CODES = {400: 3, 401: 16, 413: 8, 415: 3, 429: 8, 503: 14}  # google.rpc.Code for each HTTP status
DECOMPRESS_CHUNK = MIB
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Verdict:
    """What validating one request found: items the store will take and items it will quarantine."""

    accepted: int
    rejected: int
    message: str = ""


class HttpError(Exception):
    """A request answered with an OTLP error status (body: google.rpc.Status)."""

    def __init__(self, status: int, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


def varint(n: int) -> bytes:
    """A protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def rpc_status(code: int, message: str) -> bytes:
    """A serialized google.rpc.Status (code = field 1, message = field 2)."""
    text = message.encode()
    return b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text


def error_response(err: HttpError, fmt: str) -> Response:
    """The Status body in the request's content type (JSON when the type was not understood)."""
    code = RPC_CODES.get(err.status, 2)
    body = rpc_status(code, err.message) if fmt == "proto" else orjson.dumps({"code": code, "message": err.message})
    headers = {"Retry-After": str(err.retry_after_s)} if err.retry_after_s is not None else None
    return Response(body, err.status, headers=headers, media_type=MEDIA.get(fmt, MEDIA["json"]))


def decompress(raw: bytes, encoding: str, cap_bytes: int) -> bytes:
    """Undo gzip or deflate a chunk at a time, refusing (413) as soon as the output passes `cap_bytes`."""
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate"):
        raise HttpError(415, f"unsupported Content-Encoding {encoding!r}: use gzip, deflate or none")
    out: list[bytes] = []
    total = 0
    data = raw
    try:
        while data:
            d = zlib.decompressobj(31 if encoding == "gzip" else 15)
            pending = data
            while True:
                piece = d.decompress(pending, DECOMPRESS_CHUNK)
                total += len(piece)
                if total > cap_bytes:
                    raise HttpError(413, f"body is larger than {cap_bytes} bytes after decompression")
                out.append(piece)
                pending = d.unconsumed_tail
                if d.eof or (not pending and not piece):
                    break
            if not d.eof:
                raise HttpError(400, f"{encoding} body is truncated")
            data = d.unused_data if d.unused_data.strip(b"\0") else b""  # gzip allows concatenated members
    except zlib.error as e:
        raise HttpError(400, f"body is not valid {encoding}: {e}") from None
    return b"".join(out)


def _summary(rejections: list[Rejection], rejected: int) -> str:
    if not rejected:
        return ""
    first = "; ".join(f"{r.item} {r.field}: {r.reason}" for r in rejections[:3])
    more = f" (and {len(rejections) - 3} more)" if len(rejections) > 3 else ""
    return f"{rejected} rejected: {first}{more}"


def decode_request(signal: str, fmt: str, body: bytes, settings: Settings) -> Decoded:
    """The rows the store will take and the items it will quarantine, decoded once with the loader's decoders.

    Trace requests try the same fast paths as `tierwise ingest`; a body that is not an OTLP request of the endpoint's
    signal raises HttpError(400). Only the endpoint's signal is read: a /v1/metrics body is never taken for spans.
    """
    if fmt == "json" and body.startswith(UTF8_BOM):  # the file loader accepts one too
        body = body[len(UTF8_BOM):]
    if signal == "traces" and fast_json.enabled():
        fast = fast_proto if fmt == "proto" else fast_json
        spans = fast.decode_traces([Record(1, body)], settings)
        if spans is not None:
            return Decoded(spans if spans.num_rows else None, None, (), 0, frozenset({"traces"}))
    try:
        if fmt == "proto":
            msg: Any = otlp_proto.parse(signal, body)
        else:
            msg = orjson.loads(body)
            if not isinstance(msg, dict):
                raise Issue("record", "expected a JSON object")
        decoder: Any = otlp_proto if fmt == "proto" else otlp_json
        if signal == "logs":
            return Decoded(None, None, (), 0, frozenset())
        if signal == "traces":
            spans_out = SpanColumns()
            rejections: list[Rejection] = decoder.decode_traces(msg, 1, settings, spans_out)
            table = spans_out.to_arrow() if len(spans_out) else None
            return Decoded(table, None, tuple(rejections), 0, frozenset({signal}))
        points_out = PointColumns()
        rejections = decoder.decode_metrics(msg, 1, settings, points_out)
        return Decoded(None, points_out.to_arrow() if len(points_out) else None, tuple(rejections), 0,
                       frozenset({signal}))
    except orjson.JSONDecodeError as e:
        raise HttpError(400, f"body is not valid JSON: {e}") from None
    except Issue as e:
        raise HttpError(400, f"not a valid OTLP {signal} request: {e.field}: {e.reason}") from None


def verdict(decoded: Decoded) -> Verdict:
    """What the answer reports: items taken, items rejected and why."""
    rejected = sum(r.rows for r in decoded.rejections)
    return Verdict(decoded.accepted, rejected, _summary(list(decoded.rejections), rejected))


def success_response(signal: str, fmt: str, verdict: Verdict) -> Response:
    """Export*ServiceResponse, with partialSuccess when items were rejected."""
    resp = RESPONSES[signal]()
    if verdict.rejected:
        setattr(resp.partial_success, REJECTED_FIELD[signal], verdict.rejected)
        resp.partial_success.error_message = verdict.message
    body = resp.SerializeToString() if fmt == "proto" else orjson.dumps(json_format.MessageToDict(resp))
    return Response(body, 200, media_type=MEDIA[fmt])
