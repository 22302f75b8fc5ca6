"""ClickHouse store (chdb in-process): the views over the Collector's tables equal the DuckDB store, row for row."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import polars as pl
import pyarrow as pa
import pytest
import tier_corpus

import store
from ingest.files import route
from ingest.files.sources import expand_paths
from ingest.otlp.rows import resource_context
from ingest.sinks import clickhouse as load
from store import contract
from store.clickhouse import backfill, schema
from store.clickhouse.client import ClickHouseClient
from store.clickhouse.otel_layout import STR_MAP, go_string
from store.settings import Settings, TierRules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "committed"
FIXTURES = Path(__file__).parent / "fixtures"
EXPORTER_ROWS = orjson.loads((FIXTURES / "clickhouse_exporter" / "rows.json").read_bytes())

SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, trace_state, name, kind, status_code, status_message, service_name, tier, "
    "tier_source, site, workload, workload_type, data_class, latency_budget_ms, host_name, start_ns, end_ns, "
    "duration_ns, cache_hit, cache_name, gen_ai_model, input_tokens, output_tokens, cache_read_tokens, "
    "request_bytes, response_bytes, scope_name, scope_version, resource_attributes, attributes, events, links")
POINT_COLUMNS = (
    "metric_name, description, unit, metric_type, temporality, is_monotonic, time_ns, start_time_ns, value, count, "
    "sum, scale, zero_count, positive_offset, negative_offset, quantile_values, flags, canonical_name, "
    "canonical_value, service_name, tier, tier_source, site, workload, host_name, scope_name, scope_version, "
    "resource_attributes, attributes")
JSON_COLUMNS = ("resource_attributes", "attributes", "events", "links")


@dataclass(frozen=True)
class Stores:
    duckdb_path: Path
    clickhouse_url: str


def as_exporter_json(text: str | None) -> str | None:
    """DuckDB's typed attribute JSON as the exporter keeps it: every value a string, keys sorted."""
    if text is None:
        return None

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: go_string(x) for k, x in v.items()}
        if isinstance(v, list):
            return [{k: (conv(x) if k == "attributes" else x) for k, x in item.items()} for item in v]
        return v

    return orjson.dumps(conv(orjson.loads(text)), option=orjson.OPT_SORT_KEYS).decode()


def sorted_json(text: str | None) -> str | None:
    return None if text is None else orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS).decode()


def assert_frames_equal(duck: pl.DataFrame, ch: pl.DataFrame, keys: list[str]) -> None:
    """Same rows on every column; each ClickHouse column is cast to DuckDB's type before comparing."""
    assert duck.height == ch.height > 0
    for c in JSON_COLUMNS:
        if c in duck.columns:
            duck = duck.with_columns(pl.col(c).map_elements(as_exporter_json, return_dtype=pl.String))
            ch = ch.with_columns(pl.col(c).map_elements(sorted_json, return_dtype=pl.String))
    duck, ch = duck.sort(keys, nulls_last=True), ch.sort(keys, nulls_last=True)
    for c in duck.columns:
        a, b = duck[c], ch[c].cast(duck[c].dtype)
        bad = a.ne_missing(b)
        assert not bad.any(), f"{c}: {a.filter(bad).head(3).to_list()} != {b.filter(bad).head(3).to_list()}"


def sample_files() -> list[Path]:
    """The committed sample: every trace and bill file, and three days of metrics (the metrics are 30x the spans)."""
    metrics = sorted((SAMPLE / "metrics").iterdir())[:3]
    return [p for p in expand_paths([SAMPLE]) if "metrics" not in p.parts] + metrics


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    """The committed sample ingested once into DuckDB and once into ClickHouse (chdb)."""
    base = tmp_path_factory.mktemp("ch-sample")
    duck = base / "store.duckdb"
    con = store.open_writer(duck)
    for f in sample_files():
        route.ingest_any(con, f, Settings())
    con.close()
    url = f"chdb://{base / 'ch'}"
    results = load.ingest_paths(url, sample_files(), Settings())
    assert all(r.status == "complete" for r in results), [r for r in results if r.status != "complete"]
    return Stores(duck, url)


