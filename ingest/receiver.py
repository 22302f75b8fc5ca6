"""The live OTLP/HTTP receiver: validates each export request, spools it durably, then answers."""

from __future__ import annotations

import hmac
import threading
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ingest import otlp_json, otlp_proto
from ingest.otlp_values import Issue
from ingest.rows import PointColumns, Rejection, SpanColumns
from ingest.settings import Settings
from ingest.spool import Folder, Spool, default_spool_dir, frame

MIB = 1024 * 1024
CONTENT_TYPES = {"application/x-protobuf": "proto", "application/json": "json"}
MEDIA = {"proto": "application/x-protobuf", "json": "application/json"}
RESPONSES: dict[str, Any] = {"traces": ExportTraceServiceResponse, "metrics": ExportMetricsServiceResponse,
                             "logs": ExportLogsServiceResponse}
REJECTED_FIELD = {"traces": "rejected_spans", "metrics": "rejected_data_points", "logs": "rejected_log_records"}
RPC_CODES = {400: 3, 401: 16, 413: 8, 415: 3, 429: 8, 503: 14}  # google.rpc.Code for each HTTP status
DECOMPRESS_CHUNK = MIB


@dataclass(frozen=True)
class ReceiverConfig:
    """Where the receiver listens and the limits it enforces."""

    host: str = "127.0.0.1"
    port: int = 4318
    spool_dir: Path | None = None  # default: <db>.spool beside the store
    max_body_bytes: int = 64 * MIB  # after decompression
    max_backlog_bytes: int = 1024 * MIB  # spooled but not yet folded; beyond it clients are asked to retry
    fold_interval_s: float = 2.0


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


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def rpc_status(code: int, message: str) -> bytes:
    """A serialized google.rpc.Status (code = field 1, message = field 2)."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


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


def validate(signal: str, fmt: str, body: bytes, settings: Settings) -> Verdict:
    """Decode with the same pure decoders the store's loader uses; undecodable bodies raise HttpError(400)."""
    try:
        if fmt == "proto":
            msg: Any = otlp_proto.parse(signal, body)
        else:
            msg = orjson.loads(body)
            if not isinstance(msg, dict):
                raise Issue("record", "expected a JSON object")
        decoder: Any = otlp_proto if fmt == "proto" else otlp_json
        if signal == "logs":
            return Verdict(0, 0)
        cols: SpanColumns | PointColumns = SpanColumns() if signal == "traces" else PointColumns()
        decode = decoder.decode_traces if signal == "traces" else decoder.decode_metrics
        rejections: list[Rejection] = decode(msg, 1, settings, cols)
    except orjson.JSONDecodeError as e:
        raise HttpError(400, f"body is not valid JSON: {e}") from None
    except Issue as e:
        raise HttpError(400, f"not a valid OTLP {signal} request: {e.field}: {e.reason}") from None
    rejected = sum(r.rows for r in rejections)
    return Verdict(len(cols), rejected, _summary(rejections, rejected))


def success_response(signal: str, fmt: str, verdict: Verdict) -> Response:
    """Export*ServiceResponse, with partialSuccess when items were rejected."""
    resp = RESPONSES[signal]()
    if verdict.rejected:
        setattr(resp.partial_success, REJECTED_FIELD[signal], verdict.rejected)
        resp.partial_success.error_message = verdict.message
    body = resp.SerializeToString() if fmt == "proto" else orjson.dumps(json_format.MessageToDict(resp))
    return Response(body, 200, media_type=MEDIA[fmt])


class OtlpEndpoint:
    """One `/v1/<signal>` endpoint: auth, content type, backpressure, size limits, validation, spool."""

    def __init__(self, signal: str, spool: Spool, settings: Settings, config: ReceiverConfig) -> None:
        self.signal, self.spool, self.settings, self.config = signal, spool, settings, config

    async def handle(self, request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        fmt = CONTENT_TYPES.get(media, "")
        try:
            try:
                self._authorize(request)
                if not fmt:
                    raise HttpError(415, f"unsupported Content-Type {media!r}: use application/x-protobuf or "
                                         "application/json")
                if self.spool.backlog_bytes >= self.config.max_backlog_bytes:
                    raise HttpError(503, "the store is behind; retry later", self._retry_after())
            except HttpError:
                await self._discard_body(request)
                raise
            raw = await self._read_raw(request)
            encoding = request.headers.get("content-encoding", "").strip().lower()
            return await run_in_threadpool(self._accept, raw, encoding, fmt)
        except HttpError as e:
            return error_response(e, fmt)

    async def _discard_body(self, request: Request) -> None:
        """Read and drop a refused request's body, up to the size limit, before answering.

        A client still sending when the connection closes gets a reset instead of the 401/415/503, so an exporter
        would see a network error and retry blindly; a body above the limit is not read (the answer may then be lost).
        """
        try:
            async for _ in self._body_chunks(request):
                pass
        except (HttpError, ClientDisconnect):
            return

    def _authorize(self, request: Request) -> None:
        token = self.settings.token
        if token is None:
            return
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HttpError(401, "missing or wrong bearer token")

    def _retry_after(self) -> int:
        return max(1, int(self.config.fold_interval_s + 0.999))

    async def _body_chunks(self, request: Request) -> AsyncIterator[bytes]:
        """The request body as it arrives; 413 once the declared or the received size passes the limit."""
        cap = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise HttpError(413, f"body is larger than {cap} bytes")
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                raise HttpError(413, f"body is larger than {cap} bytes")
            yield chunk

    async def _read_raw(self, request: Request) -> bytes:
        return b"".join([chunk async for chunk in self._body_chunks(request)])

    def _accept(self, raw: bytes, encoding: str, fmt: str) -> Response:
        body = decompress(raw, encoding, self.config.max_body_bytes)
        del raw
        verdict = validate(self.signal, fmt, body, self.settings)
        if self.signal != "logs" and verdict.accepted + verdict.rejected > 0:
            try:
                self.spool.write(self.signal, fmt, frame(body) if fmt == "proto" else body)
            except OSError as e:
                raise HttpError(503, f"cannot spool the request: {e}", self._retry_after()) from None
        return success_response(self.signal, fmt, verdict)


def build_app(spool: Spool, settings: Settings, config: ReceiverConfig) -> Starlette:
    """The ASGI app: POST /v1/traces, /v1/metrics and /v1/logs."""
    routes = [Route(f"/v1/{s}", OtlpEndpoint(s, spool, settings, config).handle, methods=["POST"])
              for s in ("traces", "metrics", "logs")]
    return Starlette(routes=routes)


class Receiver:
    """A running receiver: the folder thread plus uvicorn, in this process."""

    def __init__(self, settings: Settings, config: ReceiverConfig) -> None:
        self.settings = settings
        self.config = config
        self.spool = Spool(config.spool_dir or default_spool_dir(settings.db_path))
        self.folder = Folder(self.spool, settings, config.fold_interval_s)
        app = build_app(self.spool, settings, config)
        self.server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C / SIGTERM), then fold what is left."""
        self.folder.start()
        try:
            self.server.run()
        finally:
            self.folder.stop()

    def start(self, timeout_s: float = 10.0) -> Receiver:
        """Serve from a background thread (tests, embedding); returns once the port is open."""
        self.folder.start()
        self._thread = threading.Thread(target=self.server.run, name="tierwise-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.server.should_exit = True
                self.folder.stop(final_fold=False)
                raise RuntimeError(f"receiver did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving, then fold what is left in the spool."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self.folder.stop()
