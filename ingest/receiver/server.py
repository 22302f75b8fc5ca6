"""The live OTLP/HTTP receiver: admits each export request, spools it durably, answers, and folds on every way out."""

from __future__ import annotations

import hmac
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ingest.receiver.decoders import Decoders
from ingest.receiver.spool import Folder, Spool, default_spool_dir
from ingest.receiver.wire import CONTENT_TYPES, MIB, HttpError, decompress, error_response, success_response
from store.settings import DEFAULT_FOLD_MEMORY, Settings

log = logging.getLogger("tierwise.receiver")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
INFLIGHT_RETRY_AFTER_S = 1  # requests in flight finish within seconds; exporters back off further on their own


@dataclass(frozen=True)
class ReceiverConfig:
    """Where the receiver listens and the limits it enforces."""

    host: str = "127.0.0.1"
    port: int = 4318
    spool_dir: Path | None = None  # default: <db>.spool beside the store
    max_body_bytes: int = 64 * MIB  # after decompression
    max_backlog_bytes: int = 64 * MIB  # spooled but not yet folded (about 300k spans, 10 s of folding); then 503
    fold_interval_s: float = 2.0
    max_inflight_bytes: int = 64 * MIB  # bodies being read or decoded at once, all requests together
    shutdown_grace_s: int = 5  # on stop, how long requests already being handled may take before they are cancelled
    decode_workers: int = 0  # processes decoding request bodies; 0 decodes in the receiver's own threads
    fold_memory: str = DEFAULT_FOLD_MEMORY  # DuckDB's memory_limit while folding, in place of the settings' writer_memory


class InflightBudget:
    """The bytes of request bodies being read, decompressed and decoded at once, across the whole process.

    Decoding costs several times the body (8 to 14 times for OTLP/JSON), so this budget, not the per-request limit,
    is what bounds the receiver's memory. A request alone in flight may pass it (up to --max-body-bytes): otherwise a
    body larger than the budget would be refused forever.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    def grow(self, held: int, to: int) -> bool:
        """Raise one request's share from `held` to `to` bytes; False (nothing taken) if others would pass the limit."""
        with self._lock:
            extra = to - held
            if extra <= 0:
                return True
            if self._used + extra > self.limit and self._used > held:
                return False
            self._used += extra
            return True

    def release(self, held: int) -> None:
        with self._lock:
            self._used -= held


class Share:
    """One request's part of the in-flight budget; it grows as the body turns out larger, and is given back at the end."""

    def __init__(self, budget: InflightBudget) -> None:
        self.budget = budget
        self.held = 0

    def need(self, size: int) -> None:
        """Hold `size` bytes in all, or refuse the request with 503 + Retry-After (as a full backlog does)."""
        if size > self.held:
            if not self.budget.grow(self.held, size):
                raise HttpError(503, "the receiver is decoding as much as it may at once; retry later",
                                INFLIGHT_RETRY_AFTER_S)
            self.held = size

    def release(self) -> None:
        self.budget.release(self.held)
        self.held = 0