@pytest.fixture
def both(sample: Stores) -> Iterator[tuple[duckdb.DuckDBPyConnection, ClickHouseClient]]:
    con = duckdb.connect(str(sample.duckdb_path), read_only=True)
    client = ClickHouseClient(sample.clickhouse_url)
    yield con, client
    client.close()
    con.close()


@pytest.fixture
def chdb_client(tmp_path: Path) -> Iterator[ClickHouseClient]:
    client = ClickHouseClient(f"chdb://{tmp_path / 'ch'}")
    schema.apply(client)
    yield client
    client.close()


def test_spans_view_equals_duckdb_spans_row_for_row(both: tuple[duckdb.DuckDBPyConnection, ClickHouseClient]) -> None:
    con, client = both
    duck = con.sql(f"SELECT {SPAN_COLUMNS} FROM spans").pl()
    ch = pl.from_arrow(client.query_arrow(f"SELECT {SPAN_COLUMNS} FROM spans"))
    assert isinstance(ch, pl.DataFrame)
    assert set(duck["tier"].unique()) >= {"device", "edge", "regional", "hyperscale"}  # the sample covers every tier
    assert_frames_equal(duck, ch, ["trace_id", "span_id", "start_ns"])


def test_metric_points_view_equals_duckdb(both: tuple[duckdb.DuckDBPyConnection, ClickHouseClient]) -> None:
    con, client = both
    duck = con.sql(f"SELECT {POINT_COLUMNS} FROM metric_points").pl()
    ch = pl.from_arrow(client.query_arrow(f"SELECT {POINT_COLUMNS} FROM metric_points"))
    assert isinstance(ch, pl.DataFrame)
    assert duck["canonical_name"].drop_nulls().len() > 0
    assert_frames_equal(duck, ch, ["metric_name", "time_ns", "resource_attributes", "attributes", "value"])


@pytest.mark.parametrize("table, keys", [
    ("costs", ["x_SourceFile", "x_SourceRow", "ChargePeriodStart", "ResourceId", "BilledCost", "SkuId"]),
    ("billing_source_totals", ["content_sha256", "provider_name", "billing_period_start"]),
])
def test_costs_equal_duckdb_costs(both: tuple[duckdb.DuckDBPyConnection, ClickHouseClient], table: str,
                                  keys: list[str]) -> None:
    con, client = both
    duck = con.sql(f"SELECT * FROM {table}").pl()
    ch = pl.from_arrow(client.query_arrow(f"SELECT * FROM {table}"))
    assert isinstance(ch, pl.DataFrame)
    assert ch.columns == duck.columns  # the FOCUS names and x_ columns, in the same order
    assert_frames_equal(duck, ch, keys)


def test_trace_profiles_view_equals_duckdb_trace_profiles(
        both: tuple[duckdb.DuckDBPyConnection, ClickHouseClient]) -> None:
    """The registry's ClickHouse trace_profiles view gives the same rows and JSON text as DuckDB's trace_profiles
    (each sample trace lies in one DuckDB batch, so both have one part per trace)."""
    con, client = both
    columns = "trace_id, workload, start_ns, duration_ns, profile"
    duck = con.sql(f"SELECT {columns} FROM trace_profiles").pl()
    ch = pl.from_arrow(client.query_arrow(f"SELECT {columns} FROM trace_profiles"))
    assert isinstance(ch, pl.DataFrame)
    assert duck["trace_id"].n_unique() == duck.height
    assert duck["profile"].str.contains('"device_model":\\["').any()  # device models are read from resource JSON
    assert_frames_equal(duck, ch, ["trace_id", "start_ns"])


def _insert_exporter_span(client: ClickHouseClient, row: dict[str, Any]) -> None:
    ev, ln = row.get("Events", []), row.get("Links", [])
    client.insert_arrow("otel_traces", pa.table({
        "Timestamp": pa.array([row["Timestamp_ns"]], pa.timestamp("ns")),
        **{k: [row[k]] for k in ("TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
                                 "ServiceName", "ScopeName", "ScopeVersion", "StatusCode", "StatusMessage")},
        "ResourceAttributes": pa.array([list(row["ResourceAttributes"].items())], STR_MAP),
        "SpanAttributes": pa.array([list(row["SpanAttributes"].items())], STR_MAP),
        "Duration": pa.array([row["Duration"]], pa.uint64()),
        "Events.Timestamp": pa.array([[e["Timestamp_ns"] for e in ev]], pa.list_(pa.timestamp("ns"))),
        "Events.Name": [[e["Name"] for e in ev]],
        "Events.Attributes": pa.array([[list(e["Attributes"].items()) for e in ev]], pa.list_(STR_MAP)),
        "Links.TraceId": [[x["TraceId"] for x in ln]], "Links.SpanId": [[x["SpanId"] for x in ln]],
        "Links.TraceState": [[x["TraceState"] for x in ln]],
        "Links.Attributes": pa.array([[list(x["Attributes"].items()) for x in ln]], pa.list_(STR_MAP)),
    }))


