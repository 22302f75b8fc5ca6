"""Compiles a rate card (docs/rate-cards.md) into daily FOCUS rows, one per site or fleet and cost component."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import yaml

from ingest.billing.source import BillingFileError

QUANTUM = Decimal("0.000000001")
MONEY = pa.decimal128(38, 15)


@dataclass(frozen=True)
class Component:
    """One cost component of one site or fleet: a monthly or daily amount plus how it reads in FOCUS."""

    name: str
    monthly: Decimal            # spread over the days of each month (0 when `daily` is used)
    daily: Decimal
    category: str
    meter: str
    unit: str
    daily_quantity: Decimal
    direction: str | None = None
    monthly_quantity: Decimal = Decimal(0)


def _d(v: Any) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else Decimal(0)


def _site_components(s: dict[str, Any]) -> list[Component]:
    hw, pw, rh, up = (s.get(k) or {} for k in ("hardware", "power", "remote_hands", "uplink"))
    out = []
    if _d(hw.get("capex_usd")) and _d(hw.get("amortization_months")):
        out.append(Component("capex_amortization", _d(hw["capex_usd"]) / _d(hw["amortization_months"]), Decimal(0),
                             "Compute", "Compute Usage", "Hours", Decimal(24)))
    kwh = _d(pw.get("draw_kw")) * (_d(pw.get("pue")) or Decimal(1)) * 24
    if kwh and _d(pw.get("price_per_kwh_usd")):
        out.append(Component("power", Decimal(0), kwh * _d(pw["price_per_kwh_usd"]), "Compute", "Power", "kWh", kwh))
    if _d(s.get("space_usd_per_month")):
        out.append(Component("space", _d(s["space_usd_per_month"]), Decimal(0), "Compute", "Space", "Days", Decimal(1)))
    if _d(rh.get("hours_per_month")) and _d(rh.get("rate_usd_per_hour")):
        out.append(Component("remote_hands", _d(rh["hours_per_month"]) * _d(rh["rate_usd_per_hour"]), Decimal(0),
                             "Compute", "Remote Hands", "Hours", Decimal(0), None, _d(rh["hours_per_month"])))
    if _d(up.get("p95_mbps")) and _d(up.get("price_usd_per_mbps_month")):
        out.append(Component("uplink", _d(up["p95_mbps"]) * _d(up["price_usd_per_mbps_month"]), Decimal(0),
                             "Networking", "Uplink 95th Percentile", "Mbps", _d(up["p95_mbps"])))
    if _d(up.get("egress_gb_per_day")) and _d(up.get("price_usd_per_gb")):
        gb = _d(up["egress_gb_per_day"])
        out.append(Component("uplink_transfer", Decimal(0), gb * _d(up["price_usd_per_gb"]), "Networking",
                             "Data Transfer", "GB", gb, str(up.get("direction") or "tier_to_tier")))
    return out


def _fleet_components(f: dict[str, Any]) -> list[Component]:
    n, price = _d(f.get("device_count")), _d(f.get("price_usd_per_gb"))
    out = []
    if n and _d(f.get("device_cost_usd")) and _d(f.get("amortization_months")):
        out.append(Component("device_amortization", n * _d(f["device_cost_usd"]) / _d(f["amortization_months"]),
                             Decimal(0), "Internet of Things", "Device", "Devices", n))
    for name, key in (("ota", "ota_gb_per_device_month"), ("device_uplink", "uplink_gb_per_device_month")):
        gb = n * _d(f.get(key))
        if gb and price:
            out.append(Component(name, gb * price, Decimal(0), "Networking", "Data Transfer", "GB", Decimal(0),
                                 "tier_to_tier", gb))
    return out


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _spread(monthly: Decimal, day: dt.date) -> Decimal:
    """The share of a monthly amount on `day`; the month's last day takes the rounding remainder."""
    n = calendar.monthrange(day.year, day.month)[1]
    share = (monthly / n).quantize(QUANTUM, ROUND_HALF_EVEN)
    return (monthly - share * (n - 1)).quantize(Decimal("1e-15")) if day.day == n else share


def _month(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, 1)
    return start, (start + dt.timedelta(days=32)).replace(day=1)


