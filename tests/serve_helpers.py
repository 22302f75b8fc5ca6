"""Helpers for the tests that run the dashboard as a real process: a free port, and `tierwise serve` until healthy."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(db: Path, cwd: Path, extra: Sequence[str] = (), port: int | None = None, *, log: Path | None = None,
            start_s: float = 60, clean_exit: bool = False) -> Iterator[str]:
    """`tierwise serve` on the store at `db` (a free port unless given), no TIERWISE_* variable of the developer's;
    yields its base URL once /_stcore/health answers (within `start_s`), and stops its process group afterwards.
    With `log`, the server's stdout and stderr go there and are shown if it does not start. With `clean_exit`, the
    stop is SIGTERM to `tierwise serve` alone (app/serve.py stops its child's group on it), which must exit 0."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(port),
                                 "--address", "127.0.0.1", *extra], cwd=cwd, env=env, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    if log:
                        raise AssertionError(f"tierwise serve did not start:\n{log.read_text(errors='replace')}") from None
                    raise
                time.sleep(0.3)
        yield base
    finally:
        if clean_exit:
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(timeout=30) == 0, log.read_text(errors="replace") if log else "tierwise serve exit code"
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