def test_a_collector_written_span_maps_to_the_contract(chdb_client: ClickHouseClient) -> None:
    row = EXPORTER_ROWS["otel_traces"]
    _insert_exporter_span(chdb_client, row)
    got = chdb_client.query_arrow("SELECT * FROM spans").to_pylist()
    assert len(got) == 1
    s = got[0]
    start = row["Timestamp_ns"]
    assert (s["trace_id"], s["span_id"], s["parent_span_id"]) == (row["TraceId"], row["SpanId"], row["ParentSpanId"])
    assert (s["name"], s["kind"], s["status_code"], s["status_message"]) == ("call db", "internal", "error", "error")
    assert (s["start_ns"], s["end_ns"], s["duration_ns"]) == (start, start + 60_000_000_000, 60_000_000_000)
    assert (s["service_name"], s["workload"], s["tier"], s["tier_source"]) == ("test-service", "test-service",
                                                                              "unknown", "unknown")
    assert (s["scope_name"], s["scope_version"], s["trace_state"]) == (row["ScopeName"], "1.0.0", "trace state")
    assert orjson.loads(s["attributes"]) == {"service.name": "v"}
    assert orjson.loads(s["events"]) == [{"time_ns": start, "name": "event1", "attributes": {"level": "info"}}]
    assert orjson.loads(s["links"]) == [{"trace_id": "01020500000000000000000000000000", "span_id": "0102050000000000",
                                         "trace_state": "error", "attributes": {"k": "v"}}]


TIER_CASES: list[tuple[dict[str, str], dict[str, str]]] = [
    ({"tierwise.tier": " Cloud ", "service.name": "a"}, {}),
    ({"tierwise.tier": "moon", "os.type": "android"}, {}),
    ({"device.model.identifier": "x", "tierwise.tier": ""}, {}),
    ({"host.name": "pop-ams-1", "cloud.region": "us-east-1"}, {}),
    ({"k8s.cluster.name": "edge-k3s-fra"}, {}),
    ({"tierwise.site": "store-042"}, {}),
    ({"cloud.platform": "akamai_edge", "cloud.provider": "akamai"}, {}),
    ({"cloud.provider": "aws", "cloud.region": "eu-central-1"}, {}),
    ({"cloud.provider": "aws", "cloud.region": "ap-south-1"}, {}),
    ({"cloud.region": "weird-1"}, {}),
    ({"service.name": "plain"}, {"tierwise.tier": "EDGE"}),
    ({"service.name": "plain"}, {}),
]


def test_tier_derivation_in_the_view_follows_the_contract(chdb_client: ClickHouseClient) -> None:
    rules = TierRules(edge_hosts=frozenset({"pop-ams-1", "edge-k3s-fra"}), edge_sites=frozenset({"store-042"}),
                      edge_platforms=frozenset({"akamai_edge"}),
                      region_tiers=(("eu-central-1", "regional"), ("weird-1", "nonsense")))
    schema.write_rules(chdb_client, rules)
    for i, (resource, span_attrs) in enumerate(TIER_CASES):
        row = dict(EXPORTER_ROWS["otel_traces"], ResourceAttributes=resource, SpanAttributes=span_attrs,
                   SpanId=f"{i:016x}", SpanKind="SPAN_KIND_SERVER", StatusCode="STATUS_CODE_OK")  # older spelling
        _insert_exporter_span(chdb_client, row)
    got = {int(r["span_id"], 16): r for r in chdb_client.query_arrow(
        "SELECT span_id, kind, status_code, tier, tier_source, site FROM spans").to_pylist()}
    assert len(got) == len(TIER_CASES)
    for i, (resource, span_attrs) in enumerate(TIER_CASES):
        tier, source = contract.derive_tier(resource, rules)
        span_tier = contract.normalize_tier(span_attrs.get(contract.ATTR_TIER))
        expected = (span_tier, "declared") if span_tier else (tier, source)
        assert (got[i]["tier"], got[i]["tier_source"]) == expected, resource
        assert (got[i]["kind"], got[i]["status_code"]) == ("server", "ok")
        assert got[i]["site"] == (resource.get("tierwise.site") or resource.get("cloud.region"))


