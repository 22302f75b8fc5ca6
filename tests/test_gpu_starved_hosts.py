"""`gpu_starved_hosts`: starved clock hours per GPU host and the workload running there, golden on the tiny store."""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_support import assert_golden, ingest_isolated, run_query
from ingest_helpers import FIXTURES

TINY = FIXTURES / "tiny_store"


@pytest.fixture(scope="module")
def sre_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _ = ingest_isolated(tmp_path_factory.mktemp("tiny_starved"),
                            [TINY / f for f in ("traces.jsonl", "metrics.jsonl", "bills-focus.csv")])
    return db


def test_golden_and_hand_worked(sre_db: Path) -> None:
    rows = run_query(sre_db, "gpu_starved_hosts")
    assert_golden("gpu_starved_hosts", rows)
    # gpu-hs-1: hour 0 at 20 % utilization with queue 40 is starved, hour 1 (90 %, queue 5) is not; gpu-edge-1's idle
    # hour has an empty queue, so it is idle, not starved. chat and kiosk each have 2 spans there: alphabetical.
    (row,) = rows.iter_rows(named=True)
    assert (row["host_name"], row["workload"], row["observed_hours"], row["starved_hours"]) == ("gpu-hs-1", "chat", 2, 1)
    assert row["starved_utilization_ratio"] == pytest.approx(0.2) and row["starved_queue_depth"] == 40.0
    assert run_query(sre_db, "gpu_starved_hosts", {"queue_threshold": 50.0}).height == 0
