"""Decoding request bodies for the receiver, in worker processes so that decoding runs beside the fold on every core.

In one process the handlers' decoding and the folder share one GIL, and the folder fell behind what the handlers
accepted. A worker turns a body into the bytes of its spool file and the answer's counts; the receiver only writes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from ingest.files import parallel
from ingest.receiver.spooled import to_ipc
from ingest.receiver.wire import HttpError, Verdict, decode_request, verdict
from store.settings import Settings

log = logging.getLogger("tierwise.receiver")
_settings: Settings | None = None  # a worker's settings, set once when it starts


@dataclass(frozen=True)
class Accepted:
    """One decoded request: its spool file's bytes (None when there is nothing to keep) and the answer's counts."""

    spooled: bytes | None
    verdict: Verdict


@dataclass(frozen=True)
class Refused:
    """A body that is not a request of the endpoint's signal (crosses the process boundary; HttpError does not)."""

    status: int
    message: str


def identity(signal_name: str, body: bytes) -> str:
    """A request's identity in the store's ledger: an exporter's retry of the same body has the same one."""
    return hashlib.sha256(signal_name.encode() + b"\n" + body).hexdigest()


def accept(signal_name: str, fmt: str, body: bytes, settings: Settings) -> Accepted:
    """Decode once; raises HttpError(400) for a body that is not a request of this signal."""
    decoded = decode_request(signal_name, fmt, body, settings)
    answer = verdict(decoded)
    keep = signal_name != "logs" and answer.accepted + answer.rejected > 0
    return Accepted(to_ipc(decoded, identity(signal_name, body)) if keep else None, answer)


def _start_worker(settings: Settings, parent_pid: int) -> None:
    """Stop signals are for the receiver, which stops its workers after the last request; a dead receiver ends them."""
    global _settings
    _settings = settings
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    parallel.exit_with(parent_pid)


def _accept_in_worker(signal_name: str, fmt: str, body: bytes) -> Accepted | Refused:
    assert _settings is not None
    try:
        return accept(signal_name, fmt, body, _settings)
    except HttpError as e:
        return Refused(e.status, e.message)


class Decoders:
    """Where requests are decoded: `workers` processes, or the receiver's own threads when workers is 0."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self._pool = self._start() if workers else None

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"),
                                   initializer=_start_worker, initargs=(self.settings, os.getpid()))

    async def accept(self, signal_name: str, fmt: str, body: bytes) -> Accepted:
        """The decoded request; 503 (retry) when a decoder process died under it, after starting fresh ones."""
        pool = self._pool
        if pool is None:
            return await run_in_threadpool(accept, signal_name, fmt, body, self.settings)
        try:
            done = await asyncio.wrap_future(pool.submit(_accept_in_worker, signal_name, fmt, body))
        except BrokenProcessPool:
            if self._pool is pool:  # the first request to notice replaces the pool; the others only retry
                log.error("a decoder process died (killed, or out of memory); starting new ones")
                self._pool = self._start()
                pool.shutdown(wait=False, cancel_futures=True)
            raise HttpError(503, "a decoder process stopped while decoding this request; retry", 1) from None
        if isinstance(done, Refused):
            raise HttpError(done.status, done.message)
        return done

    def close(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
