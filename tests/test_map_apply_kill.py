"""`tierwise map apply` killed with SIGKILL leaves the store exactly as before or exactly as after; a rerun finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from map_support import (
    BILLS,
    COST_RULES,
    MAP_RULES,
    cli,
    copy,
    fingerprint,
    load,
    make_metrics,
    make_spans,
    write_config,
    write_telemetry,
)
from receiver_helpers import TIERWISE

# Rules that move half the generated estate's spans (its edge GPU hosts), all its AWS spans' site and every AWS
# ledger row, besides the SDK telemetry's rules: thousands of rows in all three tables and every derived table.
BIG_RULES = """
[[map]]
name = "edge gpus moved"
when = { "host.name" = "*-gpu*" }
set = { tier = "regional", workload = "moved" }

[[map]]
name = "aws hosts"
when = { "cloud.provider" = "aws" }
set = { site = "aws-main" }

[[cost_map]]
name = "everything on aws"
when = { ProviderName = "AWS" }
set = { workload = "aws-all", tier = "hyperscale" }
"""
KILL_AT = (0.3, 0.7)  # of the time a full run keeps the store open


def _holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (Linux /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


def _start(db: Path, config: Path) -> tuple[subprocess.Popen[bytes], float]:
    """`tierwise map apply` as a real process, returned once it has the store open, with that moment."""
    proc = subprocess.Popen([str(TIERWISE), "map", "apply", "--db", str(db), "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not _holds_open(proc.pid, db):
        if proc.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.002)
    return proc, time.monotonic()


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store of a generated 40k-span estate, SDK telemetry and a FOCUS bill; and the rules file."""
    workdir = tmp_path_factory.mktemp("kill")
    made = cli(workdir, "generate", "--out", str(workdir / "gen"), "--spans", "40000", "--days", "1",
               "--end", "2026-01-02", "--seed", "7", "--format", "proto")
    assert made.exit_code == 0, made.output
    telemetry = write_telemetry(workdir, make_spans(), make_metrics())
    db = load(workdir, workdir / "base.duckdb", (workdir / "gen" / "traces", *telemetry, BILLS[0]))
    return db, write_config(workdir / "rules.toml", MAP_RULES, COST_RULES, BIG_RULES)


@pytest.mark.slow
def test_a_killed_apply_leaves_before_or_after_and_a_rerun_converges(big: tuple[Path, Path]) -> None:
    base, config = big
    before = fingerprint(base)
    after_db = copy(base, base.parent / "after.duckdb")
    proc, opened = _start(after_db, config)
    assert proc.wait(300) == 0, proc.stderr.read() if proc.stderr else ""
    run_s = time.monotonic() - opened
    after = fingerprint(after_db)
    changed = {rel for rel in before if before[rel] != after[rel]}
    assert {"spans", "metric_points", "costs", "cost_links", "latency_rollup", "request_entries"} <= changed
    outcomes = []
    for i, share in enumerate(KILL_AT):
        victim = copy(base, base.parent / f"victim-{i}.duckdb")
        proc, _ = _start(victim, config)
        time.sleep(share * run_s)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
        check = cli(base.parent, "check", "--db", str(victim))
        assert check.exit_code == 0, check.output
        got = fingerprint(victim)
        assert got in (before, after), {rel: (before[rel], got[rel], after[rel]) for rel in got}
        outcomes.append((alive, "before" if got == before else "after"))
        rerun = cli(base.parent, "map", "apply", "--db", str(victim), "--config", str(config))
        assert rerun.exit_code == 0, rerun.output
        assert ("nothing changed" in rerun.output) is (got == after)
        assert fingerprint(victim) == after
    assert any(alive for alive, _ in outcomes), f"every kill came after the run ended ({run_s:.2f} s): {outcomes}"
