"""Helpers for the tests that run the OTLP receiver as a real process: `tierwise receive` until it listens."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TIERWISE = Path(sys.executable).with_name("tierwise")
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


def _default_signals() -> None:
    """In the child: the stop signals as a fresh process has them, whatever the test runner ignores (nohup)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def start_receiver(db: Path, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`tierwise receive` on `port`, its stderr in `log` (a file, so a chatty child can never block on a full pipe);
    returned once the port takes connections."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(TIERWISE), "receive", "--db", str(db), "--port", str(port), *extra],
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_default_signals)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(10)
                raise RuntimeError(f"receiver did not start: {log.read_text()!r}") from None
            time.sleep(0.05)
