"""The receiver as a real process stopped by real signals: everything answered 200 ends up in the store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from receiver_helpers import STOP_SIGNALS, start_receiver
from serve_helpers import free_port
from test_receiver import json_span, post, rows, sdk_spans, traces_doc

from ingest.receiver.spool import default_spool_dir


def stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    """Send `sig` and wait (bounded) for the process to exit; its exit status."""
    os.kill(proc.pid, sig)
    try:
        return proc.wait(90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


@pytest.mark.slow
@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_every_stop_signal_folds_what_was_answered_200(db_path: Path, tmp_path: Path, sig: int) -> None:
    port, log = free_port(), tmp_path / "receiver.log"
    proc = start_receiver(db_path, port, log, "--fold-interval", "60")  # no periodic fold: only the final one can store them
    url = f"http://127.0.0.1:{port}/v1/traces"
    try:
        spans = sdk_spans(300)
        exporter = OTLPSpanExporter(endpoint=url, compression=Compression.Gzip, timeout=10)
        for i in range(0, len(spans), 50):
            assert exporter.export(spans[i:i + 50]) == SpanExportResult.SUCCESS
        exporter.shutdown()
        answered = {f"{s.context.span_id:016x}" for s in spans}
        sent: set[str] = set()
        first_answer = threading.Event()

        def keep_posting() -> None:
            """Plain JSON posts right through the signal, until the receiver stops taking connections."""
            deadline = time.monotonic() + 60
            for r in range(1, 10_000):
                ids = [1_000_000 + r * 10 + k for k in range(10)]
                sent.update(f"{i:016x}" for i in ids)
                try:
                    status = post(url, traces_doc([json_span(i) for i in ids]))[0]
                except (OSError, urllib.error.URLError):
                    return
                if status == 200:
                    answered.update(f"{i:016x}" for i in ids)
                    first_answer.set()
                if time.monotonic() > deadline:
                    return

        poster = threading.Thread(target=keep_posting)
        poster.start()
        assert first_answer.wait(30), "no JSON post was answered"
        assert default_spool_dir(db_path).exists() and len(list(default_spool_dir(db_path).glob("*-traces.*"))) > 0
        status = stop(proc, sig)
        poster.join(60)
        assert not poster.is_alive()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text()
    assert status == 0, text
    assert "Traceback" not in text and "final fold" in text, text
    stored = {r[0] for r in rows(db_path, "SELECT span_id FROM spans")}
    assert rows(db_path, "SELECT count(*) - count(DISTINCT span_id) FROM spans") == [(0,)]
    assert answered <= stored, f"{len(answered - stored)} spans answered 200 are not in the store"
    assert stored <= answered | sent
    assert [p for p in default_spool_dir(db_path).iterdir() if p.is_file()] == []


@pytest.mark.slow
def test_a_client_gone_mid_body_is_one_log_line(db_path: Path, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "receiver.log"
    proc = start_receiver(db_path, port, log, "--fold-interval", "60")
    try:
        head = (f"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(head + b'{"resourceSpans": [{"scopeSpans": [')  # then the client goes away
        assert post(f"http://127.0.0.1:{port}/v1/traces", traces_doc([json_span(1)]))[0] == 200
        assert stop(proc, signal.SIGTERM) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text()
    assert "Traceback" not in text and "ClientDisconnect" not in text and "Exception in ASGI" not in text, text
    gone = [line for line in text.splitlines() if "disconnected" in line]
    assert len(gone) == 1 and "/v1/traces" in gone[0] and "nothing was stored" in gone[0], text
    assert rows(db_path, "SELECT span_id FROM spans") == [("0000000000000001",)]


@pytest.mark.slow
def test_a_second_signal_leaves_the_rest_to_the_next_start(db_path: Path, tmp_path: Path) -> None:
    """Impatient stop: the final fold ends after the file in hand; a restart folds the rest, nothing lost or doubled."""
    port, log = free_port(), tmp_path / "receiver.log"
    proc = start_receiver(db_path, port, log, "--fold-interval", "60")
    spool = default_spool_dir(db_path)
    try:
        for r in range(40):  # 40 files take the final fold seconds, so the second signal normally lands inside it
            body = traces_doc([json_span(r * 100 + k + 1) for k in range(100)])
            assert post(f"http://127.0.0.1:{port}/v1/traces", body)[0] == 200
        os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while "stopping on SIGTERM" not in log.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        status = stop(proc, signal.SIGTERM) if proc.poll() is None else proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text()
    left = [p for p in spool.iterdir() if p.is_file()]
    assert "Traceback" not in text, text
    if left:  # the usual case: cut short, and said so
        assert status == 1 and f"{len(left)} spool files were not folded" in text, text
    else:  # the fold won the race
        assert status == 0, text
    proc = start_receiver(db_path, port, log, "--fold-interval", "0.2")
    try:
        deadline = time.monotonic() + 60
        while [p for p in spool.iterdir() if p.is_file()]:
            assert time.monotonic() < deadline, "the restarted receiver did not fold the spool"
            time.sleep(0.1)
        assert stop(proc, signal.SIGTERM) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert rows(db_path, "SELECT count(*), count(DISTINCT span_id) FROM spans") == [(4000, 4000)]
