"""How long `tierwise migrate --engine clickhouse` takes to backfill the roll-ups over spans the Collector wrote first.

Fills otel_traces (the exporter's layout, schema 0001) in chdb with synthetic spans spread over `--days` UTC days,
as a Collector would have before tierwise ran; then times the migrate (schema step and backfill, day by day), a
second migrate (nothing to do), `tierwise check` (every roll-up against its spans) and a backfill redone over days
the views already keep (every correction empty). Prints one line per step and the rate per day and per span.

    .venv/bin/python bench/clickhouse_backfill.py --spans 20000000 --days 30 --dir /tmp/tw-backfill
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.sinks import clickhouse as load  # noqa: E402
from store.clickhouse import backfill, schema  # noqa: E402
from store.clickhouse.client import ClickHouseClient  # noqa: E402
from store.contract import TIERS  # noqa: E402
from store.settings import Settings  # noqa: E402

START_NS = 1_788_220_800_000_000_000  # 2026-09-01T00:00:00Z
CHUNK = 5_000_000  # spans per INSERT, as a Collector's batches add up to parts

# Deterministic spans from the row number, distributed as bench/engines_build.py's skewed estate: 200 operations
# (low ids hot), 4 per service, 20 per workload and tier (the contract's tiers in turn), edge spans over 20 stores,
# cloud ones over 2 regions; 10 % roots, 55 % server, 5 % consumer; 1 % errors; lognormal durations, median
# 2 ms × 1.6^(op % 12). u(k) is a uniform number in [0, 1) from the row number.
FILL = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, ResourceAttributes,
                         ScopeName, SpanAttributes, Duration, StatusCode)
WITH (cityHash64(number, 1) % 1000000007) / 1000000007.0 AS u1, (cityHash64(number, 3) % 1000000007) / 1000000007.0 AS u3,
     (cityHash64(number, 4) % 1000000007) / 1000000007.0 AS u4, (cityHash64(number, 5) % 1000000007) / 1000000007.0 AS u5,
     (cityHash64(number, 7) % 1000000007) / 1000000007.0 AS u6, toUInt32(floor(200 * u1 * u1)) AS op,
     intDiv(op, 20) % length({tiers:Array(String)}) AS t
SELECT fromUnixTimestamp64Nano(toInt64({start:Int64} + intDiv(number * {span_ns:Int64}, 1000))),
       leftPad(hex(intDiv(number, 10)), 32, '0'), leftPad(hex(number), 16, '0'), if(u3 < 0.1, '', 'p'),
       concat('op-', toString(op)), multiIf(u4 < 0.55, 'Server', u4 < 0.60, 'Consumer', u4 < 0.80, 'Client', 'Internal'),
       concat('svc-', toString(intDiv(op, 4))),
       mapFilter((k, v) -> v != '', map('tierwise.tier', {tiers:Array(String)}[t + 1],
           'tierwise.site', multiIf(t = 0, '', t = 1, concat('store-', toString(cityHash64(number, 6) % 20)),
                                    ['eu-west-1', 'us-east-1'][cityHash64(number, 6) % 2 + 1]),
           'tierwise.workload', concat('wl-', toString(intDiv(op, 20))),
           'tierwise.workload.type', if(intDiv(op, 20) = 9, 'batch', 'inference'))),
       'bench', map('gen_ai.request.model', 'm1'),
       toUInt64(greatest(1, 2e6 * pow(1.6, op % 12) * exp(0.8 * sqrt(-2 * ln(greatest(u3, 1e-12)))
                                                            * cos(6.283185307179586 * u6)))),
       if(u5 < 0.01, 'Error', 'Ok')
FROM numbers({first:UInt64}, {count:UInt64})
"""


def fill(client: ClickHouseClient, spans: int, days: int) -> float:
    """Create otel_traces as schema 0001 does and fill it; returns the seconds it took."""
    started = time.perf_counter()
    for stmt in schema.files()[0].statements():
        client.command(stmt)
    span_ns = days * backfill.DAY_NS * 1000 // spans  # thousandths of a nanosecond between spans
    for first in range(0, spans, CHUNK):
        client.command(FILL, {"start": START_NS, "span_ns": span_ns, "first": first, "count": min(CHUNK, spans - first),
                              "tiers": list(TIERS)})
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--spans", type=int, default=20_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/tierwise-bench-backfill"))
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    url = f"chdb://{args.dir}"
    with ClickHouseClient(url) as client:
        print(f"fill: {args.spans:,} spans over {args.days} days in {fill(client, args.spans, args.days):.1f} s",
              flush=True)
    started = time.perf_counter()
    first = load.migrate(url, Settings())
    total = time.perf_counter() - started
    filled = first.backfill
    assert filled is not None and not first.schema.failed
    per_day = [d.seconds for d in filled.done]
    print(f"migrate: {total:.1f} s, of which backfill {filled.seconds:.1f} s for {len(filled.done)} days "
          f"({filled.spans:,} spans, {filled.rows_changed:,} roll-up rows); per day {min(per_day):.1f}-"
          f"{max(per_day):.1f} s; {filled.spans / filled.seconds:,.0f} spans/s; "
          f"{filled.seconds / filled.spans * 1e9 / 3600:.1f} h per billion spans", flush=True)
    started = time.perf_counter()
    again = load.migrate(url, Settings())
    assert again.backfill is not None and not again.backfill.done
    print(f"second migrate: {time.perf_counter() - started:.1f} s (nothing to do)", flush=True)
    started = time.perf_counter()
    checked = load.check(url)
    assert not any(c.differing for c in checked)
    print(f"check: {time.perf_counter() - started:.1f} s, every roll-up equal to its spans", flush=True)
    with ClickHouseClient(url) as client:
        redo = backfill.backfill(client, redo=True)
    assert redo.rows_changed == 0
    print(f"backfill redone over kept days: {redo.seconds:.1f} s, 0 rows changed", flush=True)


if __name__ == "__main__":
    main()
