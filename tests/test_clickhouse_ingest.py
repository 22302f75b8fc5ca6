"""ClickHouse ingest (chdb in-process): ledger and resume as on DuckDB, no duplicates after a crash, cost link ties,
and `tierwise migrate --engine clickhouse`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from ledger_support import insert_cost

import store
from app.cli import cli
from ingest.files import route
from ingest.sinks import clickhouse as load
from ingest.sinks import loader
from store.clickhouse import schema
from store.clickhouse.client import ClickHouseClient
from store.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "committed"
FIXTURES = Path(__file__).parent / "fixtures"
FOCUS = FIXTURES / "finops" / "focus-1.0-sample-1000.csv"
BAD_OTLP = FIXTURES / "bad" / "mixed_spans.jsonl"
SMALL_BATCH = 4_000  # bytes: the crash file spans several batches
T0 = 1_764_000_000_000_000_000


class Crash(Exception):
    """Stands for the process dying at that point."""


def _counts(client: ClickHouseClient) -> dict[str, int]:
    tables = ("otel_traces", "otel_metrics_gauge", "otel_metrics_sum", "costs", "billing_source_totals", "quarantine",
              "ingest_batches")
    return {t: int(client.query_arrow(f"SELECT count() AS n FROM {t}").to_pylist()[0]["n"]) for t in tables}


def _attrs(**kv: str) -> list[dict[str, Any]]:
    return [{"key": k.replace("_", "."), "value": {"stringValue": v}} for k, v in kv.items()]


def _span_line(resource: dict[str, str], first: int, n: int) -> bytes:
    spans = [{"traceId": f"{first + i:032x}", "spanId": f"{first + i:016x}", "name": "infer", "kind": 2,
              "startTimeUnixNano": str(T0 + (first + i) * 7_000_000_000),
              "endTimeUnixNano": str(T0 + (first + i) * 7_000_000_000 + (first + i) * 1_000_000)} for i in range(n)]
    return orjson.dumps({"resourceSpans": [{"resource": {"attributes": _attrs(**resource)},
                                            "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})


def _gauge_line(i: int) -> bytes:
    return orjson.dumps({"resourceMetrics": [{"resource": {"attributes": _attrs(service_name="gpu")}, "scopeMetrics": [
        {"scope": {"name": "m"}, "metrics": [{"name": "gpu.utilization", "unit": "1", "gauge": {"dataPoints": [
            {"timeUnixNano": str(T0 + i * 60_000_000_000), "asDouble": i / 100}]}}]}]}]})


def _crash_file(path: Path) -> int:
    """Spans, gauge points and a broken line, over several batches; returns the number of spans."""
    lines = []
    for i in range(30):
        lines.append(_span_line({"service_name": "chat", "tierwise_tier": "edge"}, i * 5, 5))
        if i % 3 == 0:
            lines.append(_gauge_line(i))
        if i == 17:
            lines.append(b'{"resourceSpans": [')  # quarantined
    path.write_bytes(b"\n".join(lines) + b"\n")
    return 30 * 5


@pytest.mark.parametrize("window", [True, False], ids=["schema-0100", "without-dedup-window"])
def test_a_crash_between_a_batchs_rows_and_its_ledger_row_writes_nothing_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: bool) -> None:
    src = tmp_path / "crash.jsonl"
    spans = _crash_file(src)
    settings = Settings(batch_bytes=SMALL_BATCH)
    real = load._record_batch

    def crash_on_third(client: ClickHouseClient, sha: str, source: str, index: int, *rest: int) -> None:
        if index == 2:
            raise Crash  # the batch's rows and quarantine are written, its ledger row is not
        real(client, sha, source, index, *rest)

    with load.open_store(f"chdb://{tmp_path / 'ch'}", settings) as client:
        if not window:  # the control: what schema 0100 prevents
            for table in ("otel_traces", "otel_metrics_gauge", "quarantine", "latency_rollup",
                          "latency_rollup_day_groups", "latency_rollup_day_tiers"):
                client.command(f"ALTER TABLE {table} MODIFY SETTING non_replicated_deduplication_window = 0")
        monkeypatch.setattr(load, "_record_batch", crash_on_third)
        with pytest.raises(Crash):
            load.ingest_otlp(client, src, settings, workers=0)
        monkeypatch.setattr(load, "_record_batch", real)
        res = load.ingest_otlp(client, src, settings, workers=0)
        assert (res.status, res.batches_resumed) == ("complete", 2) and res.batches_committed >= 2
        got = client.query_arrow(
            "SELECT (SELECT count() FROM otel_traces) AS rows, (SELECT uniqExact(SpanId) FROM otel_traces) AS ids, "
            "(SELECT count() FROM otel_metrics_gauge) AS points, (SELECT count() FROM quarantine) AS rejected, "
            "(SELECT sum(n) FROM latency_rollup WHERE width_ns = 60000000000) AS rolled, "
            "(SELECT sum(n) FROM latency_rollup_day_groups) AS rolled_days, "
            "(SELECT sum(arraySum(histMap.n)) FROM latency_rollup_day_tiers) AS rolled_tiers, "
            "(SELECT count() FROM ingest_batches) AS batches").to_pylist()[0]
    expected = {"rows": spans, "ids": spans, "points": 10, "rejected": 1, "rolled": spans, "rolled_days": spans,
                "rolled_tiers": spans, "batches": res.batches_committed + 2}
    if window:
        assert got == expected
    else:
        assert got["rows"] > spans and got["rolled"] > spans  # the crashed batch landed twice: the test can fail
        assert got["rolled_days"] > spans and got["rolled_tiers"] > spans  # along the views to the day tables too
    with ClickHouseClient(f"chdb://{tmp_path / 'ch'}") as client:
        assert client.query_arrow("SELECT status, rows_accepted FROM ingest_files FINAL").to_pylist() == [
            {"status": "complete", "rows_accepted": spans + 10}]


def test_a_crash_before_a_bills_ledger_row_writes_no_cost_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bill = SAMPLE / "bills" / "rate-card.yaml"
    url = f"chdb://{tmp_path / 'ch'}"
    real = load._record_batch

    def crash(*args: Any) -> None:
        raise Crash

    monkeypatch.setattr(load, "_record_batch", crash)
    with pytest.raises(Crash):
        load.ingest_paths(url, [bill], Settings())
    monkeypatch.setattr(load, "_record_batch", real)
    [res] = load.ingest_paths(url, [bill], Settings())
    with ClickHouseClient(url) as client:
        counts = _counts(client)
    assert res.status == "complete" and counts["costs"] == res.accepted > 0
    assert counts["ingest_batches"] == 1


def test_cost_link_ties_go_to_the_first_by_name_on_both_engines(tmp_path: Path) -> None:
    """Equal span counts: DuckDB's 0004 and ClickHouse's views.sql both take the first (workload, tier) by name."""
    groups = [  # host, site, workload, tier, spans: listed so that the expected winner never comes first
        ("h-name", "s-name", "wb", "edge", 2), ("h-name", "s-name", "wa", "regional", 2),
        ("h-tier", "s-tier", "wa", "regional", 3), ("h-tier", "s-tier", "wa", "edge", 3),
        ("h-most", "s-most", "wa", "edge", 1), ("h-most", "s-most", "wz", "regional", 4),
    ]
    src = tmp_path / "ties.jsonl"
    lines, first = [], 0
    for host, site, workload, tier, n in groups:
        lines.append(_span_line({"service_name": "svc", "host_name": host, "tierwise_site": site,
                                 "tierwise_tier": tier, "tierwise_workload": workload}, first, n))
        first += n
    src.write_bytes(b"\n".join(lines) + b"\n")
    costs = [("h-name", None), ("h-tier", None), ("h-most", None), (None, "s-name"), (None, "s-tier"),
             (None, "s-most"), ("nowhere", "nowhere")]
    insert = ("INSERT INTO costs (BilledCost, EffectiveCost, ChargeCategory, ProviderName, ResourceId, x_SiteId, "
              "x_SourceFormat, x_SourceFile, batch_key) VALUES (1, 1, 'Usage', 'p', {}, {}, 'focus-1.2', 'f', 'b')")
    link = "SELECT ResourceId, x_SiteId, link_workload, link_tier, link_method FROM cost_links ORDER BY ALL"

    con = store.open_writer(tmp_path / "d.duckdb")
    assert loader.ingest_file(con, src, Settings(), workers=0).status == "complete"
    for r, s in costs:
        insert_cost(con, ResourceId=r, x_SiteId=s)
    duck = con.execute(link).fetchall()
    con.close()
    with load.open_store(f"chdb://{tmp_path / 'ch'}", Settings()) as client:
        assert load.ingest_otlp(client, src, Settings(), workers=0).status == "complete"
        for r, s in costs:
            client.command(insert.format("{r:Nullable(String)}", "{s:Nullable(String)}"), {"r": r, "s": s})
        click = [tuple(row.values()) for row in client.query_arrow(
            link.replace("ORDER BY ALL", "ORDER BY ResourceId, x_SiteId")).to_pylist()]
    expected = [("h-most", None, "wz", "regional", "resource"), ("h-name", None, "wa", "regional", "resource"),
                ("h-tier", None, "wa", "edge", "resource"), ("nowhere", "nowhere", None, None, "unallocated"),
                (None, "s-most", "wz", "regional", "site"), (None, "s-name", "wa", "regional", "site"),
                (None, "s-tier", "wa", "edge", "site")]
    assert duck == expected
    assert sorted(click, key=str) == sorted(expected, key=str)


def test_cli_migrate_engine_clickhouse(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    first = CliRunner().invoke(cli, ["migrate", "--engine", "clickhouse", "--clickhouse-url", url])
    assert first.exit_code == 0, first.output
    names = [f.name for f in schema.files()]
    assert first.output.strip() == f"chdb://{tmp_path / 'ch'}: applied {', '.join(names)}"
    again = CliRunner().invoke(cli, ["migrate", "--engine", "clickhouse", "--clickhouse-url", url])
    assert again.output.strip() == f"chdb://{tmp_path / 'ch'}: up to date"
    with ClickHouseClient(url) as client:
        assert client.query_arrow("SELECT count() AS n FROM cost_links").to_pylist() == [{"n": 0}]
        assert client.query_arrow("SELECT count() AS n FROM tier_rules").to_pylist()[0]["n"] >= 1
    missing = CliRunner().invoke(cli, ["migrate", "--engine", "clickhouse"], env={"TIERWISE_CLICKHOUSE_URL": ""})
    assert missing.exit_code == 2 and "--clickhouse-url" in missing.output
    duck = CliRunner().invoke(cli, ["migrate", "--db", str(tmp_path / "d.duckdb")], env={"TIERWISE_ENGINE": ""})
    assert duck.exit_code == 0 and "applied 0001_core" in duck.output


def test_ingesting_twice_adds_nothing_and_rejections_match_duckdb(tmp_path: Path) -> None:
    files = [SAMPLE / "traces" / "traces-2026-10-01.jsonl.gz", SAMPLE / "metrics" / "metrics-2026-10-01.jsonl.gz",
             SAMPLE / "bills" / "rate-card.yaml", BAD_OTLP]
    url = f"chdb://{tmp_path / 'ch'}"
    first = load.ingest_paths(url, files, Settings())
    with ClickHouseClient(url) as client:
        before = _counts(client)
    again = load.ingest_paths(url, files, Settings())
    with ClickHouseClient(url) as client:
        assert _counts(client) == before
        q = client.query_arrow("SELECT record_no, item, field, reason FROM quarantine ORDER BY record_no, item").to_pylist()
    assert [r.status for r in again] == ["already-ingested"] * 4
    assert before["otel_traces"] > 0 and before["otel_metrics_gauge"] > 0 and before["costs"] > 0
    con = store.open_writer(tmp_path / "d.duckdb")
    duck = [route.ingest_any(con, f, Settings()) for f in files]
    assert [(r.status, r.accepted, r.rejected) for r in first] == [(r.status, r.accepted, r.rejected) for r in duck]
    assert q == [dict(zip(("record_no", "item", "field", "reason"), r, strict=True)) for r in con.execute(
        "SELECT record_no, item, field, reason FROM quarantine ORDER BY record_no, item").fetchall()]
    assert q  # the bad file did reject something


def test_a_bad_billing_file_gives_the_duckdb_error(tmp_path: Path) -> None:
    with open(FOCUS, encoding="utf-8", newline="") as f:
        data = list(csv.DictReader(f))[:3]
    cut = tmp_path / "no-effective.csv"
    with open(cut, "w", newline="") as f:
        w = csv.DictWriter(f, [k for k in data[0] if k != "EffectiveCost"], extrasaction="ignore")
        w.writeheader()
        w.writerows(data)
    [ch] = load.ingest_paths(f"chdb://{tmp_path / 'ch'}", [cut], Settings())
    duck = route.ingest_any(store.open_writer(tmp_path / "d.duckdb"), cut, Settings())
    assert (ch.status, ch.message) == (duck.status, duck.message) == ("unreadable", ch.message)
    assert "'EffectiveCost'" in ch.message
    with ClickHouseClient(f"chdb://{tmp_path / 'ch'}") as client:
        assert client.query_arrow("SELECT count() AS n FROM costs").to_pylist() == [{"n": 0}]
        status = client.query_arrow("SELECT status, message FROM ingest_files FINAL").to_pylist()
    assert status == [{"status": "unreadable", "message": duck.message}]


def test_cli_ingest_engine_clickhouse(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    trace = str(SAMPLE / "traces" / "traces-2026-10-02.jsonl.gz")
    res = CliRunner().invoke(cli, ["ingest", "--engine", "clickhouse", "--clickhouse-url", url, trace])
    assert res.exit_code == 0, res.output
    assert "1 files" in res.output and "complete" in res.output
    missing = CliRunner().invoke(cli, ["ingest", "--engine", "clickhouse", trace])
    assert missing.exit_code == 2 and "--clickhouse-url" in missing.output
    with ClickHouseClient(url) as client:
        assert client.query_arrow("SELECT count() AS n FROM spans").to_pylist()[0]["n"] > 0
