"""The Collector exporter's own DDL (fixtures/clickhouse_exporter_ddl: the current templates and an older layout),
rendered as the exporter renders it: tierwise reads every layout, alters none of those tables, and `tierwise migrate`
succeeds over them, twice, reporting by name a table it cannot read and still creating everything else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_clickhouse_exporter_writer import LAYOUTS, read_docs, write

from app.cli import cli
from ingest.sinks import clickhouse as load
from store.clickhouse import layouts, schema
from store.clickhouse.client import ClickHouseClient
from store.settings import Settings

DDL = Path(__file__).parent / "fixtures" / "clickhouse_exporter_ddl"
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "committed"
TEMPLATES = {"otel_traces": "traces_table.sql", "otel_metrics_gauge": "metrics_gauge_table.sql",
             "otel_metrics_sum": "metrics_sum_table.sql", "otel_metrics_histogram": "metrics_histogram_table.sql",
             "otel_metrics_exponential_histogram": "metrics_exp_histogram_table.sql",
             "otel_metrics_summary": "metrics_summary_table.sql"}
# the tables whose times the current templates keep as whole seconds (DateTime)
SECONDS = {"current": {"otel_metrics_sum", "otel_metrics_exponential_histogram"}, "older": set()}


def go_template(text: str, data: dict[str, object]) -> str:
    """The subset of Go's text/template the traces template uses: `{{- ` trims the whitespace before it, one
    if/else/end, `{{ident .X}}` (sqltemplates' backtick quoting) and `{{.X}}`."""
    text = re.sub(r"\s*\{\{- ", "{{", text)
    text = re.sub(r"\{\{if \.(\w+)\}\}(.*?)\{\{else\}\}(.*?)\{\{end\}\}",
                  lambda m: m.group(2) if data[m.group(1)] else m.group(3), text, flags=re.DOTALL)
    text = re.sub(r"\{\{ident \.(\w+)\}\}", lambda m: "`" + str(data[m.group(1)]).replace("`", "\\`") + "`", text)
    return re.sub(r"\{\{\.(\w+)\}\}", lambda m: str(data[m.group(1)]), text)


def go_sprintf(text: str, *args: str) -> str:
    """fmt.Sprintf with only %s verbs."""
    parts = text.split("%s")
    assert len(parts) == len(args) + 1, (len(parts), args)
    return "".join(p + a for p, a in zip(parts, (*args, ""), strict=True))


def ttl(days: int, field: str) -> str:
    """GenerateTTLExpr (current) and the older TTLDays form give the same text for whole days."""
    return f"TTL {field} + toIntervalDay({days})" if days else ""


def render(layout: str, table: str, database: str = "default", ttl_days: int = 0, full_text: bool = False) -> str:
    """The CREATE TABLE the exporter runs for `table`: renderCreateTracesTableSQL / NewMetricsTable (current, with
    the default engine MergeTree() and no cluster), createTracesTable / NewMetricsTable of the older exporter (whose
    metric tables are metrics_table_name, otel_metrics, plus a suffix)."""
    text = (DDL / layout / TEMPLATES[table]).read_text("utf-8")
    field = "toDateTime(Timestamp)" if table == "otel_traces" else "toDateTime(TimeUnix)"
    if layout == "current" and table == "otel_traces":
        return go_template(text, {"Database": database, "TableName": table, "ClusterString": "",
                                  "Engine": "MergeTree()", "TTL": ttl(ttl_days, field), "HasFullTextSearch": full_text})
    if layout == "current":
        return go_sprintf(text, database, table, "", "MergeTree()", ttl(ttl_days, field))
    return go_sprintf(text, table if table == "otel_traces" else "otel_metrics", ttl(ttl_days, field))


def create_exporter_tables(client: ClickHouseClient, layout: str, full_text: bool = False) -> None:
    """What the exporter's start() does with create_schema: true (90-day TTL), for traces and the five metric tables."""
    for table in TEMPLATES:
        client.command(render(layout, table, ttl_days=90, full_text=full_text).strip().rstrip(";"))


def create_table_texts(client: ClickHouseClient) -> dict[str, str]:
    rows = client.query_arrow("SELECT name, create_table_query AS q FROM system.tables WHERE database = "
                              "currentDatabase() AND name IN {t:Array(String)}", {"t": list(TEMPLATES)}).to_pylist()
    return {str(r["name"]): str(r["q"]) for r in rows}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"chdb://{tmp_path / 'ch'}"


@pytest.fixture
def client(url: str) -> Iterator[ClickHouseClient]:
    c = ClickHouseClient(url)
    yield c
    c.close()


@pytest.mark.parametrize("layout, full_text", [("current", False), ("current", True), ("older", False)])
def test_the_rendered_ddl_creates_tables_whose_layout_tierwise_reads(client: ClickHouseClient, layout: str,
                                                                    full_text: bool) -> None:
    create_exporter_tables(client, layout, full_text)
    texts = create_table_texts(client)
    assert set(texts) == set(TEMPLATES)
    assert ("TYPE text(" in texts["otel_traces"]) == full_text and "toIntervalDay(90)" in texts["otel_traces"]
    found = layouts.read(client)
    assert [t for t, lay in found.items() if lay.problem] == []
    assert {t for t, lay in found.items() if lay.seconds} == SECONDS[layout]
    if layout == "older":
        assert "no ScopeName" in found["otel_traces"].notes and "no ServiceName" in found["otel_metrics_gauge"].notes
        assert "AggTemp for AggregationTemporality" in found["otel_metrics_sum"].notes


@pytest.mark.parametrize("layout", LAYOUTS)
def test_migrate_over_the_exporters_tables_succeeds_twice_and_alters_none(url: str, client: ClickHouseClient,
                                                                         layout: str) -> None:
    create_exporter_tables(client, layout)
    write(client, read_docs(SAMPLE / "traces" / "traces-2026-10-01.jsonl.gz")
          + read_docs(SAMPLE / "metrics" / "metrics-2026-10-01.jsonl.gz"), layout)
    before = create_table_texts(client)
    client.close()
    first = load.migrate(url, Settings())
    assert first.schema.failed == () and first.schema.unread == ()
    assert [f.name for f in schema.files()] == list(first.schema.applied)
    assert first.backfill is not None and [d.day.isoformat() for d in first.backfill.done] == ["2026-10-01"]
    again = load.migrate(url, Settings())
    assert (again.schema.applied, again.schema.failed) == ((), ())
    assert again.backfill is not None and (again.backfill.done, again.backfill.skipped) == ((), 1)
    with ClickHouseClient(url) as c:
        assert create_table_texts(c) == before  # no setting, index or column of the exporter's tables changed
        assert not c.query_arrow("SELECT name FROM tierwise_owned_tables").num_rows
        for view in ("spans", "metric_points", "hops", "cost_links", "trace_profiles", "usage_rollup"):
            assert c.query_arrow(f"SELECT count() AS n FROM {view}").column("n")[0].as_py() >= 0, view
        points = c.query_arrow("SELECT metric_type, count() AS n FROM metric_points GROUP BY ALL").to_pylist()
        assert {r["metric_type"] for r in points} == {"gauge", "sum"}


def test_a_table_tierwise_cannot_read_is_named_and_the_rest_is_created(url: str, client: ClickHouseClient) -> None:
    create_exporter_tables(client, "current")
    client.command("DROP TABLE otel_metrics_summary")
    client.command("CREATE TABLE otel_metrics_summary (MetricName String, TimeUnix String) ENGINE = MergeTree "
                   "ORDER BY MetricName")
    write(client, read_docs(SAMPLE / "metrics" / "metrics-2026-10-01.jsonl.gz"), "current")
    client.close()
    res = CliRunner().invoke(cli, ["migrate", "--engine", "clickhouse", "--clickhouse-url", url])
    assert res.exit_code == 0, res.output
    assert "otel_metrics_summary" in res.output and "not read" in res.output
    with ClickHouseClient(url) as c:
        assert c.query_arrow("SELECT count() AS n FROM metric_points").column("n")[0].as_py() > 0
        assert c.query_arrow("SELECT count() AS n FROM hops").column("n")[0].as_py() == 0


def test_one_view_that_fails_does_not_keep_the_others_from_being_created(
        url: str, client: ClickHouseClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client.close()
    real = schema.view_statements
    monkeypatch.setattr(schema, "view_statements",
                        lambda: [("broken", "CREATE OR REPLACE VIEW broken AS SELECT nope FROM nowhere"), *real()])
    res = CliRunner().invoke(cli, ["migrate", "--engine", "clickhouse", "--clickhouse-url", url])
    assert res.exit_code == 1 and "broken" in res.output
    with ClickHouseClient(url) as c:
        assert c.query_arrow("SELECT count() AS n FROM hops").column("n")[0].as_py() == 0


def test_files_that_replace_earlier_ones_say_so() -> None:
    """0101 replaces the views of 0005/0006 (which fail over whole-second metric tables), 0102 replaces 0100 (which
    altered the Collector's tables), 0104 replaces 0101's views (semantic-convention tier rules): a store that has not
    applied the earlier files records them without running them."""
    assert {f.version: f.supersedes for f in schema.files() if f.supersedes} == {101: (5, 6), 102: (100,),
                                                                                104: (101,)}
