"""The roll-ups' backfill on ClickHouse: latency_rollup and its day tables made equal, one UTC day at a time, to a
recomputation over the spans otel_traces already holds.

The materialized views of 0090/0091 (latency_rollup_mv as 0105 re-creates it) count only the inserts made after they
exist, so spans the Collector wrote before `tierwise migrate` are missing from the roll-ups. For each day the backfill
runs the view's own SELECT over that day's spans and, in the same query, subtracts what the roll-up holds for the day,
then inserts the difference: spans the views already counted cancel out, so nothing is counted twice, and a rerun
inserts nothing. The day tables are then brought to their source the same way (latency_rollup's day rows, then the day
groups). A day is recorded in `rollup_backfill_days` once done; the next run skips it. Days without spans (dropped by
the exporter's TTL) keep the roll-up rows they have.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from store.clickhouse import schema
from store.clickhouse.client import ClickHouseClient

DAY_NS = 86_400_000_000_000
LEDGER = "rollup_backfill_days"
_MV_HEAD = "CREATE OR REPLACE MATERIALIZED VIEW latency_rollup_mv TO latency_rollup AS"
_DAY = ("FROM otel_traces WHERE Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) "
        "AND Timestamp < fromUnixTimestamp64Nano({hi:Int64})")
_ROLLUP_KEYS = "width_ns, period_ns, tier, site, workload, workload_type, service_name, name, bucket"
_GROUP_KEYS = "period_ns, tier, site, workload, service_name, name, workload_type"
_TIER_KEYS = "period_ns, tier, site, workload, workload_type"
_NO_DEDUP = "SETTINGS insert_deduplicate = 0"  # a correction equal to an earlier one is still a correction


@dataclass(frozen=True)
class DayDone:
    """One day brought to its spans: how many spans it holds and how many roll-up rows had to change."""

    day: dt.date
    spans: int
    rows_changed: int
    seconds: float


@dataclass(frozen=True)
class BackfillReport:
    """A backfill run: the days done (and those skipped as already done for this roll-up definition)."""

    done: tuple[DayDone, ...]
    skipped: int
    seconds: float

    @property
    def spans(self) -> int:
        return sum(d.spans for d in self.done)

    @property
    def rows_changed(self) -> int:
        return sum(d.rows_changed for d in self.done)


@dataclass(frozen=True)
class RollupCheck:
    """One roll-up table against its source: differing rows (0: equal) and the days they fall on."""

    table: str
    differing: int
    days: tuple[dt.date, ...]


def definition() -> str:
    """A digest of the roll-up definition (latency_rollup_mv's file, 0105, and 0091): a day done under another
    definition is done again, so a store whose roll-up was kept under 0090's tier rules is backfilled anew."""
    text = "".join(f.sql for f in schema.files() if f.version in (schema.ROLLUP_VERSION, schema.ROLLUP_DAYS_VERSION))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def day_rollup_sql() -> str:
    """latency_rollup_mv's SELECT (schema 0105) over the spans of one day, [{lo}, {hi}) in Unix nanoseconds."""
    ddl = next(s for f in schema.files() if f.version == schema.ROLLUP_VERSION for s in f.statements()
               if s.startswith(_MV_HEAD))
    select = ddl[len(_MV_HEAD):].strip()
    if select.count("FROM otel_traces\n") != 1:
        raise RuntimeError(f"schema {schema.ROLLUP_VERSION:04d}'s view no longer reads otel_traces once: update the "
                           "backfill")
    return select.replace("FROM otel_traces\n", _DAY + "\n")


def _rollup_delta() -> str:
    """latency_rollup's rows for the day minus what its spans give, by key; only keys that differ."""
    return (f"SELECT {_ROLLUP_KEYS}, toInt64(sum(dn)) AS n, toInt64(sum(de)) AS errors, "
            "toInt64(sum(dd)) AS sum_duration_ns FROM ("
            f"SELECT {_ROLLUP_KEYS}, n AS dn, errors AS de, sum_duration_ns AS dd FROM ({day_rollup_sql()}) "
            f"UNION ALL SELECT width_ns, period_ns, toString(tier) AS tier, site, workload, workload_type, "
            "service_name, name, bucket, -n, -errors, -sum_duration_ns FROM latency_rollup "
            "WHERE period_ns >= {lo:Int64} AND period_ns < {hi:Int64}) "
            f"GROUP BY {_ROLLUP_KEYS} HAVING n != 0 OR errors != 0 OR sum_duration_ns != 0")


def _histogram_delta(keys: str, source: str, target: str) -> str:
    """A day table's rows for the day minus what `source` gives (a SELECT of keys, sums and histograms)."""
    return (f"SELECT {keys}, n, errors, sum_duration_ns, h.1 AS `histMap.bucket`, h.2 AS `histMap.n` FROM ("
            f"SELECT {keys}, toInt64(sum(dn)) AS n, toInt64(sum(de)) AS errors, toInt64(sum(dd)) AS sum_duration_ns, "
            f"sumMap(b, c) AS h FROM ({source} UNION ALL SELECT {keys.replace('tier,', 'toString(tier) AS tier,')}, "
            "-n, -errors, -sum_duration_ns, histMap.bucket, arrayMap(x -> -x, histMap.n) "
            f"FROM {target} WHERE period_ns = {{lo:Int64}}) GROUP BY {keys} "
            "HAVING n != 0 OR errors != 0 OR sum_duration_ns != 0 OR notEmpty(h.1))")


def _groups_delta() -> str:
    source = (f"SELECT {_GROUP_KEYS.replace('tier,', 'toString(tier) AS tier,')}, n AS dn, errors AS de, "
              "sum_duration_ns AS dd, [bucket] AS b, [n] AS c FROM latency_rollup "
              f"WHERE width_ns = {DAY_NS} AND period_ns = {{lo:Int64}}")
    return _histogram_delta(_GROUP_KEYS, source, "latency_rollup_day_groups")


def _tiers_delta() -> str:
    source = (f"SELECT {_TIER_KEYS.replace('tier,', 'toString(tier) AS tier,')}, n AS dn, errors AS de, "
              "sum_duration_ns AS dd, histMap.bucket AS b, histMap.n AS c FROM latency_rollup_day_groups "
              "WHERE period_ns = {lo:Int64}")
    return _histogram_delta(_TIER_KEYS, source, "latency_rollup_day_tiers")


# each roll-up table, the SELECT of its corrections for one day, and the columns they are inserted as
STEPS: tuple[tuple[str, Callable[[], str], str], ...] = (
    ("latency_rollup", _rollup_delta, f"{_ROLLUP_KEYS}, n, errors, sum_duration_ns"),
    ("latency_rollup_day_groups", _groups_delta,
     f"{_GROUP_KEYS}, n, errors, sum_duration_ns, `histMap.bucket`, `histMap.n`"),
    ("latency_rollup_day_tiers", _tiers_delta,
     f"{_TIER_KEYS}, n, errors, sum_duration_ns, `histMap.bucket`, `histMap.n`"),
)


def span_days(client: ClickHouseClient) -> list[dt.date]:
    """The UTC days otel_traces holds spans for, oldest first."""
    rows = client.query_arrow("SELECT DISTINCT toDate(Timestamp, 'UTC') AS day FROM otel_traces ORDER BY day")
    return [d for d in rows.column("day").to_pylist() if d is not None]


def done_days(client: ClickHouseClient) -> set[dt.date]:
    """The days already backfilled under this roll-up definition."""
    rows = client.query_arrow(f"SELECT day FROM {LEDGER} FINAL WHERE definition = {{d:String}}",
                              {"d": definition()})
    return set(rows.column("day").to_pylist())


def _bounds(day: dt.date) -> dict[str, int]:
    lo = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
    return {"lo": lo, "hi": lo + DAY_NS}


def _count(client: ClickHouseClient, sql: str, params: dict[str, int]) -> int:
    return int(client.query_arrow(f"SELECT count() AS n FROM ({sql})", params).column("n")[0].as_py())


def backfill_day(client: ClickHouseClient, day: dt.date) -> DayDone:
    """Make the three roll-up tables equal to the day's spans, then record the day. Each table's corrections are
    computed once, into a scratch table, then counted and inserted."""
    started = time.perf_counter()
    params = _bounds(day)
    changed = 0
    scratch = f"tierwise_backfill_{uuid.uuid4().hex[:12]}"
    try:
        for table, delta, columns in STEPS:
            client.command(f"CREATE TABLE {scratch} ENGINE = Memory AS {delta()}", params)
            n = _count(client, f"SELECT 1 FROM {scratch}", {})
            if n:
                client.command(f"INSERT INTO {table} ({columns}) {_NO_DEDUP} SELECT {columns} FROM {scratch}")
                changed += n
            client.command(f"DROP TABLE {scratch}")
    finally:
        client.command(f"DROP TABLE IF EXISTS {scratch}")
    spans = int(client.query_arrow(f"SELECT count() AS n {_DAY}", params).column("n")[0].as_py())
    client.command(f"INSERT INTO {LEDGER} VALUES ({{day:Date}}, {{d:String}}, {{s:UInt64}}, {{c:UInt64}}, now64(6))",
                   {"day": day.isoformat(), "d": definition(), "s": spans, "c": changed})
    return DayDone(day, spans, changed, time.perf_counter() - started)


def backfill(client: ClickHouseClient, redo: bool = False,
             progress: Callable[[DayDone], None] | None = None) -> BackfillReport:
    """Backfill every day with spans not yet done under this definition (every day with `redo`); resumable: an
    interrupted run leaves the days it finished recorded, and a day redone adds nothing."""
    started = time.perf_counter()
    days = span_days(client)
    skip = set() if redo else done_days(client)
    done = []
    for day in days:
        if day in skip:
            continue
        result = backfill_day(client, day)
        done.append(result)
        if progress is not None:
            progress(result)
    return BackfillReport(tuple(done), len(days) - len(done), time.perf_counter() - started)


def check(client: ClickHouseClient) -> list[RollupCheck]:
    """Each roll-up table against its source (latency_rollup against the spans, each day table against the table it
    is kept from), over the days otel_traces holds."""
    differing: dict[str, list[tuple[dt.date, int]]] = {table: [] for table, _, _ in STEPS}
    for day in span_days(client):
        for table, delta, _ in STEPS:
            n = _count(client, delta(), _bounds(day))
            if n:
                differing[table].append((day, n))
    return [RollupCheck(t, sum(n for _, n in found), tuple(d for d, _ in found)) for t, found in differing.items()]
