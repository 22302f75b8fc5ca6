"""Latency roll-up buckets: exact on every edge, the same on DuckDB and ClickHouse, and ClickHouse's MV keeps it."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from rollup_support import BOUND, HOUR_NS, T0, distributions, load_in_batches

import store
from queries import registry
from queries.engines import dialect, engine
from queries.engines.duckdb_engine import DuckDBEngine
from store.clickhouse import schema as ch_schema
from store.clickhouse.client import ClickHouseClient
from store.derived import rollup

ROOT = Path(__file__).parents[1]
SCHEMA = ROOT / "store"
QUERIES = ("latency_rollup_by_tier", "latency_rollup_over_time", "latency_rollup_by_group")


@pytest.fixture(scope="module")
def edge_values() -> list[int]:
    """Integers on and around every bucket edge γ^i up to 2^62 ns, plus 0, 1 ns, 1 h and negatives."""
    out = {-5, 0, 1, 2, 3, 3_600_000_000_000}
    i = 1
    while (edge := rollup.GAMMA ** i) <= 2 ** 62:
        out.update(d for d in range(math.floor(edge) - 1, math.ceil(edge) + 2) if d > 0)
        i += 1
    return sorted(out)


def test_bucket_holds_its_values(edge_values: list[int]) -> None:
    """γ^(b-1) < d ≤ γ^b in exact arithmetic (γ = 101/99), so the representative is within α of d."""
    gamma = Fraction(101, 99)
    ln_gamma = math.log(101 / 99)
    for d in edge_values:
        b = rollup.bucket_of(d)
        if d <= 0:
            assert b == rollup.ZERO_BUCKET and rollup.representative_ns(b) == 0
            continue
        # exact comparison with integers: γ^b ≥ d ⇔ 101^b ≥ d·99^b (b up to ~2200: Python ints are exact)
        near_edge = abs(math.log(d) / ln_gamma - round(math.log(d) / ln_gamma)) < 1e-9
        if not near_edge:
            assert gamma ** b >= d > gamma ** (b - 1), d
        assert abs(rollup.representative_ns(b) - d) <= BOUND * d, d


def test_duckdb_and_clickhouse_agree_on_every_bucket_edge(tmp_path: Path, edge_values: list[int]) -> None:
    pytest.importorskip("chdb")

    durations = pa.table({"duration_ns": pa.array(edge_values, pa.int64())})
    duck = duckdb.connect()
    duck.register("durations", durations)
    in_duckdb = duck.execute(f"SELECT duration_ns, {rollup.BUCKET_SQL} FROM durations ORDER BY 1").fetchall()
    ch = ClickHouseClient(f"chdb://{tmp_path / 'ch'}")
    try:
        ch.command("CREATE TABLE durations (duration_ns Int64) ENGINE = MergeTree ORDER BY duration_ns")
        ch.insert_arrow("durations", durations)
        got = ch.query_arrow(f"SELECT duration_ns, {rollup.BUCKET_SQL} AS b FROM durations ORDER BY duration_ns")
    finally:
        ch.close()
    in_clickhouse = list(zip(got.column(0).to_pylist(), got.column(1).to_pylist(), strict=True))
    python = [(d, rollup.bucket_of(d)) for d in edge_values]
    assert len(python) > 6000
    assert in_duckdb == python
    assert in_clickhouse == python


def test_every_engine_file_uses_the_same_bucket_expression() -> None:
    """The arithmetic is written out in several places; the constants must not drift apart."""
    needle = "CAST(ceil(ln(duration_ns) * 49.99833328888678) AS INTEGER)"
    assert needle in rollup.BUCKET_SQL
    assert needle in (SCHEMA / "migrations" / "0005_latency_rollup.sql").read_text("utf-8")
    assert needle in (SCHEMA / "clickhouse" / "schema" / "0090_latency_rollup.sql").read_text("utf-8")
    assert 1 / math.log(rollup.GAMMA) == rollup.INV_LN_GAMMA
    assert math.log(rollup.GAMMA) == rollup.LN_GAMMA
    assert 2 / (1 + rollup.GAMMA) == 0.9900000000000001
    representative = "* 0.020000666706669435) * 0.9900000000000001"
    files = [ROOT / "queries" / f"{name}.sql" for name in QUERIES]
    files += [p for p in (ROOT / "queries" / "engines" / "clickhouse").glob("latency_rollup_*.sql")]
    assert len(files) >= 5
    for path in files:
        text = path.read_text("utf-8")
        assert representative in text, path
        assert "< 0 THEN 0.0" in text or "< 0, 0.0" in text, path  # bucket -1 (durations ≤ 0) reports as 0


DAY_TABLES = {"latency_rollup_day_groups": ("period_ns", "tier", "site", "workload", "service_name", "name",
                                             "workload_type"),
              "latency_rollup_day_tiers": ("period_ns", "tier", "site", "workload", "workload_type")}


def assert_day_tables_hold_the_day_rows(client: ClickHouseClient) -> int:
    """Schema 0091's tables equal latency_rollup's day rows summed per their keys, bucket by bucket; returns the
    number of (key, bucket) pairs compared."""
    compared = 0
    for table, keys in DAY_TABLES.items():
        k = ", ".join(keys)
        total = "toInt64(sum(n)) AS spans, toInt64(sum(errors)) AS e, toInt64(sum(sum_duration_ns)) AS d"
        want = client.query_arrow(f"SELECT {k}, {total}, sumMap([bucket], [n]) AS h, h.1 AS b, h.2 AS c "
                                  "FROM latency_rollup "
                                  f"WHERE width_ns = {rollup.DAY_NS} GROUP BY {k} ORDER BY {k}").to_pylist()
        got = client.query_arrow(f"SELECT {k}, {total}, sumMap(histMap.bucket, histMap.n) AS h, h.1 AS b, "
                                 f"h.2 AS c FROM {table} "
                                 f"GROUP BY {k} ORDER BY {k}").to_pylist()
        assert got == want, table
        compared += sum(len(r["b"]) for r in want)
    return compared


def test_clickhouse_view_keeps_the_rollup_of_collector_inserts(tmp_path: Path) -> None:
    """Inserts into otel_traces reach latency_rollup through the MV, equal to the roll-up of the `spans` view."""
    pytest.importorskip("chdb")
    ch = ClickHouseClient(f"chdb://{tmp_path / 'ch'}")
    try:
        ch_schema.apply(ch)
        for k in range(2):  # two inserts: the MV sees each block on its own, the table sums them
            ch.command("""INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind,
                ServiceName, ResourceAttributes, SpanAttributes, Duration, StatusCode)
                SELECT toDateTime64('2026-01-01 00:00:00', 9) + toIntervalSecond(number * 7 + {k:Int32}),
                       hex(number), hex(number + 1000), if(number % 3 = 0, '', 'ab'), concat('op', toString(number % 4)),
                       ['Server', 'Client', 'SPAN_KIND_CONSUMER', 'Internal'][number % 4 + 1],
                       concat('svc', toString(number % 5)),
                       map('tierwise.tier', ['edge', 'device', 'cloud', ''][number % 4 + 1], 'cloud.region', 'eu-west-1'),
                       map('tierwise.workload', concat('w', toString(number % 2))),
                       [0, 1, 2, 1000, 3600000000000, 999999][number % 6 + 1] + number,
                       ['Error', 'Ok', 'Unset'][number % 3 + 1]
                FROM numbers(300)""", {"k": k})
        keys = ", ".join(rollup.KEYS)
        totals = f"SELECT {keys}, sum(n) AS n, sum(errors) AS e, sum(sum_duration_ns) AS s FROM"
        via_mv = ch.query_arrow(f"{totals} latency_rollup GROUP BY {keys} ORDER BY {keys}")
        fresh = rollup.histogram_sql("spans").replace("GROUP BY ALL", f"GROUP BY {keys}")
        from_view = ch.query_arrow(f"{totals} ({fresh}) GROUP BY {keys} ORDER BY {keys}")
        assert assert_day_tables_hold_the_day_rows(ch) > 50  # and on along the chain of views (schema 0091)
    finally:
        ch.close()
    assert via_mv.to_pylist() == from_view.to_pylist()
    assert via_mv.num_rows > 50
    # server, consumer and root spans: 200 of each insert's 300, once per width (minute and day)
    assert sum(via_mv.column("n").to_pylist()) == 2 * 2 * 200


def latency_rollup_0090(client: ClickHouseClient) -> None:
    """0090's table in `client`, without its view over otel_traces."""
    ddl = (SCHEMA / "clickhouse" / "schema" / "0090_latency_rollup.sql").read_text("utf-8")
    start = ddl.index("CREATE TABLE")
    client.command(ddl[start:ddl.index(";", start)])


