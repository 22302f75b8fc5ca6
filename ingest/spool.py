"""The receiver's durable spool: accepted OTLP bodies as atomic files, folded into DuckDB by one background thread."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest import loader, store
from ingest.settings import Settings

log = logging.getLogger("tierwise.spool")
SIGNALS = ("traces", "metrics")
SUFFIX = {"proto": ".binpb", "json": ".json"}
FAILED_DIR = "failed"


def default_spool_dir(db_path: Path) -> Path:
    """`<db>.spool/` beside the store."""
    return db_path.with_name(db_path.name + ".spool")


def frame(message: bytes) -> bytes:
    """One protobuf message in the Collector's framed file format (4-byte big-endian length, then bytes)."""
    return len(message).to_bytes(4, "big") + message


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

    def write(self, signal: str, fmt: str, body: bytes) -> Path:
        """Make `body` durable: temp file, fsync, atomic rename, fsync of the folder."""
        with self._lock:
            self._seq += 1
            name = f"{time.time_ns():020d}-{self._seq:09d}-{signal}{SUFFIX[fmt]}"
        tmp = self.directory / f".tmp-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            final = self.directory / name
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)
        with self._lock:
            self._backlog_bytes += len(body)
        return final

    def forget(self, path: Path, size: int) -> None:
        """Drop a folded file from the spool and the backlog count."""
        path.unlink(missing_ok=True)
        with self._lock:
            self._backlog_bytes = max(0, self._backlog_bytes - size)


def _set_aside(spool: Spool, path: Path, size: int) -> None:
    failed = spool.directory / FAILED_DIR
    failed.mkdir(exist_ok=True)
    os.replace(path, failed / path.name)
    spool.forget(path, size)


class Folder:
    """Folds ready spool files into the store, holding the DuckDB write lock only while it does."""

    def __init__(self, spool: Spool, settings: Settings, interval_s: float = 2.0) -> None:
        self.spool = spool
        self.settings = settings
        self.interval_s = interval_s
        self._fold_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._aborted = False  # a plain flag: set from a signal handler, where taking a lock could deadlock
        self._thread: threading.Thread | None = None

    def fold_once(self) -> FoldResult:
        """Ingest every ready file, close the store, then delete what was folded; a locked store waits."""
        with self._fold_lock:
            files = self.spool.ready()
            if not files:
                return FoldResult()
            try:
                con = store.open_writer(self.settings.db_path, self.settings.writer_memory)
            except duckdb.IOException as e:  # another process holds the store: try again next pass
                log.warning("store is busy, %d spool files wait: %s", len(files), e)
                return FoldResult(locked=True)
            done: list[tuple[Path, int]] = []
            bad: list[tuple[Path, int]] = []
            accepted = 0
            try:
                for path in files:
                    if self._aborted:  # stopping in a hurry: the rest waits in the spool for the next start
                        break
                    size = path.stat().st_size
                    try:
                        res = loader.ingest_file(con, path, self.settings, signal=signal_of(path))
                    except duckdb.Error as e:
                        log.error("folding %s failed, left in the spool: %s", path.name, e)
                        break
                    accepted += res.accepted
                    (done if res.ok else bad).append((path, size))
                    if not res.ok:
                        log.error("spool file %s is %s (%s): moved to %s/", path.name, res.status, res.message,
                                  FAILED_DIR)
            finally:
                con.close()
            for path, size in done:
                self.spool.forget(path, size)
            for path, size in bad:
                _set_aside(self.spool, path, size)
            if done or bad:
                _fsync_dir(self.spool.directory)
            return FoldResult(len(done), len(bad), accepted)

    def wake(self) -> None:
        """Ask for a fold pass now instead of at the next interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.fold_once()
            except Exception:  # keep folding later; the files stay in the spool
                log.exception("fold pass failed")
            self._wake.wait(self.interval_s)
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
        while True:
            result = self.fold_once()
            if not result.locked or self._aborted or time.monotonic() > deadline:
                return result
            time.sleep(0.5)
