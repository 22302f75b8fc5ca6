"""`tierwise serve` and `demo --serve` as real processes: loopback by default, busy ports, the ready line, signals."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import psutil  # type: ignore[import-untyped]
import pytest
from ingest_helpers import isolated, run_cli, tiny_store
from serve_helpers import free_port

from app import serve
from app.cli import cli

START_S = 90.0  # bound on a server's start, on 2 shared cores
STOP_S = 30.0  # bound on a stop: SIGTERM, Streamlit's shutdown, SIGKILL after serve.STOP_GRACE_S


def port_is_free(address: str, port: int) -> bool:
    """Whether Streamlit could bind address:port now (as app.serve checks it) and nothing answers on it."""
    if serve.port_problem(address, port) is not None:
        return False
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"no {what} within {timeout_s:g} s"
        time.sleep(0.1)


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaps yet counts: it serves nothing)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def group(pgid: int) -> list[int]:
    """Live processes in process group `pgid`."""
    out = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid and not gone(p.pid):
                out.append(p.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return out


class Run:
    """A process whose stdout and stderr lines are collected, each with the wall-clock time it was read."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out: list[tuple[float, str]] = []
        self.err: list[tuple[float, str]] = []
        self.children: set[int] = set()
        self._readers = [threading.Thread(target=self._read, args=(f, lines), daemon=True)
                         for f, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream: IO[str], lines: list[tuple[float, str]]) -> None:
        for line in stream:
            lines.append((time.time(), line))

    def text(self) -> str:
        return "".join(line for _, line in self.out + self.err)

    def ready_at(self) -> float | None:
        return next((t for t, line in self.out if line.startswith(serve.READY)), None)

    def wait_ready(self) -> float:
        wait_until(lambda: self.ready_at() is not None or self.proc.poll() is not None, START_S, "ready line")
        at = self.ready_at()
        assert at is not None, f"exited {self.proc.returncode} before ready:\n{self.text()}"
        return at

    def child(self) -> int:
        """The pid of the one process the parent started (the Streamlit server)."""
        kids = psutil.Process(self.proc.pid).children()
        assert len(kids) == 1, kids
        self.children.add(int(kids[0].pid))
        return int(kids[0].pid)

    def finish(self) -> int:
        code = self.proc.wait(timeout=STOP_S)
        for t in self._readers:
            t.join(timeout=5)
        return code

    def kill(self) -> None:
        """Cleanup for a failed test: SIGKILL to the parent's group and to every child's group seen."""
        if not gone(self.proc.pid):
            self.children |= {int(c.pid) for c in psutil.Process(self.proc.pid).children()}
        for pgid in (*self.children, self.proc.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_S)


@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store, loaded by the real CLI into a DuckDB file of its own."""
    return tiny_store(tmp_path_factory.mktemp("serve"))


@pytest.fixture
def running() -> Iterator[Callable[[list[str], Path], Run]]:
    """Start processes with `running(argv, cwd)`; anything still alive at the end is killed with its child's group."""
    runs: list[Run] = []

    def start(argv: list[str], cwd: Path) -> Run:
        runs.append(Run(argv, cwd))
        return runs[-1]

    yield start
    for run in runs:
        if run.proc.poll() is None:
            run.kill()


