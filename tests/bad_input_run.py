"""Running bad-input cases through the real `tierwise ingest` and `tierwise quarantine` (in-process, CliRunner), each
into a fresh copy of an empty store, in worker processes that are killed and replaced when a case passes the time limit
or takes its process down."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import duckdb
from bad_input_corpus import Case
from bad_input_judge import Outcome

TIME_LIMIT_S = 30.0  # a case takes well under a second; this is for a hang, and for a shared, busy machine
STARTUP_S = 120.0


def empty_store(directory: Path) -> Path:
    """A migrated store with nothing in it, to copy for each case (migrating costs more than most cases)."""
    import store

    db = directory / "empty.duckdb"
    con = store.connect(db)
    try:
        store.migrate(con)
    finally:
        con.close()
    return db


def run_case(case: Case, template: Path, workdir: Path, cli: Any) -> Outcome:
    """`tierwise ingest --db <fresh store> FILE`, then `tierwise quarantine`, and what the store holds afterwards."""
    from click.testing import CliRunner

    where = workdir / f"case{case.index}"
    where.mkdir()
    try:
        src, db = where / case.filename, where / "store.duckdb"
        src.write_bytes(case.data)
        shutil.copyfile(template, db)
        start = time.perf_counter()
        res = CliRunner().invoke(cli, ["ingest", "--quiet", "--db", str(db), str(src)])
        seconds = time.perf_counter() - start
        exception = ""
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            at = traceback.extract_tb(res.exc_info[2])[-1] if res.exc_info else None
            exception = f"{type(res.exception).__name__}: {str(res.exception)[:300]}" + (
                f" (at {Path(at.filename).name}:{at.lineno})" if at else "")
        shown = CliRunner().invoke(cli, ["quarantine", "--db", str(db), "--limit", "100000"])
        stored, status = _stored(db, str(src))
        return Outcome(case.index, str(src), res.exit_code, exception, res.output, shown.exit_code, shown.output,
                       stored, status, seconds)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _stored(db: Path, source: str) -> tuple[int, str]:
    """Spans, metric points and cost rows in the store, and the file's status in its ledger."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return 0, ""
    try:
        [(rows,)] = con.execute("SELECT (SELECT count(*) FROM spans) + (SELECT count(*) FROM metric_points) "
                                "+ (SELECT count(*) FROM costs)").fetchall()
        status = con.execute("SELECT status FROM ingest_files WHERE source = $s", {"s": source}).fetchall()
        return int(rows), str(status[0][0]) if status else ""
    finally:
        con.close()


def serve(conn: Connection, template: str, workdir: str) -> None:
    """A worker: cases in, outcomes out, until None; run where no TIERWISE_* setting of the caller applies."""
    for key in [k for k in os.environ if k.startswith("TIERWISE_")]:
        del os.environ[key]
    os.chdir(workdir)
    from app.cli import cli

    conn.send("ready")
    while (case := conn.recv()) is not None:
        conn.send(run_case(case, Path(template), Path(workdir), cli))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    case: Case | None = None
    deadline: float = 0.0


class _Pool:
    """Worker processes started with `spawn`, each in a folder of its own under `root`."""

    def __init__(self, root: Path, template: Path, size: int) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.root, self.template, self.started = root, template, 0
        self.workers = [self._start() for _ in range(size)]
        for w in self.workers:
            self._ready(w)

    def _start(self) -> _Worker:
        self.started += 1
        workdir = self.root / f"worker{self.started}"
        workdir.mkdir()
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=serve, args=(child, str(self.template), str(workdir)), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    @staticmethod
    def _ready(w: _Worker) -> None:
        if not w.conn.poll(STARTUP_S) or w.conn.recv() != "ready":
            raise RuntimeError("a bad-input worker did not start")

    def _replace(self, w: _Worker, hung: bool) -> Outcome:
        """End a worker that hung or died (it is ours: killed by its own handle) and start another in its place."""
        assert w.case is not None
        index = w.case.index
        if not hung:
            w.process.join(10)
        w.process.kill()
        w.process.join()
        died = "" if hung else f"the process running the case ended (exit code {w.process.exitcode})"
        w.conn.close()
        fresh = self._start()
        self._ready(fresh)
        self.workers[self.workers.index(w)] = fresh
        return Outcome(index, "", hung=hung, died=died)

    def run(self, cases: Sequence[Case], limit_s: float) -> list[Outcome]:
        todo, done = deque(cases), dict[int, Outcome]()
        while todo or any(w.case for w in self.workers):
            for w in self.workers:
                if w.case is None and todo:
                    w.case, w.deadline = todo.popleft(), time.monotonic() + limit_s
                    w.conn.send(w.case)
            busy = [w for w in self.workers if w.case is not None]
            ready = wait([w.conn for w in busy], max(0.0, min(w.deadline for w in busy) - time.monotonic()))
            for w in busy:
                index = w.case.index if w.case is not None else -1
                if w.conn in ready:
                    try:
                        done[index] = w.conn.recv()
                        w.case = None
                    except (EOFError, OSError):
                        done[index] = self._replace(w, hung=False)
                elif time.monotonic() > w.deadline:
                    done[index] = self._replace(w, hung=True)
        return [done[c.index] for c in cases]

    def close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):  # a worker that already ended
                w.conn.send(None)
        for w in self.workers:
            w.process.join(10)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()


def run_cases(cases: Sequence[Case], workers: int = 2, limit_s: float = TIME_LIMIT_S) -> list[Outcome]:
    """The outcome of every case, in order; `workers` processes run them side by side."""
    with tempfile.TemporaryDirectory(prefix="tierwise-bad-input-") as tmp:
        root = Path(tmp)
        pool = _Pool(root, empty_store(root), workers)
        try:
            return pool.run(cases, limit_s)
        finally:
            pool.close()
