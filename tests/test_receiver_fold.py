"""The receiver's fold: requests decoded once, many spooled requests per transaction, old and damaged spool files."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from test_receiver import json_span, post, receiver, rows, traces_doc

import store
from ingest.receiver import spool as spool_module
from ingest.receiver.decoders import Decoders, accept
from ingest.receiver.spool import FAILED_DIR, Folder, Spool
from ingest.sinks import loader
from store import derived
from store.settings import Settings, load_settings


def _requests(n: int) -> list[bytes]:
    return [traces_doc([json_span(r * 10 + k) for k in range(1, 4)]) for r in range(n)]


def _spooled_one_per_group(db_path: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Spool]:
    """n decoded requests in a spool, with settings under which every request is a group of its own."""
    monkeypatch.setenv("TIERWISE_COMMIT_SPANS", "1")
    settings = load_settings(db=db_path)
    spool = Spool(db_path.with_name("spool"))
    for body in _requests(n):
        spool.write("traces", accept("traces", "json", body, settings).spooled or b"")
    return settings, spool


def test_many_spooled_requests_fold_in_one_transaction(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refreshes: list[int] = []
    real = derived.refresh

    def counted(con: object, view: str) -> None:
        refreshes.append(1)
        real(con, view)  # type: ignore[arg-type]
    monkeypatch.setattr(loader.derived, "refresh", counted)
    bodies = _requests(6)
    with receiver(db_path) as rx:
        for body in bodies:
            assert post(f"{rx.url}/v1/traces", body)[0] == 200
        assert post(f"{rx.url}/v1/traces", bodies[0])[0] == 200  # an exporter's retry of the first request
        done = rx.folder.fold_once()
    assert (done.folded, done.accepted, len(refreshes)) == (7, 18, 1)
    assert rows(db_path, "SELECT count(*), count(DISTINCT span_id) FROM spans") == [(18, 18)]
    assert rows(db_path, "SELECT count(*), min(format), min(status), sum(rows_accepted) FROM ingest_files") == [
        (6, "spooled", "complete", 18)]
    # one ledger row per request, each with its own counts, though written in one statement for the group
    assert rows(db_path, "SELECT f.rows_accepted, f.rows_rejected, b.batch_index, b.rows_accepted, f.completed_at "
                         "IS NOT NULL FROM ingest_files f JOIN ingest_batches b USING (content_sha256)") == [
        (3, 0, 0, 3, True)] * 6


def test_a_pass_stops_after_its_time_and_the_final_fold_takes_the_rest(db_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings, spool = _spooled_one_per_group(db_path, 4, monkeypatch)
    folder = Folder(spool, settings, max_pass_s=0.0)
    assert folder.fold_once().folded == 1  # readers get the store between passes
    assert len(spool.ready()) == 3
    assert folder.stop().folded == 3
    assert spool.ready() == [] and rows(db_path, "SELECT count(*) FROM spans") == [(12,)]


def test_a_committed_group_leaves_the_backlog_before_its_pass_ends(db_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """So exporters are not told to retry while the pass goes on; the files themselves go once the store is closed."""
    settings, spool = _spooled_one_per_group(db_path, 3, monkeypatch)
    sizes = [p.stat().st_size for p in spool.ready()]
    seen: list[tuple[int, int]] = []
    real = loader.commit_files

    def watched(con: Any, files: Any) -> None:
        seen.append((spool.backlog_bytes, len(spool.ready())))
        real(con, files)
    monkeypatch.setattr(spool_module.loader, "commit_files", watched)
    assert Folder(spool, settings).fold_once().folded == 3
    assert seen == [(sum(sizes), 3), (sum(sizes[1:]), 3), (sizes[2], 3)]
    assert spool.backlog_bytes == 0 and spool.ready() == []


def test_a_pass_goes_on_under_load_and_stops_for_a_trickle(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_COMMIT_SPANS", "100")  # a group: about 100 × GROUP_BYTES_PER_SPAN spooled bytes
    settings = load_settings(db=db_path)
    spool = Spool(db_path.with_name("spool"))
    folder = Folder(spool, settings)
    share = 100 * spool_module.GROUP_BYTES_PER_SPAN // spool_module.KEEP_GOING_SHARE
    first = spool.write("traces", b"x" * (share - 2))
    now = spool_module.time.monotonic()
    assert folder._more({first}, now) == []  # what it took is not counted again
    assert folder._more(set(), now) == []  # a trickle: under a share of a group waits
    second = spool.write("traces", b"x" * 2)
    assert folder._more({second}, now) == [] and folder._more(set(), now) == [first, second]
    assert folder._more(set(), now - folder.max_pass_s - 1) == []  # no time left in the pass


def test_an_older_versions_spool_file_and_a_damaged_one(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(db=db_path)
    spool = Spool(db_path.with_name("spool"))
    (spool.directory / "00000000000000000001-000000001-traces.json").write_bytes(traces_doc([json_span(1)]))
    (spool.directory / "00000000000000000002-000000001-traces.arrow").write_bytes(b"ARROW1 cut short")
    spool.write("traces", accept("traces", "json", traces_doc([json_span(2)]), settings).spooled or b"")
    with caplog.at_level(logging.ERROR, "tierwise.spool"):
        done = Folder(spool, settings).fold_once()
    assert (done.folded, done.failed) == (2, 1)
    assert sorted(rows(db_path, "SELECT span_id FROM spans")) == [(f"{i:016x}",) for i in (1, 2)]
    assert [p.name for p in (spool.directory / FAILED_DIR).iterdir()] == ["00000000000000000002-000000001-traces.arrow"]
    assert "is unreadable" in caplog.text


def test_a_metrics_body_holding_spans_stores_no_span(db_path: Path) -> None:
    body = json.dumps({"resourceSpans": json.loads(traces_doc([json_span(1)]))["resourceSpans"],
                       "resourceMetrics": []}).encode()
    store.open_writer(db_path).close()
    with receiver(db_path) as rx:
        status, _, answer = post(f"{rx.url}/v1/metrics", body)
        rx.folder.fold_once()
    assert (status, json.loads(answer)) == (200, {})
    assert rows(db_path, "SELECT count(*) FROM spans") == [(0,)]


def test_a_json_body_may_start_with_a_utf8_bom(db_path: Path) -> None:
    with receiver(db_path) as rx:
        assert post(f"{rx.url}/v1/traces", b"\xef\xbb\xbf" + traces_doc([json_span(1)]))[0] == 200
        rx.folder.fold_once()
    assert rows(db_path, "SELECT span_id FROM spans") == [(f"{1:016x}",)]


def test_decoder_processes_answer_as_the_threads_do(db_path: Path) -> None:
    good = traces_doc([json_span(1), json_span(2, trace_id="not-hex")])
    with receiver(db_path, decode_workers=1) as rx:
        assert isinstance(rx.decoders, Decoders)
        status, _, answer = post(f"{rx.url}/v1/traces", good)
        assert status == 200 and int(json.loads(answer)["partialSuccess"]["rejectedSpans"]) == 1
        status, _, answer = post(f"{rx.url}/v1/traces", b"[1, 2")
        assert status == 400 and "not valid JSON" in json.loads(answer)["message"]
        rx.folder.fold_once()
    assert rows(db_path, "SELECT span_id FROM spans") == [(f"{1:016x}",)]
    assert rows(db_path, "SELECT field FROM quarantine") == [("traceId",)]


def test_an_abort_ends_the_fold_after_the_group_in_hand(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a second stop signal does: the rest stays in the spool for the next start, and stop() takes no more."""
    settings, spool = _spooled_one_per_group(db_path, 4, monkeypatch)
    folder = Folder(spool, settings)
    real = spool_module._fold_group

    def then_abort(*args: Any) -> Any:
        done = real(*args)
        folder.abort()  # as the signal handler does, between two groups
        return done
    monkeypatch.setattr(spool_module, "_fold_group", then_abort)
    assert folder.stop().folded == 1
    assert len(spool.ready()) == 3 and rows(db_path, "SELECT count(*) FROM spans") == [(3,)]


def test_a_dead_decoder_process_costs_one_retry(db_path: Path) -> None:
    with receiver(db_path, decode_workers=1) as rx:
        assert post(f"{rx.url}/v1/traces", traces_doc([json_span(1)]))[0] == 200
        me = psutil.Process()
        decoders = [c for c in me.children(recursive=True) if c.ppid() != me.pid]  # forked by the forkserver
        assert decoders
        for child in decoders:
            child.kill()  # as the OOM killer would
        psutil.wait_procs(decoders, timeout=10)
        status, headers, _ = post(f"{rx.url}/v1/traces", traces_doc([json_span(2)]))
        assert status == 503 and headers.get("retry-after") == "1"
        assert post(f"{rx.url}/v1/traces", traces_doc([json_span(2)]))[0] == 200  # the exporter's retry
        rx.folder.fold_once()
    assert sorted(rows(db_path, "SELECT span_id FROM spans")) == [(f"{i:016x}",) for i in (1, 2)]