def tierwise(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


@pytest.mark.parametrize(("address", "loopback"), [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("localhost", True), ("::ffff:127.0.0.1", True),
    ("0.0.0.0", False), ("::", False), ("192.0.2.2", False), ("fd00::2", False), ("dashboard.example", False)])
def test_only_loopback_addresses_go_without_a_warning(address: str, loopback: bool) -> None:
    assert serve.is_loopback(address) is loopback
    warning = serve.exposure_warning(address, 8501)
    assert (warning is None) is loopback
    if warning:
        assert "no login" in warning and "invoices and traces" in warning


def test_serve_and_demo_default_to_loopback(tmp_path: Path) -> None:
    cmd = serve.command(tmp_path / "x.duckdb", 8600)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    for name in ("serve", "demo"):
        options = {p.name: p for p in cli.commands[name].params}
        assert options["address"].default == "127.0.0.1", name
        assert options["port"].default == 8501, name


def test_demo_refuses_unusable_login_secrets_before_generating(tmp_path: Path) -> None:
    secrets = tmp_path / "login.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\n', encoding="utf-8")
    with isolated(tmp_path):
        done = run_cli("demo", "--dir", str(tmp_path / "demo"), "--spans", "500", "--serve", "--port", str(free_port()),
                       "--login", str(secrets))
    assert done.exit_code == 1 and "Traceback" not in done.output, done.output
    assert str(secrets) in done.output or "login" in done.output.lower(), done.output
    assert not (tmp_path / "demo").exists()  # said before minutes of generating, not after


@pytest.mark.slow
@pytest.mark.parametrize("how", ["serve", "serve --address 0.0.0.0", "demo --serve"])
def test_a_busy_port_is_refused_before_any_url(how: str, store_db: Path, tmp_path: Path,
                                               running: Callable[[list[str], Path], Run]) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        name, *extra = how.split()
        where = ["--db", str(store_db)] if name == "serve" else ["--dir", str(tmp_path / "demo"), "--spans", "500"]
        run = running(tierwise(name, *where, "--port", str(port), *extra), tmp_path)
        code = run.finish()
    text = run.text()
    assert code != 0, text
    assert f"port {port}" in text and "--port" in text and "PORT=N make demo" in text, text
    assert "http://" not in text and "Traceback" not in text, text
    assert not (tmp_path / "demo").exists(), "the demo generated its estate before checking the port"


FAKE = '''
import http.server, os, sys, time
port, ready_after_s, code = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
if code:
    sys.exit(code)
flip = time.time() + ready_after_s
open(sys.argv[4] + ".tmp", "w").write(repr((flip, os.getpid())))
os.replace(sys.argv[4] + ".tmp", sys.argv[4])
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if time.time() >= flip else 503)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
'''


def supervised(tmp_path: Path, port: int, ready_after_s: float, code: int = 0, timeout_s: float = 60) -> list[str]:
    """`app.serve.supervise` in a real parent process, over a fake server that answers its health with 503 until
    `ready_after_s` has passed (or exits at once with `code`)."""
    (tmp_path / "fake.py").write_text(FAKE)
    child = [sys.executable, str(tmp_path / "fake.py"), str(port), str(ready_after_s), str(code), str(tmp_path / "flip")]
    health = f"http://127.0.0.1:{port}{serve.HEALTH}"
    script = (f"import sys; from app.serve import supervise; "
              f"sys.exit(supervise({child!r}, {health!r}, {serve.READY + ' fake'!r}, {timeout_s!r}))")
    return [sys.executable, "-c", script]


@pytest.mark.slow
def test_the_ready_line_waits_for_the_health_endpoint(tmp_path: Path, running: Callable[[list[str], Path], Run]) -> None:
    port = free_port()
    run = running(supervised(tmp_path, port, ready_after_s=3.0), tmp_path)
    ready = run.wait_ready()
    flip, child = ast.literal_eval((tmp_path / "flip").read_text())
    assert ready >= flip, f"ready line {flip - ready:.2f} s before the health endpoint answered 200"
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish() == 0, run.text()
    assert gone(child) and port_is_free("127.0.0.1", port)


@pytest.mark.slow
def test_a_child_that_exits_before_ready_is_reported(tmp_path: Path, running: Callable[[list[str], Path], Run]) -> None:
    run = running(supervised(tmp_path, free_port(), ready_after_s=0, code=3), tmp_path)
    assert run.finish() == 3
    assert "exited with code 3 before it was ready" in run.text(), run.text()
    assert run.ready_at() is None and "Traceback" not in run.text()


@pytest.mark.slow
def test_a_server_never_ready_is_stopped_after_the_bounded_wait(tmp_path: Path,
                                                               running: Callable[[list[str], Path], Run]) -> None:
    port = free_port()
    run = running(supervised(tmp_path, port, ready_after_s=600, timeout_s=3), tmp_path)
    wait_until(lambda: (tmp_path / "flip").exists(), START_S, "fake server")
    _, child = ast.literal_eval((tmp_path / "flip").read_text())
    assert run.finish() == 1
    assert "did not answer" in run.text() and run.ready_at() is None, run.text()
    assert gone(child) and port_is_free("127.0.0.1", port)


def listeners(port: int) -> set[str]:
    """Local addresses listening on `port`, from the kernel's socket table."""
    return {c.laddr.ip for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "how"), [(signal.SIGTERM, "serve"), (signal.SIGINT, "serve --address 0.0.0.0"),
                                          (signal.SIGINT, "demo --serve")])
def test_a_stop_signal_leaves_nothing_serving(sig: signal.Signals, how: str, store_db: Path, tmp_path: Path,
                                              running: Callable[[list[str], Path], Run]) -> None:
    """SIGTERM/SIGINT to the parent alone (not its group, as `kill` or a service manager sends it): exit 0, the
    Streamlit child and its group gone, the port free. A default serve listens on 127.0.0.1 only, without a warning;
    0.0.0.0 warns."""
    port = free_port()
    name, *extra = how.split()
    where = ["--db", str(store_db)] if name == "serve" else ["--dir", str(tmp_path / "demo"), "--spans", "2000",
                                                             "--days", "2"]
    run = running(tierwise(name, *where, "--port", str(port), *extra), tmp_path)
    run.wait_ready()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{serve.HEALTH}", timeout=5) as r:
        assert r.status == 200  # the line came once the server answered
    wide = "0.0.0.0" in extra
    assert listeners(port) == ({"0.0.0.0"} if wide else {"127.0.0.1"})
    assert ("no login" in run.text()) is wide, run.text()
    child = run.child()
    run.proc.send_signal(sig)
    assert run.finish() == 0, run.text()
    wait_until(lambda: gone(child) and not group(child), STOP_S, "end of the child's process group")
    assert port_is_free("0.0.0.0" if wide else "127.0.0.1", port)
    assert "Traceback" not in run.text(), run.text()


@pytest.mark.slow
def test_the_server_dies_with_a_killed_parent(store_db: Path, tmp_path: Path,
                                              running: Callable[[list[str], Path], Run]) -> None:
    """kill -9 leaves no handler to run; on Linux the child asked the kernel to SIGTERM it when its parent dies."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    port = free_port()
    run = running(tierwise("serve", "--db", str(store_db), "--port", str(port)), tmp_path)
    run.wait_ready()
    child = run.child()
    run.proc.kill()
    run.finish()
    wait_until(lambda: gone(child), STOP_S, "end of the orphaned server")
    wait_until(lambda: port_is_free("127.0.0.1", port), STOP_S, "free port")
