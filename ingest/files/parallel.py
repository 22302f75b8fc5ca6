"""Decoding file batches on every core while the caller commits them in order, with bounded memory."""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from ingest.files.sources import SourceError

ENV_WORKERS = "TIERWISE_INGEST_WORKERS"
B = TypeVar("B")
T = TypeVar("T")


def default_workers() -> int:
    """Decoder processes: TIERWISE_INGEST_WORKERS, else one fewer than the usable cores, and none on 2 or fewer.

    The committing process keeps a core of its own. On 2 cores one worker measured 230-310 MiB more peak
    RSS (1.1-1.3 GB in all, over the 1 GB budget), ~6 % more CPU and no shorter wall time on the
    shared VM than decoding inline (docs/benchmarks.md, Ingest), so 2 cores decode inline.
    """
    env = os.environ.get(ENV_WORKERS, "").strip()
    if env.isdigit():
        return int(env)
    cores = usable_cores()
    return cores - 1 if cores > 2 else 0


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def decoded(batches: Iterator[B], decode: Callable[[B], T], skip: set[int],
            workers: int | None = None) -> Iterator[tuple[int, T | None]]:
    """(index, decode(batch)) in file order; None for indexes in `skip` (already committed).

    Batch boundaries come from `batches`, so they do not depend on the number of workers. While the
    caller commits one batch, at most `workers` more are being decoded or waiting, which bounds
    memory. A SourceError from `batches` is raised only after every batch read before it has been
    yielded, so a truncated file still commits its good prefix. Files of a single batch are
    decoded inline (no pool start-up cost). `decode` must be picklable (a module-level function
    or a functools.partial of one).
    """
    n = default_workers() if workers is None else workers
    first = _next(batches)
    second = _next(batches) if first is not None else None
    if n <= 0 or second is None or isinstance(second, SourceError):
        yield from _inline(first, second, batches, decode, skip)
        return
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=exit_with, initargs=(os.getpid(),))
    pending: deque[tuple[int, Future[T] | None]] = deque()
    error: SourceError | None = None
    try:
        for index, batch in enumerate(_chain(first, second, batches)):
            if isinstance(batch, SourceError):
                error = batch
                break
            pending.append((index, None if index in skip else pool.submit(decode, batch)))
            while len(pending) > n:
                i, fut = pending.popleft()
                yield i, (None if fut is None else fut.result())
        while pending:
            i, fut = pending.popleft()
            yield i, (None if fut is None else fut.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if error is not None:
        raise error


def exit_with(pid: int) -> None:
    """Worker start-up: exit as soon as the ingesting process `pid` ends, even when it was killed.

    Otherwise a SIGKILLed ingest would leave its idle workers (and their forkserver) behind.
    """
    if not hasattr(os, "pidfd_open"):
        return
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)  # the ingesting process is already gone
    except OSError:
        return  # no pidfd support in this kernel: fall back to the pool's own shutdown

    def wait() -> None:
        select.select([fd], [], [])  # a pidfd turns readable when its process terminates
        os._exit(1)

    threading.Thread(target=wait, name="tierwise-parent-watch", daemon=True).start()


def _next(batches: Iterator[B]) -> B | SourceError | None:
    try:
        return next(batches, None)
    except SourceError as e:
        return e


def _chain(first: B | SourceError | None, second: B | SourceError | None,
           batches: Iterator[B]) -> Iterator[B | SourceError]:
    for b in (first, second):
        if b is None:
            return
        yield b
        if isinstance(b, SourceError):
            return
    while (b := _next(batches)) is not None:
        yield b
        if isinstance(b, SourceError):
            return


def _inline(first: B | SourceError | None, second: B | SourceError | None, batches: Iterator[B],
            decode: Callable[[B], T], skip: set[int]) -> Iterator[tuple[int, T | None]]:
    for index, batch in enumerate(_chain(first, second, batches)):
        if isinstance(batch, SourceError):
            raise batch
        yield index, (None if index in skip else decode(batch))
