"""Readers while a writer holds the store: the CLI waits, then says so in one line; pages keep their last good data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from ingest_helpers import TINY, isolated, run_cli, tiny_store
from test_app_pages import fresh_cache, open_page

from app import connection

__all__ = ["fresh_cache"]
# A writer as `tierwise ingest` or a receiver's fold is one: a read-write connection, held until told to let go.
HOLDER = ("import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.readline(); "
          "con.close()")
READERS = {
    "query": ["query", "latency_by_tier"],
    "summary": ["summary"],
    "recommend": ["recommend"],
    "whatif": ["whatif", "--workload", "triage", "--to", "edge"],
    "export-focus": ["export", "focus", "--out", "focus.csv"],
    "metric": ["metric", "requests", "--by", "tier"],
    "quarantine": ["quarantine"],
}


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_store(tmp_path_factory.mktemp("busy"), ("traces.jsonl", "bills-focus.csv"))


@contextmanager
def writer_holding(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the store's write lock until the block ends (or its stdin is closed earlier)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        release(proc)


def release(proc: subprocess.Popen[str]) -> None:
    if proc.stdin is not None and not proc.stdin.closed:
        proc.stdin.close()
    proc.wait(timeout=20)


def tierwise(args: list[str], db: Path, cwd: Path, wait_s: str) -> subprocess.Popen[str]:
    """`tierwise ARGS --db DB` as its own process, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")} | {connection.ENV_LOCK_WAIT: wait_s}
    return subprocess.Popen([sys.executable, "-m", "app.cli", *args, "--db", str(db)], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("command", READERS, ids=list(READERS))
def test_a_reader_gives_up_on_a_held_lock_in_one_line(command: str, tiny_db: Path, tmp_path: Path) -> None:
    with writer_holding(tiny_db) as holder:
        t = time.perf_counter()
        out, err = tierwise(READERS[command], tiny_db, tmp_path, "0.4").communicate(timeout=60)
        took = time.perf_counter() - t
        assert holder.poll() is None  # still holding: the reader really met the lock
    assert "Traceback" not in err + out
    lines = [line for line in (err + out).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert str(tiny_db) in lines[0] and "holds its lock" in lines[0] and "tierwise" in lines[0]
    assert "busy" in lines[0] and connection.ENV_LOCK_WAIT in lines[0] and took > 0.4


def test_a_reader_succeeds_when_the_writer_lets_go_within_the_wait(tiny_db: Path, tmp_path: Path) -> None:
    with writer_holding(tiny_db) as holder:
        readers = [tierwise(READERS[c], tiny_db, tmp_path, "30") for c in ("query", "metric", "export-focus")]
        time.sleep(1.5)  # the readers have started and are waiting
        assert all(r.poll() is None for r in readers)
        release(holder)
        done = [r.communicate(timeout=60) for r in readers]
    for r, (out, err) in zip(readers, done, strict=True):
        assert r.returncode == 0, err
        assert "Traceback" not in err and out.strip()
    assert "Requests" in done[1][0] and (tmp_path / "focus.csv").stat().st_size > 0


# A receiver under load: a fold pass, the 0.5 s it leaves readers (spool.READER_GAP_S), then the next pass.
PASSES = ("import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(2.0); "
          "con.close(); time.sleep(0.5)\n"
          "while True:\n"
          "    try:\n"
          "        con = duckdb.connect(sys.argv[1]); break\n"
          "    except duckdb.IOException:\n"
          "        time.sleep(0.01)\n"
          "sys.stdin.readline(); con.close()")


def test_a_reader_gets_in_between_two_fold_passes(tiny_db: Path) -> None:
    """Tries at most MAX_PAUSE_S apart land in a 0.5 s gap; backing off to 1 s stepped over this one (1.55 → 2.55 s)."""
    proc = subprocess.Popen([sys.executable, "-c", PASSES, str(tiny_db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        con = connection.read_only(tiny_db, 6.0)  # StoreBusy, a failure here, if every try met a pass
        assert con.execute("SELECT count(*) FROM spans").fetchone() is not None
        con.close()
    finally:
        release(proc)


@pytest.mark.parametrize("command", READERS, ids=list(READERS))
def test_a_db_that_is_not_a_store_is_one_line(command: str, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("not a database\n" * 50, encoding="utf-8")
    with isolated(tmp_path):
        result = run_cli(*READERS[command], "--db", str(bogus))  # an exception would fail the test itself
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"Error: {bogus} is not a DuckDB store: check --db (or TIERWISE_DB); `tierwise ingest --db FILE` "
                     "creates one."]


def test_a_writer_meeting_a_held_lock_is_one_line_too(tiny_db: Path, tmp_path: Path) -> None:
    with writer_holding(tiny_db):
        result = run_cli("ingest", "--quiet", "--db", str(tiny_db), str(TINY / "metrics.jsonl"))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and "is in use" in lines[0], lines


def test_the_wait_is_configured_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert connection.lock_wait_s() == connection.DEFAULT_LOCK_WAIT_S
    monkeypatch.setenv(connection.ENV_LOCK_WAIT, "2.5")
    assert connection.lock_wait_s() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(connection.ENV_LOCK_WAIT, bad)
        with pytest.raises(ValueError, match=connection.ENV_LOCK_WAIT):
            connection.lock_wait_s()
    result = run_cli("summary", "--db", "x.duckdb")
    assert result.exit_code == 2 and connection.ENV_LOCK_WAIT in result.output


def test_a_page_keeps_its_last_good_data_while_a_fold_holds_the_store(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "live.duckdb"
    with isolated(tmp_path):
        assert run_cli("ingest", "--quiet", "--db", str(db), str(TINY / "traces.jsonl")).exit_code == 0
    monkeypatch.setattr(connection, "PAGE_LOCK_WAIT_S", 0.3)
    first = open_page(db, "overview", monkeypatch)
    assert not first.exception and not first.warning
    charts = len(first.get("plotly_chart"))
    with isolated(tmp_path):  # the store changes (a fold committed), then a writer holds it
        assert run_cli("ingest", "--quiet", "--db", str(db), str(TINY / "bills-focus.csv")).exit_code == 0
    time.sleep(1.1)
    with writer_holding(db):
        busy = open_page(db, "overview", monkeypatch)
    assert not busy.exception, [e.value for e in busy.exception]
    notes = [w.value for w in busy.warning]
    assert len(notes) == 1 and notes[0].startswith("Data as of ") and "store is busy" in notes[0], notes
    seconds = int(notes[0].removeprefix("Data as of ").split(" s ago")[0])
    assert 1 <= seconds < 60
    assert len(busy.get("plotly_chart")) == charts and busy.title[0].value == first.title[0].value
    after = open_page(db, "overview", monkeypatch)  # the writer is gone: the new data, no notice
    assert not after.exception and not after.warning


def test_a_page_without_earlier_data_says_the_store_is_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "new.duckdb"
    with isolated(tmp_path):
        assert run_cli("ingest", "--quiet", "--db", str(db), str(TINY / "traces.jsonl")).exit_code == 0
    monkeypatch.setattr(connection, "PAGE_LOCK_WAIT_S", 0.3)
    with writer_holding(db):
        at = open_page(db, "slow-paths", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert any("is busy" in w.value for w in at.warning)


def test_a_file_that_is_not_a_store_is_named_as_such_not_as_busy(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("not a database\n" * 100, encoding="utf-8")
    at = open_page(bogus, "overview", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error if "is not a tierwise store" in e.value]
    assert not [w.value for w in at.warning if "busy" in w.value]
