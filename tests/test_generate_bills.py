"""The generated bills reconcile to the generated usage: instance-hours, egress bytes and rate-card uplink."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from sample_data.bills import instance_rate_usd, running_hours
from sample_data.estate import SITES
from sample_data.generate import MANIFEST, Options, generate
from store.settings import load_settings

END = date(2026, 11, 28)
DAYS = 3


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bills") / "estate"
    generate(root, Options(seed=5, spans=8000, days=DAYS, end=END))
    return root


def attrs(kvs: list[dict[str, Any]]) -> dict[str, Any]:
    return {a["key"]: next(iter(a["value"].values())) for a in kvs}


def transfers(root: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Bytes leaving each cloud provider (responses to other sites) and each edge site (uploads), from the spans."""
    adj = json.loads((root / MANIFEST).read_text())["adjusted_count"]
    spans: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any]]] = {}
    for f in sorted((root / "traces").iterdir()):
        for line in f.read_bytes().splitlines():
            for rs in orjson.loads(line)["resourceSpans"]:
                site = attrs(rs["resource"]["attributes"])["tierwise.site"]
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        spans[(s["traceId"], s["spanId"])] = (site, s, attrs(s["attributes"]))
    cloud: dict[str, float] = defaultdict(float)
    edge: dict[str, float] = defaultdict(float)
    for (trace_id, _), (site, s, a) in spans.items():
        if s["kind"] != 2:
            continue
        csite, _, ca = spans[(trace_id, s["parentSpanId"])]
        if csite == site:
            continue
        scale = adj[a["tierwise.workload"]]
        if SITES[site].provider:
            cloud[SITES[site].provider] += int(a["http.response.body.size"]) * scale
        if SITES[csite].tier == "edge":
            edge[csite] += int(ca["http.request.body.size"]) * scale
    return cloud, edge


def test_every_bill_row_is_quantity_times_rate_and_compute_matches_running_hours(estate: Path) -> None:
    hosts = {h.resource_id: (s, h) for s in SITES.values() for h in s.hosts}
    with open(estate / "bills" / "aws-cur2.csv", newline="") as f:
        cur = list(csv.DictReader(f))
    days = sorted({r["line_item_usage_start_date"] for r in cur})
    assert len(days) == DAYS
    gpu_hours = 0.0
    for r in cur:
        qty, rate, cost = (float(r[k]) for k in ("line_item_usage_amount", "line_item_unblended_rate",
                                                   "line_item_unblended_cost"))
        assert abs(qty * rate - cost) < 1e-6, r
        if r["line_item_usage_type"].startswith("BoxUsage:"):
            site, host = hosts[r["line_item_resource_id"]]
            assert rate == instance_rate_usd(host)
            assert qty == running_hours(host, site, days.index(r["line_item_usage_start_date"]))
            gpu_hours += qty * host.gpu_count
    assert gpu_hours > 0
    with open(estate / "bills" / "azure-cost-actual.csv", newline="") as f:
        for r in csv.DictReader(f):
            assert abs(float(r["Quantity"]) * float(r["UnitPrice"]) - float(r["CostInBillingCurrency"])) < 1e-6
    for line in (estate / "bills" / "gcp-billing.jsonl").read_bytes().splitlines():
        g = orjson.loads(line)
        assert g["cost"] > 0 and g["labels"][0]["key"] == "workload"


def test_egress_in_the_bills_is_the_bytes_the_spans_sent(estate: Path) -> None:
    cloud, edge = transfers(estate)
    with open(estate / "bills" / "aws-cur2.csv", newline="") as f:
        aws_gb = sum(float(r["line_item_usage_amount"]) for r in csv.DictReader(f)
                     if r["line_item_usage_type"] == "DataTransfer-Out-Bytes")
    with open(estate / "bills" / "azure-cost-actual.csv", newline="") as f:
        azure_gb = sum(float(r["Quantity"]) for r in csv.DictReader(f) if r["MeterCategory"] == "Bandwidth")
    gcp_bytes = sum(g["usage"]["amount"] for g in map(orjson.loads, (estate / "bills" / "gcp-billing.jsonl")
                                                        .read_bytes().splitlines()) if g["usage"]["unit"] == "bytes")
    assert aws_gb * 1e9 == pytest.approx(cloud["aws"], rel=1e-6) and aws_gb > 0
    assert azure_gb * 1e9 == pytest.approx(cloud["azure"], rel=1e-6) and azure_gb > 0
    assert gcp_bytes == pytest.approx(cloud["gcp"], rel=1e-6) and gcp_bytes > 0
    import yaml

    card = yaml.safe_load((estate / "bills" / "rate-card.yaml").read_text())
    uplink = {s["site_id"]: s["uplink"]["egress_gb_per_day"] for s in card["sites"]}
    assert edge and all(uplink[site] * DAYS * 1e9 == pytest.approx(b, rel=1e-4) for site, b in edge.items())


def test_bills_ingest_and_every_cost_links_to_a_workload(estate: Path, tmp_path: Path) -> None:
    from app.output_ingest import run_ingest

    db = tmp_path / "store.duckdb"
    results = run_ingest([estate], load_settings(db=db), None, progress=False)
    assert all(r.ok and r.rejected == 0 for r in results)
    con = duckdb.connect(str(db), read_only=True)
    by_format = dict(con.execute("SELECT x_SourceFormat, count(*) FROM costs GROUP BY ALL").fetchall())
    assert set(by_format) == {"aws-cur2", "azure-cost", "gcp-billing", "rate-card"}
    with open(estate / "bills" / "aws-cur2.csv", newline="") as f:
        cur_total = sum(Decimal(r["line_item_unblended_cost"]) for r in csv.DictReader(f))
    ledger = con.execute("SELECT sum(BilledCost) FROM costs WHERE x_SourceFormat = 'aws-cur2'").fetchone()
    assert ledger is not None and ledger[0] == cur_total
    assert con.execute("SELECT count(*) FROM cost_links WHERE link_method = 'unallocated'").fetchone() == (0,)
    tiers = {r[0] for r in con.execute("SELECT DISTINCT link_tier FROM cost_links").fetchall()}
    assert tiers == {"device", "edge", "regional", "hyperscale"}
    from queries import registry
    from queries.engines.duckdb_engine import DuckDBEngine

    by_tier = registry.fetch(DuckDBEngine(con), "cost_by_tier", {})
    assert by_tier["tier"].to_list() == ["device", "edge", "regional", "hyperscale"]
    total = con.execute("SELECT sum(EffectiveCost)::DOUBLE FROM costs").fetchall()[0][0]
    assert by_tier["cost_usd"].sum() == pytest.approx(total) and by_tier["cost_usd"].min() > 0
    assert (by_tier["compute_usd"] + by_tier["network_usd"] <= by_tier["cost_usd"] + 1e-6).all()