def corpus_rules(cases: list[tier_corpus.Case]) -> TierRules:
    """The corpus's rules together: an edge node, an edge cluster and a region mapped."""
    return TierRules(edge_hosts=frozenset().union(*(c.rules.edge_hosts for c in cases)),
                     region_tiers=tuple(sorted({r for c in cases for r in c.rules.region_tiers})))


def insert_corpus_spans(client: ClickHouseClient, cases: list[tier_corpus.Case]) -> None:
    """One server span per corpus resource, as the Collector's exporter writes it: span id i, operation `c{i}`."""
    for i, case in enumerate(cases):
        resource = {k: go_string(v) for k, v in case.resource.items()}
        _insert_exporter_span(client, dict(EXPORTER_ROWS["otel_traces"], ResourceAttributes=resource,
                                           SpanAttributes={}, SpanId=f"{i:016x}", SpanName=f"c{i}",
                                           SpanKind="Server"))  # a server span: one the roll-up counts


def span_tiers(client: ClickHouseClient) -> dict[int, tuple[str, str | None]]:
    """Span id → (tier, site) in the spans view."""
    return {int(r["span_id"], 16): (r["tier"], r["site"])
            for r in client.query_arrow("SELECT span_id, tier, site FROM spans").to_pylist()}


def rollup_tiers(client: ClickHouseClient) -> dict[int, tuple[str, str | None]]:
    """Operation `c{i}` → (tier, site) in latency_rollup, each width holding one span of it under one key."""
    rows = client.query_arrow("SELECT width_ns, name, toString(tier) AS tier, site, sum(n) AS n FROM latency_rollup "
                              "GROUP BY width_ns, name, tier, site HAVING n != 0").to_pylist()
    keys = [(r["width_ns"], r["name"]) for r in rows]
    assert len(keys) == len(set(keys)) and {r["n"] for r in rows} == {1}
    by_width = {w: {int(r["name"][1:]): (r["tier"], r["site"]) for r in rows if r["width_ns"] == w}
                for w in (60_000_000_000, 86_400_000_000_000)}
    assert by_width[60_000_000_000] == by_width[86_400_000_000_000]
    return by_width[86_400_000_000_000]


def test_the_resource_corpus_gets_the_same_tier_and_site_in_both_engines(chdb_client: ClickHouseClient) -> None:
    """Every resource of tests/fixtures/resources (SDK and detector attribute sets, the gateway pitfall, zone-only
    GKE, Consul regions, …) as the Collector's exporter writes it: the spans and metric_points views give the tier,
    tier_source and site that ingest gives DuckDB, under rules that map an edge node, an edge cluster and a region;
    latency_rollup, kept from the same inserts by its materialized view (0105), puts each span under the view's tier
    and site, and so does the backfill's recomputation (`tierwise check` finds nothing)."""
    cases = tier_corpus.load()
    rules = corpus_rules(cases)
    schema.write_rules(chdb_client, rules)
    g = EXPORTER_ROWS["otel_metrics_gauge"]
    insert_corpus_spans(chdb_client, cases)
    for i, case in enumerate(cases):
        resource = {k: go_string(v) for k, v in case.resource.items()}
        chdb_client.insert_arrow("otel_metrics_gauge", pa.table({
            "ResourceAttributes": pa.array([list(resource.items())], STR_MAP), "MetricName": [f"m{i}"],
            "Attributes": pa.array([[]], STR_MAP), "TimeUnix": pa.array([g["TimeUnix_ns"]], pa.timestamp("ns")),
            "StartTimeUnix": pa.array([g["TimeUnix_ns"]], pa.timestamp("ns")), "Value": [1.0]}))
    spans = {int(r["span_id"], 16): r for r in chdb_client.query_arrow(
        "SELECT span_id, tier, tier_source, site FROM spans").to_pylist()}
    points = {int(r["metric_name"][1:]): r for r in chdb_client.query_arrow(
        "SELECT metric_name, tier, tier_source, site FROM metric_points").to_pylist()}
    assert len(spans) == len(points) == len(cases)
    sources = set()
    for i, case in enumerate(cases):
        ctx = resource_context(dict(case.resource), Settings(tier_rules=rules))
        for got in (spans[i], points[i]):
            assert (got["tier"], got["tier_source"], got["site"]) == (ctx.tier, ctx.tier_source, ctx.site), case.id
        sources.add(ctx.tier_source)
    assert sources == set(contract.TIER_SOURCES) - {contract.SOURCE_DECLARED}
    assert rollup_tiers(chdb_client) == span_tiers(chdb_client)
    assert [c.differing for c in backfill.check(chdb_client)] == [0, 0, 0]


