"""Shared helpers of the latency roll-up tests: exact percentiles, the stated bound, synthetic request spans."""

from __future__ import annotations

import math
import random

import duckdb
import pyarrow as pa

from store.derived import rollup

MINUTE_NS = 60_000_000_000
HOUR_NS = 3_600_000_000_000
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
# The stated bound: each p* is within ALPHA of quantile_cont over the same spans; the bucket index comes from a
# rounded double, so a duration within ~1e-13 of a bucket edge may land next door: allow that much on top.
BOUND = rollup.ALPHA + 1e-9


def quantile_cont(values: list[int], q: float) -> float:
    """The exact interpolated percentile DuckDB's quantile_cont (R-7) computes."""
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def assert_within(estimate_ms: float, exact_ms: float) -> None:
    """The roll-up's estimate is within BOUND (relative) of the exact value; an exact 0 must be reported as 0."""
    if exact_ms == 0:
        assert estimate_ms == 0
    else:
        assert abs(estimate_ms - exact_ms) <= BOUND * abs(exact_ms), (estimate_ms, exact_ms)


def span_table(durations: dict[str, list[int]], minutes: int) -> pa.Table:
    """Request spans per tier, spread over `minutes` minutes, with the columns the roll-up reads."""
    rows: dict[str, list[object]] = {k: [] for k in ("name", "kind", "status_code", "tier", "tier_source",
                                                     "start_ns", "end_ns", "duration_ns", "parent_span_id",
                                                     "workload", "service_name", "site", "workload_type")}
    rng = random.Random(7)
    for tier, values in durations.items():
        for i, d in enumerate(values):
            start = T0 + (i % minutes) * MINUTE_NS + rng.randrange(MINUTE_NS)
            for key, v in (("name", f"op{i % 3}"), ("kind", "server"), ("status_code", "error" if i % 17 == 0 else "ok"),
                           ("tier", tier), ("tier_source", "declared"), ("start_ns", start), ("end_ns", start + d),
                           ("duration_ns", d), ("parent_span_id", "00000000000000aa"), ("workload", "w"),
                           ("service_name", f"svc-{tier}"), ("site", None), ("workload_type", None)):
                rows[key].append(v)
    return pa.table({k: pa.array(v, pa.int64() if k.endswith("_ns") else pa.string()) for k, v in rows.items()})


def distributions(n: int) -> dict[str, list[int]]:
    """Four shapes per tier: lognormal, heavy tail, tiny with zeros, and a mix of 1 ns and hours."""
    rng = random.Random(42)
    return {
        "device": [int(rng.lognormvariate(math.log(50e6), 1.0)) for _ in range(n)],  # lognormal around 50 ms
        "edge": [int(1e6 * rng.paretovariate(1.1)) for _ in range(n)],  # heavy tail from 1 ms
        "regional": [rng.randrange(0, 40) for _ in range(n)],  # tiny: 0–39 ns, zeros included
        "hyperscale": [rng.choice((1, rng.randrange(3_600_000_000_000, 36_000_000_000_000))) for _ in range(n)],
    }


def load_in_batches(con: duckdb.DuckDBPyConnection, durations: dict[str, list[int]], minutes: int,
                    batches: int) -> None:
    """Insert the spans into a migrated store in `batches` slices, folding each into the roll-up as ingest does."""
    table = span_table(durations, minutes)
    step = math.ceil(table.num_rows / batches)
    for k in range(batches):
        part = table.slice(k * step, step)
        con.register("part", part)
        con.execute("INSERT INTO spans BY NAME SELECT *, 'synthetic' AS batch_key FROM part").fetchall()
        con.execute(rollup.TABLE.fold_sql("part"))
        con.unregister("part")
