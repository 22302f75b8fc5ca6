"""The receiver's durable spool: accepted OTLP bodies as atomic files, folded into DuckDB by one background thread."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

import store
from ingest.receiver import spooled
from ingest.remap.batches import place_decoded
from ingest.sinks import ledger, loader
from store.settings import Settings

log = logging.getLogger("tierwise.spool")
SIGNALS = ("traces", "metrics")
FAILED_DIR = "failed"
GROUP_BYTES_PER_SPAN = 200  # spooled (lz4 Arrow) bytes per span, about; sizes a group to the commit_spans setting
MAX_GROUP_FILES = 2000
PASS_CHECKPOINT = "4GB"  # WAL a pass may write before DuckDB checkpoints mid-pass; closing checkpoints anyway
READER_GAP_S = 0.5  # at least this long between passes, the store is free for the dashboard and the CLI
KEEP_GOING_SHARE = 4  # a pass goes on while a 1/this share of a group waits: under load, not for a trickle


def default_spool_dir(db_path: Path) -> Path:
    """`<db>.spool/` beside the store."""
    return db_path.with_name(db_path.name + ".spool")


def signal_of(path: Path) -> str | None:
    """The signal a spool file's name declares (`<ns>-<seq>-<signal>.<ext>`), None for foreign files."""
    parts = path.name.split(".", 1)[0].split("-")
    return parts[2] if len(parts) == 3 and parts[2] in SIGNALS else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class FoldResult:
    """What one pass of the folder did."""

    folded: int = 0
    failed: int = 0
    accepted: int = 0
    locked: bool = False


