"""Accept/dismiss decisions under concurrency and damage: every write kept, a damaged file set aside in one line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ingest_helpers import tiny_store
from test_app_pages import fresh_cache, open_page

from queries import decisions

__all__ = ["fresh_cache"]
# One process accepting 50 recommendations, starting at an agreed moment so that two of them overlap.
ACCEPTOR = """
import sys, time
from pathlib import Path
from queries import decisions
db, who, start = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
for i in range(50):
    decisions.record(db, decisions.key(f"{who}-{i}", "hyperscale", "edge", "rule"), "accepted", by=who)
"""


def test_two_processes_accepting_50_each_keep_all_100(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", ACCEPTOR, str(db), who, str(start)]) for who in ("ana", "bo")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    made = decisions.load(db)
    assert len(made) == 100
    assert {d.by for d in made.values()} == {"ana", "bo"} and {d.state for d in made.values()} == {"accepted"}
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.corrupt-*"))


@pytest.mark.parametrize("text", ['{"a|edge|hyperscale|r": {"state": "accepted", "at": "2026-',  # truncated
                                  "", "\x00\x00\x00", "[1, 2]", '{"k": {"state": "maybe", "at": "x"}}', "\udcff"],
                         ids=["truncated", "empty", "zeros", "a-list", "bad-state", "not-utf8"])
def test_a_damaged_file_is_set_aside_and_said_in_one_line(text: str, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "x.duckdb"
    path = decisions.path_for(db)
    raw = text.encode("utf-8", "surrogateescape")
    path.write_bytes(raw)
    with caplog.at_level(logging.WARNING, logger="tierwise.decisions"):
        loaded = decisions.read(db)
    assert loaded.decisions == {} and "\n" not in loaded.problem and "set aside" in loaded.problem
    assert [r.getMessage() for r in caplog.records] == [loaded.problem]
    aside = list(tmp_path.glob("x.duckdb.decisions.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == raw and aside[0].name in loaded.problem
    assert not path.exists() and decisions.read(db).problem == ""  # reported once
    decisions.record(db, "k", "dismissed")
    assert decisions.load(db)["k"].state == "dismissed"


def test_recording_over_a_damaged_file_sets_it_aside_and_keeps_the_new_decision(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    decisions.path_for(db).write_text('{"k": {"state": "acc', encoding="utf-8")
    done = decisions.record(db, "j", "accepted")
    assert set(decisions.load(db)) == {"j"} and len(list(tmp_path.glob("*.corrupt-*"))) == 1
    assert "set aside" in done.problem and "\n" not in done.problem  # the page that made the decision says so
    assert decisions.record(db, "k", "dismissed").problem == ""


def test_who_decided_is_kept_when_known(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    decisions.record(db, "a", "accepted", by="ana@example.com")
    decisions.record(db, "b", "dismissed")
    made = decisions.load(db)
    assert made["a"].by == "ana@example.com" and made["b"].by is None
    raw = json.loads(decisions.path_for(db).read_text(encoding="utf-8"))
    assert raw["a"]["by"] == "ana@example.com" and "by" not in raw["b"]  # files without `by` read as before


@pytest.fixture
def tiny_db(tmp_path: Path) -> Path:
    return tiny_store(tmp_path, ("traces.jsonl", "bills-focus.csv"))


def test_pages_with_a_truncated_decisions_file_warn_and_carry_on(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = decisions.path_for(tiny_db)
    decisions.record(tiny_db, "a|edge|hyperscale|r", "accepted")
    path.write_bytes(path.read_bytes()[:20])  # a crash mid-write by an older version, a full disk
    at = open_page(tiny_db, "recommendations", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and "set aside" in notes[0] and "\n" not in notes[0]
    path.write_text("{", encoding="utf-8")  # damaged again after the page was drawn, before the click
    at.button(key="accept_0").click().run()
    assert not at.exception and at.button(key="accept_0").disabled
    assert [w.value for w in at.warning if "set aside" in w.value], "the click's page did not say the file was set aside"
    made = decisions.load(tiny_db)
    assert len(made) == 1 and next(iter(made.values())).by is None  # no login: nobody is named
    path.write_text("{", encoding="utf-8")
    ex = open_page(tiny_db, "executive", monkeypatch)
    assert not ex.exception, [e.value for e in ex.exception]
    assert any("set aside" in w.value for w in ex.warning)
