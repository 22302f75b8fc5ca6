"""`tierwise map apply` gives the store ingesting with the rules gives, places what the rules say, and keeps money whole."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import rows
from map_support import RELATIONS, Estate, build_estate, cli, copy, differences, fingerprint, write_config

PLACEMENT = ("tier", "tier_source", "site", "workload", "workload_type", "data_class")


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    return build_estate(tmp_path_factory.mktemp("estate"))


@pytest.fixture(scope="module")
def applied(estate: Estate) -> tuple[Path, str]:
    """The plain store after `tierwise map apply` of the rules, and what the command printed."""
    db = copy(estate.plain, estate.workdir / "applied.duckdb")
    done = cli(estate.workdir, "map", "apply", "--db", str(db), "--config", str(estate.config))
    assert done.exit_code == 0, done.output
    return db, done.output


def test_applying_later_gives_the_store_ingesting_with_rules_gives(estate: Estate, applied: tuple[Path, str]) -> None:
    db, said = applied
    assert differences(estate.ruled, db) == {}
    changed = differences(estate.plain, db)  # the rules reach rows, money and derived tables alike
    assert {"spans", "metric_points", "costs", "cost_links", "latency_rollup", "hop_clients"} <= set(changed)
    counts = re.search(r"changed ([\d,]+) spans, ([\d,]+) metric points, ([\d,]+) cost rows; rebuilt (\d+)", said)
    assert counts, said
    spans, points, cost_rows, rebuilt = (int(g.replace(",", "")) for g in counts.groups())
    assert (spans, points, cost_rows) == (changed["spans"][0], changed["metric_points"][0], changed["costs"][0])
    assert rebuilt == len(RELATIONS) - 4
    for store in (estate.ruled, db):
        check = cli(estate.workdir, "check", "--db", str(store))
        assert check.exit_code == 0, check.output


def test_apply_again_changes_nothing_and_no_rules_restore_the_plain_store(estate: Estate,
                                                                          applied: tuple[Path, str]) -> None:
    db = copy(applied[0], estate.workdir / "again.duckdb")
    before = fingerprint(db)
    again = cli(estate.workdir, "map", "apply", "--db", str(db), "--config", str(estate.config))
    assert again.exit_code == 0 and again.output.rstrip().endswith("nothing changed"), again.output
    assert fingerprint(db) == before
    none = write_config(estate.workdir / "none.toml", "[tiers]\n")
    back = cli(estate.workdir, "map", "apply", "--db", str(db), "--config", str(none))
    assert back.exit_code == 0 and "changed" in back.output and "nothing" not in back.output, back.output
    assert differences(estate.plain, db) == {}
    assert cli(estate.workdir, "map", "apply", "--db", str(db), "--config", str(none)).output.rstrip().endswith(
        "nothing changed")


def expected_span(resource: dict[str, Any], attrs: dict[str, Any]) -> dict[str, str]:
    """What the rules of map_support.MAP_RULES set on one span, worked out by hand."""
    cluster, service = resource.get("k8s.cluster.name"), resource.get("service.name")
    if cluster == "factory-1":
        return {"tier": "edge", "site": "factory-1", "tier_source": "factory one"}
    if cluster == "factory-2":
        return {"tier": "edge", "site": "factory-2", "workload": "vision-line-2", "tier_source": "factory two"}
    if service == "lab" and str(attrs.get("http.route", "")).startswith("/v2/"):
        return {"tier": "regional", "workload": "lab-v2", "tier_source": "lab v2 route"}
    if any(ip.startswith("10.1.2.") and int(ip.rsplit(".", 1)[1]) < 4 for ip in attrs.get("host.ip", ())):
        return {"tier": "edge", "site": "lab", "data_class": "confidential", "tier_source": "lab net"}
    if attrs.get("gpu.busy") is True and service == "api":
        return {"data_class": "regulated"}
    return {}


def by_id(db: Path) -> dict[str, dict[str, Any]]:
    return {r["span_id"]: r for r in rows(db, f"SELECT span_id, {', '.join(PLACEMENT)} FROM spans")}


def test_each_span_is_placed_by_the_first_rule_that_matches_it(estate: Estate) -> None:
    plain, ruled = by_id(estate.plain), by_id(estate.ruled)
    assert len(ruled) == len(estate.spans) == len(plain)
    sources: dict[str, int] = {}
    for span in estate.spans:
        sid = f"{span.context.span_id:016x}"
        sets = expected_span(dict(span.resource.attributes), dict(span.attributes or {}))
        assert ruled[sid] == {**plain[sid], **sets}, (span.name, dict(span.resource.attributes))
        sources[sets.get("tier_source", "")] = sources.get(sets.get("tier_source", ""), 0) + 1
    assert {"factory one", "factory two", "lab v2 route", "lab net"} <= set(sources)
    per_cluster = rows(estate.ruled, "SELECT resource_attributes->>'$.\"k8s.cluster.name\"' AS c, tier, site, "
                                     "tier_source, count(*) AS n FROM spans WHERE c LIKE 'factory-%' GROUP BY ALL")
    assert sorted((r["c"], r["tier"], r["site"], r["tier_source"]) for r in per_cluster) == [
        ("factory-1", "edge", "factory-1", "factory one"), ("factory-2", "edge", "factory-2", "factory two")]
    assert rows(estate.plain, "SELECT count(*) AS n FROM spans WHERE tier_source IN ('factory one', 'lab net')") == [
        {"n": 0}]


def test_metric_points_are_placed_by_resource_and_point_attributes(estate: Estate) -> None:
    got = rows(estate.ruled, "SELECT service_name, resource_attributes->>'$.\"k8s.cluster.name\"' AS cluster, "
                             "attributes->>'$.\"http.route\"' AS route, tier, tier_source, site, workload "
                             "FROM metric_points WHERE tier_source NOT LIKE 'derived:%' AND tier_source <> 'unknown'")
    placed = {(r["cluster"] or r["service_name"], r["route"]): (r["tier"], r["tier_source"], r["site"], r["workload"])
              for r in got}
    assert placed == {
        **{("factory-1", route): ("edge", "factory one", "factory-1", "vision") for route in ("/v1/x", "/v2/y", None)},
        **{("factory-2", route): ("edge", "factory two", "factory-2", "vision-line-2")
           for route in ("/v1/x", "/v2/y", None)},
        ("lab", "/v2/y"): ("regional", "lab v2 route", None, "lab-v2")}


def expected_cost(r: dict[str, Any]) -> dict[str, str] | None:
    """What map_support.COST_RULES set on one ledger row, worked out by hand (None: no rule matches)."""
    service, tags = r["ServiceName"] or "", json.loads(r["Tags"]) if r["Tags"] else {}
    if service == "Amazon Elastic Compute Cloud" and r["SubAccountId"] == "11353890204":
        return {"x_Workload": "vision", "x_Tier": "hyperscale", "x_SiteId": "us-east-1"}
    if tags.get("environment") == "prod" and service.startswith("Amazon"):
        return {"x_Workload": "prod-apps"}
    if service == "Storage Accounts":
        return {"x_Tier": "regional"}
    if service in ("Amazon Simple Storage Service", "Amazon Simple Queue Service") and r["ProviderName"] == "AWS":
        return {"x_Workload": "datalake", "x_SiteId": "us-west-2"}
    return None


LEDGER = ("SELECT x_SourceFile, x_SourceRow, ServiceName, SubAccountId, ProviderName, Tags::VARCHAR AS Tags, "
          "x_Workload, x_Tier, x_SiteId, link_method, link_workload FROM cost_links")


def test_cost_rules_place_their_rows_and_leave_the_rest_and_the_money_alone(estate: Estate) -> None:
    plain = {(r["x_SourceFile"], r["x_SourceRow"]): r for r in rows(estate.plain, LEDGER)}
    ruled = {(r["x_SourceFile"], r["x_SourceRow"]): r for r in rows(estate.ruled, LEDGER)}
    assert ruled.keys() == plain.keys() and len(plain) == 2281
    hits: dict[str, int] = {}
    still_unallocated = 0
    for key, before in plain.items():
        sets = expected_cost(before)
        after = ruled[key]
        assert after == {**before, **(sets or {}), **({"link_method": "tag", "link_workload": sets["x_Workload"]}
                                                       if sets and "x_Workload" in sets else {})}, key
        hits[str(sets)] = hits.get(str(sets), 0) + 1
        still_unallocated += sets is None and after["link_method"] == "unallocated"
    assert len(hits) == 5 and still_unallocated > 0  # every rule matched rows, and some money matched none
    narrow = rows(estate.ruled, "SELECT x_MapRule, count(*) AS n FROM costs_narrow GROUP BY ALL ORDER BY ALL")
    assert {r["x_MapRule"] for r in narrow} >= {"datalake", None}
    money = ("SELECT coalesce(BillingCurrency, '-') AS cur, count(*) AS n, sum(EffectiveCost) AS effective, "
             "sum(BilledCost) AS billed FROM {} GROUP BY ALL ORDER BY ALL")
    for relation in ("costs", "cost_links"):
        assert rows(estate.ruled, money.format(relation)) == rows(estate.plain, money.format(relation))
    assert rows(estate.ruled, money.format("costs")) == rows(estate.ruled, money.format("cost_links"))
