"""The OTLP receiver places what it is sent by the [[map]] rules exactly as file ingest does; bad rules stop commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import rows
from map_support import MAP_RULES, RELATIONS, cli, differences, load, make_metrics, make_spans, write_config, write_telemetry
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics.export import MetricExportResult
from opentelemetry.sdk.trace.export import SpanExportResult
from serve_helpers import free_port

from ingest.receiver.server import Receiver, ReceiverConfig
from store.settings import load_settings

TELEMETRY = ("spans", "metric_points", *RELATIONS[4:])  # the ledger is not the receiver's


def test_the_receiver_applies_map_rules_as_file_ingest_does(tmp_path: Path) -> None:
    spans, metrics = make_spans(), make_metrics()
    config = write_config(tmp_path / "rules.toml", MAP_RULES)
    from_files = load(tmp_path, tmp_path / "files.duckdb", write_telemetry(tmp_path, spans, metrics), config)
    received = tmp_path / "received.duckdb"
    rx = Receiver(load_settings(db=received, config=config, env={}),
                  ReceiverConfig(port=free_port(), fold_interval_s=3600.0)).start()
    try:
        traces = OTLPSpanExporter(endpoint=f"{rx.url}/v1/traces", compression=Compression.Gzip, timeout=10)
        for i in range(0, len(spans), 100):
            assert traces.export(spans[i:i + 100]) == SpanExportResult.SUCCESS
        points = OTLPMetricExporter(endpoint=f"{rx.url}/v1/metrics", timeout=10)
        for data in metrics:
            assert points.export(data) == MetricExportResult.SUCCESS
        traces.shutdown()
        points.shutdown()
        rx.folder.fold_once()
    finally:
        rx.stop()
    # Rows differ only in the batch they came in (a request's digest, not a file's).
    assert differences(from_files, received, TELEMETRY, {"spans": "batch_key", "metric_points": "batch_key"}) == {}
    placed = rows(received, "SELECT tier_source, count(*) AS n FROM spans GROUP BY ALL")
    assert {r["tier_source"] for r in placed} >= {"factory one", "factory two", "lab v2 route", "lab net"}


BAD = '[[map]]\nname = "x"\nwhen = { "k8s.cluster.name" = "f" }\nset = { tier = "moon" }\n'


@pytest.mark.parametrize("command", [("ingest", "traces.jsonl"), ("receive", "--port", "1"), ("map", "apply")])
def test_a_bad_rule_stops_the_command_with_one_line_naming_it(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "traces.jsonl").write_text("{}\n")
    bad, db = write_config(tmp_path / "bad.toml", BAD), tmp_path / "s.duckdb"
    name, args = (command[:2], command[2:]) if command[0] == "map" else (command[:1], command[1:])
    done = cli(tmp_path, *name, "--db", str(db), "--config", str(bad), *args)
    assert done.exit_code == 2, done.output
    assert f"{bad} [[map]] #1 ('x'): set.tier 'moon'" in done.output and "Traceback" not in done.output
    assert not db.exists()
