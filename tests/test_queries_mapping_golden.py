"""The mapping queries (coverage, unplaced span groups, unallocated money) on a hand-made store: exact golden rows."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from golden_support import GOLDEN, assert_golden, canonical, ingest_isolated, run_query
from ingest_helpers import FIXTURES, run_cli
from map_support import cli, copy, write_config

MAPPING = FIXTURES / "mapping"
# (golden file stem, query, parameters)
CASES: list[tuple[str, str, dict[str, object]]] = [
    ("mapping_coverage", "mapping_coverage", {}),
    ("unmapped_span_groups", "unmapped_span_groups", {}),
    ("unmapped_span_groups__limit_2", "unmapped_span_groups", {"limit": 2}),
    ("unallocated_cost_groups", "unallocated_cost_groups", {}),
    ("unallocated_cost_groups__limit_1", "unallocated_cost_groups", {"limit": 1}),
]
RULES = """
[[map]]
name = "factory one"
when = { "k8s.cluster.name" = "factory-1" }
set = { tier = "edge", site = "factory-1" }

[[cost_map]]
name = "ec2 account"
when = { SubAccountId = "111111111111" }
set = { workload = "vision" }
"""


@pytest.fixture(scope="module")
def mapping_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/mapping loaded by the real `tierwise ingest` (README.md there works the numbers out)."""
    db, said = ingest_isolated(tmp_path_factory.mktemp("mapping"),
                               [MAPPING / "unplaced.jsonl", MAPPING / "bill.csv"])
    assert "26 accepted, 0 rejected" in said
    return db


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden_rows(mapping_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    assert_golden(stem, run_query(mapping_db, name, params))


@pytest.mark.parametrize(("stem", "name", "params"), CASES, ids=[c[0] for c in CASES])
def test_cli_prints_the_same_rows(mapping_db: Path, stem: str, name: str, params: dict[str, object]) -> None:
    args = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    result = run_cli("query", name, "--db", str(mapping_db), "--format", "csv", *args)
    assert result.exit_code == 0, result.output
    schema = run_query(mapping_db, name, params).schema
    printed = pl.read_csv(io.StringIO(result.stdout), schema=schema)
    assert canonical(printed) == (GOLDEN / f"{stem}.csv").read_text("utf-8")


def test_hand_computed_numbers(mapping_db: Path) -> None:
    """The README's arithmetic: 5 of 18 spans, 2 of 10 requests, 10 of 17.5 USD and 3 of 10 EUR placed."""
    coverage = {(r["kind"], r["unit"]): (r["mapped"], r["total"])
                for r in run_query(mapping_db, "mapping_coverage").iter_rows(named=True)}
    assert coverage == {("spans", "spans"): (5, 18), ("requests", "requests"): (2, 10), ("money", "USD"): (10, 17.5),
                        ("money", "EUR"): (3, 10)}
    groups = run_query(mapping_db, "unmapped_span_groups").rows()
    assert [g[:4] for g in groups] == [("k8s.cluster.name", "factory-1", 7, 2), ("k8s.cluster.name", "factory-2", 2, 1),
                                       ("service.name", "kiosk", 2, 1), ("k8s.node.name", "node-7", 1, 1),
                                       (None, None, 1, 0)]
    money = run_query(mapping_db, "unallocated_cost_groups").rows()
    assert [(m[0], m[2], m[4], m[5], m[6]) for m in money] == [
        ("EUR", "sub-a", 1, 7.0, 7.0), ("USD", "111111111111", 2, 5.0, 5.5), ("USD", "222222222222", 1, 2.5, 2.5)]


def test_rules_move_groups_from_unplaced_to_placed(mapping_db: Path) -> None:
    db = copy(mapping_db, mapping_db.parent / "ruled.duckdb")
    done = cli(db.parent, "map", "apply", "--db", str(db), "--config", str(write_config(db.parent / "r.toml", RULES)))
    assert done.exit_code == 0, done.output
    assert_golden("mapping_coverage__after_rules", run_query(db, "mapping_coverage"))
    assert [g[1] for g in run_query(db, "unmapped_span_groups").rows()] == ["factory-2", "kiosk", "node-7", None]
    assert [m[2] for m in run_query(db, "unallocated_cost_groups").rows()] == ["sub-a", "222222222222"]


def test_suggest_prints_each_group_with_its_rule(mapping_db: Path) -> None:
    """An empty host.name does not stop the suggestions: the kiosk's spans are grouped by their service instead."""
    said = cli(mapping_db.parent, "map", "suggest", "--db", str(mapping_db))
    assert said.exit_code == 0, said.output
    assert ("# telemetry: service.name = kiosk (1 service): 2 spans\n[[map]]\nname = \"kiosk service\"\n"
            "when = { \"service.name\" = \"kiosk\" }\nset = { tier = \"edge\" }\n") in said.output
    assert "# telemetry: k8s.node.name = node-7 (1 service): 1 span\n" in said.output
    # a group beside linked money of the same service is proposed by its one resource, or not at all
    assert "# costs: Microsoft / sub-a / Virtual Machines / vm-plain (1 row): 7.00 EUR\n" in said.output
    assert "Amazon Elastic Compute Cloud" not in said.output
