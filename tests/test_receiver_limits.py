"""The receiver's admission rules: the bearer scheme in any case, and one in-flight budget for the whole process."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_receiver import json_span, post, receiver, rows, traces_doc

from ingest.receiver.server import InflightBudget, Receiver


def test_bearer_scheme_is_case_insensitive(db_path: Path) -> None:
    with receiver(db_path, token="s3cret") as rx:
        url = f"{rx.url}/v1/traces"
        for i, header in enumerate(["Bearer s3cret", "bearer s3cret", "BEARER s3cret", "bEaReR  s3cret"], start=1):
            assert post(url, traces_doc([json_span(i)]), headers={"Authorization": header})[0] == 200, header
        for header in ["bearer wrong", "Basic s3cret", "bearers3cret", "s3cret", "Bearer", "bearer s3cret2"]:
            assert post(url, traces_doc([json_span(99)]), headers={"Authorization": header})[0] == 401, header
        assert len(rx.spool.ready()) == 4


def test_budget_lets_a_lone_request_pass_and_refuses_growth_beside_others() -> None:
    budget = InflightBudget(100)
    assert budget.grow(0, 250)  # alone: a body larger than the budget must still be able to get in
    assert not budget.grow(0, 1)  # anyone else waits
    assert budget.grow(250, 300)  # the lone request may still grow (its body turned out larger once decompressed)
    budget.release(300)
    assert budget.grow(0, 60) and budget.grow(0, 40)
    assert not budget.grow(40, 41) and budget.used == 100
    budget.release(60)
    budget.release(40)
    assert budget.used == 0


def body_of(first: int, n: int) -> bytes:
    return traces_doc([json_span(first + k) for k in range(n)])


def wait_until_held(rx: Receiver, deadline_s: float = 20) -> None:
    deadline = time.monotonic() + deadline_s
    while rx.budget.used == 0:
        assert time.monotonic() < deadline, "the held request never took its share of the budget"
        time.sleep(0.01)


class HeldRequest:
    """A request whose headers (with Content-Length) and half its body are sent, the rest only when asked."""

    def __init__(self, rx: Receiver, body: bytes) -> None:
        self.body = body
        self.sock = socket.create_connection((rx.config.host, rx.config.port), timeout=30)
        head = (f"POST /v1/traces HTTP/1.1\r\nHost: {rx.config.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        self.sock.sendall(head + body[:len(body) // 2])
        wait_until_held(rx)

    def finish(self) -> int:
        """Send the rest; the status of the answer."""
        self.sock.sendall(self.body[len(self.body) // 2:])
        answer = b""
        while b"\r\n" not in answer:
            piece = self.sock.recv(4096)
            assert piece, "connection closed without an answer"
            answer += piece
        self.sock.close()
        return int(answer.split(b" ", 2)[1])


def test_requests_beyond_the_in_flight_budget_get_503_with_retry_after(db_path: Path) -> None:
    with receiver(db_path, max_inflight_bytes=64 * 1024) as rx:
        url = f"{rx.url}/v1/traces"
        held = HeldRequest(rx, body_of(1, 500))  # ~120 KiB: alone, it may pass the 64 KiB budget
        status, headers, _ = post(url, body_of(1000, 10))
        assert status == 503 and int(headers["retry-after"]) >= 1

        def chunked() -> Iterator[bytes]:  # no Content-Length: the budget is taken as the chunks arrive
            body = body_of(2000, 10)
            yield from (body[i:i + 100] for i in range(0, len(body), 100))
        req = urllib.request.Request(url, data=chunked(), method="POST", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=30)
        assert refused.value.code == 503 and refused.value.headers["Retry-After"] == "1"

        assert held.finish() == 200
        assert rx.budget.used == 0
        assert post(url, body_of(3000, 10))[0] == 200
        rx.folder.fold_once()
    stored = {r[0] for r in rows(db_path, "SELECT span_id FROM spans")}
    assert stored == {f"{i:016x}" for i in [*range(1, 501), *range(3000, 3010)]}


def test_concurrent_large_requests_some_refused_none_lost(db_path: Path) -> None:
    """Four clients post ~1 MiB bodies against a 512 KiB budget, retrying on 503; every one is stored exactly once."""
    statuses: list[int] = []
    saw_503 = threading.Event()
    with receiver(db_path, max_inflight_bytes=512 * 1024) as rx:
        url = f"{rx.url}/v1/traces"
        held = HeldRequest(rx, body_of(1, 2000))  # guarantees the clients' first tries overlap a request in flight

        def client(c: int) -> None:
            for r in range(3):
                body = body_of(100_000 * (c + 1) + r * 4000, 4000)
                for _ in range(400):
                    status, headers, _ = post(url, body)
                    statuses.append(status)
                    if status == 200:
                        break
                    assert status == 503 and int(headers["retry-after"]) >= 1
                    saw_503.set()
                    time.sleep(0.05)  # shorter than Retry-After, to keep the test quick
                else:
                    raise AssertionError("never admitted")

        errors: list[BaseException] = []

        def run(c: int) -> None:
            try:
                client(c)
            except BaseException as e:  # surfaced in the test thread below
                errors.append(e)
        threads = [threading.Thread(target=run, args=(c,)) for c in range(4)]
        for t in threads:
            t.start()
        assert saw_503.wait(60), "no client was refused while a request held the budget"
        assert held.finish() == 200
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert not any(t.is_alive() for t in threads)
        assert rx.budget.used == 0
        rx.folder.fold_once()
    assert statuses.count(200) == 12 and statuses.count(503) >= 1
    assert rows(db_path, "SELECT count(*), count(DISTINCT span_id) FROM spans") == [(2000 + 12 * 4000, 2000 + 12 * 4000)]
