"""`tierwise serve`: the dashboard's process: a safe address, a checked port, a ready line, and a child that stops with us."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import http.client
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

MAIN = Path(__file__).with_name("main.py")
DEFAULT_ADDRESS = "127.0.0.1"  # this machine only: without --login the dashboard shows invoices and traces to anyone
DEFAULT_PORT = 8501
HEALTH = "/_stcore/health"  # Streamlit answers 200 here once it takes browser connections
READY = "tierwise dashboard ready on"  # the line a user (or a script) waits for; printed only once HEALTH answers
READY_TIMEOUT_S = 120.0
STOP_GRACE_S = 10.0  # after SIGTERM to the child's group, this long before SIGKILL
POLL_S = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PICK_ANOTHER = "pick another with --port N (for make demo: PORT=N make demo)"
_PR_SET_PDEATHSIG = 1
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # an http_proxy must not answer for us


def command(db: Path, port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS, login: Path | None = None) -> list[str]:
    """The `streamlit run` command line (through app/warm.py, which pre-warms the query cache beside the server); the
    store path goes to the app after `--`. Streamlit's own welcome (its URLs, printed before it is ready, and an
    external-IP lookup on wildcard addresses) is hidden: `supervise` prints the one URL once the server answers.
    With `login` (a TOML file holding the [auth] table), Streamlit's `secrets.files` option points at that file alone
    and the app gets `--login`, so app/auth.py asks for st.login before drawing anything."""
    secrets: list[str] = []
    flag: list[str] = []
    if login:
        from app import auth  # only here: it imports streamlit, which this parent process needs for nothing else

        secrets, flag = ["--secrets.files", str(login.resolve())], [auth.FLAG]
    return [sys.executable, "-m", "app.warm", "run", str(MAIN), "--server.headless", "true",
            "--server.port", str(port), "--server.address", address, "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal", "--logger.hideWelcomeMessage", "true", *secrets,
            "--", "--db", str(db.resolve()), *flag]


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: addresses no other machine can reach."""
    if address.lower().rstrip(".") == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def exposure_warning(address: str, port: int, login: bool = False) -> str | None:
    """The warning for an address beyond loopback without login, or None."""
    if login or is_loopback(address):
        return None
    return (f"tierwise: warning: the dashboard listens on {address}:{port}, beyond this machine. It has no login: anyone "
            f"who can reach it sees the store's invoices and traces. Use --address {DEFAULT_ADDRESS} to keep it local, or "
            f"--login FILE to require a login.")


