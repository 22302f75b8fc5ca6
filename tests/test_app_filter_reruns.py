"""What a sidebar filter change on Slow paths reruns: only the queries the filter cannot be narrowed out of."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import isolated, run_cli

from app import data
from app.page_queries import rerun_after_filter

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "committed"


@pytest.fixture(scope="module")
def traces_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("reruns")
    db = workdir / "sample.duckdb"
    with isolated(workdir):
        result = run_cli("ingest", "--quiet", "--db", str(db), str(SAMPLE / "traces"), str(SAMPLE / "bills"))
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize(("key", "value", "expected"), [
    # the heatmap is narrowed from cached all-value rows; latency over time and the critical path wait in their tabs
    ("f_tier", "regional", ["slow_traces"]),
    ("f_workload", "public-chat", ["hops_by_tier_pair", "slow_traces"]),
])
def test_a_filter_change_reruns_only_what_it_must(traces_db: Path, monkeypatch: pytest.MonkeyPatch, key: str,
                                                  value: str, expected: list[str]) -> None:
    monkeypatch.setenv("TIERWISE_DB", str(traces_db))
    data.clear()
    rerun = rerun_after_filter("slow-paths", key, value)
    assert sorted(name for name, *_ in rerun.queries) == expected
