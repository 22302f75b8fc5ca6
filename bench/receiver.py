"""Benchmark of the live path: 4 exporters against `tierwise receive`, against `tierwise ingest` of the same data.

Run from the repository root:

    .venv/bin/python bench/receiver.py --seconds 300    # the figures in docs/benchmarks.md (## Receiver)
    .venv/bin/python bench/receiver.py --seconds 30     # a quick run

The reference is `tierwise ingest --quiet` of a framed protobuf file holding the exporters' request bodies, in a fresh
store, measured before and again after the live run (the mean of the two is the reference: a shared machine drifts).
In between, `tierwise receive` runs as a child process and --exporters processes POST
protobuf requests of 1,000 spans over keep-alive connections as fast as they are answered, for --seconds. Each body is
a template whose trace ids get a per-request prefix, so no two requests are alike (the receiver drops a repeated body
as a retry). When the exporters stop, the receiver gets SIGTERM and folds what is left.

Printed: request p50/p99, answers by status, accepted spans/s, folded spans/s while the exporters ran (accepted minus
the spool's files at the end; a pass deletes its files only when it closes the store, so this undercounts by up to a
pass), the spool every 10 s, the stored spans/s over the whole run including the final fold, the receiver's peak RSS,
and the ratio of that stored rate to the reference: every span answered 200 is in the store by then, so nothing that
waits in the spool counts as folded.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psutil  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.ingest import SPANS_PER_LINE, generate  # noqa: E402

TIERWISE = str(Path(sys.executable).with_name("tierwise"))


def _templates(proto: Path) -> list[tuple[bytes, list[int]]]:
    """Each request body of the framed file with the offsets of every trace id in it."""
    data = proto.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        body = data[pos + 4:pos + 4 + n]
        pos += 4 + n
        req = ExportTraceServiceRequest.FromString(body)
        ids = {s.trace_id for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans}
        offsets = []
        for tid in ids:
            at = body.find(tid)
            while at >= 0:
                offsets.append(at)
                at = body.find(tid, at + 1)
        out.append((body, offsets))
    return out


def _exporter(k: int, port: int, proto: Path, seconds: float, go: Any, answered: Any,
              results: mp.Queue[tuple[list[float], dict[int, int], float]]) -> None:
    templates = _templates(proto)
    t = os.times()
    cpu_ready = t.user + t.system
    go.wait()  # every exporter has its templates: the clock starts
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    n = k
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body, offsets = templates[n % len(templates)]
        buf = bytearray(body)
        prefix = (n + 1).to_bytes(4, "big")
        for at in offsets:
            buf[at:at + 4] = prefix
        n += 4
        began = time.perf_counter()
        try:
            conn.request("POST", "/v1/traces", bytes(buf), {"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status = 0
        latencies.append(time.perf_counter() - began)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            with answered.get_lock():
                answered.value += 1
        if status == 503:
            time.sleep(1.0)  # Retry-After, as the SDK exporters honour it
    t = os.times()
    results.put((latencies, statuses, t.user + t.system - cpu_ready))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stored(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM spans").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def reference(proto: Path, db: Path) -> float:
    """spans/s of `tierwise ingest` on the framed file, into the fresh store `db`."""
    began = time.perf_counter()
    subprocess.run([TIERWISE, "ingest", "--quiet", "--db", str(db), str(proto)], check=True)
    wall = time.perf_counter() - began
    return _stored(db) / wall


def _spool_state(spool: Path) -> tuple[int, int]:
    files = [p for p in spool.iterdir() if p.is_file() and not p.name.startswith(".")] if spool.exists() else []
    return len(files), sum(p.stat().st_size for p in files if p.exists())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _rss(proc: psutil.Process) -> int:
    total = 0
    for p in _tree(proc):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in _tree(proc):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(p.cpu_times()[:2])
    return total


@dataclass(frozen=True)
class Live:
    """What one live run measured."""

    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    accepted_per_s: float
    folded_per_s: float
    steady_per_s: float
    stored: int
    accepted: int
    stored_per_s: float
    final_fold_s: float
    peak_rss_mib: float
    exporters_cpu_s: float
    receiver_cpu_s: float
    backlog: list[tuple[int, int, int, int]]  # (seconds, spans answered 200 so far, spool files, spool bytes)
    exit: int | None


def live(proto: Path, work: Path, exporters: int, seconds: float, decoders: int | None) -> Live:
    db, port = work / "live.duckdb", _free_port()
    spool = db.with_name(db.name + ".spool")
    subprocess.run([TIERWISE, "migrate", "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    extra = [] if decoders is None else ["--decoders", str(decoders)]
    rx = subprocess.Popen([TIERWISE, "receive", "--db", str(db), "--port", str(port), *extra])
    proc = psutil.Process(rx.pid)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    results: mp.Queue[tuple[list[float], dict[int, int], float]] = mp.Queue()
    go, answered = mp.Barrier(exporters + 1), mp.Value("q", 0)
    procs = [mp.Process(target=_exporter, args=(k, port, proto, seconds, go, answered, results))
             for k in range(exporters)]
    for p in procs:
        p.start()
    go.wait()
    cpu_before = _cpu(proc)
    began = time.perf_counter()
    peak_rss, next_mark = 0, 0.0
    backlog: list[tuple[int, int, int, int]] = []
    while any(p.is_alive() for p in procs) and results.qsize() < exporters:
        elapsed = time.perf_counter() - began
        peak_rss = max(peak_rss, _rss(proc))
        if elapsed >= next_mark:
            backlog.append((round(elapsed), answered.value * SPANS_PER_LINE, *_spool_state(spool)))
            next_mark += 10
        time.sleep(0.25)
    collected = [results.get() for _ in procs]
    exporters_cpu = sum(c for _, _, c in collected)
    receiver_cpu = _cpu(proc) - cpu_before
    for p in procs:
        p.join()
    ran = time.perf_counter() - began
    left_files, _ = _spool_state(spool)
    backlog.append((round(ran), answered.value * SPANS_PER_LINE, *_spool_state(spool)))
    rx.send_signal(signal.SIGTERM)
    while rx.poll() is None:
        peak_rss = max(peak_rss, _rss(proc))
        time.sleep(0.1)
    total = time.perf_counter() - began
    latencies = [x for lat, _, _ in collected for x in lat]
    statuses: dict[int, int] = {}
    for _, st, _ in collected:
        for code, count in st.items():
            statuses[code] = statuses.get(code, 0) + count
    accepted = statuses.get(200, 0) * SPANS_PER_LINE
    (t0, a0, f0, _), (t1, a1, f1, _) = backlog[1 if len(backlog) > 2 else 0], backlog[-1]
    steady = ((a1 - f1 * SPANS_PER_LINE) - (a0 - f0 * SPANS_PER_LINE)) / max(1, t1 - t0)  # folded after the ramp-up
    stored = _stored(db)
    return Live(_pct(latencies, 0.5) * 1000, _pct(latencies, 0.99) * 1000, statuses, accepted / ran,
                (accepted - left_files * SPANS_PER_LINE) / ran, steady, stored, accepted, stored / total, total - ran,
                peak_rss / 2**20, exporters_cpu, receiver_cpu, backlog, rx.returncode)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--exporters", type=int, default=4)
    ap.add_argument("--templates", type=int, default=1_000_000, help="spans in the distinct request templates")
    ap.add_argument("--decoders", type=int, default=None, help="tierwise receive --decoders (default: its own)")
    args = ap.parse_args()
    proto = generate(args.templates, Path(tempfile.gettempdir()) / f"tierwise-bench-{args.templates}")[1]
    with tempfile.TemporaryDirectory(prefix="tierwise-rx-") as tmp:
        work = Path(tmp)
        before = reference(proto, work / "before.duckdb")
        print(f"reference: tierwise ingest {before:,.0f} spans/s ({args.templates:,} spans, framed protobuf)", flush=True)
        print("exporters are loading their templates", flush=True)
        r = live(proto, work, args.exporters, args.seconds, args.decoders)
        after = reference(proto, work / "after.duckdb")
        ref = (before + after) / 2
        print(f"reference again: {after:,.0f} spans/s; the mean, {ref:,.0f} spans/s, is the reference", flush=True)
    print(f"receiver (--decoders {args.decoders if args.decoders is not None else 'default'}), {args.exporters} exporters "
          f"for {args.seconds:.0f} s (cores: {os.cpu_count()}):")
    print(f"  requests p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; answers {r.statuses}")
    print(f"  accepted {r.accepted_per_s:,.0f} spans/s; folded while exporting {r.folded_per_s:,.0f} spans/s, "
          f"{r.steady_per_s:,.0f} spans/s after the first 10 s")
    print(f"  stored {r.stored:,} of {r.accepted:,} accepted; {r.stored_per_s:,.0f} spans/s including the "
          f"final fold of {r.final_fold_s:.1f} s; receiver exit {r.exit}")
    print(f"  peak RSS {r.peak_rss_mib:,.0f} MiB (receiver and its decoders); CPU while exporting: receiver "
          f"{r.receiver_cpu_s:.0f} s, exporters {r.exporters_cpu_s:.0f} s")
    print("  spool (s: files, MiB; folded files wait for the end of their pass): "
          + ", ".join(f"{t}: {n}, {b / 2**20:.0f}" for t, _, n, b in r.backlog))
    print(f"ratio stored (including the final fold) / reference: {r.stored_per_s / ref:.2f}; folded after the first "
          f"10 s / reference: {r.steady_per_s / ref:.2f}")


if __name__ == "__main__":
    main()
