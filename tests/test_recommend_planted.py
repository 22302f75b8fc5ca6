"""Planted scenarios of the generated estate: `tierwise recommend` finds each right move, or none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from ingest_helpers import isolated, run_cli


@pytest.fixture(scope="module")
def recs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    """A 20 000-span, 30-day estate generated, ingested and recommended on by the real CLI, once."""
    work = tmp_path_factory.mktemp("planted")
    db = work / "estate.duckdb"
    with isolated(work):
        made = run_cli("generate", "--out", str(work / "estate"), "--spans", "20000", "--days", "30",
                       "--end", "2026-11-28", "--seed", "42")
        assert made.exit_code == 0, made.output
        loaded = run_cli("ingest", "--quiet", "--db", str(db), str(work / "estate"))
        assert loaded.exit_code == 0, loaded.output
        result = run_cli("recommend", "--db", str(db), "--format", "json")
        assert result.exit_code == 0, result.output
        yield json.loads(result.stdout)


def moves(recs: list[dict[str, Any]], workload: str) -> list[dict[str, Any]]:
    return [r for r in recs if r["workload"] == workload]


def test_json_shape_and_ranking(recs: list[dict[str, Any]]) -> None:
    assert recs
    for r in recs:
        assert {"workload", "from_tier", "to_tier", "rule", "reasons", "delta_p95_ms", "delta_cost_usd_month",
                "confidence", "traffic_share"} <= set(r)
        assert 0 <= r["confidence"] <= 1 and r["reasons"]
    # trust-zone fixes first (the framework puts trust zones before cost), then by value
    order = [(r["rule"] != "trust_inward", -r["value_usd_month"]) for r in recs]
    assert order == sorted(order) and recs[0]["rule"] == "trust_inward"


def test_kiosk_copilot_moves_closer_for_latency(recs: list[dict[str, Any]]) -> None:
    [m] = [r for r in moves(recs, "kiosk-copilot") if r["rule"] == "latency_closer"]
    assert (m["from_tier"], m["to_tier"]) == ("hyperscale", "edge")
    assert m["delta_p95_ms"] < 0


def test_medical_summarizer_moves_inward(recs: list[dict[str, Any]]) -> None:
    [m] = moves(recs, "medical-summarizer")
    assert (m["from_tier"], m["to_tier"], m["rule"]) == ("hyperscale", "edge", "trust_inward")


def test_factory_finetune_moves_to_hyperscale(recs: list[dict[str, Any]]) -> None:
    [m] = moves(recs, "factory-finetune")
    assert (m["from_tier"], m["to_tier"]) == ("edge", "hyperscale")
    assert m["delta_cost_usd_month"] < 0


def test_factory_vision_is_well_placed(recs: list[dict[str, Any]]) -> None:
    assert moves(recs, "factory-vision") == []


def test_gpu_starved_embedding_pipeline_is_consolidated_where_it_starved(recs: list[dict[str, Any]]) -> None:
    """The planted `gpu-starved` incident: doc-embedding-nightly's us-east-1 host idles at ~20 % with a deep queue."""
    [m] = [r for r in moves(recs, "doc-embedding-nightly") if r["rule"] == "consolidate_idle"]
    assert (m["from_tier"], m["from_site"], m["to_tier"], m["to_site"]) == (
        "hyperscale", "us-east-1", "hyperscale", "us-east-1")
    assert m["delta_cost_usd_month"] < 0 and any("GPU-starved" in r and "ip-10-42-4-" in r for r in m["reasons"])
    # only the starved host's workload is consolidated: nothing else shares that move
    assert {r["workload"] for r in recs if r["rule"] == "consolidate_idle"} == {"doc-embedding-nightly"}