class Spool:
    """A folder of ready files; a file exists under its final name only once its bytes are on disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(".tmp-*"):  # a write cut short by a crash was never answered 200
            stale.unlink(missing_ok=True)
        self._lock = threading.Lock()
        self._seq = 0
        self._backlog_bytes = sum(p.stat().st_size for p in self.ready())

    @property
    def backlog_bytes(self) -> int:
        """Bytes accepted but not yet folded into the store."""
        with self._lock:
            return self._backlog_bytes

    def ready(self) -> list[Path]:
        """Spool files waiting to be folded, oldest first (names sort by arrival)."""
        return sorted(p for p in self.directory.iterdir()
                      if p.is_file() and not p.name.startswith(".") and signal_of(p) is not None)

    def write(self, signal: str, data: bytes) -> Path:
        """Make one spooled request (ingest.receiver.spooled) durable: temp file, fsync, atomic rename, fsync of the folder."""
        with self._lock:
            self._seq += 1
            name = f"{time.time_ns():020d}-{self._seq:09d}-{signal}{spooled.SUFFIX}"
        tmp = self.directory / f".tmp-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            final = self.directory / name
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)
        with self._lock:
            self._backlog_bytes += len(data)
        return final

    def settle(self, size: int) -> None:
        """Count bytes off the backlog: their rows are committed to the store (or set aside), so new requests may
        take their place while the file itself waits for the end of the pass."""
        with self._lock:
            self._backlog_bytes = max(0, self._backlog_bytes - size)


def _set_aside(spool: Spool, path: Path, size: int) -> None:
    failed = spool.directory / FAILED_DIR
    failed.mkdir(exist_ok=True)
    os.replace(path, failed / path.name)
    spool.settle(size)


@dataclass(frozen=True)
class _Folded:
    done: list[tuple[Path, int]]
    bad: list[tuple[Path, int]]
    accepted: int


def _groups(files: list[Path], commit_spans: int) -> Iterator[list[Path]]:
    """Files in arrival order, spooled requests grouped by size (about commit_spans rows), other files alone."""
    group: list[Path] = []
    size = 0
    budget = commit_spans * GROUP_BYTES_PER_SPAN
    for path in files:
        if path.suffix != spooled.SUFFIX:
            if group:
                yield group
                group, size = [], 0
            yield [path]
            continue
        group.append(path)
        size += path.stat().st_size
        if size >= budget or len(group) >= MAX_GROUP_FILES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _fold_group(con: duckdb.DuckDBPyConnection, group: list[Path], settings: Settings) -> _Folded:
    """Commit one group: spooled requests in one transaction, a legacy OTLP body through the file loader."""
    if group[0].suffix != spooled.SUFFIX:
        path = group[0]
        size = path.stat().st_size
        res = loader.ingest_file(con, path, settings, signal=signal_of(path))
        if not res.ok:
            log.error("spool file %s is %s (%s): moved to %s/", path.name, res.status, res.message, FAILED_DIR)
        return _Folded([(path, size)] if res.ok else [], [] if res.ok else [(path, size)], res.accepted)
    parts: list[tuple[loader.Part, int]] = []
    done: list[tuple[Path, int]] = []
    bad: list[tuple[Path, int]] = []
    for path in group:
        size = path.stat().st_size
        try:
            held = spooled.from_ipc(path.read_bytes())
        except spooled.SpooledError as e:
            log.error("spool file %s is unreadable (%s): moved to %s/", path.name, e, FAILED_DIR)
            bad.append((path, size))
            continue
        parts.append((loader.Part(held.sha256, str(path), 0, place_decoded(held.decoded, settings.map_rules)), size))
        done.append((path, size))
    seen = ledger.complete_shas(con, [p.sha for p, _ in parts])
    fresh: list[tuple[loader.Part, int]] = []
    for part, size in parts:  # a retried body (same bytes) is committed once
        if part.sha not in seen:
            seen.add(part.sha)
            fresh.append((part, size))
    if fresh:
        loader.commit_files(con, fresh)
    return _Folded(done, bad, sum(p.batch.accepted for p, _ in fresh))


class Folder:
    """Folds ready spool files into the store, holding the DuckDB write lock only while it does."""

    def __init__(self, spool: Spool, settings: Settings, interval_s: float = 2.0, max_pass_s: float = 10.0) -> None:
        self.spool = spool
        self.settings = settings
        self.interval_s = interval_s
        self.max_pass_s = max_pass_s
        self._fold_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._aborted = False  # a plain flag: set from a signal handler, where taking a lock could deadlock
        self._thread: threading.Thread | None = None

    def fold_once(self) -> FoldResult:
        """Ingest the ready files, close the store, then delete what was folded; a locked store waits.

        Spooled requests are committed many per transaction (up to the settings' commit_spans); files an older version
        spooled as OTLP bodies go through the file loader one by one. A pass starts no group that would take it past
        `max_pass_s` (judged by the last group), so readers get the store between passes even while a backlog drains.
        """
        with self._fold_lock:
            files = self.spool.ready()
            if not files:
                return FoldResult()
            try:
                con = store.open_writer(self.settings.db_path, self.settings.writer_memory)
            except duckdb.IOException as e:  # another process holds the store: try again next pass
                log.warning("store is busy, %d spool files wait: %s", len(files), e)
                return FoldResult(locked=True)
            con.execute(f"SET checkpoint_threshold = '{PASS_CHECKPOINT}'")  # one checkpoint per pass, on close
            began = time.monotonic()
            done: list[tuple[Path, int]] = []
            bad: list[tuple[Path, int]] = []
            accepted = groups = 0
            group_s = 0.0  # how long the last group took: a group that would end past max_pass_s waits
            try:
                while files:
                    for group in _groups(files, self.settings.commit_spans):
                        if self._aborted or (groups and time.monotonic() + group_s - began > self.max_pass_s):
                            files = []  # the rest waits for the next pass (or, stopping in a hurry, the next start)
                            break
                        started = time.monotonic()
                        try:
                            folded = _fold_group(con, group, self.settings)
                        except duckdb.Error as e:
                            log.error("folding %s failed, left in the spool: %s", group[0].name, e)
                            files = []
                            break
                        group_s = time.monotonic() - started
                        groups += 1
                        accepted += folded.accepted
                        self.spool.settle(sum(size for _, size in folded.done))
                        done.extend(folded.done)
                        bad.extend(folded.bad)
                    else:  # more arrived meanwhile: under load the pass goes on (and saves a checkpoint)
                        files = self._more(set(p for p, _ in done + bad), began + group_s)
            finally:
                closing = time.monotonic()
                con.close()
                log.debug("fold pass: %d groups, %d files, %d spans and points in %.2f s, closing %.2f s", groups,
                          len(done), accepted, closing - began, time.monotonic() - closing)
            for path, _ in done:  # only now: a file goes once the store that holds its rows is closed
                path.unlink(missing_ok=True)
            for path, size in bad:
                _set_aside(self.spool, path, size)
            if done or bad:
                _fsync_dir(self.spool.directory)
            return FoldResult(len(done), len(bad), accepted)

    def _more(self, taken: set[Path], began: float) -> list[Path]:
        """Files that arrived during this pass, when they show sustained load and the pass has time left (`began`:
        when it began, plus the time another group would take).

        Each pass ends with a checkpoint (1 to 2 s, mostly fixed) and a gap for readers, so under load a pass that
        goes on with part of a group folds more per second than one that stops for want of a full group; a trickle
        of small requests still ends the pass at once.
        """
        if time.monotonic() - began > self.max_pass_s:
            return []
        more = [p for p in self.spool.ready() if p not in taken]
        size = sum(p.stat().st_size for p in more if p.suffix == spooled.SUFFIX)
        return more if size * KEEP_GOING_SHARE >= self.settings.commit_spans * GROUP_BYTES_PER_SPAN else []

    def wake(self) -> None:
        """Ask for a fold pass now instead of at the next interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self.fold_once()
            except Exception:  # keep folding later; the files stay in the spool
                log.exception("fold pass failed")
            # A pass as long as the interval means a backlog: the next one starts soon, after a gap for readers.
            self._wake.wait(max(READER_GAP_S, self.interval_s - (time.monotonic() - began)))
            self._wake.clear()

    def start(self) -> None:
        """Fold what an earlier run left in the spool, then keep folding every `interval_s`."""
        self._thread = threading.Thread(target=self._run, name="tierwise-folder", daemon=True)
        self._thread.start()

    def abort(self) -> None:
        """Stop folding after the file in hand (a second stop signal); unfolded files stay in the spool.

        Safe in a signal handler: it only sets a flag, which the fold checks between files.
        """
        self._aborted = True

    def stop(self, final_fold: bool = True, lock_wait_s: float = 5.0) -> FoldResult:
        """Stop the thread; by default fold once more so a clean shutdown leaves an empty spool.

        A reader holding the store (the dashboard, a CLI query) only holds it briefly, so the final fold retries for up
        to `lock_wait_s` before leaving the files to the next start.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if not final_fold:
            return FoldResult()
        deadline = time.monotonic() + lock_wait_s
        total = FoldResult()
        while True:
            result = self.fold_once()
            total = FoldResult(total.folded + result.folded, total.failed + result.failed,
                               total.accepted + result.accepted, result.locked)
            if self._aborted or not self.spool.ready():
                return total
            if result.locked:
                if time.monotonic() > deadline:
                    return total
                time.sleep(0.5)
            elif not (result.folded or result.failed):
                return total  # a file the loader cannot take and cannot set aside: leave it for the next start
