"""`tierwise map suggest` lists unplaced groups largest first, and its proposed rules, applied, place every one of them."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from golden_support import run_query
from ingest_helpers import rows
from map_support import BILLS, cli, copy, load, make_metrics, make_spans, write_config, write_telemetry

from store.map_rules import parse

# The attributes a group is known by, strongest first (as queries/unmapped_span_groups.sql picks them).
KNOWN_BY = ("k8s.cluster.name", "k8s.node.name", "cloud.availability_zone", "cloud.region", "cloud.platform",
            "host.name", "service.name")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SDK telemetry without tierwise.* attributes and two bills, loaded without rules."""
    workdir = tmp_path_factory.mktemp("suggest")
    return load(workdir, workdir / "plain.duckdb", (*write_telemetry(workdir, make_spans(), make_metrics()), *BILLS))


def suggest(db: Path, limit: int = 1000) -> list[dict[str, Any]]:
    done = cli(db.parent, "map", "suggest", "--db", str(db), "--format", "json", "--limit", str(limit))
    assert done.exit_code == 0, done.output
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def unplaced_groups(db: Path) -> Counter[tuple[str, str]]:
    """Spans of tier unknown per (attribute, value) that names where they run, worked out here from the rows."""
    out: Counter[tuple[str, str]] = Counter()
    for r in rows(db, "SELECT resource_attributes FROM spans WHERE tier = 'unknown'"):
        res = r["resource_attributes"]
        key = next(k for k in KNOWN_BY if res.get(k) not in (None, ""))
        out[(key, res[key])] += 1
    return out


def test_suggestions_are_the_unplaced_groups_largest_first(plain: Path) -> None:
    found = suggest(plain)
    telemetry = [s for s in found if s["kind"] == "telemetry"]
    costs = [s for s in found if s["kind"] == "costs"]
    assert [s["size"] for s in telemetry] == sorted((s["size"] for s in telemetry), reverse=True)
    assert {tuple(s["rule"]["when"].items())[0]: s["size"] for s in telemetry} == unplaced_groups(plain)
    assert ("host.name", "lab-1") in unplaced_groups(plain)  # a bare host no detector places
    for s in telemetry:
        rule = parse(tomllib.loads(s["toml"])["map"], "map")[0]
        assert (rule.name, dict(rule.sets)) == (s["rule"]["name"], s["rule"]["set"])
        assert rule.value("tier") in ("edge", "hyperscale")
    assert costs and [abs(s["size"]) for s in costs] == sorted((abs(s["size"]) for s in costs), reverse=True)
    groups = run_query(plain, "unallocated_cost_groups", {"limit": 1000}).to_dicts()
    safe = [g for g in groups if not g["linked_rows"] or g["resource"] is not None]  # the rest has no safe rule
    assert sum(s["size"] for s in costs) == pytest.approx(sum(g["effective_cost"] for g in safe), abs=1e-9)
    assert {s["unit"] for s in costs} == {"USD"} and {s["unit"] for s in telemetry} == {"spans"}
    first = suggest(plain, 1)
    assert first[0]["group"] == telemetry[0]["group"] and all(s in found for s in first) and len(first) <= 2


def test_the_proposed_rules_applied_place_every_group(plain: Path) -> None:
    db = copy(plain, plain.parent / "suggested.duckdb")
    found = suggest(db)
    config = write_config(db.parent / "suggested.toml", *(s["toml"] for s in found))
    done = cli(db.parent, "map", "apply", "--db", str(db), "--config", str(config))
    assert done.exit_code == 0 and "changed" in done.output, done.output
    assert suggest(db) == []
    by_rule = Counter({r["tier_source"]: r["n"] for r in rows(db, "SELECT tier_source, count(*) AS n FROM spans "
                                                                   "GROUP BY ALL")})
    for s in (s for s in found if s["kind"] == "telemetry"):
        assert by_rule[s["rule"]["name"]] == s["size"]
    coverage = {(r["kind"], r["unit"]): r for r in run_query(db, "mapping_coverage").iter_rows(named=True)}
    assert coverage.keys() == {("spans", "spans"), ("requests", "requests"), ("money", "USD")}
    assert coverage["spans", "spans"]["mapped_pct"] == coverage["requests", "requests"]["mapped_pct"] == 100
    left = run_query(plain, "unallocated_cost_groups", {"limit": 1000}).filter(
        (pl.col("linked_rows") > 0) & pl.col("resource").is_null())["effective_cost"].sum()
    assert coverage["money", "USD"]["total"] - coverage["money", "USD"]["mapped"] == pytest.approx(left, abs=1e-9)
    # money a tag or resource linked before keeps its workload: a proposed rule never takes it over
    linked = "SELECT x_SourceFile, x_SourceRow, link_workload FROM cost_links WHERE link_method <> 'unallocated' " \
             "AND link_method <> 'tag' ORDER BY ALL"
    tagged = "SELECT x_SourceFile, x_SourceRow, x_Workload FROM costs WHERE x_Workload IS NOT NULL ORDER BY ALL"
    assert rows(db, linked) == rows(plain, linked)
    assert set(map(tuple, (r.values() for r in rows(plain, tagged)))) <= set(
        map(tuple, (r.values() for r in rows(db, tagged))))
    check = cli(db.parent, "check", "--db", str(db))
    assert check.exit_code == 0, check.output
