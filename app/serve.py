"""`tierwise serve`: start the Streamlit dashboard on a store, read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MAIN = Path(__file__).with_name("main.py")


def command(db: Path, port: int = 8501, address: str | None = None) -> list[str]:
    """The `streamlit run` command line (through app/warm.py, which pre-warms the query cache beside the server); the
    store path goes to the app after `--`."""
    cmd = [sys.executable, "-m", "app.warm", "run", str(MAIN), "--server.headless", "true",
           "--server.port", str(port), "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]
    if address:
        cmd += ["--server.address", address]
    return [*cmd, "--", "--db", str(db.resolve())]


def serve(db: Path, port: int = 8501, address: str | None = None) -> int:
    """Run the dashboard in the foreground until interrupted; returns streamlit's exit code."""
    print(f"tierwise dashboard on http://localhost:{port} (store {db}, read-only); Ctrl-C stops it", flush=True)
    try:
        return subprocess.call(command(db, port, address))
    except KeyboardInterrupt:
        return 0
