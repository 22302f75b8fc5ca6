"""The writer's DuckDB memory limit: a bounded default, settable by env or config, refused when malformed."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import run_cli

import store
from store.settings import DEFAULT_WRITER_MEMORY, ENV_WRITER_MEMORY, load_settings


def _limit_bytes(db: Path, memory: str | None) -> int:
    con = store.open_writer(db, memory)
    try:
        text = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    finally:
        con.close()
    number, unit = text.split()
    return int(float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit])


def test_the_default_bounds_the_writer_well_below_duckdbs_own(tmp_path: Path) -> None:
    assert load_settings(db=tmp_path / "s.duckdb", env={}).writer_memory == DEFAULT_WRITER_MEMORY == "512MB"
    assert 400 * 2**20 < _limit_bytes(tmp_path / "a.duckdb", DEFAULT_WRITER_MEMORY) <= 512 * 10**6
    assert _limit_bytes(tmp_path / "b.duckdb", None) > 2**30  # DuckDB alone: 80 % of the machine's memory


def test_env_and_config_set_it(tmp_path: Path) -> None:
    assert load_settings(db=tmp_path / "s.duckdb", env={ENV_WRITER_MEMORY: "2GB"}).writer_memory == "2GB"
    config = tmp_path / "tierwise.toml"
    config.write_text('[ingest]\nwriter_memory = "1.5GiB"\n', "utf-8")
    assert load_settings(db=tmp_path / "s.duckdb", config=config, env={}).writer_memory == "1.5GiB"


@pytest.mark.parametrize("bad", ["lots", "512", "1GB'; DROP TABLE spans; --", "-1GB"])
def test_a_malformed_size_is_refused_before_any_sql(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="writer memory"):
        load_settings(db=tmp_path / "s.duckdb", env={ENV_WRITER_MEMORY: bad})


def test_ingest_runs_under_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_WRITER_MEMORY, "64MB")
    fixture = Path(__file__).parent / "fixtures" / "tiny_store" / "traces.jsonl"
    result = run_cli("ingest", "--quiet", "--db", str(tmp_path / "s.duckdb"), str(fixture))
    assert result.exit_code == 0, result.output