def test_collector_written_metric_points_map_to_the_contract(chdb_client: ClickHouseClient) -> None:
    g = EXPORTER_ROWS["otel_metrics_gauge"]
    ex = g["Exemplars"][0]
    chdb_client.insert_arrow("otel_metrics_gauge", pa.table({
        "ResourceAttributes": pa.array([list(g["ResourceAttributes"].items())], STR_MAP),
        **{k: [g[k]] for k in ("ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeSchemaUrl", "ServiceName",
                               "MetricName", "MetricDescription", "MetricUnit")},
        "ScopeAttributes": pa.array([list(g["ScopeAttributes"].items())], STR_MAP),
        "ScopeDroppedAttrCount": pa.array([g["ScopeDroppedAttrCount"]], pa.uint32()),
        "Attributes": pa.array([list(g["Attributes"].items())], STR_MAP),
        "StartTimeUnix": pa.array([g["StartTimeUnix_ns"]], pa.timestamp("ns")),
        "TimeUnix": pa.array([g["TimeUnix_ns"]], pa.timestamp("ns")),
        "Value": pa.array([float(g["Value"])]), "Flags": pa.array([g["Flags"]], pa.uint32()),
        "Exemplars.FilteredAttributes": pa.array([[list(ex["FilteredAttributes"].items())]], pa.list_(STR_MAP)),
        "Exemplars.TimeUnix": pa.array([[ex["TimeUnix_ns"]]], pa.list_(pa.timestamp("ns"))),
        "Exemplars.Value": pa.array([[float(ex["Value"])]]), "Exemplars.SpanId": [[ex["SpanId"]]],
        "Exemplars.TraceId": [[ex["TraceId"]]],
    }))
    h = EXPORTER_ROWS["otel_metrics_histogram"]
    chdb_client.insert_arrow("otel_metrics_histogram", pa.table({
        "ResourceAttributes": pa.array([list(h["ResourceAttributes"].items())], STR_MAP),
        **{k: [h[k]] for k in ("ServiceName", "ScopeName", "ScopeVersion", "MetricName", "MetricDescription",
                               "MetricUnit")},
        "Attributes": pa.array([list(h["Attributes"].items())], STR_MAP),
        "StartTimeUnix": pa.array([h["StartTimeUnix_ns"]], pa.timestamp("ns")),
        "TimeUnix": pa.array([h["TimeUnix_ns"]], pa.timestamp("ns")),
        "Count": pa.array([h["Count"]], pa.uint64()), "Sum": pa.array([float(h["Sum"])]),
        "BucketCounts": pa.array([h["BucketCounts"]], pa.list_(pa.uint64())),
        "ExplicitBounds": pa.array([[float(b) for b in h["ExplicitBounds"]]], pa.list_(pa.float64())),
        "Min": pa.array([float(h["Min"])]), "Max": pa.array([float(h["Max"])]),
        "AggregationTemporality": pa.array([h["AggregationTemporality"]], pa.int32()),
    }))
    rows = {r["metric_type"]: r for r in chdb_client.query_arrow("SELECT * FROM metric_points").to_pylist()}
    gauge, hist = rows["gauge"], rows["histogram"]
    t = g["TimeUnix_ns"]
    assert (gauge["metric_name"], gauge["description"], gauge["unit"]) == ("gauge metrics", "This is a gauge metrics",
                                                                           "count")
    assert (gauge["time_ns"], gauge["start_time_ns"], gauge["value"], gauge["temporality"]) == (t, t, 0.0, None)
    assert (gauge["service_name"], gauge["workload"], gauge["tier"]) == ("demo 1", "demo 1", "unknown")
    assert orjson.loads(gauge["exemplars"]) == [{"time_ns": t, "value": 54.0, "trace_id": ex["TraceId"],
                                                 "span_id": ex["SpanId"], "attributes": {"key": "value",
                                                                                         "key2": "value2"}}]
    assert (hist["count"], hist["sum"], hist["min"], hist["max"]) == (1, 1.0, 0.0, 1.0)
    assert (hist["bucket_counts"], hist["explicit_bounds"]) == ([0, 0, 0, 1, 0], [0.0] * 5)
    assert hist["value"] is None and hist["temporality"] is None


