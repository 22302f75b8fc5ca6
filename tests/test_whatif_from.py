"""What-if source portion: the dominant serving tier other than the target, the moved share stated, the target's part excluded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ingest_helpers import isolated, run_cli
from test_recommend_rules import INPUT_COLS, evidence, portion

from queries import whatif

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "committed"


def _hops(*pairs: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame({"workload": [w for w, _, _ in pairs], "all_workloads": [False] * len(pairs),
                         "from_tier": [a for _, a, _ in pairs], "to_tier": [b for _, _, b in pairs],
                         "hops": [100] * len(pairs), "p50_ms": [4.0] * len(pairs), "p95_ms": [6.0] * len(pairs)},
                        schema={"workload": pl.String, "all_workloads": pl.Boolean, "from_tier": pl.String,
                                "to_tier": pl.String, "hops": pl.Int64, "p50_ms": pl.Float64, "p95_ms": pl.Float64})


# callcentre-stt's shape: laptops (thin clients, no compute) send every request to the metro edge that transcribes.
STT = [portion("stt", "device", gpu_seconds=0.0, compute_p95_ms=None, compute_usd=0.0, requests_adjusted=1000.0),
       portion("stt", "edge", gpu_seconds=600.0, compute_usd=4000.0, requests_adjusted=1000.0)]


def test_a_workload_already_served_in_the_target_has_no_default_move() -> None:
    inputs = pl.DataFrame(STT, schema=INPUT_COLS)
    with pytest.raises(whatif.WhatIfError, match="already served in 'edge'"):
        whatif.default_from(inputs, "stt", "edge")
    assert whatif.default_from(inputs, "stt", "regional") == "edge"  # the serving tier, not the costlier client


def test_an_explicit_move_of_the_client_portion_moves_nothing_already_at_the_target() -> None:
    ev = evidence(STT, hops=_hops(("stt", "device", "edge")))
    m = whatif.estimate(ev.inputs, ev.card, ev.hops, "stt", "edge", "device")
    assert (m.already_at_target_share, m.traffic_share) == (1.0, 0.0)


def test_dominant_serving_tier_and_the_part_already_at_the_target_is_excluded() -> None:
    # an on-device model that escalates a quarter of its requests to edge, and a little hyperscale fallback
    rows = [portion("kiosk", "device", gpu_seconds=900.0, compute_usd=10.0, requests_adjusted=1000.0),
            portion("kiosk", "edge", gpu_seconds=300.0, requests_adjusted=250.0),
            portion("kiosk", "hyperscale", gpu_seconds=100.0, compute_usd=5000.0, requests_adjusted=50.0)]
    ev = evidence(rows, hops=_hops(("kiosk", "device", "edge"), ("kiosk", "device", "hyperscale")))
    assert whatif.default_from(ev.inputs, "kiosk", "edge") == "device"  # most GPU time, though not the costliest
    m = whatif.estimate(ev.inputs, ev.card, ev.hops, "kiosk", "edge")
    assert m.from_tier == "device" and m.already_at_target_share == pytest.approx(0.25)
    assert m.traffic_share == pytest.approx(0.75)
    far = whatif.estimate(ev.inputs, ev.card, ev.hops, "kiosk", "edge", "hyperscale")
    assert far.already_at_target_share == 0.0 and far.traffic_share == pytest.approx(0.05)  # it never calls edge


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed sample's traces and bills, loaded by the real `tierwise ingest`."""
    workdir = tmp_path_factory.mktemp("whatif_sample")
    db = workdir / "sample.duckdb"
    with isolated(workdir):
        result = run_cli("ingest", "--quiet", "--db", str(db), str(SAMPLE / "traces"), str(SAMPLE / "bills"))
    assert result.exit_code == 0, result.output
    return db


def _whatif(db: Path, *args: str) -> Any:
    result = run_cli("whatif", "--db", str(db), "--workload", "callcentre-stt", *args, "--format", "json")
    return result


def test_committed_sample_callcentre_stt(sample_db: Path) -> None:
    to_edge = _whatif(sample_db, "--to", "edge")
    assert to_edge.exit_code == 2 and "already served in 'edge'" in to_edge.output
    to_regional = _whatif(sample_db, "--to", "regional")
    assert to_regional.exit_code == 0, to_regional.output
    [move] = json.loads(to_regional.stdout)
    assert (move["from_tier"], move["to_tier"], move["already_at_target_share"]) == ("edge", "regional", 0.0)
    assert move["traffic_share"] == pytest.approx(1.0)
    forced = _whatif(sample_db, "--to", "edge", "--from", "device")
    [client] = json.loads(forced.stdout)
    assert (client["traffic_share"], client["already_at_target_share"]) == (0.0, 1.0)
