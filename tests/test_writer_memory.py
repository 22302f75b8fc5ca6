"""The writers' DuckDB memory limit: a bounded default (a lower one for the receiver's fold), settable, refused when malformed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ingest_helpers import run_cli
from test_receiver import json_span, post, receiver, rows, traces_doc

import store
from ingest.receiver import spool as spool_module
from store.settings import DEFAULT_FOLD_MEMORY, DEFAULT_WRITER_MEMORY, ENV_WRITER_MEMORY, load_settings


def _bytes(text: str) -> int:
    number, unit = text.split()
    return int(float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit])


def _limit_bytes(db: Path, memory: str | None) -> int:
    con = store.open_writer(db, memory)
    try:
        return _bytes(str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]))
    finally:
        con.close()


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


def test_the_receivers_fold_runs_under_its_own_limit(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver shares its RSS with request decoding, so its fold gets less than other writers (DEFAULT_FOLD_MEMORY)."""
    limits: list[int] = []
    real = store.open_writer

    def watched(path: Path | str, memory: str | None = None) -> duckdb.DuckDBPyConnection:
        con = real(path, memory)
        limits.append(_bytes(str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])))
        return con
    monkeypatch.setattr(spool_module.store, "open_writer", watched)
    assert DEFAULT_FOLD_MEMORY == "320MB"
    for memory, ceiling in ((None, 320 * 10**6), ("200MB", 200 * 10**6)):
        with receiver(db_path, **({} if memory is None else {"fold_memory": memory})) as rx:
            assert post(f"{rx.url}/v1/traces", traces_doc([json_span(1)]))[0] == 200
            assert rx.folder.fold_once().folded == 1
        assert 0.8 * ceiling < limits[-1] <= ceiling
    assert rows(db_path, "SELECT count(*) FROM spans") == [(1,)]


def test_a_malformed_fold_memory_is_one_line(tmp_path: Path) -> None:
    result = run_cli("receive", "--db", str(tmp_path / "s.duckdb"), "--fold-memory", "lots")
    assert result.exit_code == 2 and "--fold-memory: 'lots' is not a size" in result.output
