"""Several batches to a transaction (`commit_spans`): the store ends up the same as with a transaction per batch."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from ingest_helpers import ingest

import store
from ingest.sinks import loader
from store import derived
from store.settings import DEFAULT_COMMIT_SPANS, load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "committed" / "traces"
BATCH_BYTES = 60_000  # a few hundred spans per batch: the file spans dozens of batches


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed sample's traces as one OTLP/JSON line per resource, so that batches can be cut small."""
    path = tmp_path_factory.mktemp("traces") / "traces.jsonl"
    with open(path, "wb") as out:
        for day in sorted(SAMPLE.glob("*.jsonl.gz")):
            for line in gzip.decompress(day.read_bytes()).splitlines():
                for rs in orjson.loads(line)["resourceSpans"]:
                    out.write(orjson.dumps({"resourceSpans": [rs]}) + b"\n")
    return path


def _load(db: Path, path: Path, commit_spans: int) -> tuple[int, int]:
    """(batches committed, transactions that committed them)."""
    settings = dataclasses.replace(load_settings(db=db, env={}), batch_bytes=BATCH_BYTES, commit_spans=commit_spans)
    transactions = []
    real = loader.commit_batches

    def counted(*args: Any) -> None:
        transactions.append(args)
        real(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loader, "commit_batches", counted)
        res = ingest(db, path, settings, workers=0)
    assert res.status == "complete", res.message
    return res.batches_committed, len(transactions)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_settings_read_commit_spans_from_env_and_config(tmp_path: Path) -> None:
    assert load_settings(env={}).commit_spans == DEFAULT_COMMIT_SPANS
    assert load_settings(env={"TIERWISE_COMMIT_SPANS": "5000"}).commit_spans == 5000
    config = tmp_path / "tierwise.toml"
    config.write_text("[ingest]\ncommit_spans = 777\n")
    assert load_settings(config=config, env={}).commit_spans == 777
    assert load_settings(env={"TIERWISE_COMMIT_SPANS": "0"}).commit_spans == 1  # never a transaction without a batch


@pytest.mark.parametrize("commit_spans", [1_000, DEFAULT_COMMIT_SPANS])
def test_grouped_commits_store_what_a_transaction_per_batch_stores(tmp_path: Path, traces: Path,
                                                                     commit_spans: int) -> None:
    alone, grouped = tmp_path / "alone.duckdb", tmp_path / "grouped.duckdb"
    batches, transactions = _load(alone, traces, 1)
    assert batches >= 10 and transactions == batches, "the file must span many batches for this test to mean anything"
    grouped_batches, grouped_transactions = _load(grouped, traces, commit_spans)
    assert grouped_batches == batches  # every batch keeps its own ledger row
    assert 1 <= grouped_transactions < batches / 2, grouped_transactions
    a, g = store.connect(alone, read_only=True), store.connect(grouped, read_only=True)
    try:
        for sql in ("SELECT * EXCLUDE (committed_at) FROM ingest_batches ORDER BY ALL",
                    "SELECT * FROM spans ORDER BY trace_id, span_id, batch_key",
                    "SELECT * FROM latency_rollup ORDER BY ALL",
                    "SELECT * FROM trace_root_keys ORDER BY ALL",
                    "SELECT trace_key, odd_id, sum(spans), bit_or(tier_bits) FROM trace_part_keys GROUP BY ALL "
                    "ORDER BY ALL",
                    "SELECT * FROM trace_root_dups ORDER BY ALL",
                    "SELECT * FROM hops ORDER BY ALL"):
            assert _rows(a, sql) == _rows(g, sql), sql
        assert [(name, n) for name, n in derived.check(g) if n] == []
        for table in ("link_resource_counts", "link_site_counts"):
            assert _rows(a, f"SELECT * FROM {table} ORDER BY ALL") == _rows(g, f"SELECT * FROM {table} ORDER BY ALL")
    finally:
        a.close()
        g.close()