class OtlpEndpoint:
    """One `/v1/<signal>` endpoint: auth, content type, backpressure, size limits, validation, spool."""

    def __init__(self, signal_name: str, spool: Spool, settings: Settings, config: ReceiverConfig,
                 budget: InflightBudget, decoders: Decoders) -> None:
        self.signal, self.spool, self.settings, self.config = signal_name, spool, settings, config
        self.budget, self.decoders = budget, decoders

    async def handle(self, request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        fmt = CONTENT_TYPES.get(media, "")
        share = Share(self.budget)
        try:
            try:
                self._authorize(request)
                if not fmt:
                    raise HttpError(415, f"unsupported Content-Type {media!r}: use application/x-protobuf or "
                                         "application/json")
                if self.spool.backlog_bytes >= self.config.max_backlog_bytes:
                    raise HttpError(503, "the store is behind; retry later", self._retry_after())
                share.need(self._declared_size(request))
            except HttpError:
                await self._discard_body(request)
                raise
            raw = await self._read_raw(request, share)
            if raw is None:
                return Response(status_code=400)  # nobody is left to read it
            encoding = request.headers.get("content-encoding", "").strip().lower()
            body = await run_in_threadpool(self._decompressed, raw, encoding, share)
            del raw
            done = await self.decoders.accept(self.signal, fmt, body)
            del body
            if done.spooled is not None:
                await run_in_threadpool(self._spool, done.spooled)
            return success_response(self.signal, fmt, done.verdict)
        except HttpError as e:
            return error_response(e, fmt)
        finally:
            share.release()

    async def _discard_body(self, request: Request) -> None:
        """Read and drop a refused request's body, up to the size limit, before answering.

        A client still sending when the connection closes gets a reset instead of the 401/415/503, so an exporter
        would see a network error and retry blindly; a body above the limit is not read (the answer may then be lost).
        """
        try:
            async for _ in self._body_chunks(request):
                pass
        except HttpError:
            return
        except ClientDisconnect:
            self._log_disconnect(request, "a refused request")

    def _log_disconnect(self, request: Request, what: str) -> None:
        """One line, not the ASGI traceback: a client that goes away mid-body is routine (timeouts, restarts)."""
        peer = f"{request.client.host}:{request.client.port}" if request.client else "unknown"
        log.warning("client %s disconnected while sending %s to %s; nothing was stored", peer, what, request.url.path)

    def _authorize(self, request: Request) -> None:
        """`Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235), the token compared in constant time."""
        token = self.settings.token
        if token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
        ok = hmac.compare_digest(given.strip().encode(), token.encode())
        if not (ok and scheme.lower() == "bearer"):
            raise HttpError(401, "missing or wrong bearer token")

    def _retry_after(self) -> int:
        return max(1, int(self.config.fold_interval_s + 0.999))

    def _declared_size(self, request: Request) -> int:
        """Content-Length (0 when the body is chunked); 413 when it passes the limit."""
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else 0
        if size > self.config.max_body_bytes:
            raise HttpError(413, f"body is larger than {self.config.max_body_bytes} bytes")
        return size

    async def _body_chunks(self, request: Request) -> AsyncIterator[bytes]:
        """The request body as it arrives; 413 once the declared or the received size passes the limit."""
        self._declared_size(request)
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.config.max_body_bytes:
                raise HttpError(413, f"body is larger than {self.config.max_body_bytes} bytes")
            yield chunk

    async def _read_raw(self, request: Request, share: Share) -> bytes | None:
        """The whole body, held against the in-flight budget as it arrives; None when the client went away.

        A body that outgrows what the budget allows is still read to its end (and dropped) so the client gets the 503.
        """
        chunks: list[bytes] = []
        size = 0
        refusal: HttpError | None = None
        try:
            async for chunk in self._body_chunks(request):
                if refusal is not None:
                    continue
                size += len(chunk)
                try:
                    share.need(size)
                except HttpError as e:
                    refusal = e
                    chunks.clear()
                    continue
                chunks.append(chunk)
        except ClientDisconnect:
            self._log_disconnect(request, f"its body ({size} bytes received)")
            return None
        if refusal is not None:
            raise refusal
        return b"".join(chunks)

    def _decompressed(self, raw: bytes, encoding: str, share: Share) -> bytes:
        body = decompress(raw, encoding, self.config.max_body_bytes)
        share.need(len(body))  # decoding costs a multiple of the decompressed body, so that is what the budget holds
        return body

    def _spool(self, data: bytes) -> None:
        try:
            self.spool.write(self.signal, data)
        except OSError as e:
            raise HttpError(503, f"cannot spool the request: {e}", self._retry_after()) from None


def build_app(spool: Spool, settings: Settings, config: ReceiverConfig, budget: InflightBudget | None = None,
              decoders: Decoders | None = None) -> Starlette:
    """The ASGI app: POST /v1/traces, /v1/metrics and /v1/logs, sharing one in-flight budget and one set of decoders."""
    shared = budget or InflightBudget(config.max_inflight_bytes)
    decode = decoders or Decoders(settings, 0)
    routes = [Route(f"/v1/{s}", OtlpEndpoint(s, spool, settings, config, shared, decode).handle, methods=["POST"])
              for s in ("traces", "metrics", "logs")]
    return Starlette(routes=routes)


class Receiver:
    """A running receiver: the folder thread plus uvicorn, in this process."""

    def __init__(self, settings: Settings, config: ReceiverConfig) -> None:
        self.settings = settings
        self.config = config
        self.spool = Spool(config.spool_dir or default_spool_dir(settings.db_path))
        self.folder = Folder(self.spool, replace(settings, writer_memory=config.fold_memory), config.fold_interval_s)
        self.budget = InflightBudget(config.max_inflight_bytes)
        self.decoders = Decoders(settings, config.decode_workers)
        app = build_app(self.spool, settings, config, self.budget, self.decoders)
        self.server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="warning",
                                                    access_log=False, lifespan="off",
                                                    timeout_graceful_shutdown=config.shutdown_grace_s))
        self._thread: threading.Thread | None = None
        self._signals: list[int] = []

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    def run(self) -> int:
        """Serve until SIGINT, SIGTERM or SIGHUP, then fold everything answered 200; returns the exit status.

        uvicorn's own handlers re-raise the signal once it has shut down, which kills the process before any final
        fold. So uvicorn serves from a thread (where it leaves signals alone) and this, the main thread, owns them.
        A second signal stops waiting: open requests are cancelled and the final fold ends after the file in hand;
        what it did not fold stays in the spool for the next start. A SIGHUP ignored at start (nohup) stays ignored.
        """
        owned = [s for s in STOP_SIGNALS if not (s == signal.SIGHUP and signal.getsignal(s) == signal.SIG_IGN)]
        previous = {s: signal.signal(s, self._on_signal) for s in owned}
        try:
            self.start()
            while not self._signals and self._thread is not None and self._thread.is_alive():
                time.sleep(0.1)  # handlers only record the signal; this loop acts on it outside the handler
            if self._signals:
                log.info("stopping on %s: finishing open requests, then a final fold", signal.Signals(self._signals[0]).name)
            else:
                log.error("the HTTP server stopped by itself; folding what was accepted")
            complete = self.stop()
            return 0 if complete and self._signals else 1
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Record the signal; on a second one, stop waiting for open requests and cut the final fold short."""
        self._signals.append(signum)
        if len(self._signals) > 1:
            self.server.force_exit = True
            self.folder.abort()

    def start(self, timeout_s: float = 10.0) -> Receiver:
        """Serve from a background thread (tests, embedding, and `run`); returns once the port is open."""
        self.folder.start()
        self._thread = threading.Thread(target=self.server.run, name="tierwise-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.server.should_exit = True
                self.folder.stop(final_fold=False)
                self.decoders.close(wait=False)
                raise RuntimeError(f"receiver did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> bool:
        """Stop serving, then fold what is left in the spool; False when files were left for the next start."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self.decoders.close(wait=not self.server.force_exit)
        began = time.monotonic()
        done = self.folder.stop()
        left = len(self.spool.ready())
        log.info("final fold: %d spool files (%d spans and points) in %.2f s", done.folded, done.accepted,
                 time.monotonic() - began)
        if left:
            log.warning("%d spool files were not folded; the next start folds them (or: tierwise ingest %s)", left,
                        self.spool.directory)
        return left == 0