def port_problem(address: str, port: int) -> str | None:
    """Why Streamlit could not listen on address:port (bound here as Streamlit binds it), or None if it can. Checked
    before the child starts, so a busy port never gets as far as a URL."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Streamlit: a TIME_WAIT port is not busy
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind((address, port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return f"tierwise: port {port} on {address} is already in use; {PICK_ANOTHER}"
        if e.errno == errno.EADDRNOTAVAIL:
            return f"tierwise: {address} is not an address of this machine; pick another with --address"
        return f"tierwise: cannot listen on {address}:{port} ({e.strerror or e}); {PICK_ANOTHER}, or another --address"
    return None


def urls(address: str, port: int) -> tuple[str, str]:
    """(the URL shown to the user, the health URL polled): a wildcard address is reached through loopback."""
    wildcard = address in ("0.0.0.0", "::", "")
    host = f"[{address}]" if ":" in address else address
    shown = f"http://localhost:{port}" if wildcard else f"http://{host}:{port}"
    probe = "[::1]" if address == "::" else "127.0.0.1" if wildcard else host
    return shown, f"http://{probe}:{port}{HEALTH}"


def serve(db: Path, port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS,
          ready_timeout_s: float = READY_TIMEOUT_S, login: Path | None = None) -> int:
    """Run the dashboard until it exits or we are asked to stop; the exit code for `tierwise serve`: 0 on a requested
    stop, 1 if it cannot start (a busy port or unusable login secrets say so before anything else), else the server's
    own. With `login`, every visitor signs in through the OIDC provider its [auth] table names (app/auth.py)."""
    if problem := start_problem(address, port, login):
        print(problem, file=sys.stderr, flush=True)
        return 1
    if warning := exposure_warning(address, port, login is not None):
        print(warning, file=sys.stderr, flush=True)
    shown, health = urls(address, port)
    note = (f"(store {db}, read-only{'' if is_loopback(address) else f', listening on {address}'}"
            f"{', login required' if login else ''})")
    return supervise(command(db, port, address, login), health, f"{READY} {shown} {note}; Ctrl-C stops it",
                     ready_timeout_s)


def start_problem(address: str, port: int, login: Path | None) -> str | None:
    """What would stop the dashboard from starting (a busy port, unusable login secrets), in one line; else None."""
    return port_problem(address, port) or (_login_problem(login) if login else None)


def _login_problem(login: Path) -> str | None:
    from app import auth  # as in command(): streamlit only when login is asked for

    return auth.secrets_problem(login)


class _Stop:
    """The stop signals received so far: the handler only records them, the supervising loop acts on them."""

    def __init__(self) -> None:
        self.count = 0

    def handler(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1


def supervise(cmd: Sequence[str], health_url: str, ready_line: str, ready_timeout_s: float = READY_TIMEOUT_S) -> int:
    """Start `cmd` in its own process group, print `ready_line` once `health_url` answers 200 (waiting at most
    `ready_timeout_s`), and stop the whole group on SIGINT, SIGTERM or SIGHUP, so nothing serves once we are gone."""
    stop = _Stop()
    previous = {s: signal.signal(s, stop.handler) for s in STOP_SIGNALS}
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_die_with_parent())
        return _watch(proc, stop, health_url, ready_line, ready_timeout_s)
    finally:
        if proc is not None:
            _stop_group(proc, stop)
        for s, h in previous.items():
            signal.signal(s, h)


def _watch(proc: subprocess.Popen[bytes], stop: _Stop, health_url: str, ready_line: str, ready_timeout_s: float) -> int:
    """Poll until a stop is asked (0), the child exits (its code, said on stderr) or it is not ready in time (1)."""
    deadline = time.monotonic() + ready_timeout_s
    ready = False
    while True:
        if stop.count:
            return 0
        code = proc.poll()
        if code is not None:
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            print(f"tierwise: the dashboard process {how}{'' if ready else ' before it was ready'}", file=sys.stderr,
                  flush=True)
            return 128 - code if code < 0 else code if code or ready else 1
        if not ready:
            if _answers(health_url):
                ready = True
                print(ready_line, flush=True)
            elif time.monotonic() > deadline:
                print(f"tierwise: the dashboard did not answer {health_url} within {ready_timeout_s:g} s; stopping it",
                      file=sys.stderr, flush=True)
                return 1
        time.sleep(POLL_S)


def _answers(url: str) -> bool:
    """Whether `url` answers 200 now; a refused or half-started server is simply not ready yet."""
    try:
        with _NO_PROXY.open(url, timeout=1) as r:
            return int(r.status) == 200
    except (OSError, http.client.HTTPException):
        return False


def _stop_group(proc: subprocess.Popen[bytes], stop: _Stop) -> None:
    """SIGTERM to the child's process group (Streamlit shuts down on it), SIGKILL after STOP_GRACE_S or at a second
    stop signal; then SIGKILL to whatever of the group outlived the child."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        asked, deadline = stop.count, time.monotonic() + STOP_GRACE_S
        while proc.poll() is None and stop.count <= asked and time.monotonic() < deadline:
            time.sleep(0.05)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, sig)


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook asking the kernel to SIGTERM the child if we die without stopping it (kill -9, the
    OOM killer). It runs between fork and exec and does no more than one prctl call and a getppid, as little as a
    pre-exec hook can do beside the idle worker threads (polars, DuckDB) a `tierwise demo` parent may have."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # we died before the prctl took hold: nobody would send the signal
            os._exit(1)

    return hook
