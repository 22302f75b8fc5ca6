"""The roll-up backfill over the Collector's tables: idempotent, resumable day by day, nothing counted twice beside
the views' own inserts, roll-ups that drift from their source reported by `tierwise check`; and tierwise's own loader
writing into the exporter's tables as the Collector made them (older layout, no deduplication window)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
import tier_corpus
from click.testing import CliRunner
from test_clickhouse_exporter_ddl import create_exporter_tables, create_table_texts
from test_clickhouse_exporter_writer import read_docs, write
from test_clickhouse_store import SPAN_COLUMNS, assert_frames_equal, corpus_rules, insert_corpus_spans, rollup_tiers, span_tiers

import store
from app.cli import cli
from ingest.sinks import clickhouse as load
from ingest.sinks import loader
from store.clickhouse import backfill, schema
from store.clickhouse.client import ClickHouseClient
from store.settings import Settings

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "committed"
TRACES = sorted((SAMPLE / "traces").iterdir())


class Crash(Exception):
    """Stands for the process dying at that point."""


def collector_store(url: str, days: list[Path], layout: str = "current") -> None:
    """The exporter's tables with these days of spans, as the Collector leaves them before tierwise runs."""
    with ClickHouseClient(url) as client:
        create_exporter_tables(client, layout)
        write(client, [d for p in days for d in read_docs(p)], layout)


def differing(url: str) -> dict[str, int]:
    return {c.table: c.differing for c in load.check(url)}


def rollup_total(url: str) -> int:
    with ClickHouseClient(url) as client:
        return int(client.query_arrow("SELECT sum(n) AS n FROM latency_rollup WHERE width_ns = 86400000000000")
                   .column("n")[0].as_py() or 0)


def test_backfill_is_idempotent_and_counts_nothing_twice_beside_the_views(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    collector_store(url, TRACES[:3])
    first = load.migrate(url, Settings())
    assert first.backfill is not None and [d.day for d in first.backfill.done] == [
        dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 3)]
    assert all(d.rows_changed > 0 for d in first.backfill.done)
    counted = rollup_total(url)
    assert differing(url) == dict.fromkeys(differing(url), 0) and counted > 0
    with ClickHouseClient(url) as client:  # late spans for a day already backfilled, and a new day: the views' part
        write(client, read_docs(TRACES[1]) + read_docs(TRACES[3]), "current")
        redo = backfill.backfill(client, redo=True)
    assert [d.rows_changed for d in redo.done] == [0, 0, 0, 0]  # the views counted exactly what the spans give
    assert redo.done[1].spans == 2 * first.backfill.done[1].spans and redo.done[3].spans == 75
    assert differing(url) == dict.fromkeys(differing(url), 0) and rollup_total(url) > counted