def compile_card(card: dict[str, Any], source: str = "") -> pa.Table:
    """FOCUS rows (ledger column names) for every day of the card's period."""
    if str(card.get("rate_card", "")) != "1" or not card.get("organisation"):
        raise BillingFileError("rate card needs `rate_card: 1` and `organisation`")
    org = str(card["organisation"])
    period = card.get("period") or {}
    try:
        start, end = dt.date.fromisoformat(str(period["start"])), dt.date.fromisoformat(str(period["end"]))
    except (KeyError, ValueError) as e:
        raise BillingFileError(f"rate card period.start / period.end missing or not a date: {e}") from e
    units = [(s, "site_id", "edge", _site_components(s)) for s in card.get("sites") or []]
    units += [(f, "fleet_id", "device", _fleet_components(f)) for f in card.get("fleets") or []]
    rows: list[dict[str, Any]] = []
    for unit, id_key, default_tier, comps in units:
        if not unit.get(id_key):
            raise BillingFileError(f"rate card entry without {id_key}: {unit}")
        uid = str(unit[id_key])
        details = {k: v for k, v in (("GpuCount", (unit.get("hardware") or {}).get("gpu_count")),
                                     ("GpuType", (unit.get("hardware") or {}).get("gpu_type")),
                                     ("SlaAvailability", unit.get("sla_availability"))) if v is not None}
        for day in _days(start, end):
            bp_start, bp_end = _month(day)
            for c in comps:
                amount = (_spread(c.monthly, day) if c.monthly else Decimal(0)) + c.daily.quantize(QUANTUM)
                qty = c.daily_quantity or _spread(c.monthly_quantity, day)
                rows.append({
                    "x_SourceRow": len(rows) + 1, "BilledCost": amount, "EffectiveCost": amount, "ListCost": amount,
                    "ContractedCost": amount, "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
                    "ChargeDescription": f"{uid} {c.name.replace('_', ' ')}",
                    "ChargePeriodStart": dt.datetime(day.year, day.month, day.day),
                    "ChargePeriodEnd": dt.datetime(day.year, day.month, day.day) + dt.timedelta(days=1),
                    "BillingPeriodStart": bp_start, "BillingPeriodEnd": bp_end,
                    "BillingAccountId": str(card.get("billing_account_id") or org), "BillingAccountName": org,
                    "BillingCurrency": str(card.get("currency") or "USD"),
                    "ProviderName": org, "PublisherName": org, "InvoiceIssuerName": org,
                    "ServiceProviderName": org, "HostProviderName": org,
                    "ServiceName": f"{unit.get('tier') or default_tier} {c.category.lower()}",
                    "ServiceCategory": c.category, "SkuMeter": c.meter, "SkuId": f"{uid}/{c.name}",
                    "SkuPriceDetails": orjson.dumps(details).decode() if details and c.name in (
                        "capex_amortization", "device_amortization") else None,
                    "RegionId": str(unit.get("region_id") or uid), "RegionName": str(unit.get("region_id") or uid),
                    "AvailabilityZone": unit.get("availability_zone"), "ResourceId": uid, "ResourceName": uid,
                    "ConsumedQuantity": qty, "ConsumedUnit": c.unit, "PricingQuantity": qty, "PricingUnit": c.unit,
                    "x_Tier": str(unit.get("tier") or default_tier), "x_SiteId": uid,
                    "x_Workload": unit.get("workload"), "x_CostComponent": c.name,
                    "x_TransferDirection": c.direction, "x_ToRegionId": None, "x_UsageType": c.meter, "Tags": None,
                    "__source_billed": amount, "__billed_text": str(amount), "__tags_text": None,
                    "__xfer_text": None, "__excerpt": f"{uid},{c.name},{day}",
                })
    return _table(rows)


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    money = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "PricingQuantity",
             "__source_billed"}
    times = {"ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"}
    names = list(rows[0]) if rows else ["x_SourceRow", "BilledCost"]
    fields = [pa.field(n, MONEY if n in money else pa.timestamp("us") if n in times
                       else pa.int64() if n == "x_SourceRow" else pa.string()) for n in names]
    schema = pa.schema(fields)
    return pa.Table.from_pylist([{n: (str(r[n]) if r[n] is not None and schema.field(n).type == pa.string() else r[n])
                                  for n in names} for r in rows], schema=schema)


def _nest(flat: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value in (None, ""):
            continue
        *parents, leaf = key.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def load_card(path: Path) -> dict[str, Any]:
    """A rate card as the YAML structure, whether the file is YAML or the one-row-per-site CSV."""
    text = path.read_text(encoding="utf-8-sig")
    if not text.lstrip().startswith("rate_card,") and "rate_card:" in text:
        doc = yaml.safe_load(text)
        if not isinstance(doc, dict):
            raise BillingFileError("rate card YAML must be a mapping")
        return {str(k): v for k, v in doc.items()}
    rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise BillingFileError("rate card CSV has no rows")
    first = rows[0]
    card: dict[str, Any] = {"rate_card": first.get("rate_card"), "organisation": first.get("organisation"),
                            "billing_account_id": first.get("billing_account_id"), "currency": first.get("currency"),
                            "period": {"start": first.get("period_start"), "end": first.get("period_end")},
                            "sites": [], "fleets": []}
    common = {"rate_card", "organisation", "billing_account_id", "currency", "period_start", "period_end", "kind", "id"}
    for r in rows:
        body = _nest({k: v for k, v in r.items() if k not in common})
        kind = (r.get("kind") or "").strip()
        if kind == "site":
            card["sites"].append({"site_id": r.get("id"), **body})
        elif kind == "fleet":
            card["fleets"].append({"fleet_id": r.get("id"), **body})
        else:
            raise BillingFileError(f"rate card CSV row with kind {kind!r}: expected site or fleet")
    return card


def compile_file(path: Path) -> pa.Table:
    return compile_card(load_card(path), str(path))
