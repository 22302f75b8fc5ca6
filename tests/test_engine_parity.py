"""Every registered query gives the same rows on DuckDB and on ClickHouse (chdb, in-process) over the committed sample."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from golden_support import ingest_isolated

import store
from ingest.billing import ledger
from queries import registry
from queries.engines import dialect, engine
from queries.engines.duckdb_engine import DuckDBEngine
from store import derived
from store.clickhouse import schema
from store.clickhouse.client import ClickHouseClient

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "committed"
# every trace and bill, and a week of metrics (metric points are 30x the spans; a week covers every GPU query's shape)
SOURCES = [SAMPLE / "traces", SAMPLE / "bills", *sorted((SAMPLE / "metrics").iterdir())[:7]]
LEDGER = {"schema_migrations", "ingest_files", "ingest_batches", "quarantine"}  # ingest's bookkeeping, never queried
MODEL_ONLY = {"request_entries", "span_places", "span_dups"}  # read by the semantic model, which runs on DuckDB only
PERCENTILE = re.compile(r"^p\d+_ms$")
REL = 1e-9  # floats: money and means summed in another order may differ in the last bits, nothing more

# DuckDB column types → ClickHouse (the harness copy; the Collector-fed schema lives in store/clickhouse/)
SCALAR = {"VARCHAR": "String", "JSON": "String", "BIGINT": "Int64", "UBIGINT": "UInt64", "INTEGER": "Int32",
          "UINTEGER": "UInt32", "SMALLINT": "Int16", "DOUBLE": "Float64", "FLOAT": "Float32", "BOOLEAN": "Bool",
          "DATE": "Date32", "TIMESTAMP": "DateTime64(6, 'UTC')", "TIMESTAMP WITH TIME ZONE": "DateTime64(6, 'UTC')"}


def clickhouse_type(duck: str, nullable: bool) -> str:
    if duck.endswith("[]"):  # ClickHouse arrays cannot be NULL: an absent list is empty
        return f"Array({clickhouse_type(duck[:-2], False)})"
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck)
    base = f"Decimal({decimal[1]}, {decimal[2]})" if decimal else SCALAR[duck]
    return f"Nullable({base})" if nullable else base


def copy_store(con: duckdb.DuckDBPyConnection, client: ClickHouseClient) -> list[str]:
    """Every table of the store as a MergeTree table with the same columns, then the views of views.sql and the
    derived tables' ClickHouse views (store/derived).

    A derived table that ClickHouse defines as a view over spans (the per-trace index) is not copied: the view is
    what a ClickHouse store has, so it is what the queries must agree with. The roll-up's day histograms are derived
    from the copied latency_rollup by the schema file that keeps them on ClickHouse.
    """
    views = resources.files("store.clickhouse").joinpath("views.sql").read_text(encoding="utf-8")
    derived_views = derived.clickhouse_views()
    as_views = set(re.findall(r"CREATE OR REPLACE VIEW (\w+)", views)) | {table for table, _ in derived_views}
    tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = "
                                        "'BASE TABLE' OR table_name = 'costs' ORDER BY table_name").fetchall()
              if t not in LEDGER | MODEL_ONLY and t not in as_views
              and t not in ledger.TABLES]  # costs: one table, not its layout
    for table in tables:
        columns = con.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                              "WHERE table_name = $t ORDER BY ordinal_position", {"t": table}).fetchall()
        ddl = ", ".join(f"`{n}` {clickhouse_type(d, nullable == 'YES')}" for n, d, nullable in columns)
        client.command(f"CREATE TABLE `{table}` ({ddl}) ENGINE = MergeTree ORDER BY tuple()")
        data = con.sql(f'SELECT * FROM "{table}"').arrow()
        client.insert_arrow(table, data.read_all() if isinstance(data, pa.RecordBatchReader) else data)
    for statement in views.split("\n;\n"):
        client.command(statement)
    for _, statement in derived_views:
        client.command(statement)
    if "latency_rollup" in tables:  # what ClickHouse keeps beside it: its day rows as histograms (schema 0091)
        for statement in schema.rollup_days().statements():
            client.command(statement)
    return tables


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[engine.Engine, engine.Engine]]:
    """The committed sample ingested by the real CLI into DuckDB, and the same tables in one chdb session."""
    db, _ = ingest_isolated(tmp_path_factory.mktemp("parity"), SOURCES)
    con = store.connect(db, read_only=True)
    client = ClickHouseClient("chdb://", settings=dialect.SETTINGS)
    copied = copy_store(con, client)
    assert {"spans", "metric_points", "costs", "billing_source_totals"} <= set(copied)
    yield DuckDBEngine(con), engine.ClickHouseEngine(client)
    client.close()
    con.close()


def _normalized(frame: pl.DataFrame) -> pl.DataFrame:
    """Compare values, not storage widths: integers as Int64, decimals as Float64, timestamps as naive µs."""
    cols = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Decimal) or dtype == pl.Float32:
            col = col.cast(pl.Float64)
        elif dtype.is_integer():
            col = col.cast(pl.Int64)
        elif isinstance(dtype, pl.Datetime):
            col = col.dt.replace_time_zone(None).dt.cast_time_unit("us")
        cols.append(col)
    return frame.select(cols)


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [pl.col(n).round_sig_figs(9) if t == pl.Float64 else pl.col(n) for n, t in frame.schema.items()
            if not isinstance(t, pl.List | pl.Struct | pl.Array)]
    return frame.sort(keys, nulls_last=True) if keys else frame


def assert_same_rows(duck: pl.DataFrame, click: pl.DataFrame) -> None:
    """Same columns and types, same rows in any order; integers and strings exact, floats within REL."""
    assert duck.columns == click.columns
    assert duck.height == click.height
    d, c = _normalized(duck), _normalized(click)
    assert d.schema == c.schema
    d, c = _canonical(d), _canonical(c)
    for name, dtype in d.schema.items():
        for i, (x, y) in enumerate(zip(d[name].to_list(), c[name].to_list(), strict=True)):
            if dtype == pl.Float64 and x is not None and y is not None:
                if math.isnan(x) and math.isnan(y):
                    continue
                # exact percentiles: the same R-7 interpolation on the same values, up to the last few bits
                tolerance = 1e-12 if PERCENTILE.match(name) else REL
                assert abs(x - y) <= tolerance * max(abs(x), abs(y), 1.0), f"{name} row {i}: {x!r} vs {y!r}"
            else:
                assert x == y, f"{name} row {i}: {x!r} vs {y!r}"


@pytest.fixture(scope="module")
def filters(engines: tuple[engine.Engine, engine.Engine]) -> dict[str, object]:
    """Values a filtered run narrows to: the busiest workload and site, edge tier, the middle half of the window."""
    duck = engines[0]
    assert isinstance(duck, DuckDBEngine)
    workload, site, lo, hi = duck.con.execute(
        "SELECT (SELECT mode(workload) FROM spans), (SELECT mode(site) FROM spans), min(start_ns), max(start_ns) "
        "FROM spans").fetchall()[0]
    quarter = (hi - lo) // 4
    return {"workload": workload, "site": site, "tier": "edge", "start_ns": lo + quarter, "end_ns": hi - quarter,
            "bucket": "day", "by_site": "yes"}


# The queries whose rows are known to differ between the engines, each with why: query name → reason. Every test
# of such a query is a strict expected failure, so a difference that goes away fails (drop the entry), and a query
# not listed here must give the same rows: SQL the dialect refuses (DialectError) or a table the store lacks
# (CatalogException) fails like any other difference. Empty today: every registered query agrees on both engines.
KNOWN_DIFFERENCES: dict[str, str] = {}

QUERIES = [q.name for q in registry.queries()]


def _cases(names: list[str]) -> list[object]:
    """Every query as a case; a known difference marked as a strict expected failure with its reason."""
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=f"{n}: {KNOWN_DIFFERENCES[n]}"))
            if n in KNOWN_DIFFERENCES else n for n in names]


def test_known_differences_name_registered_queries() -> None:
    """An entry for a query that no longer exists is stale: remove it."""
    assert set(KNOWN_DIFFERENCES) <= set(QUERIES), sorted(set(KNOWN_DIFFERENCES) - set(QUERIES))


@pytest.mark.parametrize("name", _cases(QUERIES))
def test_default_params_give_the_same_rows(engines: tuple[engine.Engine, engine.Engine], name: str) -> None:
    duck, click = engines
    assert_same_rows(registry.run(duck, name), registry.run(click, name))


@pytest.mark.parametrize("name", _cases(QUERIES))
def test_filtered_params_give_the_same_rows(engines: tuple[engine.Engine, engine.Engine], filters: dict[str, object],
                                            name: str) -> None:
    duck, click = engines
    query = registry.get(name)
    params = {p.name: filters[p.name] for p in query.params if p.name in filters}
    if not params:
        pytest.skip(f"{name} takes no filter")
    assert_same_rows(registry.run(duck, name, params), registry.run(click, name, params))


def test_the_comparison_can_fail(engines: tuple[engine.Engine, engine.Engine]) -> None:
    """A p95 one part in a million off, or one row fewer, is caught."""
    duck, _ = engines
    rows = registry.run(duck, "latency_by_tier")
    with pytest.raises(AssertionError):
        assert_same_rows(rows, rows.with_columns(pl.col("p95_ms") * (1 + 1e-6)))
    with pytest.raises(AssertionError):
        assert_same_rows(rows, rows.head(rows.height - 1))


def test_per_engine_files_exist_only_for_registered_queries() -> None:
    """queries/engines/clickhouse/<name>.sql replaces a transpiled query; each must have its DuckDB original (tested above)."""
    folder = resources.files("queries.engines").joinpath("clickhouse")
    overrides = [e.name.removesuffix(".sql") for e in folder.iterdir() if e.name.endswith(".sql")]
    assert overrides, "expected at least trust_zone_violations"
    for name in overrides:
        assert registry.get(name).sql == name
        assert engine.clickhouse_sql(name, registry.sql_types(name)).strip().startswith("--")


def test_clickhouse_never_uses_sampled_quantiles() -> None:
    """ClickHouse `quantile`/`median`/`quantiles` are reservoir samples: no query may reach them."""
    sampled = re.compile(r"\b(quantile|quantiles|median|quantileTDigest)\s*\(", re.IGNORECASE)
    for query in registry.queries():
        name = query.sql or query.source
        assert name is not None
        try:
            text = engine.clickhouse_sql(name, registry.sql_types(name))
        except dialect.DialectError:
            continue
        assert not sampled.search(text), f"{name} uses a sampled quantile"
        assert "PERCENTILE_CONT" not in text.upper()


@pytest.mark.slow
def test_cli_query_on_clickhouse_prints_what_duckdb_prints(tmp_path: Path) -> None:
    """Real processes: `tierwise ingest` into DuckDB and into chdb, then `tierwise query --engine clickhouse`."""
    import json
    import os
    import subprocess
    import sys

    trace_file = ROOT / "tests" / "fixtures" / "tiny_store" / "traces.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
    url = f"chdb://{tmp_path / 'ch'}"

    def tierwise(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    tierwise("ingest", "--quiet", "--db", str(tmp_path / "t.duckdb"), str(trace_file))
    tierwise("ingest", "--quiet", "--engine", "clickhouse", "--clickhouse-url", url, str(trace_file))
    duck = json.loads(tierwise("query", "latency_by_tier", "--db", str(tmp_path / "t.duckdb"), "--format", "json"))
    click = json.loads(tierwise("query", "latency_by_tier", "--engine", "clickhouse", "--clickhouse-url", url,
                                "--format", "json"))
    assert duck and len(duck) == len(click)
    assert_same_rows(pl.DataFrame(duck), pl.DataFrame(click))


def test_clickhouse_urls_never_carry_a_password() -> None:
    from store.clickhouse.client import ClickHouseError, parse_url

    server = parse_url("clickhouse://tierwise@ch.internal:8123/otel")
    assert (server.kind, server.host, server.port, server.username, server.database) == \
        ("server", "ch.internal", 8123, "tierwise", "otel")
    assert parse_url("https://u@x.cloud/db").port == 8443 and parse_url("https://u@x.cloud/db").secure
    assert parse_url("chdb:///var/lib/ch").path == "/var/lib/ch" and parse_url("chdb://").path is None
    with pytest.raises(ClickHouseError, match="TIERWISE_CLICKHOUSE_PASSWORD"):
        parse_url("clickhouse://u:secret@host:8123/db")
    assert "secret" not in server.describe()
