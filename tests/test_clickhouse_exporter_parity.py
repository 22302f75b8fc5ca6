"""Spans the Collector wrote before `tierwise migrate` and spans it wrote after, in the exporter's current layout and
in an older one: every registered query, the roll-ups included, gives DuckDB's rows over the same spans once the
Collector has kept writing (roll-ups backfilled, then kept by the views); the roll-ups already right after the
migrate, when only the backfill has filled them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from test_clickhouse_exporter_ddl import create_exporter_tables
from test_clickhouse_exporter_writer import LAYOUTS, read_docs, write
from test_clickhouse_store import SPAN_COLUMNS, assert_frames_equal
from test_engine_parity import assert_same_rows

import store
from ingest.files import route
from ingest.files.sources import expand_paths
from ingest.sinks import clickhouse as load
from queries import registry
from queries.engines import dialect, engine
from store.clickhouse import backfill
from store.clickhouse.client import ClickHouseClient
from store.settings import Settings

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "committed"
QUERIES = [q.name for q in registry.queries()]
ROLLUP_QUERIES = ("latency_rollup_by_tier", "latency_rollup_over_time", "latency_rollup_by_group")
# Queries whose rows differ in one column for a reason outside tierwise's ClickHouse store: query → (column, why).
# The column is left out of the comparison; every other column must match.
ROLLUP_KEYS = "width_ns, period_ns, tier, site, workload, workload_type, service_name, name, bucket"


def more_point_types() -> dict[str, Any]:
    """Histogram, exponential histogram and summary points (the sample has gauges and sums only)."""
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "router"}},
                          {"key": "tierwise.tier", "value": {"stringValue": "edge"}}]}
    t = 1790812800 * 10**9
    hist = {"name": "http.server.request.duration", "unit": "s", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        {"startTimeUnixNano": str(t), "timeUnixNano": str(t + i * 60 * 10**9), "count": str(3 + i), "sum": 0.5 * i,
         "bucketCounts": ["1", str(1 + i), "1"], "explicitBounds": [0.1, 1.0], "min": 0.01, "max": 2.0,
         "attributes": [{"key": "http.route", "value": {"stringValue": "/v1/chat"}}]} for i in range(3)]}}
    expo = {"name": "rpc.duration", "unit": "ms", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [
        {"timeUnixNano": str(t + 30 * 10**9), "count": "6", "sum": 12.5, "min": 0.2, "max": 9.5, "scale": 2,
         "zeroCount": "1",
         "positive": {"offset": 3, "bucketCounts": ["2", "3"]}, "negative": {"offset": -1, "bucketCounts": []}}]}}
    summ = {"name": "gc.pause", "unit": "ms", "summary": {"dataPoints": [
        {"timeUnixNano": str(t + 90 * 10**9), "count": "4", "sum": 9.0,
         "quantileValues": [{"quantile": 0.5, "value": 2.0}, {"quantile": 0.99, "value": 4.5}]}]}}
    return {"resourceMetrics": [{"resource": res, "scopeMetrics": [{"scope": {"name": "t"},
                                                                     "metrics": [hist, expo, summ]}]}]}


def split_spans(docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The documents' spans in two halves (each scope's first half, then the rest), as two lists of documents."""
    halves: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for doc in docs:
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                cut = len(ss["spans"]) // 2
                for half, spans in zip(halves, (ss["spans"][:cut], ss["spans"][cut:]), strict=True):
                    half.append({"resourceSpans": [{**rs, "scopeSpans": [{**ss, "spans": spans}]}]})
    return halves


def jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(d) for d in docs) + b"\n")
    return path


def duckdb_store(path: Path, files: list[Path]) -> engine.DuckDBEngine:
    con = store.open_writer(path)
    for f in files:
        assert route.ingest_any(con, f, Settings()).status == "complete", f
    con.close()
    return engine.DuckDBEngine(store.connect(path, read_only=True))


class CollectorFed:
    """One Collector-fed ClickHouse store and the DuckDB store over the same spans: first as `tierwise migrate` left
    it (days 1-20 and half of day 21 written before it), then, once `advance()` has run, after the Collector wrote
    the rest of the month. The tests of the first moment come first in this file, as pytest runs them."""

    def __init__(self, layout: str, base: Path) -> None:
        days = [read_docs(p) for p in sorted((SAMPLE / "traces").iterdir())]
        first_half, second_half = split_spans(days[20])
        before_docs = [d for day in days[:20] for d in day] + first_half
        self.after_docs = second_half + [d for day in days[21:] for d in day]
        metric_docs = [d for p in sorted((SAMPLE / "metrics").iterdir())[:7] for d in read_docs(p)]
        metric_docs.append(more_point_types())
        self.layout, self.base = layout, base
        self.files = [jsonl(base / "before.jsonl", before_docs), jsonl(base / "metrics.jsonl", metric_docs),
                      *expand_paths([SAMPLE / "bills"])]
        url = f"chdb://{base / 'ch'}"
        with ClickHouseClient(url) as client:
            create_exporter_tables(client, layout)
            write(client, before_docs + metric_docs, layout)
        self.migrated = load.migrate(url, Settings())
        assert all(r.status == "complete" for r in load.ingest_paths(url, self.files[2:], Settings()))
        self.client = ClickHouseClient(url, settings=dialect.SETTINGS)
        self.click = engine.ClickHouseEngine(self.client)
        self.duck = duckdb_store(base / "before.duckdb", self.files)
        self.advanced = False

    def advance(self) -> None:
        """The Collector writes the rest of the month (the views keep the roll-ups); DuckDB gets the same spans."""
        if self.advanced:
            return
        write(self.client, self.after_docs, self.layout)
        self.duck.close()
        after = jsonl(self.base / "after.jsonl", self.after_docs)
        self.duck = duckdb_store(self.base / "after.duckdb", [*self.files, after])
        self.advanced = True

    def both(self, name: str, params: dict[str, object] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
        return registry.run(self.duck, name, params), registry.run(self.click, name, params)


@pytest.fixture(scope="module", params=LAYOUTS)
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorFed]:
    state = CollectorFed(str(request.param), tmp_path_factory.mktemp(f"exporter-{request.param}"))
    yield state
    state.client.close()
    state.duck.close()