_SPANS_VIEW = re.compile(r"CREATE OR REPLACE VIEW spans AS\nWITH\n(?P<with>.*?)\nSELECT\n(?P<columns>.*?)\n"
                         r"FROM \(\n    SELECT\n        \*,\n(?P<inner>.*)\n    FROM tierwise_otel_traces\n\)", re.DOTALL)
_ROLLUP_VIEW = re.compile(r"CREATE (?:OR REPLACE )?MATERIALIZED VIEW (?:IF NOT EXISTS )?latency_rollup_mv TO "
                          r"latency_rollup AS\nWITH\n(?P<with>.*?)\nSELECT\n(?P<rollup>.*?)\nFROM \(\nSELECT\n"
                          r"(?P<columns>.*?)\nFROM \(\n    SELECT\n(?P<inner>.*)\n    FROM otel_traces\n\)\n\)\n"
                          r"(?P<tail>WHERE .*)", re.DOTALL)


def _statement(version: int, pattern: re.Pattern[str]) -> re.Match[str]:
    """The one statement of schema file `version` that `pattern` matches whole (comment lines left out)."""
    found = [m for f in schema.files() if f.version == version for s in f.statements()
             if (m := pattern.fullmatch(s)) is not None]
    assert len(found) == 1, version
    return found[0]


def _select_list(text: str) -> dict[str, str]:
    """A SELECT list's items by alias (`expr AS alias`), split at the commas outside brackets and quotes."""
    items, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "([":
            depth += 1
        elif not quoted and ch in ")]":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    named = {item.rsplit(" AS ", 1)[-1].strip(): item for item in items}
    assert len(named) == len(items), "an alias twice"
    return named


def test_the_rollup_view_repeats_the_spans_views_rules_character_for_character() -> None:
    """latency_rollup_mv is triggered by inserts into otel_traces, not by the `spans` view, so 0105 repeats the view's
    expressions: its WITH clause and its inner SELECT (every tier rule) are 0104's `spans` but for the table read, each
    of its columns is the `spans` column of that name, and what it rolls up (widths, keys, bucket, filter) is 0090's.
    The corpus test checks the outcome; this catches a rule edited in one place on machines without chdb too."""
    assert schema.ROLLUP_VERSION == 105
    view = _statement(104, _SPANS_VIEW)
    mv = _statement(schema.ROLLUP_VERSION, _ROLLUP_VIEW)
    old = _statement(90, _ROLLUP_VIEW)
    assert mv["with"] == view["with"]
    assert mv["inner"] == "        *,\n" + view["inner"]
    columns, view_columns = _select_list(mv["columns"]), _select_list(view["columns"])
    assert {"tier", "site", "workload", "workload_type", "service_name", "name", "kind", "parent_span_id"} <= set(columns)
    assert {alias: view_columns.get(alias) for alias in columns} == columns
    assert set(columns) == set(_select_list(old["columns"]))
    assert (mv["rollup"], mv["tail"]) == (old["rollup"], old["tail"])
    assert columns["site"] != _select_list(old["columns"])["site"]  # 0104's site: the region of a zone as well
    assert backfill.day_rollup_sql().count("FROM otel_traces WHERE Timestamp >=") == 1
