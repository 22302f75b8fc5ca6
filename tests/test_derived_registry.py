"""The derived-table registry: each declaration matches the table its migrations create, and the fold order holds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import store
from store import derived


def test_every_declared_table_has_exactly_its_declared_columns(tmp_path: Path) -> None:
    con = store.open_writer(tmp_path / "s.duckdb")
    try:
        for d in derived.REGISTRY:
            columns = [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                                                 "WHERE table_name = $t ORDER BY ordinal_position",
                                                 {"t": d.table}).fetchall()]
            assert sorted(columns) == sorted(d.columns), d.table
        assert derived.stale(con) == []  # a fresh store records every definition
    finally:
        con.close()


def test_a_table_folded_before_what_it_reads_is_refused() -> None:
    entries = list(derived.REGISTRY)
    keys = next(i for i, d in enumerate(entries) if d.table == "trace_root_keys")
    dups = next(i for i, d in enumerate(entries) if d.table == "trace_root_dups")
    entries[keys], entries[dups] = entries[dups], entries[keys]
    with pytest.raises(ValueError, match="trace_root_dups is folded out of order"):
        derived.ordered(entries)
    places = next(i for i, d in enumerate(derived.REGISTRY) if d.table == "span_places")
    moved = [d for d in derived.REGISTRY if d.table != "span_dups"]
    moved.insert(places, derived.by_table("span_dups"))  # after span_places, which it must read as before the batch
    with pytest.raises(ValueError, match="span_dups is folded out of order"):
        derived.ordered(moved)


def test_a_changed_definition_changes_the_digest_and_merge_tables_declare_keys() -> None:
    rollup = derived.by_table("latency_rollup")
    assert dataclasses.replace(rollup, rows=lambda s: rollup.rows(s) + " HAVING true").fingerprint != rollup.fingerprint
    with pytest.raises(ValueError, match="declares its keys"):
        derived.Derived("t", derived.Kind.MERGE, ("a",), lambda s: f"SELECT 1 AS a FROM {s}")
    with pytest.raises(ValueError, match="not among its columns"):
        derived.Derived("t", derived.Kind.MERGE, ("a",), lambda s: f"SELECT 1 AS a FROM {s}", keys=("b",))
