"""Benchmark of `tierwise generate`: spans per second and peak memory, per format and worker count.

Usage: .venv/bin/python bench/generate.py [--spans 1000000] [--days 30] [--runs json:1,json:2,proto:2]
A run spec is format:workers.
Each run is a fresh child process; peak RSS is the largest resident set of any of its processes; CPU s is the
user+system time of the run's processes (steadier than wall time on a shared machine); sys s is its kernel part
(mostly copying the output into the page cache).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys, time, json
from datetime import date
from pathlib import Path
from sample_data.generate import Options, generate
spans, days, fmt, workers, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
t = time.perf_counter()
s = generate(out, Options(spans=spans, days=days, end=date(2026, 11, 28), fmt=fmt), workers)
print(json.dumps({"spans": s.spans, "seconds": time.perf_counter() - t}))
"""


def run(spans: int, days: int, fmt: str, workers: int) -> dict[str, float]:
    """One generation in a fresh process: wall seconds, spans/s, peak RSS and bytes written."""
    with tempfile.TemporaryDirectory() as tmp:
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(spans), str(days), fmt, str(workers), tmp],
                             check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    got = json.loads(out.strip().splitlines()[-1])
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return {"spans": got["spans"], "gen_seconds": got["seconds"], "wall_seconds": wall,
            "spans_per_s": got["spans"] / got["seconds"], "cpu_seconds": cpu, "sys_seconds": ru1.ru_stime - ru0.ru_stime,
            "spans_per_cpu_s": got["spans"] / cpu,
            "peak_rss_mib": ru1.ru_maxrss / 1024, "output_mib": size / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", default="json:1,json:2,proto:1,proto:2", help="format:workers, comma-separated")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print("| format | workers | spans | wall s | spans/s | CPU s | sys s | spans per CPU-s | peak RSS MiB | output MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec in args.runs.split(","):
        fmt, workers = spec.split(":")
        r = run(args.spans, args.days, fmt, int(workers))
        print(f"| {fmt} | {workers} | {r['spans']:,.0f} | {r['gen_seconds']:.1f} | {r['spans_per_s']:,.0f} | "
              f"{r['cpu_seconds']:.1f} | {r['sys_seconds']:.1f} | {r['spans_per_cpu_s']:,.0f} | {r['peak_rss_mib']:.0f} | "
              f"{r['output_mib']:.0f} |",
              flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