def test_schema_0091_copies_the_day_rows_once_and_its_views_keep_them(tmp_path: Path) -> None:
    """Applied over a roll-up that already holds rows, 0091 fills its tables from them; applying it again (an
    interrupted schema step) copies them once, not twice; later inserts reach both tables through the views."""
    pytest.importorskip("chdb")

    con = store.open_writer(tmp_path / "s.duckdb")
    load_in_batches(con, distributions(200), 300, 1)
    rows = con.sql("SELECT * FROM latency_rollup").arrow().read_all()
    con.close()
    client = ClickHouseClient("chdb://")
    try:
        latency_rollup_0090(client)
        client.insert_arrow("latency_rollup", rows.slice(0, rows.num_rows // 2))
        before = 0
        for _ in range(2):
            for statement in ch_schema.rollup_days().statements():
                client.command(statement)
            copied = assert_day_tables_hold_the_day_rows(client)
            assert copied > 100 and before in (0, copied)
            before = copied
        client.insert_arrow("latency_rollup", rows.slice(rows.num_rows // 2))
        assert assert_day_tables_hold_the_day_rows(client) > copied
    finally:
        client.close()


def test_clickhouse_forms_of_the_queries_equal_duckdb_on_day_windows(tmp_path: Path) -> None:
    """The per-engine ClickHouse files (queries/engines/clickhouse/latency_rollup_*) on windows that read day histograms or
    minute rows, with groups of one span up to hundreds, over two unmerged parts: the same rows as DuckDB, p* to 1e-9
    relative."""
    pytest.importorskip("chdb")

    con = store.open_writer(tmp_path / "s.duckdb")
    load_in_batches(con, distributions(300), 300, 2)  # 5 hours of 2026-01-01: about one span per minute and tier
    client = ClickHouseClient("chdb://", settings=dialect.SETTINGS)
    try:
        latency_rollup_0090(client)
        for statement in ch_schema.rollup_days().statements():  # 0091's day histograms, kept by its views
            client.command(statement)
        rows = con.sql("SELECT * FROM latency_rollup").arrow().read_all()
        for half in (rows.slice(0, rows.num_rows // 2), rows.slice(rows.num_rows // 2)):  # two inserts: two parts
            client.insert_arrow("latency_rollup", half)
        assert assert_day_tables_hold_the_day_rows(client) > 1000
        duck, click = DuckDBEngine(con), engine.ClickHouseEngine(client)
        compared = 0
        for name in QUERIES:
            for bucket in ("minute", "day", "week"):
                for start_h, end_h in ((None, None), (0, 24), (1, 4)):  # all, a whole day, minute edges
                    params = {"bucket": bucket, "tier": None, "site": None, "workload": None, "workload_class": "all",
                              "start_ns": None if start_h is None else T0 + start_h * HOUR_NS,
                              "end_ns": None if end_h is None else T0 + end_h * HOUR_NS}
                    d, c = registry.fetch(duck, name, params), registry.fetch(click, name, params)
                    assert c.columns == d.columns and c.height == d.height > 0, (name, bucket, start_h)
                    exact = [x for x in d.columns if not x.endswith("_ms") and x != "error_rate"]
                    counts = {x: pl.Int64 for x in ("requests", "errors") if x in exact}
                    assert c.select(exact).cast(counts).equals(d.select(exact))
                    for col in ("p50_ms", "p95_ms", "p99_ms", "mean_ms"):
                        assert c[col].to_list() == pytest.approx(d[col].to_list(), rel=1e-9, abs=1e-15), (name, col)
                    compared += d.height
        assert compared > 1000
    finally:
        client.close()
        con.close()