def same_rows(name: str, duck: pl.DataFrame, click: pl.DataFrame) -> None:
    """assert_same_rows, naming the query on a difference."""
    try:
        assert_same_rows(duck, click)
    except AssertionError as e:
        raise AssertionError(f"{name}: {e}") from e


def rollup_rows(duck: engine.DuckDBEngine, click: engine.ClickHouseEngine) -> tuple[list[Any], list[Any]]:
    """latency_rollup on both engines, summed by key (ClickHouse's parts are not merged)."""
    sql = (f"SELECT {ROLLUP_KEYS}, sum(n) AS sn, sum(errors) AS se, sum(sum_duration_ns) AS sd FROM latency_rollup "
           f"GROUP BY {ROLLUP_KEYS} ORDER BY {ROLLUP_KEYS}")
    d = duck.con.execute(sql).fetchall()
    c = [tuple(r.values()) for r in click.client.query_arrow(sql.replace("ORDER BY", "HAVING sn != 0 ORDER BY"))
         .to_pylist()]
    return [tuple(int(x) if isinstance(x, int) else x for x in r) for r in d], c


def test_migrate_backfilled_each_day_written_before_it(fed: CollectorFed) -> None:
    assert fed.migrated.schema.failed == () and fed.migrated.backfill is not None
    assert len(fed.migrated.backfill.done) == 21 and fed.migrated.backfill.spans > 2500
    assert not fed.advanced, "run the tests of this file in their order"
    duck_rows, click_rows = rollup_rows(fed.duck, fed.click)
    assert duck_rows == click_rows and len(duck_rows) > 1000


@pytest.mark.parametrize("name", ROLLUP_QUERIES)
def test_right_after_migrate_the_roll_up_queries_give_duckdbs_rows(fed: CollectorFed, name: str) -> None:
    """Only the backfill has filled the roll-ups yet (the other queries read the spans, which migrate leaves as
    they are: they are compared once the Collector has written the rest)."""
    assert not fed.advanced, "run the tests of this file in their order"
    same_rows(name, *fed.both(name))


@pytest.mark.parametrize("name", QUERIES)
def test_after_the_collector_kept_writing_every_query_gives_duckdbs_rows(fed: CollectorFed, name: str) -> None:
    fed.advance()
    same_rows(name, *fed.both(name))


@pytest.mark.parametrize("name", ROLLUP_QUERIES)
def test_roll_up_windows_cut_inside_days_give_duckdbs_rows(fed: CollectorFed, name: str) -> None:
    """Windows whose edges fall mid-day read the minute rows, whole days the day histograms: both were backfilled."""
    fed.advance()
    lo, hi = fed.duck.con.execute("SELECT min(start_ns), max(start_ns) FROM spans").fetchall()[0]
    for start, end in ((lo + 5 * 3600 * 10**9, hi - 7 * 3600 * 10**9), (lo, lo + 30 * 3600 * 10**9)):
        assert_same_rows(*fed.both(name, {"start_ns": start, "end_ns": end}))


def test_the_roll_up_equals_duckdbs_and_check_finds_every_roll_up_whole(fed: CollectorFed) -> None:
    fed.advance()
    duck_rows, click_rows = rollup_rows(fed.duck, fed.click)
    assert duck_rows == click_rows
    assert [(c.table, c.differing) for c in backfill.check(fed.client)] == [
        ("latency_rollup", 0), ("latency_rollup_day_groups", 0), ("latency_rollup_day_tiers", 0)]


def test_metric_points_of_every_type_equal_duckdbs(fed: CollectorFed) -> None:
    fed.advance()
    cols = ["metric_name", "metric_type", "time_ns", "value", "count", "sum", "min", "max", "service_name"]
    duck = fed.duck.con.sql(f"SELECT {', '.join(cols)} FROM metric_points").pl().sort(cols, nulls_last=True)
    click = pl.from_arrow(fed.client.query_arrow(f"SELECT {', '.join(cols)} FROM metric_points"))
    assert isinstance(click, pl.DataFrame)
    click = click.select(pl.col(c).cast(duck[c].dtype) for c in cols).sort(cols, nulls_last=True)
    assert set(duck["metric_type"]) == {"gauge", "sum", "histogram", "exponential_histogram", "summary"}
    assert duck.to_dicts() == click.to_dicts()


def test_every_span_reads_back_as_duckdb_stores_it(fed: CollectorFed) -> None:
    """The contract columns of `spans`, span for span, whichever layout the Collector wrote."""
    fed.advance()
    duck = fed.duck.con.sql(f"SELECT {SPAN_COLUMNS} FROM spans").pl()
    click = pl.from_arrow(fed.client.query_arrow(f"SELECT {SPAN_COLUMNS} FROM spans"))
    assert isinstance(click, pl.DataFrame) and duck.height == 3997
    assert_frames_equal(duck, click, ["trace_id", "span_id", "start_ns"])