def test_an_interrupted_backfill_resumes_at_the_first_day_not_done(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    collector_store(url, TRACES[:4])
    real = backfill.backfill_day
    calls: list[dt.date] = []

    def dies_on_the_third(client: ClickHouseClient, day: dt.date) -> backfill.DayDone:
        calls.append(day)
        if len(calls) == 3:
            raise Crash
        return real(client, day)

    monkeypatch.setattr(backfill, "backfill_day", dies_on_the_third)
    with pytest.raises(Crash):
        load.migrate(url, Settings())
    monkeypatch.setattr(backfill, "backfill_day", real)
    res = CliRunner().invoke(cli, ["migrate", "--engine", "clickhouse", "--clickhouse-url", url])
    assert res.exit_code == 0, res.output
    assert "backfilled 2026-10-03" in res.output and "backfilled 2026-10-01" not in res.output
    assert "roll-ups backfilled for 2 days" in res.output
    assert differing(url) == dict.fromkeys(differing(url), 0)


def test_check_names_a_roll_up_that_drifted_from_its_spans_and_repair_brings_it_back(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    collector_store(url, TRACES[:2])
    load.migrate(url, Settings())
    with ClickHouseClient(url) as client:  # one minute row of the second day counted twice
        client.command("INSERT INTO latency_rollup SELECT * FROM latency_rollup WHERE width_ns = 60000000000 "
                       "AND period_ns >= 1790899200000000000 ORDER BY period_ns LIMIT 1")
    res = CliRunner().invoke(cli, ["check", "--engine", "clickhouse", "--clickhouse-url", url])
    assert res.exit_code == 1
    assert "DIFFERS  latency_rollup: 1 rows differ on 2026-10-02" in res.output
    assert "ok  latency_rollup_day_tiers" in res.output
    fixed = CliRunner().invoke(cli, ["check", "--engine", "clickhouse", "--clickhouse-url", url, "--repair"])
    assert fixed.exit_code == 0, fixed.output
    assert fixed.output.count("ok  ") == 3


def one_span_a_line(src: Path, out: Path) -> Path:
    """The file's spans one per JSON line, so that small batches cut it into many."""
    lines = [orjson.dumps({"resourceSpans": [{**rs, "scopeSpans": [{**ss, "spans": [span]}]}]})
             for doc in read_docs(src) for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]]
    out.write_bytes(b"\n".join(lines) + b"\n")
    return out


def _crash_on_record(monkeypatch: pytest.MonkeyPatch) -> Any:
    real = load._record_batch

    def crash_on_second(client: ClickHouseClient, sha: str, source: str, index: int, *rest: int) -> None:
        if index == 1:
            raise Crash  # the batch's rows are written, its ledger row is not
        real(client, sha, source, index, *rest)

    monkeypatch.setattr(load, "_record_batch", crash_on_second)
    return real


@pytest.mark.parametrize("layout", ["current", "older"])
def test_tierwise_loads_into_the_collectors_tables_once_even_after_a_crash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    """No deduplication window on a table the Collector made, and tierwise adds none: a batch written again after a
    crash inserts only its rows not there yet. The spans read back equal DuckDB's, in either layout."""
    url = f"chdb://{tmp_path / 'ch'}"
    collector_store(url, [], layout)
    load.migrate(url, Settings())
    with ClickHouseClient(url) as client:
        before = create_table_texts(client)
    trace, metrics = one_span_a_line(TRACES[5], tmp_path / "spans.jsonl"), SAMPLE / "metrics" / "metrics-2026-10-06.jsonl.gz"
    settings = Settings(batch_bytes=20_000)  # the file spans several batches
    real = _crash_on_record(monkeypatch)
    with load.open_store(url, settings) as client, pytest.raises(Crash):
        load.ingest_otlp(client, trace, settings, workers=0)
    monkeypatch.setattr(load, "_record_batch", real)
    with load.open_store(url, settings) as client:
        res = load.ingest_otlp(client, trace, settings, workers=0)
        assert (res.status, res.batches_resumed) == ("complete", 1) and res.batches_committed >= 1
        assert load.ingest_otlp(client, metrics, settings, workers=0).status == "complete"
        click = pl.from_arrow(client.query_arrow(f"SELECT {SPAN_COLUMNS} FROM spans"))
        points = client.query_arrow("SELECT count() AS n FROM metric_points").column("n")[0].as_py()
        assert create_table_texts(client) == before
    con = store.open_writer(tmp_path / "d.duckdb")
    for f in (trace, metrics):
        assert loader.ingest_file(con, f, Settings(), workers=0).status == "complete"
    duck = con.sql(f"SELECT {SPAN_COLUMNS} FROM spans").pl()
    duck_points = con.execute("SELECT count(*) FROM metric_points").fetchone()
    con.close()
    assert isinstance(click, pl.DataFrame) and click.height == duck.height == 149
    assert_frames_equal(duck, click, ["trace_id", "span_id", "start_ns"])
    assert duck_points is not None and points == duck_points[0]
    assert differing(url) == dict.fromkeys(differing(url), 0)


def test_migrate_records_each_day_once_per_roll_up_definition(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    collector_store(url, TRACES[:1])
    load.migrate(url, Settings())
    load.migrate(url, Settings())
    with ClickHouseClient(url) as client:
        rows = client.query_arrow("SELECT day, definition FROM rollup_backfill_days FINAL").to_pylist()
    assert rows == [{"day": dt.date(2026, 10, 1), "definition": backfill.definition()}]


def test_migrate_rebuilds_a_roll_up_kept_under_the_tier_rules_before_0105(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A store migrated before 0105 kept latency_rollup with 0090's own copy of the old tier rules; the migrate that
    applies 0105 replaces the view and, the roll-up definition having changed, backfills the day again: the roll-up
    then puts every corpus span under the `spans` view's tier and site, and `tierwise check` finds nothing."""
    url = f"chdb://{tmp_path / 'ch'}"
    cases = tier_corpus.load()
    settings = Settings(tier_rules=corpus_rules(cases))
    older = tuple(f for f in schema.files() if f.version < schema.ROLLUP_VERSION)
    with monkeypatch.context() as m, ClickHouseClient(url) as client:
        m.setattr(schema, "files", lambda: older)
        schema.apply(client)
        schema.write_rules(client, settings.tier_rules)
        insert_corpus_spans(client, cases)
        stale = rollup_tiers(client)
        assert len(stale) == len(cases) and stale != span_tiers(client)  # 0090's rules place some spans elsewhere
    result = load.migrate(url, settings)
    assert [n[:4] for n in result.schema.applied] == [f"{schema.ROLLUP_VERSION:04d}"] and not result.schema.failed
    assert result.backfill is not None and len(result.backfill.done) == 1 and result.backfill.rows_changed > 0
    with ClickHouseClient(url) as client:
        assert rollup_tiers(client) == span_tiers(client)
        insert_corpus_spans(client, cases)  # later inserts reach the roll-up through the replaced view
    assert differing(url) == dict.fromkeys(differing(url), 0)  # under the rules of the backfill's SELECT, 0105's
    assert rollup_total(url) == 2 * len(cases)
